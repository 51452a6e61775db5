//! `Queue` (core's `queue::PriorityQueue`: kazoo's Queue, priorities
//! included) and `LockingQueue` (core's `locking_queue::LockingQueue`).

use std::sync::Arc;

use corral::client::Result;
use corral::recipes::locking_queue::LockingQueue as CoreLockingQueue;
use corral::recipes::queue::PriorityQueue as CorePriorityQueue;
use pyo3::prelude::*;

use super::{core_client, duration, into, opt_bytes};
use crate::runtime::{awaitable_py, block_on};

/// kazoo's Queue: items consumed once, most urgent priority first, then in order.
#[pyclass(module = "corral._corral", frozen)]
pub struct Queue {
    queue: Arc<CorePriorityQueue>,
}

impl Queue {
    async fn take_item(queue: Arc<CorePriorityQueue>, timeout: Option<std::time::Duration>) -> Result<Option<Vec<u8>>> {
        match timeout {
            None => queue.take().await.map(Some),
            Some(t) => queue.take_timeout(t).await,
        }
    }
}

#[pymethods]
impl Queue {
    #[new]
    fn new(client: &Bound<'_, PyAny>, path: &str) -> PyResult<Queue> {
        Ok(Queue { queue: Arc::new(CorePriorityQueue::new(&core_client(client)?, path)) })
    }

    /// Adds an item (priority 0-999, lower first).
    fn put(&self, py: Python<'_>, item: Vec<u8>, priority: u16) -> PyResult<()> {
        let q = self.queue.clone();
        block_on(py, async move { q.put(&item, priority).await })
    }

    /// `put` as an awaitable.
    fn put_async<'py>(&self, py: Python<'py>, item: Vec<u8>, priority: u16) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.put(&item, priority).await }, |py, ()| Ok(py.None()))
    }

    /// Adds items with one priority, all or none.
    fn put_all(&self, py: Python<'_>, items: Vec<Vec<u8>>, priority: u16) -> PyResult<()> {
        let q = self.queue.clone();
        block_on(py, async move { q.put_all(&items, priority).await })
    }

    /// `put_all` as an awaitable.
    fn put_all_async<'py>(&self, py: Python<'py>, items: Vec<Vec<u8>>, priority: u16) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.put_all(&items, priority).await }, |py, ()| Ok(py.None()))
    }

    /// The next item, or None when the queue is empty.
    fn get(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let q = self.queue.clone();
        let item = block_on(py, async move { q.get().await })?;
        opt_bytes(py, item)
    }

    /// `get` as an awaitable.
    fn get_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.get().await }, |py, v| opt_bytes(py, v))
    }

    /// The next item, waiting for one (at most `timeout` seconds: then None).
    #[pyo3(signature = (timeout=None))]
    fn take(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let t = duration(timeout)?;
        let item = block_on(py, Queue::take_item(self.queue.clone(), t))?;
        opt_bytes(py, item)
    }

    /// `take` as an awaitable.
    #[pyo3(signature = (timeout=None))]
    fn take_async<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let t = duration(timeout)?;
        awaitable_py(py, Queue::take_item(self.queue.clone(), t), |py, v| opt_bytes(py, v))
    }

    /// The number of items.
    fn len(&self, py: Python<'_>) -> PyResult<usize> {
        let q = self.queue.clone();
        block_on(py, async move { q.len().await })
    }

    /// `len` as an awaitable.
    fn len_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.len().await }, |py, v| into(py, v))
    }
}

/// kazoo's LockingQueue: an item stays queued, locked, until its consumer
/// consumes or releases it (or its session ends).
#[pyclass(module = "corral._corral", frozen)]
pub struct LockingQueue {
    queue: Arc<CoreLockingQueue>,
}

#[pymethods]
impl LockingQueue {
    #[new]
    fn new(client: &Bound<'_, PyAny>, path: &str) -> PyResult<LockingQueue> {
        Ok(LockingQueue { queue: Arc::new(CoreLockingQueue::new(&core_client(client)?, path)) })
    }

    /// Adds an item (priority 0-999, lower first).
    fn put(&self, py: Python<'_>, item: Vec<u8>, priority: u16) -> PyResult<()> {
        let q = self.queue.clone();
        block_on(py, async move { q.put(&item, priority).await })
    }

    /// `put` as an awaitable.
    fn put_async<'py>(&self, py: Python<'py>, item: Vec<u8>, priority: u16) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.put(&item, priority).await }, |py, ()| Ok(py.None()))
    }

    /// Adds items with one priority, all or none.
    fn put_all(&self, py: Python<'_>, items: Vec<Vec<u8>>, priority: u16) -> PyResult<()> {
        let q = self.queue.clone();
        block_on(py, async move { q.put_all(&items, priority).await })
    }

    /// `put_all` as an awaitable.
    fn put_all_async<'py>(&self, py: Python<'py>, items: Vec<Vec<u8>>, priority: u16) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.put_all(&items, priority).await }, |py, ()| Ok(py.None()))
    }

    /// Locks and returns the next item, waiting at most `timeout` seconds
    /// (None: as long as it takes); None if none came. The held item again
    /// while it is neither consumed nor released.
    #[pyo3(signature = (timeout=None))]
    fn get(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Py<PyAny>> {
        let t = duration(timeout)?;
        let q = self.queue.clone();
        let item = block_on(py, async move { q.get(t).await })?;
        opt_bytes(py, item)
    }

    /// `get` as an awaitable.
    #[pyo3(signature = (timeout=None))]
    fn get_async<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let t = duration(timeout)?;
        let q = self.queue.clone();
        awaitable_py(py, async move { q.get(t).await }, |py, v| opt_bytes(py, v))
    }

    /// Whether this consumer still holds the lock of its item.
    fn holds_lock(&self, py: Python<'_>) -> PyResult<bool> {
        let q = self.queue.clone();
        block_on(py, async move { q.holds_lock().await })
    }

    /// `holds_lock` as an awaitable.
    fn holds_lock_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.holds_lock().await }, |py, v| into(py, v))
    }

    /// Removes the held item from the queue; False when there is none or its lock was lost.
    fn consume(&self, py: Python<'_>) -> PyResult<bool> {
        let q = self.queue.clone();
        block_on(py, async move { q.consume().await })
    }

    /// `consume` as an awaitable.
    fn consume_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.consume().await }, |py, v| into(py, v))
    }

    /// Unlocks the held item for another consumer; False when there is none or its lock was lost.
    fn release(&self, py: Python<'_>) -> PyResult<bool> {
        let q = self.queue.clone();
        block_on(py, async move { q.release().await })
    }

    /// `release` as an awaitable.
    fn release_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.release().await }, |py, v| into(py, v))
    }

    /// The number of items, locked ones included.
    fn len(&self, py: Python<'_>) -> PyResult<usize> {
        let q = self.queue.clone();
        block_on(py, async move { q.len().await })
    }

    /// `len` as an awaitable.
    fn len_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let q = self.queue.clone();
        awaitable_py(py, async move { q.len().await }, |py, v| into(py, v))
    }
}
