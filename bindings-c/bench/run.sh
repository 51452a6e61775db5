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
OUT="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$OUT"' EXIT
cc -O2 -Wall -Wextra -Werror -I"$ROOT/bindings-c/include" "$ROOT/bindings-c/bench/get_bench.c" \
    -L"$REL" -Wl,-rpath,"$REL" -lcorral -lzookeeper_mt -o "$OUT/get_bench"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

P="$(port)"
"$REL/corral" server --port "$P" --data-dir "$OUT/corral" >"$OUT/corral.log" 2>&1 &
wait_port "$P"
echo "== against corral (release) on :$P"
"$OUT/get_bench" "127.0.0.1:$P" "$OPS" "$ROUNDS"

P="$(port)"
mkdir -p "$OUT/zk"
printf '%s\n' tickTime=2000 "dataDir=$OUT/zk" "clientPort=$P" clientPortAddress=127.0.0.1 admin.enableServer=false \
    maxClientCnxns=0 >"$OUT/zoo.cfg"
java -Xmx512m -cp /usr/share/java/zookeeper.jar:/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-nop.jar:/usr/share/java/netty-handler.jar:/usr/share/java/netty-transport.jar:/usr/share/java/netty-common.jar:/usr/share/java/netty-buffer.jar:/usr/share/java/netty-codec.jar:/usr/share/java/netty-resolver.jar:/usr/share/java/netty-transport-native-epoll.jar:/usr/share/java/netty-transport-native-unix-common.jar \
    org.apache.zookeeper.server.ZooKeeperServerMain "$OUT/zoo.cfg" >"$OUT/zk.log" 2>&1 &
wait_port "$P"
sleep 1
echo "== against Apache ZooKeeper 3.8 on :$P"
"$OUT/get_bench" "127.0.0.1:$P" "$OPS" "$ROUNDS"
