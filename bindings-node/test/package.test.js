'use strict';
// The package's two install paths, each into a fresh folder outside the
// checkout, each then running the README example (examples/quickstart.js):
//   - `npm install <checkout>/bindings-node` builds the addon from the Rust
//     sources (its `install` script; CORRAL_NODE_PROFILE=dev here, so the
//     build reuses the workspace's debug artifacts);
//   - `npm pack`'s tarball carries the prebuilt addon and installs with no
//     Rust toolchain on PATH.

const assert = require('node:assert/strict');
const { execFile, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { it } = require('node:test');
const { promisify } = require('node:util');

const run = promisify(execFile);
const PKG = path.join(__dirname, '..');
const ADDON = path.join(PKG, 'corral.node');
const EXAMPLE = path.join(PKG, 'examples', 'quickstart.js');
const NPM_FLAGS = ['--no-audit', '--no-fund', '--loglevel=error'];

function freshFolder(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-npm-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  return dir;
}

/** Runs the README example from `dir` (so `require('corral')` resolves there). */
async function runExample(dir, env = process.env) {
  const copy = path.join(dir, 'quickstart.js');
  fs.copyFileSync(EXAMPLE, copy);
  const { stdout } = await run(process.execPath, [copy], { cwd: dir, env, timeout: 60_000 });
  assert.match(stdout, /^\/jobs\/job-0000000000 x2$/m);
  assert.match(stdout, /^locked with token \d+$/m);
  assert.match(stdout, /^state: closed$/m);
}

it('npm install <checkout>/bindings-node builds the addon and works', { timeout: 600_000 }, async (t) => {
  const dir = freshFolder(t);
  // The checkout as a fresh clone has it: no addon until the install builds one.
  const kept = `${ADDON}.kept`;
  fs.renameSync(ADDON, kept);
  try {
    const env = { ...process.env, CORRAL_NODE_PROFILE: 'dev' };
    await run('npm', ['install', ...NPM_FLAGS, PKG], { cwd: dir, env, timeout: 540_000 });
    assert.ok(fs.existsSync(ADDON), 'the install script built no corral.node');
    assert.equal(fs.realpathSync(path.join(dir, 'node_modules', 'corral')), fs.realpathSync(PKG));
    await runExample(dir);
  } finally {
    fs.renameSync(kept, ADDON);
  }
});

it('npm pack carries the prebuilt addon; the tarball installs and runs without Rust', { timeout: 300_000 }, async (t) => {
  const packDir = freshFolder(t);
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', packDir], { cwd: PKG });
  const [{ filename, files }] = JSON.parse(stdout);
  const packed = files.map((f) => f.path).sort();
  assert.deepEqual(packed, ['README.md', 'corral.node', 'index.d.ts', 'index.js', 'package.json', 'scripts/build.js']);

  // PATH keeps node and npm, loses cargo and rustc.
  const noRust = { ...process.env, PATH: [path.dirname(process.execPath), '/usr/bin', '/bin'].join(':') };
  delete noRust.CARGO_HOME;
  delete noRust.RUSTUP_HOME;
  for (const tool of ['cargo', 'rustc']) {
    assert.equal(spawnSync(tool, ['--version'], { env: noRust }).error?.code, 'ENOENT', `${tool} is still on PATH`);
  }
  const dir = freshFolder(t);
  await run('npm', ['install', ...NPM_FLAGS, '--offline', path.join(packDir, path.basename(filename))], {
    cwd: dir,
    env: noRust,
    timeout: 240_000,
  });
  const installed = path.join(dir, 'node_modules', 'corral');
  assert.ok(!fs.lstatSync(installed).isSymbolicLink(), 'the tarball installed as a copy');
  assert.ok(fs.existsSync(path.join(installed, 'corral.node')));
  await runExample(dir, noRust);
});
