#!/usr/bin/env bash
# Blocking get ops/s from one C thread, libcorral vs libzookeeper-mt, against a
# corral server and then against Apache ZooKeeper 3.8 (both on loopback, fsync
# on, release build of libcorral). A benchmark, not a test: run it by hand.
#   bash bindings-c/bench/run.sh [ops] [rounds]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OPS="${1:-20000}"
ROUNDS="${2:-5}"
cargo build -q --release -p corral-c -p corral-server --manifest-path "$ROOT/Cargo.toml"
REL="$ROOT/target/release"
BENCH_DIR="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$BENCH_DIR"' EXIT
source "$ROOT/tests/bench/servers.sh"
cc -O2 -Wall -Wextra -Werror -I"$ROOT/bindings-c/include" "$ROOT/bindings-c/bench/get_bench.c" \
    -L"$REL" -Wl,-rpath,"$REL" -lcorral -lzookeeper_mt -o "$BENCH_DIR/get_bench"

P="$(free_port)"
start_corral "$P"
echo "== against corral (release) on :$P"
"$BENCH_DIR/get_bench" "127.0.0.1:$P" "$OPS" "$ROUNDS"

P="$(free_port)"
start_zookeeper "$P"
echo "== against Apache ZooKeeper 3.8 on :$P"
"$BENCH_DIR/get_bench" "127.0.0.1:$P" "$OPS" "$ROUNDS"
