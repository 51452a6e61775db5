"""One contender process of the mixed kazoo/corral tests (test_mixed_processes.py).

    python mixed_worker.py LIBRARY RECIPE HOSTS PATH ID ROUNDS LOG

LIBRARY is ``kazoo`` (kazoo's KazooClient) or ``corral`` (corral.Client):
the same factory calls drive either. RECIPE is lock, read, write, semaphore
or election. Each round takes the recipe, appends ``in ID ROLE`` to LOG,
holds it a moment, appends ``out ID ROLE`` and gives it back. Lines are
appended with O_APPEND, so LOG's order is the order the processes acted in.
"""

from __future__ import annotations

import os
import sys
import time

HOLD = 0.02
MAX_LEASES = 2


def connect(library: str, hosts: str):
    if library == "kazoo":
        from kazoo.client import KazooClient as Client
    else:
        from corral import Client
    client = Client(hosts=hosts, timeout=10)
    client.start(timeout=15)
    return client


def main() -> None:
    library, recipe, hosts, path, ident, rounds, log = sys.argv[1:8]
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def critical(role: str) -> None:
        os.write(fd, f"in {ident} {role}\n".encode())
        time.sleep(HOLD)
        os.write(fd, f"out {ident} {role}\n".encode())

    client = connect(library, hosts)
    try:
        for _ in range(int(rounds)):
            if recipe == "election":
                client.Election(path, ident).run(critical, "leader")
                continue
            if recipe == "semaphore":
                held = client.Semaphore(path, ident, max_leases=MAX_LEASES)
            else:
                held = {"lock": client.Lock, "read": client.ReadLock, "write": client.WriteLock}[recipe](path, ident)
            with held:
                critical(recipe)
    finally:
        client.stop()
        client.close()
        os.close(fd)


if __name__ == "__main__":
    main()
