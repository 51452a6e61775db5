//! The embedding kit's in-process server in each mode: ephemeral, durable,
//! from a `zoo.cfg`, as a member of an ensemble; and its bad input.

use std::time::{Duration, Instant};

use corral::client::{Client, CreateOptions, State};
use corral::embedded::{EmbedError, EmbeddedServer, ServerBuilder};
use corral::proto::CreateMode;
use corral::replication::Role;
use corral::server::config::ConfigError;
use corral::server::ServerError;

const T: Duration = Duration::from_secs(10);

async fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + T;
    while !f() {
        assert!(Instant::now() < deadline, "{what} did not happen within {T:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn invalid_key(err: &EmbedError) -> Option<&str> {
    match err {
        EmbedError::Config(ConfigError::InvalidValue { key, .. }) => Some(key),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_server_on_loopback_with_a_temporary_directory() {
    let server = EmbeddedServer::start().await.unwrap();
    assert!(server.is_running());
    assert_eq!(server.role(), Some(Role::Standalone));
    assert!(server.local_addr().ip().is_loopback());
    assert_ne!(server.port(), 0);
    assert_eq!(server.connect_string(), format!("127.0.0.1:{}", server.port()));
    let dir = server.data_dir().to_path_buf();
    assert!(dir.exists());
    let zk = Client::connect(&server.connect_string()).await.unwrap();
    zk.create("/x", b"1", &CreateOptions::default()).await.unwrap();
    zk.close().await;
    let other = EmbeddedServer::start().await.unwrap();
    assert_ne!(other.port(), server.port());
    assert_ne!(other.data_dir(), server.data_dir());
    server.close().await.unwrap();
    assert!(!dir.exists(), "the temporary directory outlived close");
    other.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durable_server_restarts_on_the_same_port_with_its_data_and_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = ServerBuilder::new().data_dir(dir.path()).option("tickTime", "200").start().await.unwrap();
    let port = server.port();
    let zk = Client::builder(&server.connect_string()).session_timeout(Duration::from_secs(5)).connect().await.unwrap();
    let mut states = zk.state_changes();
    zk.create("/durable", b"kept", &CreateOptions::default()).await.unwrap();
    zk.create("/eph", b"", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    let sid = zk.session_id();
    server.stop().await.unwrap();
    assert!(!server.is_running());
    assert_eq!(server.role(), None);
    assert_eq!(server.port(), port, "a stopped server keeps its port");
    server.serve().await.unwrap();
    assert_eq!(server.port(), port);
    loop {
        if tokio::time::timeout(T, states.recv()).await.unwrap().unwrap() == State::Reconnected {
            break;
        }
    }
    assert_eq!(zk.session_id(), sid, "the session survived the restart");
    assert_eq!(zk.get_data("/durable").await.unwrap().0, b"kept");
    assert!(zk.exists("/eph").await.unwrap().is_some());
    server.restart().await.unwrap();
    assert_eq!(server.port(), port);
    zk.close().await;
    server.close().await.unwrap();
    // A fresh server on the same directory and port sees the same data; the
    // caller's directory is never removed.
    assert!(dir.path().join("version-2").exists());
    let again = ServerBuilder::new().data_dir(dir.path()).client_port(port).start().await.unwrap();
    let zk = Client::connect(&again.connect_string()).await.unwrap();
    assert_eq!(zk.get_data("/durable").await.unwrap().0, b"kept");
    zk.close().await;
    again.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_from_a_zoo_cfg_file_with_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("zoo.cfg");
    std::fs::write(
        &cfg,
        format!(
            "tickTime=500\ndataDir={}\nclientPort=0\nclientPortAddress=0.0.0.0\nsomeUnknownKey=ignored\n",
            dir.path().join("d").display()
        ),
    )
    .unwrap();
    let server = ServerBuilder::new().config_file(&cfg).option("maxClientCnxns", "7").start().await.unwrap();
    assert_eq!(server.config().tick_time_ms, 500);
    assert_eq!(server.config().connections_per_address_max, 7);
    assert_eq!(server.config().ignored_keys, ["someUnknownKey"]);
    assert_eq!(server.data_dir(), dir.path().join("d"));
    assert!(server.local_addr().ip().is_unspecified());
    // Listening everywhere: clients are pointed at loopback.
    assert_eq!(server.connect_string(), format!("127.0.0.1:{}", server.port()));
    let zk =
        Client::builder(&server.connect_string()).session_timeout(Duration::from_millis(100)).connect().await.unwrap();
    assert_eq!(zk.session_timeout(), Duration::from_secs(1), "minSessionTimeout is 2 x tickTime");
    zk.close().await;
    server.close().await.unwrap();
    assert!(dir.path().join("d").exists(), "a configured data directory is never removed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_of_an_ensemble_from_server_id_and_peers() {
    let ports: Vec<u16> = (0..6)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0").unwrap())
        .collect::<Vec<_>>()
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let spec = |i: usize| format!("127.0.0.1:{}:{};127.0.0.1:{}", ports[2 + 2 * i], ports[3 + 2 * i], ports[i]);
    let member = |i: usize| {
        ServerBuilder::new()
            .data_dir(dirs[i].path())
            .option("tickTime", "100")
            .server_id(i as u64 + 1)
            .peer(1, spec(0))
            .peer(2, spec(1))
    };
    let (a, b) = tokio::join!(member(0).start(), member(1).start());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!((a.port(), b.port()), (ports[0], ports[1]), "the client port comes from server.N");
    wait_for("one leader and one follower", || {
        let mut roles = [a.role(), b.role()];
        roles.sort_by_key(|r| r.map(Role::name));
        roles == [Some(Role::Follower), Some(Role::Leader)]
    })
    .await;
    let zk = Client::connect(&format!("{},{}", a.connect_string(), b.connect_string())).await.unwrap();
    zk.create("/replicated", b"r", &CreateOptions::default()).await.unwrap();
    zk.close().await;
    a.close().await.unwrap();
    b.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_name_their_key() {
    let err = ServerBuilder::new().option("tickTime", "soon").build().unwrap_err();
    assert_eq!(invalid_key(&err), Some("tickTime"), "{err}");
    let err = ServerBuilder::new().option("zookeeper.maxClientCnxns", "-1").config().unwrap_err();
    assert_eq!(invalid_key(&err), Some("zookeeper.maxClientCnxns"), "{err}");
    let err = ServerBuilder::new().server_id(1).peer(1, "127.0.0.1:notaport:1").peer(2, "h:1:2").config().unwrap_err();
    assert_eq!(invalid_key(&err), Some("server.1"), "{err}");
    let err = ServerBuilder::new()
        .option("minSessionTimeout", "9000")
        .option("maxSessionTimeout", "5000")
        .config()
        .unwrap_err();
    assert!(matches!(err, EmbedError::Config(ConfigError::SessionTimeoutRange { .. })), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.cfg");
    let err = ServerBuilder::new().config_file(&missing).start().await.unwrap_err();
    assert!(matches!(err, EmbedError::Config(ConfigError::Read { ref path, .. }) if *path == missing), "{err}");
    let bad = dir.path().join("zoo.cfg");
    std::fs::write(&bad, "tickTime=-5\n").unwrap();
    let err = ServerBuilder::new().config_file(&bad).start().await.unwrap_err();
    assert_eq!(invalid_key(&err), Some("tickTime"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_failures_are_server_errors() {
    let first = EmbeddedServer::start().await.unwrap();
    let err = ServerBuilder::new().client_port(first.port()).start().await.err().unwrap();
    assert!(
        matches!(err, EmbedError::Server(ServerError::Bind { ref addr, .. }) if addr.ends_with(&format!(":{}", first.port()))),
        "{err}"
    );
    first.close().await.unwrap();
    // A myid that no server.N line names is found when the member starts.
    let dir = tempfile::tempdir().unwrap();
    let err = ServerBuilder::new()
        .data_dir(dir.path())
        .server_id(9)
        .peer(1, "127.0.0.1:2888:3888")
        .peer(2, "127.0.0.1:2889:3889")
        .start()
        .await
        .err()
        .unwrap();
    assert!(matches!(err, EmbedError::Server(ServerError::Config(_))), "{err}");
    // A data directory that is a file.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "").unwrap();
    let err = ServerBuilder::new().data_dir(&file).start().await.err().unwrap();
    assert!(matches!(err, EmbedError::Server(ServerError::DataDir { .. })), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_server_shuts_it_down_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerBuilder::new().data_dir(dir.path()).start().await.unwrap();
    let port = server.port();
    let zk = Client::connect(&server.connect_string()).await.unwrap();
    zk.create("/before-drop", b"", &CreateOptions::default()).await.unwrap();
    let mut states = zk.state_changes();
    drop(server);
    assert_eq!(tokio::time::timeout(T, states.recv()).await.unwrap().unwrap(), State::Suspended);
    zk.close().await;
    // The port and the log are released once the background shutdown ends.
    let deadline = Instant::now() + T;
    let again = loop {
        match ServerBuilder::new().data_dir(dir.path()).client_port(port).start().await {
            Ok(s) => break s,
            Err(e) => assert!(Instant::now() < deadline, "no restart after drop: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let zk = Client::connect(&again.connect_string()).await.unwrap();
    assert!(zk.exists("/before-drop").await.unwrap().is_some());
    zk.close().await;
    again.close().await.unwrap();
}
