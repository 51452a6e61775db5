//! An in-memory, TCP-like peer network: corral's [`PeerNetwork`] seam as the
//! simulation wires it, so the real transport runs over simulated links.
//!
//! Node `id` listens on `10.0.0.{id}:2888` ([`peer_addr`]). A connect takes
//! one random network delay; across a partition it hangs and then times
//! out, to a node nobody listens on it is refused. Each direction of a
//! connection is a pipe of chunks, one per write: a chunk is delivered after
//! a random delay but never before the chunk written ahead of it (order is
//! kept within a direction, connections overtake each other). Loss costs a
//! chunk a retransmission delay, or rarely resets the connection.
//!
//! A connection breaks when the link does not hold at delivery time (a
//! partition, or an end whose incarnation is gone), when either node
//! [`SimNet::crash`]es, or on a loss reset. A break is immediate: undelivered
//! data is discarded, reads fail with `ConnectionReset` and writes with
//! `BrokenPipe` on both ends. Closing an end is orderly: the peer reads what
//! was sent, then EOF; writes towards a closed end fail with `BrokenPipe`.
//!
//! Everything random comes from the world's generator; state sits in
//! `BTreeMap`s, so a seed replays bit for bit.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use corral::replication::{BoxFuture, PeerListener, PeerNetwork, PeerStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;
use tokio::time::{sleep_until, Instant, Sleep};

use crate::types::NodeId;
use crate::world::{lock, World};

/// The port every node's peer listener uses.
pub const PEER_PORT: u16 = 2888;
/// How long a connect across a partition hangs before it fails.
const UNREACHABLE_AFTER: Duration = Duration::from_secs(2);
/// First port of the connecting side, as the acceptor names it.
const EPHEMERAL_PORT_BASE: u64 = 32768;

/// The peer address of node `id` (ids 1..=254): `10.0.0.{id}:2888`.
pub fn peer_addr(id: NodeId) -> SocketAddr {
    debug_assert!((1..=254).contains(&id), "node id {id} has no simulated address");
    SocketAddr::from(([10, 0, 0, id as u8], PEER_PORT))
}

/// [`peer_addr`] as configuration spells it.
pub fn peer_addr_string(id: NodeId) -> String {
    format!("10.0.0.{id}:{PEER_PORT}")
}

/// The node a peer address names.
fn parse_peer(addr: &str) -> io::Result<NodeId> {
    let unknown = || io::Error::new(io::ErrorKind::InvalidInput, format!("no simulated peer at {addr}"));
    match addr.parse::<SocketAddr>().map_err(|_| unknown())? {
        SocketAddr::V4(v4) if v4.port() == PEER_PORT => match v4.ip().octets() {
            [10, 0, 0, id @ 1..=254] => Ok(NodeId::from(id)),
            _ => Err(unknown()),
        },
        _ => Err(unknown()),
    }
}

fn reset() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, "simulated connection reset")
}

fn broken_pipe() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "simulated connection closed")
}

fn crashed(node: NodeId, inc: u64) -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, format!("node {node} incarnation {inc} has crashed"))
}

/// The simulated network of one simulation.
pub struct SimNet {
    world: Arc<World>,
    registry: Mutex<Registry>,
}

/// Who is alive, who listens, which connections exist.
#[derive(Default)]
struct Registry {
    /// Newest incarnation of each node an endpoint was made for (or listened).
    newest: BTreeMap<NodeId, u64>,
    /// Per node: every incarnation up to this one has crashed.
    dead_upto: BTreeMap<NodeId, u64>,
    listeners: BTreeMap<NodeId, Listening>,
    conns: BTreeMap<u64, Weak<Conn>>,
    /// Source of connection ids and listener tokens.
    next_id: u64,
}

impl Registry {
    /// Whether incarnation `inc` of `node` still runs.
    fn alive(&self, node: NodeId, inc: u64) -> bool {
        self.newest.get(&node).is_none_or(|&n| inc >= n) && self.dead_upto.get(&node).is_none_or(|&d| inc > d)
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// A registered listener: where its incoming connections queue.
struct Listening {
    inc: u64,
    token: u64,
    queue: mpsc::UnboundedSender<(SimStream, String)>,
}

/// One connection; end 0 connected, end 1 was accepted.
struct Conn {
    id: u64,
    /// Node and incarnation of each end.
    ends: [(NodeId, u64); 2],
    state: Mutex<ConnState>,
}

struct ConnState {
    /// `pipes[i]` carries what end `i` writes.
    pipes: [Pipe; 2],
    broken: bool,
    /// Ends not dropped yet.
    open_ends: u8,
}

/// One direction of a connection.
#[derive(Default)]
struct Pipe {
    chunks: VecDeque<Chunk>,
    /// The writer shut down or dropped its end: EOF after the chunks.
    closed: bool,
    /// The reader dropped its end: writes fail.
    reader_gone: bool,
    /// The reader waiting for a chunk.
    reader: Option<Waker>,
}

/// The bytes of one write, and when they arrive.
struct Chunk {
    data: Vec<u8>,
    pos: usize,
    at: Instant,
}

impl Conn {
    /// Breaks the connection (see the module doc); false if it was broken already.
    fn cut(&self) -> bool {
        let mut wakers = Vec::new();
        {
            let mut st = lock(&self.state);
            if st.broken {
                return false;
            }
            st.broken = true;
            for pipe in &mut st.pipes {
                pipe.chunks.clear();
                wakers.extend(pipe.reader.take());
            }
        }
        wakers.into_iter().for_each(Waker::wake);
        true
    }
}

impl SimNet {
    /// The network of `world`, with nobody listening.
    pub fn new(world: Arc<World>) -> Arc<SimNet> {
        Arc::new(SimNet { world, registry: Mutex::new(Registry::default()) })
    }

    /// The network as incarnation `inc` of `node` sees it. Making it marks
    /// older incarnations of `node` as gone.
    pub fn endpoint(self: &Arc<Self>, node: NodeId, inc: u64) -> Arc<dyn PeerNetwork> {
        let mut reg = lock(&self.registry);
        let newest = reg.newest.entry(node).or_insert(inc);
        *newest = (*newest).max(inc);
        drop(reg);
        Arc::new(Endpoint { net: self.clone(), node, inc })
    }

    /// The running incarnation of `node` died (every incarnation an endpoint
    /// was made for so far): its connections break, its listener goes, and
    /// its endpoints never connect, listen or deliver again.
    pub fn crash(&self, node: NodeId) {
        let (listener, conns) = {
            let mut reg = lock(&self.registry);
            let newest = reg.newest.get(&node).copied();
            if let Some(inc) = newest {
                let dead = reg.dead_upto.entry(node).or_insert(inc);
                *dead = (*dead).max(inc);
            }
            reg.conns.retain(|_, c| c.strong_count() > 0);
            let conns: Vec<Arc<Conn>> = reg
                .conns
                .values()
                .filter_map(Weak::upgrade)
                .filter(|c| c.ends.iter().any(|&(n, _)| n == node))
                .collect();
            (reg.listeners.remove(&node), conns)
        };
        drop(listener);
        let broken = conns.iter().filter(|c| c.cut()).count();
        if broken > 0 {
            self.world.trace(format_args!("net crash {node}: {broken} connections reset"));
        }
    }

    fn alive(&self, node: NodeId, inc: u64) -> bool {
        lock(&self.registry).alive(node, inc)
    }

    /// One random one-way delay.
    fn delay(&self) -> Duration {
        let max_ms = lock(&self.world.net).max_delay_ms;
        Duration::from_micros(self.world.rand_range(0..max_ms * 1000 + 1))
    }

    /// Whether `conn` may deliver now: its nodes can talk and both ends still run.
    fn link_holds(&self, conn: &Conn) -> bool {
        let [(a, ia), (b, ib)] = conn.ends;
        let connected = lock(&self.world.net).connected(a, b);
        connected && {
            let reg = lock(&self.registry);
            reg.alive(a, ia) && reg.alive(b, ib)
        }
    }

    /// Connects `from` (incarnation `inc`) to `addr`. Cancel-safe: nothing
    /// is registered before the last await.
    async fn connect(self: &Arc<Self>, from: NodeId, inc: u64, addr: String) -> io::Result<SimStream> {
        let to = parse_peer(&addr)?;
        if !self.alive(from, inc) {
            return Err(crashed(from, inc));
        }
        tokio::time::sleep(self.delay()).await;
        if !self.alive(from, inc) {
            return Err(crashed(from, inc));
        }
        let reachable = lock(&self.world.net).connected(from, to);
        if !reachable {
            tokio::time::sleep(UNREACHABLE_AFTER).await;
            return Err(io::Error::new(io::ErrorKind::TimedOut, format!("no route to {addr}")));
        }
        let refused = || {
            self.world.trace(format_args!("net refused {from}->{to}"));
            io::Error::new(io::ErrorKind::ConnectionRefused, format!("nobody listens on {addr}"))
        };
        let (client, server, queue, port) = {
            let mut reg = lock(&self.registry);
            let listening = reg.listeners.get(&to).filter(|l| reg.alive(to, l.inc)).map(|l| (l.queue.clone(), l.inc));
            let Some((queue, to_inc)) = listening else {
                return Err(refused());
            };
            let id = reg.next_id();
            let state = ConnState { pipes: [Pipe::default(), Pipe::default()], broken: false, open_ends: 2 };
            let conn = Arc::new(Conn { id, ends: [(from, inc), (to, to_inc)], state: Mutex::new(state) });
            reg.conns.insert(id, Arc::downgrade(&conn));
            let end = |side| SimStream { net: self.clone(), conn: conn.clone(), side, wait: None };
            (end(0), end(1), queue, EPHEMERAL_PORT_BASE + id % (65536 - EPHEMERAL_PORT_BASE))
        };
        // Outside the lock: a failed send drops the server end, which unregisters.
        match queue.send((server, format!("10.0.0.{from}:{port}"))) {
            Ok(()) => Ok(client),
            Err(_) => Err(refused()),
        }
    }

    /// Registers incarnation `inc` of `node` as listening on `addr`.
    fn listen(self: &Arc<Self>, node: NodeId, inc: u64, addr: SocketAddr) -> io::Result<SimListener> {
        if addr != peer_addr(node) {
            return Err(io::Error::new(io::ErrorKind::AddrNotAvailable, format!("{addr} is not node {node}'s")));
        }
        let (queue, token, replaced) = {
            let mut reg = lock(&self.registry);
            if !reg.alive(node, inc) {
                return Err(crashed(node, inc));
            }
            reg.newest.insert(node, inc);
            if reg.listeners.get(&node).is_some_and(|l| l.inc == inc && !l.queue.is_closed()) {
                return Err(io::Error::new(io::ErrorKind::AddrInUse, format!("{addr} is in use")));
            }
            let token = reg.next_id();
            let (tx, rx) = mpsc::unbounded_channel();
            (rx, token, reg.listeners.insert(node, Listening { inc, token, queue: tx }))
        };
        drop(replaced);
        Ok(SimListener { net: self.clone(), node, token, queue })
    }
}

/// The network as one incarnation of one node sees it.
struct Endpoint {
    net: Arc<SimNet>,
    node: NodeId,
    inc: u64,
}

impl PeerNetwork for Endpoint {
    fn connect(&self, addr: &str) -> BoxFuture<'_, io::Result<Box<dyn PeerStream>>> {
        let addr = addr.to_string();
        Box::pin(async move {
            let stream = self.net.connect(self.node, self.inc, addr).await?;
            Ok(Box::new(stream) as Box<dyn PeerStream>)
        })
    }

    fn listen(&self, addr: SocketAddr) -> BoxFuture<'_, io::Result<Box<dyn PeerListener>>> {
        Box::pin(async move {
            let listener = self.net.listen(self.node, self.inc, addr)?;
            Ok(Box::new(listener) as Box<dyn PeerListener>)
        })
    }
}

/// A node's listener; dropping it stops the node listening.
struct SimListener {
    net: Arc<SimNet>,
    node: NodeId,
    token: u64,
    queue: mpsc::UnboundedReceiver<(SimStream, String)>,
}

impl PeerListener for SimListener {
    /// The next connection in arrival order. A listener that was taken away
    /// (its incarnation crashed) hands out what was queued, then waits forever.
    fn accept(&mut self) -> BoxFuture<'_, io::Result<(Box<dyn PeerStream>, String)>> {
        Box::pin(async move {
            match self.queue.recv().await {
                Some((stream, from)) => Ok((Box::new(stream) as Box<dyn PeerStream>, from)),
                None => std::future::pending().await,
            }
        })
    }
}

impl Drop for SimListener {
    fn drop(&mut self) {
        let mut reg = lock(&self.net.registry);
        let ours = reg.listeners.get(&self.node).is_some_and(|l| l.token == self.token);
        let removed = if ours { reg.listeners.remove(&self.node) } else { None };
        drop(reg);
        // The queue's sender goes outside the lock (queued ends unregister when dropped).
        drop(removed);
    }
}

/// One end of a connection.
struct SimStream {
    net: Arc<SimNet>,
    conn: Arc<Conn>,
    /// Which end: writes go into `pipes[side]`, reads come from the other.
    side: usize,
    /// Timer until the next chunk to read is due.
    wait: Option<Pin<Box<Sleep>>>,
}

impl AsyncRead for SimStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let incoming = 1 - this.side;
        // Set once the timer fired for a chunk: it is due even if the clock reads a hair earlier.
        let mut waited_until: Option<Instant> = None;
        loop {
            let next = {
                let mut st = lock(&this.conn.state);
                if st.broken {
                    return Poll::Ready(Err(reset()));
                }
                let pipe = &mut st.pipes[incoming];
                match pipe.chunks.front() {
                    Some(chunk) => chunk.at,
                    None if pipe.closed => return Poll::Ready(Ok(())),
                    None => {
                        pipe.reader = Some(cx.waker().clone());
                        return Poll::Pending;
                    }
                }
            };
            let now = Instant::now();
            let due_by = waited_until.map_or(now, |w| w.max(now));
            if next > due_by {
                let wait = this.wait.get_or_insert_with(|| Box::pin(sleep_until(next)));
                if wait.deadline() != next {
                    wait.as_mut().reset(next);
                }
                if wait.as_mut().poll(cx).is_pending() {
                    lock(&this.conn.state).pipes[incoming].reader = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                waited_until = Some(next);
                continue;
            }
            if !this.net.link_holds(&this.conn) {
                if this.conn.cut() {
                    let [(a, _), (b, _)] = this.conn.ends;
                    this.net.world.trace(format_args!("net cut {a}-{b}"));
                }
                return Poll::Ready(Err(reset()));
            }
            let mut st = lock(&this.conn.state);
            if st.broken {
                return Poll::Ready(Err(reset()));
            }
            let pipe = &mut st.pipes[incoming];
            while buf.remaining() > 0 {
                let Some(chunk) = pipe.chunks.front_mut().filter(|c| c.at <= due_by) else { break };
                let n = buf.remaining().min(chunk.data.len() - chunk.pos);
                buf.put_slice(&chunk.data[chunk.pos..chunk.pos + n]);
                chunk.pos += n;
                if chunk.pos == chunk.data.len() {
                    pipe.chunks.pop_front();
                }
            }
            return Poll::Ready(Ok(()));
        }
    }
}

impl AsyncWrite for SimStream {
    /// Never blocks: the bytes become one chunk in flight (see the module doc).
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        {
            let st = lock(&this.conn.state);
            let out = &st.pipes[this.side];
            if st.broken || out.closed || out.reader_gone {
                return Poll::Ready(Err(broken_pipe()));
            }
        }
        let world = &this.net.world;
        let (max_delay_ms, loss) = {
            let net = lock(&world.net);
            (net.max_delay_ms, net.loss)
        };
        lock(&world.stats).messages += 1;
        if loss > 0.0 && world.chance(loss / 20.0) {
            lock(&world.stats).dropped += 1;
            if this.conn.cut() {
                let (from, to) = (this.conn.ends[this.side].0, this.conn.ends[1 - this.side].0);
                world.trace(format_args!("net reset {from}->{to}"));
            }
            return Poll::Ready(Err(broken_pipe()));
        }
        let mut delay = Duration::from_micros(world.rand_range(0..max_delay_ms * 1000 + 1));
        if loss > 0.0 && world.chance(loss) {
            delay += Duration::from_millis(world.rand_range(200..601));
        }
        let at = Instant::now() + delay;
        let reader = {
            let mut st = lock(&this.conn.state);
            if st.broken {
                return Poll::Ready(Err(broken_pipe()));
            }
            let pipe = &mut st.pipes[this.side];
            // Chunks already read were due by now, so the last queued one bounds the order.
            let at = pipe.chunks.back().map_or(at, |last| last.at.max(at));
            pipe.chunks.push_back(Chunk { data: data.to_vec(), pos: 0, at });
            pipe.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Closes this direction: the peer reads what was sent, then EOF.
    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let reader = {
            let mut st = lock(&self.conn.state);
            let pipe = &mut st.pipes[self.side];
            pipe.closed = true;
            pipe.reader.take()
        };
        if let Some(reader) = reader {
            reader.wake();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for SimStream {
    fn drop(&mut self) {
        let (reader, last) = {
            let mut st = lock(&self.conn.state);
            let incoming = &mut st.pipes[1 - self.side];
            incoming.reader_gone = true;
            incoming.chunks.clear();
            incoming.reader = None;
            st.open_ends = st.open_ends.saturating_sub(1);
            let last = st.open_ends == 0;
            let outgoing = &mut st.pipes[self.side];
            outgoing.closed = true;
            (outgoing.reader.take(), last)
        };
        if last {
            lock(&self.net.registry).conns.remove(&self.conn.id);
        }
        if let Some(reader) = reader {
            reader.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::SimConfig;
    use std::io::ErrorKind::{
        AddrInUse, AddrNotAvailable, BrokenPipe, ConnectionRefused, ConnectionReset, InvalidInput,
    };
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn setup(max_delay_ms: u64) -> (Arc<World>, Arc<SimNet>) {
        let world = World::new(SimConfig::from_seed(1, Some(3)));
        lock(&world.net).max_delay_ms = max_delay_ms;
        let net = SimNet::new(world.clone());
        (world, net)
    }

    fn kind<T>(r: io::Result<T>) -> Option<io::ErrorKind> {
        r.err().map(|e| e.kind())
    }

    /// Node `b` listens, node `a` connects: the listener and both ends.
    async fn pair(
        net: &Arc<SimNet>,
        a: NodeId,
        b: NodeId,
    ) -> (Box<dyn PeerListener>, Box<dyn PeerStream>, Box<dyn PeerStream>) {
        let mut listener = net.endpoint(b, 1).listen(peer_addr(b)).await.expect("listens");
        let client = net.endpoint(a, 1).connect(&peer_addr_string(b)).await.expect("connects");
        let (server, from) = listener.accept().await.expect("accepts");
        assert!(from.starts_with(&format!("10.0.0.{a}:")), "{from}");
        (listener, client, server)
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_arrive_in_order_after_the_delay_then_eof() {
        let (_world, net) = setup(50);
        let (_listener, mut client, mut server) = pair(&net, 1, 2).await;
        let start = Instant::now();
        let parts: [&[u8]; 3] = [b"one ", b"two ", b"three"];
        for part in parts {
            client.write_all(part).await.expect("writes");
        }
        drop(client);
        let mut head = [0u8; 2];
        server.read_exact(&mut head).await.expect("reads part of a chunk");
        let mut rest = Vec::new();
        server.read_to_end(&mut rest).await.expect("reads to EOF");
        assert_eq!([&head[..], &rest[..]].concat(), b"one two three");
        assert!(start.elapsed() < Duration::from_millis(60), "{:?}", start.elapsed());
        assert_eq!(kind(server.write_all(b"x").await), Some(BrokenPipe));
    }

    #[tokio::test(start_paused = true)]
    async fn silent_and_unknown_addresses_fail() {
        let (_world, net) = setup(10);
        let one = net.endpoint(1, 1);
        assert_eq!(kind(one.connect(&peer_addr_string(2)).await), Some(ConnectionRefused));
        for bad in ["10.0.0.2:2999", "192.168.0.2:2888", "node2"] {
            assert_eq!(kind(one.connect(bad).await), Some(InvalidInput), "{bad}");
        }
        let two = net.endpoint(2, 1);
        assert_eq!(kind(two.listen(peer_addr(3)).await), Some(AddrNotAvailable));
        let listener = two.listen(peer_addr(2)).await.expect("listens");
        assert_eq!(kind(two.listen(peer_addr(2)).await), Some(AddrInUse));
        drop(listener);
        assert_eq!(kind(one.connect(&peer_addr_string(2)).await), Some(ConnectionRefused));
    }

    #[tokio::test(start_paused = true)]
    async fn a_partition_breaks_connections_and_blocks_connects() {
        let (world, net) = setup(10);
        let (_listener, mut client, mut server) = pair(&net, 1, 2).await;
        lock(&world.net).group.insert(2, 1);
        client.write_all(b"ping").await.expect("a write is only queued");
        let mut buf = [0u8; 4];
        assert_eq!(kind(server.read(&mut buf).await), Some(ConnectionReset));
        assert_eq!(kind(client.read(&mut buf).await), Some(ConnectionReset));
        assert_eq!(kind(client.write_all(b"x").await), Some(BrokenPipe));
        let start = Instant::now();
        let one = net.endpoint(1, 1);
        let attempt = tokio::time::timeout(Duration::from_secs(1), one.connect(&peer_addr_string(2))).await;
        assert!(attempt.is_err(), "a connect across a partition hangs");
        assert!(start.elapsed() >= Duration::from_secs(1));
        lock(&world.net).group.remove(&2);
        assert!(one.connect(&peer_addr_string(2)).await.is_ok(), "connects once healed");
    }

    #[tokio::test(start_paused = true)]
    async fn a_crash_breaks_connections_and_refuses_connects() {
        let (_world, net) = setup(10);
        let old = net.endpoint(2, 1);
        let (listener, mut client, server) = pair(&net, 1, 2).await;
        net.crash(2);
        let mut buf = [0u8; 4];
        assert_eq!(kind(client.read(&mut buf).await), Some(ConnectionReset));
        assert_eq!(kind(client.write_all(b"x").await), Some(BrokenPipe));
        let one = net.endpoint(1, 1);
        assert_eq!(kind(one.connect(&peer_addr_string(2)).await), Some(ConnectionRefused));
        assert!(kind(old.listen(peer_addr(2)).await).is_some(), "a crashed incarnation cannot listen");
        assert!(kind(old.connect(&peer_addr_string(1)).await).is_some(), "nor connect");
        drop((listener, server));
        let mut restarted = net.endpoint(2, 2).listen(peer_addr(2)).await.expect("the next incarnation listens");
        let mut client = one.connect(&peer_addr_string(2)).await.expect("connects to the restarted node");
        let (mut server, _) = restarted.accept().await.expect("accepts");
        client.write_all(b"back").await.expect("writes");
        server.read_exact(&mut buf).await.expect("reads");
        assert_eq!(&buf, b"back");
    }
}
