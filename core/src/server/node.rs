//! The node: what every connection shares (config, log, state machine,
//! sessions, counters) and the background tasks (accept, session expiry,
//! container/TTL reaper).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Mutex, RwLock};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::config::Config;
use super::session::{decode_touches, encode_touches, SessionTracker};
use super::sm::{ConnectionSinks, Outbound, ServerSm};
use super::stats::{ConnStats, ServerStats};
use super::ServerError;
use crate::replication::{EnsembleOptions, Member, Replica, ReplicaOptions, ReplicationError, Role};
use crate::txn::{Txn, TxnOp, TxnResult};
use crate::watch::{ConnId, WatchRegistry};

/// What `cons`, `stat` and the per-address limit need to know of a connection.
pub struct ConnInfo {
    /// Client address.
    pub peer: SocketAddr,
    /// Session carried, 0 before the handshake completes.
    pub session_id: AtomicU64,
    /// Negotiated timeout.
    pub timeout_ms: AtomicU64,
    /// When the connection was accepted.
    pub established: SystemTime,
    /// Requests read but not yet processed.
    pub queued: AtomicU64,
    /// Counters.
    pub stats: Arc<ConnStats>,
    /// Established by a member in read-only mode (closed when it serves again).
    pub read_only: std::sync::atomic::AtomicBool,
}

/// Shared state of one server node.
pub struct Node {
    /// Effective configuration.
    pub config: Config,
    /// The replicated log.
    pub replica: Replica<ServerSm>,
    /// Tree, sessions and watches; reads take the read lock, apply the write lock.
    pub sm: Arc<RwLock<ServerSm>>,
    /// Outbound queues of live connections.
    pub sinks: Arc<ConnectionSinks>,
    /// Session deadlines and owners.
    pub sessions: SessionTracker,
    /// Live connections.
    pub conns: Mutex<HashMap<ConnId, Arc<ConnInfo>>>,
    /// Server counters.
    pub stats: ServerStats,
    /// Bound client address.
    pub local_addr: SocketAddr,
    /// When the node started serving.
    pub started: Instant,
    /// This member's id (`myid`; 1 when standalone).
    pub server_id: u64,
    /// Held while this member runs a reconfig (one at a time).
    pub reconfig_lock: tokio::sync::Mutex<()>,
    /// Local sessions (`localSessionsEnabled`): known to this member only,
    /// with their password and timeout, until they close, expire or are
    /// upgraded to global sessions.
    pub local_sessions: Mutex<HashMap<i64, ([u8; 16], i32)>>,
    next_conn: AtomicU64,
    next_session: AtomicU64,
    shutdown_tx: watch::Sender<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

/// Milliseconds since the epoch, the clock a proposer stamps `Txn`s with.
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// This node's id when standalone (ZooKeeper's session ids then carry 1 too).
const STANDALONE_SERVER_ID: u64 = 1;

/// ZooKeeper's first session id: server id in the top byte, the start time
/// in ms in the next 40 bits, then a counter.
fn initial_session_id(server_id: u64) -> u64 {
    let t = (now_ms() as u64) << 24 >> 8;
    (server_id << 56) | t
}

impl Node {
    /// Opens the log, binds the port and spawns the background tasks.
    pub async fn start(config: Config) -> Result<Arc<Node>, ServerError> {
        for dir in [config.data_dir.as_path(), config.data_log_dir()] {
            std::fs::create_dir_all(dir)
                .map_err(|source| ServerError::DataDir { path: dir.display().to_string(), source })?;
        }
        let watches = Arc::new(Mutex::new(WatchRegistry::new(config.watches_per_connection_max)));
        let sinks = Arc::new(ConnectionSinks::default());
        let sm = Arc::new(RwLock::new(ServerSm::new(watches, sinks.clone())));
        let mut config = config;
        let server_id = if config.is_ensemble() {
            config.my_id().map_err(|e| ServerError::Config(e.to_string()))?
        } else {
            STANDALONE_SERVER_ID
        };
        let opts = ReplicaOptions {
            node_id: server_id,
            data_dir: config.data_dir.join("version-2"),
            log_dir: config.data_log_dir().join("version-2"),
            snap_count: config.snap_count,
            snap_retain_count: config.snap_retain_count as usize,
            purge_interval: config.purge_interval(),
            lock_wait: Duration::from_millis(config.data_dir_lock_wait_ms),
        };
        let replica = if config.is_ensemble() {
            let ensemble = ensemble_options(&config, server_id)?;
            if let Some((host, port)) = &config.servers[&server_id].client {
                config.client_port = *port;
                if let Some(ip) = host.as_deref().and_then(|h| h.parse().ok()) {
                    config.client_port_address = ip;
                }
            }
            Replica::open_member(opts, sm.clone(), ensemble).await?
        } else {
            Replica::open_standalone(opts, sm.clone()).await?
        };
        let addr = config.client_address();
        let listener =
            TcpListener::bind(addr).await.map_err(|source| ServerError::Bind { addr: addr.to_string(), source })?;
        let local_addr =
            listener.local_addr().map_err(|source| ServerError::Bind { addr: addr.to_string(), source })?;
        // With port 0 the kernel picked one: `conf` reports the real port.
        config.client_port = local_addr.port();
        let sessions = SessionTracker::new(Duration::from_millis(config.tick_time_ms as u64));
        // Every session the log knows is alive again, with a fresh clock.
        for (id, info) in sm.read().state.sessions.iter() {
            sessions.add(*id, info.timeout_ms);
        }
        let (shutdown_tx, _) = watch::channel(false);
        let node = Arc::new(Node {
            config,
            replica,
            sm,
            sinks,
            sessions,
            conns: Mutex::new(HashMap::new()),
            stats: ServerStats::default(),
            local_addr,
            started: Instant::now(),
            server_id,
            reconfig_lock: tokio::sync::Mutex::new(()),
            local_sessions: Mutex::new(HashMap::new()),
            next_conn: AtomicU64::new(1),
            next_session: AtomicU64::new(initial_session_id(server_id)),
            shutdown_tx,
            tasks: Mutex::new(Vec::new()),
        });
        let tasks = vec![
            tokio::spawn(accept_loop(node.clone(), listener)),
            tokio::spawn(expiry_loop(node.clone())),
            tokio::spawn(reaper_loop(node.clone())),
        ];
        *node.tasks.lock() = tasks;
        let weak = Arc::downgrade(&node);
        node.replica.set_app_handler(move |from, payload| {
            if let Some(node) = weak.upgrade() {
                node.on_member_message(from, &payload);
            }
        });
        Ok(node)
    }

    /// A receiver that flips to true when the node shuts down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown_tx.subscribe()
    }

    /// Stops every task and connection, then closes the log.
    pub async fn shutdown(&self) -> Result<(), ServerError> {
        let _ = self.shutdown_tx.send(true);
        let tasks = std::mem::take(&mut *self.tasks.lock());
        for t in tasks {
            t.abort();
        }
        let conns: Vec<ConnId> = self.conns.lock().keys().copied().collect();
        for c in conns {
            self.sinks.send(c, Outbound::Close);
        }
        self.replica.shutdown().await?;
        Ok(())
    }

    /// A fresh connection id.
    pub fn next_conn_id(&self) -> ConnId {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// A session id not used by any live session.
    pub fn next_session_id(&self) -> i64 {
        loop {
            let id = self.next_session.fetch_add(1, Ordering::Relaxed) as i64;
            if !self.sm.read().state.sessions.contains_key(&id) {
                return id;
            }
        }
    }

    /// The last applied zxid.
    pub fn zxid(&self) -> i64 {
        self.sm.read().zxid()
    }

    /// Appends a command to the log and waits until it is applied.
    pub async fn propose(&self, op: TxnOp) -> Result<(i64, TxnResult), ReplicationError> {
        let (index, result) = self.replica.propose(Txn { time_ms: now_ms(), op }).await?;
        Ok((index as i64, result))
    }

    /// Whether this node expires sessions and reaps containers: the leader
    /// (or a standalone node).
    pub fn leads(&self) -> bool {
        matches!(self.replica.role(), Role::Leader | Role::Standalone)
    }

    /// Whether clients are served: standalone, or a member that knows a leader.
    pub fn serving(&self) -> bool {
        !matches!(self.replica.role(), Role::Looking)
    }

    /// Read-only mode (`readonlymode.enabled`): a member cut off from the
    /// quorum keeps serving reads to clients that asked for read-only.
    pub fn read_only(&self) -> bool {
        self.config.read_only_mode && self.config.is_ensemble() && !self.serving()
    }

    /// ZooKeeper's name for this node's role (`srvr`'s Mode, mntr's zk_server_state).
    pub fn mode(&self) -> &'static str {
        if self.read_only() {
            return "read-only";
        }
        match self.replica.role() {
            Role::Standalone => "standalone",
            Role::Leader => "leader",
            Role::Follower => "follower",
            Role::Observer => "observer",
            Role::Looking => "looking",
        }
    }

    /// A message from another member: a batch of session touches.
    fn on_member_message(&self, from: u64, payload: &[u8]) {
        match decode_touches(payload) {
            Some(ids) => {
                let sm = self.sm.read();
                for id in ids {
                    if !self.sessions.touch(id) {
                        if let Some(info) = sm.state.sessions.get(&id) {
                            self.sessions.add(id, info.timeout_ms);
                        }
                    }
                }
            }
            None => tracing::warn!(from, "malformed session touches from a member"),
        }
    }

    /// Number of live connections from one address.
    pub fn connections_from(&self, ip: IpAddr) -> usize {
        self.conns.lock().values().filter(|c| c.peer.ip() == ip).count()
    }

    /// Queues a command in the log (in call order) and returns a future for
    /// its outcome.
    pub async fn submit(
        &self,
        op: TxnOp,
    ) -> Result<
        impl std::future::Future<Output = Result<(u64, TxnResult), ReplicationError>> + Send + 'static,
        ReplicationError,
    > {
        self.replica.submit(Txn { time_ms: now_ms(), op }).await
    }

    /// Whether new sessions are local to this member (`localSessionsEnabled`
    /// in an ensemble; a standalone server has only one member anyway).
    pub fn local_sessions_on(&self) -> bool {
        self.config.local_sessions_enabled && self.config.is_ensemble()
    }

    /// Whether `session_id` is a local session of this member.
    pub fn is_local_session(&self, session_id: i64) -> bool {
        self.local_sessions.lock().contains_key(&session_id)
    }

    /// Makes a local session global (in the log) before it creates an
    /// ephemeral; refused with EphemeralOnLocalSession unless
    /// `localSessionsUpgradingEnabled`. Global sessions pass unchanged.
    pub async fn upgrade_session(&self, session_id: i64) -> Result<(), crate::proto::Code> {
        let Some((passwd, timeout_ms)) = self.local_sessions.lock().get(&session_id).copied() else {
            return Ok(());
        };
        if !self.config.local_sessions_upgrading_enabled {
            return Err(crate::proto::Code::EphemeralOnLocalSession);
        }
        match self.propose(TxnOp::CreateSession { session_id, passwd, timeout_ms }).await {
            Ok(_) => {
                self.local_sessions.lock().remove(&session_id);
                tracing::info!(session = format!("0x{session_id:x}"), "local session upgraded to a global one");
                Ok(())
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not upgrade a local session");
                Err(crate::proto::Code::ConnectionLoss)
            }
        }
    }

    /// Ends a local session on this member: nothing goes through the log.
    fn end_local_session(&self, session_id: i64) {
        self.local_sessions.lock().remove(&session_id);
        if let Some(conn) = self.sessions.remove(session_id) {
            self.sinks.send(conn, Outbound::Close);
        }
    }

    /// Ends a session through the log (or locally, for a local session) and
    /// closes its connection.
    pub async fn close_session(&self, session_id: i64) -> Result<i64, ReplicationError> {
        if self.is_local_session(session_id) {
            self.end_local_session(session_id);
            return Ok(self.zxid());
        }
        let (zxid, _) = self.propose(TxnOp::CloseSession { session_id }).await?;
        if let Some(conn) = self.sessions.remove(session_id) {
            self.sinks.send(conn, Outbound::Close);
        }
        Ok(zxid)
    }
}

async fn accept_loop(node: Arc<Node>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                tokio::spawn(super::connection::serve(node.clone(), stream, peer));
            }
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// The peer side of an ensemble member, from its configuration.
fn ensemble_options(config: &super::Config, me: u64) -> Result<EnsembleOptions, ServerError> {
    let members =
        config.servers.iter().map(|(id, s)| (*id, Member { addr: s.peer_addr(), voter: !s.observer })).collect();
    let spec = &config.servers[&me];
    let listen = if config.quorum_listen_on_all_ips {
        std::net::SocketAddr::new(std::net::Ipv4Addr::UNSPECIFIED.into(), spec.peer_port)
    } else {
        use std::net::ToSocketAddrs;
        spec.peer_addr()
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| ServerError::Config(format!("server.{me}: cannot resolve {}", spec.peer_addr())))?
    };
    let election_timeout = config.election_timeout();
    // openraft allows an append (and its fsync on the follower) one heartbeat
    // period and checks timers every 1.5 heartbeats: a third of the election
    // timeout keeps appends patient and several heartbeats inside the window
    // (lease of 1.5 election timeouts, then the election timeout) before a
    // follower stands.
    let quorum_lease = Duration::from_millis(u64::from(config.sync_limit) * u64::from(config.tick_time_ms));
    Ok(EnsembleOptions { members, listen, heartbeat: election_timeout / 3, election_timeout, quorum_lease })
}

/// Expires sessions whose clients went silent (on the leader, which owns
/// expiry); on other members, forwards the touches of local sessions to the
/// leader. Also forgets sessions the log closed by other paths.
async fn expiry_loop(node: Arc<Node>) {
    let period = Duration::from_millis((node.config.tick_time_ms as u64 / 2).clamp(10, 1000));
    let expiry_wait = Duration::from_millis(node.config.tick_time_ms as u64 * 2).max(Duration::from_secs(1));
    let mut serving = node.serving();
    loop {
        tokio::time::sleep(period).await;
        let now_serving = node.serving();
        if serving != now_serving && node.config.is_ensemble() {
            // Lost the leader or the quorum: like ZooKeeper, drop every client
            // so that it reconnects to a member that serves (or, in read-only
            // mode, here again, read-only). Back with a quorum: drop the
            // read-only ones, so that they come back read-write.
            if now_serving {
                tracing::info!("serving again: disconnecting read-only clients");
            } else {
                tracing::warn!("no quorum: disconnecting clients");
            }
            let conns: Vec<ConnId> = node
                .conns
                .lock()
                .iter()
                .filter(|(_, info)| !now_serving || info.read_only.load(Ordering::Relaxed))
                .map(|(id, _)| *id)
                .collect();
            for c in conns {
                node.sinks.send(c, Outbound::Close);
            }
        }
        serving = now_serving;
        let closed = std::mem::take(&mut *node.sm.read().closed_sessions.lock());
        for session_id in closed {
            node.local_sessions.lock().remove(&session_id);
            if let Some(conn) = node.sessions.remove(session_id) {
                node.sinks.send(conn, Outbound::Close);
            }
        }
        let round = {
            let table = node.sm.read().state.sessions.clone();
            node.sessions.round(tokio::time::Instant::now(), node.leads(), &table, &|id| node.is_local_session(id))
        };
        for session_id in round.expire_local {
            tracing::info!(session = format!("0x{session_id:x}"), "local session expired");
            node.end_local_session(session_id);
        }
        if !round.touches_for_leader.is_empty() {
            node.replica.send_to_leader(encode_touches(&round.touches_for_leader)).await;
        }
        if round.started_leading {
            tracing::info!("leading: session clocks restarted");
            record_first_config(&node);
        }
        for session_id in round.expire {
            tracing::info!(session = format!("0x{session_id:x}"), "session expired");
            // Bounded: an entry a deposed leader proposed may never be
            // answered; the next round tries again.
            match tokio::time::timeout(expiry_wait, node.close_session(session_id)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "could not expire session"),
                Err(_) => {
                    tracing::warn!(session = format!("0x{session_id:x}"), "expiry not committed in time; retrying");
                    break;
                }
            }
        }
    }
}

/// The first leader of an ensemble writes the configured membership into
/// `/zookeeper/config`, where ZooKeeper shows it; later changes come from
/// reconfig.
fn record_first_config(node: &Arc<Node>) {
    if !node.config.is_ensemble() {
        return;
    }
    let empty = {
        let sm = node.sm.read();
        let root = [crate::proto::Id::new("super", "")];
        sm.state.tree.get_data(crate::tree::path::CONFIG, &root).is_ok_and(|nd| nd.data.is_none_or(|d| d.is_empty()))
    };
    if !empty {
        return;
    }
    let servers = super::reconfig::render(&node.config.servers);
    let node = node.clone();
    tokio::spawn(async move {
        if let Err(e) = node.propose(TxnOp::SetConfig { servers }).await {
            tracing::warn!(error = %e, "could not record the membership in /zookeeper/config");
        }
    });
}

/// Removes emptied containers and expired TTL nodes, at most
/// `container_max_per_minute` per minute.
async fn reaper_loop(node: Arc<Node>) {
    let period = Duration::from_millis(node.config.container_check_interval_ms.max(10));
    let per_minute = node.config.container_deletions_per_minute_max.max(1) as u64;
    loop {
        tokio::time::sleep(period).await;
        if !node.leads() {
            continue;
        }
        let max = ((per_minute * period.as_millis() as u64) / 60_000).max(1) as usize;
        let candidates = node.sm.read().state.tree.reap_candidates(now_ms(), max);
        for path in candidates {
            if let Err(e) = node.propose(TxnOp::DeleteContainer { path }).await {
                tracing::warn!(error = %e, "container reaper could not propose");
                break;
            }
        }
    }
}
