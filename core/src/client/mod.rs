//! The async ZooKeeper client: one session carried across connections to the
//! servers of an ensemble, every operation of the protocol, watches as
//! futures and streams, connection states as a stream.
//!
//! It works against Apache ZooKeeper 3.5+ as well as corral. Recipes in
//! [`crate::recipes`] use only what is public here.
//!
//! May use: `proto`. Never `server`.

mod builder;
mod connection;
mod error;
mod transaction;
mod watch;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::{broadcast, mpsc, oneshot};

/// The `digest` scheme's id for `user:password`, as an ACL names it.
pub use crate::tree::acl::digest_id;
pub use builder::{ClientBuilder, ConnectString};
pub use error::{Error, Result};
pub use transaction::{OpResult, Transaction};
pub use watch::{KeeperState, OneshotWatch, WatchStream, WatchedEvent};

use crate::proto::{
    Acl, AddWatchMode, ClientInfo, Code, CreateMode, CreateRequest, OpCode, Request, Response, Stat, WatcherType,
};
use connection::{Cmd, WatchReg};
use watch::Kind;

/// Connection states, as Curator names them. Recipes treat `Suspended` as
/// "ownership unknown" and `Lost` as "ownership gone".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// The first session is established.
    Connected,
    /// Disconnected; the session may still be alive.
    Suspended,
    /// Connected again (same session resumed, or a new one after `Lost`).
    Reconnected,
    /// Connected to a read-only server.
    ReadOnly,
    /// The session expired: its ephemerals and watches are gone.
    Lost,
    /// The client was closed.
    Closed,
}

/// How to create a node.
#[derive(Clone, Debug)]
pub struct CreateOptions {
    /// Node kind (default persistent).
    pub mode: CreateMode,
    /// ACL (default world:anyone ALL).
    pub acl: Vec<Acl>,
    /// TTL in ms for the TTL modes.
    pub ttl_ms: Option<i64>,
}

impl Default for CreateOptions {
    fn default() -> Self {
        CreateOptions { mode: CreateMode::Persistent, acl: Acl::open_unsafe(), ttl_ms: None }
    }
}

impl CreateOptions {
    /// Options for `mode` with the open ACL.
    pub fn mode(mode: CreateMode) -> CreateOptions {
        CreateOptions { mode, ..Default::default() }
    }

    /// Sets the ACL.
    pub fn with_acl(mut self, acl: Vec<Acl>) -> CreateOptions {
        self.acl = acl;
        self
    }

    /// Sets the TTL (use with a TTL mode).
    pub fn with_ttl_ms(mut self, ttl_ms: i64) -> CreateOptions {
        self.ttl_ms = Some(ttl_ms);
        self
    }
}

pub(crate) struct Inner {
    /// The servers to try, replaced by [`Client::set_hosts`]; `hosts_changed`
    /// tells the connection loop to pick the new list up at its next attempt.
    hosts: Mutex<Vec<String>>,
    hosts_changed: AtomicBool,
    /// Whether the list is shuffled before use (else tried in the given order).
    randomize_hosts: bool,
    /// `host:port` of the server the client is connected to, if any.
    connected_to: Mutex<Option<String>>,
    chroot: Option<String>,
    session_timeout: Duration,
    connection_timeout: Duration,
    backoff_max: Duration,
    read_only: bool,
    /// A session to resume on the first connect (id, password).
    resume: Option<(i64, [u8; 16])>,
    started: Instant,
    auth: Mutex<Vec<(String, Vec<u8>)>>,
    watches: Mutex<watch::Registry>,
    last_zxid: AtomicI64,
    session_id: AtomicI64,
    /// The current session's password (zeros while there is none).
    session_passwd: Mutex<[u8; 16]>,
    negotiated_timeout_ms: AtomicI64,
    state: Mutex<State>,
    states: broadcast::Sender<State>,
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl Inner {
    fn set_state(&self, s: State) {
        *self.state.lock() = s;
        let _ = self.states.send(s);
    }

    /// Client path → server path.
    fn to_server(&self, path: &str) -> String {
        match &self.chroot {
            None => path.to_string(),
            Some(c) if path == "/" => c.clone(),
            Some(c) => format!("{c}{path}"),
        }
    }

    /// Server path → client path (paths outside the chroot pass unchanged).
    fn to_local(&self, path: &str) -> String {
        match &self.chroot {
            None => path.to_string(),
            Some(c) if path == c => "/".to_string(),
            Some(c) => match path.strip_prefix(c.as_str()) {
                Some(rest) if rest.starts_with('/') => rest.to_string(),
                _ => path.to_string(),
            },
        }
    }
}

/// A ZooKeeper client. Cloning is cheap and shares the session; when the
/// last clone is dropped the session is closed (its ephemerals go).
///
/// A request is queued on the connection when its future is first polled,
/// and requests go to the server in that order (which answers a session's
/// requests in order): a binding that polls each call's future once as it
/// is made keeps its callers' order.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    _close_on_drop: Arc<CloseOnDrop>,
}

/// Closes the session when the last [`Client`] handle goes away. The
/// connection task holds `Inner` itself, so dropping handles alone would
/// leave it running.
struct CloseOnDrop {
    cmds: mpsc::UnboundedSender<Cmd>,
}

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        let (reply, _) = oneshot::channel();
        let _ = self.cmds.send(Cmd::Close { reply });
    }
}

/// How many state changes a slow state listener may fall behind by.
const STATE_EVENTS_MAX: usize = 64;

impl Client {
    /// A builder for `connect_string` (`host:port,host:port/chroot`).
    pub fn builder(connect_string: &str) -> ClientBuilder {
        ClientBuilder::new(connect_string)
    }

    /// Connects with default options.
    pub async fn connect(connect_string: &str) -> Result<Client> {
        Client::builder(connect_string).connect().await
    }

    async fn start(b: ClientBuilder) -> Result<Client> {
        let cs = ConnectString::parse(&b.connect_string)?;
        let (cmds, rx) = mpsc::unbounded_channel();
        let (states, _) = broadcast::channel(STATE_EVENTS_MAX);
        let inner = Arc::new(Inner {
            hosts: Mutex::new(cs.hosts),
            hosts_changed: AtomicBool::new(false),
            randomize_hosts: b.randomize_hosts,
            connected_to: Mutex::new(None),
            chroot: cs.chroot,
            session_timeout: b.session_timeout,
            connection_timeout: b.connection_timeout.unwrap_or(b.session_timeout),
            backoff_max: b.backoff_max,
            read_only: b.read_only,
            resume: b.resume,
            started: Instant::now(),
            auth: Mutex::new(b.auth),
            watches: Mutex::new(Default::default()),
            last_zxid: AtomicI64::new(0),
            session_id: AtomicI64::new(0),
            session_passwd: Mutex::new([0; 16]),
            negotiated_timeout_ms: AtomicI64::new(0),
            state: Mutex::new(State::Suspended),
            states,
            cmds,
        });
        let (first_tx, first_rx) = oneshot::channel();
        tokio::spawn(connection::run(inner.clone(), rx, first_tx));
        let close_on_drop = Arc::new(CloseOnDrop { cmds: inner.cmds.clone() });
        first_rx.await.map_err(|_| Error::new(Code::ConnectionLoss))??;
        Ok(Client { inner, _close_on_drop: close_on_drop })
    }

    /// The current connection state.
    pub fn state(&self) -> State {
        *self.inner.state.lock()
    }

    /// Every state change from now on.
    pub fn state_changes(&self) -> broadcast::Receiver<State> {
        self.inner.states.subscribe()
    }

    /// The current session id (0 while there is none).
    pub fn session_id(&self) -> i64 {
        self.inner.session_id.load(Ordering::Relaxed)
    }

    /// The current session's password (zeros while there is none). With
    /// [`Client::session_id`] it lets another connection take the session
    /// over, as ZooKeeper's own tests do to expire a session on purpose.
    pub fn session_password(&self) -> [u8; 16] {
        *self.inner.session_passwd.lock()
    }

    /// `host:port` of the server this client is connected to (None while disconnected).
    pub fn connected_host(&self) -> Option<String> {
        self.inner.connected_to.lock().clone()
    }

    /// Replaces the servers this client connects to, as kazoo's `set_hosts`:
    /// the current connection stays, the next (re)connect picks from `hosts`
    /// (`host:port,host:port`). A chroot cannot change: a `/path` part that
    /// differs from the client's own is refused with BadArguments, as is a
    /// list without a valid host.
    pub fn set_hosts(&self, hosts: &str) -> Result<()> {
        let cs = ConnectString::parse(hosts)?;
        if hosts.contains('/') && cs.chroot != self.inner.chroot {
            return Err(Error::at(Code::BadArguments, hosts));
        }
        *self.inner.hosts.lock() = cs.hosts;
        self.inner.hosts_changed.store(true, Ordering::Release);
        Ok(())
    }

    /// The session timeout the server granted.
    pub fn session_timeout(&self) -> Duration {
        Duration::from_millis(self.inner.negotiated_timeout_ms.load(Ordering::Relaxed).max(0) as u64)
    }

    /// The highest zxid seen in any reply.
    pub fn last_zxid(&self) -> i64 {
        self.inner.last_zxid.load(Ordering::Relaxed)
    }

    async fn call(&self, op: OpCode, req: Request, watch: Option<WatchReg>) -> Result<Response> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .cmds
            .send(Cmd::Request { op, req, watch, reply: tx })
            .map_err(|_| Error::new(Code::ConnectionLoss))?;
        rx.await.map_err(|_| Error::new(Code::ConnectionLoss))?
    }

    fn unexpected(&self) -> Error {
        Error::new(Code::MarshallingError)
    }

    /// Creates a node; returns its actual path (with the sequence suffix).
    pub async fn create(&self, path: &str, data: &[u8], opts: &CreateOptions) -> Result<String> {
        Ok(self.create_with_stat(path, data, opts).await?.0)
    }

    /// Creates a node; returns its actual path and Stat.
    pub async fn create_with_stat(&self, path: &str, data: &[u8], opts: &CreateOptions) -> Result<(String, Stat)> {
        self.create_nullable(path, Some(data), opts).await
    }

    /// Like [`Client::create_with_stat`]; `None` creates the node with null
    /// data (ZooKeeper keeps null apart from empty: Java's `getData` returns
    /// `null`, kazoo's `get` returns `None`).
    pub async fn create_nullable(
        &self,
        path: &str,
        data: Option<&[u8]>,
        opts: &CreateOptions,
    ) -> Result<(String, Stat)> {
        let op = create_opcode(opts.mode, true);
        let req = Request::Create(CreateRequest {
            path: self.inner.to_server(path),
            data: data.map(<[u8]>::to_vec),
            acl: opts.acl.clone(),
            flags: opts.mode.flags(),
            ttl_ms: if op == OpCode::CreateTtl { Some(opts.ttl_ms.unwrap_or(-1)) } else { None },
        });
        match self.call(op, req, None).await.map_err(|e| at(e, path))? {
            Response::Create2 { path, stat } => Ok((self.inner.to_local(&path), stat)),
            _ => Err(self.unexpected()),
        }
    }

    /// Deletes a node; `version` -1 (or `None`) deletes any version.
    pub async fn delete(&self, path: &str, version: Option<i32>) -> Result<()> {
        let req = Request::Delete { path: self.inner.to_server(path), version: version.unwrap_or(-1) };
        self.call(OpCode::Delete, req, None).await.map_err(|e| at(e, path))?;
        Ok(())
    }

    /// The node's Stat, or `None` when it does not exist.
    pub async fn exists(&self, path: &str) -> Result<Option<Stat>> {
        let req = Request::Exists { path: self.inner.to_server(path), watch: false };
        match self.call(OpCode::Exists, req, None).await {
            Ok(Response::Stat(s)) => Ok(Some(s)),
            Ok(_) => Err(self.unexpected()),
            Err(e) if e.code == Code::NoNode => Ok(None),
            Err(e) => Err(at(e, path)),
        }
    }

    /// Like [`Client::exists`], and watches the node's creation, change or deletion.
    pub async fn exists_w(&self, path: &str) -> Result<(Option<Stat>, OneshotWatch)> {
        let (w, tx) = OneshotWatch::new();
        let reg = WatchReg { kind_ok: Kind::Data, kind_nonode: Some(Kind::Exist), tx };
        let req = Request::Exists { path: self.inner.to_server(path), watch: true };
        match self.call(OpCode::Exists, req, Some(reg)).await {
            Ok(Response::Stat(s)) => Ok((Some(s), w)),
            Ok(_) => Err(self.unexpected()),
            Err(e) if e.code == Code::NoNode => Ok((None, w)),
            Err(e) => Err(at(e, path)),
        }
    }

    /// The node's data and Stat (null data reads as empty; see
    /// [`Client::get_data_nullable`]).
    pub async fn get_data(&self, path: &str) -> Result<(Vec<u8>, Stat)> {
        let (data, stat) = self.get_data_nullable(path).await?;
        Ok((data.unwrap_or_default(), stat))
    }

    /// The node's data (`None` when it is null) and Stat.
    pub async fn get_data_nullable(&self, path: &str) -> Result<(Option<Vec<u8>>, Stat)> {
        let req = Request::GetData { path: self.inner.to_server(path), watch: false };
        match self.call(OpCode::GetData, req, None).await.map_err(|e| at(e, path))? {
            Response::GetData { data, stat } => Ok((data, stat)),
            _ => Err(self.unexpected()),
        }
    }

    /// Like [`Client::get_data`], and watches the node's next change or deletion.
    pub async fn get_data_w(&self, path: &str) -> Result<(Vec<u8>, Stat, OneshotWatch)> {
        let (data, stat, w) = self.get_data_nullable_w(path).await?;
        Ok((data.unwrap_or_default(), stat, w))
    }

    /// Like [`Client::get_data_nullable`], and watches the node's next change or deletion.
    pub async fn get_data_nullable_w(&self, path: &str) -> Result<(Option<Vec<u8>>, Stat, OneshotWatch)> {
        let (w, tx) = OneshotWatch::new();
        let reg = WatchReg { kind_ok: Kind::Data, kind_nonode: None, tx };
        let req = Request::GetData { path: self.inner.to_server(path), watch: true };
        match self.call(OpCode::GetData, req, Some(reg)).await.map_err(|e| at(e, path))? {
            Response::GetData { data, stat } => Ok((data, stat, w)),
            _ => Err(self.unexpected()),
        }
    }

    /// Sets the node's data; `version` `None` = any. Returns the new Stat.
    pub async fn set_data(&self, path: &str, data: &[u8], version: Option<i32>) -> Result<Stat> {
        self.set_data_nullable(path, Some(data), version).await
    }

    /// Like [`Client::set_data`]; `None` sets null data.
    pub async fn set_data_nullable(&self, path: &str, data: Option<&[u8]>, version: Option<i32>) -> Result<Stat> {
        let req = Request::SetData {
            path: self.inner.to_server(path),
            data: data.map(<[u8]>::to_vec),
            version: version.unwrap_or(-1),
        };
        match self.call(OpCode::SetData, req, None).await.map_err(|e| at(e, path))? {
            Response::Stat(s) => Ok(s),
            _ => Err(self.unexpected()),
        }
    }

    /// The node's ACL and Stat.
    pub async fn get_acl(&self, path: &str) -> Result<(Vec<Acl>, Stat)> {
        let req = Request::GetAcl { path: self.inner.to_server(path) };
        match self.call(OpCode::GetAcl, req, None).await.map_err(|e| at(e, path))? {
            Response::GetAcl { acl, stat } => Ok((acl, stat)),
            _ => Err(self.unexpected()),
        }
    }

    /// Sets the node's ACL; `version` is the expected aversion (`None` = any).
    pub async fn set_acl(&self, path: &str, acl: &[Acl], version: Option<i32>) -> Result<Stat> {
        let req = Request::SetAcl {
            path: self.inner.to_server(path),
            acl: Some(acl.to_vec()),
            version: version.unwrap_or(-1),
        };
        match self.call(OpCode::SetAcl, req, None).await.map_err(|e| at(e, path))? {
            Response::Stat(s) => Ok(s),
            _ => Err(self.unexpected()),
        }
    }

    /// The names of the node's children (unordered).
    pub async fn get_children(&self, path: &str) -> Result<Vec<String>> {
        Ok(self.get_children2(path).await?.0)
    }

    /// Children and the node's Stat.
    pub async fn get_children2(&self, path: &str) -> Result<(Vec<String>, Stat)> {
        let req = Request::GetChildren { path: self.inner.to_server(path), watch: false };
        match self.call(OpCode::GetChildren2, req, None).await.map_err(|e| at(e, path))? {
            Response::GetChildren2 { children, stat } => Ok((children, stat)),
            _ => Err(self.unexpected()),
        }
    }

    /// Children, and a watch for the next child change or the node's deletion.
    pub async fn get_children_w(&self, path: &str) -> Result<(Vec<String>, Stat, OneshotWatch)> {
        let (w, tx) = OneshotWatch::new();
        let reg = WatchReg { kind_ok: Kind::Child, kind_nonode: None, tx };
        let req = Request::GetChildren { path: self.inner.to_server(path), watch: true };
        match self.call(OpCode::GetChildren2, req, Some(reg)).await.map_err(|e| at(e, path))? {
            Response::GetChildren2 { children, stat } => Ok((children, stat, w)),
            _ => Err(self.unexpected()),
        }
    }

    /// Number of descendants of the node (ZooKeeper 3.6+).
    pub async fn get_all_children_number(&self, path: &str) -> Result<i32> {
        let req = Request::GetAllChildrenNumber { path: self.inner.to_server(path) };
        match self.call(OpCode::GetAllChildrenNumber, req, None).await.map_err(|e| at(e, path))? {
            Response::AllChildrenNumber(n) => Ok(n),
            _ => Err(self.unexpected()),
        }
    }

    /// This session's ephemeral nodes whose path starts with `prefix` (ZooKeeper 3.6+).
    /// Paths are server paths (the chroot is not applied, as in the Java client).
    pub async fn get_ephemerals(&self, prefix: &str) -> Result<Vec<String>> {
        let req = Request::GetEphemerals { prefix: Some(prefix.to_string()) };
        match self.call(OpCode::GetEphemerals, req, None).await? {
            Response::Ephemerals(list) => Ok(list),
            _ => Err(self.unexpected()),
        }
    }

    /// Waits until the connected server has caught up with the leader.
    pub async fn sync(&self, path: &str) -> Result<()> {
        let req = Request::Sync { path: self.inner.to_server(path) };
        self.call(OpCode::Sync, req, None).await.map_err(|e| at(e, path))?;
        Ok(())
    }

    /// Changes the ensemble's membership (ZooKeeper 3.5+ dynamic
    /// reconfiguration): incrementally with `joining` (`server.N=...` lines,
    /// comma separated) and `leaving` (member ids), or all at once with
    /// `new_members`. `from_config` is the config version the change is
    /// based on (-1: any; else BadVersion when the ensemble moved on).
    /// Returns the new configuration (as in `/zookeeper/config`) and its Stat.
    pub async fn reconfig(
        &self,
        joining: Option<&str>,
        leaving: Option<&str>,
        new_members: Option<&str>,
        from_config: i64,
    ) -> Result<(Vec<u8>, Stat)> {
        let req = Request::Reconfig {
            joining: joining.map(str::to_string),
            leaving: leaving.map(str::to_string),
            new_members: new_members.map(str::to_string),
            cur_config_id: from_config,
        };
        match self.call(OpCode::Reconfig, req, None).await? {
            Response::GetData { data, stat } => Ok((data.unwrap_or_default(), stat)),
            _ => Err(self.unexpected()),
        }
    }

    /// The identities of this connection (ZooKeeper 3.7+).
    pub async fn who_am_i(&self) -> Result<Vec<ClientInfo>> {
        match self.call(OpCode::WhoAmI, Request::Empty, None).await? {
            Response::WhoAmI(infos) => Ok(infos),
            _ => Err(self.unexpected()),
        }
    }

    /// Adds an identity (e.g. `digest`, `user:password`) to this session's
    /// connections, now and after every reconnect.
    pub async fn add_auth(&self, scheme: &str, auth: &[u8]) -> Result<()> {
        let (tx, rx) = oneshot::channel();
        self.inner
            .cmds
            .send(Cmd::Auth { scheme: scheme.to_string(), auth: auth.to_vec(), reply: tx })
            .map_err(|_| Error::new(Code::ConnectionLoss))?;
        rx.await.map_err(|_| Error::new(Code::ConnectionLoss))?
    }

    /// A persistent (or persistent recursive) watch on `path` (ZooKeeper 3.6+),
    /// re-registered after reconnects, until removed or the session ends.
    pub async fn add_watch(&self, path: &str, mode: AddWatchMode) -> Result<WatchStream> {
        let server = self.inner.to_server(path);
        let (stream, tx) = WatchStream::new();
        // Registered first so that no event between the reply and the
        // registration is lost; removed again if the server refuses.
        self.inner.watches.lock().add_persistent(mode, server.clone(), tx);
        let m = if mode == AddWatchMode::Persistent { 0 } else { 1 };
        if let Err(e) = self.call(OpCode::AddWatch, Request::AddWatch { path: server.clone(), mode: m }, None).await {
            self.inner.watches.lock().remove(&server, path, &[], &[mode]);
            return Err(at(e, path));
        }
        Ok(stream)
    }

    /// Removes this client's watches of `watcher_type` on `path` from the
    /// server and locally; NoWatcher if there were none.
    pub async fn remove_watches(&self, path: &str, watcher_type: WatcherType) -> Result<()> {
        let server = self.inner.to_server(path);
        let t = match watcher_type {
            WatcherType::Children => 1,
            WatcherType::Data => 2,
            WatcherType::Any => 3,
            WatcherType::Persistent => 4,
            WatcherType::PersistentRecursive => 5,
        };
        self.call(OpCode::RemoveWatches, Request::Watches { path: server.clone(), watcher_type: t }, None)
            .await
            .map_err(|e| at(e, path))?;
        let (kinds, modes): (&[Kind], &[AddWatchMode]) = match watcher_type {
            WatcherType::Children => (&[Kind::Child], &[]),
            WatcherType::Data => (&[Kind::Data, Kind::Exist], &[]),
            WatcherType::Persistent => (&[], &[AddWatchMode::Persistent]),
            WatcherType::PersistentRecursive => (&[], &[AddWatchMode::PersistentRecursive]),
            WatcherType::Any => (
                &[Kind::Data, Kind::Exist, Kind::Child],
                &[AddWatchMode::Persistent, AddWatchMode::PersistentRecursive],
            ),
        };
        self.inner.watches.lock().remove(&server, path, kinds, modes);
        Ok(())
    }

    /// A transaction: sub-ops applied atomically by [`Transaction::commit`].
    pub fn transaction(&self) -> Transaction {
        Transaction::new(self.clone())
    }

    /// Reads several nodes in one request (ZooKeeper 3.6+ multiRead); each
    /// result is independent.
    pub async fn multi_read(&self, get_data: &[&str], get_children: &[&str]) -> Result<Vec<OpResult>> {
        let mut ops = Vec::new();
        for p in get_data {
            ops.push((OpCode::GetData.as_i32(), Request::GetData { path: self.inner.to_server(p), watch: false }));
        }
        for p in get_children {
            ops.push((
                OpCode::GetChildren.as_i32(),
                Request::GetChildren { path: self.inner.to_server(p), watch: false },
            ));
        }
        match self.call(OpCode::MultiRead, Request::Multi(ops), None).await? {
            Response::Multi(results) => Ok(results.into_iter().map(|r| OpResult::from_wire(r, &self.inner)).collect()),
            _ => Err(self.unexpected()),
        }
    }

    /// Creates `path` and any missing parents as persistent nodes (mkdir -p).
    /// A path ZooKeeper would refuse (relative, `//`, a trailing `/`, `.`
    /// or `..`) is BadArguments, and nothing is created.
    pub async fn ensure_path(&self, path: &str) -> Result<()> {
        crate::tree::path::validate(path).map_err(|code| Error::at(code, path))?;
        if self.exists(path).await?.is_some() {
            return Ok(());
        }
        // Under a chroot the chroot's own nodes are made too, as kazoo and
        // Curator make a missing namespace: so the path is walked on the server.
        let opts = CreateOptions::default();
        let op = create_opcode(opts.mode, true);
        let mut cur = String::new();
        for part in self.inner.to_server(path).split('/').filter(|p| !p.is_empty()) {
            cur.push('/');
            cur.push_str(part);
            let req = Request::Create(CreateRequest {
                path: cur.clone(),
                data: Some(Vec::new()),
                acl: opts.acl.clone(),
                flags: opts.mode.flags(),
                ttl_ms: None,
            });
            match self.call(op, req, None).await {
                Ok(_) => {}
                Err(e) if e.code == Code::NodeExists => {}
                Err(e) => return Err(at(e, path)),
            }
        }
        Ok(())
    }

    /// Deletes `path` and everything below it (children first).
    pub async fn delete_recursive(&self, path: &str) -> Result<()> {
        let mut stack = vec![(path.to_string(), false)];
        while let Some((p, expanded)) = stack.pop() {
            if expanded {
                match self.delete(&p, None).await {
                    Ok(()) => {}
                    Err(e) if e.code == Code::NoNode => {}
                    Err(e) if e.code == Code::NotEmpty => stack.push((p, false)),
                    Err(e) => return Err(e),
                }
                continue;
            }
            let children = match self.get_children(&p).await {
                Ok(c) => c,
                Err(e) if e.code == Code::NoNode => continue,
                Err(e) => return Err(e),
            };
            stack.push((p.clone(), true));
            for c in children {
                let child = if p == "/" { format!("/{c}") } else { format!("{p}/{c}") };
                stack.push((child, false));
            }
        }
        Ok(())
    }

    /// Closes the session (its ephemerals go) and stops reconnecting.
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.inner.cmds.send(Cmd::Close { reply: tx }).is_ok() {
            let _ = rx.await;
        }
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }
}

/// The opcode the Java client uses for a create in `mode`.
fn create_opcode(mode: CreateMode, with_stat: bool) -> OpCode {
    match mode {
        CreateMode::Container => OpCode::CreateContainer,
        m if m.is_ttl() => OpCode::CreateTtl,
        _ if with_stat => OpCode::Create2,
        _ => OpCode::Create,
    }
}

/// Puts the client-side path on an error that has none.
fn at(mut e: Error, path: &str) -> Error {
    if e.path.is_none() || e.path.as_deref().is_some_and(|p| p != path) {
        e.path = Some(path.to_string());
    }
    e
}
