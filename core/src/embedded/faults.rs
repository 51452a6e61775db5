//! Faults on purpose, against corral and Apache ZooKeeper alike: a loopback
//! relay in front of one server that drops connections, keeps clients out and
//! expires sessions; and session expiry through the protocol itself.
//!
//! Expiry is what kazoo's and ZooKeeper's own tests do: a second connection
//! presents the session's id and password (taking the session over, which
//! closes the client's connection) and closes the session. The client's next
//! reconnect is refused as expired: it reports `Lost` and starts a new session.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::{EmbedError, POLL_INTERVAL};
use crate::client::{Client, ConnectString, State};
use crate::proto::{ConnectRequest, ConnectResponse, OpCode, Reader, RequestHeader, Writer};

/// Connections relayed at once, at most; more are refused (closed at once).
pub const RELAYED_CONNECTIONS_MAX: usize = 1024;

/// Sessions whose password the relay remembers, at most (oldest forgotten first).
pub const SESSIONS_REMEMBERED_MAX: usize = 4096;

/// Bytes read per relay step, in each direction.
const RELAY_BUFFER_BYTES: usize = 64 * 1024;

/// The largest handshake reply the relay reads a session from; a larger first
/// frame is passed on unread.
const HANDSHAKE_BYTES_MAX: usize = 1024;

/// How long connecting upstream and one takeover exchange may take.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(5);

/// How long `expire_session` waits for the client's new session before it
/// expires the old one again (the client may have slipped back in with it).
const EXPIRE_RETRY_INTERVAL: Duration = Duration::from_secs(2);

/// What the relay's tasks share.
struct Shared {
    /// Where connections go.
    upstream: String,
    /// New connections are refused while set.
    blocked: AtomicBool,
    /// Bumped to close every live connection.
    epoch: watch::Sender<u64>,
    /// Live relayed connections.
    live: Mutex<usize>,
    /// Passwords from the handshakes passed on.
    passwords: Mutex<SessionPasswords>,
}

/// Session id → password, forgetting the oldest beyond [`SESSIONS_REMEMBERED_MAX`].
#[derive(Default)]
struct SessionPasswords {
    by_id: HashMap<i64, Vec<u8>>,
    /// Ids in the order first seen.
    order: VecDeque<i64>,
}

impl SessionPasswords {
    fn remember(&mut self, session_id: i64, passwd: Vec<u8>) {
        if self.by_id.insert(session_id, passwd).is_none() {
            self.order.push_back(session_id);
        }
        while self.order.len() > SESSIONS_REMEMBERED_MAX {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(&old);
            }
        }
    }
}

/// A loopback TCP relay in front of one ZooKeeper-protocol server. Clients
/// that connect to [`FaultRelay::connect_string`] instead of the server can be
/// disconnected ([`FaultRelay::drop_connections`]), kept out
/// ([`FaultRelay::block`]) and have their session expired
/// ([`FaultRelay::expire`]).
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::{Client, State};
/// use corral::embedded::FaultRelay;
/// use corral::EmbeddedServer;
///
/// let server = EmbeddedServer::start().await?;
/// let relay = FaultRelay::start(&server.connect_string()).await?;
/// let client = Client::connect(&relay.connect_string()).await?;
/// let mut states = client.state_changes();
/// relay.drop_connections(); // the client reconnects and keeps its session
/// assert_eq!(states.recv().await?, State::Suspended);
/// assert_eq!(states.recv().await?, State::Reconnected);
/// relay.expire(client.session_id()).await?; // the session ends on the server
/// relay.close();
/// # Ok(()) }
/// # corral::runtime::block_on(demo()).unwrap().unwrap();
/// ```
pub struct FaultRelay {
    shared: Arc<Shared>,
    local_addr: SocketAddr,
    accept: JoinHandle<()>,
}

impl FaultRelay {
    /// Listens on an ephemeral loopback port and relays to `upstream`
    /// (`host:port`, or a connect string: its first host).
    pub async fn start(upstream: &str) -> Result<FaultRelay, EmbedError> {
        let upstream = first_host(upstream)?;
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| EmbedError::io("relay: binding a loopback port", e))?;
        let local_addr = listener.local_addr().map_err(|e| EmbedError::io("relay: reading its address", e))?;
        let shared = Arc::new(Shared {
            upstream,
            blocked: AtomicBool::new(false),
            epoch: watch::channel(0).0,
            live: Mutex::new(0),
            passwords: Mutex::new(SessionPasswords::default()),
        });
        let accept = tokio::spawn(accept_loop(listener, shared.clone()));
        Ok(FaultRelay { shared, local_addr, accept })
    }

    /// The relay's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The connect string clients use instead of the server's.
    pub fn connect_string(&self) -> String {
        self.local_addr.to_string()
    }

    /// The server relayed to, `host:port`.
    pub fn upstream(&self) -> &str {
        &self.shared.upstream
    }

    /// Closes every relayed connection now: clients see a disconnect, then
    /// reconnect and keep their sessions.
    pub fn drop_connections(&self) {
        self.shared.epoch.send_modify(|e| *e += 1);
    }

    /// Drops every connection and refuses new ones until [`FaultRelay::unblock`].
    pub fn block(&self) {
        self.shared.blocked.store(true, Ordering::Release);
        self.drop_connections();
    }

    /// Lets clients connect again.
    pub fn unblock(&self) {
        self.shared.blocked.store(false, Ordering::Release);
    }

    /// Whether new connections are refused.
    pub fn is_blocked(&self) -> bool {
        self.shared.blocked.load(Ordering::Acquire)
    }

    /// The password of a session seen in a handshake through the relay.
    pub fn password(&self, session_id: i64) -> Option<Vec<u8>> {
        self.shared.passwords.lock().by_id.get(&session_id).cloned()
    }

    /// Ends a session that connected through the relay, as if it had expired.
    /// Returns false when the server already had no such session.
    pub async fn expire(&self, session_id: i64) -> Result<bool, EmbedError> {
        let passwd = self.password(session_id).ok_or(EmbedError::UnknownSession(session_id))?;
        close_session(&self.shared.upstream, session_id, &passwd).await
    }

    /// Stops relaying and closes every connection.
    pub fn close(&self) {
        self.accept.abort();
        self.block();
    }
}

impl std::fmt::Debug for FaultRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultRelay")
            .field("addr", &self.local_addr)
            .field("upstream", &self.shared.upstream)
            .field("blocked", &self.is_blocked())
            .finish()
    }
}

impl Drop for FaultRelay {
    fn drop(&mut self) {
        self.close();
    }
}

/// The first `host:port` of a connect string.
fn first_host(connect_string: &str) -> Result<String, EmbedError> {
    ConnectString::parse(connect_string)
        .ok()
        .and_then(|cs| cs.hosts.into_iter().next())
        .ok_or_else(|| EmbedError::BadAddress(connect_string.to_owned()))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    loop {
        let down = match listener.accept().await {
            Ok((down, _)) => down,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "relay: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        if shared.blocked.load(Ordering::Acquire) {
            continue; // dropped: closed at once
        }
        {
            let mut live = shared.live.lock();
            if *live >= RELAYED_CONNECTIONS_MAX {
                tracing::warn!(max = RELAYED_CONNECTIONS_MAX, "relay: too many connections, refusing one");
                continue;
            }
            *live += 1;
        }
        // Subscribed now, so a drop from here on closes this connection too.
        let epoch = shared.epoch.subscribe();
        let shared = shared.clone();
        tokio::spawn(async move {
            relay(down, &shared, epoch).await;
            *shared.live.lock() -= 1;
        });
    }
}

/// Relays one connection until either side closes or the relay drops it.
async fn relay(down: TcpStream, shared: &Shared, mut epoch: watch::Receiver<u64>) {
    let connect = tokio::time::timeout(UPSTREAM_TIMEOUT, TcpStream::connect(shared.upstream.as_str()));
    let up = tokio::select! {
        up = connect => match up {
            Ok(Ok(up)) => up,
            _ => return,
        },
        _ = epoch.changed() => return,
    };
    for s in [&down, &up] {
        let _ = s.set_nodelay(true);
    }
    let (mut down_rd, mut down_wr) = down.into_split();
    let (mut up_rd, mut up_wr) = up.into_split();
    let to_server = tokio::io::copy(&mut down_rd, &mut up_wr);
    let to_client = async {
        let mut buf = vec![0u8; RELAY_BUFFER_BYTES];
        let mut handshake = Some(Vec::new());
        loop {
            let n = up_rd.read(&mut buf).await?;
            if n == 0 {
                return Ok::<(), std::io::Error>(());
            }
            if let Some(seen) = handshake.as_mut() {
                seen.extend_from_slice(&buf[..n]);
                if learn_session(shared, seen) || seen.len() > HANDSHAKE_BYTES_MAX {
                    handshake = None;
                }
            }
            down_wr.write_all(&buf[..n]).await?;
        }
    };
    tokio::select! {
        _ = to_server => {}
        _ = to_client => {}
        _ = epoch.changed() => {}
    }
    // Both halves of both sockets drop here: each peer sees the connection close.
}

/// Records the session of a complete handshake reply; true once the frame
/// was complete (whether or not it carried a live session).
fn learn_session(shared: &Shared, buf: &[u8]) -> bool {
    let Some(len) = buf.get(..4).map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]])) else {
        return false;
    };
    let Some(frame) = usize::try_from(len).ok().and_then(|n| buf.get(4..4 + n)) else {
        return false;
    };
    if let Ok(resp) = ConnectResponse::decode(&mut Reader::new(frame)) {
        if resp.timeout_ms > 0 && !resp.passwd.is_empty() {
            shared.passwords.lock().remember(resp.session_id, resp.passwd);
        }
    }
    true
}

/// Ends session `session_id` on `server` (`host:port` or a connect string)
/// through the protocol: a handshake with its id and password, then
/// closeSession. Returns false when the server already had no such session.
pub async fn close_session(server: &str, session_id: i64, passwd: &[u8]) -> Result<bool, EmbedError> {
    let host = first_host(server)?;
    let exchange = async {
        let mut s =
            TcpStream::connect(host.as_str()).await.map_err(|e| EmbedError::io(format!("connecting to {host}"), e))?;
        let mut w = Writer::frame();
        ConnectRequest {
            protocol_version: 0,
            last_zxid_seen: 0,
            timeout_ms: 30_000,
            session_id,
            passwd: Some(passwd.to_vec()),
            read_only: Some(false),
        }
        .encode(&mut w);
        let io = |e| EmbedError::io(format!("taking session 0x{session_id:x} over at {host}"), e);
        s.write_all(&w.finish_frame()).await.map_err(io)?;
        let reply = read_frame(&mut s).await.map_err(io)?;
        if ConnectResponse::decode(&mut Reader::new(&reply))?.timeout_ms <= 0 {
            return Ok(false);
        }
        let mut w = Writer::frame();
        RequestHeader { xid: 1, op: OpCode::CloseSession.as_i32() }.encode(&mut w);
        s.write_all(&w.finish_frame()).await.map_err(io)?;
        // The reply, or the server closing the connection: either means done.
        let _ = read_frame(&mut s).await;
        Ok(true)
    };
    tokio::time::timeout(UPSTREAM_TIMEOUT, exchange)
        .await
        .map_err(|_| EmbedError::Timeout { what: format!("no answer from {host}"), timeout: UPSTREAM_TIMEOUT })?
}

async fn read_frame(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let len = s.read_i32().await?;
    let len = usize::try_from(len)
        .ok()
        .filter(|n| *n <= HANDSHAKE_BYTES_MAX)
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("a frame of {len} bytes")))?;
    let mut buf = vec![0u8; len];
    s.read_exact(&mut buf).await?;
    Ok(buf)
}

/// Expires `client`'s session on `server` (any member of its ensemble, or a
/// relay in front of one) and waits up to `timeout` until the client has a
/// new session; returns its id. Works for corral and Apache ZooKeeper.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use corral::client::Client;
/// use corral::embedded::expire_session;
/// use corral::EmbeddedServer;
///
/// let server = EmbeddedServer::start().await?;
/// let client = Client::connect(&server.connect_string()).await?;
/// let old = client.session_id();
/// let new = expire_session(&client, &server.connect_string(), Duration::from_secs(10)).await?;
/// assert_ne!(new, old);
/// # Ok(()) }
/// # corral::runtime::block_on(demo()).unwrap().unwrap();
/// ```
pub async fn expire_session(client: &Client, server: &str, timeout: Duration) -> Result<i64, EmbedError> {
    let old = client.session_id();
    if old == 0 {
        return Err(EmbedError::NoSession);
    }
    let passwd = client.session_password();
    let deadline = Instant::now() + timeout;
    loop {
        close_session(server, old, &passwd).await?;
        // The client notices on its next reconnect; if it slipped back in
        // with the old session before the close, expire it again.
        let retry_at = (Instant::now() + EXPIRE_RETRY_INTERVAL).min(deadline);
        while Instant::now() < retry_at {
            let sid = client.session_id();
            if sid != 0 && sid != old && client.state() != State::Lost {
                return Ok(sid);
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        if Instant::now() >= deadline {
            return Err(EmbedError::Timeout { what: format!("session 0x{old:x} did not expire"), timeout });
        }
    }
}
