//! DistributedAtomicLong (Apache Curator's): a 64-bit counter updated by
//! optimistic compare-and-set on the node's version.

use std::time::Duration;

use super::barrier::parent_of;
use super::util::retry;
use crate::client::{Client, CreateOptions, Error, Result};
use crate::proto::Code;

/// Attempts of an optimistic update before it reports failure (Curator
/// takes a RetryPolicy; this is the number of tries).
pub const ATTEMPTS_DEFAULT: u32 = 100;
/// The longest pause between two attempts (each pause is random, growing
/// with the attempt number up to this).
const BACKOFF_MAX: Duration = Duration::from_millis(20);

/// The outcome of an atomic operation (Curator's `AtomicValue`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AtomicValue<T> {
    /// Whether the operation was applied. Always check it: an optimistic
    /// update gives up after its attempts, a compare-and-set fails on a mismatch.
    pub succeeded: bool,
    /// The value before the operation (the value seen last when it failed).
    pub pre_value: T,
    /// The value after the operation (`pre_value` when it failed).
    pub post_value: T,
}

/// A random pause before attempt `attempt` (1-based) of an optimistic update.
pub(crate) async fn backoff(attempt: u32) {
    let cap = BACKOFF_MAX.as_micros().min(u128::from(attempt) * 1000) as u64;
    let pause = rand::random::<u64>() % (cap + 1);
    tokio::time::sleep(Duration::from_micros(pause)).await;
}

/// Apache Curator's `DistributedAtomicLong`: a counter in the node at a path,
/// its value as 8 big-endian bytes (a missing or empty node reads as 0).
/// Every update reads the value and writes the new one conditioned on the
/// version it read, retrying on conflict up to a number of attempts, and
/// reports an [`AtomicValue`] (`succeeded`, `pre_value`, `post_value`).
///
/// A write whose reply a lost connection swallowed is not retried (it may
/// have applied): the error is returned and the outcome is unknown.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::atomic_long::DistributedAtomicLong;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let hits = DistributedAtomicLong::new(&client, "/stats/hits");
/// let r = hits.increment().await?;
/// assert!(r.succeeded);
/// assert_eq!((r.pre_value, r.post_value), (0, 1));
/// assert_eq!(hits.add(41).await?.post_value, 42);
/// assert!(!hits.compare_and_set(7, 8).await?.succeeded);
/// assert!(hits.compare_and_set(42, 100).await?.succeeded);
/// assert_eq!(hits.get().await?.post_value, 100);
/// # Ok(())
/// # }
/// ```
pub struct DistributedAtomicLong {
    client: Client,
    path: String,
    attempts: u32,
}

/// The value in `data`: 8 big-endian bytes, or 0 for empty data.
fn decode(path: &str, data: &[u8]) -> Result<i64> {
    match data.len() {
        0 => Ok(0),
        8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(data);
            Ok(i64::from_be_bytes(b))
        }
        _ => Err(Error::at(Code::MarshallingError, path)),
    }
}

impl DistributedAtomicLong {
    /// A counter at `path` (created on the first update, parents included).
    pub fn new(client: &Client, path: &str) -> DistributedAtomicLong {
        DistributedAtomicLong { client: client.clone(), path: path.to_string(), attempts: ATTEMPTS_DEFAULT }
    }

    /// Tries optimistic updates at most `attempts` times (at least once).
    pub fn with_attempts(mut self, attempts: u32) -> DistributedAtomicLong {
        self.attempts = attempts.max(1);
        self
    }

    /// The current value (always `succeeded`; 0 if never set).
    pub async fn get(&self) -> Result<AtomicValue<i64>> {
        let v = self.read().await?.map(|(v, _)| v).unwrap_or(0);
        Ok(AtomicValue { succeeded: true, pre_value: v, post_value: v })
    }

    /// Adds 1.
    pub async fn increment(&self) -> Result<AtomicValue<i64>> {
        self.add(1).await
    }

    /// Subtracts 1.
    pub async fn decrement(&self) -> Result<AtomicValue<i64>> {
        self.add(-1).await
    }

    /// Adds `delta` (wrapping on overflow, as Java's long does).
    pub async fn add(&self, delta: i64) -> Result<AtomicValue<i64>> {
        self.update(|v| v.wrapping_add(delta)).await
    }

    /// Subtracts `delta`.
    pub async fn subtract(&self, delta: i64) -> Result<AtomicValue<i64>> {
        self.update(|v| v.wrapping_sub(delta)).await
    }

    /// Sets `new` if the value is `expected` (one attempt; fails when the
    /// node does not exist yet, as in Curator).
    pub async fn compare_and_set(&self, expected: i64, new: i64) -> Result<AtomicValue<i64>> {
        let Some((pre, version)) = self.read().await? else {
            return Ok(AtomicValue { succeeded: false, pre_value: 0, post_value: 0 });
        };
        if pre != expected {
            return Ok(AtomicValue { succeeded: false, pre_value: pre, post_value: pre });
        }
        match self.client.set_data(&self.path, &new.to_be_bytes(), Some(version)).await {
            Ok(_) => Ok(AtomicValue { succeeded: true, pre_value: pre, post_value: new }),
            Err(e) if matches!(e.code, Code::BadVersion | Code::NoNode) => {
                Ok(AtomicValue { succeeded: false, pre_value: pre, post_value: pre })
            }
            Err(e) => Err(e),
        }
    }

    /// Sets `new` whatever the value is, optimistically (Curator's `trySet`).
    pub async fn try_set(&self, new: i64) -> Result<AtomicValue<i64>> {
        self.update(|_| new).await
    }

    /// Sets `new` unconditionally (Curator's `forceSet`).
    pub async fn force_set(&self, new: i64) -> Result<()> {
        let bytes = new.to_be_bytes();
        loop {
            match retry(&self.client, || self.client.set_data(&self.path, &bytes, None)).await {
                Ok(_) => return Ok(()),
                Err(e) if e.code == Code::NoNode => match self.create(new).await? {
                    true => return Ok(()),
                    false => continue,
                },
                Err(e) => return Err(e),
            }
        }
    }

    /// Creates the node with `value` if it does not exist; `false` if it did.
    pub async fn initialize(&self, value: i64) -> Result<bool> {
        self.create(value).await
    }

    /// Value and version, `None` when the node does not exist.
    async fn read(&self) -> Result<Option<(i64, i32)>> {
        match retry(&self.client, || self.client.get_data(&self.path)).await {
            Ok((data, stat)) => Ok(Some((decode(&self.path, &data)?, stat.version))),
            Err(e) if e.code == Code::NoNode => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates the node (and parents) with `value`; `false` if it existed.
    async fn create(&self, value: i64) -> Result<bool> {
        let opts = CreateOptions::default();
        loop {
            match self.client.create(&self.path, &value.to_be_bytes(), &opts).await {
                Ok(_) => return Ok(true),
                Err(e) if e.code == Code::NodeExists => return Ok(false),
                Err(e) if e.code == Code::NoNode => {
                    retry(&self.client, || self.client.ensure_path(parent_of(&self.path))).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Optimistic read-modify-write, up to `attempts` times.
    async fn update(&self, make: impl Fn(i64) -> i64) -> Result<AtomicValue<i64>> {
        let mut pre = 0;
        for attempt in 1..=self.attempts {
            if attempt > 1 {
                backoff(attempt).await;
            }
            let current = self.read().await?;
            pre = current.map(|(v, _)| v).unwrap_or(0);
            let post = make(pre);
            let applied = match current {
                None => self.create(post).await?,
                Some((_, version)) => {
                    match self.client.set_data(&self.path, &post.to_be_bytes(), Some(version)).await {
                        Ok(_) => true,
                        Err(e) if matches!(e.code, Code::BadVersion | Code::NoNode) => false,
                        Err(e) => return Err(e),
                    }
                }
            };
            if applied {
                return Ok(AtomicValue { succeeded: true, pre_value: pre, post_value: post });
            }
        }
        Ok(AtomicValue { succeeded: false, pre_value: pre, post_value: pre })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_eight_big_endian_bytes() {
        assert_eq!(decode("/x", &[]), Ok(0));
        assert_eq!(decode("/x", &(-2i64).to_be_bytes()), Ok(-2));
        assert_eq!(decode("/x", &[0, 0, 1]).map_err(|e| e.code), Err(Code::MarshallingError));
    }
}
