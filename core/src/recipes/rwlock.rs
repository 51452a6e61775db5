//! A distributed read-write lock: Curator's `InterProcessReadWriteLock`, and
//! kazoo's `ReadLock`/`WriteLock` node naming.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::lock::{Naming, Role};
use super::lock_internals::{first_in_line, sorted_contenders, Contender, Turn, TurnRule};
use crate::client::{Client, Error, Result};
use crate::proto::Code;

pub use super::lock_internals::LockState;

/// Curator's name part of read-lock nodes.
pub const READ_LOCK_NAME: &str = "__READ__";
/// Curator's name part of write-lock nodes.
pub const WRITE_LOCK_NAME: &str = "__WRIT__";

/// Which side of a [`ReadWriteLock`] a [`ReadWriteLockHalf`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// Shared: held by any number of readers while no writer is ahead.
    Read,
    /// Exclusive.
    Write,
}

/// A distributed read-write lock at a path, following Curator's
/// `InterProcessReadWriteLock`: contender nodes `_c_<uuid>-__READ__<seq>` and
/// `_c_<uuid>-__WRIT__<seq>` share one line ordered by sequence. With
/// [`Naming::Kazoo`] the nodes are kazoo's `ReadLock`/`WriteLock` ones,
/// `<uuidhex>__rlock__<seq>` and `<uuidhex>__lock__<seq>` (a kazoo `Lock` on
/// the path is then a writer), so kazoo processes can share the lock.
///
/// * A writer holds when it is first in line; it waits for its predecessor.
/// * A reader holds when no writer is ahead of it; it waits for the nearest
///   writer ahead. Readers queued behind a waiting writer wait too, so
///   writers are not starved.
/// * Each half is re-entrant per value, like [`Lock`](super::lock::Lock), and
///   reports [`LockState`] the same way (Suspended: ownership unknown; Lost:
///   gone).
/// * Holding the write lock, the same value may take the read lock too
///   (Curator's rule). Release that read lock before the write lock: the
///   write side refuses (BadArguments) while it remains, since a writer
///   queued meanwhile would otherwise get in beside it. The opposite, taking
///   the write lock while holding only the read lock, would wait for itself
///   forever and fails at once with BadArguments.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::rwlock::ReadWriteLock;
/// use corral::EmbeddedServer;
///
/// let server = EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let mut a = ReadWriteLock::new(&client, "/app/rw");
/// let mut b = ReadWriteLock::new(&client, "/app/rw");
/// let mut c = ReadWriteLock::new(&client, "/app/rw");
///
/// a.read().acquire().await?;
/// b.read().acquire().await?; // readers share
/// assert!(!c.write().try_acquire().await?); // a writer must wait for them
/// a.read().release().await?;
/// b.read().release().await?;
///
/// b.write().acquire().await?;
/// assert!(!a.read().try_acquire().await?); // readers wait for the writer
/// b.read().acquire().await?; // the writer may read
/// b.read().release().await?;
/// b.write().release().await?;
/// # Ok(())
/// # }
/// ```
pub struct ReadWriteLock {
    read: ReadWriteLockHalf,
    write: ReadWriteLockHalf,
}

impl ReadWriteLock {
    /// A read-write lock at `path` with empty node data.
    pub fn new(client: &Client, path: &str) -> ReadWriteLock {
        let flags = Arc::new(Flags::default());
        let half = |side| ReadWriteLockHalf {
            side,
            naming: Naming::Curator,
            contender: Contender::new(client, path, Vec::new()),
            flags: flags.clone(),
        };
        ReadWriteLock { read: half(Side::Read), write: half(Side::Write) }
    }

    /// Names this value's nodes as Curator (the default) or kazoo processes do.
    pub fn with_naming(mut self, naming: Naming) -> ReadWriteLock {
        self.read.naming = naming;
        self.write.naming = naming;
        self
    }

    /// The naming of this value's nodes.
    pub fn naming(&self) -> Naming {
        self.read.naming
    }

    /// Sets the data stored in this value's lock nodes (Curator's
    /// `lockData`; kazoo's contender identifier).
    pub fn with_data(mut self, data: &[u8]) -> ReadWriteLock {
        self.read.contender.set_data(data.to_vec());
        self.write.contender.set_data(data.to_vec());
        self
    }

    /// The shared side (Curator's `readLock()`).
    pub fn read(&mut self) -> &mut ReadWriteLockHalf {
        &mut self.read
    }

    /// The exclusive side (Curator's `writeLock()`).
    pub fn write(&mut self) -> &mut ReadWriteLockHalf {
        &mut self.write
    }

    /// Full paths of every contender node, readers and writers, in line order.
    pub async fn participant_nodes(&self) -> Result<Vec<String>> {
        let parent = self.read.contender.parent();
        match sorted_contenders(self.read.contender.client(), parent).await {
            Ok(names) => Ok(names.into_iter().map(|n| format!("{parent}/{n}")).collect()),
            Err(e) if e.code == Code::NoNode => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }
}

/// One side of a [`ReadWriteLock`], used like a [`Lock`](super::lock::Lock).
pub struct ReadWriteLockHalf {
    side: Side,
    naming: Naming,
    contender: Contender,
    /// What this value holds, shared by its two halves.
    flags: Arc<Flags>,
}

/// What one [`ReadWriteLock`] value holds.
#[derive(Default)]
struct Flags {
    /// The write side is held.
    write: AtomicBool,
    /// The read side is held.
    read: AtomicBool,
    /// The read hold was granted through the write hold.
    read_under_write: AtomicBool,
}

/// Whether a contender node is a reader's (Curator's, or kazoo's `ReadLock`).
fn is_reader(name: &str) -> bool {
    name.contains(Naming::Curator.kind(Role::Read)) || name.contains(Naming::Kazoo.kind(Role::Read))
}

/// Readers wait for the nearest writer ahead of them.
fn no_writer_ahead(names: &[String], ours: usize) -> Turn {
    match names[..ours].iter().rev().find(|n| !is_reader(n)) {
        None => Turn::Go,
        Some(writer) => Turn::WaitFor(writer.clone()),
    }
}

/// A reader whose value holds the write lock goes at once.
fn granted(_: &[String], _: usize) -> Turn {
    Turn::Go
}

impl ReadWriteLockHalf {
    /// Which side this is.
    pub fn side(&self) -> Side {
        self.side
    }

    /// kazoo's `acquire(ephemeral=False)` for this side: see [`Lock::set_ephemeral`](super::lock::Lock::set_ephemeral).
    pub fn set_ephemeral(&mut self, ephemeral: bool) {
        self.contender.set_ephemeral(ephemeral);
    }

    /// Waits until this side is held (or nests when already held).
    pub async fn acquire(&mut self) -> Result<()> {
        self.acquire_until(None).await.map(|_| ())
    }

    /// Like [`acquire`](Self::acquire), giving up after about `timeout` (`Ok(false)`).
    pub async fn acquire_timeout(&mut self, timeout: Duration) -> Result<bool> {
        self.acquire_until(Some(Instant::now() + timeout)).await
    }

    /// Takes this side only if that needs no waiting.
    pub async fn try_acquire(&mut self) -> Result<bool> {
        self.acquire_until(Some(Instant::now())).await
    }

    async fn acquire_until(&mut self, deadline: Option<Instant>) -> Result<bool> {
        let held = self.contender.depth() > 0;
        let flags = &self.flags;
        let writing = flags.write.load(Ordering::SeqCst);
        let (role, rule): (Role, TurnRule) = match self.side {
            // Holding only the read side, a write node would wait for our own read node.
            Side::Write if !held && flags.read.load(Ordering::SeqCst) => {
                return Err(Error::at(Code::BadArguments, self.contender.parent()));
            }
            Side::Write => (Role::Write, first_in_line),
            Side::Read if writing => (Role::Read, granted),
            Side::Read => (Role::Read, no_writer_ahead),
        };
        let name = self.naming.node_name(role);
        let got = self.contender.acquire(name, deadline, rule).await?;
        if got && !held {
            match self.side {
                Side::Write => self.flags.write.store(true, Ordering::SeqCst),
                Side::Read => {
                    self.flags.read.store(true, Ordering::SeqCst);
                    self.flags.read_under_write.store(writing, Ordering::SeqCst);
                }
            }
        }
        Ok(got)
    }

    /// Undoes one acquisition of this side; the last one deletes its node.
    /// Fails with SessionExpired when the hold had been lost (the value is
    /// reset all the same), with BadArguments when not held or when the
    /// write side still covers a read hold (unless it was lost).
    pub async fn release(&mut self) -> Result<()> {
        let covering = self.side == Side::Write
            && self.contender.depth() == 1
            && self.flags.read_under_write.load(Ordering::SeqCst)
            && self.contender.state() != LockState::Lost;
        if covering {
            return Err(Error::at(Code::BadArguments, self.contender.parent()));
        }
        let result = self.contender.release().await;
        if self.contender.depth() == 0 {
            match self.side {
                Side::Write => self.flags.write.store(false, Ordering::SeqCst),
                Side::Read => {
                    self.flags.read.store(false, Ordering::SeqCst);
                    self.flags.read_under_write.store(false, Ordering::SeqCst);
                }
            }
        }
        result
    }

    /// How this value's hold of this side stands.
    pub fn state(&self) -> LockState {
        self.contender.state()
    }

    /// Whether this side is held with certainty.
    pub fn is_held(&self) -> bool {
        self.state() == LockState::Held
    }

    /// Resolves when the current hold of this side ends (`Lost` or `Released`).
    pub fn lost(&self) -> impl Future<Output = LockState> + Send + 'static {
        self.contender.lost()
    }

    /// The fencing token of the current hold: the czxid of its node.
    pub fn fencing_token(&self) -> Option<i64> {
        self.contender.node().map(|n| n.czxid)
    }

    /// The path of the held node.
    pub fn node_path(&self) -> Option<&str> {
        self.contender.node().map(|n| n.path.as_str())
    }

    /// How many acquisitions of this side are not yet released.
    pub fn hold_count(&self) -> usize {
        self.contender.depth()
    }
}
