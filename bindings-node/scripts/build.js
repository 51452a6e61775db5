'use strict';
// Builds the addon from the Rust sources: `cargo build -p corral-node`, then
// copies the library to corral.node (or `--out DIR`/corral.node).
//
//   node scripts/build.js [--release] [--dts FILE] [--out DIR] [--if-missing]
//
// With `--dts FILE` it also writes the TypeScript declarations: napi-derive
// drops one type fragment per exported item into NAPI_TYPE_DEF_TMP_FOLDER
// while the crate compiles, and the pinned napi CLI's `generateTypeDef`
// joins them under header.d.ts, as `napi build --dts` does.
//
// Why not `napi build` itself: it always passes `--target <host triple>`,
// which puts every crate under target/<triple>/ and so compiles corral and
// its dependencies a second time next to the workspace's own build.
//
// `--if-missing` does nothing when corral.node is already there: the npm
// `install` script, so a packed tarball (which carries the prebuilt addon)
// installs without a Rust toolchain, and a source checkout builds on install.
// CORRAL_NODE_PROFILE picks the cargo profile for that build (default release).

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');

function parseArgs(argv) {
  const args = { release: false, dts: null, out: pkgDir, ifMissing: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--release') args.release = true;
    else if (arg === '--dts') args.dts = path.resolve(value());
    else if (arg === '--out') args.out = path.resolve(value());
    else if (arg === '--if-missing') args.ifMissing = true;
    else throw new Error(`unknown argument ${arg}`);
  }
  return args;
}

function cargoTargetDir() {
  const metadata = execFileSync('cargo', ['metadata', '--format-version', '1', '--no-deps'], {
    cwd: pkgDir,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(metadata).target_directory;
}

function libraryName() {
  switch (process.platform) {
    case 'win32':
      return 'corral_node.dll';
    case 'darwin':
      return 'libcorral_node.dylib';
    default:
      return 'libcorral_node.so';
  }
}

async function writeDeclarations(typeDefDir, dest) {
  const { generateTypeDef } = await import('@napi-rs/cli');
  const { dts } = await generateTypeDef({
    typeDefDir,
    cwd: pkgDir,
    configDtsHeaderFile: 'header.d.ts',
    constEnum: false,
    declareBindingTarget: false,
  });
  fs.writeFileSync(dest, dts);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const addon = path.join(args.out, 'corral.node');
  if (args.ifMissing && fs.existsSync(addon)) return;

  const profile = args.release ? 'release' : (process.env.CORRAL_NODE_PROFILE ?? (args.ifMissing ? 'release' : 'dev'));
  const env = { ...process.env };
  let typeDefDir = null;
  if (args.dts) {
    typeDefDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-node-dts-'));
    env.NAPI_TYPE_DEF_TMP_FOLDER = typeDefDir;
    // napi-build reruns the crate's build (and so napi-derive's expansion,
    // which writes the fragments) when this variable changes.
    env.NAPI_FORCE_BUILD_CORRAL_NODE = String(Date.now());
  }
  try {
    execFileSync('cargo', ['build', '-p', 'corral-node', '--profile', profile], { cwd: pkgDir, env, stdio: 'inherit' });
    const profileDir = profile === 'dev' ? 'debug' : profile;
    const built = path.join(cargoTargetDir(), profileDir, libraryName());
    fs.mkdirSync(args.out, { recursive: true });
    // Copy to a fresh file and rename: a running process may have the old one mapped.
    fs.copyFileSync(built, `${addon}.tmp`);
    fs.renameSync(`${addon}.tmp`, addon);
    if (args.dts) await writeDeclarations(typeDefDir, args.dts);
  } finally {
    if (typeDefDir) fs.rmSync(typeDefDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`corral-node build: ${err.message}`);
  process.exit(1);
});
