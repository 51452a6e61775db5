//! openraft's state machine over a [`StateMachine`] and the snapshot files.
//!
//! The state machine lives in memory, shared with the server (which reads it
//! under the read lock). It is made durable by snapshots plus the log: on
//! open it is restored from the newest valid snapshot, and openraft re-applies
//! the log after it. The last applied log id and membership — openraft's
//! bookkeeping — live here and in each snapshot's metadata.
//!
//! Snapshots never stall writes: the capture is taken under the read lock
//! (cheap, by contract), then serialized and fsynced on a blocking thread.

use std::sync::Arc;

use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine};
use openraft::{EntryPayload, ErrorSubject, ErrorVerb, OptionalSend};
use parking_lot::{Mutex, RwLock};

use super::io::{Blocking, SnapshotData, SnapshotDisk};
use super::types::{
    decode, encode, raft_sto_err, Blob, Entry, LogId, RaftStorageError, Snapshot, SnapshotMeta, StoredMembership,
    TypeConfig,
};
use super::{ReplicationError, StateMachine};
use crate::storage::{SnapshotFile, SnapshotJob};

/// Entries applied under one write-lock acquisition, so readers get a turn
/// during a long replay.
const APPLY_BATCH_MAX: usize = 256;

/// The snapshot `get_current_snapshot` hands out.
#[derive(Clone)]
struct Current {
    file: SnapshotFile,
    meta: SnapshotMeta,
}

/// The state machine handed to openraft.
pub(crate) struct SmStore<SM: StateMachine> {
    sm: Arc<RwLock<SM>>,
    snapshots: Arc<dyn SnapshotDisk>,
    blocking: Blocking,
    last_applied: Option<LogId>,
    membership: StoredMembership,
    /// Shared with snapshot builders, which finish after the store moved on.
    current: Arc<Mutex<Option<Current>>>,
}

impl<SM: StateMachine> SmStore<SM> {
    /// Restores `sm` from the newest valid snapshot, if any. Blocking.
    pub(crate) fn open(
        sm: Arc<RwLock<SM>>,
        snapshots: Arc<dyn SnapshotDisk>,
        blocking: Blocking,
    ) -> Result<Self, ReplicationError> {
        let mut store = SmStore {
            sm,
            snapshots,
            blocking,
            last_applied: None,
            membership: StoredMembership::default(),
            current: Arc::new(Mutex::new(None)),
        };
        if let Some(file) = store.snapshots.newest_valid()? {
            let meta: SnapshotMeta = decode(&file.meta).map_err(|e| {
                ReplicationError::Inconsistent(format!("snapshot {}: metadata unreadable: {e}", file.path.display()))
            })?;
            restore(&store.sm, store.snapshots.as_ref(), &file, &meta)?;
            tracing::info!(snapshot = %file.path.display(), last_log_id = ?meta.last_log_id, "restored state from snapshot");
            store.last_applied = meta.last_log_id;
            store.membership = meta.last_membership.clone();
            *store.current.lock() = Some(Current { file, meta });
        }
        Ok(store)
    }

    /// Index of the last entry in the snapshot the state was restored from.
    pub(crate) fn snapshot_index(&self) -> Option<u64> {
        self.current.lock().as_ref().map(|c| c.file.index)
    }
}

/// Index a snapshot file is named by: its last log index (0 when it holds nothing).
fn snapshot_index(meta: &SnapshotMeta) -> u64 {
    meta.last_log_id.map_or(0, |l| l.index)
}

/// Replaces the state machine's state with a verified snapshot. Blocking.
fn restore<SM: StateMachine>(
    sm: &RwLock<SM>,
    snapshots: &dyn SnapshotDisk,
    file: &SnapshotFile,
    meta: &SnapshotMeta,
) -> Result<(), ReplicationError> {
    let index = snapshot_index(meta);
    if index != file.index {
        return Err(ReplicationError::Inconsistent(format!(
            "snapshot {} holds metadata for index {index}",
            file.path.display()
        )));
    }
    let mut data = snapshots.open_data(file)?;
    let mut guard = sm.write();
    guard
        .restore(index, &mut data)
        .map_err(|e| ReplicationError::Inconsistent(format!("restoring snapshot {}: {e}", file.path.display())))?;
    if guard.last_applied() != index {
        return Err(ReplicationError::Inconsistent(format!(
            "state machine reports last applied {} after restoring snapshot {} at {index}",
            guard.last_applied(),
            file.path.display()
        )));
    }
    Ok(())
}

fn sm_err(verb: ErrorVerb, e: &(impl std::error::Error + 'static)) -> RaftStorageError {
    raft_sto_err(ErrorSubject::StateMachine, verb, e)
}

fn snap_err(meta: Option<&SnapshotMeta>, verb: ErrorVerb, e: &(impl std::error::Error + 'static)) -> RaftStorageError {
    raft_sto_err(ErrorSubject::Snapshot(meta.map(|m| m.signature())), verb, e)
}

impl<SM: StateMachine> RaftStateMachine<TypeConfig> for SmStore<SM> {
    type SnapshotBuilder = Builder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, StoredMembership), RaftStorageError> {
        Ok((self.last_applied, self.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Blob>, RaftStorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut entries = entries.into_iter().peekable();
        let mut out = Vec::with_capacity(entries.size_hint().0);
        let sm = self.sm.clone();
        while entries.peek().is_some() {
            let mut guard = sm.write();
            for entry in entries.by_ref().take(APPLY_BATCH_MAX) {
                let index = entry.log_id.index;
                let output = match entry.payload {
                    EntryPayload::Blank => {
                        guard.apply_other(index);
                        Blob::default()
                    }
                    EntryPayload::Normal(Blob(bytes)) => {
                        let cmd: SM::Command = decode(&bytes)
                            .map_err(|e| raft_sto_err(ErrorSubject::Apply(entry.log_id), ErrorVerb::Read, &e))?;
                        let output = guard.apply(index, &cmd);
                        Blob(encode(&output).map_err(|e| sm_err(ErrorVerb::Write, &e))?)
                    }
                    EntryPayload::Membership(m) => {
                        guard.apply_other(index);
                        self.membership = StoredMembership::new(Some(entry.log_id), m);
                        Blob::default()
                    }
                };
                self.last_applied = Some(entry.log_id);
                out.push(output);
            }
        }
        Ok(out)
    }

    async fn get_snapshot_builder(&mut self) -> Builder {
        let job = self.sm.read().capture();
        let meta = SnapshotMeta {
            last_log_id: self.last_applied,
            last_membership: self.membership.clone(),
            snapshot_id: snapshot_id(self.last_applied),
        };
        Builder {
            job: Mutex::new(Some(job)),
            meta,
            snapshots: self.snapshots.clone(),
            blocking: self.blocking,
            current: self.current.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<SnapshotData>, RaftStorageError> {
        let snapshots = self.snapshots.clone();
        let data = self
            .blocking
            .run(move || Ok(snapshots.begin_receive()?))
            .await
            .map_err(|e| snap_err(None, ErrorVerb::Write, &e))?;
        Ok(Box::new(data))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<SnapshotData>,
    ) -> Result<(), RaftStorageError> {
        let mut src = snapshot.into_reader().await.map_err(|e| snap_err(Some(meta), ErrorVerb::Write, &e))?;
        let (sm, snapshots, want) = (self.sm.clone(), self.snapshots.clone(), meta.clone());
        let file = self
            .blocking
            .run(move || {
                let file = snapshots.install(&mut src)?;
                let stored: SnapshotMeta = decode(&file.meta).map_err(|e| ReplicationError::Codec(e.to_string()))?;
                if stored.last_log_id != want.last_log_id || stored.last_membership != want.last_membership {
                    return Err(ReplicationError::Inconsistent(format!(
                        "received snapshot holds {stored}, expected {want}"
                    )));
                }
                restore(&sm, snapshots.as_ref(), &file, &want)?;
                Ok(file)
            })
            .await
            .map_err(|e| snap_err(Some(meta), ErrorVerb::Write, &e))?;
        tracing::info!(snapshot = %file.path.display(), meta = %meta, "installed snapshot from the leader");
        self.last_applied = meta.last_log_id;
        self.membership = meta.last_membership.clone();
        *self.current.lock() = Some(Current { file, meta: meta.clone() });
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot>, RaftStorageError> {
        let Some(current) = self.current.lock().clone() else { return Ok(None) };
        let (snapshots, file) = (self.snapshots.clone(), current.file.clone());
        let data = self
            .blocking
            .run(move || Ok(snapshots.open_image(&file)?))
            .await
            .map_err(|e| snap_err(Some(&current.meta), ErrorVerb::Read, &e))?;
        Ok(Some(Snapshot { meta: current.meta, snapshot: Box::new(data) }))
    }
}

/// A unique id for a snapshot transfer: the same index may be snapshotted twice.
fn snapshot_id(last: Option<LogId>) -> String {
    let (term, index) = last.map_or((0, 0), |l| (l.leader_id.term, l.index));
    format!("{term}-{index}-{:08x}", super::types::random_u32())
}

/// Writes one captured state to a snapshot file.
pub(crate) struct Builder {
    /// The capture, taken when the builder was made; used once.
    job: Mutex<Option<SnapshotJob>>,
    meta: SnapshotMeta,
    snapshots: Arc<dyn SnapshotDisk>,
    blocking: Blocking,
    current: Arc<Mutex<Option<Current>>>,
}

impl RaftSnapshotBuilder<TypeConfig> for Builder {
    async fn build_snapshot(&mut self) -> Result<Snapshot, RaftStorageError> {
        let meta = self.meta.clone();
        let Some(job) = self.job.lock().take() else {
            let e = ReplicationError::Raft("snapshot builder used twice".into());
            return Err(snap_err(Some(&meta), ErrorVerb::Write, &e));
        };
        let index = snapshot_index(&meta);
        let meta_bytes = encode(&meta).map_err(|e| snap_err(Some(&meta), ErrorVerb::Write, &e))?;
        let store = self.snapshots.clone();
        let file = self
            .blocking
            .run(move || Ok(store.write(index, &meta_bytes, job)?))
            .await
            .map_err(|e| snap_err(Some(&meta), ErrorVerb::Write, &e))?;
        {
            let mut current = self.current.lock();
            if current.as_ref().is_none_or(|c| c.file.index <= index) {
                *current = Some(Current { file: file.clone(), meta: meta.clone() });
            }
        }
        let store = self.snapshots.clone();
        let data = self
            .blocking
            .run(move || Ok(store.open_image(&file)?))
            .await
            .map_err(|e| snap_err(Some(&meta), ErrorVerb::Read, &e))?;
        Ok(Snapshot { meta, snapshot: Box::new(data) })
    }
}
