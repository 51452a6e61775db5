//! The replicated commands (`Txn`) and how each one applies to the state.
//!
//! Every client write becomes one `Txn` in the replicated log, successful or
//! not: validation that depends on the tree (existence, versions, ACLs,
//! sequence numbers) happens when the entry is applied, identically on every
//! node and in log order. A write rejected before it reaches the tree (bad
//! flags, TTL disabled, malformed multi) is logged as [`TxnOp::Error`], so it
//! consumes a zxid exactly as ZooKeeper's error transactions do.
//!
//! [`State`] is the replicated state machine's data — the tree plus the
//! session table — and [`State::apply`] the one deterministic function every
//! node runs on each committed entry.
//!
//! May use: `proto` (data records and codes), `tree`. Nothing else of ours.

use imbl::OrdMap;
use serde::{Deserialize, Serialize};

use crate::proto::{Acl, Code, CreateMode, EventType, Id, Stat};
use crate::tree::{path, DataTree, NewNode, Stamp};

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
    /// A new ensemble membership (reconfig, or the first leader recording
    /// the configured one): `/zookeeper/config` becomes `servers` (its
    /// `server.N=...` lines) followed by `version=<zxid in hex>`.
    SetConfig {
        /// The `server.N=...` lines, each ending in a newline.
        servers: String,
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
    /// A multi sub-op the server rejected before the tree saw it (bad flags,
    /// TTL rules): fails with `code` at its position, like any other failure.
    Fail {
        /// The code the sub-op fails with.
        code: Code,
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
    /// `SetConfig` applied: the new `/zookeeper/config` data and stat.
    Config {
        /// The data now in `/zookeeper/config`.
        data: Vec<u8>,
        /// Its stat.
        stat: Stat,
    },
}

/// A change that may fire watches, produced by `apply` in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trigger {
    /// Server-side path of the node the event is about.
    pub path: String,
    /// NodeCreated, NodeDeleted, NodeDataChanged or NodeChildrenChanged.
    pub event: EventType,
}

/// A live session as replicated: what a resume must present and its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Password returned on every resume.
    pub passwd: [u8; 16],
    /// Negotiated timeout.
    pub timeout_ms: i32,
}

/// The replicated state: the data tree and the session table. Cloning is
/// O(1) (persistent maps), so a snapshot serializes a clone off the apply path.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Every znode.
    pub tree: DataTree,
    /// Live sessions by id.
    pub sessions: OrdMap<i64, SessionInfo>,
}

impl State {
    /// A fresh server's state: the initial tree, no sessions.
    pub fn new() -> State {
        State::default()
    }

    /// Writes the whole state as a snapshot image.
    pub fn write_snapshot(&self, w: &mut dyn std::io::Write) -> std::io::Result<()> {
        bincode::serialize_into(w, self).map_err(std::io::Error::other)
    }

    /// Reads a snapshot image written by [`State::write_snapshot`].
    pub fn read_snapshot(r: &mut dyn std::io::Read) -> std::io::Result<State> {
        bincode::deserialize_from(r).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    }

    /// Applies one committed entry at `zxid`. Deterministic: depends only on
    /// the state, `zxid` and `txn` (its `time_ms` is the clock). Returns the
    /// outcome for the proposer and the watch triggers, in the order the
    /// changes happened. A failed write or multi changes nothing and
    /// triggers nothing.
    pub fn apply(&mut self, zxid: i64, txn: &Txn) -> (TxnResult, Vec<Trigger>) {
        let stamp = Stamp { zxid, time_ms: txn.time_ms };
        let mut triggers = Vec::new();
        let result = match &txn.op {
            TxnOp::CreateSession { session_id, passwd, timeout_ms } => {
                self.sessions.insert(*session_id, SessionInfo { passwd: *passwd, timeout_ms: *timeout_ms });
                TxnResult::Done
            }
            TxnOp::CloseSession { session_id } => {
                self.sessions.remove(session_id);
                // Also for an unknown session: any ephemerals it owns go.
                for p in self.tree.remove_session_ephemerals(*session_id, stamp) {
                    deleted(&mut triggers, p);
                }
                TxnResult::Done
            }
            TxnOp::Write { caller, op } => {
                TxnResult::Write(apply_write(&mut self.tree, &self.sessions, caller, op, stamp, &mut triggers))
            }
            TxnOp::Multi { caller, ops } => self.apply_multi(caller, ops, stamp, &mut triggers),
            TxnOp::DeleteContainer { path } => match self.tree.delete_reapable(path, stamp) {
                Ok(()) => {
                    deleted(&mut triggers, path.clone());
                    TxnResult::Done
                }
                // No longer due (a child came, data changed, already gone): no-op.
                Err(code) => TxnResult::Error(code),
            },
            TxnOp::Error { code } => TxnResult::Error(*code),
            TxnOp::SetConfig { servers } => {
                let data = format!("{servers}version={zxid:x}").into_bytes();
                match self.tree.set_config(&data, stamp) {
                    Ok(stat) => {
                        triggers.push(Trigger { path: path::CONFIG.to_string(), event: EventType::NodeDataChanged });
                        TxnResult::Config { data, stat }
                    }
                    Err(code) => TxnResult::Error(code),
                }
            }
        };
        (result, triggers)
    }

    /// Applies the sub-ops in order to a clone of the tree, each seeing the
    /// earlier ones' effects; the clone replaces the tree only if all succeed.
    fn apply_multi(
        &mut self,
        caller: &Caller,
        ops: &[WriteOp],
        stamp: Stamp,
        triggers: &mut Vec<Trigger>,
    ) -> TxnResult {
        let mut scratch = self.tree.clone();
        let mut fired = Vec::new();
        let mut results = Vec::with_capacity(ops.len());
        for (i, op) in ops.iter().enumerate() {
            match apply_write(&mut scratch, &self.sessions, caller, op, stamp, &mut fired) {
                Ok(r) => results.push(r),
                Err(code) => {
                    let mut codes = vec![Code::Ok; i];
                    codes.push(code);
                    codes.resize(ops.len(), Code::RuntimeInconsistency);
                    return TxnResult::Multi(Err(codes));
                }
            }
        }
        self.tree = scratch;
        triggers.append(&mut fired);
        TxnResult::Multi(Ok(results))
    }
}

/// One write against `tree`, recording its triggers on success.
fn apply_write(
    tree: &mut DataTree,
    sessions: &OrdMap<i64, SessionInfo>,
    caller: &Caller,
    op: &WriteOp,
    stamp: Stamp,
    triggers: &mut Vec<Trigger>,
) -> Result<WriteResult, Code> {
    let ids = caller.ids.as_slice();
    match op {
        WriteOp::Create { path, data, acl, mode, ttl_ms } => {
            // ZooKeeper checks the owner session of an ephemeral first.
            if mode.is_ephemeral() && !sessions.contains_key(&caller.session_id) {
                return Err(Code::SessionExpired);
            }
            let req = NewNode {
                path,
                data: data.as_deref(),
                acl,
                mode: *mode,
                ttl_ms: *ttl_ms,
                session_id: caller.session_id,
            };
            let (path, stat) = tree.create(&req, ids, stamp)?;
            triggers.push(Trigger { path: path.clone(), event: EventType::NodeCreated });
            triggers.push(Trigger { path: parent_of(&path), event: EventType::NodeChildrenChanged });
            Ok(WriteResult::Created { path, stat })
        }
        WriteOp::Delete { path, version } => {
            tree.delete(path, *version, ids, stamp)?;
            deleted(triggers, path.clone());
            Ok(WriteResult::Deleted)
        }
        WriteOp::SetData { path, data, version } => {
            let stat = tree.set_data(path, data.as_deref(), *version, ids, stamp)?;
            triggers.push(Trigger { path: path.clone(), event: EventType::NodeDataChanged });
            Ok(WriteResult::SetData(stat))
        }
        WriteOp::SetAcl { path, acl, version } => tree.set_acl(path, acl, *version, ids).map(WriteResult::SetAcl),
        WriteOp::Check { path, version } => tree.check(path, *version, ids).map(|()| WriteResult::Checked),
        WriteOp::Fail { code } => Err(*code),
    }
}

/// The parent of a node that exists (so its path holds a `/`).
fn parent_of(p: &str) -> String {
    path::parent(p).unwrap_or("/").to_string()
}

/// Records the triggers of deleting `p`.
fn deleted(triggers: &mut Vec<Trigger>, p: String) {
    let parent = parent_of(&p);
    triggers.push(Trigger { path: p, event: EventType::NodeDeleted });
    triggers.push(Trigger { path: parent, event: EventType::NodeChildrenChanged });
}

#[cfg(test)]
mod tests {
    use super::*;
    use EventType::{NodeChildrenChanged, NodeCreated, NodeDataChanged, NodeDeleted};

    const S1: i64 = 0x0100_0000_0000_0001;

    fn caller(session_id: i64) -> Caller {
        Caller { session_id, ids: vec![Id::new("ip", "127.0.0.1")] }
    }

    fn create(path: &str, mode: CreateMode) -> WriteOp {
        WriteOp::Create { path: path.into(), data: Some(b"d".to_vec()), acl: Acl::open_unsafe(), mode, ttl_ms: 0 }
    }

    fn write(session_id: i64, op: WriteOp) -> Txn {
        Txn { time_ms: 5_000, op: TxnOp::Write { caller: caller(session_id), op } }
    }

    fn multi(ops: Vec<WriteOp>) -> Txn {
        Txn { time_ms: 6_000, op: TxnOp::Multi { caller: caller(S1), ops } }
    }

    fn trig(path: &str, event: EventType) -> Trigger {
        Trigger { path: path.into(), event }
    }

    fn with_session() -> State {
        let mut s = State::new();
        let txn = Txn { time_ms: 1, op: TxnOp::CreateSession { session_id: S1, passwd: [7; 16], timeout_ms: 4000 } };
        assert_eq!(s.apply(1, &txn), (TxnResult::Done, vec![]));
        s
    }

    #[test]
    fn writes_fire_the_right_triggers() {
        let mut s = with_session();
        let (r, t) = s.apply(2, &write(S1, create("/a", CreateMode::Persistent)));
        let stat = s.tree.stat("/a").unwrap_or_default();
        assert_eq!(r, TxnResult::Write(Ok(WriteResult::Created { path: "/a".into(), stat })));
        assert_eq!((stat.czxid, stat.ctime), (2, 5_000));
        assert_eq!(t, vec![trig("/a", NodeCreated), trig("/", NodeChildrenChanged)]);
        let set = WriteOp::SetData { path: "/a".into(), data: None, version: 0 };
        let (r, t) = s.apply(3, &write(S1, set));
        assert!(matches!(r, TxnResult::Write(Ok(WriteResult::SetData(st))) if st.version == 1 && st.mzxid == 3));
        assert_eq!(t, vec![trig("/a", NodeDataChanged)]);
        let acl = WriteOp::SetAcl { path: "/a".into(), acl: Acl::open_unsafe(), version: 0 };
        let (r, t) = s.apply(4, &write(S1, acl));
        assert!(matches!(r, TxnResult::Write(Ok(WriteResult::SetAcl(st))) if st.aversion == 1));
        assert!(t.is_empty());
        let (r, t) = s.apply(5, &write(S1, WriteOp::Delete { path: "/a".into(), version: -1 }));
        assert_eq!(r, TxnResult::Write(Ok(WriteResult::Deleted)));
        assert_eq!(t, vec![trig("/a", NodeDeleted), trig("/", NodeChildrenChanged)]);
    }

    #[test]
    fn failed_write_changes_nothing() {
        let mut s = with_session();
        let before = s.clone();
        let (r, t) = s.apply(2, &write(S1, create("/zookeeper", CreateMode::Persistent)));
        assert_eq!(r, TxnResult::Write(Err(Code::NodeExists)));
        assert!(t.is_empty());
        assert_eq!(s, before);
        let (r, _) = s.apply(3, &Txn { time_ms: 0, op: TxnOp::Error { code: Code::MarshallingError } });
        assert_eq!(r, TxnResult::Error(Code::MarshallingError));
        assert_eq!(s, before);
    }

    #[test]
    fn ephemeral_needs_a_live_session() {
        let mut s = with_session();
        let (r, _) = s.apply(2, &write(99, create("/e", CreateMode::Ephemeral)));
        assert_eq!(r, TxnResult::Write(Err(Code::SessionExpired)));
        // Checked before anything else, even a bad path.
        let (r, _) = s.apply(3, &write(99, create("bad", CreateMode::EphemeralSequential)));
        assert_eq!(r, TxnResult::Write(Err(Code::SessionExpired)));
        let (r, _) = s.apply(4, &write(99, create("/p", CreateMode::Persistent)));
        assert!(matches!(r, TxnResult::Write(Ok(_))));
    }

    #[test]
    fn close_session_deletes_ephemerals_with_triggers() {
        let mut s = with_session();
        s.apply(2, &write(S1, create("/d", CreateMode::Persistent)));
        s.apply(3, &write(S1, create("/d/e", CreateMode::Ephemeral)));
        s.apply(4, &write(S1, create("/x", CreateMode::EphemeralSequential)));
        assert_eq!(s.tree.stat("/d/e").map(|st| st.ephemeral_owner), Some(S1));
        let close = Txn { time_ms: 9, op: TxnOp::CloseSession { session_id: S1 } };
        let (r, t) = s.apply(5, &close);
        assert_eq!(r, TxnResult::Done);
        assert_eq!(
            t,
            vec![
                trig("/d/e", NodeDeleted),
                trig("/d", NodeChildrenChanged),
                trig("/x0000000001", NodeDeleted),
                trig("/", NodeChildrenChanged),
            ]
        );
        assert!(s.sessions.is_empty());
        assert_eq!(s.tree.stat("/d").map(|st| (st.num_children, st.pzxid)), Some((0, 5)));
        // Closing again, or an unknown session, is harmless.
        assert_eq!(s.apply(6, &close), (TxnResult::Done, vec![]));
    }

    #[test]
    fn multi_applies_all_under_one_zxid() {
        let mut s = with_session();
        let ops = vec![
            create("/m", CreateMode::Persistent),
            create("/m/s-", CreateMode::PersistentSequential),
            create("/m/s-", CreateMode::EphemeralSequential),
            WriteOp::SetData { path: "/m".into(), data: Some(b"x".to_vec()), version: 0 },
            // Sees the setData above.
            WriteOp::Check { path: "/m".into(), version: 1 },
            WriteOp::Delete { path: "/m/s-0000000000".into(), version: -1 },
        ];
        let (r, t) = s.apply(7, &multi(ops));
        let TxnResult::Multi(Ok(results)) = r else {
            panic!("multi failed: {r:?}");
        };
        assert_eq!(results.len(), 6);
        assert!(matches!(&results[2], WriteResult::Created { path, .. } if path == "/m/s-0000000001"));
        assert_eq!(results[4], WriteResult::Checked);
        let m = s.tree.stat("/m").unwrap_or_default();
        assert_eq!((m.czxid, m.mzxid, m.pzxid, m.version, m.cversion, m.num_children), (7, 7, 7, 1, 3, 1));
        assert_eq!(t.len(), 2 + 2 + 2 + 1 + 2);
        assert_eq!(t[6], trig("/m", NodeDataChanged));
    }

    #[test]
    fn failed_multi_reports_codes_and_changes_nothing() {
        let mut s = with_session();
        s.apply(2, &write(S1, create("/k", CreateMode::Persistent)));
        let before = s.clone();
        let ops = vec![
            create("/k/new", CreateMode::Persistent),
            WriteOp::SetData { path: "/k".into(), data: None, version: 0 },
            WriteOp::Check { path: "/k".into(), version: 0 },
            WriteOp::Delete { path: "/k".into(), version: -1 },
        ];
        let (r, t) = s.apply(3, &multi(ops));
        assert_eq!(r, TxnResult::Multi(Err(vec![Code::Ok, Code::Ok, Code::BadVersion, Code::RuntimeInconsistency])));
        assert!(t.is_empty());
        assert_eq!(s, before);
        assert_eq!(s.apply(4, &multi(vec![])), (TxnResult::Multi(Ok(vec![])), vec![]));
    }

    #[test]
    fn delete_container_rechecks_at_apply() {
        let mut s = with_session();
        s.apply(2, &write(S1, create("/c", CreateMode::Container)));
        s.apply(3, &write(S1, create("/c/kid", CreateMode::Persistent)));
        let reap = Txn { time_ms: 7_000, op: TxnOp::DeleteContainer { path: "/c".into() } };
        let before = s.clone();
        assert_eq!(s.apply(4, &reap), (TxnResult::Error(Code::NotEmpty), vec![]));
        assert_eq!(s, before);
        s.apply(5, &write(S1, WriteOp::Delete { path: "/c/kid".into(), version: -1 }));
        assert_eq!(s.tree.reap_candidates(7_000, 10), vec!["/c".to_string()]);
        let (r, t) = s.apply(6, &reap);
        assert_eq!(r, TxnResult::Done);
        assert_eq!(t, vec![trig("/c", NodeDeleted), trig("/", NodeChildrenChanged)]);
    }

    #[test]
    fn state_can_be_snapshotted_on_another_thread() {
        fn send_sync<T: Send + Sync + 'static>() {}
        send_sync::<State>();
    }

    #[test]
    fn state_snapshot_round_trip() {
        let mut s = with_session();
        s.apply(2, &write(S1, create("/a", CreateMode::Persistent)));
        s.apply(3, &write(S1, create("/a/e", CreateMode::Ephemeral)));
        let bytes = bincode::serialize(&s).unwrap_or_default();
        let back: State = bincode::deserialize(&bytes).unwrap_or_default();
        assert_eq!(back, s);
        assert_eq!(back.sessions.get(&S1).map(|i| i.timeout_ms), Some(4000));
        assert_eq!(back.tree.get_ephemerals(S1, None), vec!["/a/e".to_string()]);
    }
}
