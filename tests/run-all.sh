#!/usr/bin/env bash
# The one test entry point (CI runs it through .ci/run).
#
# On a fresh Debian 12 machine, as root, it installs what the tests need: Apache
# ZooKeeper 3.8 (the oracle), zkCli.sh, the C client library and headers, Apache
# Curator 5.4 with a JDK, a Python venv with pinned packages (target/venv) and the
# pinned npm packages of tests/node and bindings-node.
# Each install step is skipped when already done, so local reruns are fast.
# Then it builds once and runs every runner, continuing past failures, prints one
# closing line per runner and exits non-zero if any runner failed.
#
#   bash tests/run-all.sh                 # everything
#   INTEROP_SERVERS=zookeeper bash tests/run-all.sh   # interop against ZooKeeper only
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

LOG_DIR="$ROOT/target/run-all"
VENV="$ROOT/target/venv"
REQUIREMENTS="$ROOT/tests/interop/requirements.txt"
PYVENV="$ROOT/target/pyvenv"    # the Python binding's own venv (its package is installed there)
PY_REQUIREMENTS="$ROOT/bindings-python/tests/requirements.txt"
NODE_DIR="$ROOT/tests/node"
# Apache Curator 5.4 and a JDK: the Curator interop tests compile a small Java client.
# iproute2: the partition suite's network namespaces.
APT_PACKAGES=(zookeeper zookeeper-bin libzookeeper-mt-dev default-jdk-headless
    libcurator-framework-java libcurator-recipes-java libcurator-discovery-java iproute2)
export CORRAL_BIN="${CORRAL_BIN:-$ROOT/target/debug/corral}"
export DEBIAN_FRONTEND=noninteractive PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
mkdir -p "$LOG_DIR"

RUNNERS=()    # name
RESULTS=()    # "ok" / "FAILED ..."
LINES=()      # the runner's own closing line
FAILURES=0

section() { printf '\n==== %s ====\n' "$*"; }

# record NAME EXIT_CODE CLOSING_LINE [REASON]
record() {
    RUNNERS+=("$1")
    LINES+=("$3")
    if [ "$2" -eq 0 ]; then
        RESULTS+=("ok")
    else
        RESULTS+=("FAILED (exit $2${4:+, $4})")
        FAILURES=$((FAILURES + 1))
    fi
}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
    else echo "need root for: $*" >&2; return 1
    fi
}

# ---- setup ------------------------------------------------------------------------

setup_system() {
    local missing=()
    dpkg -s "${APT_PACKAGES[@]}" >/dev/null 2>&1 || missing+=("${APT_PACKAGES[@]}")
    command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
    command -v gcc >/dev/null 2>&1 || missing+=(gcc libc6-dev)
    command -v c++ >/dev/null 2>&1 || missing+=(g++)
    command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
    if [ ${#missing[@]} -eq 0 ]; then
        echo "system packages: already installed"
        return 0
    fi
    echo "system packages: installing ${missing[*]} (log: $LOG_DIR/apt.log)"
    if ! { as_root apt-get update -q && as_root apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
        >"$LOG_DIR/apt.log" 2>&1; then
        tail -n 30 "$LOG_DIR/apt.log"
        return 1
    fi
}

# setup_venv DIR REQUIREMENTS: a venv at DIR with the pinned REQUIREMENTS,
# reinstalled only when the file or the Python version changes.
setup_venv() {
    local dir="$1" requirements="$2" stamp
    stamp="$(sha256sum "$requirements" | cut -d' ' -f1) $(python3 --version 2>&1)"
    if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.requirements-stamp" 2>/dev/null)" = "$stamp" ]; then
        echo "venv: up to date ($dir)"
        return 0
    fi
    echo "venv: installing $requirements into $dir"
    [ -x "$dir/bin/python" ] || python3 -m venv "$dir" || return 1
    "$dir/bin/python" -m pip install -q -r "$requirements" || return 1
    echo "$stamp" >"$dir/.requirements-stamp"
}

# setup_node DIR: the pinned npm packages of DIR (npm ci from its package-lock.json),
# reinstalled only when the lock file or the Node version changes. No install
# scripts: the pinned packages are plain JavaScript, and bindings-node's own
# would build the addon in release (its runner builds the debug one).
setup_node() {
    local dir="$1" stamp
    stamp="$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1) $(node --version 2>&1)"
    if [ "$(cat "$dir/node_modules/.lock-stamp" 2>/dev/null)" = "$stamp" ]; then
        echo "npm packages: up to date ($dir/node_modules)"
        return 0
    fi
    echo "npm packages: npm ci in $dir"
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) || return 1
    echo "$stamp" >"$dir/node_modules/.lock-stamp"
}

section "setup"
setup_rc=0
setup_system || setup_rc=1
setup_venv "$VENV" "$REQUIREMENTS" || setup_rc=1
setup_venv "$PYVENV" "$PY_REQUIREMENTS" || setup_rc=1
setup_node "$NODE_DIR" || setup_rc=1
setup_node "$ROOT/bindings-node" || setup_rc=1   # the Node binding's pinned napi CLI
record "setup" "$setup_rc" "system packages, python venv, npm packages"

# ---- runners ----------------------------------------------------------------------

# run_logged NAME LOGFILE CMD...: run, tee to a log, return the command's exit code.
run_logged() {
    local log="$2"
    shift 2
    "$@" 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}

section "cargo build --workspace --all-targets"
run_logged build "$LOG_DIR/cargo-build.log" cargo build --workspace --all-targets
rc=$?
record "cargo build" "$rc" "$(grep -E '^\s*(Finished|error)' "$LOG_DIR/cargo-build.log" | tail -n 1 | sed 's/^ *//')"

if cargo nextest --version >/dev/null 2>&1; then
    section "cargo nextest run --workspace"
    run_logged nextest "$LOG_DIR/rust-tests.log" cargo nextest run --workspace --no-fail-fast
    rc=$?
    record "rust tests (nextest)" "$rc" "$(grep -E '^\s*Summary' "$LOG_DIR/rust-tests.log" | tail -n 1 | sed 's/^ *//')"
else
    section "cargo test --workspace (nextest not installed)"
    run_logged cargotest "$LOG_DIR/rust-tests.log" cargo test --workspace --no-fail-fast
    rc=$?
    record "rust tests (cargo test)" "$rc" "$(grep -E '^test result:' "$LOG_DIR/rust-tests.log" | tail -n 1)"
fi

section "style: cargo fmt --check, cargo clippy -D warnings"
style_rc=0
cargo fmt --all --check >"$LOG_DIR/fmt.log" 2>&1 || style_rc=1
[ "$style_rc" -eq 0 ] || { echo "cargo fmt --all --check: files not formatted (run cargo fmt --all):"; grep '^Diff in' "$LOG_DIR/fmt.log" | sort -u; }
run_logged clippy "$LOG_DIR/clippy.log" cargo clippy --workspace --all-targets -- -D warnings || style_rc=1
record "style (fmt, clippy)" "$style_rc" "$(grep -cE '^(warning|error)' "$LOG_DIR/clippy.log") clippy findings; fmt $([ -s "$LOG_DIR/fmt.log" ] && echo 'differs' || echo 'clean')"

section "cargo test --doc (doc examples; nextest does not run them)"
run_logged doctests "$LOG_DIR/doc-tests.log" cargo test --workspace --doc
rc=$?
record "rust doc tests" "$rc" "$(grep -E '^test result:' "$LOG_DIR/doc-tests.log" \
    | awk '{p += $4; f += $6} END {printf "%d doc examples passed, %d failed (all crates)", p, f}')"

# run_pytest NAME LOG ARGS...: pytest exit 5 means it collected and ran nothing: a failure.
run_pytest() {
    local name="$1" log="$2" rc reason=""
    shift 2
    section "pytest: $name"
    local python="${PYTEST_PYTHON:-$VENV/bin/python}"
    if [ ! -x "$python" ]; then
        record "$name" 1 "" "no python venv"
        return
    fi
    run_logged "$name" "$log" timeout --kill-after=30 25m "$python" -m pytest "$@"
    rc=$?
    [ "$rc" -eq 5 ] && reason="ran no tests"
    [ "$rc" -eq 124 ] && reason="timed out"
    local closing
    closing="$(grep -E '^=+ .* in [0-9.]+s' "$log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')"
    [ -n "$closing" ] || closing="$(grep -v '^\s*$' "$log" | tail -n 1)"
    record "$name" "$rc" "$closing" "$reason"
}

echo
echo "CORRAL_BIN=$CORRAL_BIN"
run_pytest "interop: kazoo, zkCli" "$LOG_DIR/interop.log" tests/interop \
    --ignore=tests/interop/test_c_client.py --ignore=tests/interop/test_node_client.py
run_pytest "interop: C client" "$LOG_DIR/c-client.log" tests/interop/test_c_client.py
run_pytest "interop: node client" "$LOG_DIR/node-client.log" tests/interop/test_node_client.py
run_pytest "differential + golden replay" "$LOG_DIR/differential.log" tests/differential
run_pytest "crash (kill -9 cycles)" "$LOG_DIR/crash.log" tests/crash -s
run_pytest "partition (netns faults)" "$LOG_DIR/partition.log" tests/partition -s

section "C binding: bindings-c/tests/run.sh"
run_logged cbinding "$LOG_DIR/c-binding.log" bash bindings-c/tests/run.sh
rc=$?
record "C binding" "$rc" "$(grep -E '^corral-c: ' "$LOG_DIR/c-binding.log" | tail -n 1)"

section "Node binding: bindings-node/test/run.sh"
run_logged nodebinding "$LOG_DIR/node-binding.log" bash bindings-node/test/run.sh
rc=$?
record "Node binding" "$rc" "$(grep -E '^corral-node: ' "$LOG_DIR/node-binding.log" | tail -n 1)"

section "python binding: maturin develop"
run_logged maturin "$LOG_DIR/maturin.log" env VIRTUAL_ENV="$PYVENV" "$PYVENV/bin/maturin" develop -q -m bindings-python/Cargo.toml
rc=$?
if [ "$rc" -eq 0 ]; then
    PYTEST_PYTHON="$PYVENV/bin/python" run_pytest "python binding" "$LOG_DIR/python-binding.log" bindings-python/tests
else
    record "python binding" "$rc" "$(tail -n 1 "$LOG_DIR/maturin.log")" "maturin develop failed"
fi

# kazoo 2.11.0's own test suite (tests/kazoo-suite) with corral's kazoo-compatible client
# (corral.kazoo) in place of kazoo's, against ZooKeeper 3.8 and against corral. Its
# venv has the suite's pins; the binding comes from bindings-python/python, where
# `maturin develop` above put the native module (run.sh adds it to PYTHONPATH).
KAZOO_VENV="$ROOT/target/kazoo-venv"
section "kazoo's test suite with corral.kazoo: tests/kazoo-suite/run.sh"
if ! setup_venv "$KAZOO_VENV" "$ROOT/tests/kazoo-suite/requirements.txt"; then
    record "kazoo suite (corral client)" 1 "" "could not install tests/kazoo-suite/requirements.txt"
else
    for server in zookeeper corral; do
        run_logged kazoosuite "$LOG_DIR/kazoo-suite-corral-$server.log" \
            env KAZOO_SUITE_CLIENT=corral KAZOO_SUITE_SERVER="$server" \
            KAZOO_SUITE_PYTHON="$KAZOO_VENV/bin/python" bash tests/kazoo-suite/run.sh
        rc=$?
        record "kazoo suite ($server)" "$rc" \
            "$(grep -E '^kazoo-suite \(' "$LOG_DIR/kazoo-suite-corral-$server.log" | tail -n 1)"
    done
fi

# ---- summary ----------------------------------------------------------------------

section "summary"
for i in "${!RUNNERS[@]}"; do
    printf '%-26s %-28s %s\n' "${RUNNERS[$i]}" "${RESULTS[$i]}" "${LINES[$i]}"
done
if [ "$FAILURES" -eq 0 ]; then
    echo "run-all: every runner passed (logs in $LOG_DIR)"
    exit 0
fi
echo "run-all: $FAILURES runner(s) FAILED (logs in $LOG_DIR)"
exit 1
