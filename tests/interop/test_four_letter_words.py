"""Four-letter words on the client port (wire-protocol.md §12)."""

import re

from zkharness import four_letter_word


def test_ruok(server):
    assert four_letter_word(server.port, "ruok") == "imok"


def test_srvr_reports_standalone_mode_and_counts(server, zk, ns):
    zk.create(f"{ns}/n")
    out = four_letter_word(server.port, "srvr")
    assert re.search(r"^Mode: standalone$", out, re.M), out
    zxid = re.search(r"^Zxid: 0x([0-9a-f]+)$", out, re.M)
    assert zxid and int(zxid.group(1), 16) >= zk.exists(f"{ns}/n").czxid, out
    count = re.search(r"^Node count: (\d+)$", out, re.M)
    assert count and int(count.group(1)) >= 5, out  # /, /zookeeper(+2), /interop, ns, n


def test_isro_on_a_read_write_server(server):
    assert four_letter_word(server.port, "isro") == "rw"


def test_kazoo_command_helper(zk):
    assert zk.command(b"ruok") == "imok"


def test_whitelist_limits_commands(fresh_server):
    srv = fresh_server(**{"4lw.commands.whitelist": "ruok, srvr"})
    assert four_letter_word(srv.port, "ruok") == "imok"
    assert "Mode: standalone" in four_letter_word(srv.port, "srvr")
    assert four_letter_word(srv.port, "conf") == "conf is not executed because it is not in the whitelist.\n"
