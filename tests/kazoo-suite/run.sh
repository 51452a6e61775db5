#!/usr/bin/env bash
# Run kazoo 2.11.0's own test suite, unchanged from its installed package (kazoo/tests/),
# against corral or Apache ZooKeeper 3.8, with kazoo's client or corral's.
#
#   KAZOO_SUITE_SERVER=corral|zookeeper   (default corral)
#   KAZOO_SUITE_CLIENT=kazoo|corral       (default kazoo)
#   KAZOO_SUITE_PYTHON=...                (default target/kazoo-venv/bin/python, made from
#                                          tests/kazoo-suite/requirements.txt)
#   KAZOO_SUITE_TIMEOUT=40m               (the whole run; each test has 120 s, pytest.ini)
#   CORRAL_BIN=target/debug/corral        (the corral server binary)
#
#   bash tests/kazoo-suite/run.sh                       # everything
#   bash tests/kazoo-suite/run.sh -k test_lock -x       # extra arguments go to pytest
#
# Tests listed in tests/kazoo-suite/expected.txt for the combination are deselected or
# must fail (strict xfail). The last line is
#   kazoo-suite (<client> client, <server> server): N passed, M failed, K excluded
# and the exit status is pytest's (non-zero on any failure).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
CLIENT="${KAZOO_SUITE_CLIENT:-kazoo}"
SERVER="${KAZOO_SUITE_SERVER:-corral}"
PYTHON="${KAZOO_SUITE_PYTHON:-$ROOT/target/kazoo-venv/bin/python}"
export KAZOO_SUITE_CLIENT="$CLIENT" KAZOO_SUITE_SERVER="$SERVER"
export CORRAL_BIN="${CORRAL_BIN:-$ROOT/target/debug/corral}"

closing() { echo "kazoo-suite ($CLIENT client, $SERVER server): $*"; }

if [ ! -x "$PYTHON" ]; then
    closing "not run: no python at $PYTHON (python3 -m venv target/kazoo-venv && target/kazoo-venv/bin/pip install -r tests/kazoo-suite/requirements.txt)"
    exit 2
fi

# The plugin module; for corral's client also the Python binding. `maturin develop`
# builds its native module next to the sources (bindings-python/python/corral/), so
# that directory is importable from this venv without installing the package here.
PYTHONPATH="$HERE${PYTHONPATH:+:$PYTHONPATH}"
if [ "$CLIENT" = corral ] && ! PYTHONPATH="$PYTHONPATH" "$PYTHON" -c 'import corral.kazoo' 2>/dev/null; then
    PYTHONPATH="$PYTHONPATH:$ROOT/bindings-python/python"
fi
export PYTHONPATH

# kazoo's tests as installed (site-packages/kazoo/tests); the rootdir is site-packages,
# so test ids read kazoo/tests/test_x.py::Class::test_y, as in expected.txt.
SITE="$("$PYTHON" -c 'import os, kazoo; print(os.path.dirname(os.path.dirname(kazoo.__file__)))')" || {
    closing "not run: kazoo is not installed for $PYTHON"
    exit 2
}

# The plugin also writes its closing line here; without it, this script prints one.
export KAZOO_SUITE_CLOSING_FILE="$ROOT/target/kazoo-suite/closing-$CLIENT-$SERVER.txt"
mkdir -p "$ROOT/target/kazoo-suite"
rm -f "$KAZOO_SUITE_CLOSING_FILE"

# The servers listen on fixed ports (kazoo's layout, from ZOOKEEPER_PORT_OFFSET, default
# 20000), so runs on one machine take turns: a second run waits for the first.
LOCK="$ROOT/target/kazoo-suite/.ports-${ZOOKEEPER_PORT_OFFSET:-20000}.lock"
exec 9>"$LOCK"
if ! flock -n 9; then
    echo "kazoo-suite: another run uses ports ${ZOOKEEPER_PORT_OFFSET:-20000}+ ($LOCK): waiting for it"
    flock 9
fi

cd "$ROOT"
# `timeout` puts pytest (and the servers it starts) in a process group of its own; when
# this script is stopped, that group is stopped too rather than left running.
timeout --kill-after=30 "${KAZOO_SUITE_TIMEOUT:-40m}" "$PYTHON" -m pytest \
    -c "$HERE/pytest.ini" --rootdir "$SITE" -p corral_kazoo_suite \
    "$SITE/kazoo/tests" "$@" &
pid=$!
trap 'kill -TERM -- "-$pid" 2>/dev/null; wait "$pid"; exit 143' TERM INT HUP
wait "$pid"
rc=$?
trap - TERM INT HUP
if [ ! -s "$KAZOO_SUITE_CLOSING_FILE" ]; then
    if [ "$rc" -eq 124 ]; then
        closing "did not finish: timed out after ${KAZOO_SUITE_TIMEOUT:-40m}"
    elif [ "$rc" -ge 128 ]; then
        closing "did not finish: pytest killed by signal $((rc - 128))"
    else
        closing "did not run to the end: pytest exit status $rc (see above)"
    fi
    [ "$rc" -ne 0 ] || rc=1
fi
exit "$rc"
