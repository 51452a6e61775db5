//! LockingQueue (kazoo's `LockingQueue`): items stay in the queue until the
//! consumer that locked one consumes it; the lock is an ephemeral node, so
//! the item of a consumer that dies becomes available again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use super::cache_core::join;
use super::queue::{entry_prefix, sort_entries};
use super::util::{retry, uuid, wait_connected};
use crate::client::{Client, CreateOptions, Error, Result, State};
use crate::proto::{Code, CreateMode};

/// How long an operation whose outcome a lost connection left unknown waits
/// for the connection to come back before giving up.
const RECONNECT_WAIT: Duration = Duration::from_secs(60);

/// kazoo's `LockingQueue`: [`LockingQueue::get`] locks the next item and
/// returns it, [`LockingQueue::consume`] removes it once processed,
/// [`LockingQueue::release`] gives it back. An item whose consumer's session
/// ends (crash, close, expiry) before `consume` is delivered again, so
/// delivery is at least once.
///
/// Layout (kazoo's, so kazoo processes can share the queue): items are
/// persistent-sequential `<path>/entries/entry-<priority:03>-<seq:010>`; the
/// lock of an item is the ephemeral `<path>/taken/<item name>` holding the
/// consumer's id (32 hex digits); consuming deletes both in one transaction.
///
/// Unlike kazoo, a consumer that lost its lock (its session expired) forgets
/// the item instead of returning it again, and a lock created just before a
/// lost reply is recognised as its own by the id it holds.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use corral::client::Client;
/// use corral::recipes::locking_queue::LockingQueue;
/// use corral::recipes::queue::DEFAULT_PRIORITY;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let queue = LockingQueue::new(&client, "/work");
/// queue.put(b"resize image 42", DEFAULT_PRIORITY).await?;
///
/// let item = queue.get(Some(Duration::from_secs(5))).await?;
/// assert_eq!(item.as_deref(), Some(&b"resize image 42"[..]));
/// assert!(queue.holds_lock().await?);
/// // ... process it ...
/// assert!(queue.consume().await?);
/// assert_eq!(queue.len().await?, 0);
/// # Ok(())
/// # }
/// ```
pub struct LockingQueue {
    client: Client,
    entries: String,
    taken: String,
    /// This consumer's id, the content of its locks (kazoo: `uuid4().hex`).
    id: String,
    /// The locked item being processed: (name, value).
    processing: Mutex<Option<(String, Vec<u8>)>>,
    /// Whether `entries` and `taken` are known to exist.
    ensured: AtomicBool,
}

impl LockingQueue {
    /// A locking queue at `path` (created on first use).
    pub fn new(client: &Client, path: &str) -> LockingQueue {
        LockingQueue {
            client: client.clone(),
            entries: format!("{path}/entries"),
            taken: format!("{path}/taken"),
            id: uuid().replace('-', ""),
            processing: Mutex::new(None),
            ensured: AtomicBool::new(false),
        }
    }

    /// Adds an item with `priority` (0–999, lower first; kazoo's default is
    /// [`DEFAULT_PRIORITY`](super::queue::DEFAULT_PRIORITY)).
    pub async fn put(&self, item: &[u8], priority: u16) -> Result<()> {
        self.put_all(&[item], priority).await
    }

    /// Adds several items with one priority, atomically: all or none.
    pub async fn put_all<T: AsRef<[u8]>>(&self, items: &[T], priority: u16) -> Result<()> {
        let name = join(&self.entries, &entry_prefix(priority)?);
        self.ensure().await?;
        let seq = CreateOptions::mode(CreateMode::PersistentSequential);
        let txn = items.iter().fold(self.client.transaction(), |t, item| t.create(&name, item.as_ref(), &seq));
        txn.commit().await.map(|_| ())
    }

    /// Locks and returns the next available item, waiting at most `timeout`
    /// (`None`: as long as it takes); `None` if none came. While an item is
    /// held (not consumed or released), returns that item again.
    pub async fn get(&self, timeout: Option<Duration>) -> Result<Option<Vec<u8>>> {
        if let Some((_, value)) = self.processing.lock().as_ref() {
            return Ok(Some(value.clone()));
        }
        self.ensure().await?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut states = self.client.state_changes();
        loop {
            let (entries, _, w_entries) = retry(&self.client, || self.client.get_children_w(&self.entries)).await?;
            let (taken, _, w_taken) = retry(&self.client, || self.client.get_children_w(&self.taken)).await?;
            for name in sort_entries(entries).into_iter().filter(|n| !taken.contains(n)) {
                if let Some(value) = self.try_lock(&name).await? {
                    *self.processing.lock() = Some((name, value.clone()));
                    return Ok(Some(value));
                }
            }
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = w_entries => {}
                _ = w_taken => {}
                st = states.recv() => {
                    if matches!(st, Ok(State::Closed)) {
                        return Err(Error::new(Code::ConnectionLoss));
                    }
                }
                _ = sleep => return Ok(None),
            }
        }
    }

    /// Whether this consumer still holds the lock of its item (false when it
    /// has none, or its session lost it).
    pub async fn holds_lock(&self) -> Result<bool> {
        let Some(name) = self.processing.lock().as_ref().map(|(n, _)| n.clone()) else {
            return Ok(false);
        };
        Ok(self.lock_version(&name).await?.is_some())
    }

    /// Removes the held item from the queue. `false` (and the item is
    /// forgotten) when the lock was lost: the item may go to another consumer.
    pub async fn consume(&self) -> Result<bool> {
        let Some(name) = self.processing.lock().as_ref().map(|(n, _)| n.clone()) else {
            return Ok(false);
        };
        let entry = join(&self.entries, &name);
        let lock = join(&self.taken, &name);
        let mut unknown = false;
        loop {
            let Some(version) = self.lock_version(&name).await? else {
                // After a lost reply, lock and item both gone: our transaction applied.
                let consumed = unknown && retry(&self.client, || self.client.exists(&entry)).await?.is_none();
                *self.processing.lock() = None;
                return Ok(consumed);
            };
            let txn = self.client.transaction().delete(&entry, None).delete(&lock, Some(version));
            match txn.commit().await {
                Ok(_) => break,
                // Outcome unknown: the lock still there means it did not apply.
                Err(e) if e.is_retryable() => {
                    unknown = true;
                    wait_connected(&self.client, RECONNECT_WAIT).await?;
                }
                Err(e) if e.code == Code::NoNode && e.path.as_deref() == Some(entry.as_str()) => {
                    // Someone removed the item by hand; drop our lock.
                    self.delete_lock(&lock).await?;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        *self.processing.lock() = None;
        Ok(true)
    }

    /// Unlocks the held item without consuming it, for another consumer to
    /// take. `false` when there was none or the lock was already lost.
    pub async fn release(&self) -> Result<bool> {
        let Some(name) = self.processing.lock().as_ref().map(|(n, _)| n.clone()) else {
            return Ok(false);
        };
        let held = self.lock_version(&name).await?.is_some();
        if held {
            self.delete_lock(&join(&self.taken, &name)).await?;
        }
        *self.processing.lock() = None;
        Ok(held)
    }

    /// The number of items, locked ones included.
    pub async fn len(&self) -> Result<usize> {
        self.ensure().await?;
        let (_, stat) = retry(&self.client, || self.client.get_data(&self.entries)).await?;
        Ok(stat.num_children.max(0) as usize)
    }

    /// Whether the queue has no items.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }

    /// Locks item `name` and reads it; `None` when it is locked or gone.
    async fn try_lock(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let lock = join(&self.taken, name);
        let opts = CreateOptions::mode(CreateMode::Ephemeral);
        loop {
            match self.client.create(&lock, self.id.as_bytes(), &opts).await {
                Ok(_) => break,
                Err(e) if e.code == Code::NodeExists => return Ok(None),
                Err(e) if e.is_retryable() => {
                    // Did the create apply before the reply was lost? The lock says whose it is.
                    wait_connected(&self.client, RECONNECT_WAIT).await?;
                    match retry(&self.client, || self.client.get_data(&lock)).await {
                        Ok((owner, _)) if owner == self.id.as_bytes() => break,
                        Ok(_) => return Ok(None),
                        Err(e) if e.code == Code::NoNode => continue,
                        Err(e) => return Err(e),
                    }
                }
                Err(e) => return Err(e),
            }
        }
        let entry = join(&self.entries, name);
        match retry(&self.client, || self.client.get_data(&entry)).await {
            Ok((value, _)) => Ok(Some(value)),
            Err(e) => {
                // Consumed meanwhile (NoNode), or unreadable: do not keep the lock.
                self.delete_lock(&lock).await?;
                if e.code == Code::NoNode {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    /// The version of our lock on item `name`, if we hold it.
    async fn lock_version(&self, name: &str) -> Result<Option<i32>> {
        let lock = join(&self.taken, name);
        match retry(&self.client, || self.client.sync(&lock)).await {
            Ok(()) => {}
            Err(e) if e.code == Code::NoNode => {}
            Err(e) => return Err(e),
        }
        match retry(&self.client, || self.client.get_data(&lock)).await {
            Ok((owner, stat)) if owner == self.id.as_bytes() && stat.ephemeral_owner == self.client.session_id() => {
                Ok(Some(stat.version))
            }
            Ok(_) => Ok(None),
            Err(e) if e.code == Code::NoNode => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn delete_lock(&self, lock: &str) -> Result<()> {
        match retry(&self.client, || self.client.delete(lock, None)).await {
            Ok(()) => Ok(()),
            Err(e) if e.code == Code::NoNode => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn ensure(&self) -> Result<()> {
        if !self.ensured.load(Ordering::Relaxed) {
            retry(&self.client, || self.client.ensure_path(&self.entries)).await?;
            retry(&self.client, || self.client.ensure_path(&self.taken)).await?;
            self.ensured.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}
