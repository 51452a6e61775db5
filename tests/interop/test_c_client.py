"""The Apache ZooKeeper C client (libzookeeper_mt) against the server: tests/c/zk_crud.c,
compiled once per run, exercises the synchronous API and checks every answer itself."""

import re
import shutil
import subprocess
import uuid

import pytest

from zkharness import REPO_ROOT

SOURCE = REPO_ROOT / "tests" / "c" / "zk_crud.c"


@pytest.fixture(scope="session")
def zk_crud(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.fail("gcc not found", pytrace=False)
    binary = tmp_path_factory.mktemp("c-client") / "zk_crud"
    build = subprocess.run(
        ["gcc", "-DTHREADED", "-Wall", "-Wextra", "-Werror", "-O1", "-o", str(binary), str(SOURCE),
         "-lzookeeper_mt", "-lpthread"],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        pytest.fail(f"building {SOURCE} failed (apt-get install libzookeeper-mt-dev?):\n"
                    f"{build.stderr}", pytrace=False)
    return binary


def test_c_client_crud(zk_crud, server, zk):
    base = f"/c-client-{uuid.uuid4().hex[:8]}"
    run = subprocess.run([str(zk_crud), server.hosts, base], capture_output=True, text=True, timeout=120)
    report = f"stdout:\n{run.stdout}\nstderr (tail):\n{run.stderr[-4000:]}"
    summary = re.search(r"^(\d+) passed, (\d+) failed$", run.stdout, re.M)
    assert summary, f"no summary line from zk_crud\n{report}"
    passed, failed = map(int, summary.groups())
    assert failed == 0, f"{failed} C client check(s) failed\n" + "\n".join(
        line for line in run.stdout.splitlines() if line.startswith("not ok")) + f"\n{report}"
    assert run.returncode == 0, report
    assert passed >= 60, f"only {passed} checks ran\n{report}"
    # Cross-check what the C client left behind with kazoo.
    assert zk.get(f"{base}/m2")[0] == b"b"
    assert zk.exists(f"{base}/node") is None
