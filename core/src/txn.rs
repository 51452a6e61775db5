//! The replicated commands (`Txn`) and how each one applies to the state.
//!
//! Every client write becomes one `Txn` in the replicated log, successful or
//! not: validation that depends on the tree (existence, versions, ACLs,
//! sequence numbers) happens when the entry is applied, identically on every
//! node and in log order. A write rejected before it reaches the tree (bad
//! flags, TTL disabled, malformed multi) is logged as [`TxnOp::Error`], so it
//! consumes a zxid exactly as ZooKeeper's error transactions do.
//!
//! May use: `proto` (data records and codes), `tree`. Nothing else of ours.

use serde::{Deserialize, Serialize};

use crate::proto::{Acl, Code, CreateMode, EventType, Id, Stat};

/// One replicated command, with the fields that must not depend on the node
/// that applies it fixed at proposal time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Txn {
    /// The proposer's wall clock in ms since the epoch: ctime/mtime of what
    /// the command creates or modifies. Never read a local clock in `apply`.
    pub time_ms: i64,
    /// What to do.
    pub op: TxnOp,
}

/// Who issued a client write: the session and the identities its connection holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Caller {
    /// Issuing session (owner of ephemerals it creates).
    pub session_id: i64,
    /// Identities of the connection: always `ip:<addr>`, plus `digest:user:hash`
    /// per digest auth, plus `super:` for a super user.
    pub ids: Vec<Id>,
}

/// The kinds of replicated command.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum TxnOp {
    /// A new session (the ConnectRequest with sessionId 0).
    CreateSession {
        /// Unique id, chosen by the proposer.
        session_id: i64,
        /// Password returned to the client on every resume.
        passwd: [u8; 16],
        /// Negotiated timeout.
        timeout_ms: i32,
    },
    /// Close or expire a session: deletes its ephemerals atomically.
    CloseSession {
        /// The session to end.
        session_id: i64,
    },
    /// One client write.
    Write {
        /// Who asked.
        caller: Caller,
        /// The write.
        op: WriteOp,
    },
    /// An atomic multi: every sub-op applies, or none.
    Multi {
        /// Who asked.
        caller: Caller,
        /// Sub-ops in request order.
        ops: Vec<WriteOp>,
    },
    /// The container/TTL reaper's delete; re-checked at apply (still childless, still expired).
    DeleteContainer {
        /// The node to remove.
        path: String,
    },
    /// A write rejected before it reached the tree; applies nothing.
    Error {
        /// The code the client is answered with.
        code: Code,
    },
}

/// One write, as in a request or a multi sub-op.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WriteOp {
    /// create / create2 / createContainer / createTTL.
    Create {
        /// Requested path (sequence suffix appended at apply).
        path: String,
        /// Data; `None` is ZooKeeper's null buffer (kept distinct from empty).
        data: Option<Vec<u8>>,
        /// Requested ACL (validated and `auth` expanded at apply).
        acl: Vec<Acl>,
        /// Node kind.
        mode: CreateMode,
        /// TTL in ms for the TTL modes, else 0.
        ttl_ms: i64,
    },
    /// delete.
    Delete {
        /// Node to delete.
        path: String,
        /// Expected version, -1 = any.
        version: i32,
    },
    /// setData.
    SetData {
        /// Node to change.
        path: String,
        /// New data.
        data: Option<Vec<u8>>,
        /// Expected version, -1 = any.
        version: i32,
    },
    /// setACL.
    SetAcl {
        /// Node to change.
        path: String,
        /// New ACL.
        acl: Vec<Acl>,
        /// Expected aversion, -1 = any.
        version: i32,
    },
    /// check (multi only).
    Check {
        /// Node to check.
        path: String,
        /// Expected version, -1 = existence only.
        version: i32,
    },
}

/// The outcome of one successful write.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum WriteResult {
    /// The node was created at `path` (with the sequence suffix, if any).
    Created {
        /// Actual path.
        path: String,
        /// The new node's Stat.
        stat: Stat,
    },
    /// The node was deleted.
    Deleted,
    /// Data was set; Stat after the update.
    SetData(Stat),
    /// ACL was set; Stat after the update.
    SetAcl(Stat),
    /// The check passed.
    Checked,
}

/// What applying a `Txn` produced; the server turns it into the reply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum TxnResult {
    /// Session created or closed; for entries that are not client commands too.
    #[default]
    Done,
    /// A single write: its result or its error code.
    Write(Result<WriteResult, Code>),
    /// A multi: all results, or per sub-op codes (Ok before the failing one,
    /// its code, RuntimeInconsistency after it).
    Multi(Result<Vec<WriteResult>, Vec<Code>>),
    /// A rejected write (`TxnOp::Error`), or a session that no longer exists.
    Error(Code),
}

/// A change that may fire watches, produced by `apply` in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// Server-side path of the node the event is about.
    pub path: String,
    /// NodeCreated, NodeDeleted, NodeDataChanged or NodeChildrenChanged.
    pub event: EventType,
}
