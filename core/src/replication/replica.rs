//! [`Replica`]: one node's handle on the replicated log.
//!
//! Opening wires the pieces together — write-ahead log, snapshot store, state
//! machine store, openraft — checks that the snapshots and the log on disk
//! fit, and makes a standalone node leader at once. A background task keeps
//! `snap_retain_count` snapshots and purges the log below the oldest of them
//! (ZooKeeper's autopurge), after every new snapshot and, if configured, on a
//! timer.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, Fatal};
use openraft::{Config, RaftMetrics, ServerState, SnapshotPolicy};
use parking_lot::{Mutex, RwLock};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::log_store::LogStore;
use super::network::NoPeers;
use super::state_machine::SmStore;
use super::types::{decode, encode, Blob, Node, NodeId, Raft};
use super::{blocking, ReplicaOptions, ReplicaStats, ReplicationError, StateMachine, SNAP_RETAIN_COUNT_MIN};
use crate::storage::wal::SEGMENT_BYTES_DEFAULT;
use crate::storage::{LogBounds, SnapshotStore, StorageError, Wal, WalOptions};

/// How long opening waits for leadership and the replay of the recovered log.
const OPEN_TIMEOUT: Duration = Duration::from_secs(300);
/// Leader heartbeat period (unused by a lone voter, kept valid for openraft).
const HEARTBEAT_INTERVAL_MS: u64 = 50;
/// Election timeouts: short, since a lone voter elects itself at once anyway.
const ELECTION_TIMEOUT_MIN_MS: u64 = 100;
const ELECTION_TIMEOUT_MAX_MS: u64 = 200;

/// One node's handle on the replicated log driving a [`StateMachine`].
pub struct Replica<SM: StateMachine> {
    node_id: NodeId,
    raft: Raft,
    /// Shared with openraft's log store; kept to report sizes and to close it.
    wal: Arc<Wal>,
    /// Shared with the state machine store; kept to report sizes and to close it.
    snapshots: Arc<SnapshotStore>,
    metrics: watch::Receiver<RaftMetrics<NodeId, Node>>,
    /// The retention task and the sender that stops it.
    maintenance: Mutex<Option<(oneshot::Sender<()>, JoinHandle<()>)>>,
    shut_down: AtomicBool,
    _sm: PhantomData<fn(SM::Command) -> SM::Output>,
}

impl<SM: StateMachine> Replica<SM> {
    /// Opens/creates durable state, restores the SM from the newest valid snapshot, replays the log,
    /// and runs as the single voter of a one-node ensemble (standalone). Returns only once every
    /// entry recovered from disk has been applied and the node is leader, ready for proposals.
    ///
    /// `sm` must be empty (`last_applied() == 0`); the caller keeps its own
    /// handle to serve reads.
    pub async fn open_standalone(opts: ReplicaOptions, sm: Arc<RwLock<SM>>) -> Result<Self, ReplicationError> {
        Self::open_with(opts, sm, SEGMENT_BYTES_DEFAULT).await
    }

    /// [`Replica::open_standalone`] with a chosen log segment size.
    pub(crate) async fn open_with(
        opts: ReplicaOptions,
        sm: Arc<RwLock<SM>>,
        segment_bytes_max: u64,
    ) -> Result<Self, ReplicationError> {
        validate(&opts)?;
        if sm.read().last_applied() != 0 {
            return Err(ReplicationError::Config("the state machine must start empty".into()));
        }
        let wal_opts = WalOptions { dir: opts.log_dir.clone(), segment_bytes_max };
        let wal = Arc::new(blocking(move || Ok(Wal::open(wal_opts)?)).await?);
        let data_dir = opts.data_dir.clone();
        let snapshots = match blocking(move || Ok(SnapshotStore::open(data_dir)?)).await {
            Ok(s) => Arc::new(s),
            Err(e) => return Err(close_after(e, &wal, None).await),
        };
        let (wal2, snapshots2) = (wal.clone(), snapshots.clone());
        let started = blocking(move || {
            let sm_store = SmStore::open(sm, snapshots2)?;
            let bounds = wal2.bounds();
            check_fit(&bounds, sm_store.snapshot_index())?;
            Ok((sm_store, bounds))
        })
        .await;
        let (sm_store, bounds) = match started {
            Ok(v) => v,
            Err(e) => return Err(close_after(e, &wal, Some(&snapshots)).await),
        };
        let recovered_last = (bounds.first < bounds.next).then(|| bounds.next - 1);

        let config = Arc::new(raft_config(&opts)?);
        let log_store = LogStore::new(wal.clone());
        let raft = match Raft::new(opts.node_id, config, NoPeers, log_store, sm_store).await {
            Ok(r) => r,
            Err(e) => return Err(close_after(raft_err(e), &wal, Some(&snapshots)).await),
        };
        if let Err(e) = start_leading(&raft, opts.node_id, recovered_last).await {
            let _ = raft.shutdown().await;
            return Err(close_after(e, &wal, Some(&snapshots)).await);
        }

        let (stop_tx, stop_rx) = oneshot::channel();
        let task = tokio::spawn(maintain(
            raft.clone(),
            snapshots.clone(),
            opts.snap_retain_count,
            opts.purge_interval,
            stop_rx,
        ));
        tracing::info!(node_id = opts.node_id, last_log_index = ?recovered_last, "replica ready (standalone leader)");
        Ok(Replica {
            node_id: opts.node_id,
            metrics: raft.metrics(),
            raft,
            wal,
            snapshots,
            maintenance: Mutex::new(Some((stop_tx, task))),
            shut_down: AtomicBool::new(false),
            _sm: PhantomData,
        })
    }

    /// Appends the command, waits until committed (on disk, fsynced) and applied; returns (index, output).
    pub async fn propose(&self, cmd: SM::Command) -> Result<(u64, SM::Output), ReplicationError> {
        self.submit(cmd).await?.await
    }

    /// Hands the command to the log and returns once it is queued, with a
    /// future for its outcome. Commands submitted one after another are
    /// logged in that order, and a batch of them shares one fsync: this is
    /// how a connection pipelines its writes.
    pub async fn submit(
        &self,
        cmd: SM::Command,
    ) -> Result<impl std::future::Future<Output = Result<(u64, SM::Output), ReplicationError>> + Send + 'static, ReplicationError>
    {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(ReplicationError::ShutDown);
        }
        let bytes = encode(&cmd).map_err(|e| ReplicationError::Codec(format!("command: {e}")))?;
        let rx = match self.raft.client_write_ff(Blob(bytes)).await {
            Ok(rx) => rx,
            Err(Fatal::Stopped) => return Err(ReplicationError::ShutDown),
            Err(e) => return Err(ReplicationError::Raft(e.to_string())),
        };
        Ok(async move {
            let resp = match rx.await {
                Err(_) => return Err(ReplicationError::ShutDown),
                Ok(Ok(resp)) => resp,
                Ok(Err(ClientWriteError::ForwardToLeader(f))) => {
                    return Err(ReplicationError::NotLeader { leader: f.leader_id })
                }
                Ok(Err(e)) => return Err(ReplicationError::Raft(e.to_string())),
            };
            let output: SM::Output =
                decode(&resp.data.0).map_err(|e| ReplicationError::Codec(format!("output: {e}")))?;
            Ok((resp.log_id.index, output))
        })
    }

    /// Whether this node is currently the leader (proposals are accepted).
    pub fn is_leader(&self) -> bool {
        let m = self.metrics.borrow();
        m.state == ServerState::Leader && m.current_leader == Some(self.node_id)
    }

    /// Log, apply and snapshot positions, and the sizes of both directories.
    pub fn stats(&self) -> ReplicaStats {
        let (last_log_index, last_applied, snapshot_index) = {
            let m = self.metrics.borrow();
            (m.last_log_index, m.last_applied.map(|l| l.index), m.snapshot.map(|l| l.index))
        };
        ReplicaStats {
            last_log_index,
            last_applied,
            snapshot_index,
            data_dir_bytes: self.snapshots.disk_bytes(),
            log_dir_bytes: self.wal.disk_bytes(),
        }
    }

    /// Stops consensus and the retention task, makes the log durable and
    /// releases both directories. Idempotent; proposals fail afterwards.
    pub async fn shutdown(&self) -> Result<(), ReplicationError> {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let maintenance = self.maintenance.lock().take();
        if let Some((stop, task)) = maintenance {
            let _ = stop.send(());
            let _ = task.await;
        }
        let raft_res = self.raft.shutdown().await.map_err(|e| ReplicationError::Raft(format!("shutdown: {e}")));
        let wal_res = match self.wal.close().await {
            Ok(()) | Err(StorageError::Closed) => Ok(()),
            Err(e) => Err(ReplicationError::Storage(e)),
        };
        self.snapshots.close();
        tracing::info!(node_id = self.node_id, "replica shut down");
        raft_res.and(wal_res)
    }
}

impl<SM: StateMachine> Drop for Replica<SM> {
    /// Without [`Replica::shutdown`], stop what can be stopped without waiting:
    /// the retention task and (on a tokio runtime) consensus. The log's writer
    /// thread makes everything durable and exits once consensus lets go of it.
    fn drop(&mut self) {
        if self.shut_down.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some((_, task)) = self.maintenance.lock().take() {
            task.abort();
        }
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            let raft = self.raft.clone();
            handle.spawn(async move {
                let _ = raft.shutdown().await;
            });
        }
    }
}

fn validate(opts: &ReplicaOptions) -> Result<(), ReplicationError> {
    if opts.snap_count == 0 {
        return Err(ReplicationError::Config("snap_count must be at least 1".into()));
    }
    if opts.snap_retain_count < SNAP_RETAIN_COUNT_MIN {
        return Err(ReplicationError::Config(format!(
            "snap_retain_count must be at least {SNAP_RETAIN_COUNT_MIN}, got {}",
            opts.snap_retain_count
        )));
    }
    if opts.purge_interval.is_some_and(|d| d.is_zero()) {
        return Err(ReplicationError::Config("purge_interval must be positive (or None)".into()));
    }
    Ok(())
}

fn raft_config(opts: &ReplicaOptions) -> Result<Config, ReplicationError> {
    Config {
        cluster_name: "corral".into(),
        heartbeat_interval: HEARTBEAT_INTERVAL_MS,
        election_timeout_min: ELECTION_TIMEOUT_MIN_MS,
        election_timeout_max: ELECTION_TIMEOUT_MAX_MS,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(opts.snap_count),
        // Purging is driven by the retention task (oldest retained snapshot),
        // never by openraft on its own.
        max_in_snapshot_log_to_keep: u64::MAX,
        purge_batch_size: 1,
        ..Config::default()
    }
    .validate()
    .map_err(|e| ReplicationError::Config(e.to_string()))
}

/// The log must continue the snapshot without a hole: whatever was purged
/// must be covered by the snapshot the state was restored from.
fn check_fit(bounds: &LogBounds, snapshot: Option<u64>) -> Result<(), ReplicationError> {
    let first_needed = snapshot.map_or(0, |s| s + 1);
    if let Some((purged, _)) = &bounds.purged {
        if snapshot.is_none_or(|s| s < *purged) {
            return Err(ReplicationError::Inconsistent(format!(
                "log entries up to {purged} were purged, but no valid snapshot covers them (newest valid snapshot: {snapshot:?})"
            )));
        }
    } else if bounds.first < bounds.next && bounds.first > first_needed {
        return Err(ReplicationError::Inconsistent(format!(
            "the log starts at {} without a purge point, but entries from {first_needed} are needed",
            bounds.first
        )));
    }
    Ok(())
}

/// Makes this lone voter leader: initialize a fresh node, or call an election
/// at once on restart; then wait until the recovered log is applied.
async fn start_leading(raft: &Raft, id: NodeId, recovered_last: Option<u64>) -> Result<(), ReplicationError> {
    if !raft.is_initialized().await.map_err(raft_err)? {
        let members = BTreeMap::from([(id, Node::default())]);
        raft.initialize(members).await.map_err(|e| ReplicationError::Raft(format!("initialize: {e}")))?;
    } else {
        let voter = raft
            .with_raft_state(move |st| st.membership_state.effective().voter_ids().any(|v| v == id))
            .await
            .map_err(raft_err)?;
        if !voter {
            return Err(ReplicationError::Config(format!(
                "node {id} is not a voter of the membership stored in this directory"
            )));
        }
        raft.trigger().elect().await.map_err(raft_err)?;
    }
    let ready = raft
        .wait(Some(OPEN_TIMEOUT))
        .metrics(
            move |m| {
                m.running_state.is_err()
                    || (m.state == ServerState::Leader
                        && m.current_leader == Some(id)
                        && m.last_log_index >= recovered_last
                        && m.last_applied.map(|l| l.index) == m.last_log_index)
            },
            "leader with the recovered log applied",
        )
        .await
        .map_err(|e| ReplicationError::Raft(e.to_string()))?;
    match &ready.running_state {
        Ok(()) => Ok(()),
        Err(e) => Err(ReplicationError::Raft(e.to_string())),
    }
}

/// Keeps `retain` snapshots and purges the log below the oldest of them,
/// after each new snapshot and every `every` (autopurge), until stopped.
async fn maintain(
    raft: Raft,
    snapshots: Arc<SnapshotStore>,
    retain: usize,
    every: Option<Duration>,
    mut stop: oneshot::Receiver<()>,
) {
    let mut metrics = raft.metrics();
    let mut seen = metrics.borrow().snapshot.map(|l| l.index);
    let mut ticker = every.map(tokio::time::interval);
    loop {
        let tick = async {
            match ticker.as_mut() {
                Some(t) => {
                    t.tick().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = &mut stop => return,
            changed = metrics.changed() => {
                if changed.is_err() {
                    return;
                }
                let now = metrics.borrow_and_update().snapshot.map(|l| l.index);
                if now == seen {
                    continue;
                }
                seen = now;
            }
            _ = tick => {}
        }
        if let Err(e) = purge(&raft, &snapshots, retain).await {
            tracing::warn!(error = %e, "purging old snapshots and log failed");
        }
    }
}

async fn purge(raft: &Raft, snapshots: &Arc<SnapshotStore>, retain: usize) -> Result<(), ReplicationError> {
    let current = raft.metrics().borrow().snapshot.map(|l| l.index);
    let store = snapshots.clone();
    let kept = blocking(move || Ok(store.retain(retain, current)?)).await?;
    if let Some(oldest) = kept.first() {
        raft.trigger().purge_log(*oldest).await.map_err(raft_err)?;
    }
    Ok(())
}

fn raft_err(e: Fatal<NodeId>) -> ReplicationError {
    match e {
        Fatal::Stopped => ReplicationError::ShutDown,
        e => ReplicationError::Raft(e.to_string()),
    }
}

/// Closes what was opened before a failed open, so the directories are free again.
async fn close_after(e: ReplicationError, wal: &Wal, snapshots: Option<&SnapshotStore>) -> ReplicationError {
    let _ = wal.close().await;
    if let Some(s) = snapshots {
        s.close();
    }
    e
}
