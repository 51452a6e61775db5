//! The writer thread: the only code that changes log files.
//!
//! Group commit: the thread blocks for one operation, then drains whatever
//! else is queued (up to [`WRITE_BATCH_OPS_MAX`]), writes every appended
//! record, fsyncs once, and only then runs the callbacks of all appends in
//! the batch. While it waits on an fsync, new appends pile up in the queue and
//! share the next one. Truncate, purge, vote and close first make pending
//! appends durable, then run in queue order.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread;

use tokio::sync::{mpsc, oneshot};

use super::{
    fsutil, segment_header, segment_path, FlushDone, Pos, SegRef, Shared, StorageError, PURGED_FILE,
    SEGMENT_HEADER_BYTES, UNSYNCED_BYTES_MAX, VOTE_FILE, WRITE_BATCH_OPS_MAX,
};

/// Where the writer sends an operation's outcome.
pub(super) type Reply = oneshot::Sender<Result<(), StorageError>>;

/// Work for the writer thread, executed in queue order.
pub(super) enum Op {
    Append { records: Vec<(u64, Arc<[u8]>)>, done: FlushDone },
    Truncate { since: u64, reply: Reply },
    Purge { upto: u64, marker: Vec<u8>, reply: Reply },
    SaveVote { vote: Vec<u8>, reply: Reply },
    Close { reply: Reply },
}

impl Op {
    fn bytes(&self) -> usize {
        match self {
            Op::Append { records, .. } => records.iter().map(|(_, r)| r.len()).sum(),
            _ => 0,
        }
    }
}

/// One segment file as the writer knows it.
pub(super) struct Segment {
    pub(super) first: u64,
    pub(super) path: Arc<Path>,
    pub(super) file: Arc<File>,
    /// Bytes written so far (the next record goes here).
    pub(super) len: u64,
}

impl Segment {
    pub(super) fn seg_ref(&self) -> SegRef {
        SegRef { file: self.file.clone(), path: self.path.clone() }
    }
}

/// The files of the log, owned by the writer thread.
pub(super) struct Layout {
    pub(super) dir: PathBuf,
    pub(super) segment_bytes_max: u64,
    /// Oldest first; the last one is where appends go.
    pub(super) segments: Vec<Segment>,
    /// The directory lock, released when the writer stops.
    pub(super) _lock: File,
}

/// How many leading segments hold only entries `<= upto`. The last segment
/// counts only when no live entry is left.
pub(super) fn wholly_purged(segments: &[Segment], upto: u64, live_empty: bool) -> usize {
    let n = segments.len();
    (0..n)
        .take_while(|&i| match segments.get(i + 1) {
            Some(next) => next.first <= upto.saturating_add(1),
            None => live_empty,
        })
        .count()
}

/// Starts the writer thread.
pub(super) fn spawn(layout: Layout, shared: Arc<Shared>, rx: mpsc::Receiver<Op>) -> io::Result<()> {
    let writer = Writer { layout, shared, unsynced: 0, dir_dirty: false, failed: None, waiting: Vec::new() };
    thread::Builder::new().name("corral-wal".into()).spawn(move || writer.run(rx))?;
    Ok(())
}

struct Writer {
    layout: Layout,
    shared: Arc<Shared>,
    /// Bytes written to the newest segment since its last fsync.
    unsynced: usize,
    /// A segment was created since the last directory fsync.
    dir_dirty: bool,
    /// Set by the first failed write or fsync; nothing is written after it.
    failed: Option<String>,
    /// Callbacks of appends written but not yet fsynced.
    waiting: Vec<FlushDone>,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Op>) {
        while let Some(op) = rx.blocking_recv() {
            let mut bytes = op.bytes();
            let mut batch = vec![op];
            while batch.len() < WRITE_BATCH_OPS_MAX && bytes < UNSYNCED_BYTES_MAX {
                let Ok(op) = rx.try_recv() else { break };
                bytes += op.bytes();
                batch.push(op);
            }
            let mut ops = batch.into_iter();
            while let Some(op) = ops.next() {
                match op {
                    Op::Append { records, done } => {
                        if let Err(e) = self.write_records(&records) {
                            self.fail(&e);
                        }
                        self.waiting.push(done);
                    }
                    Op::Truncate { since, reply } => {
                        let res = self.sync_and_notify().and_then(|()| self.guarded(|w| w.truncate(since)));
                        let _ = reply.send(res);
                    }
                    Op::Purge { upto, marker, reply } => {
                        let res = self.sync_and_notify().and_then(|()| self.guarded(|w| w.purge(upto, marker)));
                        let _ = reply.send(res);
                    }
                    Op::SaveVote { vote, reply } => {
                        let res = self.sync_and_notify().and_then(|()| self.guarded(|w| w.save_vote(vote)));
                        let _ = reply.send(res);
                    }
                    Op::Close { reply } => {
                        let res = self.sync_and_notify();
                        // Refuse later operations and release the directory
                        // lock before the caller hears back.
                        drop(rx);
                        drop(self);
                        for op in ops {
                            if let Op::Append { done, .. } = op {
                                done(Err(io::Error::other(StorageError::Closed.to_string())));
                            }
                        }
                        let _ = reply.send(res);
                        return;
                    }
                }
            }
            let _ = self.sync_and_notify();
        }
        let _ = self.sync_and_notify();
    }

    /// Runs a file operation unless the log already failed; a failure marks it failed.
    fn guarded(&mut self, f: impl FnOnce(&mut Self) -> Result<(), StorageError>) -> Result<(), StorageError> {
        if let Some(msg) = &self.failed {
            return Err(StorageError::Failed(msg.clone()));
        }
        let res = f(self);
        if let Err(e) = &res {
            if !matches!(e, StorageError::Invalid(_)) {
                self.fail(e);
            }
        }
        res
    }

    fn fail(&mut self, e: &StorageError) {
        if self.failed.is_none() {
            tracing::error!(error = %e, "write-ahead log failed; refusing further writes");
            let msg = e.to_string();
            self.shared.index.write().failed = Some(msg.clone());
            self.failed = Some(msg);
        }
    }

    /// Writes records to the newest segment (rolling over as needed) and
    /// publishes their positions to readers. No fsync, except to keep the
    /// unsynced bytes under [`UNSYNCED_BYTES_MAX`].
    fn write_records(&mut self, records: &[(u64, Arc<[u8]>)]) -> Result<(), StorageError> {
        if let Some(msg) = &self.failed {
            return Err(StorageError::Failed(msg.clone()));
        }
        let mut buf: Vec<u8> = Vec::new();
        let mut placed = Vec::with_capacity(records.len());
        for (index, rec) in records {
            let roll = match self.layout.segments.last() {
                None => true,
                Some(s) => {
                    let filled = s.len + buf.len() as u64;
                    filled > SEGMENT_HEADER_BYTES && filled + rec.len() as u64 > self.layout.segment_bytes_max
                }
            };
            if roll {
                self.flush(&mut buf)?;
                self.roll(*index)?;
            } else if self.unsynced + buf.len() > 0 && self.unsynced + buf.len() + rec.len() > UNSYNCED_BYTES_MAX {
                self.flush(&mut buf)?;
                self.sync_newest()?;
            }
            let Some(seg) = self.layout.segments.last() else {
                return Err(StorageError::Invalid("no segment to write to".into()));
            };
            placed.push((*index, rec.clone(), Pos { segment: seg.first, offset: seg.len + buf.len() as u64 }));
            buf.extend_from_slice(rec);
        }
        self.flush(&mut buf)?;
        let mut idx = self.shared.index.write();
        for (index, rec, pos) in &placed {
            idx.mark_written(*index, rec, *pos);
        }
        idx.evict();
        Ok(())
    }

    /// Writes `buf` at the end of the newest segment.
    fn flush(&mut self, buf: &mut Vec<u8>) -> Result<(), StorageError> {
        if buf.is_empty() {
            return Ok(());
        }
        let Some(seg) = self.layout.segments.last_mut() else {
            return Err(StorageError::Invalid("no segment to write to".into()));
        };
        fsutil::write_all_at(&seg.file, buf, seg.len).map_err(StorageError::io("write", seg.path.to_path_buf()))?;
        seg.len += buf.len() as u64;
        self.unsynced += buf.len();
        buf.clear();
        Ok(())
    }

    fn sync_newest(&mut self) -> Result<(), StorageError> {
        if let Some(seg) = self.layout.segments.last() {
            if self.unsynced > 0 {
                seg.file.sync_data().map_err(StorageError::io("fsync", seg.path.to_path_buf()))?;
            }
        }
        self.unsynced = 0;
        Ok(())
    }

    /// Starts segment `log.<first>`. The current newest segment (and the
    /// directory entry of every segment) is made durable first, so no segment
    /// but the newest can ever hold a torn write.
    fn roll(&mut self, first: u64) -> Result<(), StorageError> {
        self.sync_newest()?;
        if self.dir_dirty {
            fsutil::sync_dir(&self.layout.dir)?;
            self.dir_dirty = false;
        }
        let path = segment_path(&self.layout.dir, first);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(StorageError::io("create segment", &path))?;
        let header = segment_header(first)?;
        fsutil::write_all_at(&file, &header, 0).map_err(StorageError::io("write", &path))?;
        self.dir_dirty = true;
        self.unsynced = header.len();
        let seg = Segment { first, path: Arc::from(path.as_path()), file: Arc::new(file), len: header.len() as u64 };
        self.shared.index.write().segments.insert(first, seg.seg_ref());
        self.layout.segments.push(seg);
        tracing::debug!(segment = %path.display(), "started log segment");
        Ok(())
    }

    /// Fsyncs what was written, then reports the outcome to every waiting append.
    fn sync_and_notify(&mut self) -> Result<(), StorageError> {
        let res = match &self.failed {
            Some(msg) => Err(StorageError::Failed(msg.clone())),
            None => self.sync(),
        };
        if let Err(e) = &res {
            self.fail(e);
        }
        for done in std::mem::take(&mut self.waiting) {
            done(match &res {
                Ok(()) => Ok(()),
                Err(e) => Err(io::Error::other(e.to_string())),
            });
        }
        res
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        if self.unsynced == 0 && !self.dir_dirty {
            return Ok(());
        }
        self.sync_newest()?;
        if self.dir_dirty {
            fsutil::sync_dir(&self.layout.dir)?;
            self.dir_dirty = false;
        }
        self.shared.syncs.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn truncate(&mut self, since: u64) -> Result<(), StorageError> {
        // Hide the entries from readers and find where the first one starts.
        let cut = {
            let mut idx = self.shared.index.write();
            if since >= idx.next() {
                return Ok(());
            }
            if since < idx.first {
                return Err(StorageError::Invalid(format!(
                    "truncate at {since}, below the first live index {}",
                    idx.first
                )));
            }
            let pos = idx
                .loc(since)
                .and_then(|l| l.pos)
                .ok_or_else(|| StorageError::Invalid(format!("truncate at {since}: entry not written")))?;
            idx.truncate_from(since);
            // A segment cut back to its header is removed whole.
            let keep_containing = pos.offset > SEGMENT_HEADER_BYTES;
            idx.segments.retain(|first, _| *first < pos.segment || (*first == pos.segment && keep_containing));
            pos
        };
        let keep_containing = cut.offset > SEGMENT_HEADER_BYTES;
        // Newest first: a crash part-way leaves a prefix of the log, never a hole.
        let mut removed = false;
        while let Some(seg) = self.layout.segments.last() {
            if seg.first < cut.segment || (seg.first == cut.segment && keep_containing) {
                break;
            }
            fs::remove_file(&seg.path).map_err(StorageError::io("remove", seg.path.to_path_buf()))?;
            self.layout.segments.pop();
            removed = true;
        }
        if removed {
            self.unsynced = 0;
            fsutil::sync_dir(&self.layout.dir)?;
        }
        if keep_containing {
            let Some(seg) = self.layout.segments.last_mut() else {
                return Err(StorageError::Invalid(format!("truncate at {since}: segment {} missing", cut.segment)));
            };
            seg.file.set_len(cut.offset).map_err(StorageError::io("truncate", seg.path.to_path_buf()))?;
            seg.file.sync_data().map_err(StorageError::io("fsync", seg.path.to_path_buf()))?;
            seg.len = cut.offset;
            self.unsynced = 0;
        }
        Ok(())
    }

    fn purge(&mut self, upto: u64, marker: Vec<u8>) -> Result<(), StorageError> {
        if self.shared.index.read().purged.as_ref().is_some_and(|(p, _)| upto <= *p) {
            return Ok(());
        }
        // The purge point is durable before any file below it goes away.
        let mut payload = upto.to_le_bytes().to_vec();
        payload.extend_from_slice(&marker);
        fsutil::write_checked_atomic(&self.layout.dir, PURGED_FILE, &payload)?;
        let live_empty = {
            let mut idx = self.shared.index.write();
            idx.purge_upto(upto, marker);
            idx.locs.is_empty()
        };
        let n = wholly_purged(&self.layout.segments, upto, live_empty);
        if n == 0 {
            return Ok(());
        }
        let gone: Vec<Segment> = self.layout.segments.drain(..n).collect();
        {
            let mut idx = self.shared.index.write();
            for seg in &gone {
                idx.segments.remove(&seg.first);
            }
        }
        for seg in &gone {
            fs::remove_file(&seg.path).map_err(StorageError::io("remove", seg.path.to_path_buf()))?;
        }
        if self.layout.segments.is_empty() {
            self.unsynced = 0;
        }
        fsutil::sync_dir(&self.layout.dir)
    }

    fn save_vote(&mut self, vote: Vec<u8>) -> Result<(), StorageError> {
        fsutil::write_checked_atomic(&self.layout.dir, VOTE_FILE, &vote)?;
        self.shared.index.write().vote = Some(vote);
        Ok(())
    }
}
