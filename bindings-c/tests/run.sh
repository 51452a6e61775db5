#!/usr/bin/env bash
# corral's C tests, each run of test_corral a runner of its own:
#   1. the C tests against the embedded server;
#   2. the same client tests against Apache ZooKeeper 3.8 (started here);
#   3. the C tests under valgrind (memcheck: no invalid access, no definite leak);
#   4. corral.h compiled as C++17;
#   5. the installed files (packaging/c/install.sh) with pkg-config: the
#      programs of bindings-c/examples (the smallest one shared and static, a
#      lock, a leader election with fencing) built and run.
# Prints each runner's "N passed, N failed" and a last line summing them.
#
#   bash bindings-c/tests/run.sh           # after cargo build -p corral-c
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/bindings-c"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
LIB="$TARGET/debug"
OUT="$TARGET/c-tests"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g)
mkdir -p "$OUT"
PASSED=0
FAILED=0

# tally NAME EXIT LOG: adds the runner's closing "N passed, N failed" line.
tally() {
    local line p f
    line="$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$3" | tail -n 1)"
    if [ -z "$line" ]; then
        echo "$1: no closing line (exit $2)"
        FAILED=$((FAILED + 1))
        return
    fi
    p="${line%% passed*}"
    f="${line#*, }"; f="${f%% failed}"
    if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    PASSED=$((PASSED + p)); FAILED=$((FAILED + f))
    echo "$1: $line"
}

# one NAME CMD...: a single check counted as one test.
one() {
    local name="$1"
    shift
    if "$@" >"$OUT/$name.log" 2>&1; then
        PASSED=$((PASSED + 1)); echo "$name: ok"
    else
        FAILED=$((FAILED + 1)); echo "$name: FAILED"; tail -n 20 "$OUT/$name.log"
    fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

ZK_PID=""
ZK_DIR=""
start_zookeeper() {
    local port="$1" jars=() j
    ZK_DIR="$(mktemp -d)"
    for j in zookeeper zookeeper-jute slf4j-api slf4j-nop netty-handler netty-transport netty-common \
        netty-buffer netty-codec netty-resolver netty-transport-native-epoll netty-transport-native-unix-common; do
        jars+=("/usr/share/java/$j.jar")
    done
    printf '%s\n' tickTime=2000 "dataDir=$ZK_DIR/data" "clientPort=$port" clientPortAddress=127.0.0.1 \
        admin.enableServer=false maxClientCnxns=0 >"$ZK_DIR/zoo.cfg"
    java -Xmx256m -XX:+UseSerialGC -Dzookeeper.extendedTypesEnabled=true -cp "$(IFS=:; echo "${jars[*]}")" \
        org.apache.zookeeper.server.ZooKeeperServerMain "$ZK_DIR/zoo.cfg" >"$ZK_DIR/log" 2>&1 &
    ZK_PID=$!
    for _ in $(seq 1 200); do
        # Bounded: a server still starting may accept and stay silent.
        if timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && echo srvr >&3 && grep -q Mode <&3" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "Apache ZooKeeper did not start:"; tail -n 20 "$ZK_DIR/log"
    return 1
}
stop_zookeeper() {
    [ -n "$ZK_PID" ] && kill "$ZK_PID" 2>/dev/null && wait "$ZK_PID" 2>/dev/null
    [ -n "$ZK_DIR" ] && rm -rf "$ZK_DIR"
    ZK_PID=""
}
trap stop_zookeeper EXIT

cargo build -q -p corral-c --manifest-path "$ROOT/Cargo.toml" || { echo "corral-c: 0 passed, 1 failed"; exit 1; }

if ! cc "${CFLAGS[@]}" -I"$HERE/include" -I"$HERE/tests/c" "$HERE"/tests/c/*.c \
    -L"$LIB" -Wl,-rpath,"$LIB" -lcorral -lpthread -o "$OUT/test_corral"; then
    echo "corral-c: 0 passed, 1 failed (the tests do not compile)"
    exit 1
fi

(cd "$OUT" && ./test_corral) >"$OUT/embedded.log" 2>&1
tally "against the embedded server" $? "$OUT/embedded.log"

port="$(free_port)"
if start_zookeeper "$port"; then
    (cd "$OUT" && CORRAL_TEST_CONNECT="127.0.0.1:$port" ./test_corral) >"$OUT/zookeeper.log" 2>&1
    tally "against Apache ZooKeeper 3.8" $? "$OUT/zookeeper.log"
else
    FAILED=$((FAILED + 1))
fi
stop_zookeeper

(cd "$OUT" && valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
    --errors-for-leak-kinds=definite ./test_corral) >"$OUT/valgrind.log" 2>&1
tally "under valgrind (memcheck)" $? "$OUT/valgrind.log"

one "corral.h as C++17" c++ -std=c++17 -Wall -Wextra -Werror -I"$HERE/include" "$HERE/tests/c/header.cpp" \
    -L"$LIB" -Wl,-rpath,"$LIB" -lcorral -o "$OUT/header_cpp"

PREFIX="$OUT/prefix"
rm -rf "$PREFIX"
if PROFILE=debug bash "$ROOT/packaging/c/install.sh" "$PREFIX" >"$OUT/install.log" 2>&1; then
    export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
    # shellcheck disable=SC2046
    one "hello.c with pkg-config (shared)" sh -c "cc ${CFLAGS[*]} '$HERE/examples/hello.c' \$(pkg-config --cflags --libs corral) \
        -o '$OUT/hello' && '$OUT/hello' | grep -qx 'hi version=0'"
    one "hello.c with pkg-config (static)" sh -c "cc ${CFLAGS[*]} '$HERE/examples/hello.c' \$(pkg-config --cflags corral) \
        '$PREFIX/lib/libcorral.a' \$(pkg-config --static --libs-only-l corral | sed 's/-lcorral//') \
        -o '$OUT/hello_static' && '$OUT/hello_static' | grep -qx 'hi version=0'"
    for example in lock election; do
        one "$example.c with pkg-config" sh -c "cc ${CFLAGS[*]} '$HERE/examples/$example.c' \$(pkg-config --cflags --libs corral) \
            -o '$OUT/$example' && '$OUT/$example'"
    done
else
    FAILED=$((FAILED + 1)); echo "install.sh failed:"; tail -n 20 "$OUT/install.log"
fi

echo "corral-c: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
