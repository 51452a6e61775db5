#!/usr/bin/env bash
# corral's Node client vs node-zookeeper-client, side by side in one run,
# against a corral server and then against Apache ZooKeeper 3.8 (loopback,
# fsync on, release builds of the addon and the server): sequential getData
# and create ops/s, memory per idle client; and EmbeddedServer.start() time
# beside the time Apache ZooKeeper takes to serve. A benchmark, not a test:
#   bash bindings-node/bench/run.sh [ops] [rounds]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OPS="${1:-5000}"
ROUNDS="${2:-5}"
BENCH_DIR="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$BENCH_DIR"' EXIT
source "$ROOT/tests/bench/servers.sh"

cargo build -q --release -p corral-server --manifest-path "$ROOT/Cargo.toml"
# The package with the release addon: index.js beside its corral.node.
PKG="$BENCH_DIR/pkg"
mkdir -p "$PKG"
cp "$ROOT/bindings-node/index.js" "$ROOT/bindings-node/package.json" "$PKG/"
node "$ROOT/bindings-node/scripts/build.js" --release --out "$PKG"
BENCH="$ROOT/bindings-node/bench/bench.js"

P="$(free_port)"
start_corral "$P"
echo "== against corral (release) on :$P"
node "$BENCH" "$PKG" "127.0.0.1:$P" "$OPS" "$ROUNDS"

P="$(free_port)"
start=$(date +%s%N)
start_zookeeper "$P"
echo "== against Apache ZooKeeper 3.8 on :$P (serving $(( ($(date +%s%N) - start) / 1000000 )) ms after its JVM started)"
node "$BENCH" "$PKG" "127.0.0.1:$P" "$OPS" "$ROUNDS"

echo "== embedded"
node "$BENCH" "$PKG" --start-time 10
