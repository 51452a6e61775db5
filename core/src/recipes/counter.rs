//! Shared counters: [`Counter`] (kazoo's, the value as text) and
//! [`SharedCount`] (Apache Curator's, a 4-byte integer whose changes every
//! holder sees).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::broadcast;

use super::atomic_long::backoff;
use super::cache_core::{CacheConfig, CacheCore};
use super::tree_cache::{TreeCacheEvent, CACHE_EVENTS_MAX};
use super::util::{create_if_missing, retry};
use crate::client::{Client, CreateOptions, Error, Result};
use crate::proto::{Code, Stat};

/// Attempts of a [`Counter`] change before it gives up with BadVersion.
pub const COUNTER_ATTEMPTS_MAX: u32 = 1000;

/// The values before and after a [`Counter`] change (kazoo's
/// `pre_value` / `post_value`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterChange {
    /// The value the change was applied to.
    pub pre_value: i64,
    /// The value the change wrote.
    pub post_value: i64,
}

/// How a [`Counter`] stores its value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CounterEncoding {
    /// Decimal text, as kazoo's `Counter` writes it (Python's `repr`).
    #[default]
    Text,
    /// 4 big-endian bytes, as Curator's `SharedCount` (kazoo's
    /// `Counter(support_curator=True)`): values outside i32 are refused
    /// with BadArguments.
    Curator,
}

/// kazoo's `Counter` (integer values): the value is stored as decimal text
/// (Python's `repr`), or as Curator's 4 bytes with [`Counter::with_encoding`];
/// empty data reads as the default. Each change reads the value and writes
/// the sum conditioned on the version it read, retrying on conflict, so
/// concurrent changes all count. [`FloatCounter`] is kazoo's float counter.
///
/// A write whose reply a lost connection swallowed is not retried (it may
/// have applied): the error is returned and the outcome is unknown.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::counter::Counter;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let visits = Counter::new(&client, "/counters/visits");
/// visits.add(2).await?;
/// let change = visits.subtract(1).await?;
/// assert_eq!((change.pre_value, change.post_value), (2, 1));
/// assert_eq!(visits.value().await?, 1);
/// assert_eq!(client.get_data("/counters/visits").await?.0, b"1");
/// # Ok(())
/// # }
/// ```
pub struct Counter {
    cell: Cell,
    default: i64,
    encoding: CounterEncoding,
}

impl Counter {
    /// A counter at `path` (created empty on first use) with default 0.
    pub fn new(client: &Client, path: &str) -> Counter {
        Counter { cell: Cell::new(client, path), default: 0, encoding: CounterEncoding::Text }
    }

    /// Uses `default` as the value of an empty node.
    pub fn with_default(mut self, default: i64) -> Counter {
        self.default = default;
        self.cell.initial = self.initial_data();
        self
    }

    /// Stores the value as `encoding` (every process sharing the counter must agree).
    pub fn with_encoding(mut self, encoding: CounterEncoding) -> Counter {
        self.encoding = encoding;
        self.cell.initial = self.initial_data();
        self
    }

    /// The data of a node this counter creates: empty as kazoo leaves it, or,
    /// in Curator's encoding, the default as Curator's `SharedCount` seeds it
    /// (Curator cannot read an empty node).
    fn initial_data(&self) -> Vec<u8> {
        match self.encoding {
            CounterEncoding::Text => Vec::new(),
            CounterEncoding::Curator => self.encode(self.default).unwrap_or_default(),
        }
    }

    /// The current value.
    pub async fn value(&self) -> Result<i64> {
        let (data, _) = self.cell.read().await?;
        self.decode(&data)
    }

    /// Adds `delta` atomically.
    pub async fn add(&self, delta: i64) -> Result<CounterChange> {
        let (pre_value, post_value) =
            self.cell.update(|data| self.decode(data), |v| v.wrapping_add(delta), |v| self.encode(v)).await?;
        Ok(CounterChange { pre_value, post_value })
    }

    /// Subtracts `delta` atomically.
    pub async fn subtract(&self, delta: i64) -> Result<CounterChange> {
        self.add(delta.wrapping_neg()).await
    }

    fn decode(&self, data: &[u8]) -> Result<i64> {
        if data.is_empty() {
            return Ok(self.default);
        }
        let value = match self.encoding {
            CounterEncoding::Text => std::str::from_utf8(data).ok().and_then(|s| s.trim().parse::<i64>().ok()),
            CounterEncoding::Curator => decode_count(data).map(i64::from),
        };
        value.ok_or_else(|| Error::at(Code::MarshallingError, self.cell.path.clone()))
    }

    fn encode(&self, value: i64) -> Result<Vec<u8>> {
        match self.encoding {
            CounterEncoding::Text => Ok(value.to_string().into_bytes()),
            CounterEncoding::Curator => i32::try_from(value)
                .map(|v| v.to_be_bytes().to_vec())
                .map_err(|_| Error::at(Code::BadArguments, self.cell.path.clone())),
        }
    }
}

/// kazoo's `Counter` with a float default: the value is stored as text
/// (`repr(float)` reads it back, and this reads Python's `repr`), changed
/// atomically as [`Counter`] is.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::counter::FloatCounter;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let load = FloatCounter::new(&client, "/counters/load").with_default(1.5);
/// assert_eq!(load.add(0.25).await?, (1.5, 1.75));
/// assert_eq!(client.get_data("/counters/load").await?.0, b"1.75");
/// # Ok(())
/// # }
/// ```
pub struct FloatCounter {
    cell: Cell,
    default: f64,
}

impl FloatCounter {
    /// A float counter at `path` (created empty on first use) with default 0.0.
    pub fn new(client: &Client, path: &str) -> FloatCounter {
        FloatCounter { cell: Cell::new(client, path), default: 0.0 }
    }

    /// Uses `default` as the value of an empty node.
    pub fn with_default(mut self, default: f64) -> FloatCounter {
        self.default = default;
        self
    }

    /// The current value.
    pub async fn value(&self) -> Result<f64> {
        let (data, _) = self.cell.read().await?;
        self.decode(&data)
    }

    /// Adds `delta` atomically; returns the values before and after.
    pub async fn add(&self, delta: f64) -> Result<(f64, f64)> {
        self.cell.update(|data| self.decode(data), |v| v + delta, |v| Ok(format!("{v:?}").into_bytes())).await
    }

    fn decode(&self, data: &[u8]) -> Result<f64> {
        if data.is_empty() {
            return Ok(self.default);
        }
        std::str::from_utf8(data)
            .ok()
            .and_then(|s| s.trim().parse::<f64>().ok())
            .ok_or_else(|| Error::at(Code::MarshallingError, self.cell.path.clone()))
    }
}

/// The node of a counter, and its read-modify-write loop.
struct Cell {
    client: Client,
    path: String,
    /// The data of the node when this cell creates it.
    initial: Vec<u8>,
    /// Whether the node is known to exist.
    ensured: AtomicBool,
}

impl Cell {
    fn new(client: &Client, path: &str) -> Cell {
        Cell { client: client.clone(), path: path.to_string(), initial: Vec::new(), ensured: AtomicBool::new(false) }
    }

    /// Creates the node (and its parents) if missing.
    async fn ensure(&self) -> Result<()> {
        if self.initial.is_empty() {
            return retry(&self.client, || self.client.ensure_path(&self.path)).await;
        }
        create_if_missing(&self.client, &self.path, &self.initial, &CreateOptions::default()).await
    }

    async fn read(&self) -> Result<(Vec<u8>, i32)> {
        if !self.ensured.load(Ordering::Relaxed) {
            self.ensure().await?;
            self.ensured.store(true, Ordering::Relaxed);
        }
        let (data, stat) = retry(&self.client, || self.client.get_data(&self.path)).await?;
        Ok((data, stat.version))
    }

    /// Reads, steps and writes the value conditioned on the version read,
    /// again on conflict; returns the values before and after.
    async fn update<V: Copy>(
        &self,
        decode: impl Fn(&[u8]) -> Result<V>,
        step: impl Fn(V) -> V,
        encode: impl Fn(V) -> Result<Vec<u8>>,
    ) -> Result<(V, V)> {
        for attempt in 1..=COUNTER_ATTEMPTS_MAX {
            if attempt > 1 {
                backoff(attempt).await;
            }
            let (data, version) = self.read().await?;
            let pre = decode(&data)?;
            let post = step(pre);
            match self.client.set_data(&self.path, &encode(post)?, Some(version)).await {
                Ok(_) => return Ok((pre, post)),
                Err(e) if e.code == Code::BadVersion => {}
                Err(e) if e.code == Code::NoNode => self.ensured.store(false, Ordering::Relaxed),
                Err(e) => return Err(e),
            }
        }
        Err(Error::at(Code::BadVersion, self.path.clone()))
    }
}

/// A value together with the node version it was read at (Curator's `VersionedValue`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VersionedValue {
    /// The node's data version (-1 before anything was read).
    pub version: i32,
    /// The count.
    pub value: i32,
}

/// Apache Curator's `SharedCount`: an integer every holder sees, stored as
/// 4 big-endian bytes (kazoo's `Counter(support_curator=True)` reads the
/// same). [`SharedCount::start`] creates the node with the seed value if
/// missing and keeps the local copy live with a watch; [`SharedCount::changes`]
/// yields every new value seen (Curator's `SharedCountListener`; changes in
/// quick succession may be coalesced). [`SharedCount::try_set_count`] sets
/// a new value only if nobody changed it since the version given.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::counter::SharedCount;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let count = SharedCount::new(&client, "/limits/max-workers", 4);
/// count.start().await?;
/// assert_eq!(count.get_count(), 4);
///
/// let seen = count.get_versioned_value();
/// assert!(count.try_set_count(seen, 8).await?);
/// assert!(!count.try_set_count(seen, 16).await?, "stale version");
/// assert_eq!(count.get_count(), 8);
/// # Ok(())
/// # }
/// ```
pub struct SharedCount {
    client: Client,
    path: String,
    seed: i32,
    /// The newest value seen, by the watch or by our own writes.
    current: Arc<Mutex<VersionedValue>>,
    changes: broadcast::Sender<i32>,
    core: CacheCore,
}

/// The count in `data`: 4 big-endian bytes.
fn decode_count(data: &[u8]) -> Option<i32> {
    let b: [u8; 4] = data.try_into().ok()?;
    Some(i32::from_be_bytes(b))
}

/// Takes `seen` as the current value if it is newer; announces it then.
fn observe(current: &Mutex<VersionedValue>, changes: &broadcast::Sender<i32>, seen: VersionedValue) {
    let mut cur = current.lock();
    if seen.version > cur.version {
        let changed = seen.value != cur.value || cur.version < 0;
        *cur = seen;
        if changed {
            let _ = changes.send(seen.value);
        }
    }
}

impl SharedCount {
    /// A shared count at `path`, created with `seed` by [`SharedCount::start`] if missing.
    pub fn new(client: &Client, path: &str, seed: i32) -> SharedCount {
        let (changes, _) = broadcast::channel(CACHE_EVENTS_MAX);
        SharedCount {
            client: client.clone(),
            path: path.to_string(),
            seed,
            current: Arc::new(Mutex::new(VersionedValue { version: -1, value: seed })),
            changes,
            core: CacheCore::default(),
        }
    }

    /// Creates the node if missing, reads the count and keeps following it.
    pub async fn start(&self) -> Result<()> {
        create_if_missing(&self.client, &self.path, &self.seed.to_be_bytes(), &CreateOptions::default()).await?;
        let current = self.current.clone();
        let changes = self.changes.clone();
        let path = self.path.clone();
        let cfg = CacheConfig { path: self.path.clone(), max_depth: 0, recursive: false };
        self.core
            .start(
                &self.client,
                cfg,
                Box::new(move |ev| {
                    if let TreeCacheEvent::NodeAdded(d) | TreeCacheEvent::NodeUpdated(d) = ev {
                        match decode_count(&d.data) {
                            Some(value) => {
                                observe(&current, &changes, VersionedValue { version: d.stat.version, value })
                            }
                            None => tracing::warn!(path = %path, "shared count holds {} bytes, not 4", d.data.len()),
                        }
                    }
                }),
            )
            .await
    }

    /// The count as last seen.
    pub fn get_count(&self) -> i32 {
        self.current.lock().value
    }

    /// The count as last seen, with its version (for [`SharedCount::try_set_count`]).
    pub fn get_versioned_value(&self) -> VersionedValue {
        *self.current.lock()
    }

    /// Every new count seen from now on.
    pub fn changes(&self) -> broadcast::Receiver<i32> {
        self.changes.subscribe()
    }

    /// Sets the count unconditionally.
    pub async fn set_count(&self, value: i32) -> Result<()> {
        let bytes = value.to_be_bytes();
        let stat = retry(&self.client, || self.client.set_data(&self.path, &bytes, None)).await?;
        self.wrote(&stat, value);
        Ok(())
    }

    /// Sets the count if it is still at `previous.version`; `false` if
    /// someone changed it since.
    pub async fn try_set_count(&self, previous: VersionedValue, value: i32) -> Result<bool> {
        match self.client.set_data(&self.path, &value.to_be_bytes(), Some(previous.version)).await {
            Ok(stat) => {
                self.wrote(&stat, value);
                Ok(true)
            }
            Err(e) if matches!(e.code, Code::BadVersion | Code::NoNode) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Stops following the count (also done on drop).
    pub fn close(&self) {
        self.core.close();
    }

    fn wrote(&self, stat: &Stat, value: i32) {
        observe(&self.current, &self.changes, VersionedValue { version: stat.version, value });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newer_versions_only_and_announced_once() {
        let cur = Mutex::new(VersionedValue { version: -1, value: 3 });
        let (tx, mut rx) = broadcast::channel(8);
        observe(&cur, &tx, VersionedValue { version: 0, value: 3 });
        observe(&cur, &tx, VersionedValue { version: 2, value: 9 });
        observe(&cur, &tx, VersionedValue { version: 1, value: 5 });
        observe(&cur, &tx, VersionedValue { version: 2, value: 9 });
        assert_eq!(*cur.lock(), VersionedValue { version: 2, value: 9 });
        assert_eq!((rx.try_recv().ok(), rx.try_recv().ok(), rx.try_recv().ok()), (Some(3), Some(9), None));
        assert_eq!(decode_count(&7i32.to_be_bytes()), Some(7));
        assert_eq!(decode_count(&[1, 2]), None);
    }
}
