//! Every client operation, against corral and against Apache ZooKeeper 3.8.

mod support;

use std::time::Duration;

use corral::client::{Client, CreateOptions, KeeperState, OpResult, State};
use corral::proto::{perms, Acl, AddWatchMode, Code, CreateMode, EventType, Id, WatcherType};
use support::{eventually, TestServer};

const T: Duration = Duration::from_secs(10);

both_servers!(crud_and_errors_carry_paths, |srv: TestServer| async move {
    let zk = srv.client().await;
    let (path, stat) = zk.create_with_stat("/a", b"one", &CreateOptions::default()).await.unwrap();
    assert_eq!(path, "/a");
    assert_eq!((stat.version, stat.data_length, stat.num_children), (0, 3, 0));
    assert_eq!(stat.czxid, stat.mzxid);
    let (data, st) = zk.get_data("/a").await.unwrap();
    assert_eq!((data.as_slice(), st), (&b"one"[..], stat));
    let st2 = zk.set_data("/a", b"two", Some(0)).await.unwrap();
    assert_eq!(st2.version, 1);
    assert!(st2.mzxid > st.mzxid);
    let e = zk.set_data("/a", b"x", Some(0)).await.unwrap_err();
    assert_eq!((e.code, e.path.as_deref()), (Code::BadVersion, Some("/a")));
    let e = zk.create("/a", b"", &CreateOptions::default()).await.unwrap_err();
    assert_eq!((e.code, e.path.as_deref()), (Code::NodeExists, Some("/a")));
    let e = zk.get_data("/nope").await.unwrap_err();
    assert_eq!((e.code, e.path.as_deref()), (Code::NoNode, Some("/nope")));
    assert_eq!(zk.exists("/nope").await.unwrap(), None);
    assert_eq!(zk.exists("/a").await.unwrap().map(|s| s.version), Some(1));
    zk.create("/a/b", b"", &CreateOptions::default()).await.unwrap();
    assert_eq!(zk.delete("/a", None).await.unwrap_err().code, Code::NotEmpty);
    assert_eq!(zk.delete("/a/b", Some(3)).await.unwrap_err().code, Code::BadVersion);
    zk.delete("/a/b", Some(0)).await.unwrap();
    let (children, st) = zk.get_children2("/a").await.unwrap();
    assert!(children.is_empty());
    assert_eq!(st.cversion, 2);
    zk.close().await;
});

both_servers!(null_data_stays_apart_from_empty, |srv: TestServer| async move {
    let zk = srv.client().await;
    let opts = CreateOptions::default();
    let (_, stat) = zk.create_nullable("/null", None, &opts).await.unwrap();
    assert_eq!(stat.data_length, 0);
    assert_eq!(zk.get_data_nullable("/null").await.unwrap().0, None);
    // The plain read sees null as empty.
    assert_eq!(zk.get_data("/null").await.unwrap().0, Vec::<u8>::new());
    zk.create("/empty", b"", &opts).await.unwrap();
    assert_eq!(zk.get_data_nullable("/empty").await.unwrap().0, Some(Vec::new()));
    zk.set_data_nullable("/empty", None, Some(0)).await.unwrap();
    let (data, stat, watch) = zk.get_data_nullable_w("/empty").await.unwrap();
    assert_eq!((data, stat.version), (None, 1));
    zk.set_data("/empty", b"x", None).await.unwrap();
    assert_eq!(tokio::time::timeout(T, watch).await.unwrap().event_type, EventType::NodeDataChanged);
    assert_eq!(zk.get_data_nullable("/empty").await.unwrap().0, Some(b"x".to_vec()));
    let e = zk.set_data_nullable("/nope", None, None).await.unwrap_err();
    assert_eq!((e.code, e.path.as_deref()), (Code::NoNode, Some("/nope")));
    zk.close().await;
});

both_servers!(node_kinds, |srv: TestServer| async move {
    let zk = srv.client().await;
    zk.create("/k", b"", &CreateOptions::default()).await.unwrap();
    let s1 = zk.create("/k/s-", b"", &CreateOptions::mode(CreateMode::PersistentSequential)).await.unwrap();
    let s2 = zk.create("/k/s-", b"", &CreateOptions::mode(CreateMode::EphemeralSequential)).await.unwrap();
    assert_eq!((s1.as_str(), s2.as_str()), ("/k/s-0000000000", "/k/s-0000000001"));
    let (_, st) = zk.create_with_stat("/k/e", b"", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    assert_eq!(st.ephemeral_owner, zk.session_id());
    let (_, st) = zk.create_with_stat("/k/c", b"", &CreateOptions::mode(CreateMode::Container)).await.unwrap();
    assert_eq!(st.ephemeral_owner, 0);
    let ttl = CreateOptions::mode(CreateMode::PersistentWithTtl).with_ttl_ms(100);
    zk.create("/k/ttl", b"", &ttl).await.unwrap();
    let mut eph = zk.get_ephemerals("/k").await.unwrap();
    eph.sort();
    assert_eq!(eph, vec!["/k/e".to_string(), "/k/s-0000000001".to_string()]);
    assert_eq!(zk.get_all_children_number("/k").await.unwrap(), 5);
    // The container goes once its last child is deleted; the TTL node once expired.
    zk.create("/k/c/x", b"", &CreateOptions::default()).await.unwrap();
    zk.delete("/k/c/x", None).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let gone_c = zk.exists("/k/c").await.unwrap().is_none();
        let gone_t = zk.exists("/k/ttl").await.unwrap().is_none();
        if gone_c && gone_t {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "container and TTL node were not reaped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Ephemerals go with the session.
    zk.close().await;
    let zk2 = srv.client().await;
    assert_eq!(zk2.get_children("/k").await.unwrap(), vec!["s-0000000000".to_string()]);
});

both_servers!(acl_auth_and_who_am_i, |srv: TestServer| async move {
    let zk = srv.client().await;
    zk.add_auth("digest", b"alice:secret").await.unwrap();
    let acl = vec![Acl { perms: perms::ALL, id: Id::new("auth", "") }];
    zk.create("/sec", b"s", &CreateOptions::default().with_acl(acl)).await.unwrap();
    let (acl, st) = zk.get_acl("/sec").await.unwrap();
    assert_eq!(acl, vec![Acl { perms: perms::ALL, id: Id::new("digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=") }]);
    let st2 = zk.set_acl("/sec", &acl, Some(st.aversion)).await.unwrap();
    assert_eq!(st2.aversion, 1);
    let who = zk.who_am_i().await.unwrap();
    assert!(who.iter().any(|c| c.auth_scheme == "digest" && c.user == "alice"), "{who:?}");
    let other = srv.client().await;
    assert_eq!(other.get_data("/sec").await.unwrap_err().code, Code::NoAuth);
    // Auth is sent again after a reconnect.
    let authed = Client::builder(&srv.hosts()).auth("digest", b"alice:secret").connect().await.unwrap();
    assert_eq!(authed.get_data("/sec").await.unwrap().0, b"s");
});

both_servers!(transactions, |srv: TestServer| async move {
    let zk = srv.client().await;
    let r = zk
        .transaction()
        .create("/t", b"", &CreateOptions::default())
        .create("/t/a", b"a", &CreateOptions::default())
        .set_data("/t/a", b"b", Some(0))
        .check("/t/a", 1)
        .commit()
        .await
        .unwrap();
    assert_eq!(r.len(), 4);
    assert!(matches!(&r[0], OpResult::Created { path, .. } if path == "/t"));
    assert!(matches!(r[2], OpResult::SetData(s) if s.version == 1));
    assert_eq!(r[3], OpResult::Checked);
    let e = zk
        .transaction()
        .create("/t/b", b"", &CreateOptions::default())
        .delete("/t/missing", None)
        .commit()
        .await
        .unwrap_err();
    assert_eq!((e.code, e.path.as_deref()), (Code::NoNode, Some("/t/missing")));
    assert!(zk.exists("/t/b").await.unwrap().is_none(), "a failed transaction applies nothing");
    let reads = zk.multi_read(&["/t/a", "/nope"], &["/t"]).await.unwrap();
    assert!(matches!(&reads[0], OpResult::Data(d, _) if d == b"b"));
    assert_eq!(reads[1], OpResult::Error(Code::NoNode));
    assert_eq!(reads[2], OpResult::Children(vec!["a".into()]));
});

both_servers!(one_shot_watches, |srv: TestServer| async move {
    let zk = srv.client().await;
    let other = srv.client().await;
    let (none, w) = zk.exists_w("/w").await.unwrap();
    assert!(none.is_none());
    other.create("/w", b"", &CreateOptions::default()).await.unwrap();
    let ev = tokio::time::timeout(T, w).await.unwrap();
    assert_eq!((ev.event_type, ev.path.as_str(), ev.state), (EventType::NodeCreated, "/w", KeeperState::SyncConnected));
    let (_, _, w) = zk.get_data_w("/w").await.unwrap();
    let (_, _, cw) = zk.get_children_w("/w").await.unwrap();
    other.set_data("/w", b"x", None).await.unwrap();
    assert_eq!(tokio::time::timeout(T, w).await.unwrap().event_type, EventType::NodeDataChanged);
    other.create("/w/c", b"", &CreateOptions::default()).await.unwrap();
    assert_eq!(tokio::time::timeout(T, cw).await.unwrap().event_type, EventType::NodeChildrenChanged);
    let (_, _, w) = zk.get_data_w("/w/c").await.unwrap();
    other.delete("/w/c", None).await.unwrap();
    assert_eq!(tokio::time::timeout(T, w).await.unwrap().event_type, EventType::NodeDeleted);
});

both_servers!(persistent_and_recursive_watches, |srv: TestServer| async move {
    let zk = srv.client().await;
    zk.create("/p", b"", &CreateOptions::default()).await.unwrap();
    let mut pw = zk.add_watch("/p", AddWatchMode::Persistent).await.unwrap();
    // On another path: ZooKeeper 3.8 keeps one mode per path (the last registration wins).
    let mut rw = zk.add_watch("/", AddWatchMode::PersistentRecursive).await.unwrap();
    zk.create("/p/x", b"", &CreateOptions::default()).await.unwrap();
    zk.set_data("/p/x", b"1", None).await.unwrap();
    zk.set_data("/p", b"1", None).await.unwrap();
    zk.delete("/p/x", None).await.unwrap();
    let mut got_p = Vec::new();
    for _ in 0..3 {
        let ev = tokio::time::timeout(T, pw.next()).await.unwrap().unwrap();
        got_p.push((ev.event_type, ev.path));
    }
    assert_eq!(
        got_p,
        vec![
            (EventType::NodeChildrenChanged, "/p".to_string()),
            (EventType::NodeDataChanged, "/p".to_string()),
            (EventType::NodeChildrenChanged, "/p".to_string()),
        ]
    );
    let mut got_r = Vec::new();
    for _ in 0..4 {
        let ev = tokio::time::timeout(T, rw.next()).await.unwrap().unwrap();
        got_r.push((ev.event_type, ev.path));
    }
    assert_eq!(
        got_r,
        vec![
            (EventType::NodeCreated, "/p/x".to_string()),
            (EventType::NodeDataChanged, "/p/x".to_string()),
            (EventType::NodeDataChanged, "/p".to_string()),
            (EventType::NodeDeleted, "/p/x".to_string()),
        ]
    );
    zk.remove_watches("/p", WatcherType::Any).await.unwrap();
    assert_eq!(zk.remove_watches("/p", WatcherType::Any).await.unwrap_err().code, Code::NoWatcher);
    zk.remove_watches("/", WatcherType::Any).await.unwrap();
});

both_servers!(chroot_ensure_path_and_recursive_delete, |srv: TestServer| async move {
    let root = srv.client().await;
    root.ensure_path("/app/deep/er").await.unwrap();
    // A path ZooKeeper refuses creates nothing (it used to create /no-slash).
    for bad in ["no-slash", "/app//x", "/app/x/", "/app/./x", "/app/../x", ""] {
        assert_eq!(root.ensure_path(bad).await.unwrap_err().code, Code::BadArguments, "{bad:?}");
    }
    assert!(root.exists("/no-slash").await.unwrap().is_none());
    assert!(root.exists("/app/x").await.unwrap().is_none());
    let zk = Client::connect(&format!("{}/app", srv.hosts())).await.unwrap();
    let p = zk.create("/deep/er/s-", b"", &CreateOptions::mode(CreateMode::PersistentSequential)).await.unwrap();
    assert_eq!(p, "/deep/er/s-0000000000");
    let (_, w) = zk.exists_w("/deep/x").await.unwrap();
    root.create("/app/deep/x", b"", &CreateOptions::default()).await.unwrap();
    assert_eq!(tokio::time::timeout(T, w).await.unwrap().path, "/deep/x");
    zk.sync("/").await.unwrap();
    zk.delete_recursive("/deep").await.unwrap();
    assert!(root.exists("/app/deep").await.unwrap().is_none());
    assert!(root.exists("/app").await.unwrap().is_some());
    // ensure_path makes a missing chroot too, as kazoo and Curator do.
    let fresh = Client::connect(&format!("{}/new/root", srv.hosts())).await.unwrap();
    assert_eq!(fresh.create("/x", b"", &CreateOptions::default()).await.unwrap_err().code, Code::NoNode);
    fresh.ensure_path("/").await.unwrap();
    assert!(root.exists("/new/root").await.unwrap().is_some());
    fresh.ensure_path("/a/b").await.unwrap();
    assert!(root.exists("/new/root/a/b").await.unwrap().is_some());
    fresh.close().await;
});

both_servers!(states_across_restart_and_watch_reregistration, |srv: TestServer| async move {
    let mut srv = srv;
    let zk = srv.client_with(Duration::from_secs(10)).await;
    assert_eq!(zk.state(), State::Connected);
    let mut states = zk.state_changes();
    zk.create("/r", b"", &CreateOptions::default()).await.unwrap();
    let (_, _, w) = zk.get_data_w("/r").await.unwrap();
    let eph = zk.create("/r/e", b"", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    let sid = zk.session_id();
    srv.restart().await;
    let mut seen = Vec::new();
    while !seen.contains(&State::Reconnected) {
        seen.push(tokio::time::timeout(Duration::from_secs(20), states.recv()).await.unwrap().unwrap());
    }
    assert_eq!(seen.first(), Some(&State::Suspended));
    assert_eq!(zk.session_id(), sid, "the session is resumed, not replaced");
    assert!(zk.exists(&eph).await.unwrap().is_some(), "ephemerals survive a restart");
    // The data watch was re-registered and still fires.
    let other = srv.client().await;
    other.set_data("/r", b"x", None).await.unwrap();
    assert_eq!(tokio::time::timeout(T, w).await.unwrap().event_type, EventType::NodeDataChanged);
});

both_servers!(session_expiry_is_lost, |srv: TestServer| async move {
    let mut srv = srv;
    let zk = srv.client_with(Duration::from_millis(1000)).await;
    let (_, w) = zk.exists_w("/never").await.unwrap();
    let mut states = zk.state_changes();
    let sid = zk.session_id();
    srv.stop().await;
    // Down for longer than the 1 s session timeout: the session ends.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    srv.start_again().await;
    let mut seen = Vec::new();
    while !seen.contains(&State::Lost) {
        seen.push(tokio::time::timeout(Duration::from_secs(20), states.recv()).await.unwrap().unwrap());
    }
    assert_eq!(tokio::time::timeout(T, w).await.unwrap().state, KeeperState::Expired);
    // A new session follows.
    assert!(eventually(Duration::from_secs(20), || zk.session_id() != 0 && zk.session_id() != sid).await);
    zk.create("/after", b"", &CreateOptions::default()).await.unwrap();
});

both_servers!(dropping_the_last_handle_closes_the_session, |srv: TestServer| async move {
    let observer = srv.client().await;
    let zk = srv.client().await;
    let copy = zk.clone();
    zk.create("/owned", b"", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    let (_, gone) = observer.exists_w("/owned").await.unwrap();
    drop(zk);
    // One handle is still alive: the session stays.
    assert!(tokio::time::timeout(Duration::from_millis(300), observer.exists("/owned"))
        .await
        .unwrap()
        .unwrap()
        .is_some());
    drop(copy);
    let ev = tokio::time::timeout(T, gone).await.expect("the session closes when the last handle is dropped");
    assert_eq!((ev.event_type, ev.path.as_str()), (EventType::NodeDeleted, "/owned"));
});

both_servers!(removed_watches_end_with_removal_events, |srv: TestServer| async move {
    let zk = srv.client().await;
    zk.create("/rm", b"", &CreateOptions::default()).await.unwrap();
    let (_, _, data_w) = zk.get_data_w("/rm").await.unwrap();
    let (_, _, child_w) = zk.get_children_w("/rm").await.unwrap();
    zk.remove_watches("/rm", WatcherType::Data).await.unwrap();
    let ev = tokio::time::timeout(T, data_w).await.unwrap();
    assert_eq!((ev.event_type, ev.path.as_str()), (EventType::DataWatchRemoved, "/rm"));
    zk.remove_watches("/rm", WatcherType::Children).await.unwrap();
    assert_eq!(tokio::time::timeout(T, child_w).await.unwrap().event_type, EventType::ChildWatchRemoved);
    let mut stream = zk.add_watch("/rm", AddWatchMode::Persistent).await.unwrap();
    zk.remove_watches("/rm", WatcherType::Any).await.unwrap();
    let ev = tokio::time::timeout(T, stream.next()).await.unwrap().unwrap();
    assert_eq!(ev.event_type, EventType::PersistentWatchRemoved);
});

both_servers!(a_session_resumes_from_its_id_and_password, |srv: TestServer| async move {
    let first = srv.client().await;
    first.create("/resumed", b"", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    let (id, password) = (first.session_id(), first.session_password());
    // The server drops `first`'s connection once `second` takes the session;
    // `first` must not reconnect and take it back meanwhile (nothing listens on port 9).
    first.set_hosts("127.0.0.1:9").unwrap();
    let second = Client::builder(&srv.hosts())
        .session_timeout(Duration::from_secs(4))
        .session(id, password)
        .connect()
        .await
        .unwrap();
    assert_eq!(second.session_id(), id);
    // The ephemeral belongs to the one session both clients now name.
    assert_eq!(second.exists("/resumed").await.unwrap().map(|s| s.ephemeral_owner), Some(id));
    assert!(second.get_ephemerals("/").await.unwrap().contains(&"/resumed".to_string()));
    second.close().await;
    drop(first);
    // A closed session cannot be resumed: no new session is made in its place.
    let err = Client::builder(&srv.hosts())
        .session_timeout(Duration::from_secs(4))
        .connection_timeout(T)
        .session(id, password)
        .connect()
        .await
        .err()
        .expect("an expired session does not resume");
    assert_eq!(err.code, Code::SessionExpired);
    // A wrong password is refused the same way, as ZooKeeper does.
    let other = srv.client().await;
    let mut wrong = other.session_password();
    wrong[0] ^= 0xff;
    let err = Client::builder(&srv.hosts())
        .session_timeout(Duration::from_secs(4))
        .connection_timeout(T)
        .session(other.session_id(), wrong)
        .connect()
        .await
        .err()
        .expect("a wrong password does not resume");
    assert_eq!(err.code, Code::SessionExpired);
    other.close().await;
});

both_servers!(hosts_in_the_given_order_when_not_randomized, |srv: TestServer| async move {
    let other = TestServer::start(srv.kind).await;
    for (first, second) in [(&srv, &other), (&other, &srv)] {
        let hosts = format!("{},{}", first.hosts(), second.hosts());
        for _ in 0..4 {
            let zk = Client::builder(&hosts).randomize_hosts(false).connect().await.unwrap();
            assert_eq!(zk.connected_host(), Some(first.hosts()), "the first server of {hosts}");
            zk.close().await;
        }
    }
    // Shuffled (the default), 24 clients all land on one server with odds of 1 in 2^23.
    let hosts = format!("{},{}", srv.hosts(), other.hosts());
    let mut seen = std::collections::HashSet::new();
    for _ in 0..24 {
        let zk = Client::connect(&hosts).await.unwrap();
        seen.insert(zk.connected_host());
        zk.close().await;
    }
    assert_eq!(seen.len(), 2, "shuffled hosts spread the clients: {seen:?}");
});

both_servers!(set_hosts_moves_the_next_connection, |srv: TestServer| async move {
    let mut srv = srv;
    let zk = srv.client().await;
    assert_eq!(zk.connected_host(), Some(srv.hosts()));
    assert_eq!(zk.set_hosts("127.0.0.1:0").unwrap_err().code, Code::BadArguments);
    assert_eq!(zk.set_hosts(",").unwrap_err().code, Code::BadArguments);
    let chroot = format!("{}/elsewhere", srv.hosts());
    assert_eq!(zk.set_hosts(&chroot).unwrap_err().code, Code::BadArguments);
    let other = TestServer::start(srv.kind).await;
    // A server refuses a client that has seen a newer zxid than its own:
    // give the other one a longer history first.
    let writer = other.client().await;
    for i in 0..20 {
        writer.create(&format!("/w{i}"), b"", &CreateOptions::default()).await.unwrap();
    }
    writer.close().await;
    zk.set_hosts(&other.hosts()).unwrap();
    // The current connection stays until it breaks.
    assert_eq!(zk.connected_host(), Some(srv.hosts()));
    zk.create("/still-here", b"", &CreateOptions::default()).await.unwrap();
    srv.stop().await;
    assert!(eventually(Duration::from_secs(30), || zk.connected_host() == Some(other.hosts())).await);
    // The other server never saw the first session: a new one serves there.
    assert!(eventually(T, || zk.state() == State::Reconnected).await);
    assert_eq!(zk.exists("/still-here").await.unwrap(), None);
    zk.close().await;
    assert_eq!(zk.connected_host(), None);
});

both_servers!(reconfig_on_a_standalone_server_is_refused, |srv: TestServer| async move {
    let zk = srv.client().await;
    let e = zk.reconfig(None, Some("1"), None, -1).await.unwrap_err();
    assert_eq!(e.code, Code::ReconfigDisabled, "{e}");
    zk.close().await;
});
