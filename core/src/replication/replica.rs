//! [`Replica`]: one node's handle on the replicated log.
//!
//! Opening wires the pieces together — write-ahead log, snapshot store, state
//! machine store, openraft — checks that the snapshots and the log on disk
//! fit, and makes a standalone node leader at once. A background task keeps
//! `snap_retain_count` snapshots and purges the log below the oldest of them
//! (ZooKeeper's autopurge), after every new snapshot and, if configured, on a
//! timer.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::marker::PhantomData;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{ClientWriteError, Fatal};
use openraft::{Config, RaftMetrics, ServerState, SnapshotPolicy};
use parking_lot::{Mutex, RwLock};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::io::{PeerNetwork, ReplicaIo};
use super::log_store::LogStore;
use super::network::NoPeers;
use super::state_machine::SmStore;
use super::transport::{self, ForwardReply, Kind, Link, MembersReply, PeerContext, Peers, ReadIndexReply};
use super::types::{decode, encode, Blob, Node, NodeId, Raft};
use super::{ReplicaOptions, ReplicaStats, ReplicationError, StateMachine, SNAP_RETAIN_COUNT_MIN};
use crate::storage::{LogBounds, StorageError};

/// How long opening waits for leadership and the replay of the recovered log.
const OPEN_TIMEOUT: Duration = Duration::from_secs(300);
/// Leader heartbeat period (unused by a lone voter, kept valid for openraft).
const HEARTBEAT_INTERVAL_MS: u64 = 50;
/// Election timeouts: short, since a lone voter elects itself at once anyway.
const ELECTION_TIMEOUT_MIN_MS: u64 = 100;
const ELECTION_TIMEOUT_MAX_MS: u64 = 200;

/// How long the leader waits before asking again to add a configured observer it could not add.
const LEARNER_RETRY: Duration = Duration::from_millis(100);
/// How long a forwarded request waits for a leader to be known and reachable.
const LEADER_WAIT: Duration = Duration::from_secs(5);
/// How long a follower waits to apply a write the leader has committed.
const APPLY_WAIT: Duration = Duration::from_secs(30);

/// One configured member of an ensemble.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Member {
    /// Peer address, `host:port`, other members connect to.
    pub addr: String,
    /// Voter (ZooKeeper participant) or learner (observer).
    pub voter: bool,
}

/// How a node of a replicated ensemble finds and times its peers.
#[derive(Debug, Clone)]
pub struct EnsembleOptions {
    /// Every configured member, this node included.
    pub members: BTreeMap<u64, Member>,
    /// Where this node accepts peer connections.
    pub listen: SocketAddr,
    /// Leader heartbeat period.
    pub heartbeat: Duration,
    /// A follower that hears nothing from the leader for a random time in
    /// `[election_timeout, 1.5 × election_timeout)` (after the leader's
    /// lease of 1.5 × election_timeout) calls an election.
    pub election_timeout: Duration,
    /// A leader that hears from no quorum for this long stops serving
    /// (ZooKeeper: syncLimit × tickTime).
    pub quorum_lease: Duration,
}

/// This node's part in the ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The only member of an ensemble of one.
    Standalone,
    /// Leads: orders every write.
    Leader,
    /// A voter following the leader.
    Follower,
    /// A non-voting member (ZooKeeper's observer).
    Observer,
    /// A voter with no leader known (election under way, or no quorum).
    Looking,
}

impl Role {
    /// ZooKeeper's name for the role, as `srvr` shows it (`leader`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Role::Standalone => "standalone",
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Observer => "observer",
            Role::Looking => "looking",
        }
    }
}

/// Membership and replication figures, for `srvr`, `mntr` and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnsembleStats {
    /// This node's role.
    pub role: Role,
    /// The leader this node knows of.
    pub leader: Option<u64>,
    /// The leader's term (election epoch).
    pub term: u64,
    /// Voting members and their peer addresses.
    pub voters: BTreeMap<u64, String>,
    /// Non-voting members and their peer addresses.
    pub learners: BTreeMap<u64, String>,
    /// On the leader: members (other than itself) whose log matches the
    /// leader's up to its commit point or close behind.
    pub synced: BTreeSet<u64>,
}

/// The outcome of a submitted command, ready once it is applied locally.
pub type Applied<O> = Pin<Box<dyn Future<Output = Result<(u64, O), ReplicationError>> + Send + 'static>>;

/// The peer side of a replicated node.
struct Ensemble {
    ctx: Arc<PeerContext>,
    /// A leader that has heard from no quorum for this long stops serving.
    quorum_lease: Duration,
    listener: JoinHandle<()>,
    membership: JoinHandle<()>,
    /// Breaks elections that keep splitting (see [`break_split_votes`]).
    elections: JoinHandle<()>,
    /// The connection to the current leader, made on first use.
    link: tokio::sync::Mutex<Option<Arc<Link>>>,
}

/// One node's handle on the replicated log driving a [`StateMachine`].
pub struct Replica<SM: StateMachine> {
    node_id: NodeId,
    raft: Raft,
    ensemble: Option<Ensemble>,
    /// Log and snapshots (shared with openraft's stores; kept to report
    /// sizes and to close them) and the peer network.
    io: ReplicaIo,
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
        validate(&opts)?;
        let io = ReplicaIo::on_disk(&opts).await?;
        Self::open_on(opts, sm, io, None).await
    }

    /// Opens a member of a replicated ensemble: recovers durable state like
    /// [`Replica::open_standalone`], accepts peer connections, and (on a
    /// fresh voter) records the configured voters as the first membership.
    /// Returns once the recovered log is applied; a leader is elected in the
    /// background once a quorum of voters runs.
    pub async fn open_member(
        opts: ReplicaOptions,
        sm: Arc<RwLock<SM>>,
        ensemble: EnsembleOptions,
    ) -> Result<Self, ReplicationError> {
        validate(&opts)?;
        validate_ensemble(opts.node_id, &ensemble)?;
        let io = ReplicaIo::on_disk(&opts).await?;
        Self::open_on(opts, sm, io, Some(ensemble)).await
    }

    /// Opens standalone (`ensemble` = `None`) or as a member over the given
    /// I/O (see [`ReplicaIo`]; the directories in `opts` are not used, the
    /// I/O holds the storage). On failure the storage is closed.
    pub async fn open_on(
        opts: ReplicaOptions,
        sm: Arc<RwLock<SM>>,
        io: ReplicaIo,
        ensemble: Option<EnsembleOptions>,
    ) -> Result<Self, ReplicationError> {
        match Self::start(opts, sm, io.clone(), ensemble).await {
            Ok(r) => Ok(r),
            Err(e) => {
                io.close().await;
                Err(e)
            }
        }
    }

    /// Opens on disk with a chosen log segment size (tests of segment rollover).
    #[cfg(test)]
    pub(crate) async fn open_with(
        opts: ReplicaOptions,
        sm: Arc<RwLock<SM>>,
        segment_bytes_max: u64,
        ensemble: Option<EnsembleOptions>,
    ) -> Result<Self, ReplicationError> {
        validate(&opts)?;
        let io = ReplicaIo::on_disk_with(&opts, segment_bytes_max).await?;
        Self::open_on(opts, sm, io, ensemble).await
    }

    async fn start(
        opts: ReplicaOptions,
        sm: Arc<RwLock<SM>>,
        io: ReplicaIo,
        ensemble: Option<EnsembleOptions>,
    ) -> Result<Self, ReplicationError> {
        validate(&opts)?;
        if let Some(e) = &ensemble {
            validate_ensemble(opts.node_id, e)?;
        }
        if sm.read().last_applied() != 0 {
            return Err(ReplicationError::Config("the state machine must start empty".into()));
        }
        let (log, snapshots, blocking) = (io.log.clone(), io.snapshots.clone(), io.blocking);
        let (sm_store, bounds) = blocking
            .run(move || {
                let sm_store = SmStore::open(sm, snapshots, blocking)?;
                let bounds = log.bounds();
                check_fit(&bounds, sm_store.snapshot_index())?;
                Ok((sm_store, bounds))
            })
            .await?;
        let recovered_last = (bounds.first < bounds.next).then(|| bounds.next - 1);

        let config = Arc::new(raft_config(&opts, ensemble.as_ref())?);
        let lease = Duration::from_millis(config.election_timeout_max);
        let log_store = LogStore::new(io.log.clone());
        let truncated = log_store.truncated();
        let Some(members) = ensemble else {
            let raft = Raft::new(opts.node_id, config, NoPeers, log_store, sm_store).await.map_err(raft_err)?;
            if let Err(e) = start_leading(&raft, opts.node_id, recovered_last).await {
                let _ = raft.shutdown().await;
                return Err(e);
            }
            return Ok(Self::assemble(opts, raft, io, None));
        };
        let listener = io
            .network
            .listen(members.listen)
            .await
            .map_err(|e| ReplicationError::Config(format!("cannot listen for peers on {}: {e}", members.listen)))?;
        let peers = Peers { id: opts.node_id, net: io.network.clone() };
        let raft = Raft::new(opts.node_id, config, peers, log_store, sm_store).await.map_err(raft_err)?;
        let ctx = Arc::new(PeerContext::new(opts.node_id, raft.clone(), io.network.clone(), lease, members.heartbeat));
        let listener = tokio::spawn(transport::serve(listener, ctx.clone()));
        if let Err(e) = join_ensemble(&raft, opts.node_id, &members, (recovered_last, truncated), &io).await {
            listener.abort();
            let _ = raft.shutdown().await;
            return Err(e);
        }
        let membership = tokio::spawn(keep_learners(raft.clone(), opts.node_id, members.members.clone()));
        let elections = tokio::spawn(break_split_votes(raft.clone(), opts.node_id, members.election_timeout));
        let quorum_lease = members.quorum_lease;
        let ensemble =
            Ensemble { ctx, quorum_lease, listener, membership, elections, link: tokio::sync::Mutex::new(None) };
        Ok(Self::assemble(opts, raft, io, Some(ensemble)))
    }

    fn assemble(opts: ReplicaOptions, raft: Raft, io: ReplicaIo, ensemble: Option<Ensemble>) -> Self {
        let (stop_tx, stop_rx) = oneshot::channel();
        let task =
            tokio::spawn(maintain(raft.clone(), io.clone(), opts.snap_retain_count, opts.purge_interval, stop_rx));
        let last_log_index = raft.metrics().borrow().last_log_index;
        tracing::info!(node_id = opts.node_id, ?last_log_index, member = ensemble.is_some(), "replica ready");
        Replica {
            node_id: opts.node_id,
            metrics: raft.metrics(),
            raft,
            ensemble,
            io,
            maintenance: Mutex::new(Some((stop_tx, task))),
            shut_down: AtomicBool::new(false),
            _sm: PhantomData,
        }
    }

    /// Appends the command, waits until committed (on disk, fsynced) and applied; returns (index, output).
    pub async fn propose(&self, cmd: SM::Command) -> Result<(u64, SM::Output), ReplicationError> {
        self.submit(cmd).await?.await
    }

    /// Hands the command to the log and returns once it is queued, with a
    /// future for its outcome. Commands submitted one after another are
    /// logged in that order, and a batch of them shares one fsync: this is
    /// how a connection pipelines its writes.
    ///
    /// On a follower or observer the command is forwarded to the leader over
    /// one ordered link, and the outcome is ready once this node has applied
    /// it too (so the caller's next local read sees it).
    pub async fn submit(&self, cmd: SM::Command) -> Result<Applied<SM::Output>, ReplicationError> {
        if self.shut_down.load(Ordering::Acquire) {
            return Err(ReplicationError::ShutDown);
        }
        let bytes = encode(&cmd).map_err(|e| ReplicationError::Codec(format!("command: {e}")))?;
        if self.ensemble.is_none() || self.is_leader() {
            return self.submit_local(bytes).await;
        }
        let link = self.leader_link().await?;
        let payload = encode(&Blob(bytes)).map_err(|e| ReplicationError::Codec(format!("command: {e}")))?;
        let rx =
            link.request(Kind::Forward, &payload).await.map_err(|e| ReplicationError::Unavailable(e.to_string()))?;
        let raft = self.raft.clone();
        Ok(Box::pin(async move {
            let bytes =
                rx.await.map_err(|_| ReplicationError::Unavailable("lost the leader before it answered".into()))?;
            let reply: ForwardReply = decode(&bytes).map_err(|e| ReplicationError::Codec(format!("reply: {e}")))?;
            let (index, output) = match reply {
                ForwardReply::Done { index, output } => (index, output),
                ForwardReply::NotLeader { leader } => return Err(ReplicationError::NotLeader { leader }),
                ForwardReply::Failed(e) => return Err(ReplicationError::Raft(e)),
            };
            wait_applied(&raft, index).await?;
            let output: SM::Output = decode(&output.0).map_err(|e| ReplicationError::Codec(format!("output: {e}")))?;
            Ok((index, output))
        }))
    }

    async fn submit_local(&self, bytes: Vec<u8>) -> Result<Applied<SM::Output>, ReplicationError> {
        let rx = match self.raft.client_write_ff(Blob(bytes)).await {
            Ok(rx) => rx,
            Err(Fatal::Stopped) => return Err(ReplicationError::ShutDown),
            Err(e) => return Err(ReplicationError::Raft(e.to_string())),
        };
        let bounded = self.ensemble.is_some();
        Ok(Box::pin(async move {
            // In an ensemble openraft may drop a deposed leader's entry
            // without an answer: the wait is bounded there.
            let answered = if bounded {
                match tokio::time::timeout(transport::COMMIT_WAIT, rx).await {
                    Ok(r) => r,
                    Err(_) => return Err(ReplicationError::Unavailable("not committed in time".into())),
                }
            } else {
                rx.await
            };
            let resp = match answered {
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
        }))
    }

    /// Brings this node up to the leader's commit point (ZooKeeper's `sync`,
    /// made linearizable: the leader confirms it still leads with a quorum
    /// first). Returns the index now applied locally.
    pub async fn sync(&self) -> Result<u64, ReplicationError> {
        let reply = if self.ensemble.is_none() || self.is_leader() {
            transport::read_index_local(&self.raft).await
        } else {
            let link = self.leader_link().await?;
            let rx =
                link.request(Kind::ReadIndex, &[]).await.map_err(|e| ReplicationError::Unavailable(e.to_string()))?;
            let bytes =
                rx.await.map_err(|_| ReplicationError::Unavailable("lost the leader before it answered".into()))?;
            decode(&bytes).map_err(|e| ReplicationError::Codec(format!("reply: {e}")))?
        };
        let index = match reply {
            ReadIndexReply::Index(i) => i,
            ReadIndexReply::NotLeader { leader } => return Err(ReplicationError::NotLeader { leader }),
            ReadIndexReply::Failed(e) => return Err(ReplicationError::Raft(e)),
        };
        wait_applied(&self.raft, index).await?;
        Ok(index)
    }

    /// Sends a one-way message to the leader's application handler (see
    /// [`Replica::set_app_handler`]); false if there is no leader link now.
    pub async fn send_to_leader(&self, payload: Vec<u8>) -> bool {
        if self.ensemble.is_none() || self.is_leader() {
            return false;
        }
        match self.leader_link().await {
            Ok(link) => link.send_app(&payload),
            Err(_) => false,
        }
    }

    /// Sets what handles messages other members send with [`Replica::send_to_leader`].
    pub fn set_app_handler(&self, handler: impl Fn(u64, Vec<u8>) + Send + Sync + 'static) {
        if let Some(e) = &self.ensemble {
            *e.ctx.app.lock() = Some(Arc::new(handler));
        }
    }

    /// The link to the current leader, connecting (or reconnecting after a
    /// change of leader) as needed; waits a while for a leader to be known.
    async fn leader_link(&self) -> Result<Arc<Link>, ReplicationError> {
        let Some(ensemble) = &self.ensemble else {
            return Err(ReplicationError::NotLeader { leader: None });
        };
        let deadline = tokio::time::Instant::now() + LEADER_WAIT;
        let mut metrics = self.raft.metrics();
        loop {
            if self.shut_down.load(Ordering::Acquire) {
                return Err(ReplicationError::ShutDown);
            }
            let leader = {
                let m = metrics.borrow_and_update();
                m.current_leader
                    .filter(|l| *l != self.node_id)
                    .and_then(|l| m.membership_config.membership().get_node(&l).map(|n| (l, n.addr.clone())))
            };
            if let Some((leader, addr)) = leader {
                let mut slot = ensemble.link.lock().await;
                if let Some(link) = slot.as_ref().filter(|l| l.target == leader && l.is_alive()) {
                    return Ok(link.clone());
                }
                *slot = None;
                match Link::connect(self.io.network.as_ref(), self.node_id, leader, &addr).await {
                    Ok(link) => {
                        let link = Arc::new(link);
                        *slot = Some(link.clone());
                        return Ok(link);
                    }
                    Err(e) => tracing::debug!(leader, error = %e, "cannot reach the leader yet"),
                }
            } else if self.is_leader() {
                return Err(ReplicationError::NotLeader { leader: Some(self.node_id) });
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(ReplicationError::Unavailable("no reachable leader".into()));
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            let _ = tokio::time::timeout(wait, metrics.changed()).await;
        }
    }

    /// This node's role now.
    pub fn role(&self) -> Role {
        let Some(ensemble) = &self.ensemble else {
            return Role::Standalone;
        };
        let m = self.metrics.borrow();
        match m.state {
            ServerState::Leader => {
                // A leader cut off from its quorum cannot commit: like
                // ZooKeeper's, it stops serving until it hears from one again.
                let voters = m.membership_config.membership().voter_ids().count();
                let lease = ensemble.quorum_lease.as_millis() as u64;
                if voters > 1 && m.millis_since_quorum_ack.is_none_or(|ms| ms > lease) {
                    Role::Looking
                } else {
                    Role::Leader
                }
            }
            // A member not in the membership (yet, or any more) serves nobody.
            _ if m.membership_config.membership().get_node(&self.node_id).is_none() => Role::Looking,
            ServerState::Learner if m.current_leader.is_some() => Role::Observer,
            ServerState::Follower if m.current_leader.is_some() => Role::Follower,
            _ => Role::Looking,
        }
    }

    /// Membership, leader and replication progress.
    pub fn ensemble_stats(&self) -> EnsembleStats {
        let role = self.role();
        let m = self.metrics.borrow();
        let membership = m.membership_config.membership();
        let mut voters = BTreeMap::new();
        let mut learners = BTreeMap::new();
        for (id, node) in membership.nodes() {
            if membership.voter_ids().any(|v| v == *id) {
                voters.insert(*id, node.addr.clone());
            } else {
                learners.insert(*id, node.addr.clone());
            }
        }
        let mut synced = BTreeSet::new();
        if let (Some(replication), Some(last)) = (&m.replication, m.last_log_index) {
            for (id, matched) in replication {
                let behind = last.saturating_sub(matched.map_or(0, |l| l.index));
                if *id != self.node_id && matched.is_some() && behind <= SYNCED_LAG_MAX {
                    synced.insert(*id);
                }
            }
        }
        EnsembleStats { role, leader: m.current_leader, term: m.current_term, voters, learners, synced }
    }

    /// This node's id.
    pub fn node_id(&self) -> u64 {
        self.node_id
    }

    /// Makes the membership exactly `members`: new members are first added
    /// as learners and caught up, then voters are replaced, then members not
    /// listed are removed (ZooKeeper's reconfig). Runs on the leader; from
    /// any other member the request is forwarded to it. Returns the log
    /// index of the last membership entry.
    pub async fn change_members(&self, members: BTreeMap<u64, Member>) -> Result<u64, ReplicationError> {
        if self.ensemble.is_none() {
            return Err(ReplicationError::Config("a standalone server has no ensemble to change".into()));
        }
        if self.is_leader() {
            return change_members_on_leader(&self.raft, members).await;
        }
        let payload = encode(&members).map_err(|e| ReplicationError::Codec(format!("members: {e}")))?;
        let link = self.leader_link().await?;
        let rx =
            link.request(Kind::Members, &payload).await.map_err(|e| ReplicationError::Unavailable(e.to_string()))?;
        let bytes = rx.await.map_err(|_| ReplicationError::Unavailable("lost the leader before it answered".into()))?;
        match decode(&bytes).map_err(|e| ReplicationError::Codec(format!("reply: {e}")))? {
            MembersReply::Done { index } => {
                wait_applied(&self.raft, index).await?;
                Ok(index)
            }
            MembersReply::NotLeader { leader } => Err(ReplicationError::NotLeader { leader }),
            MembersReply::Failed(e) => Err(ReplicationError::Raft(e)),
        }
    }

    /// Resolves, with the reason, if consensus stops on its own (an error
    /// openraft treats as fatal); never while it runs.
    pub async fn failed(&self) -> String {
        let mut metrics = self.metrics.clone();
        loop {
            if let Err(e) = &metrics.borrow_and_update().running_state {
                return e.to_string();
            }
            if metrics.changed().await.is_err() {
                return "consensus stopped".into();
            }
        }
    }

    /// Whether this node is currently the leader (proposals are accepted).
    pub fn is_leader(&self) -> bool {
        let m = self.metrics.borrow();
        m.state == ServerState::Leader && m.current_leader == Some(self.node_id)
    }

    /// Log, apply and snapshot positions, and the sizes of both directories.
    pub fn stats(&self) -> ReplicaStats {
        let (last_log_index, last_applied, snapshot_index, purged_index) = {
            let m = self.metrics.borrow();
            (m.last_log_index, m.last_applied.map(|l| l.index), m.snapshot.map(|l| l.index), m.purged.map(|l| l.index))
        };
        ReplicaStats {
            last_log_index,
            last_applied,
            snapshot_index,
            purged_index,
            data_dir_bytes: self.io.snapshots.disk_bytes(),
            log_dir_bytes: self.io.log.disk_bytes(),
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
        if let Some(e) = &self.ensemble {
            e.listener.abort();
            e.membership.abort();
            e.elections.abort();
            e.ctx.close();
            *e.link.lock().await = None;
        }
        let raft_res = self.raft.shutdown().await.map_err(|e| ReplicationError::Raft(format!("shutdown: {e}")));
        let wal_res = match self.io.log.close().await {
            Ok(()) | Err(StorageError::Closed) => Ok(()),
            Err(e) => Err(ReplicationError::Storage(e)),
        };
        self.io.snapshots.close();
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
        if let Some(e) = &self.ensemble {
            e.listener.abort();
            e.membership.abort();
            e.elections.abort();
            e.ctx.close();
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

fn raft_config(opts: &ReplicaOptions, ensemble: Option<&EnsembleOptions>) -> Result<Config, ReplicationError> {
    let (heartbeat, election) = match ensemble {
        Some(e) => (e.heartbeat.as_millis() as u64, e.election_timeout.as_millis() as u64),
        None => (HEARTBEAT_INTERVAL_MS, ELECTION_TIMEOUT_MIN_MS),
    };
    // openraft's leader lease is the longest election timeout: a voter
    // refuses candidates that long after hearing from its leader.
    let election_max = if ensemble.is_some() { election * 3 / 2 } else { ELECTION_TIMEOUT_MAX_MS };
    Config {
        cluster_name: "corral".into(),
        heartbeat_interval: heartbeat,
        election_timeout_min: election,
        election_timeout_max: election_max,
        // Bounded append batches: a peer frame stays well under its limit
        // even with entries at jute.maxbuffer.
        max_payload_entries: 64,
        snapshot_max_chunk_size: SNAPSHOT_CHUNK_BYTES,
        install_snapshot_timeout: SNAPSHOT_CHUNK_TIMEOUT_MS,
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

/// Largest snapshot chunk sent to a member that is far behind.
const SNAPSHOT_CHUNK_BYTES: u64 = 4 << 20;
/// Time allowed for one snapshot chunk to be written and acknowledged.
const SNAPSHOT_CHUNK_TIMEOUT_MS: u64 = 10_000;
/// Entries a member may lag and still count as synced.
const SYNCED_LAG_MAX: u64 = 1000;

fn validate_ensemble(id: NodeId, e: &EnsembleOptions) -> Result<(), ReplicationError> {
    let Some(me) = e.members.get(&id) else {
        return Err(ReplicationError::Config(format!("node {id} is not one of the configured members")));
    };
    let _ = me;
    if !e.members.values().any(|m| m.voter) {
        return Err(ReplicationError::Config("an ensemble needs at least one voter".into()));
    }
    if e.heartbeat.is_zero() || e.election_timeout <= e.heartbeat {
        return Err(ReplicationError::Config(format!(
            "the election timeout ({:?}) must be longer than the heartbeat ({:?})",
            e.election_timeout, e.heartbeat
        )));
    }
    Ok(())
}

/// Starts a member, then waits until the log recovered from disk is
/// applied. A fresh voter takes part in founding the ensemble (see
/// [`found_ensemble`]) in the background; a fresh learner waits for the
/// leader to add it.
async fn join_ensemble(
    raft: &Raft,
    id: NodeId,
    e: &EnsembleOptions,
    (recovered_last, truncated): (Option<u64>, Arc<AtomicU64>),
    io: &ReplicaIo,
) -> Result<(), ReplicationError> {
    if e.members[&id].voter && !raft.is_initialized().await.map_err(raft_err)? {
        tokio::spawn(found_ensemble(raft.clone(), id, e.members.clone(), io.network.clone()));
    }
    let ready = raft
        .wait(Some(OPEN_TIMEOUT))
        .metrics(
            move |m| {
                // A tail the new leader truncated was never committed: only
                // what precedes it must be applied.
                let cut = truncated.load(Ordering::Acquire);
                let needed = recovered_last.map(|last| if cut <= last { cut.saturating_sub(1) } else { last });
                m.running_state.is_err() || (m.last_log_index >= needed && m.last_applied.map(|l| l.index) >= needed)
            },
            "recovered log applied",
        )
        .await
        .map_err(|e| ReplicationError::Raft(e.to_string()))?;
    match &ready.running_state {
        Ok(()) => Ok(()),
        Err(e) => Err(ReplicationError::Raft(e.to_string())),
    }
}

/// A fresh voter records the configured voters as the first membership only
/// when no configured member has a membership already and a quorum of the
/// configured voters (itself included) is fresh too; every founder records
/// the same one, so it does not matter who goes first. When some member is
/// initialized, the ensemble exists: this node is joining it and waits for
/// the leader to add it (`reconfig`), as a new ZooKeeper server does.
async fn found_ensemble(raft: Raft, id: NodeId, members: BTreeMap<u64, Member>, net: Arc<dyn PeerNetwork>) {
    let voters: BTreeMap<NodeId, Node> =
        members.iter().filter(|(_, m)| m.voter).map(|(id, m)| (*id, Node::new(m.addr.clone()))).collect();
    let quorum = voters.len() / 2 + 1;
    loop {
        if raft.is_initialized().await.unwrap_or(true) {
            return;
        }
        let mut fresh = 1;
        let mut ensemble_exists = false;
        for (peer, m) in members.iter().filter(|(p, _)| **p != id) {
            match transport::probe_initialized(net.as_ref(), id, *peer, &m.addr).await {
                Some(true) => ensemble_exists = true,
                Some(false) if m.voter => fresh += 1,
                _ => {}
            }
        }
        if ensemble_exists {
            tracing::info!("the ensemble exists already: waiting for the leader to add this member");
            return;
        }
        if fresh >= quorum {
            match raft.initialize(voters.clone()).await {
                Ok(()) => {
                    tracing::info!(voters = ?voters.keys().collect::<Vec<_>>(), "founded the ensemble")
                }
                // A founder reached this node first: it is initialized already.
                Err(openraft::error::RaftError::APIError(openraft::error::InitializeError::NotAllowed(_))) => {}
                Err(err) => tracing::error!(error = %err, "recording the first membership failed"),
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// On the leader: see [`Replica::change_members`].
pub(crate) async fn change_members_on_leader(
    raft: &Raft,
    members: BTreeMap<u64, Member>,
) -> Result<u64, ReplicationError> {
    let (leading, leader, current) = {
        let m = raft.metrics().borrow().clone();
        let leading = m.state == ServerState::Leader && m.current_leader == Some(m.id);
        (leading, m.current_leader, m.membership_config.membership().clone())
    };
    if !leading {
        return Err(ReplicationError::NotLeader { leader });
    }
    let voters: BTreeSet<u64> = members.iter().filter(|(_, m)| m.voter).map(|(id, _)| *id).collect();
    if voters.is_empty() {
        return Err(ReplicationError::Config("a membership needs at least one voter".into()));
    }
    for (id, m) in &members {
        if current.get_node(id).is_none() {
            raft.add_learner(*id, Node::new(m.addr.clone()), true)
                .await
                .map_err(|e| ReplicationError::Raft(format!("add learner {id}: {e}")))?;
        }
    }
    let resp = raft
        // Voters left out stay as learners (observers) until the removal
        // below drops the members not listed at all.
        .change_membership(openraft::ChangeMembers::ReplaceAllVoters(voters), true)
        .await
        .map_err(|e| ReplicationError::Raft(format!("change membership: {e}")))?;
    let mut index = resp.log_id.index;
    let stale: BTreeSet<u64> = {
        let m = raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        membership.nodes().map(|(id, _)| *id).filter(|id| !members.contains_key(id)).collect()
    };
    if !stale.is_empty() {
        let resp = raft
            .change_membership(openraft::ChangeMembers::RemoveNodes(stale), false)
            .await
            .map_err(|e| ReplicationError::Raft(format!("remove members: {e}")))?;
        index = resp.log_id.index;
    }
    Ok(index)
}

/// On the leader: adds configured learners (observers) that the membership
/// does not have yet, e.g. on the first start of an ensemble.
async fn keep_learners(raft: Raft, id: NodeId, configured: BTreeMap<u64, Member>) {
    let mut added: BTreeSet<u64> = BTreeSet::new();
    let wanted: Vec<(u64, String)> =
        configured.iter().filter(|(_, m)| !m.voter).map(|(id, m)| (*id, m.addr.clone())).collect();
    if wanted.is_empty() {
        return;
    }
    let mut metrics = raft.metrics();
    loop {
        let missing: Vec<(u64, String)> = {
            let m = metrics.borrow_and_update();
            if m.state != ServerState::Leader || m.current_leader != Some(id) {
                Vec::new()
            } else {
                let membership = m.membership_config.membership();
                wanted.iter().filter(|(l, _)| membership.get_node(l).is_none() && !added.contains(l)).cloned().collect()
            }
        };
        let mut refused = false;
        for (learner, addr) in missing {
            match raft.add_learner(learner, Node::new(addr), false).await {
                Ok(_) => {
                    tracing::info!(learner, "added configured observer as a learner");
                    added.insert(learner);
                }
                Err(e) => {
                    tracing::debug!(learner, error = %e, "could not add observer yet");
                    refused = true;
                }
            }
        }
        if added.len() == wanted.len() {
            return;
        }
        if refused {
            // Typically the first membership is not committed yet; the
            // refusal itself changes the metrics, so waiting for a change
            // alone would retry at once, in a busy loop.
            tokio::time::sleep(LEARNER_RETRY).await;
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

/// How many election timeouts without a leader before a voter stands on its own.
const LEADERLESS_ROUNDS: u32 = 4;

/// openraft draws each voter's election timeout once, at start, and checks
/// it on its timer ticks (every 1.5 heartbeats), which rounds it: voters
/// started at nearly the same moment can call their elections in step,
/// round after round, each voting for itself, with nothing to break the
/// tie. A voter that has seen no leader for [`LEADERLESS_ROUNDS`] election
/// timeouts stands after a random pause of up to one election timeout,
/// which breaks the step; a leader elected meanwhile makes it stand down.
async fn break_split_votes(raft: Raft, id: NodeId, election: Duration) {
    let patience = election * LEADERLESS_ROUNDS;
    let mut leaderless_since: Option<tokio::time::Instant> = None;
    loop {
        tokio::time::sleep(election / 2).await;
        let leaderless = {
            let m = raft.metrics().borrow().clone();
            m.running_state.is_ok()
                && m.current_leader.is_none()
                && m.state != ServerState::Leader
                && m.membership_config.membership().voter_ids().any(|v| v == id)
        };
        if !leaderless {
            leaderless_since = None;
            continue;
        }
        let now = tokio::time::Instant::now();
        let since = *leaderless_since.get_or_insert(now);
        if now - since < patience {
            continue;
        }
        let pause = election.mul_f64(f64::from(super::types::random_u32()) / f64::from(u32::MAX));
        tokio::time::sleep(pause).await;
        if raft.metrics().borrow().current_leader.is_none() {
            tracing::info!(after = ?now - since, "no leader elected for a while: standing for election after a random pause");
            let _ = raft.trigger().elect().await;
        }
        leaderless_since = Some(tokio::time::Instant::now());
    }
}

/// Waits until this node has applied `index` (bounded, so a member cut off
/// from the leader gives up instead of holding its client forever).
async fn wait_applied(raft: &Raft, index: u64) -> Result<(), ReplicationError> {
    raft.wait(Some(APPLY_WAIT)).applied_index_at_least(Some(index), "applied locally").await.map(|_| ()).map_err(|e| {
        match e {
            openraft::metrics::WaitError::ShuttingDown => ReplicationError::ShutDown,
            e => ReplicationError::Unavailable(format!("not applied locally in time: {e}")),
        }
    })
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
async fn maintain(raft: Raft, io: ReplicaIo, retain: usize, every: Option<Duration>, mut stop: oneshot::Receiver<()>) {
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
        if let Err(e) = purge(&raft, &io, retain).await {
            tracing::warn!(error = %e, "purging old snapshots and log failed");
        }
    }
}

async fn purge(raft: &Raft, io: &ReplicaIo, retain: usize) -> Result<(), ReplicationError> {
    let current = raft.metrics().borrow().snapshot.map(|l| l.index);
    let store = io.snapshots.clone();
    let kept = io.blocking.run(move || Ok(store.retain(retain, current)?)).await?;
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
