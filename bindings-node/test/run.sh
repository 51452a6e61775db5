#!/usr/bin/env bash
# The Node binding's tests: build the addon (debug, scripts/build.js: cargo
# and the pinned napi CLI's type generator), fail if the committed index.d.ts
# differs from what the Rust sources generate, type-check test/types.ts
# against it (tsc --strict), then run the node --test suite (against
# corral's embedded server and Apache ZooKeeper 3.8, and the package's
# install paths). The last line sums the run.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ ! -x node_modules/.bin/napi ]; then
    # --ignore-scripts: the package's own install script would build the addon
    # in release; the build below makes the debug one.
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error || { echo "corral-node: npm ci failed"; exit 1; }
fi

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
if ! node scripts/build.js --dts "$out/index.d.ts"; then
    echo "corral-node: addon build failed"
    exit 1
fi

if ! diff -u index.d.ts "$out/index.d.ts"; then
    echo "corral-node: index.d.ts has drifted from the Rust sources: run 'npm run build' in bindings-node and commit index.d.ts"
    exit 1
fi

# The declarations compile under tsc --strict, used as the README uses them.
if ! node_modules/.bin/tsc --noEmit --strict --module nodenext --moduleResolution nodenext --target es2022 \
    --types node test/types.ts; then
    echo "corral-node: index.d.ts does not type-check test/types.ts (tsc --strict)"
    exit 1
fi

log="$out/node-test.log"
node --test --test-concurrency=1 --test-timeout=180000 --test-reporter=spec test/*.test.js 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
echo "corral-node: $(grep -E '^ℹ (tests|pass|fail|skipped|todo) ' "$log" | sed 's/^ℹ //' | paste -sd, - | sed 's/,/, /g') (node --test)"
exit "$rc"
