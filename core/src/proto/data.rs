//! Data records shared by requests, responses and the tree: `Id`, `Acl`, `Stat`,
//! permission bits, create modes and watch-event numbers.

use serde::{Deserialize, Serialize};

/// Permission bits of an ACL entry.
pub mod perms {
    /// getData, getChildren, exists, check.
    pub const READ: i32 = 1;
    /// setData.
    pub const WRITE: i32 = 1 << 1;
    /// create children (checked on the parent).
    pub const CREATE: i32 = 1 << 2;
    /// delete children (checked on the parent).
    pub const DELETE: i32 = 1 << 3;
    /// setACL; unmasked getACL.
    pub const ADMIN: i32 = 1 << 4;
    /// Every permission.
    pub const ALL: i32 = READ | WRITE | CREATE | DELETE | ADMIN;
}

/// An identity: `scheme:id` (e.g. `world:anyone`, `digest:alice:<hash>`, `ip:10.0.0.0/8`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Id {
    /// Authentication scheme: world, auth, digest, ip, super, sasl, x509.
    pub scheme: String,
    /// Scheme-specific identity text.
    pub id: String,
}

impl Id {
    /// Builds an id from its two parts.
    pub fn new(scheme: impl Into<String>, id: impl Into<String>) -> Id {
        Id { scheme: scheme.into(), id: id.into() }
    }
}

/// One ACL entry: permission bits granted to an identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Acl {
    /// Bit mask of [`perms`].
    pub perms: i32,
    /// Who the bits are granted to.
    pub id: Id,
}

impl Acl {
    /// `world:anyone` with every permission (ZooKeeper's OPEN_ACL_UNSAFE).
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl { perms: perms::ALL, id: Id::new("world", "anyone") }]
    }

    /// `world:anyone` with READ only (READ_ACL_UNSAFE).
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl { perms: perms::READ, id: Id::new("world", "anyone") }]
    }

    /// `auth:` with every permission (CREATOR_ALL_ACL).
    pub fn creator_all() -> Vec<Acl> {
        vec![Acl { perms: perms::ALL, id: Id::new("auth", "") }]
    }
}

/// The metadata of a znode as clients see it (68 bytes on the wire).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    /// zxid of the create.
    pub czxid: i64,
    /// zxid of the last setData (czxid until the first one).
    pub mzxid: i64,
    /// Create time, ms since the epoch.
    pub ctime: i64,
    /// Last setData time, ms since the epoch.
    pub mtime: i64,
    /// Number of setData since create.
    pub version: i32,
    /// Number of child creates plus child deletes.
    pub cversion: i32,
    /// Number of setACL since create.
    pub aversion: i32,
    /// Owning session of an ephemeral node, else 0.
    pub ephemeral_owner: i64,
    /// Length of the data in bytes.
    pub data_length: i32,
    /// Current number of children.
    pub num_children: i32,
    /// zxid of the last child create or delete.
    pub pzxid: i64,
}

/// How a node is created (`flags` of CreateRequest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CreateMode {
    /// 0
    Persistent,
    /// 1
    Ephemeral,
    /// 2
    PersistentSequential,
    /// 3
    EphemeralSequential,
    /// 4: removed once its last child goes.
    Container,
    /// 5: removed when childless and unmodified for its TTL.
    PersistentWithTtl,
    /// 6
    PersistentSequentialWithTtl,
}

impl CreateMode {
    /// The mode for a wire flag value.
    pub fn from_flags(flags: i32) -> Option<CreateMode> {
        Some(match flags {
            0 => CreateMode::Persistent,
            1 => CreateMode::Ephemeral,
            2 => CreateMode::PersistentSequential,
            3 => CreateMode::EphemeralSequential,
            4 => CreateMode::Container,
            5 => CreateMode::PersistentWithTtl,
            6 => CreateMode::PersistentSequentialWithTtl,
            _ => return None,
        })
    }

    /// The wire flag value.
    pub fn flags(self) -> i32 {
        match self {
            CreateMode::Persistent => 0,
            CreateMode::Ephemeral => 1,
            CreateMode::PersistentSequential => 2,
            CreateMode::EphemeralSequential => 3,
            CreateMode::Container => 4,
            CreateMode::PersistentWithTtl => 5,
            CreateMode::PersistentSequentialWithTtl => 6,
        }
    }

    /// Whether the node belongs to a session.
    pub fn is_ephemeral(self) -> bool {
        matches!(self, CreateMode::Ephemeral | CreateMode::EphemeralSequential)
    }

    /// Whether the server appends a 10-digit sequence suffix.
    pub fn is_sequential(self) -> bool {
        matches!(
            self,
            CreateMode::PersistentSequential
                | CreateMode::EphemeralSequential
                | CreateMode::PersistentSequentialWithTtl
        )
    }

    /// Whether the mode is one of the TTL modes.
    pub fn is_ttl(self) -> bool {
        matches!(self, CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl)
    }
}

/// Node event types carried in a `WatcherEvent`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[repr(i32)]
pub enum EventType {
    /// Client-local session state change.
    None = -1,
    /// The watched node was created.
    NodeCreated = 1,
    /// The watched node was deleted.
    NodeDeleted = 2,
    /// The watched node's data changed.
    NodeDataChanged = 3,
    /// The watched node's children changed.
    NodeChildrenChanged = 4,
    /// Client-local: a data watch was removed.
    DataWatchRemoved = 5,
    /// Client-local: a child watch was removed.
    ChildWatchRemoved = 6,
    /// Client-local: a persistent watch was removed.
    PersistentWatchRemoved = 7,
}

impl EventType {
    /// The event type for a wire number.
    pub fn from_i32(n: i32) -> Option<EventType> {
        Some(match n {
            -1 => EventType::None,
            1 => EventType::NodeCreated,
            2 => EventType::NodeDeleted,
            3 => EventType::NodeDataChanged,
            4 => EventType::NodeChildrenChanged,
            5 => EventType::DataWatchRemoved,
            6 => EventType::ChildWatchRemoved,
            7 => EventType::PersistentWatchRemoved,
            _ => return None,
        })
    }
}

/// `KeeperState` value the server puts in every notification.
pub const STATE_SYNC_CONNECTED: i32 = 3;

/// `WatcherType` of checkWatches / removeWatches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WatcherType {
    /// 1: standard child watches.
    Children,
    /// 2: standard data/exist watches.
    Data,
    /// 3: any watch.
    Any,
    /// 4: persistent watches.
    Persistent,
    /// 5: persistent recursive watches.
    PersistentRecursive,
}

impl WatcherType {
    /// The watcher type for a wire number.
    pub fn from_i32(n: i32) -> Option<WatcherType> {
        Some(match n {
            1 => WatcherType::Children,
            2 => WatcherType::Data,
            3 => WatcherType::Any,
            4 => WatcherType::Persistent,
            5 => WatcherType::PersistentRecursive,
            _ => return None,
        })
    }
}

/// Mode of an `addWatch` request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddWatchMode {
    /// 0: events for the node itself, not removed when fired.
    Persistent,
    /// 1: events for the node and every descendant, never NodeChildrenChanged.
    PersistentRecursive,
}

impl AddWatchMode {
    /// The mode for a wire number.
    pub fn from_i32(n: i32) -> Option<AddWatchMode> {
        match n {
            0 => Some(AddWatchMode::Persistent),
            1 => Some(AddWatchMode::PersistentRecursive),
            _ => None,
        }
    }
}
