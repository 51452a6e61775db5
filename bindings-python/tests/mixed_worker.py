"""One contender process of the mixed kazoo/corral tests (test_mixed_processes.py).

    python mixed_worker.py LIBRARY RECIPE HOSTS PATH ID ROUNDS LOG

LIBRARY is ``kazoo`` (kazoo's KazooClient), ``corral`` (corral.Client) or
``corral.kazoo`` (corral.kazoo.KazooClient): the same factory calls drive
each. Lines are appended to LOG with O_APPEND, so its order is the order the
processes acted in. RECIPE is

* lock, read, write, semaphore or election: each round takes the recipe,
  appends ``in ID ROLE``, holds it a moment, appends ``out ID ROLE`` and
  gives it back;
* counter: each round adds 1 (``add ID``);
* party: joins, waits until the party has MIXED_PARTY_SIZE members, appends
  ``saw ID member,member,...``, waits for PATH-done and leaves;
* queue / lockingqueue: puts ROUNDS items ``ID-i``, then takes ROUNDS items
  (``took ID ITEM``; the locking queue consumes each after taking it);
* barrier: appends ``waiting ID``, waits on the barrier at PATH, appends
  ``passed ID``.
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
    elif library == "corral.kazoo":
        from corral.kazoo import KazooClient as Client
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

    def log_line(text: str) -> None:
        os.write(fd, (text + "\n").encode())

    client = connect(library, hosts)
    try:
        if recipe in DATA_RECIPES:
            DATA_RECIPES[recipe](client, path, ident, int(rounds), log_line)
            return
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


def counter(client, path, ident, rounds, log_line) -> None:
    c = client.Counter(path)
    for _ in range(rounds):
        c += 1
        log_line(f"add {ident}")


def party(client, path, ident, rounds, log_line) -> None:
    size = int(os.environ["MIXED_PARTY_SIZE"])
    p = client.Party(path, ident)
    p.join()
    deadline = time.monotonic() + 60
    while len(p) < size and time.monotonic() < deadline:
        time.sleep(0.02)
    log_line(f"saw {ident} {','.join(sorted(p))}")
    while client.exists(path + "-done") is None and time.monotonic() < deadline:
        time.sleep(0.02)
    p.leave()


def queue(client, path, ident, rounds, log_line, locking: bool = False) -> None:
    q = client.LockingQueue(path) if locking else client.Queue(path)
    for i in range(rounds):
        q.put(f"{ident}-{i}".encode())
    taken = 0
    deadline = time.monotonic() + 60
    while taken < rounds and time.monotonic() < deadline:
        if locking:
            item = q.get(timeout=1)
            if item is None:
                continue
            log_line(f"took {ident} {item.decode()}")
            assert q.consume()
        else:
            item = q.get()
            if item is None:
                time.sleep(0.01)
                continue
            log_line(f"took {ident} {item.decode()}")
        taken += 1


def barrier(client, path, ident, rounds, log_line) -> None:
    b = client.Barrier(path)
    log_line(f"waiting {ident}")
    if b.wait(timeout=60):
        log_line(f"passed {ident}")


DATA_RECIPES = {
    "counter": counter,
    "party": party,
    "queue": queue,
    "lockingqueue": lambda *a: queue(*a, locking=True),
    "barrier": barrier,
}


if __name__ == "__main__":
    main()
