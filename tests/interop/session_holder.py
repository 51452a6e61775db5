"""A kazoo session in a separate process, for tests that need a client to vanish (kill -9)
without a closeSession, so that its session lives on until the server expires it.

    python session_holder.py HOSTS TIMEOUT_SECONDS EPHEMERAL_PATH...

Creates each path as an ephemeral node (parents as needed), prints one JSON line
``{"session_id": int, "passwd": hex}`` and then waits until it is killed.
"""

import json
import sys
import time

from kazoo.client import KazooClient


def main() -> None:
    hosts, timeout, *paths = sys.argv[1:]
    client = KazooClient(hosts=hosts, timeout=float(timeout))
    client.start(timeout=15)
    for path in paths:
        client.create(path, b"held", ephemeral=True, makepath=True)
    session_id, passwd = client.client_id
    print(json.dumps({"session_id": session_id, "passwd": passwd.hex()}), flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
