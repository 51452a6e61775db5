//! The client-side history: what each client asked, when, and what it learnt.

use crate::types::NodeId;

/// A key's value as a client sees it: `None` when the node does not exist,
/// else its data (as text) and version.
pub type KeyState = Option<(String, i32)>;

/// A write to one of the register keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KWrite {
    /// create (persistent) with this data.
    Create { value: String },
    /// setData with this data and expected version (-1 = any).
    Set { value: String, expected: i32 },
    /// delete with the expected version (-1 = any).
    Delete { expected: i32 },
}

/// What a client did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Start a new session.
    CreateSession,
    /// Close the session.
    CloseSession,
    /// Keep the session alive.
    Ping,
    /// A write to a register key.
    Write { key: String, w: KWrite },
    /// getData on the attached node (session-ordered).
    Read { key: String },
    /// sync then getData (linearizable).
    SyncRead { key: String },
    /// Create an ephemeral node owned by the session.
    Ephemeral { path: String },
}

impl Op {
    /// The register key the op touches, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            Op::Write { key, .. } | Op::Read { key } | Op::SyncRead { key } => Some(key),
            _ => None,
        }
    }
}

/// The outcome of a register write that was applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteRes {
    /// Done; the node's version afterwards (0 for a create, none for a delete).
    Ok { version: i32 },
    /// create: the node exists.
    Exists,
    /// setData/delete: no such node.
    NoNode,
    /// setData/delete: the version did not match.
    BadVersion,
    /// Any other error code (unexpected for the register ops).
    Other(String),
}

/// What a successful op returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ack {
    /// A new session and the zxid it was created at.
    Session { id: i64, zxid: u64 },
    /// The session was closed at this zxid.
    Closed { zxid: u64 },
    /// A ping was answered.
    Pinged,
    /// A register write applied at `zxid` with this result.
    Write { zxid: u64, res: WriteRes },
    /// A read served from the state at applied index `at`.
    Read { at: u64, state: KeyState },
    /// An ephemeral create applied at `zxid`; `ok` = created.
    Ephemeral { zxid: u64, ok: bool },
}

/// How an op ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered.
    Ok(Ack),
    /// Definitely not applied (or, for a read, simply failed).
    Fail(String),
    /// May or may not have been applied (timeout, lost connection).
    Unknown(String),
    /// Still outstanding when the history was closed.
    Pending,
}

/// One op of the history.
#[derive(Clone, Debug)]
pub struct OpRecord {
    /// Position in the history.
    pub id: usize,
    /// Issuing client.
    pub client: u32,
    /// Session it ran under (0 before one exists).
    pub session: i64,
    /// Node the client was attached to.
    pub node: NodeId,
    /// The op.
    pub op: Op,
    /// Global event sequence number of the invocation.
    pub invoke: u64,
    /// Global event sequence number of the completion (none if never answered).
    pub complete: Option<u64>,
    /// Simulated ms of invocation and completion, for reports.
    pub t_invoke_ms: u64,
    /// Simulated ms of completion.
    pub t_complete_ms: u64,
    /// Outcome.
    pub outcome: Outcome,
}
