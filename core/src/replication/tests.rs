//! Replica tests: a tiny counter state machine on real files in temporary
//! directories, with real fsyncs; restarts are shutdown + reopen with a fresh
//! state machine. Plus openraft's own storage conformance suite.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imbl::OrdMap;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};

use super::types::{encode, Blob, Entry, LogId, TypeConfig, Vote};
use super::*;
use crate::storage::wal::SEGMENT_BYTES_MIN;
use crate::storage::{SnapshotStore, Wal, WalOptions};

/// Adds to named counters; the output is the counter's new value.
#[derive(Default)]
pub(super) struct Counters {
    pub(super) values: OrdMap<String, u64>,
    pub(super) last: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) enum Cmd {
    Add { key: String, delta: u64 },
}

pub(super) fn add(key: impl Into<String>, delta: u64) -> Cmd {
    Cmd::Add { key: key.into(), delta }
}

impl StateMachine for Counters {
    type Command = Cmd;
    type Output = u64;

    fn apply(&mut self, index: u64, cmd: &Cmd) -> u64 {
        self.last = index;
        let Cmd::Add { key, delta } = cmd;
        let v = self.values.get(key).copied().unwrap_or(0) + delta;
        self.values.insert(key.clone(), v);
        v
    }

    fn apply_other(&mut self, index: u64) {
        self.last = index;
    }

    fn last_applied(&self) -> u64 {
        self.last
    }

    fn capture(&self) -> crate::replication::SnapshotJob {
        let state = (self.last, self.values.clone());
        Box::new(move |w: &mut dyn Write| bincode::serialize_into(w, &state).map_err(io::Error::other))
    }

    fn restore(&mut self, index: u64, r: &mut dyn Read) -> io::Result<()> {
        let (last, values): (u64, OrdMap<String, u64>) = bincode::deserialize_from(r).map_err(io::Error::other)?;
        if last != index {
            return Err(io::Error::other(format!("snapshot of {last} restored as {index}")));
        }
        self.last = last;
        self.values = values;
        Ok(())
    }
}

type Sm = Arc<RwLock<Counters>>;

fn options(dir: &Path, snap_count: u64) -> ReplicaOptions {
    ReplicaOptions {
        node_id: 1,
        data_dir: dir.join("data"),
        log_dir: dir.join("log"),
        snap_count,
        snap_retain_count: 3,
        purge_interval: None,
        lock_wait: Duration::from_millis(300),
    }
}

async fn open(opts: &ReplicaOptions) -> Result<(Replica<Counters>, Sm), ReplicationError> {
    let sm: Sm = Arc::default();
    let replica = Replica::open_with(opts.clone(), sm.clone(), SEGMENT_BYTES_MIN, None).await?;
    Ok((replica, sm))
}

fn state(sm: &Sm) -> (u64, BTreeMap<String, u64>) {
    let g = sm.read();
    (g.last, g.values.iter().map(|(k, v)| (k.clone(), *v)).collect())
}

/// Proposes `n` adds over 10 keys, one at a time; returns the last index.
async fn propose_n(replica: &Replica<Counters>, n: u64) -> u64 {
    let mut last = 0;
    for i in 0..n {
        let (index, _) = replica.propose(add(format!("k{}", i % 10), i)).await.unwrap();
        assert!(index > last);
        last = index;
    }
    last
}

/// Keeps proposing (openraft decides on snapshots as entries commit) until
/// `cond` holds; returns the last index proposed (or `last`).
async fn write_until(replica: &Replica<Counters>, mut last: u64, what: &str, mut cond: impl FnMut() -> bool) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        last = replica.propose(add("tick", 1)).await.unwrap().0;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    last
}

fn numbered(dir: &Path, prefix: &str) -> Vec<u64> {
    let mut out: Vec<u64> = fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix(prefix)?.parse().ok())
        .collect();
    out.sort();
    out
}

fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    numbered(dir, prefix).into_iter().map(|i| dir.join(format!("{prefix}{i:020}"))).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_proposals_get_increasing_indexes_and_right_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (replica, sm) = open(&options(dir.path(), 1000)).await.unwrap();
    assert!(replica.is_leader());
    let replica = Arc::new(replica);
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let r = replica.clone();
            tokio::spawn(async move { r.propose(add("k", 1)).await.unwrap() })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    results.sort();
    for (rank, (index, output)) in results.iter().enumerate() {
        assert_eq!(*output, rank as u64 + 1, "outputs follow log order");
        if rank > 0 {
            assert!(*index > results[rank - 1].0, "indexes strictly increase");
        }
    }
    let (last, values) = state(&sm);
    assert_eq!(values["k"], 200);
    assert_eq!(last, results.last().unwrap().0);
    let stats = replica.stats();
    assert_eq!(stats.last_applied, Some(last));
    assert_eq!(stats.last_log_index, Some(last));
    assert!(stats.log_dir_bytes > 0);
    replica.shutdown().await.unwrap();
    assert!(!replica.is_leader());
    assert!(matches!(replica.propose(add("k", 1)).await, Err(ReplicationError::ShutDown)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_without_snapshot_recovers_state_and_indexes_continue() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), 1000);
    let (replica, sm) = open(&opts).await.unwrap();
    let mut last = propose_n(&replica, 120).await;
    let mut before = state(&sm);
    replica.shutdown().await.unwrap();

    for round in 0..2 {
        let (replica, sm) = open(&opts).await.unwrap();
        let now = state(&sm);
        assert_eq!(now.1, before.1, "round {round}: same counters");
        assert!(now.0 >= before.0, "round {round}: every recovered entry applied");
        assert_eq!(replica.stats().snapshot_index, None);
        let (index, value) = replica.propose(add("k0", 1)).await.unwrap();
        assert!(index > last, "round {round}: index {index} after {last}");
        assert_eq!(value, before.1["k0"] + 1);
        last = index;
        before = state(&sm);
        replica.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_are_taken_old_ones_deleted_and_the_log_purged() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), 20);
    opts.purge_interval = Some(Duration::from_millis(50));
    let (replica, sm) = open(&opts).await.unwrap();
    let last = propose_n(&replica, 200).await;
    let data = opts.data_dir.clone();
    let log = opts.log_dir.clone();
    let last = write_until(&replica, last, "three snapshots left and the log purged", || {
        numbered(&data, "snapshot.").len() == 3 && numbered(&log, "log.").first().is_some_and(|f| *f > 0)
    })
    .await;
    // The log still reaches back to the oldest snapshot kept.
    let segs = numbered(&log, "log.");
    let snaps = numbered(&data, "snapshot.");
    assert!(segs[0] <= snaps[0] + 1, "segments {segs:?}, snapshots {snaps:?}");
    let stats = replica.stats();
    assert!(stats.snapshot_index.is_some());
    assert!(stats.data_dir_bytes > 0);
    let before = state(&sm);
    replica.shutdown().await.unwrap();

    let (replica, sm) = open(&opts).await.unwrap();
    assert_eq!(state(&sm).1, before.1);
    assert!(replica.stats().snapshot_index.is_some());
    let (index, _) = replica.propose(add("k1", 5)).await.unwrap();
    assert!(index > last);
    replica.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_restores_from_snapshot_then_replays_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), 30);
    let (replica, sm) = open(&opts).await.unwrap();
    let last = propose_n(&replica, 100).await;
    let last =
        write_until(&replica, last, "a second snapshot", || numbered(&opts.data_dir, "snapshot.").len() >= 2).await;
    let before = state(&sm);
    replica.shutdown().await.unwrap();
    let (replica, sm) = open(&opts).await.unwrap();
    assert_eq!(state(&sm).1, before.1);
    assert!(replica.stats().snapshot_index.is_some_and(|s| s >= 30 && s <= last));
    replica.shutdown().await.unwrap();

    // A damaged newest snapshot: fall back to an older one and the log kept for it.
    let snaps = files(&opts.data_dir, "snapshot.");
    assert!(snaps.len() >= 2);
    let newest = snaps.last().unwrap();
    let mut bytes = fs::read(newest).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x20;
    fs::write(newest, bytes).unwrap();
    let (replica, sm) = open(&opts).await.unwrap();
    assert_eq!(state(&sm).1, before.1);
    replica.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn torn_tail_is_cut_and_every_acknowledged_entry_survives() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), 1000);
    let (replica, sm) = open(&opts).await.unwrap();
    let last = propose_n(&replica, 60).await;
    let before = state(&sm);
    replica.shutdown().await.unwrap();

    // The crash came while an unacknowledged record was half written.
    let newest = files(&opts.log_dir, "log.").pop().unwrap();
    let good_len = fs::metadata(&newest).unwrap().len();
    let mut f = fs::OpenOptions::new().append(true).open(&newest).unwrap();
    f.write_all(&500u32.to_le_bytes()).unwrap();
    f.write_all(&[0x77; 40]).unwrap();
    drop(f);

    let (replica, sm) = open(&opts).await.unwrap();
    assert_eq!(state(&sm).1, before.1);
    let (index, _) = replica.propose(add("k2", 1)).await.unwrap();
    assert!(index > last);
    assert!(fs::metadata(&newest).unwrap().len() >= good_len);
    replica.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corruption_inside_the_log_fails_open_and_frees_the_directories() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), 1000);
    let (replica, _sm) = open(&opts).await.unwrap();
    propose_n(&replica, 100).await;
    replica.shutdown().await.unwrap();

    let first = files(&opts.log_dir, "log.").remove(0);
    let original = fs::read(&first).unwrap();
    let mut bytes = original.clone();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x01;
    fs::write(&first, &bytes).unwrap();
    let err = match open(&opts).await {
        Ok(_) => panic!("open must fail on a damaged log"),
        Err(e) => e,
    };
    assert!(matches!(&err, ReplicationError::Storage(StorageError::Corrupt { path, .. }) if *path == first), "{err}");
    assert!(err.to_string().contains(&*first.to_string_lossy()), "{err}");

    fs::write(&first, &original).unwrap();
    let (replica, sm) = open(&opts).await.unwrap();
    assert_eq!(state(&sm).1.values().sum::<u64>(), (0..100).sum::<u64>());
    replica.shutdown().await.unwrap();
}

/// A node restarted right after its predecessor was killed can find the
/// directories still locked for a moment: it waits for them, within its bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_waits_for_a_lock_that_comes_free() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), 1000);
    let (first, _sm) = open(&opts).await.unwrap();
    first.propose(add("k", 5)).await.unwrap();
    opts.lock_wait = Duration::from_secs(20);
    let release_after = Duration::from_millis(400);
    let releaser = tokio::spawn(async move {
        tokio::time::sleep(release_after).await;
        first.shutdown().await.unwrap();
    });
    let started = Instant::now();
    let (second, sm) = open(&opts).await.expect("the lock came free within the wait");
    assert!(started.elapsed() >= release_after, "opened after {:?}, while the first still held it", started.elapsed());
    assert_eq!(sm.read().values.get("k"), Some(&5), "the second open recovered the first one's log");
    releaser.await.unwrap();
    second.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_options_a_used_state_machine_and_a_second_open_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), 1000);
    opts.snap_retain_count = 2;
    assert!(matches!(open(&opts).await, Err(ReplicationError::Config(_))));
    opts.snap_retain_count = 3;
    opts.snap_count = 0;
    assert!(matches!(open(&opts).await, Err(ReplicationError::Config(_))));
    opts.snap_count = 1000;

    let used: Sm = Arc::new(RwLock::new(Counters { values: OrdMap::new(), last: 7 }));
    let res = Replica::open_with(opts.clone(), used, SEGMENT_BYTES_MIN, None).await;
    assert!(matches!(res, Err(ReplicationError::Config(_))));

    let (replica, _sm) = open(&opts).await.unwrap();
    let started = Instant::now();
    match open(&opts).await {
        Err(e @ ReplicationError::Storage(StorageError::Locked { waited, .. })) => {
            assert!(waited >= opts.lock_wait && started.elapsed() >= opts.lock_wait, "gave up after {waited:?}");
            assert!(e.to_string().contains("is in use"), "{e}");
        }
        other => panic!("a second open of a held directory: {:?}", other.map(|_| ())),
    }
    replica.shutdown().await.unwrap();
    replica.shutdown().await.unwrap();

    let mut other = opts.clone();
    other.node_id = 2;
    assert!(matches!(open(&other).await, Err(ReplicationError::Config(_))), "not a voter here");
    let (replica, _sm) = open(&opts).await.unwrap();
    replica.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purged_log_without_a_snapshot_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), 20);
    let (replica, _sm) = open(&opts).await.unwrap();
    let last = propose_n(&replica, 100).await;
    let log = opts.log_dir.clone();
    write_until(&replica, last, "a purge", || numbered(&log, "log.").first().is_some_and(|f| *f > 0)).await;
    replica.shutdown().await.unwrap();
    for snap in files(&opts.data_dir, "snapshot.") {
        fs::remove_file(snap).unwrap();
    }
    assert!(matches!(open(&opts).await, Err(ReplicationError::Inconsistent(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_and_log_may_share_one_directory() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path(), 25);
    opts.log_dir = opts.data_dir.clone();
    let (replica, sm) = open(&opts).await.unwrap();
    let last = propose_n(&replica, 80).await;
    let last = write_until(&replica, last, "a snapshot", || replica.stats().snapshot_index.is_some()).await;
    let stats = replica.stats();
    assert_eq!(stats.data_dir_bytes, stats.log_dir_bytes);
    let before = state(&sm);
    replica.shutdown().await.unwrap();
    let (replica, sm) = open(&opts).await.unwrap();
    assert_eq!(state(&sm).1, before.1);
    assert!(replica.propose(add("k", 1)).await.unwrap().0 > last);
    replica.shutdown().await.unwrap();
}

/// A log of `n` commands written straight to disk, as a previous run would have left it.
async fn write_log(opts: &ReplicaOptions, n: u64) {
    let wal = Wal::open(WalOptions { dir: opts.log_dir.clone(), segment_bytes_max: 64 << 20 }).unwrap();
    let log_id = |term, index| LogId::new(openraft::CommittedLeaderId::new(term, 1), index);
    let membership = openraft::Membership::new(vec![[1u64].into_iter().collect()], None);
    let first = Entry { log_id: log_id(0, 0), payload: openraft::EntryPayload::Membership(membership) };
    let mut batch = vec![(0, encode(&first).unwrap())];
    for index in 1..=n {
        let cmd = Blob(encode(&add(format!("k{}", index % 100), 1)).unwrap());
        let entry = Entry { log_id: log_id(1, index), payload: openraft::EntryPayload::Normal(cmd) };
        batch.push((index, encode(&entry).unwrap()));
        if batch.len() == 10_000 || index == n {
            let (tx, rx) = tokio::sync::oneshot::channel();
            wal.append(std::mem::take(&mut batch), Box::new(move |r| drop(tx.send(r)))).await.unwrap();
            rx.await.unwrap().unwrap();
        }
    }
    wal.save_vote(encode(&Vote::new_committed(1, 1)).unwrap()).await.unwrap();
    wal.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_log_of_100k_entries_is_quick() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path(), 1_000_000);
    write_log(&opts, 100_000).await;
    let start = Instant::now();
    let (replica, sm) = open(&opts).await.unwrap();
    let took = start.elapsed();
    let (last, values) = state(&sm);
    assert_eq!(values.len(), 100);
    assert!(values.values().all(|v| *v == 1000));
    assert!(last >= 100_000);
    eprintln!("opening a log of 100k entries took {took:?}");
    assert!(took < Duration::from_secs(10), "open took {took:?}");
    replica.shutdown().await.unwrap();
}

type SuiteLog = log_store::LogStore;
type SuiteSm = state_machine::SmStore<Counters>;

/// Builds fresh stores on a temporary directory for openraft's suite.
struct SuiteBuilder;

impl openraft::testing::StoreBuilder<TypeConfig, SuiteLog, SuiteSm, tempfile::TempDir> for SuiteBuilder {
    async fn build(&self) -> Result<(tempfile::TempDir, SuiteLog, SuiteSm), openraft::StorageError<u64>> {
        let dir = tempfile::tempdir().unwrap();
        let wal = Wal::open(WalOptions { dir: dir.path().join("log"), segment_bytes_max: SEGMENT_BYTES_MIN }).unwrap();
        let snapshots = Arc::new(SnapshotStore::open(dir.path().join("data")).unwrap());
        let sm = state_machine::SmStore::open(Arc::default(), snapshots, super::Blocking::Threads).unwrap();
        Ok((dir, log_store::LogStore::new(Arc::new(wal)), sm))
    }
}

type Suite = openraft::testing::Suite<TypeConfig, SuiteLog, SuiteSm, SuiteBuilder, tempfile::TempDir>;

/// Runs cases of openraft's storage conformance suite, each on fresh stores
/// in its own runtime, and reports every failure.
///
/// One case is left out: `get_initial_state_membership_from_log_and_sm`
/// appends entries below the purge point, which this log refuses by design
/// (openraft itself never does it).
macro_rules! openraft_suite {
    ($test:ident: $($case:ident),* $(,)?) => {
        #[test]
        fn $test() {
            use openraft::testing::StoreBuilder;
            let mut failed: Vec<String> = Vec::new();
            $(
                let rt = tokio::runtime::Runtime::new().unwrap();
                let res = rt.block_on(async {
                    let (_dir, store, sm) = SuiteBuilder.build().await?;
                    Suite::$case(store, sm).await
                });
                if let Err(e) = res {
                    failed.push(format!("{}: {e}", stringify!($case)));
                }
            )*
            assert!(failed.is_empty(), "{failed:#?}");
        }
    };
}

openraft_suite!(openraft_suite_membership:
    last_membership_in_log_initial, last_membership_in_log, last_membership_in_log_multi_step,
    get_membership_initial, get_membership_from_log_and_empty_sm, get_membership_from_empty_log_and_sm,
    get_membership_from_log_le_sm_last_applied, get_membership_from_log_gt_sm_last_applied_1,
    get_membership_from_log_gt_sm_last_applied_2,
);

openraft_suite!(openraft_suite_initial_state:
    get_initial_state_without_init, get_initial_state_with_state, get_initial_state_last_log_gt_sm,
    get_initial_state_last_log_lt_sm, get_initial_state_log_ids, get_initial_state_re_apply_committed, save_vote,
);

// Cases that sleep a second after purging (the suite allows purging in the
// background) come two per test, so that each test stays short.
openraft_suite!(openraft_suite_log_reads_and_truncation:
    get_log_entries, limited_get_log_entries, initial_logs, delete_logs_since_11, delete_logs_since_0,
    try_get_log_entry, get_log_state,
);

openraft_suite!(openraft_suite_log_ids: get_log_id, last_id_in_log);

openraft_suite!(openraft_suite_log_purge: purge_logs_upto_0, purge_logs_upto_5);

openraft_suite!(openraft_suite_log_purge_all_then_append: purge_logs_upto_20, append_to_log);

openraft_suite!(openraft_suite_state_machine: last_applied_state, snapshot_meta, apply_single, apply_multiple);

#[test]
fn openraft_suite_transfer_snapshot() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(Suite::transfer_snapshot(&SuiteBuilder)).unwrap();
}
