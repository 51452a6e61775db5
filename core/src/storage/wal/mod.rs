//! The write-ahead log: entries by index in segment files, made durable by a
//! single writer thread with group commit.
//!
//! On disk, `dir` holds:
//! - `log.<first index>` segments: a header record, then one record per entry
//!   (framing in `record`; payload = `[u64 index][entry bytes]`). A segment
//!   is closed once it passes `segment_bytes_max`, fsynced before the next
//!   one is created — so only the newest segment can end in a torn write.
//! - `vote`: the last vote, replaced atomically.
//! - `purged`: the purge point (an index and opaque bytes), replaced
//!   atomically before any segment below it is removed.
//! - `wal.lock`: held while the log is open.
//!
//! In memory, every live entry has a location (segment, offset) and, while it
//! is not yet written or still recent, its bytes. Appends are readable as soon
//! as [`Wal::append`] returns; durability is reported through the callback.
//! All writes (appends, truncation, purge, vote) go through one queue, in
//! order, to the writer thread.

mod recover;
mod writer;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;
use tokio::sync::{mpsc, oneshot};

use super::fsutil;
use super::record::{self, Parsed};
use super::StorageError;
use writer::{Op, Reply};

/// Default size after which a segment is closed and a new one started.
pub const SEGMENT_BYTES_DEFAULT: u64 = 64 << 20;
/// Smallest accepted segment size (tests use small segments to cross boundaries).
pub const SEGMENT_BYTES_MIN: u64 = 4 << 10;
/// Operations waiting for the writer thread; `append` waits when it is full.
const WRITE_QUEUE_OPS_MAX: usize = 1024;
/// Operations the writer takes from the queue before one fsync.
const WRITE_BATCH_OPS_MAX: usize = 1024;
/// Bytes the writer leaves unsynced at most (it fsyncs early past this).
const UNSYNCED_BYTES_MAX: usize = 4 << 20;
/// How far from the end of the newest segment a bad record may be and still
/// count as a torn write: the most the writer leaves unsynced, plus one record.
const TORN_TAIL_BYTES_MAX: usize = UNSYNCED_BYTES_MAX + record::HEADER_BYTES + record::PAYLOAD_BYTES_MAX;
/// Bytes of recently written entries kept in memory for readers.
const CACHE_BYTES_MAX: u64 = 32 << 20;
/// Largest single read from a segment when fetching a run of entries.
const READ_RUN_BYTES_MAX: u64 = 4 << 20;
/// Bytes of the index at the start of each entry record's payload.
const INDEX_BYTES: usize = 8;

const LOCK_FILE: &str = "wal.lock";
const VOTE_FILE: &str = "vote";
const PURGED_FILE: &str = "purged";
const SEGMENT_PREFIX: &str = "log.";

/// Called once the appended entries are durable (`Ok`) or can never be (`Err`).
pub type FlushDone = Box<dyn FnOnce(io::Result<()>) + Send>;

/// Where and how the log lives.
#[derive(Debug, Clone)]
pub struct WalOptions {
    /// Directory of the segments, the vote and the purge point.
    pub dir: PathBuf,
    /// A segment is closed once it reaches this size (at least [`SEGMENT_BYTES_MIN`]).
    pub segment_bytes_max: u64,
}

/// The live range of the log and its purge point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogBounds {
    /// Index of the first live entry (when `first < next`).
    pub first: u64,
    /// One past the last live entry; `first == next` means no live entry.
    pub next: u64,
    /// The purge point: every index up to it is gone, with the bytes given to [`Wal::purge`].
    pub purged: Option<(u64, Vec<u8>)>,
}

/// A segment file as readers see it.
#[derive(Clone)]
pub(super) struct SegRef {
    file: Arc<File>,
    path: Arc<Path>,
}

/// Where a written entry's record starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    /// The segment, named by its first index.
    segment: u64,
    /// Byte offset of the record in the segment.
    offset: u64,
}

/// One live entry.
pub(super) struct Loc {
    /// Set once the writer has written the record.
    pos: Option<Pos>,
    /// The framed record while unwritten (always) or recent (until evicted).
    data: Option<Arc<[u8]>>,
    /// Length of the framed record.
    len: u32,
}

/// The in-memory view of the log, shared by readers, `append` and the writer.
pub(super) struct Index {
    /// Index of `locs[0]`.
    first: u64,
    locs: VecDeque<Loc>,
    purged: Option<(u64, Vec<u8>)>,
    vote: Option<Vec<u8>>,
    segments: BTreeMap<u64, SegRef>,
    /// Bytes held in `data` of written entries (unwritten ones are bounded by the queue).
    cached_bytes: u64,
    /// Written entries below this index hold no `data`.
    cache_cursor: u64,
    /// Set when a write or fsync failed: the log refuses every later write.
    failed: Option<String>,
}

impl Index {
    fn next(&self) -> u64 {
        self.first + self.locs.len() as u64
    }

    fn loc(&self, index: u64) -> Option<&Loc> {
        let i = index.checked_sub(self.first)?;
        self.locs.get(usize::try_from(i).ok()?)
    }

    /// Records where the writer put entry `index`, unless it was truncated meanwhile.
    fn mark_written(&mut self, index: u64, rec: &Arc<[u8]>, pos: Pos) {
        let Some(i) = index.checked_sub(self.first) else { return };
        let Some(loc) = self.locs.get_mut(i as usize) else { return };
        if loc.pos.is_none() && loc.data.as_ref().is_some_and(|d| Arc::ptr_eq(d, rec)) {
            loc.pos = Some(pos);
            self.cached_bytes += u64::from(loc.len);
        }
    }

    /// Drops the bytes of the oldest written entries beyond [`CACHE_BYTES_MAX`].
    fn evict(&mut self) {
        while self.cached_bytes > CACHE_BYTES_MAX {
            let c = self.cache_cursor.max(self.first);
            let Some(loc) = self.locs.get_mut((c - self.first) as usize) else { break };
            if loc.pos.is_none() {
                break;
            }
            if loc.data.take().is_some() {
                self.cached_bytes -= u64::from(loc.len);
            }
            self.cache_cursor = c + 1;
        }
    }

    fn forget(&mut self, loc: &Loc) {
        if loc.pos.is_some() && loc.data.is_some() {
            self.cached_bytes -= u64::from(loc.len);
        }
    }

    /// Removes entries `since..`.
    fn truncate_from(&mut self, since: u64) {
        while self.next() > since {
            let Some(loc) = self.locs.pop_back() else { break };
            self.forget(&loc);
        }
        self.cache_cursor = self.cache_cursor.min(self.next());
    }

    /// Removes entries `..=upto` and records the purge point.
    fn purge_upto(&mut self, upto: u64, marker: Vec<u8>) {
        while self.first <= upto {
            let Some(loc) = self.locs.pop_front() else { break };
            self.forget(&loc);
            self.first += 1;
        }
        if self.locs.is_empty() {
            self.first = self.first.max(upto + 1);
        }
        self.purged = Some((upto, marker));
    }
}

/// State shared by the handle and the writer thread.
pub(super) struct Shared {
    index: RwLock<Index>,
    /// Completed group fsyncs, for tests and metrics.
    syncs: AtomicU64,
}

/// The write-ahead log. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Wal {
    shared: Arc<Shared>,
    tx: mpsc::Sender<Op>,
    /// Keeps "add to the index, then queue" atomic across concurrent callers,
    /// so the queue order is the index order.
    gate: tokio::sync::Mutex<()>,
    dir: PathBuf,
}

impl Wal {
    /// Opens (or creates) the log in `opts.dir`: takes the directory lock,
    /// scans every segment, truncates a torn tail of the newest one (with a
    /// warning), and fails on any other damage, naming the file and offset.
    /// Blocking; call it from a blocking context.
    pub fn open(opts: WalOptions) -> Result<Wal, StorageError> {
        if opts.segment_bytes_max < SEGMENT_BYTES_MIN {
            return Err(StorageError::Invalid(format!(
                "segment size {} is below the minimum {SEGMENT_BYTES_MIN}",
                opts.segment_bytes_max
            )));
        }
        let (layout, index) = recover::recover(&opts)?;
        let shared = Arc::new(Shared { index: RwLock::new(index), syncs: AtomicU64::new(0) });
        let (tx, rx) = mpsc::channel(WRITE_QUEUE_OPS_MAX);
        writer::spawn(layout, shared.clone(), rx).map_err(StorageError::io("start writer thread", &opts.dir))?;
        Ok(Wal { shared, tx, gate: tokio::sync::Mutex::new(()), dir: opts.dir })
    }

    /// The live range and the purge point.
    pub fn bounds(&self) -> LogBounds {
        let idx = self.shared.index.read();
        LogBounds { first: idx.first, next: idx.next(), purged: idx.purged.clone() }
    }

    /// The last vote saved by [`Wal::save_vote`].
    pub fn vote(&self) -> Option<Vec<u8>> {
        self.shared.index.read().vote.clone()
    }

    /// Bytes of the files in the log directory.
    pub fn disk_bytes(&self) -> u64 {
        fsutil::dir_bytes(&self.dir)
    }

    /// Group fsyncs completed since open.
    pub fn sync_count(&self) -> u64 {
        self.shared.syncs.load(Ordering::Relaxed)
    }

    /// Appends `(index, bytes)` entries. Indexes must continue the log without
    /// a hole (an empty, never-purged log accepts any first index). The entries
    /// are readable when this returns; `done` runs once they are fsynced.
    pub async fn append(&self, entries: Vec<(u64, Vec<u8>)>, done: FlushDone) -> Result<(), StorageError> {
        let mut records = Vec::with_capacity(entries.len());
        for (index, body) in &entries {
            let rec: Arc<[u8]> = record::frame(&[&index.to_le_bytes(), body])?.into();
            records.push((*index, rec));
        }
        let _gate = self.gate.lock().await;
        let start = {
            let mut idx = self.shared.index.write();
            if let Some(msg) = &idx.failed {
                return Err(StorageError::Failed(msg.clone()));
            }
            if let Some((first, _)) = records.first() {
                if idx.locs.is_empty() && idx.purged.is_none() {
                    idx.first = *first;
                    idx.cache_cursor = *first;
                }
            }
            for ((index, _), expect) in records.iter().zip(idx.next()..) {
                if *index != expect {
                    return Err(StorageError::Invalid(format!(
                        "append of index {index}, but the next index is {expect}"
                    )));
                }
            }
            let start = idx.next();
            for (_, rec) in &records {
                idx.locs.push_back(Loc { pos: None, data: Some(rec.clone()), len: rec.len() as u32 });
            }
            start
        };
        if self.tx.send(Op::Append { records, done }).await.is_err() {
            self.shared.index.write().truncate_from(start);
            return Err(StorageError::Closed);
        }
        Ok(())
    }

    /// Reads the live entries in `range` (indexes outside the live range are
    /// skipped), verifying each record's checksum and index.
    pub fn read(&self, range: Range<u64>) -> Result<Vec<(u64, Vec<u8>)>, StorageError> {
        enum Item {
            Mem(Arc<[u8]>),
            Disk { seg: SegRef, offset: u64, len: u32 },
        }
        let plan: Vec<(u64, Item)> = {
            let idx = self.shared.index.read();
            let (start, end) = (range.start.max(idx.first), range.end.min(idx.next()));
            let mut plan = Vec::with_capacity(end.saturating_sub(start) as usize);
            for i in start..end {
                let loc = idx.loc(i).ok_or_else(|| StorageError::Invalid(format!("entry {i} missing")))?;
                let item = match (&loc.data, loc.pos) {
                    (Some(d), _) => Item::Mem(d.clone()),
                    (None, Some(pos)) => {
                        let seg = idx.segments.get(&pos.segment).cloned().ok_or_else(|| {
                            StorageError::Invalid(format!("entry {i} points to unknown segment {}", pos.segment))
                        })?;
                        Item::Disk { seg, offset: pos.offset, len: loc.len }
                    }
                    (None, None) => return Err(StorageError::Invalid(format!("entry {i} has no bytes"))),
                };
                plan.push((i, item));
            }
            plan
        };

        let mut out = Vec::with_capacity(plan.len());
        let mut k = 0;
        while k < plan.len() {
            match &plan[k].1 {
                Item::Mem(rec) => {
                    out.push((plan[k].0, entry_body(rec, plan[k].0, Path::new("<memory>"), 0)?));
                    k += 1;
                }
                Item::Disk { seg, offset, len } => {
                    // Coalesce neighbours in the same segment into one read.
                    let mut end = *offset + u64::from(*len);
                    let mut j = k + 1;
                    while let Some((_, Item::Disk { seg: s, offset: o, len: l })) = plan.get(j) {
                        if !Arc::ptr_eq(&s.file, &seg.file)
                            || *o != end
                            || end + u64::from(*l) - offset > READ_RUN_BYTES_MAX
                        {
                            break;
                        }
                        end += u64::from(*l);
                        j += 1;
                    }
                    let mut buf = vec![0u8; (end - offset) as usize];
                    fsutil::read_exact_at(&seg.file, &mut buf, *offset)
                        .map_err(StorageError::io("read", seg.path.to_path_buf()))?;
                    let mut at = 0usize;
                    for (index, _) in &plan[k..j] {
                        let file_offset = offset + at as u64;
                        let next = match record::parse(&buf, at) {
                            Parsed::Record { next, .. } => next,
                            Parsed::Bad(bad) => {
                                return Err(StorageError::corrupt(seg.path.to_path_buf(), file_offset, bad.to_string()))
                            }
                            Parsed::End => {
                                return Err(StorageError::corrupt(
                                    seg.path.to_path_buf(),
                                    file_offset,
                                    "record missing",
                                ))
                            }
                        };
                        out.push((*index, entry_body(&buf[at..next], *index, &seg.path, file_offset)?));
                        at = next;
                    }
                    k = j;
                }
            }
        }
        Ok(out)
    }

    /// Removes entries `since..` durably (newer segments first, so a crash never leaves a hole).
    pub async fn truncate(&self, since: u64) -> Result<(), StorageError> {
        self.call(|reply| Op::Truncate { since, reply }).await
    }

    /// Removes entries `..=upto`: saves the purge point with `marker`
    /// durably, then deletes the segments wholly below it.
    pub async fn purge(&self, upto: u64, marker: Vec<u8>) -> Result<(), StorageError> {
        self.call(|reply| Op::Purge { upto, marker, reply }).await
    }

    /// Saves the vote durably (after every earlier append is durable).
    pub async fn save_vote(&self, vote: Vec<u8>) -> Result<(), StorageError> {
        self.call(|reply| Op::SaveVote { vote, reply }).await
    }

    /// Makes every append durable, stops the writer thread and releases the
    /// directory lock. Later calls fail with [`StorageError::Closed`].
    pub async fn close(&self) -> Result<(), StorageError> {
        self.call(|reply| Op::Close { reply }).await
    }

    async fn call(&self, op: impl FnOnce(Reply) -> Op) -> Result<(), StorageError> {
        let _gate = self.gate.lock().await;
        let (tx, rx) = oneshot::channel();
        self.tx.send(op(tx)).await.map_err(|_| StorageError::Closed)?;
        rx.await.map_err(|_| StorageError::Closed)?
    }
}

/// The entry bytes of a framed record, after checking it holds entry `index`.
fn entry_body(rec: &[u8], index: u64, path: &Path, offset: u64) -> Result<Vec<u8>, StorageError> {
    let payload = rec.get(record::HEADER_BYTES..).unwrap_or_default();
    match record::read_u64(payload, 0) {
        Some(i) if i == index => Ok(payload[INDEX_BYTES..].to_vec()),
        Some(i) => Err(StorageError::corrupt(path, offset, format!("record holds index {i}, expected {index}"))),
        None => Err(StorageError::corrupt(path, offset, "record too short for an index")),
    }
}

/// The header record of a segment: magic, format version, first index.
fn segment_header(first: u64) -> Result<Vec<u8>, StorageError> {
    record::frame(&[SEGMENT_MAGIC, &SEGMENT_VERSION.to_le_bytes(), &first.to_le_bytes()])
}

/// Length of [`segment_header`]'s output.
const SEGMENT_HEADER_BYTES: u64 = (record::HEADER_BYTES + 8 + 4 + 8) as u64;
const SEGMENT_MAGIC: &[u8; 8] = b"corralwl";
const SEGMENT_VERSION: u32 = 1;

fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("{SEGMENT_PREFIX}{first:020}"))
}
