"""node-zookeeper-client (npm, pinned in tests/node/package-lock.json) against the server:
runs ``node --test`` in tests/node with ZK_HOSTS pointing at the server."""

import os
import re
import shutil
import subprocess
import uuid

import pytest

from zkharness import REPO_ROOT

NODE_DIR = REPO_ROOT / "tests" / "node"


@pytest.fixture(scope="session")
def node_bin():
    node = shutil.which("node")
    if not node:
        pytest.fail("node not found on PATH", pytrace=False)
    if not (NODE_DIR / "node_modules" / "node-zookeeper-client").is_dir():
        pytest.fail(f"run `npm ci` in {NODE_DIR} first (tests/run-all.sh does)", pytrace=False)
    return node


def test_node_client_crud(node_bin, server, zk):
    base = f"/node-client-{uuid.uuid4().hex[:8]}"
    run = subprocess.run(
        [node_bin, "--test", "--test-reporter=tap"],
        cwd=NODE_DIR,
        env={"PATH": os.environ["PATH"], "ZK_HOSTS": server.hosts, "ZK_BASE": base},
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = f"{run.stdout}\n{run.stderr[-3000:]}"
    assert run.returncode == 0, f"node --test failed:\n{report}"
    counts = dict(re.findall(r"^# (tests|pass|fail) (\d+)$", run.stdout, re.M))
    assert counts.get("fail") == "0", report
    assert int(counts.get("pass", 0)) >= 7 and counts.get("pass") == counts.get("tests"), report
    assert zk.get(f"{base}/txn-a")[0] == b"t"
