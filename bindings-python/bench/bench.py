"""Benchmark of the Python package (figures, not a test).

Measures, in one run on this machine:

- ``EmbeddedServer()`` start time (constructor + ``start()`` until it serves),
  median of several starts;
- synchronous ``get`` and ``create`` operations per second from one thread,
  corral's client, corral.kazoo's KazooClient and kazoo side by side against
  the same embedded corral server, reported as ratios to kazoo;
- the resident memory an idle connected client adds to the process, for
  each client (measured in a fresh child process so the figures do not mix).

Run it from a venv that has the ``corral`` wheel and ``kazoo`` installed::

    python bindings-python/bench/bench.py [--ops 5000] [--starts 20] [--json]
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List


def rss_kib() -> int:
    """This process's resident set size in KiB (Linux)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def start_times(starts: int) -> List[float]:
    """Milliseconds from EmbeddedServer() to a started, serving server."""
    from corral.testing import EmbeddedServer

    times = []
    for _ in range(starts):
        t0 = time.perf_counter()
        server = EmbeddedServer()
        server.start()
        times.append((time.perf_counter() - t0) * 1000)
        server.stop()
    return times


def rate(ops: int, op: Callable[[int], object]) -> float:
    """Operations per second of ``op`` called ``ops`` times in a row."""
    for i in range(min(200, ops)):  # warm up
        op(i)
    t0 = time.perf_counter()
    for i in range(ops):
        op(i)
    return ops / (time.perf_counter() - t0)


def throughput(hosts: str, ops: int) -> Dict[str, Dict[str, float]]:
    """get and create ops/s of corral's client and kazoo on one server."""
    import corral
    from corral.kazoo import KazooClient as corral_kazoo_client
    from kazoo.client import KazooClient

    out: Dict[str, Dict[str, float]] = {}
    zk = corral.Client(hosts)
    zk.start()
    zk.create("/bench-get", b"x" * 100)
    out["corral"] = {
        "get": rate(ops, lambda i: zk.get("/bench-get")),
        "create": rate(ops, lambda i: zk.create(f"/bench-c-corral-{i}-{time.monotonic_ns()}", b"x" * 100)),
    }
    for name, make in (("corral.kazoo", corral_kazoo_client), ("kazoo", KazooClient)):
        kz = make(hosts=hosts)
        kz.start()
        out[name] = {
            "get": rate(ops, lambda i: kz.get("/bench-get")),
            "create": rate(ops, lambda i: kz.create(f"/bench-c-{name}-{i}-{time.monotonic_ns()}", b"x" * 100)),
        }
        kz.stop()
        kz.close()
    zk.stop()
    zk.close()
    return out


IDLE_CHILD = r"""
import gc, sys, time
sys.path[:0] = {path!r}
from bench import rss_kib
kind, hosts, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
if kind == "corral":
    import corral
    make = lambda: corral.Client(hosts)
else:
    from kazoo.client import KazooClient
    make = lambda: KazooClient(hosts=hosts)
# Import and first-client costs are paid before the baseline.
first = make(); first.start()
gc.collect(); time.sleep(0.5)
before = rss_kib()
clients = []
for _ in range(n):
    c = make(); c.start(); clients.append(c)
gc.collect(); time.sleep(1.0)
print((rss_kib() - before) / n)
"""


def idle_client_kib(kind: str, hosts: str, clients: int) -> float:
    """KiB of RSS each additional idle, connected client adds (child process)."""
    script = IDLE_CHILD.format(path=[sys.path[0]])
    res = subprocess.run(
        [sys.executable, "-c", script, kind, hosts, str(clients)],
        capture_output=True, text=True, check=True, timeout=300,
    )
    return float(res.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ops", type=int, default=5000, help="operations per throughput figure")
    ap.add_argument("--starts", type=int, default=20, help="EmbeddedServer starts to time")
    ap.add_argument("--idle-clients", type=int, default=20, help="idle clients per memory figure")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    from corral.testing import EmbeddedServer

    starts = start_times(args.starts)
    with EmbeddedServer() as server:
        ops = throughput(server.hosts, args.ops)
        gc.collect()
        idle = {k: idle_client_kib(k, server.hosts, args.idle_clients) for k in ("corral", "kazoo")}
    report = {
        "embedded_start_ms": {"median": statistics.median(starts), "max": max(starts), "runs": len(starts)},
        "ops_per_s": ops,
        "idle_client_kib": idle,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    s = report["embedded_start_ms"]
    print(f"EmbeddedServer() start: median {s['median']:.1f} ms, max {s['max']:.1f} ms ({s['runs']} starts)")
    for op in ("get", "create"):
        c, ck, k = ops["corral"][op], ops["corral.kazoo"][op], ops["kazoo"][op]
        print(f"sync {op:6} from one thread: corral {c:,.0f}/s ({c / k:.2f}x)  "
              f"corral.kazoo {ck:,.0f}/s ({ck / k:.2f}x)  kazoo {k:,.0f}/s")
    c, k = idle["corral"], idle["kazoo"]
    print(f"idle connected client: corral {c:,.0f} KiB  kazoo {k:,.0f} KiB  ({k / c:.2f}x less)" if c > 0
          else f"idle connected client: corral {c:,.0f} KiB  kazoo {k:,.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
