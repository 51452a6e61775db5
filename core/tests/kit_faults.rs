//! Faults on purpose, against corral and Apache ZooKeeper 3.8 alike: the
//! relay drops connections, keeps clients out and expires sessions; a
//! client's session expires directly through the protocol.

mod support;

use std::time::Duration;

use corral::client::{Client, CreateOptions, State};
use corral::embedded::{close_session, expire_session, EmbedError, FaultRelay};
use corral::proto::{Code, CreateMode};
use support::{eventually, TestServer};

const T: Duration = Duration::from_secs(10);

async fn next_state(states: &mut tokio::sync::broadcast::Receiver<State>) -> State {
    tokio::time::timeout(T, states.recv()).await.expect("a state change in time").expect("state stream")
}

async fn relayed_client(relay: &FaultRelay) -> Client {
    Client::builder(&relay.connect_string()).session_timeout(Duration::from_secs(4)).connect().await.unwrap()
}

both_servers!(dropped_connections_resume_the_session, |srv: TestServer| async move {
    let relay = FaultRelay::start(&srv.hosts()).await.unwrap();
    assert_eq!(relay.upstream(), srv.hosts());
    let zk = relayed_client(&relay).await;
    let mut states = zk.state_changes();
    let sid = zk.session_id();
    assert_eq!(relay.password(sid).as_deref(), Some(&zk.session_password()[..]));
    relay.drop_connections();
    assert_eq!(next_state(&mut states).await, State::Suspended);
    assert_eq!(next_state(&mut states).await, State::Reconnected);
    assert_eq!(zk.session_id(), sid);
    assert!(zk.exists("/").await.unwrap().is_some());
    zk.close().await;
    relay.close();
});

both_servers!(a_blocked_client_fails_fast_then_comes_back, |srv: TestServer| async move {
    let relay = FaultRelay::start(&srv.hosts()).await.unwrap();
    let zk = relayed_client(&relay).await;
    let mut states = zk.state_changes();
    relay.block();
    assert!(relay.is_blocked());
    assert_eq!(next_state(&mut states).await, State::Suspended);
    assert_eq!(zk.get_data("/").await.unwrap_err().code, Code::ConnectionLoss);
    // New clients are kept out too.
    let refused = Client::builder(&relay.connect_string()).connection_timeout(Duration::from_millis(300)).connect();
    assert!(tokio::time::timeout(Duration::from_secs(2), refused).await.map_or(true, |r| r.is_err()));
    relay.unblock();
    assert_eq!(next_state(&mut states).await, State::Reconnected);
    zk.get_data("/").await.unwrap();
    zk.close().await;
});

both_servers!(the_relay_expires_a_session, |srv: TestServer| async move {
    let relay = FaultRelay::start(&srv.hosts()).await.unwrap();
    let zk = relayed_client(&relay).await;
    zk.create("/eph", b"", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    let old = zk.session_id();
    let mut states = zk.state_changes();
    assert!(relay.expire(old).await.unwrap(), "the session was live");
    let mut seen = Vec::new();
    while !seen.contains(&State::Lost) {
        seen.push(next_state(&mut states).await);
    }
    assert!(eventually(T, || zk.session_id() != 0 && zk.session_id() != old).await);
    assert!(zk.exists("/eph").await.unwrap().is_none(), "the ephemeral went with the session");
    assert!(!relay.expire(old).await.unwrap(), "an expired session is gone already");
    zk.close().await;
});

both_servers!(a_client_session_expires_directly, |srv: TestServer| async move {
    let zk = srv.client_with(Duration::from_secs(4)).await;
    zk.create("/eph", b"", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    let old = zk.session_id();
    let new = expire_session(&zk, &srv.hosts(), T).await.unwrap();
    assert_ne!(new, old);
    assert_eq!(zk.session_id(), new);
    assert_ne!(zk.state(), State::Lost);
    assert!(zk.exists("/eph").await.unwrap().is_none());
    zk.close().await;
});

both_servers!(fault_bad_input_is_refused, |srv: TestServer| async move {
    let relay = FaultRelay::start(&srv.hosts()).await.unwrap();
    assert!(matches!(relay.expire(0x1234).await, Err(EmbedError::UnknownSession(0x1234))));
    assert!(matches!(FaultRelay::start("").await.err(), Some(EmbedError::BadAddress(_))));
    assert!(matches!(close_session("/just-a-chroot", 1, &[0; 16]).await, Err(EmbedError::BadAddress(_))));
    // A session nobody has: the server says so, nothing is closed.
    assert!(!close_session(&srv.hosts(), 0x7777_0000_0000_0001, &[0; 16]).await.unwrap());
    // Nothing listens on the relay's port once it is closed.
    let addr = relay.local_addr();
    relay.close();
    drop(relay);
    assert!(eventually(T, || std::net::TcpStream::connect(addr).is_err()).await);
});
