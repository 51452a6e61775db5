//! The peer transport. A standalone node (an ensemble of one voter) never
//! sends an RPC, so every peer is unreachable: openraft backs off and retries,
//! nothing panics. The ensemble transport will replace [`NoPeers`] behind the
//! same `RaftNetworkFactory` seam.

use openraft::error::{InstallSnapshotError, RPCError, RaftError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};

use super::types::{Node, NodeId, TypeConfig};

/// Why every RPC fails.
#[derive(Debug, thiserror::Error)]
#[error("node {target} is unreachable: this node has no peer transport")]
struct NoTransport {
    target: NodeId,
}

/// Network factory of a node without peers.
pub(crate) struct NoPeers;

/// A connection that never connects.
pub(crate) struct UnreachablePeer {
    target: NodeId,
}

impl UnreachablePeer {
    fn error<E: std::error::Error>(&self) -> RPCError<NodeId, Node, E> {
        RPCError::Unreachable(Unreachable::new(&NoTransport { target: self.target }))
    }
}

impl RaftNetworkFactory<TypeConfig> for NoPeers {
    type Network = UnreachablePeer;

    async fn new_client(&mut self, target: NodeId, _node: &Node) -> UnreachablePeer {
        UnreachablePeer { target }
    }
}

impl RaftNetwork<TypeConfig> for UnreachablePeer {
    async fn append_entries(
        &mut self,
        _rpc: AppendEntriesRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        Err(self.error())
    }

    async fn install_snapshot(
        &mut self,
        _rpc: InstallSnapshotRequest<TypeConfig>,
        _option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId, InstallSnapshotError>>> {
        Err(self.error())
    }

    async fn vote(
        &mut self,
        _rpc: VoteRequest<NodeId>,
        _option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, Node, RaftError<NodeId>>> {
        Err(self.error())
    }
}
