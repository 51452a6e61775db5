//! The simulated network. Every message (each leg of an RPC, each forwarded
//! write, each batch of session touches) passes through [`World::call`] or
//! [`World::send`]: it may be lost or cut off by a partition or a crash, and
//! is delayed at random (so messages overtake each other). A request that
//! gets no answer fails after the caller's timeout; a late request is still
//! delivered after its sender gave up.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use tokio::sync::oneshot;

use crate::node::SimNode;
use crate::types::{Node, NodeId, TypeConfig};
use crate::world::{lock, World};

/// The error an RPC fails with when the network ate it.
#[derive(Debug)]
struct Dropped(&'static str);

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "simulated network: no answer to {}", self.0)
    }
}

impl std::error::Error for Dropped {}

impl World {
    /// Decides the fate of one leg from `from` to `to`: its delay, or `None` if lost.
    fn leg(&self, from: NodeId, to: NodeId) -> Option<Duration> {
        let (connected, max_delay, loss) = {
            let net = lock(&self.net);
            (net.connected(from, to), net.max_delay_ms, net.loss)
        };
        let mut stats = lock(&self.stats);
        stats.messages += 1;
        if !connected || self.chance(loss) {
            stats.dropped += 1;
            return None;
        }
        drop(stats);
        Some(Duration::from_micros(self.rand_range(0..max_delay * 1000 + 1)))
    }

    /// Carries one leg: waits its delay and checks the link still holds on arrival.
    async fn carry(&self, from: NodeId, to: NodeId, what: &'static str) -> bool {
        let Some(delay) = self.leg(from, to) else {
            self.trace(format_args!("net drop {what} {from}->{to}"));
            return false;
        };
        tokio::time::sleep(delay).await;
        let ok = lock(&self.net).connected(from, to);
        if !ok {
            lock(&self.stats).dropped += 1;
            self.trace(format_args!("net cut {what} {from}->{to}"));
        }
        ok
    }

    /// A request from `(from, inc)` to node `to`, served by `serve` on the
    /// receiving node's running incarnation, answered through the network.
    /// `None` when no answer came within `ttl`.
    pub async fn call<Req, Resp, F, Fut>(
        self: &Arc<Self>,
        (from, inc): (NodeId, u64),
        to: NodeId,
        what: &'static str,
        ttl: Duration,
        req: Req,
        serve: F,
    ) -> Option<Resp>
    where
        Req: Send + 'static,
        Resp: Send + 'static,
        F: FnOnce(Arc<SimNode>, Req) -> Fut + Send + 'static,
        Fut: Future<Output = Resp> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let world = self.clone();
        if self.is_current(from, inc) {
            tokio::spawn(async move {
                if !world.carry(from, to, what).await {
                    return;
                }
                let Some(node) = world.live_node(to) else { return };
                let served_by = node.inc;
                let resp = serve(node, req).await;
                // A node that crashed meanwhile sends nothing.
                if !world.is_current(to, served_by) || !world.carry(to, from, what).await {
                    return;
                }
                if world.is_current(from, inc) {
                    let _ = tx.send(resp);
                }
            });
        }
        let deadline = tokio::time::Instant::now() + ttl;
        match tokio::time::timeout_at(deadline, rx).await {
            Ok(Ok(resp)) => Some(resp),
            Ok(Err(_)) => {
                // Lost: the caller only learns it when its timeout expires.
                tokio::time::sleep_until(deadline).await;
                None
            }
            Err(_) => None,
        }
    }

    /// A one-way message from `(from, inc)` to `to`, handled by `handle` on arrival.
    pub fn send<M, F>(self: &Arc<Self>, (from, inc): (NodeId, u64), to: NodeId, what: &'static str, msg: M, handle: F)
    where
        M: Send + 'static,
        F: FnOnce(Arc<SimNode>, M) + Send + 'static,
    {
        if !self.is_current(from, inc) {
            return;
        }
        let world = self.clone();
        tokio::spawn(async move {
            if world.carry(from, to, what).await {
                if let Some(node) = world.live_node(to) {
                    handle(node, msg);
                }
            }
        });
    }
}

/// openraft's network factory for one incarnation of one node.
pub struct NetFactory {
    /// The world the messages travel through.
    pub world: Arc<World>,
    /// The sending node and incarnation.
    pub me: (NodeId, u64),
}

impl RaftNetworkFactory<TypeConfig> for NetFactory {
    type Network = NetClient;

    async fn new_client(&mut self, target: NodeId, _node: &Node) -> NetClient {
        NetClient { world: self.world.clone(), me: self.me, to: target }
    }
}

/// openraft's client for RPCs to one peer.
pub struct NetClient {
    world: Arc<World>,
    me: (NodeId, u64),
    to: NodeId,
}

/// Maps the network's answer to openraft's RPC result (openraft's own,
/// large, error type).
#[allow(clippy::result_large_err)]
fn rpc_result<T, E: std::error::Error>(
    to: NodeId,
    what: &'static str,
    answer: Option<Result<T, RaftError<NodeId, E>>>,
) -> Result<T, RPCError<NodeId, Node, RaftError<NodeId, E>>> {
    match answer {
        None => Err(RPCError::Network(NetworkError::new(&Dropped(what)))),
        Some(Ok(resp)) => Ok(resp),
        // A peer whose consensus core stopped answers nothing useful: like a
        // dead process (an `Unreachable` would start openraft's backoff,
        // whose unbiased `select!` is not reproducible).
        Some(Err(RaftError::Fatal(_))) => Err(RPCError::Network(NetworkError::new(&Dropped(what)))),
        Some(Err(e)) => Err(RPCError::RemoteError(RemoteError::new(to, e))),
    }
}

impl RaftNetwork<TypeConfig> for NetClient {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        let answer = self
            .world
            .call(self.me, self.to, "append", option.hard_ttl(), rpc, |n, req| async move {
                n.raft.append_entries(req).await
            })
            .await;
        rpc_result(self.to, "append", answer)
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId, InstallSnapshotError>>> {
        let answer = self
            .world
            .call(self.me, self.to, "snapshot", option.hard_ttl(), rpc, |n, req| async move {
                n.raft.install_snapshot(req).await
            })
            .await;
        rpc_result(self.to, "snapshot", answer)
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        let answer = self
            .world
            .call(self.me, self.to, "vote", option.hard_ttl(), rpc, |n, req| async move { n.raft.vote(req).await })
            .await;
        rpc_result(self.to, "vote", answer)
    }
}
