# Servers for the side-by-side benchmarks (sourced, not run): a release corral
# server and Apache ZooKeeper 3.8 (the Debian package's jars), each on a free
# loopback port with fsync on. The caller sets BENCH_DIR (a scratch folder)
# and kills its background jobs on exit.
#
#   source tests/bench/servers.sh
#   P=$(free_port); start_corral "$P"; start_zookeeper "$P"

ZK_CLASSPATH="$(printf '/usr/share/java/%s.jar:' zookeeper zookeeper-jute slf4j-api slf4j-nop netty-handler \
    netty-transport netty-common netty-buffer netty-codec netty-resolver netty-transport-native-epoll \
    netty-transport-native-unix-common)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_serving PORT: until the server answers ZooKeeper's `srvr` four-letter word.
wait_serving() {
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf srvr >&3 && cat <&3) 2>/dev/null | grep -q '^Mode'; then
            return 0
        fi
        sleep 0.1
    done
    echo "no server answered on :$1" >&2
    return 1
}

# start_corral PORT: target/release/corral (build it first) in the background.
start_corral() {
    "$ROOT/target/release/corral" server --port "$1" --data-dir "$BENCH_DIR/corral-$1" \
        >"$BENCH_DIR/corral-$1.log" 2>&1 &
    wait_serving "$1"
}

# start_zookeeper PORT: Apache ZooKeeper 3.8 standalone in the background.
start_zookeeper() {
    mkdir -p "$BENCH_DIR/zk-$1"
    printf '%s\n' tickTime=2000 "dataDir=$BENCH_DIR/zk-$1" "clientPort=$1" clientPortAddress=127.0.0.1 \
        admin.enableServer=false maxClientCnxns=0 4lw.commands.whitelist=srvr >"$BENCH_DIR/zoo-$1.cfg"
    java -Xmx512m -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.ZooKeeperServerMain "$BENCH_DIR/zoo-$1.cfg" \
        >"$BENCH_DIR/zk-$1.log" 2>&1 &
    wait_serving "$1"
}
