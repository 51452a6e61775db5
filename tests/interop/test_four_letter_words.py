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


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


def test_stat_lists_clients_then_the_srvr_summary(server, zk, ns):
    out = four_letter_word(server.port, "stat")
    assert out.startswith("Zookeeper version: "), out
    assert re.search(r"^Clients:$", out, re.M), out
    assert re.search(r"^ /127\.0\.0\.1:\d+\[\d\]\(queued=\d+,recved=\d+,sent=\d+\)$", out, re.M), out
    for key in ("Latency min/avg/max", "Received", "Sent", "Connections", "Outstanding", "Zxid", "Mode", "Node count"):
        assert re.search(rf"^{re.escape(key)}: ", out, re.M), (key, out)


def test_srvr_version_is_zookeeper_compatible(server):
    out = four_letter_word(server.port, "srvr")
    version = re.match(r"Zookeeper version: (\d+)\.(\d+)\.(\d+)", out)
    assert version, out
    assert (int(version.group(1)), int(version.group(2))) >= (3, 5), out


def test_mntr_is_tab_separated_metrics(server, zk, ns):
    zk.create(f"{ns}/m", ephemeral=True)
    zk.get(f"{ns}/m", watch=lambda e: None)
    rows = dict(line.split("\t", 1) for line in _lines(four_letter_word(server.port, "mntr")))
    for key in ("zk_version", "zk_server_state", "zk_avg_latency", "zk_max_latency", "zk_min_latency",
                "zk_packets_received", "zk_packets_sent", "zk_num_alive_connections",
                "zk_outstanding_requests", "zk_znode_count", "zk_watch_count", "zk_ephemerals_count",
                "zk_approximate_data_size", "zk_open_file_descriptor_count"):
        assert key in rows, (key, sorted(rows))
    assert rows["zk_server_state"] == "standalone"
    assert int(rows["zk_znode_count"]) >= 5
    assert int(rows["zk_ephemerals_count"]) >= 1
    assert int(rows["zk_watch_count"]) >= 1
    assert int(rows["zk_num_alive_connections"]) >= 1


def test_conf_reports_the_effective_configuration(server):
    rows = dict(line.split("=", 1) for line in _lines(four_letter_word(server.port, "conf")))
    assert rows["clientPort"] == str(server.port)
    for key in ("dataDir", "dataLogDir", "tickTime", "maxClientCnxns", "minSessionTimeout", "maxSessionTimeout"):
        assert key in rows, (key, rows)
    assert int(rows["minSessionTimeout"]) == 2 * int(rows["tickTime"]) or int(rows["minSessionTimeout"]) > 0


def test_cons_and_crst(server, zk):
    out = four_letter_word(server.port, "cons")
    line = next(line for line in out.splitlines() if f"sid=0x{zk.client_id[0]:x}" in line)
    assert re.match(r"^ /127\.0\.0\.1:\d+\[\d\]\(queued=\d+,recved=\d+,sent=\d+,sid=0x[0-9a-f]+,lop=\w+,est=\d+,to=\d+,", line), line
    assert four_letter_word(server.port, "crst") == "Connection stats reset.\n"


def test_srst_resets_server_stats(server):
    assert four_letter_word(server.port, "srst") == "Server stats reset.\n"


def test_envi_lists_the_environment(server):
    out = four_letter_word(server.port, "envi")
    assert out.startswith("Environment:\n"), out
    assert re.search(r"^zookeeper\.version=\d+\.\d+\.\d+", out, re.M), out
    assert re.search(r"^host\.name=", out, re.M), out


def test_dump_lists_sessions_and_ephemerals(server, zk, ns):
    zk.create(f"{ns}/eph", ephemeral=True)
    out = four_letter_word(server.port, "dump")
    assert out.startswith("SessionTracker dump:"), out
    assert "ephemeral nodes dump:" in out, out
    assert f"0x{zk.client_id[0]:x}" in out, out
    assert f"\t{ns}/eph" in out, out


def test_watch_commands(server, zk, ns):
    zk.create(f"{ns}/w")
    zk.get(f"{ns}/w", watch=lambda e: None)
    wchs = four_letter_word(server.port, "wchs")
    assert re.match(r"^\d+ connections watching \d+ paths\nTotal watches:\d+\n$", wchs), wchs
    assert f"\t{ns}/w" in four_letter_word(server.port, "wchc")
    wchp = four_letter_word(server.port, "wchp")
    assert f"{ns}/w\n\t0x{zk.client_id[0]:x}" in wchp, wchp


def test_dirs_reports_sizes(server, zk, ns):
    zk.create(f"{ns}/d", b"x" * 1000)
    out = four_letter_word(server.port, "dirs")
    m = re.match(r"^datadir_size: (\d+)\nlogdir_size: (\d+)\n$", out)
    assert m, out
    assert int(m.group(1)) + int(m.group(2)) > 1000, out
