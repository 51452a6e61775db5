//! Queue and PriorityQueue (kazoo's `Queue` and `PriorityQueue`): items are
//! persistent-sequential nodes `entry-<priority>-<seq>`, consumed by deleting
//! them, so each item goes to exactly one consumer.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::time::Instant;

use super::cache_core::join;
use super::util::{retry, sequence_of, uuid, wait_connected};
use crate::client::{Client, CreateOptions, Error, Result, State, Transaction};
use crate::proto::{Code, CreateMode};

/// kazoo's default priority for `put`.
pub const DEFAULT_PRIORITY: u16 = 100;
/// The largest priority (kazoo formats it with three digits).
pub const PRIORITY_MAX: u16 = 999;
/// kazoo's item name prefix.
const ENTRY_PREFIX: &str = "entry-";
/// How long an operation whose outcome a lost connection left unknown waits
/// for the connection to come back before giving up.
const RECONNECT_WAIT: Duration = Duration::from_secs(60);

/// `(priority, sequence)` of a kazoo queue item name `entry-PPP-SSSSSSSSSS`.
pub(crate) fn parse_entry(name: &str) -> Option<(u16, i64)> {
    let rest = name.strip_prefix(ENTRY_PREFIX)?;
    let (prio, seq) = rest.split_once('-')?;
    if prio.len() != 3 || seq.len() != 10 {
        return None;
    }
    Some((prio.parse().ok()?, sequence_of(name)?))
}

/// Item names in consumption order (priority, then sequence); other names dropped.
pub(crate) fn sort_entries(names: Vec<String>) -> VecDeque<String> {
    let mut keyed: Vec<((u16, i64), String)> = names.into_iter().filter_map(|n| Some((parse_entry(&n)?, n))).collect();
    keyed.sort();
    keyed.into_iter().map(|(_, n)| n).collect()
}

/// The node name prefix (before the sequence) of an item with `priority`.
pub(crate) fn entry_prefix(priority: u16) -> Result<String> {
    if priority > PRIORITY_MAX {
        return Err(Error::new(Code::BadArguments));
    }
    Ok(format!("{ENTRY_PREFIX}{priority:03}-"))
}

/// Commits what `build` adds to a transaction together with the creation of
/// `receipt`, then deletes the receipt. When a lost connection leaves the
/// outcome unknown, the receipt's existence tells whether the transaction
/// applied (so it is neither lost nor applied twice). Definite failures are
/// returned as they are.
async fn commit_with_receipt(client: &Client, receipt: &str, build: impl Fn(Transaction) -> Transaction) -> Result<()> {
    loop {
        let txn = build(client.transaction()).create(receipt, b"", &CreateOptions::default());
        match txn.commit().await {
            Ok(_) => break,
            Err(e) if e.is_retryable() => {
                wait_connected(client, RECONNECT_WAIT).await?;
                // Catch up with the leader before asking, then ask.
                retry(client, || client.sync(receipt)).await.or_else(|e| {
                    if e.code == Code::NoNode {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })?;
                if retry(client, || client.exists(receipt)).await?.is_some() {
                    break;
                }
            }
            Err(e) => return Err(e),
        }
    }
    // The work is done; a receipt left behind (crash, persistent failure) is only litter.
    match retry(client, || client.delete(receipt, None)).await {
        Ok(()) => {}
        Err(e) if e.code == Code::NoNode => {}
        Err(e) => tracing::warn!(receipt, error = %e, "queue receipt not deleted"),
    }
    Ok(())
}

/// kazoo's `Queue`: a FIFO queue of byte items that every process can put to
/// and take from; each item is taken by exactly one consumer.
///
/// Layout (kazoo's, so kazoo processes can share the queue): items are
/// persistent-sequential children `<path>/entry-<priority:03>-<seq:010>`
/// (priority 100 here); consumers take the lowest (priority, sequence)
/// first and consume by deleting it.
///
/// Unlike kazoo's, a put or take that a lost connection interrupts is never
/// applied twice nor lost: it runs as a transaction that also creates a
/// receipt node under `<path>-receipts` (see [`Queue::with_receipts_path`]),
/// whose existence after reconnecting tells whether it applied; the receipt
/// is deleted right after. A consumer that crashes after taking an item
/// loses that item (use [`LockingQueue`](super::locking_queue::LockingQueue)
/// for redelivery).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::queue::Queue;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let queue = Queue::new(&client, "/jobs");
/// queue.put(b"first").await?;
/// queue.put_all(&["second", "third"]).await?;
/// assert_eq!(queue.len().await?, 3);
/// assert_eq!(queue.get().await?, Some(b"first".to_vec()));
/// assert_eq!(queue.take().await?, b"second".to_vec());
/// assert_eq!(queue.get().await?, Some(b"third".to_vec()));
/// assert_eq!(queue.get().await?, None);
/// # Ok(())
/// # }
/// ```
pub struct Queue {
    client: Client,
    path: String,
    receipts: String,
    /// Names this consumer's receipts, so a receipt found after a lost reply is its own.
    id: String,
    /// Item names listed but not yet tried, in consumption order (kazoo's `_children`).
    pending: Mutex<VecDeque<String>>,
    /// Whether the queue and receipt nodes are known to exist.
    ensured: AtomicBool,
}

impl Queue {
    /// A queue at `path` (created on first use), receipts under `<path>-receipts`.
    pub fn new(client: &Client, path: &str) -> Queue {
        Queue {
            client: client.clone(),
            path: path.to_string(),
            receipts: format!("{path}-receipts"),
            id: uuid(),
            pending: Mutex::new(VecDeque::new()),
            ensured: AtomicBool::new(false),
        }
    }

    /// Keeps receipts under `path` instead (every user of the queue may use its own).
    pub fn with_receipts_path(mut self, path: &str) -> Queue {
        self.receipts = path.to_string();
        self
    }

    /// The queue's path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Appends an item.
    pub async fn put(&self, item: &[u8]) -> Result<()> {
        self.put_items(&[item], DEFAULT_PRIORITY).await
    }

    /// Appends several items at once: all of them or none.
    pub async fn put_all<T: AsRef<[u8]>>(&self, items: &[T]) -> Result<()> {
        let items: Vec<&[u8]> = items.iter().map(AsRef::as_ref).collect();
        self.put_items(&items, DEFAULT_PRIORITY).await
    }

    /// Takes the next item without waiting; `None` when the queue is empty.
    pub async fn get(&self) -> Result<Option<Vec<u8>>> {
        self.ensure().await?;
        loop {
            let next = self.pending.lock().pop_front();
            let name = match next {
                Some(n) => n,
                None => {
                    let names = retry(&self.client, || self.client.get_children(&self.path)).await?;
                    let sorted = sort_entries(names);
                    if sorted.is_empty() {
                        return Ok(None);
                    }
                    *self.pending.lock() = sorted;
                    continue;
                }
            };
            if let Some(item) = self.try_take(&name).await? {
                return Ok(Some(item));
            }
        }
    }

    /// Takes the next item, waiting for one as long as it takes.
    pub async fn take(&self) -> Result<Vec<u8>> {
        match self.take_until(None).await? {
            Some(item) => Ok(item),
            None => Err(Error::at(Code::OperationTimeout, self.path.clone())),
        }
    }

    /// Takes the next item, waiting at most `timeout`; `None` if none came.
    pub async fn take_timeout(&self, timeout: Duration) -> Result<Option<Vec<u8>>> {
        self.take_until(Some(Instant::now() + timeout)).await
    }

    /// The number of items (kazoo's `len`).
    pub async fn len(&self) -> Result<usize> {
        self.ensure().await?;
        let names = retry(&self.client, || self.client.get_children(&self.path)).await?;
        Ok(names.iter().filter(|n| parse_entry(n).is_some()).count())
    }

    /// Whether the queue has no items.
    pub async fn is_empty(&self) -> Result<bool> {
        Ok(self.len().await? == 0)
    }

    pub(crate) async fn put_items(&self, items: &[&[u8]], priority: u16) -> Result<()> {
        let name = join(&self.path, &entry_prefix(priority)?);
        self.ensure().await?;
        let receipt = format!("{}/put-{}", self.receipts, uuid());
        let seq = CreateOptions::mode(CreateMode::PersistentSequential);
        self.commit(&receipt, |t| items.iter().fold(t, |t, item| t.create(&name, item, &seq))).await
    }

    pub(crate) async fn take_until(&self, deadline: Option<Instant>) -> Result<Option<Vec<u8>>> {
        let mut states = self.client.state_changes();
        loop {
            if let Some(item) = self.get().await? {
                return Ok(Some(item));
            }
            let (names, _, watch) = retry(&self.client, || self.client.get_children_w(&self.path)).await?;
            if names.iter().any(|n| parse_entry(n).is_some()) {
                continue;
            }
            let sleep = async {
                match deadline {
                    Some(d) => tokio::time::sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = watch => {}
                st = states.recv() => {
                    if matches!(st, Ok(State::Closed)) {
                        return Err(Error::new(Code::ConnectionLoss));
                    }
                }
                _ = sleep => return Ok(None),
            }
        }
    }

    /// Consumes the item `name` if it is still there; `None` if another consumer took it.
    async fn try_take(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let entry = join(&self.path, name);
        let receipt = format!("{}/{}-{name}", self.receipts, self.id);
        loop {
            let (data, stat) = match retry(&self.client, || self.client.get_data(&entry)).await {
                Ok(x) => x,
                Err(e) if e.code == Code::NoNode => return Ok(None),
                Err(e) => return Err(e),
            };
            match self.commit(&receipt, |t| t.delete(&entry, Some(stat.version))).await {
                Ok(()) => return Ok(Some(data)),
                Err(e) if e.code == Code::NoNode && e.path.as_deref() == Some(entry.as_str()) => return Ok(None),
                // Its data changed under us: read it again.
                Err(e) if e.code == Code::BadVersion => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// [`commit_with_receipt`], creating the receipt folder again if it went missing.
    async fn commit(&self, receipt: &str, build: impl Fn(Transaction) -> Transaction) -> Result<()> {
        loop {
            match commit_with_receipt(&self.client, receipt, &build).await {
                Err(e) if e.code == Code::NoNode && e.path.as_deref() == Some(receipt) => {
                    retry(&self.client, || self.client.ensure_path(&self.receipts)).await?;
                }
                other => return other,
            }
        }
    }

    async fn ensure(&self) -> Result<()> {
        if !self.ensured.load(Ordering::Relaxed) {
            retry(&self.client, || self.client.ensure_path(&self.path)).await?;
            retry(&self.client, || self.client.ensure_path(&self.receipts)).await?;
            self.ensured.store(true, Ordering::Relaxed);
        }
        Ok(())
    }
}

/// kazoo's `PriorityQueue` semantics (kazoo's `Queue.put(value, priority)`):
/// a [`Queue`] whose items carry a priority 0–999 in their name; lower
/// priorities are taken first, FIFO within one priority.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::queue::PriorityQueue;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let queue = PriorityQueue::new(&client, "/tasks");
/// queue.put(b"routine", 500).await?;
/// queue.put(b"urgent", 1).await?;
/// queue.put(b"routine too", 500).await?;
/// assert_eq!(queue.get().await?, Some(b"urgent".to_vec()));
/// assert_eq!(queue.get().await?, Some(b"routine".to_vec()));
/// assert_eq!(queue.get().await?, Some(b"routine too".to_vec()));
/// # Ok(())
/// # }
/// ```
pub struct PriorityQueue {
    queue: Queue,
}

impl PriorityQueue {
    /// A priority queue at `path`, receipts under `<path>-receipts`.
    pub fn new(client: &Client, path: &str) -> PriorityQueue {
        PriorityQueue { queue: Queue::new(client, path) }
    }

    /// Keeps receipts under `path` instead.
    pub fn with_receipts_path(self, path: &str) -> PriorityQueue {
        PriorityQueue { queue: self.queue.with_receipts_path(path) }
    }

    /// Adds an item with `priority` (0 is taken first; at most [`PRIORITY_MAX`], else BadArguments).
    pub async fn put(&self, item: &[u8], priority: u16) -> Result<()> {
        self.queue.put_items(&[item], priority).await
    }

    /// Adds several items with one priority: all of them or none.
    pub async fn put_all<T: AsRef<[u8]>>(&self, items: &[T], priority: u16) -> Result<()> {
        let items: Vec<&[u8]> = items.iter().map(AsRef::as_ref).collect();
        self.queue.put_items(&items, priority).await
    }

    /// Takes the most urgent item without waiting; `None` when empty.
    ///
    /// Like kazoo, a consumer works through the items it listed before
    /// listing again, so an item put with a lower priority meanwhile is
    /// taken after those.
    pub async fn get(&self) -> Result<Option<Vec<u8>>> {
        self.queue.get().await
    }

    /// Takes the most urgent item, waiting as long as it takes.
    pub async fn take(&self) -> Result<Vec<u8>> {
        self.queue.take().await
    }

    /// Takes the most urgent item, waiting at most `timeout`.
    pub async fn take_timeout(&self, timeout: Duration) -> Result<Option<Vec<u8>>> {
        self.queue.take_timeout(timeout).await
    }

    /// The number of items.
    pub async fn len(&self) -> Result<usize> {
        self.queue.len().await
    }

    /// Whether the queue has no items.
    pub async fn is_empty(&self) -> Result<bool> {
        self.queue.is_empty().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_priority_then_sequence() {
        assert_eq!(parse_entry("entry-100-0000000042"), Some((100, 42)));
        assert_eq!(parse_entry("entry-10-0000000042"), None);
        assert_eq!(parse_entry("other"), None);
        let names =
            ["entry-100-0000000003", "entry-005-0000000009", "junk", "entry-100-0000000001", "entry-005-0000000010"];
        let sorted: Vec<String> = sort_entries(names.iter().map(|s| s.to_string()).collect()).into();
        assert_eq!(
            sorted,
            ["entry-005-0000000009", "entry-005-0000000010", "entry-100-0000000001", "entry-100-0000000003"]
        );
        assert_eq!(entry_prefix(7).ok().as_deref(), Some("entry-007-"));
        assert_eq!(entry_prefix(1000).map_err(|e| e.code), Err(Code::BadArguments));
    }
}
