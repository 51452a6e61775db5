//! Core's recipes for the blocking client (`corral._corral.recipes`): each
//! class owns one core recipe value and waits on it with the GIL released.
//! The package's `corral.recipes` gives them kazoo's shape.

use std::sync::Arc;

use corral::recipes::barrier::Barrier as CoreBarrier;
use corral::recipes::counter::Counter as CoreCounter;
use corral::recipes::leader_latch::LeaderLatch as CoreLeaderLatch;
use corral::recipes::lock::{Lock as CoreLock, LockState};
use corral::recipes::queue::Queue as CoreQueue;
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::Mutex;

use crate::client::{seconds, SyncClient};
use crate::runtime::block_on;

fn lock_state(s: LockState) -> &'static str {
    match s {
        LockState::Released => "RELEASED",
        LockState::Held => "HELD",
        LockState::Suspended => "SUSPENDED",
        LockState::Lost => "LOST",
    }
}

/// A re-entrant distributed mutex with kazoo's node naming.
#[pyclass(module = "corral._corral", frozen)]
pub struct Lock {
    lock: Arc<Mutex<CoreLock>>,
}

#[pymethods]
impl Lock {
    #[new]
    fn new(client: &SyncClient, path: &str, identifier: &str) -> Lock {
        Lock {
            lock: Arc::new(Mutex::new(CoreLock::kazoo(&client.client, path, identifier))),
        }
    }

    /// Waits for the lock (at most `timeout` seconds); True once held.
    #[pyo3(signature = (timeout=None))]
    fn acquire(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let lock = self.lock.clone();
        match timeout {
            None => block_on(py, async move { lock.lock().await.acquire().await.map(|()| true) }),
            Some(t) => {
                let t = seconds(t)?;
                block_on(py, async move { lock.lock().await.acquire_timeout(t).await })
            }
        }
    }

    /// Takes the lock only if nobody holds or waits for it.
    fn try_acquire(&self, py: Python<'_>) -> PyResult<bool> {
        let lock = self.lock.clone();
        block_on(py, async move { lock.lock().await.try_acquire().await })
    }

    /// Undoes one acquisition.
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        let lock = self.lock.clone();
        block_on(py, async move { lock.lock().await.release().await })
    }

    /// RELEASED, HELD, SUSPENDED or LOST.
    fn state(&self, py: Python<'_>) -> &'static str {
        py.detach(|| lock_state(self.lock.blocking_lock().state()))
    }

    /// The czxid of the held lock node (grows from one holder to the next).
    fn fencing_token(&self, py: Python<'_>) -> Option<i64> {
        py.detach(|| self.lock.blocking_lock().fencing_token())
    }

    /// The full paths of every contender, in line order.
    fn contenders(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let lock = self.lock.clone();
        block_on(py, async move { lock.lock().await.participant_nodes().await })
    }
}

/// kazoo's integer Counter.
#[pyclass(module = "corral._corral", frozen)]
pub struct Counter {
    counter: Arc<CoreCounter>,
}

#[pymethods]
impl Counter {
    #[new]
    fn new(client: &SyncClient, path: &str, default: i64) -> Counter {
        Counter {
            counter: Arc::new(CoreCounter::new(&client.client, path).with_default(default)),
        }
    }

    fn value(&self, py: Python<'_>) -> PyResult<i64> {
        let c = self.counter.clone();
        block_on(py, async move { c.value().await })
    }

    /// Adds `delta`; returns `(pre_value, post_value)`.
    fn add(&self, py: Python<'_>, delta: i64) -> PyResult<(i64, i64)> {
        let c = self.counter.clone();
        block_on(
            py,
            async move { c.add(delta).await.map(|ch| (ch.pre_value, ch.post_value)) },
        )
    }
}

/// A barrier node: up while it exists.
#[pyclass(module = "corral._corral", frozen)]
pub struct Barrier {
    barrier: Arc<CoreBarrier>,
}

#[pymethods]
impl Barrier {
    #[new]
    fn new(client: &SyncClient, path: &str) -> Barrier {
        Barrier {
            barrier: Arc::new(CoreBarrier::new(&client.client, path)),
        }
    }

    fn set(&self, py: Python<'_>) -> PyResult<()> {
        let b = self.barrier.clone();
        block_on(py, async move { b.set().await })
    }

    fn remove(&self, py: Python<'_>) -> PyResult<()> {
        let b = self.barrier.clone();
        block_on(py, async move { b.remove().await })
    }

    /// True once the barrier is down; False after `timeout` seconds.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = timeout.map(seconds).transpose()?;
        let b = self.barrier.clone();
        block_on(py, async move { b.wait(t).await })
    }
}

/// kazoo's LockingQueue-free Queue: items consumed once, in order.
#[pyclass(module = "corral._corral", frozen)]
pub struct Queue {
    queue: Arc<CoreQueue>,
}

#[pymethods]
impl Queue {
    #[new]
    fn new(client: &SyncClient, path: &str) -> Queue {
        Queue {
            queue: Arc::new(CoreQueue::new(&client.client, path)),
        }
    }

    fn put(&self, py: Python<'_>, item: Vec<u8>) -> PyResult<()> {
        let q = self.queue.clone();
        block_on(py, async move { q.put(&item).await })
    }

    fn put_all(&self, py: Python<'_>, items: Vec<Vec<u8>>) -> PyResult<()> {
        let q = self.queue.clone();
        block_on(py, async move { q.put_all(&items).await })
    }

    /// The next item, or None when the queue is empty.
    fn get<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let q = self.queue.clone();
        let item = block_on(py, async move { q.get().await })?;
        Ok(item.map(|d| PyBytes::new(py, &d)))
    }

    /// The next item, waiting for one (at most `timeout` seconds: then None).
    #[pyo3(signature = (timeout=None))]
    fn take<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let q = self.queue.clone();
        let item = match timeout {
            None => block_on(py, async move { q.take().await.map(Some) })?,
            Some(t) => {
                let t = seconds(t)?;
                block_on(py, async move { q.take_timeout(t).await })?
            }
        };
        Ok(item.map(|d| PyBytes::new(py, &d)))
    }

    fn len(&self, py: Python<'_>) -> PyResult<usize> {
        let q = self.queue.clone();
        block_on(py, async move { q.len().await })
    }
}

/// Curator's LeaderLatch: one participant among many is the leader.
#[pyclass(module = "corral._corral", frozen)]
pub struct LeaderLatch {
    latch: Arc<Mutex<Option<CoreLeaderLatch>>>,
}

#[pymethods]
impl LeaderLatch {
    #[new]
    fn new(client: &SyncClient, path: &str, id: &str) -> LeaderLatch {
        LeaderLatch {
            latch: Arc::new(Mutex::new(Some(CoreLeaderLatch::new(&client.client, path, id)))),
        }
    }

    fn start(&self, py: Python<'_>) -> PyResult<()> {
        let l = self.latch.clone();
        block_on(py, async move {
            match l.lock().await.as_mut() {
                Some(latch) => latch.start().await,
                None => Ok(()),
            }
        })
    }

    fn has_leadership(&self, py: Python<'_>) -> bool {
        py.detach(|| self.latch.blocking_lock().as_ref().is_some_and(|l| l.has_leadership()))
    }

    /// True once leader; False after `timeout` seconds (or when closed).
    #[pyo3(signature = (timeout=None))]
    fn await_leadership(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = timeout.map(seconds).transpose()?;
        // Waits on a leadership receiver, not the latch, so close() is not blocked.
        let mut rx = match py.detach(|| self.latch.blocking_lock().as_ref().map(|l| l.leadership_changes())) {
            Some(rx) => rx,
            None => return Ok(false),
        };
        block_on(py, async move {
            let wait = rx.wait_for(|leader| *leader);
            let leader = match t {
                None => wait.await.is_ok(),
                Some(t) => matches!(tokio::time::timeout(t, wait).await, Ok(Ok(_))),
            };
            Ok::<bool, std::convert::Infallible>(leader)
        })
    }

    /// Leaves the latch (its node is deleted).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let l = self.latch.clone();
        block_on(py, async move {
            match l.lock().await.take() {
                Some(latch) => latch.close().await,
                None => Ok(()),
            }
        })
    }
}

/// Registers the recipe classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Lock>()?;
    m.add_class::<Counter>()?;
    m.add_class::<Barrier>()?;
    m.add_class::<Queue>()?;
    m.add_class::<LeaderLatch>()?;
    Ok(())
}
