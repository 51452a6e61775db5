//! One incarnation of a simulated node: real openraft over simulated storage
//! and network, driving the real `corral::txn::State`, plus a model of
//! corral's node logic (`core/src/server/node.rs`): session bookkeeping
//! (only the leader expires sessions; members forward touches to it; a new
//! leader restarts every session clock), write forwarding to the leader,
//! linearizable `sync` by ReadIndex, and log purging after snapshots.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::proto::{Acl, Code, CreateMode, Id};
use corral::txn::{Caller, Txn, TxnOp, TxnResult, WriteOp, WriteResult};
use openraft::error::{ClientWriteError, RaftError};
use openraft::{Config, ServerState, SnapshotPolicy};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::history::{KeyState, WriteRes};
use crate::net::NetFactory;
use crate::storage::{restore, Applied, Disk, Durable, LogStore, Signal, SmStore};
use crate::types::{Node, NodeId, Raft};
use crate::world::{key_state, lock, World, ELECTION_MS, SYNC_LIMIT, TICK_MS};

/// How long a forwarded write or sync waits for the leader's answer.
const FORWARD_TTL: Duration = Duration::from_secs(3);
/// How long a member waits to apply what the leader committed (corral's APPLY_WAIT, scaled).
const APPLY_WAIT: Duration = Duration::from_secs(3);
/// How long the leader waits for a session expiry to commit (corral: 2 ticks, at least 1 s).
const EXPIRY_WAIT: Duration = Duration::from_secs(1);
/// How often a node's metrics are polled.
const OBSERVE_EVERY: Duration = Duration::from_millis(10);
/// How long a request waits for this node to catch up with what the client has seen.
const CATCH_UP_WAIT: Duration = Duration::from_secs(2);

/// Why a request failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReqErr {
    /// Nothing was done (not serving, no leader, session gone, refused by the leader).
    Definite(String),
    /// The session no longer exists.
    Expired,
    /// The write may or may not have been applied.
    Unknown(String),
}

/// A client request to a node.
#[derive(Clone, Debug)]
pub enum Request {
    /// createSession.
    CreateSession,
    /// closeSession.
    CloseSession,
    /// A ping.
    Ping,
    /// A register write.
    Write(WriteOp),
    /// getData served locally.
    Read(String),
    /// sync, then getData.
    SyncRead(String),
}

/// A node's answer.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// A new session at `zxid`.
    Session { id: i64, zxid: u64 },
    /// A write (or session close) applied at `zxid` with its result.
    Written { zxid: u64, result: TxnResult },
    /// A read at applied index `at`.
    Read { at: u64, state: KeyState },
    /// A ping's answer.
    Pong,
}

/// The answer of the leader to a forwarded write.
enum Forwarded {
    Done(u64, TxnResult),
    Refused(String),
    Unknown(String),
}

/// openraft's configuration, as corral's `raft_config` derives it from the
/// election timeout, with a small snapCount.
pub fn raft_config(snap_count: u64) -> Result<Config, String> {
    Config {
        cluster_name: "corral".into(),
        heartbeat_interval: ELECTION_MS / 3,
        election_timeout_min: ELECTION_MS,
        election_timeout_max: ELECTION_MS * 3 / 2,
        max_payload_entries: 64,
        snapshot_max_chunk_size: 4 << 20,
        install_snapshot_timeout: 10_000,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(snap_count),
        max_in_snapshot_log_to_keep: u64::MAX,
        purge_batch_size: 1,
        ..Config::default()
    }
    .validate()
    .map_err(|e| e.to_string())
}

/// Session deadlines local to a node (corral's `SessionTracker`).
#[derive(Default)]
struct Tracker {
    deadlines: BTreeMap<i64, (Instant, Duration)>,
    touched: BTreeSet<i64>,
}

impl Tracker {
    fn deadline(now: Instant, timeout: Duration) -> Instant {
        let tick = TICK_MS as u128;
        let rounded = timeout.as_millis().div_ceil(tick) * tick;
        now + Duration::from_millis(rounded as u64)
    }

    fn add(&mut self, id: i64, timeout_ms: i32) {
        let timeout = Duration::from_millis(timeout_ms.max(0) as u64);
        self.deadlines.entry(id).or_insert((Self::deadline(Instant::now(), timeout), timeout));
    }

    fn touch(&mut self, id: i64) -> bool {
        self.touched.insert(id);
        match self.deadlines.get_mut(&id) {
            Some((deadline, timeout)) => {
                *deadline = Self::deadline(Instant::now(), *timeout);
                true
            }
            None => false,
        }
    }

    fn restart_all(&mut self) {
        let now = Instant::now();
        for (deadline, timeout) in self.deadlines.values_mut() {
            *deadline = Self::deadline(now, *timeout);
        }
    }

    fn reconcile(&mut self, table: &imbl::OrdMap<i64, corral::txn::SessionInfo>) {
        self.deadlines.retain(|id, _| table.contains_key(id));
        for (id, info) in table.iter() {
            self.add(*id, info.timeout_ms);
        }
    }

    fn expired(&self, now: Instant) -> Vec<i64> {
        self.deadlines.iter().filter(|(_, (d, _))| *d <= now).map(|(id, _)| *id).collect()
    }
}

/// One running incarnation of a node.
pub struct SimNode {
    /// Node id.
    pub id: NodeId,
    /// Incarnation (1 at first start, +1 per restart).
    pub inc: u64,
    /// The real openraft instance.
    pub raft: Raft,
    world: Arc<World>,
    disk: Arc<Mutex<Disk>>,
    /// The applied state, read by local reads.
    pub applied: Arc<Mutex<Applied>>,
    applied_signal: Arc<Signal>,
    sessions: Mutex<Tracker>,
    crashed: Signal,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl SimNode {
    /// Starts incarnation `inc` of node `id` over `durable`: restores the
    /// state machine from the durable snapshot, starts openraft (which
    /// replays the log), initializes a fresh voter, and spawns the node's
    /// background tasks.
    pub async fn start(world: Arc<World>, id: NodeId, inc: u64, durable: Durable) -> Result<Arc<SimNode>, String> {
        let applied = restore(&durable).map_err(|e| format!("node {id}: restoring snapshot: {e}"))?;
        let applied_signal = Arc::new(Signal::new(applied.index()));
        let applied = Arc::new(Mutex::new(applied));
        let disk = Arc::new(Mutex::new(Disk::new(durable)));
        let log = LogStore::new(world.clone(), disk.clone());
        let sm = SmStore::new(world.clone(), id, disk.clone(), applied.clone(), applied_signal.clone());
        let config = Arc::new(raft_config(world.cfg.snap_count)?);
        let net = NetFactory { world: world.clone(), me: (id, inc) };
        let raft = Raft::new(id, config, net, log, sm).await.map_err(|e| format!("node {id}: {e}"))?;
        let node = Arc::new(SimNode {
            id,
            inc,
            raft,
            world: world.clone(),
            disk,
            applied,
            applied_signal,
            sessions: Mutex::new(Tracker::default()),
            crashed: Signal::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        node.initialize().await?;
        let tasks = vec![tokio::spawn(node.clone().expiry_loop()), tokio::spawn(node.clone().observe())];
        *lock(&node.tasks) = tasks;
        world.trace(format_args!("node {id} started (incarnation {inc})"));
        Ok(node)
    }

    /// A fresh voter records the configured voters as the first membership.
    async fn initialize(&self) -> Result<(), String> {
        let initialized = self.raft.is_initialized().await.map_err(|e| e.to_string())?;
        if initialized {
            return Ok(());
        }
        let voters: BTreeMap<NodeId, Node> =
            self.world.voter_ids().into_iter().map(|v| (v, Node::new(format!("n{v}")))).collect();
        // NotAllowed: a leader reached this node first.
        let _ = self.raft.initialize(voters).await;
        Ok(())
    }

    /// Crashes this incarnation: returns what its storage keeps, stops its
    /// tasks, and shuts openraft down in the background against the
    /// now-detached storage.
    pub fn crash(&self) -> Durable {
        let image = lock(&self.disk).crash_image();
        self.crashed.set(1);
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
        let raft = self.raft.clone();
        tokio::spawn(async move {
            let _ = raft.shutdown().await;
        });
        image
    }

    /// Stops this incarnation for good (end of the simulation).
    pub async fn stop(&self) {
        self.crashed.set(1);
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
        let _ = self.raft.shutdown().await;
    }

    /// Resolves once this incarnation has crashed.
    pub async fn crashed(&self) {
        self.crashed.wait_at_least(1, None).await;
    }

    fn metrics(&self) -> openraft::RaftMetrics<NodeId, Node> {
        self.raft.metrics().borrow().clone()
    }

    /// Leader in openraft's view (proposals are accepted).
    pub fn is_leader(&self) -> bool {
        let m = self.raft.metrics();
        let m = m.borrow();
        m.state == ServerState::Leader && m.current_leader == Some(self.id)
    }

    /// Leads and has heard from a quorum within syncLimit × tickTime (corral's `leads`).
    pub fn leads(&self) -> bool {
        let m = self.raft.metrics();
        let m = m.borrow();
        m.state == ServerState::Leader
            && m.current_leader == Some(self.id)
            && m.millis_since_quorum_ack.is_some_and(|ms| ms <= SYNC_LIMIT * TICK_MS)
    }

    /// Serves clients: leads, or follows a known leader (corral's `serving`).
    pub fn serving(&self) -> bool {
        let m = self.metrics();
        match m.state {
            ServerState::Leader => self.leads(),
            ServerState::Follower => m.current_leader.is_some(),
            _ => false,
        }
    }

    /// The index of the last entry in this node's log.
    pub fn last_log_index(&self) -> u64 {
        self.raft.metrics().borrow().last_log_index.unwrap_or(0)
    }

    /// Proposes a command outside any client session (setup, liveness probe).
    pub async fn admin_propose(&self, op: TxnOp) -> Result<(u64, TxnResult), ReqErr> {
        self.propose(op).await
    }

    /// The index of the last applied entry.
    pub fn applied_index(&self) -> u64 {
        self.applied_signal.get()
    }

    /// Waits until this node has applied `index`; false after `limit`.
    pub async fn wait_applied(&self, index: u64, limit: Duration) -> bool {
        self.applied_signal.wait_at_least(index, Some(Instant::now() + limit)).await
    }

    /// Marks a session as heard from (forwarded to the leader by the expiry loop).
    fn touch(&self, session: i64) {
        lock(&self.sessions).touch(session);
    }

    fn session_alive(&self, session: i64) -> bool {
        lock(&self.applied).state.sessions.contains_key(&session)
    }

    /// Serves one client request for `session`, after catching up with `seen`.
    pub async fn handle(self: &Arc<Self>, session: i64, seen: u64, req: Request) -> Result<Reply, ReqErr> {
        if !self.serving() {
            return Err(ReqErr::Definite(format!("node {} not serving", self.id)));
        }
        if !self.wait_applied(seen, CATCH_UP_WAIT).await {
            return Err(ReqErr::Definite(format!("node {} behind zxid {seen}", self.id)));
        }
        if let Request::CreateSession = req {
            return self.create_session().await;
        }
        if !self.session_alive(session) {
            return Err(ReqErr::Expired);
        }
        self.touch(session);
        match req {
            Request::CreateSession => self.create_session().await,
            Request::CloseSession => self.close_session(session).await,
            Request::Ping => Ok(Reply::Pong),
            Request::Write(op) => {
                let caller = Caller { session_id: session, ids: vec![Id::new("ip", format!("10.0.0.{}", self.id))] };
                let (zxid, result) = self.propose(TxnOp::Write { caller, op }).await?;
                Ok(Reply::Written { zxid, result })
            }
            Request::Read(path) => Ok(self.read_local(&path)),
            Request::SyncRead(path) => {
                let index = self.sync().await?;
                if !self.wait_applied(index, APPLY_WAIT).await {
                    return Err(ReqErr::Definite(format!("node {} did not apply {index} in time", self.id)));
                }
                Ok(self.read_local(&path))
            }
        }
    }

    async fn create_session(&self) -> Result<Reply, ReqErr> {
        let id = self.world.next_session_id(self.id);
        let timeout_ms = crate::world::SESSION_TIMEOUT_MS;
        let (zxid, _) = self.propose(TxnOp::CreateSession { session_id: id, passwd: [0; 16], timeout_ms }).await?;
        lock(&self.sessions).add(id, timeout_ms);
        Ok(Reply::Session { id, zxid })
    }

    async fn close_session(&self, session: i64) -> Result<Reply, ReqErr> {
        let (zxid, result) = self.propose(TxnOp::CloseSession { session_id: session }).await?;
        lock(&self.sessions).deadlines.remove(&session);
        Ok(Reply::Written { zxid, result })
    }

    /// getData on the local state, with the index it was served at.
    fn read_local(&self, path: &str) -> Reply {
        let a = lock(&self.applied);
        Reply::Read { at: a.index(), state: key_state(&a.state, path) }
    }

    /// Appends a command: directly on the leader, else forwarded to it over
    /// the network; returns once applied on this node.
    async fn propose(&self, op: TxnOp) -> Result<(u64, TxnResult), ReqErr> {
        let txn = Txn { time_ms: self.world.wall_ms(), op };
        if self.is_leader() {
            return self.propose_local(txn).await;
        }
        let leader = self.metrics().current_leader.filter(|l| *l != self.id);
        let Some(leader) = leader else {
            return Err(ReqErr::Definite("no leader".into()));
        };
        let answer = self
            .world
            .call((self.id, self.inc), leader, "forward", FORWARD_TTL, txn, |n, txn| async move {
                n.serve_forward(txn).await
            })
            .await;
        match answer {
            None => Err(ReqErr::Unknown(format!("no answer from leader {leader}"))),
            Some(Forwarded::Refused(e)) => Err(ReqErr::Definite(e)),
            Some(Forwarded::Unknown(e)) => Err(ReqErr::Unknown(e)),
            Some(Forwarded::Done(index, result)) => {
                if self.wait_applied(index, APPLY_WAIT).await {
                    Ok((index, result))
                } else {
                    Err(ReqErr::Unknown(format!("committed at {index} but not applied locally in time")))
                }
            }
        }
    }

    /// Appends on this node as leader and waits until applied.
    async fn propose_local(&self, txn: Txn) -> Result<(u64, TxnResult), ReqErr> {
        match self.raft.client_write(txn).await {
            Ok(resp) => Ok((resp.log_id.index, resp.data)),
            Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                Err(ReqErr::Definite(format!("not the leader (leader: {:?})", f.leader_id)))
            }
            Err(e) => Err(ReqErr::Unknown(e.to_string())),
        }
    }

    /// On the leader: a write forwarded by another member.
    async fn serve_forward(&self, txn: Txn) -> Forwarded {
        if !self.is_leader() {
            return Forwarded::Refused(format!("node {} is not the leader", self.id));
        }
        match self.propose_local(txn).await {
            Ok((index, result)) => Forwarded::Done(index, result),
            Err(ReqErr::Definite(e)) => Forwarded::Refused(e),
            Err(ReqErr::Unknown(e)) => Forwarded::Unknown(e),
            Err(ReqErr::Expired) => Forwarded::Refused("expired".into()),
        }
    }

    /// The index a linearizable read must wait for: ReadIndex on the leader
    /// (`ensure_linearizable`), asked over the network from other members.
    async fn sync(&self) -> Result<u64, ReqErr> {
        if self.is_leader() {
            return self.read_index().await;
        }
        let Some(leader) = self.metrics().current_leader.filter(|l| *l != self.id) else {
            return Err(ReqErr::Definite("no leader".into()));
        };
        let answer = self
            .world
            .call(
                (self.id, self.inc),
                leader,
                "readindex",
                FORWARD_TTL,
                (),
                |n, ()| async move { n.read_index().await },
            )
            .await;
        answer.unwrap_or_else(|| Err(ReqErr::Definite(format!("no read index from leader {leader}"))))
    }

    /// openraft's `ensure_linearizable`, in its two documented steps: the
    /// leader confirms its leadership with a quorum and returns the read log
    /// id (`get_read_log_id`), then waits until it has applied it. The wait
    /// uses this node's own apply signal rather than openraft's metrics
    /// channel, whose waiters tokio wakes in a random order.
    async fn read_index(&self) -> Result<u64, ReqErr> {
        if !self.is_leader() {
            return Err(ReqErr::Definite(format!("node {} is not the leader", self.id)));
        }
        // As corral does: at least the leader's own last log index (a leader
        // restored after a restart may not know its commit point yet).
        let last = self.metrics().last_log_index.unwrap_or(0);
        let index = match self.raft.get_read_log_id().await {
            Ok((read, _applied)) => read.map_or(0, |l| l.index).max(last),
            Err(e) => return Err(ReqErr::Definite(e.to_string())),
        };
        if !self.wait_applied(index, APPLY_WAIT).await {
            return Err(ReqErr::Definite(format!("leader {} did not apply {index} in time", self.id)));
        }
        self.world.trace(format_args!("node {} (incarnation {}) read index {index}", self.id, self.inc));
        Ok(index)
    }

    /// On the leader: session touches forwarded by a member.
    fn on_touches(&self, ids: Vec<i64>) {
        let a = lock(&self.applied);
        let mut t = lock(&self.sessions);
        for id in ids {
            if !t.touch(id) {
                if let Some(info) = a.state.sessions.get(&id) {
                    t.add(id, info.timeout_ms);
                }
            }
        }
    }

    /// corral's expiry loop: members forward touches to the leader; the
    /// leader restarts every clock when it starts leading, tracks the
    /// replicated session table and closes sessions that went silent.
    async fn expiry_loop(self: Arc<Self>) {
        let mut leading = false;
        {
            let a = lock(&self.applied);
            lock(&self.sessions).reconcile(&a.state.sessions);
        }
        loop {
            tokio::time::sleep(Duration::from_millis(TICK_MS / 2)).await;
            if !self.leads() {
                leading = false;
                self.forward_touches();
                continue;
            }
            lock(&self.sessions).touched.clear();
            if !leading {
                leading = true;
                lock(&self.sessions).restart_all();
                self.world.trace(format_args!("node {} leading: session clocks restarted", self.id));
            }
            let expired = {
                let a = lock(&self.applied);
                let mut t = lock(&self.sessions);
                t.reconcile(&a.state.sessions);
                t.expired(Instant::now())
            };
            for session_id in expired {
                self.world.trace(format_args!("node {} expires session 0x{session_id:x}", self.id));
                let txn = Txn { time_ms: self.world.wall_ms(), op: TxnOp::CloseSession { session_id } };
                // As corral does: bounded, since openraft may never answer
                // for an entry of a deposed leader.
                match tokio::time::timeout(EXPIRY_WAIT, self.propose_local(txn)).await {
                    Ok(Ok(_)) => {
                        lock(&self.sessions).deadlines.remove(&session_id);
                    }
                    Ok(Err(e)) => self.world.trace(format_args!("node {} could not expire: {e:?}", self.id)),
                    Err(_) => {
                        self.world.trace(format_args!("node {} expiry of 0x{session_id:x} timed out", self.id));
                        break;
                    }
                }
            }
        }
    }

    /// Sends the sessions touched since the last batch to the leader.
    fn forward_touches(&self) {
        let touched: Vec<i64> = std::mem::take(&mut lock(&self.sessions).touched).into_iter().collect();
        let leader = self.metrics().current_leader.filter(|l| *l != self.id);
        if let (Some(leader), false) = (leader, touched.is_empty()) {
            self.world.send((self.id, self.inc), leader, "touch", touched, |n, ids| n.on_touches(ids));
        }
    }

    /// Polls this node's metrics (polling, not waiting on openraft's
    /// metrics channel, keeps wake-up order deterministic): traces role
    /// changes, records leaderships, and runs corral's retention — after
    /// each new snapshot, keep `snap_retain` snapshots and purge the log
    /// below the oldest of them.
    async fn observe(self: Arc<Self>) {
        let metrics = self.raft.metrics();
        let mut last = None;
        let mut seen_snapshot = None;
        let mut kept: VecDeque<u64> = VecDeque::new();
        loop {
            let (state, term, leader, snapshot, failed) = {
                let m = metrics.borrow();
                let failed = m.running_state.as_ref().err().map(|e| e.to_string());
                (m.state, m.current_term, m.current_leader, m.snapshot.map(|l| l.index), failed)
            };
            if let Some(reason) = failed.filter(|_| self.crashed.get() == 0) {
                // As `corral server` does: the process exits when consensus
                // stops on its own, and its supervisor starts it again.
                self.world.trace(format_args!("node {} consensus stopped ({reason}); supervisor restarts it", self.id));
                crate::faults::supervisor_restart(&self.world, self.id);
                return;
            }
            if last != Some((state, term, leader)) {
                last = Some((state, term, leader));
                self.world.trace(format_args!("node {} {state:?} term {term} leader {leader:?}", self.id));
                if state == ServerState::Leader {
                    self.world.leader_claim(term, self.id);
                }
            }
            if let Some(index) = snapshot.filter(|_| snapshot != seen_snapshot) {
                seen_snapshot = snapshot;
                kept.push_back(index);
                while kept.len() > self.world.cfg.snap_retain {
                    kept.pop_front();
                }
                if let Some(oldest) = kept.front() {
                    let _ = self.raft.trigger().purge_log(*oldest).await;
                }
            }
            tokio::time::sleep(OBSERVE_EVERY).await;
        }
    }
}

/// Maps a node's write reply to the register result.
pub fn write_res(result: &TxnResult) -> WriteRes {
    match result {
        TxnResult::Write(Ok(WriteResult::Created { stat, .. })) => WriteRes::Ok { version: stat.version },
        TxnResult::Write(Ok(WriteResult::SetData(stat))) => WriteRes::Ok { version: stat.version },
        TxnResult::Write(Ok(WriteResult::Deleted)) => WriteRes::Ok { version: -1 },
        TxnResult::Write(Err(Code::NodeExists)) => WriteRes::Exists,
        TxnResult::Write(Err(Code::NoNode)) => WriteRes::NoNode,
        TxnResult::Write(Err(Code::BadVersion)) => WriteRes::BadVersion,
        other => WriteRes::Other(format!("{other:?}")),
    }
}

/// A persistent create of `path` with `value`.
pub fn create_op(path: &str, value: &str, mode: CreateMode) -> WriteOp {
    WriteOp::Create {
        path: path.to_string(),
        data: Some(value.as_bytes().to_vec()),
        acl: Acl::open_unsafe(),
        mode,
        ttl_ms: 0,
    }
}
