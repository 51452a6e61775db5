//! The connection task: owns the socket, matches replies to requests in FIFO
//! order, pings at a third of the negotiated timeout, declares the connection
//! dead after two thirds of silence, and reconnects to the next server with
//! jittered exponential backoff, resuming the session (id, password,
//! lastZxidSeen). After a resume it re-sends auth and re-registers watches.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};

use super::error::{Error, Result};
use super::watch::{KeeperState, Kind};
use super::{Inner, State};
use crate::proto::{
    xid, Code, ConnectRequest, ConnectResponse, EventType, OpCode, Reader, ReplyHeader, Request, RequestHeader,
    Response, SetWatches, WatcherEvent, Writer,
};

/// Largest reply frame the client accepts (ZooKeeper's client default).
const REPLY_FRAME_BYTES_MAX: usize = 0xfffff + 1024;
/// Path bytes per SetWatches request, as the Java client splits them.
const SET_WATCHES_BYTES_MAX: usize = 128 * 1024;

/// A watch to register when the reply arrives.
pub(crate) struct WatchReg {
    pub kind_ok: Kind,
    /// For exists: the kind to register when the node is missing.
    pub kind_nonode: Option<Kind>,
    pub tx: oneshot::Sender<super::WatchedEvent>,
}

/// A request for the connection task.
pub(crate) enum Cmd {
    Request { op: OpCode, req: Request, watch: Option<WatchReg>, reply: oneshot::Sender<Result<Response>> },
    Auth { scheme: String, auth: Vec<u8>, reply: oneshot::Sender<Result<()>> },
    Close { reply: oneshot::Sender<()> },
}

struct Pending {
    xid: i32,
    op: OpCode,
    path: Option<String>,
    watch: Option<WatchReg>,
    reply: oneshot::Sender<Result<Response>>,
}

/// The session being carried across connections.
#[derive(Clone, Copy)]
struct Session {
    id: i64,
    passwd: [u8; 16],
    timeout: Duration,
}

enum Ended {
    /// The connection failed; try again (resuming the session if any).
    Lost,
    /// The client was closed.
    Closed(Option<oneshot::Sender<()>>),
}

/// Runs until the client is closed. `first` is told when the first session is up.
pub(crate) async fn run(inner: Arc<Inner>, mut cmds: mpsc::UnboundedReceiver<Cmd>, first: oneshot::Sender<Result<()>>) {
    let mut first = Some(first);
    let mut session: Option<Session> =
        inner.resume.map(|(id, passwd)| Session { id, passwd, timeout: inner.session_timeout });
    let mut ever_connected = false;
    let mut disconnected_at: Option<Instant> = None;
    let mut attempt: u32 = 0;
    let order = |mut hosts: Vec<String>| {
        if inner.randomize_hosts {
            hosts.shuffle(&mut rand::thread_rng());
        }
        hosts
    };
    let mut hosts = order(inner.hosts.lock().clone());
    let mut host_idx = 0;
    loop {
        if inner.hosts_changed.swap(false, Ordering::AcqRel) {
            hosts = order(inner.hosts.lock().clone());
            host_idx = 0;
        }
        // Commands that arrive while disconnected fail at once: the caller decides to retry.
        loop {
            match cmds.try_recv() {
                Ok(Cmd::Request { reply, req, .. }) => {
                    let _ = reply.send(Err(Error { code: Code::ConnectionLoss, path: request_path(&req) }));
                }
                Ok(Cmd::Auth { scheme, auth, reply }) => {
                    inner.auth.lock().push((scheme, auth));
                    let _ = reply.send(Ok(()));
                }
                Ok(Cmd::Close { reply }) => {
                    finish(&inner, session.is_some());
                    let _ = reply.send(());
                    return;
                }
                Err(mpsc::error::TryRecvError::Empty) => break,
                Err(mpsc::error::TryRecvError::Disconnected) => {
                    finish(&inner, session.is_some());
                    return;
                }
            }
        }
        if let (Some(s), Some(at)) = (session, disconnected_at) {
            if at.elapsed() > s.timeout * 4 / 3 {
                // No server heard from us for 4/3 of the session timeout (the
                // 3.9.3+ client's rule): the session is gone (Curator's LOST).
                session = None;
                expire(&inner);
            }
        }
        let host = &hosts[host_idx % hosts.len()];
        host_idx += 1;
        let timeout = session.map(|s| s.timeout).unwrap_or(inner.session_timeout);
        // ZooKeeper's connectTimeout, but never more than the read timeout:
        // a server that accepts and then stays silent must not eat the session.
        let connect_timeout =
            (timeout / hosts.len().max(1) as u32).min(timeout * 2 / 3).max(Duration::from_millis(100));
        match tokio::time::timeout(connect_timeout, connect(&inner, host, session)).await {
            Ok(Ok((stream, resp))) => {
                attempt = 0;
                if resp.timeout_ms <= 0 {
                    // The server says the session is gone.
                    if session.take().is_some() {
                        if let Some(f) = first.take() {
                            // The session to resume had expired: no new one instead.
                            let _ = f.send(Err(Error::new(Code::SessionExpired)));
                            finish(&inner, false);
                            return;
                        }
                        expire(&inner);
                    }
                    continue;
                }
                let resumed = session.is_some_and(|s| s.id == resp.session_id);
                let mut passwd = [0u8; 16];
                let n = resp.passwd.len().min(16);
                passwd[..n].copy_from_slice(&resp.passwd[..n]);
                session = Some(Session {
                    id: resp.session_id,
                    passwd,
                    timeout: Duration::from_millis(resp.timeout_ms as u64),
                });
                inner.session_id.store(resp.session_id, Ordering::Relaxed);
                *inner.session_passwd.lock() = passwd;
                inner.negotiated_timeout_ms.store(resp.timeout_ms as i64, Ordering::Relaxed);
                let state = if resp.read_only == Some(true) {
                    State::ReadOnly
                } else if ever_connected {
                    State::Reconnected
                } else {
                    State::Connected
                };
                ever_connected = true;
                tracing::debug!(host, session = format!("0x{:x}", resp.session_id), resumed, "connected");
                let mut conn = Conn::new(stream, session.map(|s| s.timeout).unwrap_or(timeout));
                if let Err(e) = conn.after_handshake(&inner, resumed).await {
                    tracing::debug!(error = %e, "connection failed right after the handshake");
                    disconnected_at = Some(Instant::now());
                    inner.set_state(State::Suspended);
                    continue;
                }
                *inner.connected_to.lock() = Some(host.clone());
                inner.set_state(state);
                if let Some(f) = first.take() {
                    let _ = f.send(Ok(()));
                }
                let ended = conn.serve(&inner, &mut cmds).await;
                *inner.connected_to.lock() = None;
                match ended {
                    Ended::Lost => {
                        disconnected_at = Some(Instant::now());
                        inner.set_state(State::Suspended);
                    }
                    Ended::Closed(reply) => {
                        finish(&inner, false);
                        if let Some(r) = reply {
                            let _ = r.send(());
                        }
                        return;
                    }
                }
            }
            Ok(Err(e)) => tracing::debug!(host, error = %e, "connect failed"),
            Err(_) => tracing::debug!(host, "connect timed out"),
        }
        if first.is_some() && inner.started.elapsed() > inner.connection_timeout {
            if let Some(f) = first.take() {
                let _ = f.send(Err(Error::new(Code::ConnectionLoss)));
            }
            finish(&inner, false);
            return;
        }
        // Back off once every server has been tried.
        if host_idx % hosts.len() == 0 {
            attempt = attempt.saturating_add(1);
            let base = Duration::from_millis(10u64.saturating_mul(1 << attempt.min(10)));
            let cap = base.min(inner.backoff_max);
            let jitter = rand::thread_rng().gen_range(0..=cap.as_millis() as u64 / 2 + 1);
            tokio::time::sleep(cap / 2 + Duration::from_millis(jitter)).await;
        }
    }
}

fn request_path(req: &Request) -> Option<String> {
    match req {
        Request::Create(c) => Some(c.path.clone()),
        Request::Delete { path, .. }
        | Request::Exists { path, .. }
        | Request::GetData { path, .. }
        | Request::SetData { path, .. }
        | Request::GetAcl { path }
        | Request::SetAcl { path, .. }
        | Request::GetChildren { path, .. }
        | Request::Sync { path }
        | Request::Check { path, .. }
        | Request::Watches { path, .. }
        | Request::GetAllChildrenNumber { path }
        | Request::AddWatch { path, .. } => Some(path.clone()),
        _ => None,
    }
}

fn expire(inner: &Inner) {
    inner.session_id.store(0, Ordering::Relaxed);
    *inner.session_passwd.lock() = [0; 16];
    inner.watches.lock().end_all(KeeperState::Expired);
    inner.set_state(State::Lost);
}

fn finish(inner: &Inner, _had_session: bool) {
    inner.watches.lock().end_all(KeeperState::Closed);
    inner.set_state(State::Closed);
}

async fn connect(inner: &Inner, host: &str, session: Option<Session>) -> std::io::Result<(TcpStream, ConnectResponse)> {
    // Resolve on every attempt: a replaced server keeps its name, not its address.
    let addrs: Vec<_> = tokio::net::lookup_host(host).await?.collect();
    let mut last_err = std::io::Error::new(std::io::ErrorKind::NotFound, format!("{host}: no address"));
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(mut stream) => {
                let _ = stream.set_nodelay(true);
                let req = ConnectRequest {
                    protocol_version: 0,
                    last_zxid_seen: inner.last_zxid.load(Ordering::Relaxed),
                    timeout_ms: session.map(|s| s.timeout).unwrap_or(inner.session_timeout).as_millis() as i32,
                    session_id: session.map(|s| s.id).unwrap_or(0),
                    passwd: Some(session.map(|s| s.passwd.to_vec()).unwrap_or_else(|| vec![0; 16])),
                    read_only: Some(inner.read_only),
                };
                let mut w = Writer::frame();
                req.encode(&mut w);
                stream.write_all(&w.finish_frame()).await?;
                let payload = read_frame(&mut stream).await?;
                let resp = ConnectResponse::decode(&mut Reader::new(&payload))
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                return Ok((stream, resp));
            }
            Err(e) => last_err = e,
        }
    }
    Err(last_err)
}

async fn read_frame<R: AsyncReadExt + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = i32::from_be_bytes(len);
    if len < 0 || len as usize > REPLY_FRAME_BYTES_MAX {
        return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, format!("reply frame of {len} bytes")));
    }
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload).await?;
    Ok(payload)
}

/// Frames read ahead of processing, at most: the reader stops reading the
/// socket when the connection task falls this far behind.
const FRAMES_QUEUED_MAX: usize = 1024;

/// One live connection.
struct Conn {
    /// Complete frames from the reader task. Reading in a task of its own
    /// keeps partial frames safe: a read future dropped by `select!` would
    /// lose the bytes it had consumed and desynchronise the stream.
    frames: mpsc::Receiver<std::io::Result<Vec<u8>>>,
    reader: tokio::task::JoinHandle<()>,
    wr: tokio::net::tcp::OwnedWriteHalf,
    timeout: Duration,
    next_xid: i32,
    pending: VecDeque<Pending>,
    auth_waiters: VecDeque<oneshot::Sender<Result<()>>>,
    last_sent: Instant,
    last_recv: Instant,
}

impl Conn {
    fn new(stream: TcpStream, timeout: Duration) -> Conn {
        let (rd, wr) = stream.into_split();
        let (tx, frames) = mpsc::channel(FRAMES_QUEUED_MAX);
        let reader = tokio::spawn(async move {
            let mut rd = tokio::io::BufReader::new(rd);
            loop {
                let frame = read_frame(&mut rd).await;
                let failed = frame.is_err();
                if tx.send(frame).await.is_err() || failed {
                    return;
                }
            }
        });
        Conn {
            frames,
            reader,
            wr,
            timeout,
            next_xid: 1,
            pending: VecDeque::new(),
            auth_waiters: VecDeque::new(),
            last_sent: Instant::now(),
            last_recv: Instant::now(),
        }
    }

    async fn send(&mut self, xid: i32, op: i32, req: &Request) -> std::io::Result<()> {
        let mut w = Writer::frame();
        RequestHeader { xid, op }.encode(&mut w);
        req.encode(op, &mut w);
        self.wr.write_all(&w.finish_frame()).await?;
        self.last_sent = Instant::now();
        Ok(())
    }

    fn xid(&mut self) -> i32 {
        let x = self.next_xid;
        self.next_xid = if x == i32::MAX { 1 } else { x + 1 };
        x
    }

    /// Re-sends auth and re-registers watches; replies are read by `serve`.
    async fn after_handshake(&mut self, inner: &Inner, resumed: bool) -> std::io::Result<()> {
        let auth = inner.auth.lock().clone();
        for (scheme, auth) in auth {
            self.send(xid::AUTH, OpCode::Auth.as_i32(), &Request::Auth { auth_type: 0, scheme, auth }).await?;
        }
        if resumed {
            let lists = inner.watches.lock().lists();
            let rel = inner.last_zxid.load(Ordering::Relaxed);
            let v2 = !lists[3].is_empty() || !lists[4].is_empty();
            for batch in split_watch_lists(lists) {
                let op = if v2 { OpCode::SetWatches2 } else { OpCode::SetWatches };
                let [data, exist, child, persistent, persistent_recursive] = batch;
                let sw = SetWatches { relative_zxid: rel, data, exist, child, persistent, persistent_recursive };
                self.send(xid::SET_WATCHES, op.as_i32(), &Request::SetWatches(sw)).await?;
            }
        }
        Ok(())
    }

    async fn serve(&mut self, inner: &Inner, cmds: &mut mpsc::UnboundedReceiver<Cmd>) -> Ended {
        let ping_every = self.timeout / 3;
        let read_timeout = self.timeout * 2 / 3;
        let mut tick = tokio::time::interval(Duration::from_millis((ping_every.as_millis() as u64 / 4).clamp(5, 500)));
        let ended = loop {
            tokio::select! {
                cmd = cmds.recv() => match cmd {
                    None => break Ended::Closed(None),
                    Some(Cmd::Close { reply }) => {
                        let x = self.xid();
                        if self.send(x, OpCode::CloseSession.as_i32(), &Request::Empty).await.is_ok() {
                            // Wait briefly for the server to confirm (it then closes the socket).
                            let _ = tokio::time::timeout(Duration::from_secs(2), self.drain_until_eof(inner)).await;
                        }
                        break Ended::Closed(Some(reply));
                    }
                    Some(Cmd::Auth { scheme, auth, reply }) => {
                        inner.auth.lock().push((scheme.clone(), auth.clone()));
                        if self.send(xid::AUTH, OpCode::Auth.as_i32(), &Request::Auth { auth_type: 0, scheme, auth }).await.is_err() {
                            let _ = reply.send(Err(Error::new(Code::ConnectionLoss)));
                            break Ended::Lost;
                        }
                        self.auth_waiters.push_back(reply);
                    }
                    Some(Cmd::Request { op, req, watch, reply }) => {
                        let x = self.xid();
                        let path = request_path(&req);
                        if self.send(x, op.as_i32(), &req).await.is_err() {
                            let _ = reply.send(Err(Error { code: Code::ConnectionLoss, path }));
                            break Ended::Lost;
                        }
                        self.pending.push_back(Pending { xid: x, op, path, watch, reply });
                    }
                },
                frame = self.frames.recv() => match frame {
                    Some(Ok(payload)) => {
                        self.last_recv = Instant::now();
                        if let Err(e) = self.on_frame(inner, &payload) {
                            tracing::debug!(error = %e, "bad reply; dropping the connection");
                            break Ended::Lost;
                        }
                    }
                    Some(Err(_)) | None => break Ended::Lost,
                },
                _ = tick.tick() => {
                    if self.last_recv.elapsed() > read_timeout {
                        tracing::debug!("no reply within two thirds of the session timeout; reconnecting");
                        break Ended::Lost;
                    }
                    if self.last_sent.elapsed() >= ping_every
                        && self.send(xid::PING, OpCode::Ping.as_i32(), &Request::Ping).await.is_err()
                    {
                        break Ended::Lost;
                    }
                }
            }
        };
        for p in self.pending.drain(..) {
            let _ = p.reply.send(Err(Error { code: Code::ConnectionLoss, path: p.path }));
        }
        for w in self.auth_waiters.drain(..) {
            let _ = w.send(Err(Error::new(Code::ConnectionLoss)));
        }
        ended
    }

    async fn drain_until_eof(&mut self, inner: &Inner) {
        while let Some(Ok(payload)) = self.frames.recv().await {
            let _ = self.on_frame(inner, &payload);
        }
    }

    fn on_frame(&mut self, inner: &Inner, payload: &[u8]) -> std::result::Result<(), String> {
        let mut r = Reader::new(payload);
        let h = ReplyHeader::decode(&mut r).map_err(|e| e.to_string())?;
        if h.zxid > 0 {
            inner.last_zxid.fetch_max(h.zxid, Ordering::Relaxed);
        }
        match h.xid {
            xid::NOTIFICATION => {
                let ev = WatcherEvent::decode(&mut r).map_err(|e| e.to_string())?;
                if let Some(t) = EventType::from_i32(ev.event_type) {
                    inner.watches.lock().dispatch(t, &ev.path, h.zxid, |p| inner.to_local(p));
                }
                Ok(())
            }
            xid::PING | xid::SET_WATCHES => Ok(()),
            xid::AUTH => {
                let result = if h.err == 0 {
                    Ok(())
                } else {
                    Err(Error::new(Code::from_i32(h.err).unwrap_or(Code::AuthFailed)))
                };
                if let Some(w) = self.auth_waiters.pop_front() {
                    let _ = w.send(result);
                }
                Ok(())
            }
            x => {
                let p = self.pending.pop_front().ok_or_else(|| format!("reply xid {x} with nothing pending"))?;
                if p.xid != x {
                    return Err(format!("reply xid {x}, expected {}", p.xid));
                }
                let code = Code::from_i32(h.err).unwrap_or(Code::SystemError);
                let result = if code == Code::Ok {
                    Response::decode(p.op.as_i32(), &mut r).map_err(|e| e.to_string())?
                } else {
                    Response::Empty
                };
                if let Some(w) = p.watch {
                    let kind = match code {
                        Code::Ok => Some(w.kind_ok),
                        Code::NoNode => w.kind_nonode,
                        _ => None,
                    };
                    if let (Some(kind), Some(path)) = (kind, &p.path) {
                        inner.watches.lock().add_oneshot(kind, path.clone(), w.tx);
                    }
                }
                let _ = p.reply.send(if code == Code::Ok {
                    Ok(result)
                } else {
                    Err(Error { code, path: p.path.map(|s| inner.to_local(&s)) })
                });
                Ok(())
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Splits watch lists into SetWatches batches of bounded path bytes.
fn split_watch_lists(lists: [Vec<String>; 5]) -> Vec<[Vec<String>; 5]> {
    let mut out: Vec<[Vec<String>; 5]> = Vec::new();
    let mut cur: [Vec<String>; 5] = Default::default();
    let mut bytes = 0;
    for (i, list) in lists.into_iter().enumerate() {
        for p in list {
            if bytes + p.len() > SET_WATCHES_BYTES_MAX && bytes > 0 {
                out.push(std::mem::take(&mut cur));
                bytes = 0;
            }
            bytes += p.len();
            cur[i].push(p);
        }
    }
    if bytes > 0 {
        out.push(cur);
    }
    out
}
