//! The peer transport: TCP between the nodes of an ensemble.
//!
//! Every message is one frame: `[u32 body length][u32 crc32 of body][body]`,
//! big-endian, where the body is `[protocol version u8][kind u8][request id
//! u64][bincode payload]`. A frame whose length is out of bounds, whose
//! checksum does not match or whose version is unknown closes the connection.
//! Each connection starts with a `Hello` naming the sender and the node it
//! means to reach, so that a mis-wired `server.N` line fails loudly.
//!
//! Two kinds of connection use the one format:
//! - consensus RPCs (append, vote, snapshot chunks): one connection per
//!   openraft network client, one request at a time;
//! - the leader link: a follower's or observer's multiplexed connection to
//!   the leader, carrying forwarded writes (answered in any order, submitted
//!   to the log in the order they arrive), read-index requests (`sync`) and
//!   one-way application messages (session touches).
//!
//! Queues are bounded: a slow peer slows its senders instead of growing memory.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use parking_lot::Mutex;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader, BufWriter, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, oneshot};

use super::io::{PeerListener, PeerNetwork, PeerStream};
use super::types::{decode, encode, Blob, Node, NodeId, Raft, TypeConfig};

/// The reading half of a peer connection.
type Reader = BufReader<ReadHalf<Box<dyn PeerStream>>>;
/// The writing half of a peer connection.
type Writer = BufWriter<WriteHalf<Box<dyn PeerStream>>>;

/// Version of the frame format and message set.
pub(crate) const PROTOCOL_VERSION: u8 = 1;
/// Largest frame body accepted (a batch of entries or a snapshot chunk).
pub(crate) const FRAME_BYTES_MAX: usize = 128 << 20;
/// Bytes of the body before the payload: version, kind, request id.
const BODY_HEADER_BYTES: usize = 10;
/// How long a connection attempt (TCP + hello) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_millis(1000);
/// How long a write may wait for its commit before the proposer gives up
/// (the outcome is then unknown to the client, as after a connection loss).
pub(crate) const COMMIT_WAIT: Duration = Duration::from_secs(30);
/// Frames queued for one connection's writer before senders wait.
const QUEUE_FRAMES_MAX: usize = 1024;
/// Name checked in every hello: nodes of other systems are turned away.
const CLUSTER_NAME: &str = "corral";

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Kind {
    Hello = 1,
    AppendEntries = 2,
    Vote = 3,
    InstallSnapshot = 4,
    Forward = 5,
    ReadIndex = 6,
    App = 7,
    Reply = 8,
    Members = 9,
    Probe = 10,
}

impl Kind {
    fn from_u8(b: u8) -> Option<Kind> {
        Some(match b {
            1 => Kind::Hello,
            2 => Kind::AppendEntries,
            3 => Kind::Vote,
            4 => Kind::InstallSnapshot,
            5 => Kind::Forward,
            6 => Kind::ReadIndex,
            7 => Kind::App,
            8 => Kind::Reply,
            9 => Kind::Members,
            10 => Kind::Probe,
            _ => return None,
        })
    }
}

/// One decoded frame.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame {
    pub(crate) kind: Kind,
    pub(crate) id: u64,
    pub(crate) payload: Vec<u8>,
}

/// The first frame of every connection.
#[derive(Debug, Serialize, Deserialize)]
struct Hello {
    cluster: String,
    from: NodeId,
    to: NodeId,
}

/// The leader's answer to a forwarded write.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ForwardReply {
    /// Committed and applied on the leader at `index`, with the encoded output.
    Done { index: u64, output: Blob },
    /// The receiver is not (or no longer) the leader.
    NotLeader { leader: Option<NodeId> },
    /// The leader could not take it (shutting down, storage failure).
    Failed(String),
}

/// The leader's answer to a membership change (reconfig).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum MembersReply {
    /// The new membership is committed at `index`.
    Done {
        index: u64,
    },
    NotLeader {
        leader: Option<NodeId>,
    },
    /// Refused (no quorum of voters, another change under way, a new member
    /// that could not catch up).
    Failed(String),
}

/// The leader's answer to a read-index request.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum ReadIndexReply {
    /// Leadership confirmed by a quorum; everything up to `index` is committed.
    Index(u64),
    NotLeader {
        leader: Option<NodeId>,
    },
    Failed(String),
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Encodes a frame, length and checksum included.
pub(crate) fn encode_frame(kind: Kind, id: u64, payload: &[u8]) -> Vec<u8> {
    let body_len = BODY_HEADER_BYTES + payload.len();
    let mut out = Vec::with_capacity(8 + body_len);
    out.extend_from_slice(&(body_len as u32).to_be_bytes());
    out.extend_from_slice(&[0; 4]);
    out.push(PROTOCOL_VERSION);
    out.push(kind as u8);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out[8..]);
    out[4..8].copy_from_slice(&crc.to_be_bytes());
    out
}

/// Decodes a frame body (everything after length and checksum).
pub(crate) fn decode_body(crc: u32, body: Vec<u8>) -> io::Result<Frame> {
    if crc32fast::hash(&body) != crc {
        return Err(invalid("peer frame checksum mismatch"));
    }
    if body.len() < BODY_HEADER_BYTES {
        return Err(invalid(format!("peer frame body of {} bytes is too short", body.len())));
    }
    if body[0] != PROTOCOL_VERSION {
        return Err(invalid(format!("peer speaks protocol version {}, this node speaks {PROTOCOL_VERSION}", body[0])));
    }
    let kind = Kind::from_u8(body[1]).ok_or_else(|| invalid(format!("unknown peer message kind {}", body[1])))?;
    let id = u64::from_be_bytes(body[2..10].try_into().expect("8 bytes"));
    let mut payload = body;
    payload.drain(..BODY_HEADER_BYTES);
    Ok(Frame { kind, id, payload })
}

async fn read_frame(rd: &mut (impl AsyncReadExt + Unpin)) -> io::Result<Frame> {
    let mut head = [0u8; 8];
    rd.read_exact(&mut head).await?;
    let len = u32::from_be_bytes(head[..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_be_bytes(head[4..].try_into().expect("4 bytes"));
    if !(BODY_HEADER_BYTES..=FRAME_BYTES_MAX).contains(&len) {
        return Err(invalid(format!("peer frame length {len} out of bounds")));
    }
    let mut body = vec![0u8; len];
    rd.read_exact(&mut body).await?;
    decode_body(crc, body)
}

fn to_bytes<T: Serialize>(v: &T) -> io::Result<Vec<u8>> {
    encode(v).map_err(|e| invalid(format!("encode: {e}")))
}

fn from_bytes<T: DeserializeOwned>(b: &[u8]) -> io::Result<T> {
    decode(b).map_err(|e| invalid(format!("decode: {e}")))
}

/// Opens a connection to `addr` and introduces this node to `to`.
async fn connect(net: &dyn PeerNetwork, from: NodeId, to: NodeId, addr: &str) -> io::Result<(Reader, Writer)> {
    let stream = tokio::time::timeout(CONNECT_TIMEOUT, net.connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("connecting to {addr} timed out")))??;
    let (rd, wr) = tokio::io::split(stream);
    let (mut rd, mut wr) = (BufReader::new(rd), BufWriter::new(wr));
    let hello = to_bytes(&Hello { cluster: CLUSTER_NAME.into(), from, to })?;
    wr.write_all(&encode_frame(Kind::Hello, 0, &hello)).await?;
    wr.flush().await?;
    let reply = tokio::time::timeout(CONNECT_TIMEOUT, read_frame(&mut rd))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, format!("{addr} did not answer the hello")))??;
    let answer: Result<(), String> = from_bytes(&reply.payload)?;
    answer.map_err(|reason| io::Error::new(io::ErrorKind::ConnectionRefused, format!("{addr} refused: {reason}")))?;
    Ok((rd, wr))
}

/// Asks node `to` whether it holds a membership already (has joined an
/// ensemble); `None` when it cannot be reached.
pub(crate) async fn probe_initialized(net: &dyn PeerNetwork, from: NodeId, to: NodeId, addr: &str) -> Option<bool> {
    let exchange = async {
        let (mut rd, mut wr) = connect(net, from, to, addr).await?;
        wr.write_all(&encode_frame(Kind::Probe, 1, &[])).await?;
        wr.flush().await?;
        let frame = read_frame(&mut rd).await?;
        if frame.kind != Kind::Reply || frame.id != 1 {
            return Err(invalid(format!("expected reply 1, got {:?} {}", frame.kind, frame.id)));
        }
        from_bytes::<bool>(&frame.payload)
    };
    tokio::time::timeout(CONNECT_TIMEOUT, exchange).await.ok()?.ok()
}

/// What the receiving side hands to the rest of the node.
pub(crate) type AppHandler = Arc<dyn Fn(NodeId, Vec<u8>) + Send + Sync>;

/// What the peer listener serves with.
pub(crate) struct PeerContext {
    pub(crate) id: NodeId,
    pub(crate) raft: Raft,
    pub(crate) net: Arc<dyn PeerNetwork>,
    pub(crate) app: Mutex<Option<AppHandler>>,
    /// How long a voter refuses other candidates after hearing from its
    /// leader (openraft's leader lease), and the heartbeat period.
    pub(crate) lease: Duration,
    pub(crate) heartbeat: Duration,
    /// When each peer's last append (or heartbeat) arrived.
    pub(crate) heard: Mutex<BTreeMap<NodeId, tokio::time::Instant>>,
    /// Set when the node shuts down: every served connection closes, so
    /// peers reconnect to whatever listens on the port next.
    closing: tokio::sync::watch::Sender<bool>,
}

impl PeerContext {
    pub(crate) fn new(
        id: NodeId,
        raft: Raft,
        net: Arc<dyn PeerNetwork>,
        lease: Duration,
        heartbeat: Duration,
    ) -> PeerContext {
        PeerContext {
            id,
            raft,
            net,
            app: Mutex::new(None),
            lease,
            heartbeat,
            heard: Mutex::new(BTreeMap::new()),
            closing: tokio::sync::watch::channel(false).0,
        }
    }

    /// Closes every connection this node serves (the listener is stopped separately).
    pub(crate) fn close(&self) {
        self.closing.send_replace(true);
    }
}

/// Accepts peer connections until the task is aborted.
pub(crate) async fn serve(mut listener: Box<dyn PeerListener>, ctx: Arc<PeerContext>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    if let Err(e) = serve_connection(stream, ctx).await {
                        if e.kind() != io::ErrorKind::UnexpectedEof {
                            tracing::debug!(%peer, error = %e, "peer connection ended");
                        }
                    }
                });
            }
            Err(e) => {
                tracing::warn!(error = %e, "accepting a peer connection failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn serve_connection(stream: Box<dyn PeerStream>, ctx: Arc<PeerContext>) -> io::Result<()> {
    let (rd, wr) = tokio::io::split(stream);
    let mut rd = BufReader::new(rd);
    let (tx, rx) = mpsc::channel::<Vec<u8>>(QUEUE_FRAMES_MAX);
    let writer = tokio::spawn(write_loop(BufWriter::new(wr), rx));
    let mut appender = None;
    let mut closing = ctx.closing.subscribe();
    let result = tokio::select! {
        r = serve_frames(&mut rd, &tx, &ctx, &mut appender) => r,
        _ = closing.wait_for(|c| *c) => {
            writer.abort();
            return Ok(());
        }
    };
    drop(tx);
    let _ = writer.await;
    if let (Some(from), Err(e)) = (appender, &result) {
        if matches!(e.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionReset) {
            tokio::spawn(leader_connection_closed(ctx.clone(), from));
        }
    }
    result
}

/// A replication connection from `leader` closed. Without help, a follower
/// waits for the leader lease and then its election timer before anyone
/// stands (openraft refuses votes while the lease holds). When the leader's
/// process is gone, one follower, the lowest-numbered other voter, stands
/// as soon as every voter's lease has run out instead; the others keep
/// their timers, so the votes do not split. A leader that merely dropped
/// a connection still accepts new ones, and nothing happens.
async fn leader_connection_closed(ctx: Arc<PeerContext>, leader: NodeId) {
    let (addr, stand) = {
        let m = ctx.raft.metrics().borrow().clone();
        let membership = m.membership_config.membership();
        let preferred = membership.voter_ids().filter(|v| *v != leader).min();
        let addr = membership.get_node(&leader).map(|n| n.addr.clone());
        (addr, m.current_leader == Some(leader) && preferred == Some(ctx.id))
    };
    let Some(addr) = addr.filter(|_| stand) else {
        return;
    };
    let heard = ctx.heard.lock().get(&leader).copied().unwrap_or_else(tokio::time::Instant::now);
    tokio::time::sleep_until(heard + ctx.lease + ctx.heartbeat).await;
    {
        let m = ctx.raft.metrics().borrow().clone();
        if m.current_leader != Some(leader) || m.state != openraft::ServerState::Follower {
            return;
        }
    }
    let refused = matches!(
        tokio::time::timeout(CONNECT_TIMEOUT / 10, ctx.net.connect(&addr)).await,
        Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused
    );
    if refused {
        tracing::info!(leader, "the leader's process is gone: standing for election now");
        let _ = ctx.raft.trigger().elect().await;
    }
}

async fn serve_frames(
    rd: &mut Reader,
    tx: &mpsc::Sender<Vec<u8>>,
    ctx: &Arc<PeerContext>,
    appender: &mut Option<NodeId>,
) -> io::Result<()> {
    let hello = read_frame(rd).await?;
    if hello.kind != Kind::Hello {
        return Err(invalid(format!("expected a hello, got {:?}", hello.kind)));
    }
    let hello: Hello = from_bytes(&hello.payload)?;
    let verdict = if hello.cluster != CLUSTER_NAME {
        Err(format!("cluster {:?} is not {CLUSTER_NAME:?}", hello.cluster))
    } else if hello.to != ctx.id {
        Err(format!("this is node {}, not node {}", ctx.id, hello.to))
    } else {
        Ok(())
    };
    let refused = verdict.is_err();
    reply(tx, 0, &verdict).await?;
    if let Err(reason) = verdict {
        tracing::warn!(from = hello.from, %reason, "refused a peer connection");
    }
    if refused {
        return Ok(());
    }
    let from = hello.from;
    loop {
        let frame = read_frame(rd).await?;
        let id = frame.id;
        match frame.kind {
            Kind::AppendEntries => {
                *appender = Some(from);
                ctx.heard.lock().insert(from, tokio::time::Instant::now());
                let req: AppendEntriesRequest<TypeConfig> = from_bytes(&frame.payload)?;
                let res = ctx.raft.append_entries(req).await;
                reply(tx, id, &res).await?;
            }
            Kind::Vote => {
                let req: VoteRequest<NodeId> = from_bytes(&frame.payload)?;
                let res = ctx.raft.vote(req).await;
                reply(tx, id, &res).await?;
            }
            Kind::InstallSnapshot => {
                let req: InstallSnapshotRequest<TypeConfig> = from_bytes(&frame.payload)?;
                let res = ctx.raft.install_snapshot(req).await;
                reply(tx, id, &res).await?;
            }
            Kind::Forward => {
                let cmd: Blob = from_bytes(&frame.payload)?;
                // Submitted here, in arrival order; answered when committed.
                match ctx.raft.client_write_ff(cmd).await {
                    Ok(rx) => {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            // openraft may drop an entry it never answers for
                            // (a deposed leader's tail): bounded, like any wait.
                            let answer = match tokio::time::timeout(COMMIT_WAIT, rx).await {
                                Err(_) => ForwardReply::Failed("not committed in time".into()),
                                Ok(rx) => match rx {
                                    Ok(Ok(resp)) => ForwardReply::Done { index: resp.log_id.index, output: resp.data },
                                    Ok(Err(openraft::error::ClientWriteError::ForwardToLeader(f))) => {
                                        ForwardReply::NotLeader { leader: f.leader_id }
                                    }
                                    Ok(Err(e)) => ForwardReply::Failed(e.to_string()),
                                    Err(_) => ForwardReply::Failed("the leader is shutting down".into()),
                                },
                            };
                            let _ = reply(&tx, id, &answer).await;
                        });
                    }
                    Err(e) => reply(tx, id, &ForwardReply::Failed(e.to_string())).await?,
                }
            }
            Kind::ReadIndex => {
                let (tx, raft) = (tx.clone(), ctx.raft.clone());
                tokio::spawn(async move {
                    let _ = reply(&tx, id, &read_index_local(&raft).await).await;
                });
            }
            Kind::Members => {
                let members: BTreeMap<NodeId, super::replica::Member> = from_bytes(&frame.payload)?;
                let (tx, raft) = (tx.clone(), ctx.raft.clone());
                tokio::spawn(async move {
                    let answer = match super::replica::change_members_on_leader(&raft, members).await {
                        Ok(index) => MembersReply::Done { index },
                        Err(super::ReplicationError::NotLeader { leader }) => MembersReply::NotLeader { leader },
                        Err(e) => MembersReply::Failed(e.to_string()),
                    };
                    let _ = reply(&tx, id, &answer).await;
                });
            }
            Kind::Probe => {
                let initialized = ctx.raft.is_initialized().await.unwrap_or(false);
                reply(tx, id, &initialized).await?;
            }
            Kind::App => {
                let handler = ctx.app.lock().clone();
                if let Some(h) = handler {
                    h(from, frame.payload);
                }
            }
            Kind::Hello | Kind::Reply => {
                return Err(invalid(format!("unexpected {:?} from node {from}", frame.kind)));
            }
        }
    }
}

/// Confirms leadership with a quorum and returns the index reads must wait for.
///
/// The index is at least the leader's own last log index: a leader that
/// resumed its leadership after a restart (openraft restores it without a
/// new entry) may not know its commit point yet, and everything ever
/// acknowledged is in its log.
pub(crate) async fn read_index_local(raft: &Raft) -> ReadIndexReply {
    let last = raft.metrics().borrow().last_log_index.unwrap_or(0);
    match raft.ensure_linearizable().await {
        Ok(log_id) => ReadIndexReply::Index(log_id.map_or(0, |l| l.index).max(last)),
        Err(RaftError::APIError(openraft::error::CheckIsLeaderError::ForwardToLeader(f))) => {
            ReadIndexReply::NotLeader { leader: f.leader_id }
        }
        Err(e) => ReadIndexReply::Failed(e.to_string()),
    }
}

async fn reply<T: Serialize>(tx: &mpsc::Sender<Vec<u8>>, id: u64, v: &T) -> io::Result<()> {
    let frame = encode_frame(Kind::Reply, id, &to_bytes(v)?);
    tx.send(frame).await.map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "peer writer stopped"))
}

/// Writes queued frames, flushing whenever the queue runs dry.
async fn write_loop(mut wr: Writer, mut rx: mpsc::Receiver<Vec<u8>>) {
    while let Some(frame) = rx.recv().await {
        if wr.write_all(&frame).await.is_err() {
            return;
        }
        if rx.is_empty() && wr.flush().await.is_err() {
            return;
        }
    }
    let _ = wr.flush().await;
}

// ---------------------------------------------------------------------------
// Consensus RPCs (the openraft side)

/// openraft's network factory: one [`PeerClient`] per target.
pub(crate) struct Peers {
    pub(crate) id: NodeId,
    pub(crate) net: Arc<dyn PeerNetwork>,
}

impl RaftNetworkFactory<TypeConfig> for Peers {
    type Network = PeerClient;

    async fn new_client(&mut self, target: NodeId, node: &Node) -> PeerClient {
        PeerClient { from: self.id, target, addr: node.addr.clone(), net: self.net.clone(), conn: None, next_id: 1 }
    }
}

/// One connection to one peer, used one request at a time.
pub(crate) struct PeerClient {
    from: NodeId,
    target: NodeId,
    addr: String,
    net: Arc<dyn PeerNetwork>,
    conn: Option<(Reader, Writer)>,
    next_id: u64,
}

/// Why an RPC failed before the peer could answer it.
#[derive(Debug, thiserror::Error)]
#[error("node {target} at {addr}: {source}")]
struct PeerIoError {
    target: NodeId,
    addr: String,
    source: io::Error,
}

impl PeerClient {
    async fn call<Req: Serialize, Resp: DeserializeOwned, E: std::error::Error>(
        &mut self,
        kind: Kind,
        req: &Req,
        option: &RPCOption,
    ) -> Result<Resp, RPCError<NodeId, Node, E>> {
        // Taken out while in use: if openraft drops this call half-way (its
        // own timeout), the connection, with a reply possibly still on its
        // way, is dropped too instead of being reused out of step.
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => match connect(self.net.as_ref(), self.from, self.target, &self.addr).await {
                Ok(c) => c,
                Err(source) => {
                    let e = PeerIoError { target: self.target, addr: self.addr.clone(), source };
                    return Err(RPCError::Unreachable(Unreachable::new(&e)));
                }
            },
        };
        let id = self.next_id;
        self.next_id += 1;
        let payload = to_bytes(req).map_err(|e| self.net_err(e))?;
        let (rd, wr) = &mut conn;
        let exchange = async {
            wr.write_all(&encode_frame(kind, id, &payload)).await?;
            wr.flush().await?;
            let frame = read_frame(rd).await?;
            if frame.kind != Kind::Reply || frame.id != id {
                return Err(invalid(format!("expected reply {id}, got {:?} {}", frame.kind, frame.id)));
            }
            Ok(frame.payload)
        };
        let bytes = match tokio::time::timeout(option.hard_ttl(), exchange).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return Err(self.net_err(e)),
            Err(_) => return Err(self.net_err(io::Error::new(io::ErrorKind::TimedOut, "no answer in time"))),
        };
        self.conn = Some(conn);
        from_bytes(&bytes).map_err(|e| self.net_err(e))
    }

    fn net_err<E: std::error::Error>(&self, source: io::Error) -> RPCError<NodeId, Node, E> {
        let e = PeerIoError { target: self.target, addr: self.addr.clone(), source };
        RPCError::Network(NetworkError::new(&e))
    }

    fn remote<E: std::error::Error>(&self, e: RaftError<NodeId, E>) -> RPCError<NodeId, Node, RaftError<NodeId, E>> {
        RPCError::RemoteError(RemoteError::new(self.target, e))
    }
}

impl RaftNetwork<TypeConfig> for PeerClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        let res: Result<_, RaftError<NodeId>> = self.call(Kind::AppendEntries, &rpc, &option).await?;
        res.map_err(|e| self.remote(e))
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId, InstallSnapshotError>>> {
        let res: Result<_, RaftError<NodeId, InstallSnapshotError>> =
            self.call(Kind::InstallSnapshot, &rpc, &option).await?;
        res.map_err(|e| self.remote(e))
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        let res: Result<_, RaftError<NodeId>> = self.call(Kind::Vote, &rpc, &option).await?;
        res.map_err(|e| self.remote(e))
    }
}

// ---------------------------------------------------------------------------
// The leader link

/// A multiplexed connection from a follower or observer to the leader.
pub(crate) struct Link {
    pub(crate) target: NodeId,
    tx: mpsc::Sender<Vec<u8>>,
    pending: Arc<Mutex<BTreeMap<u64, oneshot::Sender<Vec<u8>>>>>,
    alive: Arc<AtomicBool>,
    next_id: AtomicU64,
    reader: tokio::task::JoinHandle<()>,
}

impl Link {
    /// Connects to the leader `target` at `addr`.
    pub(crate) async fn connect(net: &dyn PeerNetwork, from: NodeId, target: NodeId, addr: &str) -> io::Result<Link> {
        let (mut rd, wr) = connect(net, from, target, addr).await?;
        let (tx, rx) = mpsc::channel(QUEUE_FRAMES_MAX);
        let pending: Arc<Mutex<BTreeMap<u64, oneshot::Sender<Vec<u8>>>>> = Arc::default();
        let alive = Arc::new(AtomicBool::new(true));
        tokio::spawn(write_loop(wr, rx));
        let (pending2, alive2) = (pending.clone(), alive.clone());
        let reader = tokio::spawn(async move {
            loop {
                match read_frame(&mut rd).await {
                    Ok(f) if f.kind == Kind::Reply => {
                        if let Some(waiter) = pending2.lock().remove(&f.id) {
                            let _ = waiter.send(f.payload);
                        }
                    }
                    Ok(f) => {
                        tracing::warn!(kind = ?f.kind, "unexpected frame on the leader link");
                        break;
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "leader link closed");
                        break;
                    }
                }
            }
            alive2.store(false, Ordering::Release);
            // Waiters see their sender dropped: the outcome is unknown.
            pending2.lock().clear();
        });
        Ok(Link { target, tx, pending, alive, next_id: AtomicU64::new(1), reader })
    }

    /// Whether the connection still stands.
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire) && !self.tx.is_closed()
    }

    /// Queues a request (in call order) and returns the receiver of its reply
    /// payload; the receiver fails if the link breaks first.
    pub(crate) async fn request(&self, kind: Kind, payload: &[u8]) -> io::Result<oneshot::Receiver<Vec<u8>>> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().insert(id, tx);
        if !self.is_alive() || self.tx.send(encode_frame(kind, id, payload)).await.is_err() {
            self.pending.lock().remove(&id);
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "the leader link is closed"));
        }
        Ok(rx)
    }

    /// Sends a one-way application message.
    pub(crate) fn send_app(&self, payload: &[u8]) -> bool {
        self.is_alive() && self.tx.try_send(encode_frame(Kind::App, 0, payload)).is_ok()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_damage_is_detected() {
        let bytes = encode_frame(Kind::Forward, 42, b"payload");
        let len = u32::from_be_bytes(bytes[..4].try_into().unwrap()) as usize;
        assert_eq!(len, bytes.len() - 8);
        let crc = u32::from_be_bytes(bytes[4..8].try_into().unwrap());
        let frame = decode_body(crc, bytes[8..].to_vec()).unwrap();
        assert_eq!(frame, Frame { kind: Kind::Forward, id: 42, payload: b"payload".to_vec() });

        let mut flipped = bytes[8..].to_vec();
        flipped[12] ^= 1;
        assert!(decode_body(crc, flipped).unwrap_err().to_string().contains("checksum"));

        let mut other_version = bytes[8..].to_vec();
        other_version[0] = 9;
        let crc9 = crc32fast::hash(&other_version);
        assert!(decode_body(crc9, other_version).unwrap_err().to_string().contains("version 9"));

        let mut unknown = bytes[8..].to_vec();
        unknown[1] = 77;
        let crc77 = crc32fast::hash(&unknown);
        assert!(decode_body(crc77, unknown).unwrap_err().to_string().contains("kind 77"));

        assert!(decode_body(crc32fast::hash(b"abc"), b"abc".to_vec()).unwrap_err().to_string().contains("too short"));
    }

    #[tokio::test]
    async fn oversize_and_undersize_lengths_are_refused() {
        for len in [0u32, 3, (FRAME_BYTES_MAX + 1) as u32] {
            let mut bytes = len.to_be_bytes().to_vec();
            bytes.extend_from_slice(&[0; 12]);
            let err = read_frame(&mut &bytes[..]).await.unwrap_err();
            assert!(err.to_string().contains("out of bounds"), "{err}");
        }
    }
}
