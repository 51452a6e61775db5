//! One client connection: four-letter-word detection, framing with the
//! jute.maxbuffer bound, the session handshake, then requests answered one at
//! a time in arrival order (ZooKeeper's per-session FIFO rule). A writer task
//! owns the socket's write half; replies and watch notifications share its
//! queue, so a notification queued by apply precedes the reply that follows.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;

use super::admin;
use super::handler::{self, Conn, Handled, Outcome};
use super::node::{ConnInfo, Node};
use super::sm::Outbound;
use crate::proto::{ConnectRequest, ConnectResponse, Id, Reader, Writer};
use crate::txn::TxnOp;

/// Frames the writer sends in one write call at most.
const WRITE_BATCH_FRAMES_MAX: usize = 256;

/// Accepts one connection and serves it until either side closes it.
pub async fn serve(node: Arc<Node>, stream: TcpStream, peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let limit = node.config.connections_per_address_max as usize;
    if limit > 0 && node.connections_from(peer.ip()) >= limit {
        tracing::warn!(%peer, limit, "too many connections from this address; closing");
        return;
    }
    let (rd, wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    let mut head = [0u8; 4];
    if rd.read_exact(&mut head).await.is_err() {
        return;
    }
    if let Some(cmd) = admin::Command::parse(&head) {
        admin::answer(&node, cmd, rd, wr).await;
        return;
    }
    let Some(payload) = read_payload(&mut rd, head, node.config.jute_maxbuffer_bytes as usize).await else {
        return;
    };
    let Ok(req) = ConnectRequest::decode(&mut Reader::new(&payload)) else {
        tracing::debug!(%peer, "first frame is not a ConnectRequest; closing");
        return;
    };

    let conn_id = node.next_conn_id();
    let info = Arc::new(ConnInfo {
        peer,
        session_id: Default::default(),
        timeout_ms: Default::default(),
        established: SystemTime::now(),
        queued: Default::default(),
        stats: Default::default(),
        read_only: Default::default(),
    });
    node.conns.lock().insert(conn_id, info.clone());
    let (tx, rx) = mpsc::unbounded_channel();
    node.sinks.insert(conn_id, tx.clone());
    let closed = Arc::new(Notify::new());
    let writer = tokio::spawn(write_loop(info.clone(), wr, rx, closed.clone()));

    let mut conn = Conn {
        id: conn_id,
        peer,
        session_id: 0,
        ids: vec![Id::new("ip", peer.ip().to_string())],
        info: info.clone(),
        tx: tx.clone(),
    };
    if handshake(&node, &mut conn, &req).await {
        read_loop(&node, &mut conn, rd, &closed).await;
    }
    let _ = tx.send(Outbound::Close);
    let _ = writer.await;
    node.sinks.remove(conn_id);
    node.conns.lock().remove(&conn_id);
    node.sm.read().watches.lock().remove_connection(conn_id);
    if conn.session_id != 0 {
        node.sessions.detach(conn.session_id, conn_id);
    }
}

/// Reads the rest of a frame whose length prefix is `head`; `None` closes the
/// connection (bad length, or EOF).
async fn read_payload(rd: &mut BufReader<OwnedReadHalf>, head: [u8; 4], max: usize) -> Option<Vec<u8>> {
    let len = i32::from_be_bytes(head);
    if len < 0 || len as usize > max {
        tracing::warn!(len, max, "frame length out of bounds; closing connection");
        return None;
    }
    let mut payload = vec![0u8; len as usize];
    rd.read_exact(&mut payload).await.ok()?;
    Some(payload)
}

/// Establishes or resumes the session (§3.3 of the protocol reference);
/// false when the connection must close.
async fn handshake(node: &Arc<Node>, conn: &mut Conn, req: &ConnectRequest) -> bool {
    let read_only = node.read_only();
    if node.config.is_ensemble() && !node.serving() && !read_only {
        tracing::info!(peer = %conn.peer, "no leader: not serving clients; closing");
        return false;
    }
    if read_only && req.read_only != Some(true) {
        tracing::info!(peer = %conn.peer, "read-only mode: refusing a client that did not ask for read-only");
        return false;
    }
    if read_only && req.session_id == 0 && !node.local_sessions_on() {
        // As ZooKeeper: a new session needs the log, unless it can be local.
        tracing::info!(peer = %conn.peer, "read-only mode: new sessions need localSessionsEnabled; closing");
        return false;
    }
    if req.last_zxid_seen > node.zxid() && node.config.is_ensemble() && !read_only {
        // The client saw more of the log than this member applied: catch up
        // with the leader first (ZooKeeper closes at once).
        let _ =
            tokio::time::timeout(Duration::from_millis(req.timeout_ms.max(0) as u64 / 3), node.replica.sync()).await;
    }
    if req.last_zxid_seen > node.zxid() {
        tracing::info!(peer = %conn.peer, seen = req.last_zxid_seen, "client has seen a newer zxid; closing");
        return false;
    }
    let cfg = &node.config;
    let timeout_ms = req.timeout_ms.clamp(cfg.min_session_timeout_ms() as i32, cfg.max_session_timeout_ms() as i32);
    conn.info.read_only.store(read_only, Ordering::Relaxed);
    let read_only = req.read_only.map(|_| read_only);
    let (session_id, passwd) = if req.session_id == 0 {
        let session_id = node.next_session_id();
        let passwd: [u8; 16] = rand::random();
        if node.local_sessions_on() {
            // Local: this member alone knows it until it is upgraded.
            node.local_sessions.lock().insert(session_id, (passwd, timeout_ms));
        } else if let Err(e) = node.propose(TxnOp::CreateSession { session_id, passwd, timeout_ms }).await {
            tracing::warn!(error = %e, "could not create session");
            return false;
        }
        node.sessions.add(session_id, timeout_ms);
        (session_id, passwd)
    } else {
        // The previous connection of the session goes first, even when the
        // password turns out to be wrong (as ZooKeeper does).
        if let Some(old) = node.sessions.owner(req.session_id) {
            node.sinks.send(old, Outbound::Close);
        }
        let known = node.sm.read().state.sessions.get(&req.session_id).map(|s| s.passwd);
        let known = known.or_else(|| node.local_sessions.lock().get(&req.session_id).map(|(p, _)| *p));
        match known {
            Some(p) if req.passwd.as_deref() == Some(&p[..]) => {
                node.sessions.add(req.session_id, timeout_ms);
                node.sessions.set_timeout(req.session_id, timeout_ms);
                (req.session_id, p)
            }
            _ => {
                let resp = ConnectResponse {
                    protocol_version: 0,
                    timeout_ms: 0,
                    session_id: 0,
                    passwd: vec![0; 16],
                    read_only,
                };
                send_connect_response(conn, &resp);
                return false;
            }
        }
    };
    node.sessions.attach(session_id, conn.id);
    conn.session_id = session_id;
    conn.info.session_id.store(session_id as u64, Ordering::Relaxed);
    conn.info.timeout_ms.store(timeout_ms as u64, Ordering::Relaxed);
    let resp = ConnectResponse { protocol_version: 0, timeout_ms, session_id, passwd: passwd.to_vec(), read_only };
    send_connect_response(conn, &resp);
    true
}

fn send_connect_response(conn: &Conn, resp: &ConnectResponse) {
    let mut w = Writer::frame();
    resp.encode(&mut w);
    let _ = conn.tx.send(Outbound::Frame(w.finish_frame()));
}

/// Reads frames ahead of processing into a queue of at most
/// `outstanding_requests_per_connection_max` requests; when it is full the
/// socket is not read (TCP backpressure), as ZooKeeper throttles a client
/// with too many outstanding requests. Requests are processed one at a time
/// in arrival order.
async fn read_loop(node: &Arc<Node>, conn: &mut Conn, rd: BufReader<OwnedReadHalf>, closed: &Notify) {
    let bound = node.config.outstanding_requests_per_connection_max.max(1) as usize;
    let (queue_tx, mut queue) = mpsc::channel::<Vec<u8>>(bound);
    let max = node.config.jute_maxbuffer_bytes as usize;
    let reader = tokio::spawn(async move {
        let mut rd = rd;
        loop {
            let mut head = [0u8; 4];
            if rd.read_exact(&mut head).await.is_err() {
                return;
            }
            let Some(payload) = read_payload(&mut rd, head, max).await else {
                return;
            };
            if queue_tx.send(payload).await.is_err() {
                return;
            }
        }
    });
    let mut shutdown = node.shutdown_signal();
    // Writes queued in the log whose replies are not sent yet, in request order.
    let mut in_flight: VecDeque<JoinHandle<Outcome>> = VecDeque::new();
    'requests: loop {
        let payload = tokio::select! {
            p = queue.recv(), if in_flight.len() < bound => match p { Some(p) => p, None => break },
            done = async { in_flight.front_mut().expect("guarded by the condition").await }, if !in_flight.is_empty() => {
                in_flight.pop_front();
                if !send_outcome(node, conn, done.unwrap_or_else(|_| Outcome { frames: vec![], close: true })) {
                    break;
                }
                continue;
            }
            _ = closed.notified() => break,
            _ = shutdown.changed() => break,
        };
        conn.info.queued.store(queue.len() as u64, Ordering::Relaxed);
        node.stats.received.fetch_add(1, Ordering::Relaxed);
        conn.info.stats.received.fetch_add(1, Ordering::Relaxed);
        node.sessions.touch(conn.session_id);
        if !handler::is_pipelined_write(&payload) {
            // Reads and session requests see every earlier write of the
            // session applied, and their replies follow those writes'.
            while let Some(h) = in_flight.pop_front() {
                if !send_outcome(node, conn, h.await.unwrap_or_else(|_| Outcome { frames: vec![], close: true })) {
                    break 'requests;
                }
            }
        }
        match handler::handle(node, conn, &payload).await {
            Handled::Now(outcome) => {
                if !send_outcome(node, conn, outcome) {
                    break;
                }
            }
            Handled::Later(fut) => in_flight.push_back(tokio::spawn(fut)),
        }
    }
    // Replies of writes already in the log still go out, in order.
    while let Some(h) = in_flight.pop_front() {
        if let Ok(outcome) = h.await {
            if !send_outcome(node, conn, outcome) {
                break;
            }
        }
    }
    reader.abort();
}

/// Queues an outcome's frames; false when the connection must close.
fn send_outcome(node: &Node, conn: &Conn, outcome: Outcome) -> bool {
    for frame in outcome.frames {
        node.stats.sent.fetch_add(1, Ordering::Relaxed);
        let _ = conn.tx.send(Outbound::Frame(frame));
    }
    !outcome.close
}

async fn write_loop(
    info: Arc<ConnInfo>,
    mut wr: OwnedWriteHalf,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    closed: Arc<Notify>,
) {
    let mut buf = Vec::with_capacity(4096);
    'outer: while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        let mut close = false;
        let mut n = 0;
        while let Some(out) = next.take() {
            match out {
                Outbound::Frame(f) => {
                    buf.extend_from_slice(&f);
                    n += 1;
                }
                Outbound::Close => {
                    close = true;
                    break;
                }
            }
            if n < WRITE_BATCH_FRAMES_MAX {
                next = rx.try_recv().ok();
            }
        }
        info.stats.sent.fetch_add(n as u64, Ordering::Relaxed);
        if !buf.is_empty() && wr.write_all(&buf).await.is_err() {
            break 'outer;
        }
        buf.clear();
        if close {
            break;
        }
    }
    let _ = wr.shutdown().await;
    closed.notify_one();
}
