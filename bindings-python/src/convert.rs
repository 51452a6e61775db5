//! Core values as plain Python values: the public package wraps these tuples
//! and strings in its typed classes (`ZnodeStat`, `ACL`, `WatchedEvent`,
//! `State`, ...).

use corral::client::{KeeperState, OpResult, State, WatchedEvent};
use corral::proto::{Acl, EventType, Id, Stat};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::error;

/// A Stat as the 11-tuple of `ZnodeStat`'s fields, in ZooKeeper's order.
pub type StatTuple = (i64, i64, i64, i64, i32, i32, i32, i64, i32, i32, i64);

/// An ACL entry as `(perms, scheme, id)`.
pub type AclTuple = (i32, String, String);

/// An event as `(type, state, path, zxid)`.
pub type EventTuple = (&'static str, &'static str, String, i64);

pub fn stat(s: &Stat) -> StatTuple {
    (
        s.czxid,
        s.mzxid,
        s.ctime,
        s.mtime,
        s.version,
        s.cversion,
        s.aversion,
        s.ephemeral_owner,
        s.data_length,
        s.num_children,
        s.pzxid,
    )
}

pub fn acls_from(acls: Vec<AclTuple>) -> Vec<Acl> {
    acls.into_iter().map(|(perms, scheme, id)| Acl { perms, id: Id::new(scheme, id) }).collect()
}

pub fn acls_to(acls: Vec<Acl>) -> Vec<AclTuple> {
    acls.into_iter().map(|a| (a.perms, a.id.scheme, a.id.id)).collect()
}

/// kazoo's `EventType` names.
pub fn event_type(t: EventType) -> &'static str {
    match t {
        EventType::None => "NONE",
        EventType::NodeCreated => "CREATED",
        EventType::NodeDeleted => "DELETED",
        EventType::NodeDataChanged => "CHANGED",
        EventType::NodeChildrenChanged => "CHILD",
        EventType::DataWatchRemoved => "DATA_WATCH_REMOVED",
        EventType::ChildWatchRemoved => "CHILD_WATCH_REMOVED",
        EventType::PersistentWatchRemoved => "PERSISTENT_WATCH_REMOVED",
    }
}

/// kazoo's `KeeperState` names.
pub fn keeper_state(s: KeeperState) -> &'static str {
    match s {
        KeeperState::SyncConnected => "CONNECTED",
        KeeperState::Expired => "EXPIRED_SESSION",
        KeeperState::Closed => "CLOSED",
    }
}

pub fn event(e: WatchedEvent) -> EventTuple {
    (event_type(e.event_type), keeper_state(e.state), e.path, e.zxid)
}

/// The names of `corral.State`.
pub fn state(s: State) -> &'static str {
    match s {
        State::Connected => "CONNECTED",
        State::Suspended => "SUSPENDED",
        State::Reconnected => "RECONNECTED",
        State::ReadOnly => "READ_ONLY",
        State::Lost => "LOST",
        State::Closed => "CLOSED",
    }
}

/// One transaction or multi-read result as a tagged tuple:
/// `("create", path, stat|None)`, `("delete",)`, `("set_data", stat)`,
/// `("check",)`, `("get_data", bytes, stat)`, `("get_children", [names])`,
/// `("error", exception)`.
pub fn op_result<'py>(py: Python<'py>, r: OpResult, path: Option<&str>) -> PyResult<Bound<'py, PyTuple>> {
    match r {
        OpResult::Created { path, stat: s } => ("create", path, s.as_ref().map(stat)).into_pyobject(py),
        OpResult::Deleted => ("delete",).into_pyobject(py),
        OpResult::SetData(s) => ("set_data", stat(&s)).into_pyobject(py),
        OpResult::Checked => ("check",).into_pyobject(py),
        OpResult::Data(data, s) => ("get_data", PyBytes::new(py, &data), stat(&s)).into_pyobject(py),
        OpResult::Children(names) => ("get_children", names).into_pyobject(py),
        OpResult::Error(code) => ("error", error::exception(py, code, path)?).into_pyobject(py),
    }
}
