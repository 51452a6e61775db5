//! Ensemble tests of the replication layer: three members on loopback with
//! real sockets and real files, the counter state machine of `tests`.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use super::tests::{add, Counters};
use super::*;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Cluster {
    dir: tempfile::TempDir,
    members: BTreeMap<u64, Member>,
    nodes: BTreeMap<u64, (Replica<Counters>, Arc<RwLock<Counters>>)>,
}

fn options(dir: &Path, id: u64, snap_count: u64) -> ReplicaOptions {
    ReplicaOptions {
        node_id: id,
        data_dir: dir.join(format!("n{id}/data")),
        log_dir: dir.join(format!("n{id}/log")),
        snap_count,
        snap_retain_count: 3,
        purge_interval: None,
        lock_wait: Duration::from_millis(300),
    }
}

impl Cluster {
    fn new(voters: u64, learners: u64) -> Cluster {
        // RUST_LOG=openraft=debug shows what the members do.
        let _ = tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).try_init();
        let mut members = BTreeMap::new();
        for id in 1..=voters + learners {
            members.insert(id, Member { addr: format!("127.0.0.1:{}", free_port()), voter: id <= voters });
        }
        Cluster { dir: tempfile::tempdir().unwrap(), members, nodes: BTreeMap::new() }
    }

    async fn start(&mut self, id: u64, snap_count: u64) {
        let sm: Arc<RwLock<Counters>> = Arc::default();
        let ens = EnsembleOptions {
            members: self.members.clone(),
            listen: self.members[&id].addr.parse().unwrap(),
            heartbeat: Duration::from_millis(50),
            election_timeout: Duration::from_millis(300),
            quorum_lease: Duration::from_millis(1000),
        };
        let r = Replica::open_member(options(self.dir.path(), id, snap_count), sm.clone(), ens).await.unwrap();
        self.nodes.insert(id, (r, sm));
    }

    async fn stop(&mut self, id: u64) {
        let (r, _) = self.nodes.remove(&id).unwrap();
        r.shutdown().await.unwrap();
    }

    async fn leader(&self) -> u64 {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some((id, _)) = self.nodes.iter().find(|(_, (r, _))| r.role() == Role::Leader) {
                return *id;
            }
            assert!(Instant::now() < deadline, "no leader elected");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn value(&self, id: u64, key: &str) -> u64 {
        self.nodes[&id].1.read().values.get(key).copied().unwrap_or(0)
    }

    async fn converge(&self, key: &str, want: u64) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.nodes.keys().any(|id| self.value(*id, key) != want) {
            if Instant::now() >= deadline {
                let seen: Vec<_> =
                    self.nodes.iter().map(|(id, (r, _))| (*id, self.value(*id, key), r.role(), r.stats())).collect();
                panic!("members did not converge on {key}={want}: {seen:#?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_from_every_member_replicate_and_survive_the_loss_of_the_leader() {
    let mut c = Cluster::new(3, 0);
    for id in 1..=3 {
        c.start(id, 100_000).await;
    }
    let leader = c.leader().await;
    let stats = c.nodes[&leader].0.ensemble_stats();
    assert_eq!(stats.voters.len(), 3);
    // A write through each member: followers forward to the leader, and
    // answer once the write is applied locally.
    for id in 1..=3 {
        let (index, out) = c.nodes[&id].0.propose(add("x", 1)).await.unwrap();
        assert_eq!(c.value(id, "x"), out);
        assert!(c.nodes[&id].1.read().last >= index);
    }
    c.converge("x", 3).await;
    // sync on a follower reaches the leader's commit point.
    let follower = (1..=3).find(|id| *id != leader).unwrap();
    let synced = c.nodes[&follower].0.sync().await.unwrap();
    assert!(synced >= c.nodes[&leader].0.stats().last_applied.unwrap() - 1);

    c.stop(leader).await;
    let new_leader = c.leader().await;
    assert_ne!(new_leader, leader);
    for id in c.nodes.keys().copied().collect::<Vec<_>>() {
        c.nodes[&id].0.propose(add("x", 10)).await.unwrap();
    }
    c.converge("x", 23).await;
    // The old leader comes back as a follower and catches up.
    c.start(leader, 100_000).await;
    c.converge("x", 23).await;
    for id in 1..=3 {
        c.stop(id).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_far_behind_member_catches_up_from_a_snapshot_and_observers_never_vote() {
    let mut c = Cluster::new(3, 1);
    for id in [1, 2, 4] {
        c.start(id, 50).await;
    }
    let leader = c.leader().await;
    for i in 0..400u64 {
        c.nodes[&leader].0.propose(add(format!("k{}", i % 7), 1)).await.unwrap();
    }
    // Node 3 has never run: the log it needs is purged, so it gets a snapshot.
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.nodes[&leader].0.stats().snapshot_index.unwrap_or(0) < 300 {
        assert!(Instant::now() < deadline, "leader took no snapshot");
        c.nodes[&leader].0.propose(add("tick", 1)).await.unwrap();
    }
    c.start(3, 50).await;
    let want = c.value(leader, "k0");
    c.converge("k0", want).await;
    let stats = c.nodes[&leader].0.ensemble_stats();
    assert_eq!(stats.learners.keys().copied().collect::<Vec<_>>(), vec![4]);
    assert_eq!(c.nodes[&4].0.role(), Role::Observer);
    // An observer forwards writes too.
    c.nodes[&4].0.propose(add("obs", 5)).await.unwrap();
    c.converge("obs", 5).await;
    for id in 1..=4 {
        c.stop(id).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_follower_catches_up_after_the_leader_purged_its_log_even_across_a_leader_restart() {
    let mut c = Cluster::new(3, 0);
    for id in 1..=3 {
        c.start(id, 50).await;
    }
    let mut leader = c.leader().await;
    let mut written = 0;
    for round in 0..2 {
        for _ in 0..300 {
            c.nodes[&leader].0.propose(add("k", 1)).await.unwrap();
            written += 1;
        }
        c.converge("k", written).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        while c.nodes[&leader].0.stats().purged_index.unwrap_or(0) < 100 * (round + 1) {
            assert!(Instant::now() < deadline, "leader did not purge its log");
            c.nodes[&leader].0.propose(add("k", 1)).await.unwrap();
            written += 1;
        }
        // The follower loses everything (a replaced disk) and comes back empty.
        let follower = (1..=3).find(|id| *id != leader).unwrap();
        c.stop(follower).await;
        std::fs::remove_dir_all(c.dir.path().join(format!("n{follower}"))).unwrap();
        c.start(follower, 50).await;
        c.nodes[&leader].0.propose(add("k", 1)).await.unwrap();
        written += 1;
        c.converge("k", written).await;
        if round == 0 {
            // Second round: the leader restarts first, so its purge point
            // comes from its own files rather than from memory.
            c.stop(leader).await;
            c.start(leader, 50).await;
            leader = c.leader().await;
        }
    }
    for id in 1..=3 {
        c.stop(id).await;
    }
}
