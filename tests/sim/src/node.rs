//! One incarnation of a simulated member: corral's own [`Replica`] (openraft
//! with corral's log store, state machine store, peer transport, forwarding,
//! read index, retention) over the simulated disk ([`crate::disk`]) and
//! network ([`crate::wire`]), driving corral's server state machine
//! ([`ServerSm`]), with corral's session expiry decisions
//! ([`SessionTracker::round`]). What is here is the glue a server's
//! connection handler and expiry task would be: requests in, replies out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::proto::{Acl, Code, CreateMode, Id};
use corral::replication::{
    Blocking, EnsembleOptions, Member, Replica, ReplicaIo, ReplicaOptions, ReplicationError, Role, StateMachine,
};
use corral::server::session::{decode_touches, encode_touches, SessionTracker};
use corral::server::sm::{ConnectionSinks, ServerSm};
use corral::txn::{Caller, State, Txn, TxnOp, TxnResult, WriteOp, WriteResult};
use corral::watch::WatchRegistry;
use parking_lot::RwLock;
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::disk::SimLog;
use crate::history::{KeyState, WriteRes};
use crate::types::NodeId;
use crate::wire::{peer_addr, peer_addr_string};
use crate::world::{key_state, lock, World, ELECTION_MS, SYNC_LIMIT, TICK_MS};

/// How long the leader waits for a session expiry to commit (corral: 2 ticks, at least 1 s).
const EXPIRY_WAIT: Duration = Duration::from_secs(1);
/// How often a member's role is looked at (for the trace and the one-leader-per-term check).
const OBSERVE_EVERY: Duration = Duration::from_millis(10);
/// How long a request waits for this member to catch up with what the client has seen.
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

/// A client request to a member.
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

/// A member's answer.
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

/// A number that only grows, and waiters for it reaching a value.
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

/// corral's server state machine, reporting every apply to the checkers.
pub struct SimSm {
    inner: ServerSm,
    world: Arc<World>,
    node: NodeId,
    log: Arc<SimLog>,
    applied: Arc<Signal>,
}

impl StateMachine for SimSm {
    type Command = Txn;
    type Output = TxnResult;

    fn apply(&mut self, index: u64, cmd: &Txn) -> TxnResult {
        let result = self.inner.apply(index, cmd);
        let term = self.log.term_of(index);
        self.world.on_apply(self.node, index, term, Some(cmd), &result, &self.inner.state);
        self.applied.set(index);
        result
    }

    fn apply_other(&mut self, index: u64) {
        self.inner.apply_other(index);
        let term = self.log.term_of(index);
        self.world.on_apply(self.node, index, term, None, &TxnResult::Done, &self.inner.state);
        self.applied.set(index);
    }

    fn last_applied(&self) -> u64 {
        self.inner.last_applied()
    }

    fn capture(&self) -> corral::replication::SnapshotJob {
        self.inner.capture()
    }

    fn restore(&mut self, index: u64, r: &mut dyn std::io::Read) -> std::io::Result<()> {
        self.inner.restore(index, r)?;
        self.world.check_ephemerals(self.node, index, &self.inner.state);
        self.applied.set(index);
        Ok(())
    }
}

/// One running incarnation of a member.
pub struct SimNode {
    /// Member id.
    pub id: NodeId,
    /// Incarnation (1 at first start, +1 per restart).
    pub inc: u64,
    /// corral's replica.
    pub replica: Replica<SimSm>,
    sm: Arc<RwLock<SimSm>>,
    world: Arc<World>,
    applied: Arc<Signal>,
    sessions: SessionTracker,
    crashed: Signal,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl SimNode {
    /// Starts incarnation `inc` of member `id` over what its disk kept: the
    /// replica restores the newest snapshot, replays the log, and (on a
    /// fresh disk) founds the ensemble with the other voters.
    pub async fn start(world: Arc<World>, id: NodeId, inc: u64) -> Result<Arc<SimNode>, String> {
        let (log, snapshots) = world.disk(id).mount(inc);
        let applied = Arc::new(Signal::new(0));
        let inner = ServerSm::new(
            Arc::new(parking_lot::Mutex::new(WatchRegistry::new(0))),
            Arc::new(ConnectionSinks::default()),
        );
        let sm = SimSm { inner, world: world.clone(), node: id, log: log.clone(), applied: applied.clone() };
        let sm = Arc::new(RwLock::new(sm));
        let io = ReplicaIo { log, snapshots, network: world.wire().endpoint(id, inc), blocking: Blocking::Inline };
        let opts = ReplicaOptions {
            node_id: id,
            data_dir: format!("sim/node{id}/data").into(),
            log_dir: format!("sim/node{id}/log").into(),
            snap_count: world.cfg.snap_count,
            snap_retain_count: world.cfg.snap_retain,
            purge_interval: None,
            lock_wait: Duration::ZERO,
        };
        let members = world
            .member_ids()
            .into_iter()
            .map(|m| (m, Member { addr: peer_addr_string(m), voter: world.founding_voter(m) }))
            .collect();
        let ensemble = EnsembleOptions {
            members,
            listen: peer_addr(id),
            heartbeat: Duration::from_millis(ELECTION_MS / 3),
            election_timeout: Duration::from_millis(ELECTION_MS),
            quorum_lease: Duration::from_millis(SYNC_LIMIT * TICK_MS),
        };
        let replica =
            Replica::open_on(opts, sm.clone(), io, Some(ensemble)).await.map_err(|e| format!("node {id}: {e}"))?;
        let node = Arc::new(SimNode {
            id,
            inc,
            replica,
            sm,
            world: world.clone(),
            applied,
            sessions: SessionTracker::new(Duration::from_millis(TICK_MS)),
            crashed: Signal::new(0),
            tasks: Mutex::new(Vec::new()),
        });
        let weak = Arc::downgrade(&node);
        node.replica.set_app_handler(move |from, payload| {
            if let Some(node) = weak.upgrade() {
                node.on_touches(from, &payload);
            }
        });
        let tasks = vec![
            tokio::spawn(node.clone().expiry_loop()),
            tokio::spawn(node.clone().observe()),
            tokio::spawn(node.clone().watch_failure()),
        ];
        *lock(&node.tasks) = tasks;
        world.trace(format_args!("node {id} started (incarnation {inc})"));
        Ok(node)
    }

    /// Crashes this incarnation: its disk loses what was in flight, its
    /// connections break, its tasks stop; its replica is shut down in the
    /// background against the detached disk.
    pub fn crash(self: &Arc<Self>) {
        self.world.disk(self.id).crash();
        self.world.wire().crash(self.id);
        self.crashed.set(1);
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
        let node = self.clone();
        tokio::spawn(async move {
            let _ = node.replica.shutdown().await;
        });
    }

    /// Stops this incarnation for good (end of the simulation).
    pub async fn stop(&self) {
        self.crashed.set(1);
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
        let _ = self.replica.shutdown().await;
    }

    /// Resolves once this incarnation has crashed.
    pub async fn crashed(&self) {
        self.crashed.wait_at_least(1, None).await;
    }

    /// Leader in openraft's view (proposals are accepted).
    pub fn is_leader(&self) -> bool {
        self.replica.is_leader()
    }

    /// Serves clients: a leader with a quorum, or a follower that knows its leader.
    pub fn serving(&self) -> bool {
        matches!(self.replica.role(), Role::Leader | Role::Follower | Role::Observer)
    }

    /// The index of the last entry in this member's log.
    pub fn last_log_index(&self) -> u64 {
        self.replica.stats().last_log_index.unwrap_or(0)
    }

    /// The applied state and its index, read under the state machine's lock.
    pub fn with_state<T>(&self, f: impl FnOnce(&State, u64) -> T) -> T {
        let sm = self.sm.read();
        f(&sm.inner.state, sm.inner.last_applied())
    }

    /// Proposes a command outside any client session (setup, liveness probe).
    pub async fn admin_propose(&self, op: TxnOp) -> Result<(u64, TxnResult), ReqErr> {
        self.propose(op).await
    }

    /// The index of the last applied entry.
    pub fn applied_index(&self) -> u64 {
        self.applied.get()
    }

    /// Waits until this member has applied `index`; false after `limit`.
    pub async fn wait_applied(&self, index: u64, limit: Duration) -> bool {
        self.applied.wait_at_least(index, Some(Instant::now() + limit)).await
    }

    fn session_alive(&self, session: i64) -> bool {
        self.sm.read().inner.state.sessions.contains_key(&session)
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
        self.sessions.touch(session);
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
                self.replica.sync().await.map_err(|e| ReqErr::Definite(format!("node {} sync: {e}", self.id)))?;
                Ok(self.read_local(&path))
            }
        }
    }

    async fn create_session(&self) -> Result<Reply, ReqErr> {
        let id = self.world.next_session_id(self.id);
        let timeout_ms = crate::world::SESSION_TIMEOUT_MS;
        let (zxid, _) = self.propose(TxnOp::CreateSession { session_id: id, passwd: [0; 16], timeout_ms }).await?;
        self.sessions.add(id, timeout_ms);
        Ok(Reply::Session { id, zxid })
    }

    async fn close_session(&self, session: i64) -> Result<Reply, ReqErr> {
        let (zxid, result) = self.propose(TxnOp::CloseSession { session_id: session }).await?;
        self.sessions.remove(session);
        Ok(Reply::Written { zxid, result })
    }

    /// getData on the local state, with the index it was served at.
    fn read_local(&self, path: &str) -> Reply {
        self.with_state(|state, at| Reply::Read { at, state: key_state(state, path) })
    }

    /// Appends a command through corral's replica (forwarded to the leader
    /// from other members); returns once applied on this member.
    async fn propose(&self, op: TxnOp) -> Result<(u64, TxnResult), ReqErr> {
        let txn = Txn { time_ms: self.world.wall_ms(), op };
        let pending = self.replica.submit(txn).await.map_err(|e| ReqErr::Definite(e.to_string()))?;
        match pending.await {
            Ok(done) => Ok(done),
            // Refused before it was appended anywhere.
            Err(e @ ReplicationError::NotLeader { .. }) => Err(ReqErr::Definite(e.to_string())),
            Err(e) => Err(ReqErr::Unknown(e.to_string())),
        }
    }

    /// On the leader: session touches another member forwarded.
    fn on_touches(&self, from: u64, payload: &[u8]) {
        let Some(ids) = decode_touches(payload) else {
            self.world.violation(format!("node {} got malformed touches from {from}", self.id));
            return;
        };
        let sm = self.sm.read();
        for id in ids {
            if !self.sessions.touch(id) {
                if let Some(info) = sm.inner.state.sessions.get(&id) {
                    self.sessions.add(id, info.timeout_ms);
                }
            }
        }
    }

    /// What a server's expiry task does, on corral's expiry decisions:
    /// forget sessions the log closed, report touches to the leader, and on
    /// the leader close the sessions that went silent (bounded, since a
    /// deposed leader's entry may never be answered).
    async fn expiry_loop(self: Arc<Self>) {
        loop {
            tokio::time::sleep(Duration::from_millis(TICK_MS / 2)).await;
            let closed = std::mem::take(&mut *self.sm.read().inner.closed_sessions.lock());
            for session_id in closed {
                self.sessions.remove(session_id);
            }
            let leads = self.replica.role() == Role::Leader;
            let round = {
                let table = self.sm.read().inner.state.sessions.clone();
                self.sessions.round(Instant::now(), leads, &table, &|_| false)
            };
            if !round.touches_for_leader.is_empty() {
                self.replica.send_to_leader(encode_touches(&round.touches_for_leader)).await;
            }
            if round.started_leading {
                self.world.trace(format_args!("node {} leading: session clocks restarted", self.id));
            }
            for session_id in round.expire {
                self.world.trace(format_args!("node {} expires session 0x{session_id:x}", self.id));
                match tokio::time::timeout(EXPIRY_WAIT, self.propose(TxnOp::CloseSession { session_id })).await {
                    Ok(Ok(_)) => {
                        self.sessions.remove(session_id);
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

    /// Traces role changes and records who led in which term.
    async fn observe(self: Arc<Self>) {
        let mut last = None;
        loop {
            let s = self.replica.ensemble_stats();
            let now = (s.role, s.term, s.leader);
            if last != Some(now) {
                last = Some(now);
                self.world.trace(format_args!("node {} {:?} term {} leader {:?}", self.id, s.role, s.term, s.leader));
            }
            if self.replica.is_leader() {
                self.world.leader_claim(s.term, self.id);
            }
            tokio::time::sleep(OBSERVE_EVERY).await;
        }
    }

    /// As `corral server` does: the process exits when consensus stops on
    /// its own (a disk error), and its supervisor starts it again.
    async fn watch_failure(self: Arc<Self>) {
        let reason = self.replica.failed().await;
        if self.crashed.get() == 0 {
            self.world.trace(format_args!("node {} consensus stopped ({reason}); supervisor restarts it", self.id));
            crate::faults::supervisor_restart(&self.world, self.id);
        }
    }
}

/// Maps a member's write reply to the register result.
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
