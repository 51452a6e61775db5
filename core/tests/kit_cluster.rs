//! TestCluster: failover after the leader is killed, a restarted member
//! catching up, observers serving reads, and its bad input.

use std::time::{Duration, Instant};

use corral::client::{Client, CreateOptions};
use corral::embedded::{EmbedError, TestCluster};
use corral::proto::{Code, CreateMode};
use corral::replication::Role;

const T: Duration = Duration::from_secs(20);

/// Retries a write while the ensemble elects (ConnectionLoss, no quorum yet).
async fn create_eventually(zk: &Client, path: &str, data: &[u8]) {
    let deadline = Instant::now() + T;
    loop {
        match zk.create(path, data, &CreateOptions::default()).await {
            Ok(_) => return,
            Err(e) if e.is_retryable() && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await
            }
            Err(e) => panic!("create {path}: {e}"),
        }
    }
}

async fn member_client(cluster: &TestCluster, i: usize) -> Client {
    Client::connect(&format!("127.0.0.1:{}", cluster.port(i).unwrap())).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_after_the_leader_is_killed() {
    let cluster = TestCluster::builder().voters(3).start().await.unwrap();
    assert_eq!(cluster.member_count(), 3);
    let mut modes = Vec::new();
    for i in 0..3 {
        modes.push(cluster.mode(i).await.unwrap());
    }
    modes.sort_by_key(|m| m.map(Role::name));
    assert_eq!(modes, [Some(Role::Follower), Some(Role::Follower), Some(Role::Leader)]);
    let zk =
        Client::builder(&cluster.connect_string()).session_timeout(Duration::from_secs(5)).connect().await.unwrap();
    zk.create("/before", b"1", &CreateOptions::default()).await.unwrap();
    zk.create("/eph", b"", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    let session = zk.session_id();
    let old = cluster.leader(T).await.unwrap();
    cluster.kill(old).await.unwrap();
    assert!(!cluster.is_running(old).await.unwrap());
    assert_eq!(cluster.mode(old).await.unwrap(), None);
    let new = cluster.leader(T).await.unwrap();
    assert_ne!(new, old);
    create_eventually(&zk, "/after", b"2").await;
    assert_eq!(zk.session_id(), session, "the session moved to another member");
    assert_eq!(zk.get_data("/before").await.unwrap().0, b"1");
    assert!(zk.exists("/eph").await.unwrap().is_some());
    zk.close().await;
    cluster.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_member_catches_up() {
    let cluster = TestCluster::builder().voters(3).start().await.unwrap();
    let leader = cluster.leader(T).await.unwrap();
    let behind = (leader + 1) % 3;
    cluster.kill(behind).await.unwrap();
    let zk = Client::connect(&format!("127.0.0.1:{}", cluster.port(leader).unwrap())).await.unwrap();
    for i in 0..20 {
        create_eventually(&zk, &format!("/missed-{i}"), b"m").await;
    }
    cluster.restart(behind).await.unwrap();
    assert!(cluster.is_running(behind).await.unwrap());
    let direct = member_client(&cluster, behind).await;
    direct.sync("/").await.unwrap();
    assert_eq!(direct.get_data("/missed-19").await.unwrap().0, b"m");
    assert_eq!(direct.get_children("/").await.unwrap().iter().filter(|c| c.starts_with("missed-")).count(), 20);
    // Killing the leader too leaves a quorum that includes the restarted member.
    cluster.kill(leader).await.unwrap();
    assert_ne!(cluster.leader(T).await.unwrap(), leader);
    create_eventually(&direct, "/after-second-kill", b"").await;
    direct.close().await;
    zk.close().await;
    cluster.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_serve_reads() {
    let cluster = TestCluster::builder().voters(3).observers(1).start().await.unwrap();
    assert_eq!(cluster.member_count(), 4);
    assert_eq!(cluster.mode(3).await.unwrap(), Some(Role::Observer));
    let leader = cluster.leader(T).await.unwrap();
    let writer = member_client(&cluster, leader).await;
    writer.create("/from-leader", b"w", &CreateOptions::default()).await.unwrap();
    let reader = member_client(&cluster, 3).await;
    reader.sync("/from-leader").await.unwrap();
    assert_eq!(reader.get_data("/from-leader").await.unwrap().0, b"w");
    // Writes through the observer are forwarded to the leader.
    reader.create("/via-observer", b"o", &CreateOptions::default()).await.unwrap();
    writer.sync("/via-observer").await.unwrap();
    assert_eq!(writer.get_data("/via-observer").await.unwrap().0, b"o");
    // An observer is not a voter: with one voter down the others still elect.
    cluster.kill(leader).await.unwrap();
    assert_ne!(cluster.leader(T).await.unwrap(), 3);
    reader.close().await;
    writer.close().await;
    cluster.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused() {
    assert!(matches!(TestCluster::builder().voters(0).observers(2).build(), Err(EmbedError::NoVoters)));
    let bad_option = TestCluster::builder().voters(1).option("syncLimit", "often").build();
    assert!(matches!(bad_option, Err(EmbedError::Config(_))));

    let cluster = TestCluster::builder().voters(1).start().await.unwrap();
    assert_eq!(cluster.mode(0).await.unwrap(), Some(Role::Leader));
    assert!(matches!(cluster.mode(1).await, Err(EmbedError::NoMember { index: 1, members: 1 })));
    assert!(matches!(cluster.kill(7).await, Err(EmbedError::NoMember { index: 7, .. })));
    assert!(matches!(cluster.port(1), Err(EmbedError::NoMember { .. })));
    // A lone voter killed: no leader to find, in bounded time.
    cluster.kill(0).await.unwrap();
    let waited = cluster.leader(Duration::from_millis(200)).await;
    assert!(matches!(waited, Err(EmbedError::Timeout { .. })), "{waited:?}");
    cluster.close().await.unwrap();
    cluster.close().await.unwrap();
    assert!(matches!(cluster.mode(0).await, Err(EmbedError::Closed)));
    assert!(matches!(cluster.restart(0).await, Err(EmbedError::Closed)));
    assert!(matches!(cluster.serve(T).await, Err(EmbedError::Closed)));
    assert!(matches!(cluster.port(0), Err(EmbedError::Closed)));
    assert!(matches!(cluster.leader(T).await, Err(EmbedError::Closed)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_without_quorum_refuses_writes() {
    let cluster = TestCluster::builder().voters(3).tick_ms(100).start().await.unwrap();
    let leader = cluster.leader(T).await.unwrap();
    let survivor = (leader + 1) % 3;
    for i in 0..3 {
        if i != survivor {
            cluster.kill(i).await.unwrap();
        }
    }
    let waited = cluster.leader(Duration::from_secs(1)).await;
    assert!(matches!(waited, Err(EmbedError::Timeout { .. })), "{waited:?}");
    assert_eq!(cluster.mode(survivor).await.unwrap(), None, "a lone voter of three knows no leader");
    let connected = Client::builder(&format!("127.0.0.1:{}", cluster.port(survivor).unwrap()))
        .connection_timeout(Duration::from_millis(500))
        .session_timeout(Duration::from_secs(2))
        .connect()
        .await;
    assert!(matches!(connected, Err(ref e) if e.code == Code::ConnectionLoss), "{:?}", connected.err());
    cluster.close().await.unwrap();
}
