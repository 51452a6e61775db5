//! openraft's log storage over a [`LogDisk`] (the write-ahead log on a server).
//!
//! Each entry (log id + payload) is stored as its bincode encoding under its
//! index; the vote and the purged log id are stored the same way. The
//! log disk does the durability work: `append` returns once the
//! entries are readable, and openraft's callback runs after the group fsync.

// openraft's own storage error is large; it is what its traits return.
#![allow(clippy::result_large_err)]

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use openraft::storage::{LogFlushed, RaftLogStorage};
use openraft::{ErrorSubject, ErrorVerb, LogState, OptionalSend, RaftLogReader};

use super::io::LogDisk;
use super::types::{decode, encode, raft_sto_err, Entry, LogId, RaftStorageError, TypeConfig, Vote};
use crate::storage::StorageError;

/// The log store handed to openraft; clones share the same log (readers are clones).
#[derive(Clone)]
pub(crate) struct LogStore {
    wal: Arc<dyn LogDisk>,
    /// The lowest index truncated away since opening (`u64::MAX`: none).
    truncated: Arc<AtomicU64>,
}

impl LogStore {
    pub(crate) fn new(wal: Arc<dyn LogDisk>) -> LogStore {
        LogStore { wal, truncated: Arc::new(AtomicU64::new(u64::MAX)) }
    }

    /// The lowest index a leader has truncated away since opening (a
    /// recovered tail that was never committed), shared with the caller.
    pub(crate) fn truncated(&self) -> Arc<AtomicU64> {
        self.truncated.clone()
    }

    /// Entries `start..end` that are live, decoded and checked.
    fn entries(&self, start: u64, end: u64) -> Result<Vec<Entry>, RaftStorageError> {
        let raw = self.wal.read(start..end).map_err(|e| read_err(ErrorSubject::Logs, &e))?;
        raw.into_iter()
            .map(|(index, bytes)| {
                let entry: Entry = decode(&bytes).map_err(|e| read_err(ErrorSubject::LogIndex(index), &e))?;
                if entry.log_id.index != index {
                    let e = StorageError::Invalid(format!("entry stored at {index} holds log id {}", entry.log_id));
                    return Err(read_err(ErrorSubject::LogIndex(index), &e));
                }
                Ok(entry)
            })
            .collect()
    }
}

fn read_err(subject: ErrorSubject<u64>, e: &(impl std::error::Error + 'static)) -> RaftStorageError {
    raft_sto_err(subject, ErrorVerb::Read, e)
}

fn write_err(subject: ErrorSubject<u64>, e: &(impl std::error::Error + 'static)) -> RaftStorageError {
    raft_sto_err(subject, ErrorVerb::Write, e)
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, RaftStorageError> {
        let start = match range.start_bound() {
            Bound::Included(&s) => s,
            Bound::Excluded(&s) => s.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let end = match range.end_bound() {
            Bound::Included(&e) => e.saturating_add(1),
            Bound::Excluded(&e) => e,
            Bound::Unbounded => u64::MAX,
        };
        self.entries(start, end)
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogStore;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, RaftStorageError> {
        let bounds = self.wal.bounds();
        let purged: Option<LogId> = match &bounds.purged {
            Some((_, marker)) => Some(decode(marker).map_err(|e| read_err(ErrorSubject::Logs, &e))?),
            None => None,
        };
        let last = if bounds.first < bounds.next {
            self.entries(bounds.next - 1, bounds.next)?.pop().map(|e| e.log_id)
        } else {
            purged
        };
        Ok(LogState { last_purged_log_id: purged, last_log_id: last })
    }

    async fn get_log_reader(&mut self) -> LogStore {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), RaftStorageError> {
        let bytes = encode(vote).map_err(|e| write_err(ErrorSubject::Vote, &e))?;
        self.wal.save_vote(bytes).await.map_err(|e| write_err(ErrorSubject::Vote, &e))
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, RaftStorageError> {
        match self.wal.vote() {
            Some(bytes) => Ok(Some(decode(&bytes).map_err(|e| read_err(ErrorSubject::Vote, &e))?)),
            None => Ok(None),
        }
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> Result<(), RaftStorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let batch = entries
            .into_iter()
            .map(|e| Ok((e.log_id.index, encode(&e).map_err(|err| write_err(ErrorSubject::Log(e.log_id), &err))?)))
            .collect::<Result<Vec<_>, RaftStorageError>>()?;
        self.wal
            .append(batch, Box::new(move |res| callback.log_io_completed(res)))
            .await
            .map_err(|e| write_err(ErrorSubject::Logs, &e))
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), RaftStorageError> {
        tracing::info!(since = %log_id, "truncating the log");
        self.truncated.fetch_min(log_id.index, Ordering::AcqRel);
        self.wal.truncate(log_id.index).await.map_err(|e| write_err(ErrorSubject::Log(log_id), &e))
    }

    async fn purge(&mut self, log_id: LogId) -> Result<(), RaftStorageError> {
        tracing::info!(upto = %log_id, "purging the log");
        let marker = encode(&log_id).map_err(|e| write_err(ErrorSubject::Log(log_id), &e))?;
        self.wal.purge(log_id.index, marker).await.map_err(|e| write_err(ErrorSubject::Log(log_id), &e))
    }
}
