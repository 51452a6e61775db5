"""zkCli.sh (the Java client of Apache ZooKeeper 3.8) against the server.

zkCli reads commands from stdin when JLine is not on its classpath (the Debian package),
so one JVM runs a whole script. The second test keeps zkCli open across a server
restart to check that the Java client resumes its session and re-registers its watches
with SetWatches, including the catch-up events of §8.6.
"""

import os
import re
import signal
import subprocess
import threading
import time
import uuid

import pytest

from zkharness import wait_until

ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
JVM_FLAGS = "-Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1"


@pytest.fixture(scope="module")
def zkcli_path():
    if not os.path.exists(ZKCLI):
        pytest.fail(f"{ZKCLI} not found (apt-get install zookeeper)", pytrace=False)
    return ZKCLI


def run_script(zkcli_path, server, commands: str, timeout: float = 60) -> str:
    proc = subprocess.run(
        [zkcli_path, "-server", server.hosts],
        input=commands,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        env={**os.environ, "CLIENT_JVMFLAGS": JVM_FLAGS},
    )
    out = "\n".join(line for line in proc.stdout.splitlines() if not line.startswith("SLF4J"))
    assert proc.returncode == 0, f"zkCli exited with {proc.returncode}:\n{out}"
    return out


def stat_block(out: str, after: str) -> dict:
    """The `key = value` lines of the first Stat printed after the line ``after``."""
    lines = out.splitlines()
    start = lines.index(after)
    fields = {}
    for line in lines[start + 1:]:
        m = re.match(r"^(\w+) = (.*)$", line)
        if m:
            fields[m.group(1)] = m.group(2)
        elif fields:
            break
    return fields


def test_zkcli_script(zkcli_path, server, zk):
    r = f"/zkcli-{uuid.uuid4().hex[:8]}"
    alice = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="
    out = run_script(zkcli_path, server, f"""\
create {r}
create {r}/a hello
get {r}/a
set {r}/a world
get -s {r}/a
create -s {r}/seq- x
create -e {r}/eph e
stat {r}/eph
create -c {r}/cont
create -t 60000 {r}/ttl t
ls {r}
getAllChildrenNumber {r}
getEphemerals {r}
set -v 7 {r}/a x
create {r}/a again
delete {r}/missing
setAcl {r}/a world:anyone:r
getAcl {r}/a
set {r}/a denied
addauth digest alice:secret
create {r}/secret s digest:{alice}:cdrwa
getAcl {r}/secret
addWatch -m PERSISTENT_RECURSIVE {r}/w
create {r}/w
create {r}/w/x
set {r}/w/x 1
delete {r}/w/x
delete {r}/a
stat {r}/a
sync {r}
whoami
get {r}/secret
quit
""")

    def expect(text):
        assert text in out.splitlines(), f"missing line {text!r} in zkCli output:\n{out}"

    for created in ("", "/a", "/seq-0000000001", "/eph", "/cont", "/ttl", "/secret", "/w", "/w/x"):
        expect(f"Created {r}{created}")
    expect("hello")
    expect("world")
    a_stat = stat_block(out, "world")
    assert a_stat["dataVersion"] == "1"
    assert a_stat["dataLength"] == "5"
    assert a_stat["numChildren"] == "0"
    assert a_stat["cZxid"] != a_stat["mZxid"]
    eph_stat = stat_block(out, f"Created {r}/eph")
    assert int(eph_stat["ephemeralOwner"], 16) != 0

    listing = [line for line in out.splitlines() if line.startswith("[") and "seq-" in line]
    assert listing, out
    assert sorted(listing[0].strip("[]").split(", ")) == ["a", "cont", "eph", "seq-0000000001", "ttl"]
    expect("5")  # getAllChildrenNumber
    expect(f"[{r}/eph]")  # getEphemerals

    expect(f"version No is not valid : {r}/a")
    expect(f"Node already exists: {r}/a")
    expect(f"Node does not exist: {r}/missing")
    expect("'world,'anyone")
    expect(": r")
    expect(f"Insufficient permission : {r}/a")
    expect(f"'digest,'{alice}")
    expect(": cdrwa")
    for event in (f"NodeCreated path:{r}/w", f"NodeCreated path:{r}/w/x",
                  f"NodeDataChanged path:{r}/w/x", f"NodeDeleted path:{r}/w/x"):
        expect(f"WatchedEvent state:SyncConnected type:{event}")
    assert f"type:NodeChildrenChanged path:{r}/w" not in out
    expect(f"Node does not exist: {r}/a")
    expect("Sync is OK")
    expect("digest: alice")
    expect("ip: 127.0.0.1")
    expect("s")  # get of the digest-protected node after addauth

    # What zkCli did is visible to another client; its ephemeral went with its session.
    # zkCli's `create path` without data sends a null buffer, read back as null (§5.3).
    data, stat = zk.get(f"{r}/w")
    assert (data, stat.dataLength) == (None, 0)
    assert zk.exists(f"{r}/a") is None
    assert zk.exists(f"{r}/eph") is None
    assert zk.get(f"{r}/seq-0000000001")[0] == b"x"


class InteractiveCli:
    """zkCli kept open: commands go to stdin, output lines are collected by a thread."""

    def __init__(self, zkcli_path, server):
        self.proc = subprocess.Popen(
            [zkcli_path, "-server", server.hosts],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            env={**os.environ, "CLIENT_JVMFLAGS": JVM_FLAGS},
        )
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._markers = 0

    def _read(self):
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()

    def send(self, *commands: str):
        for c in commands:
            self.proc.stdin.write(c + "\n")
        self.proc.stdin.flush()

    def count(self, text: str) -> int:
        with self._cond:
            return sum(1 for line in self.lines if text in line)

    def wait_for(self, text: str, times: int = 1, timeout: float = 30) -> None:
        with self._cond:
            ok = self._cond.wait_for(
                lambda: sum(1 for line in self.lines if text in line) >= times, timeout
            )
            if not ok:
                raise AssertionError(
                    f"zkCli did not print {text!r} x{times} within {timeout}s:\n" + "\n".join(self.lines)
                )

    def barrier(self):
        """Wait until every command sent so far has been executed."""
        self._markers += 1
        marker = f"/zkcli-barrier-{self._markers}"
        self.send(f"get {marker}")
        self.wait_for(f"Node does not exist: {marker}")

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("quit")
                self.proc.wait(timeout=20)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=10)


def test_java_client_resumes_session_and_catches_up_watches_after_restart(
    zkcli_path, fresh_server, make_client
):
    srv = fresh_server()
    k = make_client(srv, timeout=8.0, host_repeats=4)
    k.create("/w", b"0")
    k.create("/w/old")
    cli = InteractiveCli(zkcli_path, srv)
    try:
        cli.wait_for("type:None path:null")  # connected
        cli.send("create -e /w/cli-eph x", "get -w /w", "ls -w /w", "stat -w /later")
        cli.barrier()
        owner = k.exists("/w/cli-eph").ephemeralOwner
        assert owner != 0

        # Freeze the Java client, restart the server, change everything it watches, and
        # let it reconnect: SetWatches must deliver each missed change at once (§8.6).
        os.kill(cli.proc.pid, signal.SIGSTOP)
        try:
            srv.restart(signal.SIGTERM)
            wait_until(lambda: k.connected and k.exists("/w") is not None, 30)
            k.set("/w", b"1")
            k.create("/w/kid")
            k.create("/later")
        finally:
            os.kill(cli.proc.pid, signal.SIGCONT)

        for event in ("NodeDataChanged path:/w", "NodeChildrenChanged path:/w", "NodeCreated path:/later"):
            cli.wait_for(f"WatchedEvent state:SyncConnected type:{event}")
        assert cli.count("type:None path:null") >= 2  # connected again ...
        assert cli.count("Expired") == 0  # ... to the same session
        assert k.exists("/w/cli-eph").ephemeralOwner == owner

        # The fired watches were one-shot; nothing more arrives for them.
        k.set("/w", b"2")
        cli.barrier()
        time.sleep(0.3)  # on purpose: time for a wrongly re-armed watch to fire
        assert cli.count("NodeDataChanged path:/w") == 1
    finally:
        cli.close()
    wait_until(lambda: k.exists("/w/cli-eph") is None, 10, message="zkCli quit did not close its session")
