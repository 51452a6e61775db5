//! One node's disk, in memory: corral's [`LogDisk`] and [`SnapshotDisk`]
//! seams, with what a crash keeps split from what it loses.
//!
//! Log writes go through a FIFO "device" task, one simulated fsync per
//! write, as corral's write-ahead log does: `append` makes entries readable
//! at once and calls the flush callback once the write (and every earlier
//! one) is durable; truncate, purge and the vote return once durable. A
//! crash keeps the durable part plus, at random, a prefix of the writes
//! still in flight — a torn tail, which a log with per-record checksums
//! keeps exactly like this. A write may fail (a disk error): its callback
//! gets the error and the device refuses everything after it, as a real
//! log does after a failed fsync. Snapshots are written whole and are
//! durable on return. A restarted incarnation reads exactly what survived.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::replication::{BoxFuture, LogDisk, SnapshotData, SnapshotDisk};
use corral::storage::{FlushDone, LogBounds, SnapshotFile, SnapshotJob, StorageError};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::types::{fnv, NodeId};
use crate::world::{lock, Bug, World};

/// How long the lying disk of [`Bug::LyingFsync`] keeps writes volatile after acknowledging them.
const LYING_CACHE: Duration = Duration::from_millis(400);

/// The durable contents of a disk.
#[derive(Clone, Debug, Default)]
pub struct Durable {
    /// Encoded log entries by index.
    pub log: BTreeMap<u64, Vec<u8>>,
    /// The last saved vote.
    pub vote: Option<Vec<u8>>,
    /// The purge point and its marker.
    pub purged: Option<(u64, Vec<u8>)>,
    /// Complete snapshots by index: metadata and state bytes.
    pub snapshots: BTreeMap<u64, (Vec<u8>, Vec<u8>)>,
}

/// One write to the log, in the order the replica issued it.
#[derive(Clone, Debug)]
enum LogOp {
    Append(Vec<(u64, Vec<u8>)>),
    Truncate(u64),
    Purge(u64, Vec<u8>),
    Vote(Vec<u8>),
    /// Nothing to write: resolves once everything before it is durable.
    Barrier,
}

impl LogOp {
    fn apply(&self, d: &mut Durable) {
        match self {
            LogOp::Append(entries) => {
                for (i, bytes) in entries {
                    d.log.insert(*i, bytes.clone());
                }
            }
            LogOp::Truncate(since) => {
                let _ = d.log.split_off(since);
            }
            LogOp::Purge(upto, marker) => {
                d.log = d.log.split_off(&(upto + 1));
                d.purged = Some((*upto, marker.clone()));
            }
            LogOp::Vote(v) => d.vote = Some(v.clone()),
            LogOp::Barrier => {}
        }
    }
}

/// Who waits for a write to be durable.
enum Done {
    Flushed(FlushDone),
    Returned(oneshot::Sender<Result<(), StorageError>>),
}

struct Job {
    op: LogOp,
    done: Done,
}

/// The disk's state across incarnations.
struct Platters {
    durable: Durable,
    /// Writes queued on the device, not yet durable, oldest first.
    in_flight: VecDeque<LogOp>,
    /// Writes acknowledged but still volatile ([`Bug::LyingFsync`] only), with when they settle.
    lying: VecDeque<(Instant, LogOp)>,
    /// The incarnation whose handles may write; `None` after a crash.
    live: Option<u64>,
    /// Set by a failed write: the device refuses everything until the next start.
    failed: bool,
}

impl Platters {
    fn settle(&mut self, now: Instant) {
        while self.lying.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, op)) = self.lying.pop_front() {
                op.apply(&mut self.durable);
            }
        }
    }
}

/// One node's disk, shared by its incarnations.
pub struct SimDisk {
    world: Arc<World>,
    node: NodeId,
    platters: Mutex<Platters>,
}

impl SimDisk {
    /// An empty disk for `node`.
    pub fn new(world: Arc<World>, node: NodeId) -> Arc<SimDisk> {
        let platters = Platters {
            durable: Durable::default(),
            in_flight: VecDeque::new(),
            lying: VecDeque::new(),
            live: None,
            failed: false,
        };
        Arc::new(SimDisk { world, node, platters: Mutex::new(platters) })
    }

    /// The log and snapshot handles of incarnation `inc`, seeing exactly what is durable.
    pub fn mount(self: &Arc<Self>, inc: u64) -> (Arc<SimLog>, Arc<SimSnapshots>) {
        let view = {
            let mut p = lock(&self.platters);
            p.live = Some(inc);
            p.failed = false;
            View { log: p.durable.log.clone(), vote: p.durable.vote.clone(), purged: p.durable.purged.clone() }
        };
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(device(self.clone(), inc, rx));
        let log = Arc::new(SimLog { disk: self.clone(), inc, view: Mutex::new(view), queue: tx });
        (log, Arc::new(SimSnapshots { disk: self.clone(), inc }))
    }

    /// The power goes: writes in flight are lost, except (at random) a
    /// prefix of them that reached the platters — the torn tail. Handles of
    /// the crashed incarnation fail from now on.
    pub fn crash(&self) {
        let mut p = lock(&self.platters);
        p.settle(Instant::now());
        let in_flight: Vec<LogOp> = p.in_flight.drain(..).collect();
        if !in_flight.is_empty() && self.world.chance(0.5) {
            let keep = self.world.rand_range(0..in_flight.len() as u64 + 1) as usize;
            let mut torn = 0;
            for op in in_flight.iter().take(keep) {
                op.apply(&mut p.durable);
                torn += 1;
            }
            // The next write may have made it part way.
            if let Some(LogOp::Append(entries)) = in_flight.get(keep) {
                let part = self.world.rand_range(0..entries.len() as u64) as usize;
                LogOp::Append(entries[..part].to_vec()).apply(&mut p.durable);
            }
            self.world.trace(format_args!(
                "node {} crash keeps {torn} of {} writes in flight",
                self.node,
                in_flight.len()
            ));
        }
        p.lying.clear();
        p.live = None;
    }

    /// What is durable now (for inspection).
    pub fn durable(&self) -> Durable {
        lock(&self.platters).durable.clone()
    }

    /// Whether a write failed since the last mount.
    pub fn failed(&self) -> bool {
        lock(&self.platters).failed
    }

    fn is_live(&self, inc: u64) -> bool {
        let p = lock(&self.platters);
        p.live == Some(inc) && !p.failed
    }
}

/// The device: performs queued writes one after another, each after a
/// simulated fsync, until the incarnation that queued them is gone.
async fn device(disk: Arc<SimDisk>, inc: u64, mut rx: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = rx.recv().await {
        tokio::time::sleep(disk.world.fsync_delay()).await;
        let outcome = {
            let mut p = lock(&disk.platters);
            if p.live != Some(inc) {
                // Crashed meanwhile: the write never completes.
                return;
            }
            let now = Instant::now();
            p.settle(now);
            let error = !matches!(job.op, LogOp::Barrier) && disk.world.chance(disk.world.cfg.disk_error_rate);
            if p.failed || error {
                if !p.failed {
                    disk.world.trace(format_args!("node {} disk error", disk.node));
                    lock(&disk.world.stats).disk_errors += 1;
                }
                p.failed = true;
                p.in_flight.pop_front();
                Err(())
            } else {
                p.in_flight.pop_front();
                if disk.world.cfg.bug == Some(Bug::LyingFsync) {
                    p.lying.push_back((now + LYING_CACHE, job.op));
                } else {
                    job.op.apply(&mut p.durable);
                }
                Ok(())
            }
        };
        match (job.done, outcome) {
            (Done::Flushed(cb), Ok(())) => cb(Ok(())),
            (Done::Flushed(cb), Err(())) => cb(Err(io::Error::other("simulated disk error"))),
            (Done::Returned(tx), res) => {
                let _ = tx.send(res.map_err(|()| eio("write")));
            }
        }
    }
}

fn eio(what: &str) -> StorageError {
    StorageError::Io { op: "simulated disk error on", path: PathBuf::from(what), source: io::Error::other("EIO") }
}

/// What the running incarnation reads: everything written, durable or not.
struct View {
    log: BTreeMap<u64, Vec<u8>>,
    vote: Option<Vec<u8>>,
    purged: Option<(u64, Vec<u8>)>,
}

/// The log of one incarnation.
pub struct SimLog {
    disk: Arc<SimDisk>,
    inc: u64,
    view: Mutex<View>,
    queue: mpsc::UnboundedSender<Job>,
}

impl SimLog {
    /// Queues a write; `Err` when this incarnation can no longer write.
    fn enqueue(&self, op: LogOp, done: Done) -> Result<(), StorageError> {
        if !self.disk.is_live(self.inc) {
            return Err(StorageError::Closed);
        }
        lock(&self.disk.platters).in_flight.push_back(op.clone());
        self.queue.send(Job { op, done }).map_err(|_| StorageError::Closed)
    }

    /// Queues a write and waits until it is durable.
    async fn write_through(&self, op: LogOp) -> Result<(), StorageError> {
        let (tx, rx) = oneshot::channel();
        self.enqueue(op, Done::Returned(tx))?;
        rx.await.map_err(|_| StorageError::Closed)?
    }

    /// The term of the entry stored at `index`, read from the first bytes of
    /// the encoded entry: openraft's `LogId` comes first, and with
    /// `single-term-leader` it is (term, index).
    pub fn term_of(&self, index: u64) -> Option<u64> {
        let view = lock(&self.view);
        let bytes = view.log.get(&index)?;
        let word = |i: usize| bytes.get(i * 8..i * 8 + 8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes);
        (word(1)? == index).then_some(word(0)?)
    }
}

impl LogDisk for SimLog {
    fn bounds(&self) -> LogBounds {
        let view = lock(&self.view);
        let after_purge = view.purged.as_ref().map_or(0, |(p, _)| p + 1);
        let first = view.log.keys().next().copied().unwrap_or(after_purge);
        let next = view.log.keys().next_back().map_or(first, |l| l + 1);
        LogBounds { first, next, purged: view.purged.clone() }
    }

    fn vote(&self) -> Option<Vec<u8>> {
        lock(&self.view).vote.clone()
    }

    fn read(&self, range: Range<u64>) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        if range.is_empty() {
            return Ok(Vec::new());
        }
        Ok(lock(&self.view).log.range(range).map(|(i, b)| (*i, b.clone())).collect())
    }

    fn append(&self, entries: Vec<(u64, Vec<u8>)>, done: FlushDone) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            {
                let mut view = lock(&self.view);
                for (i, b) in &entries {
                    view.log.insert(*i, b.clone());
                }
            }
            self.enqueue(LogOp::Append(entries), Done::Flushed(done))
        })
    }

    fn truncate(&self, since: u64) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            let _ = lock(&self.view).log.split_off(&since);
            self.write_through(LogOp::Truncate(since)).await
        })
    }

    fn purge(&self, upto: u64, marker: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            {
                let mut view = lock(&self.view);
                view.log = view.log.split_off(&(upto + 1));
                view.purged = Some((upto, marker.clone()));
            }
            self.write_through(LogOp::Purge(upto, marker)).await
        })
    }

    fn save_vote(&self, vote: Vec<u8>) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            lock(&self.view).vote = Some(vote.clone());
            self.write_through(LogOp::Vote(vote)).await
        })
    }

    fn close(&self) -> BoxFuture<'_, Result<(), StorageError>> {
        Box::pin(async move {
            let drained = self.write_through(LogOp::Barrier).await;
            let mut p = lock(&self.disk.platters);
            if p.live == Some(self.inc) {
                p.live = None;
            }
            drained
        })
    }

    fn disk_bytes(&self) -> u64 {
        lock(&self.view).log.values().map(|b| b.len() as u64).sum()
    }
}

/// The snapshots of one incarnation.
pub struct SimSnapshots {
    disk: Arc<SimDisk>,
    inc: u64,
}

/// A snapshot image: `[u64 index][u32 meta len][meta][state][u64 fnv of all before]`, little-endian.
fn image(index: u64, meta: &[u8], data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(20 + meta.len() + data.len());
    v.extend_from_slice(&index.to_le_bytes());
    v.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    v.extend_from_slice(meta);
    v.extend_from_slice(data);
    let sum = fnv(&v);
    v.extend_from_slice(&sum.to_le_bytes());
    v
}

/// Splits and checks an image.
fn parse_image(bytes: &[u8]) -> Result<(u64, Vec<u8>, Vec<u8>), StorageError> {
    let bad = |why: &str| StorageError::Invalid(format!("snapshot image: {why}"));
    if bytes.len() < 20 {
        return Err(bad("too short"));
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if fnv(body).to_le_bytes() != sum {
        return Err(bad("checksum mismatch"));
    }
    let index = u64::from_le_bytes(body[..8].try_into().map_err(|_| bad("index"))?);
    let meta_len = u32::from_le_bytes(body[8..12].try_into().map_err(|_| bad("meta length"))?) as usize;
    let meta = body.get(12..12 + meta_len).ok_or_else(|| bad("meta length"))?.to_vec();
    Ok((index, meta, body[12 + meta_len..].to_vec()))
}

impl SimSnapshots {
    fn file(&self, index: u64, meta: Vec<u8>, data_len: u64) -> SnapshotFile {
        let path = PathBuf::from(format!("sim/node{}/snapshot.{index}", self.disk.node));
        SnapshotFile { index, path, meta, data_offset: 0, data_len }
    }

    /// The metadata and state bytes of the snapshot at `index`.
    fn contents(&self, index: u64) -> Result<(Vec<u8>, Vec<u8>), StorageError> {
        let p = lock(&self.disk.platters);
        p.durable.snapshots.get(&index).cloned().ok_or_else(|| StorageError::Invalid(format!("no snapshot {index}")))
    }

    fn check_live(&self) -> Result<(), StorageError> {
        if lock(&self.disk.platters).live == Some(self.inc) {
            Ok(())
        } else {
            Err(StorageError::Closed)
        }
    }

    fn store(&self, index: u64, meta: Vec<u8>, data: Vec<u8>) -> SnapshotFile {
        let len = data.len() as u64;
        lock(&self.disk.platters).durable.snapshots.insert(index, (meta.clone(), data));
        self.file(index, meta, len)
    }
}

impl SnapshotDisk for SimSnapshots {
    fn newest_valid(&self) -> Result<Option<SnapshotFile>, StorageError> {
        let p = lock(&self.disk.platters);
        Ok(p.durable.snapshots.iter().next_back().map(|(i, (m, d))| self.file(*i, m.clone(), d.len() as u64)))
    }

    fn open_data(&self, snap: &SnapshotFile) -> Result<Box<dyn Read + Send>, StorageError> {
        let (_, data) = self.contents(snap.index)?;
        Ok(Box::new(io::Cursor::new(data)))
    }

    fn write(&self, index: u64, meta: &[u8], job: SnapshotJob) -> Result<SnapshotFile, StorageError> {
        self.check_live()?;
        let mut data = Vec::new();
        job(&mut data).map_err(|e| StorageError::Io { op: "serialize", path: PathBuf::from("snapshot"), source: e })?;
        lock(&self.disk.world.stats).snapshots_built += 1;
        self.disk.world.trace(format_args!("node {} wrote snapshot {index}", self.disk.node));
        Ok(self.store(index, meta.to_vec(), data))
    }

    fn begin_receive(&self) -> Result<SnapshotData, StorageError> {
        self.check_live()?;
        Ok(SnapshotData::memory(Vec::new()))
    }

    fn install(&self, src: &mut dyn Read) -> Result<SnapshotFile, StorageError> {
        self.check_live()?;
        let mut bytes = Vec::new();
        src.read_to_end(&mut bytes).map_err(|e| StorageError::Io {
            op: "read",
            path: PathBuf::from("received snapshot"),
            source: e,
        })?;
        let (index, meta, data) = parse_image(&bytes)?;
        lock(&self.disk.world.stats).snapshot_installs += 1;
        self.disk.world.trace(format_args!("node {} installed snapshot {index}", self.disk.node));
        Ok(self.store(index, meta, data))
    }

    fn open_image(&self, snap: &SnapshotFile) -> Result<SnapshotData, StorageError> {
        let (meta, data) = self.contents(snap.index)?;
        Ok(SnapshotData::memory(image(snap.index, &meta, &data)))
    }

    fn retain(&self, keep: usize, protect: Option<u64>) -> Result<Vec<u64>, StorageError> {
        self.check_live()?;
        let mut p = lock(&self.disk.platters);
        let indexes: Vec<u64> = p.durable.snapshots.keys().copied().collect();
        let cut = indexes.len().saturating_sub(keep);
        let mut left = Vec::new();
        for (i, index) in indexes.into_iter().enumerate() {
            if i >= cut || Some(index) == protect {
                left.push(index);
            } else {
                p.durable.snapshots.remove(&index);
            }
        }
        Ok(left)
    }

    fn close(&self) {}

    fn disk_bytes(&self) -> u64 {
        lock(&self.disk.platters).durable.snapshots.values().map(|(m, d)| (m.len() + d.len()) as u64).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_round_trip_and_damage_is_refused() {
        let img = image(42, b"meta", b"state bytes");
        assert_eq!(parse_image(&img).expect("parses"), (42, b"meta".to_vec(), b"state bytes".to_vec()));
        let mut bad = img.clone();
        bad[14] ^= 1;
        assert!(matches!(parse_image(&bad), Err(StorageError::Invalid(m)) if m.contains("checksum")));
        assert!(matches!(parse_image(&img[..10]), Err(StorageError::Invalid(m)) if m.contains("short")));
    }
}
