//! Simulated storage of one node: log, vote and snapshot in memory, split
//! into what is durable and what is not yet.
//!
//! Log writes go through a FIFO "disk" task: `append` makes entries readable
//! at once and calls openraft's flush callback only once a simulated fsync
//! has made them (and every earlier write) durable, as corral's write-ahead
//! log does; `truncate` and `purge` return once durable. A saved vote and a
//! completed snapshot are durable when the call returns. A crash keeps
//! [`Durable`] only.

// openraft's own storage error is large; it is what its traits return.
#![allow(clippy::result_large_err)]

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Debug;
use std::io::Cursor;
use std::ops::RangeBounds;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::txn::{State, TxnResult};
use openraft::storage::{LogFlushed, RaftLogStorage, RaftSnapshotBuilder, RaftStateMachine};
use openraft::{
    AnyError, EntryPayload, ErrorSubject, ErrorVerb, LogState, OptionalSend, RaftLogReader, StorageIOError,
};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::time::Instant;

use crate::types::{Entry, LogId, Snapshot, SnapshotMeta, StorageError, StoredMembership, TypeConfig, Vote};
use crate::world::{lock, Bug, World};

/// How long the lying disk of [`Bug::LyingFsync`] keeps writes volatile after acknowledging them.
const LYING_CACHE: Duration = Duration::from_millis(400);

/// A completed snapshot.
#[derive(Clone, Debug)]
pub struct StoredSnapshot {
    /// Its metadata.
    pub meta: SnapshotMeta,
    /// `State::write_snapshot` bytes.
    pub data: Vec<u8>,
}

/// What survives a crash.
#[derive(Clone, Debug, Default)]
pub struct Durable {
    /// Log entries by index.
    pub log: BTreeMap<u64, Entry>,
    /// The last saved vote.
    pub vote: Option<Vote>,
    /// The last purged log id.
    pub purged: Option<LogId>,
    /// The newest completed snapshot.
    pub snapshot: Option<StoredSnapshot>,
}

/// One write to the log, in the order openraft issued it.
#[derive(Debug)]
enum LogOp {
    Append(Vec<Entry>),
    Truncate(u64),
    Purge(LogId),
}

impl LogOp {
    /// Applies the write to a log.
    fn apply(&self, log: &mut BTreeMap<u64, Entry>, purged: &mut Option<LogId>) {
        match self {
            LogOp::Append(entries) => {
                for e in entries {
                    log.insert(e.log_id.index, e.clone());
                }
            }
            LogOp::Truncate(since) => {
                let _ = log.split_off(since);
            }
            LogOp::Purge(upto) => {
                *log = log.split_off(&(upto.index + 1));
                *purged = Some(*upto);
            }
        }
    }
}

/// Who waits for a log write to be durable.
enum Done {
    Flushed(LogFlushed<TypeConfig>),
    Returned(oneshot::Sender<()>),
}

struct Job {
    op: LogOp,
    done: Done,
}

/// A node's storage: what openraft reads (everything written) and what is durable.
pub struct Disk {
    log: BTreeMap<u64, Entry>,
    vote: Option<Vote>,
    purged: Option<LogId>,
    snapshot: Option<StoredSnapshot>,
    durable: Durable,
    /// Writes acknowledged but still volatile ([`Bug::LyingFsync`] only), with when they settle.
    lying: VecDeque<(Instant, LogOp)>,
}

impl Disk {
    /// Storage holding exactly `durable` (a fresh node, or a restart after a crash).
    pub fn new(durable: Durable) -> Disk {
        Disk {
            log: durable.log.clone(),
            vote: durable.vote,
            purged: durable.purged,
            snapshot: durable.snapshot.clone(),
            durable,
            lying: VecDeque::new(),
        }
    }

    /// Moves writes the lying disk has kept long enough into the durable state.
    fn settle(&mut self, now: Instant) {
        while self.lying.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, op)) = self.lying.pop_front() {
                op.apply(&mut self.durable.log, &mut self.durable.purged);
            }
        }
    }

    /// What a crash at this instant leaves behind.
    pub fn crash_image(&mut self) -> Durable {
        self.settle(Instant::now());
        self.durable.clone()
    }
}

/// Starts the disk task of a storage; returns the queue of log writes.
fn start_disk(world: Arc<World>, disk: Arc<Mutex<Disk>>) -> mpsc::UnboundedSender<Job> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Job>();
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            tokio::time::sleep(world.fsync_delay()).await;
            {
                let mut d = lock(&disk);
                let now = Instant::now();
                d.settle(now);
                if world.cfg.bug == Some(Bug::LyingFsync) {
                    d.lying.push_back((now + LYING_CACHE, job.op));
                } else {
                    let d = &mut *d;
                    job.op.apply(&mut d.durable.log, &mut d.durable.purged);
                }
            }
            match job.done {
                Done::Flushed(cb) => cb.log_io_completed(Ok(())),
                Done::Returned(tx) => {
                    let _ = tx.send(());
                }
            }
        }
    });
    tx
}

fn io_err(subject: ErrorSubject<u64>, verb: ErrorVerb, msg: &str) -> StorageError {
    let e = std::io::Error::other(msg.to_string());
    StorageIOError::new(subject, verb, AnyError::new(&e)).into()
}

/// openraft's log store over a [`Disk`]; clones share it (readers are clones).
#[derive(Clone)]
pub struct LogStore {
    world: Arc<World>,
    disk: Arc<Mutex<Disk>>,
    queue: mpsc::UnboundedSender<Job>,
}

impl LogStore {
    /// The log store of `disk`, with its disk task.
    pub fn new(world: Arc<World>, disk: Arc<Mutex<Disk>>) -> LogStore {
        let queue = start_disk(world.clone(), disk.clone());
        LogStore { world, disk, queue }
    }

    /// Queues a log write and waits until it is durable.
    async fn write_through(&self, op: LogOp, subject: ErrorSubject<u64>) -> Result<(), StorageError> {
        let (tx, rx) = oneshot::channel();
        self.queue
            .send(Job { op, done: Done::Returned(tx) })
            .map_err(|_| io_err(subject.clone(), ErrorVerb::Write, "disk task gone"))?;
        rx.await.map_err(|_| io_err(subject, ErrorVerb::Write, "disk task gone"))
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(lock(&self.disk).log.range(range).map(|(_, e)| e.clone()).collect())
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let d = lock(&self.disk);
        let last = d.log.values().next_back().map(|e| e.log_id).or(d.purged);
        Ok(LogState { last_purged_log_id: d.purged, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        {
            let mut d = lock(&self.disk);
            d.vote = Some(*vote);
            d.durable.vote = Some(*vote);
        }
        tokio::time::sleep(self.world.fsync_delay()).await;
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(lock(&self.disk).vote)
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        {
            let d = &mut *lock(&self.disk);
            for e in &entries {
                d.log.insert(e.log_id.index, e.clone());
            }
        }
        self.queue
            .send(Job { op: LogOp::Append(entries), done: Done::Flushed(callback) })
            .map_err(|_| io_err(ErrorSubject::Logs, ErrorVerb::Write, "disk task gone"))
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        {
            let d = &mut *lock(&self.disk);
            LogOp::Truncate(log_id.index).apply(&mut d.log, &mut d.purged);
        }
        self.write_through(LogOp::Truncate(log_id.index), ErrorSubject::Log(log_id)).await
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        {
            let d = &mut *lock(&self.disk);
            LogOp::Purge(log_id).apply(&mut d.log, &mut d.purged);
        }
        self.write_through(LogOp::Purge(log_id), ErrorSubject::Log(log_id)).await
    }
}

/// The applied state a node serves reads from.
pub struct Applied {
    /// The real replicated state.
    pub state: State,
    /// openraft's last applied log id.
    pub last_applied: Option<LogId>,
    /// The membership as of `last_applied`.
    pub membership: StoredMembership,
}

impl Applied {
    /// The index of the last applied entry (0 when none).
    pub fn index(&self) -> u64 {
        self.last_applied.map_or(0, |l| l.index)
    }
}

/// A number that only grows, and waiters for it reaching a value. (tokio's
/// `watch` wakes its waiters in a random order; `Notify` in a fixed one.)
pub struct Signal {
    value: AtomicU64,
    notify: Notify,
}

impl Signal {
    /// A signal at `value`.
    pub fn new(value: u64) -> Signal {
        Signal { value: AtomicU64::new(value), notify: Notify::new() }
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.value.load(Ordering::Acquire)
    }

    /// Sets the value and wakes every waiter.
    pub fn set(&self, value: u64) {
        self.value.store(value, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Waits until the value reaches `at_least`; false if `deadline` passes first.
    pub async fn wait_at_least(&self, at_least: u64, deadline: Option<Instant>) -> bool {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.get() >= at_least {
                return true;
            }
            match deadline {
                Some(d) => {
                    if tokio::time::timeout_at(d, notified).await.is_err() {
                        return self.get() >= at_least;
                    }
                }
                None => notified.await,
            }
        }
    }
}

/// openraft's state machine over `corral::txn::State`.
pub struct SmStore {
    world: Arc<World>,
    node: u64,
    disk: Arc<Mutex<Disk>>,
    applied: Arc<Mutex<Applied>>,
    applied_signal: Arc<Signal>,
    snapshots_made: u64,
}

/// The state a storage restarts with: its durable snapshot restored, or a fresh state.
pub fn restore(durable: &Durable) -> Result<Applied, std::io::Error> {
    match &durable.snapshot {
        Some(s) => Ok(Applied {
            state: State::read_snapshot(&mut s.data.as_slice())?,
            last_applied: s.meta.last_log_id,
            membership: s.meta.last_membership.clone(),
        }),
        None => Ok(Applied { state: State::new(), last_applied: None, membership: StoredMembership::default() }),
    }
}

impl SmStore {
    /// The state machine of node `node` over `disk`, starting from `applied`.
    pub fn new(
        world: Arc<World>,
        node: u64,
        disk: Arc<Mutex<Disk>>,
        applied: Arc<Mutex<Applied>>,
        applied_signal: Arc<Signal>,
    ) -> SmStore {
        SmStore { world, node, disk, applied, applied_signal, snapshots_made: 0 }
    }

    /// Applies one entry to the real state and reports it to the world.
    fn apply_one(&self, a: &mut Applied, entry: Entry) -> TxnResult {
        let result = match &entry.payload {
            EntryPayload::Blank => TxnResult::Done,
            EntryPayload::Normal(txn) => a.state.apply(entry.log_id.index as i64, txn).0,
            EntryPayload::Membership(m) => {
                a.membership = StoredMembership::new(Some(entry.log_id), m.clone());
                TxnResult::Done
            }
        };
        a.last_applied = Some(entry.log_id);
        self.world.on_apply(self.node, &entry, &result, &a.state);
        result
    }
}

impl RaftStateMachine<TypeConfig> for SmStore {
    type SnapshotBuilder = Builder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), StorageError> {
        let a = lock(&self.applied);
        Ok((a.last_applied, a.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<TxnResult>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let (out, index) = {
            let mut a = lock(&self.applied);
            let out: Vec<TxnResult> = entries.into_iter().map(|e| self.apply_one(&mut a, e)).collect();
            (out, a.index())
        };
        self.applied_signal.set(index);
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Builder {
        self.snapshots_made += 1;
        let a = lock(&self.applied);
        let (term, index) = a.last_applied.map_or((0, 0), |l| (l.leader_id.term, l.index));
        let meta = SnapshotMeta {
            last_log_id: a.last_applied,
            last_membership: a.membership.clone(),
            snapshot_id: format!("{term}-{index}-n{}-{}", self.node, self.snapshots_made),
        };
        Builder { world: self.world.clone(), disk: self.disk.clone(), state: a.state.clone(), meta }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let data = snapshot.into_inner();
        let subject = ErrorSubject::Snapshot(Some(meta.signature()));
        let state =
            State::read_snapshot(&mut data.as_slice()).map_err(|e| io_err(subject, ErrorVerb::Read, &e.to_string()))?;
        let index = meta.last_log_id.map_or(0, |l| l.index);
        {
            let mut a = lock(&self.applied);
            a.state = state;
            a.last_applied = meta.last_log_id;
            a.membership = meta.last_membership.clone();
            self.world.check_ephemerals(self.node, index, &a.state);
        }
        {
            let mut d = lock(&self.disk);
            let stored = StoredSnapshot { meta: meta.clone(), data };
            d.snapshot = Some(stored.clone());
            d.durable.snapshot = Some(stored);
        }
        lock(&self.world.stats).snapshot_installs += 1;
        self.world.trace(format_args!("node {} installed snapshot {}", self.node, meta.snapshot_id));
        self.applied_signal.set(index);
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, StorageError> {
        let current = lock(&self.disk).snapshot.clone();
        Ok(current.map(|s| Snapshot { meta: s.meta, snapshot: Box::new(Cursor::new(s.data)) }))
    }
}

/// Writes one captured state as a snapshot.
pub struct Builder {
    world: Arc<World>,
    disk: Arc<Mutex<Disk>>,
    state: State,
    meta: SnapshotMeta,
}

impl RaftSnapshotBuilder<TypeConfig> for Builder {
    async fn build_snapshot(&mut self) -> Result<Snapshot, StorageError> {
        let mut data = Vec::new();
        self.state
            .write_snapshot(&mut data)
            .map_err(|e| io_err(ErrorSubject::Snapshot(None), ErrorVerb::Write, &e.to_string()))?;
        tokio::time::sleep(self.world.fsync_delay()).await;
        let index = self.meta.last_log_id.map_or(0, |l| l.index);
        {
            let mut d = lock(&self.disk);
            let newer = d.snapshot.as_ref().is_none_or(|s| s.meta.last_log_id.map_or(0, |l| l.index) <= index);
            if newer {
                let stored = StoredSnapshot { meta: self.meta.clone(), data: data.clone() };
                d.snapshot = Some(stored.clone());
                d.durable.snapshot = Some(stored);
            }
        }
        lock(&self.world.stats).snapshots_built += 1;
        self.world.trace(format_args!("snapshot built {}", self.meta.snapshot_id));
        Ok(Snapshot { meta: self.meta.clone(), snapshot: Box::new(Cursor::new(data)) })
    }
}
