//! A distributed, re-entrant mutex: Curator's `InterProcessMutex`, and
//! kazoo's `Lock` node naming for sharing a lock path with kazoo processes.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::lock_internals::{first_in_line, Contender, NodeName};
use crate::client::{Client, Error, Result};
use crate::proto::Code;

pub use super::lock_internals::LockState;

/// Whose contender-node naming a [`Lock`] follows. corral orders contenders
/// of both namings by their 10-digit sequence suffix, so either kind of node
/// blocks the other; but kazoo recognises only `__lock__` nodes and Curator
/// sorts by what follows `lock-`, so every process sharing a path with
/// kazoo (or Curator) processes must use their naming.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Naming {
    /// Curator's `InterProcessMutex`: `_c_<uuid>-lock-<seq>`.
    #[default]
    Curator,
    /// kazoo's `Lock`: `<uuid as 32 hex digits>__lock__<seq>`, holding the
    /// contender's identifier as data.
    Kazoo,
}

impl Naming {
    /// `"curator"` or `"kazoo"`.
    pub fn name(self) -> &'static str {
        match self {
            Naming::Curator => "curator",
            Naming::Kazoo => "kazoo",
        }
    }
}

impl std::str::FromStr for Naming {
    type Err = Error;

    /// `"curator"` or `"kazoo"` (the bindings' spelling); anything else is
    /// BadArguments.
    fn from_str(s: &str) -> Result<Naming> {
        match s {
            "curator" => Ok(Naming::Curator),
            "kazoo" => Ok(Naming::Kazoo),
            _ => Err(Error::new(Code::BadArguments)),
        }
    }
}

/// What a contender node stands for, which its name tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// A mutex (or election) contender: Curator's `lock-`, kazoo's `__lock__`.
    Lock,
    /// A reader: Curator's `__READ__`, kazoo's `__rlock__`.
    Read,
    /// A writer: Curator's `__WRIT__`, kazoo's `__lock__` (a kazoo `WriteLock`
    /// is a `Lock` by name).
    Write,
}

impl Naming {
    /// The part of a contender's name that marks its role.
    pub(crate) fn kind(self, role: Role) -> &'static str {
        match (self, role) {
            (Naming::Curator, Role::Lock) => "lock-",
            (Naming::Curator, Role::Read) => super::rwlock::READ_LOCK_NAME,
            (Naming::Curator, Role::Write) => super::rwlock::WRITE_LOCK_NAME,
            (Naming::Kazoo, Role::Lock | Role::Write) => "__lock__",
            (Naming::Kazoo, Role::Read) => "__rlock__",
        }
    }

    /// A fresh contender name of `role`, before the sequence the server
    /// appends: `_c_<uuid>-<kind>` (Curator's protected name) or
    /// `<uuid as hex><kind>` (kazoo's).
    pub(crate) fn node_name(self, role: Role) -> NodeName {
        match self {
            Naming::Curator => NodeName::curator(self.kind(role)),
            Naming::Kazoo => NodeName::kazoo(self.kind(role)),
        }
    }
}

/// A distributed mutex at a path, following Curator's `InterProcessMutex`
/// (default) or kazoo's `Lock` naming ([`Naming`]).
///
/// Each acquisition creates an ephemeral-sequential node under the path;
/// the lowest sequence holds the lock and every other contender watches only
/// its predecessor, so waiters are served first come, first served and a
/// release wakes one waiter.
///
/// * **Re-entrant per value**: acquiring through the same `Lock` again nests,
///   and the lock is released by the last [`release`](Lock::release). Give
///   each task that must be excluded its own `Lock`.
/// * **Fencing token**: [`fencing_token`](Lock::fencing_token) is the czxid of
///   the lock node; it grows strictly from one holder to the next, so a
///   resource can refuse writes carrying an older token.
/// * **Connection loss**: while the connection is down ([`LockState::Suspended`])
///   ownership is unknown, and [`is_held`](Lock::is_held) is false until the
///   session resumes; once the session expires ownership is gone
///   ([`LockState::Lost`], [`lost`](Lock::lost) resolves) and a pending
///   [`acquire`](Lock::acquire) fails with SessionExpired.
/// * An acquisition that fails, times out or is dropped deletes its node.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::lock::{Lock, LockState};
/// use corral::EmbeddedServer;
///
/// let server = EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let mut lock = Lock::new(&client, "/app/locks/report");
/// lock.acquire().await?;
/// let token = lock.fencing_token().expect("held");
/// assert!(lock.is_held());
///
/// // Another contender cannot have it meanwhile.
/// let mut other = Lock::new(&client, "/app/locks/report");
/// assert!(!other.try_acquire().await?);
///
/// lock.release().await?;
/// assert_eq!(lock.state(), LockState::Released);
/// assert!(other.try_acquire().await?);
/// assert!(other.fencing_token().expect("held") > token);
/// other.release().await?;
/// # Ok(())
/// # }
/// ```
pub struct Lock {
    naming: Naming,
    contender: Contender,
}

impl Lock {
    /// A lock at `path` with Curator's naming and empty node data.
    pub fn new(client: &Client, path: &str) -> Lock {
        Lock::with_naming(client, path, Naming::Curator)
    }

    /// A lock at `path` named like kazoo's `Lock(path, identifier)`.
    pub fn kazoo(client: &Client, path: &str, identifier: &str) -> Lock {
        Lock::with_naming(client, path, Naming::Kazoo).with_data(identifier.as_bytes())
    }

    /// A lock at `path` with the given naming.
    pub fn with_naming(client: &Client, path: &str, naming: Naming) -> Lock {
        Lock { naming, contender: Contender::new(client, path, Vec::new()) }
    }

    /// Sets the data stored in this value's lock nodes (kazoo shows it as the
    /// contender's identifier).
    pub fn with_data(mut self, data: &[u8]) -> Lock {
        self.contender.set_data(data.to_vec());
        self
    }

    /// kazoo's `acquire(ephemeral=False)`: with `false`, the nodes of later
    /// acquisitions are persistent, so a held lock outlives this session (and
    /// this process) until [`release`](Lock::release) or a manual delete.
    /// Ownership is still judged by this session: once it ends the state
    /// is [`LockState::Lost`] although the node stays.
    pub fn set_ephemeral(&mut self, ephemeral: bool) {
        self.contender.set_ephemeral(ephemeral);
    }

    /// The lock path.
    pub fn path(&self) -> &str {
        self.contender.parent()
    }

    /// The naming of this value's nodes.
    pub fn naming(&self) -> Naming {
        self.naming
    }

    /// Waits until the lock is held (or nests when already held). Fails with
    /// SessionExpired when the session ends while waiting, or when a held
    /// lock has been lost.
    pub async fn acquire(&mut self) -> Result<()> {
        self.acquire_until(None).await.map(|_| ())
    }

    /// Like [`acquire`](Lock::acquire), giving up after about `timeout`:
    /// `Ok(false)` then, and this value's node is gone again.
    pub async fn acquire_timeout(&mut self, timeout: Duration) -> Result<bool> {
        self.acquire_until(Some(Instant::now() + timeout)).await
    }

    /// Takes the lock only if no one else holds it or waits for it.
    pub async fn try_acquire(&mut self) -> Result<bool> {
        self.acquire_until(Some(Instant::now())).await
    }

    pub(crate) async fn acquire_until(&mut self, deadline: Option<Instant>) -> Result<bool> {
        let name = self.naming.node_name(Role::Lock);
        self.contender.acquire(name, deadline, first_in_line).await
    }

    /// Undoes one acquisition; the last one deletes the lock node. Fails
    /// with SessionExpired when the lock had been lost meanwhile (the value
    /// is reset all the same), with BadArguments when it is not held.
    pub async fn release(&mut self) -> Result<()> {
        self.contender.release().await
    }

    /// How this value's hold stands.
    pub fn state(&self) -> LockState {
        self.contender.state()
    }

    /// Whether the lock is held with certainty (state [`LockState::Held`]).
    pub fn is_held(&self) -> bool {
        self.state() == LockState::Held
    }

    /// Resolves when the current hold ends: [`LockState::Lost`] when
    /// ownership was lost, [`LockState::Released`] when it was released (at
    /// once when not held). Independent of `self`, so it can be raced
    /// against the work the lock protects.
    pub fn lost(&self) -> impl Future<Output = LockState> + Send + 'static {
        self.contender.lost()
    }

    /// The fencing token of the current hold: the czxid of the lock node.
    pub fn fencing_token(&self) -> Option<i64> {
        self.contender.node().map(|n| n.czxid)
    }

    /// The path of the held lock node.
    pub fn node_path(&self) -> Option<&str> {
        self.contender.node().map(|n| n.path.as_str())
    }

    /// How many acquisitions are not yet released (0 when not held).
    pub fn hold_count(&self) -> usize {
        self.contender.depth()
    }

    /// Curator's `getParticipantNodes`: the full paths of every contender
    /// node, the holder first.
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        let parent = self.path();
        let names = match super::lock_internals::sorted_contenders(self.contender.client(), parent).await {
            Ok(n) => n,
            Err(e) if e.code == Code::NoNode => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(names.into_iter().map(|n| format!("{parent}/{n}")).collect())
    }
}
