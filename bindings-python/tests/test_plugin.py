"""The pytest plugin, as a project using it sees it (run in a separate pytest)."""

from __future__ import annotations



def test_plugin_fixtures(pytester):
    pytester.makepyfile(
        test_user="""
        import corral

        def test_zk_is_chrooted_and_started(zk, zk_chroot, corral_server):
            assert zk.connected
            zk.create("/mine", b"1")
            assert zk.get_children("/") == ["mine"]
            with corral.Client(corral_server.hosts) as root:
                assert root.exists(zk_chroot + "/mine")

        def test_each_test_gets_a_fresh_chroot(zk):
            assert zk.get_children("/") == []

        def test_make_zk_and_expire(zk, make_zk, expire_session):
            other = make_zk(timeout=5.0)
            other.create("/eph", ephemeral=True)
            old = other.session_id
            expire_session(other)
            assert other.session_id != old
            assert zk.exists("/eph") is None

        def test_drop_connections(zk, drop_connections):
            import threading
            sid = zk.session_id
            back = threading.Event()
            zk.add_listener(lambda s: s == corral.State.RECONNECTED and back.set())
            drop_connections()
            assert back.wait(10)
            assert zk.session_id == sid and zk.exists("/") is not None
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_plugin_is_registered_by_entry_point():
    from importlib.metadata import entry_points

    eps = entry_points()
    group = eps.select(group="pytest11") if hasattr(eps, "select") else eps.get("pytest11", [])
    assert any(ep.value == "corral.pytest_plugin" for ep in group)
