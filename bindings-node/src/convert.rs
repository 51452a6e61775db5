//! Records as JS sees them: Stat (64-bit values as `bigint`), ACL entries,
//! watch events, create modes and permissions from core's one definition.

use std::collections::HashMap;

use corral::client::{KeeperState, WatchedEvent as CoreEvent};
use corral::proto::{perms, Acl as CoreAcl, CreateMode, EventType, Id, Stat as CoreStat};
use corral::recipes::lock::Naming;
use napi::bindgen_prelude::BigInt;
use napi_derive::napi;

use crate::error::Failure;

/// A node's metadata, as ZooKeeper's `Stat`; zxids and the owner are `bigint`.
#[napi(object, object_from_js = false)]
pub struct Stat {
    /// zxid of the create.
    pub czxid: BigInt,
    /// zxid of the last data change.
    pub mzxid: BigInt,
    /// Create time, ms since the epoch.
    pub ctime: i64,
    /// Last data change time, ms since the epoch.
    pub mtime: i64,
    /// Number of data changes.
    pub version: i32,
    /// Number of child changes.
    pub cversion: i32,
    /// Number of ACL changes.
    pub aversion: i32,
    /// Session id of an ephemeral node's owner, else `0n`.
    pub ephemeral_owner: BigInt,
    /// Length of the data.
    pub data_length: i32,
    /// Number of children.
    pub num_children: i32,
    /// zxid of the last child change.
    pub pzxid: BigInt,
}

impl From<CoreStat> for Stat {
    fn from(s: CoreStat) -> Stat {
        Stat {
            czxid: s.czxid.into(),
            mzxid: s.mzxid.into(),
            ctime: s.ctime,
            mtime: s.mtime,
            version: s.version,
            cversion: s.cversion,
            aversion: s.aversion,
            ephemeral_owner: s.ephemeral_owner.into(),
            data_length: s.data_length,
            num_children: s.num_children,
            pzxid: s.pzxid.into(),
        }
    }
}

/// One ACL entry: `perms` (see `Perms`) granted to `scheme:id`.
#[napi(object)]
pub struct Acl {
    /// Bit mask of `Perms`.
    pub perms: i32,
    /// `world`, `auth`, `digest`, `ip`, ...
    pub scheme: String,
    /// The scheme's identity (`anyone`, `user:hash`, `10.0.0.0/8`).
    pub id: String,
}

impl From<CoreAcl> for Acl {
    fn from(a: CoreAcl) -> Acl {
        Acl { perms: a.perms, scheme: a.id.scheme, id: a.id.id }
    }
}

impl From<Acl> for CoreAcl {
    fn from(a: Acl) -> CoreAcl {
        CoreAcl { perms: a.perms, id: Id::new(a.scheme, a.id) }
    }
}

/// What fired a watch.
#[napi(object, object_from_js = false)]
pub struct WatchedEvent {
    /// `'NODE_CREATED'`, `'NODE_DELETED'`, `'NODE_DATA_CHANGED'`,
    /// `'NODE_CHILDREN_CHANGED'`; `'NONE'` when the watch ended without a change.
    #[napi(js_name = "type")]
    pub kind: String,
    /// `'SYNC_CONNECTED'`; `'EXPIRED'` or `'CLOSED'` when the session ended.
    pub state: String,
    /// Client-side path.
    pub path: String,
    /// zxid of the change (`-1n` when the server does not say).
    pub zxid: BigInt,
}

impl From<CoreEvent> for WatchedEvent {
    fn from(e: CoreEvent) -> WatchedEvent {
        let kind = match e.event_type {
            EventType::None => "NONE",
            EventType::NodeCreated => "NODE_CREATED",
            EventType::NodeDeleted => "NODE_DELETED",
            EventType::NodeDataChanged => "NODE_DATA_CHANGED",
            EventType::NodeChildrenChanged => "NODE_CHILDREN_CHANGED",
            EventType::DataWatchRemoved => "DATA_WATCH_REMOVED",
            EventType::ChildWatchRemoved => "CHILD_WATCH_REMOVED",
            EventType::PersistentWatchRemoved => "PERSISTENT_WATCH_REMOVED",
        };
        let state = match e.state {
            KeeperState::SyncConnected => "SYNC_CONNECTED",
            KeeperState::Expired => "EXPIRED",
            KeeperState::Closed => "CLOSED",
        };
        WatchedEvent { kind: kind.into(), state: state.into(), path: e.path, zxid: e.zxid.into() }
    }
}

/// Every create mode by its Java name (`PERSISTENT` ... `PERSISTENT_SEQUENTIAL_WITH_TTL`),
/// numbered by core's wire flags.
#[napi(skip_typescript)]
pub fn create_modes() -> HashMap<String, i32> {
    (0..)
        .map_while(CreateMode::from_flags)
        .map(|m| {
            let name = match m {
                CreateMode::Persistent => "PERSISTENT",
                CreateMode::Ephemeral => "EPHEMERAL",
                CreateMode::PersistentSequential => "PERSISTENT_SEQUENTIAL",
                CreateMode::EphemeralSequential => "EPHEMERAL_SEQUENTIAL",
                CreateMode::Container => "CONTAINER",
                CreateMode::PersistentWithTtl => "PERSISTENT_WITH_TTL",
                CreateMode::PersistentSequentialWithTtl => "PERSISTENT_SEQUENTIAL_WITH_TTL",
            };
            (name.to_string(), m.flags())
        })
        .collect()
}

/// ACL permission bits, from core's `perms`.
#[napi(skip_typescript)]
pub fn permissions() -> HashMap<String, i32> {
    [
        ("READ", perms::READ),
        ("WRITE", perms::WRITE),
        ("CREATE", perms::CREATE),
        ("DELETE", perms::DELETE),
        ("ADMIN", perms::ADMIN),
        ("ALL", perms::ALL),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A create mode from its number.
pub(crate) fn create_mode(flags: Option<i32>) -> Result<CreateMode, Failure> {
    let flags = flags.unwrap_or(0);
    CreateMode::from_flags(flags)
        .ok_or_else(|| Failure::corral("ERR_CORRAL_ARGUMENT", format!("mode: {flags} is not a CreateMode")))
}

/// A recipe's node layout from its name: `'curator'` (the default) or `'kazoo'`.
pub(crate) fn naming(layout: Option<&str>) -> Result<Naming, Failure> {
    match layout {
        None => Ok(Naming::Curator),
        Some(name) => name.parse().map_err(|_| {
            Failure::corral("ERR_CORRAL_ARGUMENT", format!("layout: {name:?} is neither 'curator' nor 'kazoo'"))
        }),
    }
}
