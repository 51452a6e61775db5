//! `Barrier` (core's `barrier::Barrier`) and `DoubleBarrier` (core's
//! `double_barrier::DoubleBarrier`).

use std::sync::Arc;
use std::time::Duration;

use corral::client::Result;
use corral::recipes::barrier::Barrier as CoreBarrier;
use corral::recipes::double_barrier::DoubleBarrier as CoreDoubleBarrier;
use pyo3::prelude::*;

use super::{core_client, duration, into};
use crate::runtime::{awaitable_py, block_on};

/// A barrier node: up while it exists.
#[pyclass(module = "corral._corral", frozen)]
pub struct Barrier {
    barrier: Arc<CoreBarrier>,
}

#[pymethods]
impl Barrier {
    #[new]
    fn new(client: &Bound<'_, PyAny>, path: &str) -> PyResult<Barrier> {
        Ok(Barrier { barrier: Arc::new(CoreBarrier::new(&core_client(client)?, path)) })
    }

    /// Raises the barrier (idempotent).
    fn set(&self, py: Python<'_>) -> PyResult<()> {
        let b = self.barrier.clone();
        block_on(py, async move { b.set().await })
    }

    /// `set` as an awaitable.
    fn set_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let b = self.barrier.clone();
        awaitable_py(py, async move { b.set().await }, |py, ()| Ok(py.None()))
    }

    /// Lowers the barrier: True when this call lowered it, False when it was down.
    fn remove(&self, py: Python<'_>) -> PyResult<bool> {
        let b = self.barrier.clone();
        block_on(py, async move { b.remove().await })
    }

    /// `remove` as an awaitable.
    fn remove_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let b = self.barrier.clone();
        awaitable_py(py, async move { b.remove().await }, |py, v| into(py, v))
    }

    /// True once the barrier is down; False after `timeout` seconds.
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = duration(timeout)?;
        let b = self.barrier.clone();
        block_on(py, async move { b.wait(t).await })
    }

    /// `wait` as an awaitable.
    #[pyo3(signature = (timeout=None))]
    fn wait_async<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let t = duration(timeout)?;
        let b = self.barrier.clone();
        awaitable_py(py, async move { b.wait(t).await }, |py, v| into(py, v))
    }
}

/// Enter or leave, waiting as long as it takes or at most `timeout`.
async fn step(barrier: Arc<CoreDoubleBarrier>, enter: bool, timeout: Option<Duration>) -> Result<bool> {
    match (enter, timeout) {
        (true, None) => barrier.enter().await.map(|()| true),
        (true, Some(t)) => barrier.enter_timeout(t).await,
        (false, None) => barrier.leave().await.map(|()| true),
        (false, Some(t)) => barrier.leave_timeout(t).await,
    }
}

/// A double barrier: enter together, leave together.
#[pyclass(module = "corral._corral", frozen)]
pub struct DoubleBarrier {
    barrier: Arc<CoreDoubleBarrier>,
}

#[pymethods]
impl DoubleBarrier {
    /// A member of the barrier at `path` that opens once `num_clients` members
    /// are in; its node holds `data` (kazoo stores the identifier).
    #[new]
    #[pyo3(signature = (client, path, num_clients, data=b"".as_slice()))]
    fn new(client: &Bound<'_, PyAny>, path: &str, num_clients: usize, data: &[u8]) -> PyResult<DoubleBarrier> {
        let barrier = CoreDoubleBarrier::new(&core_client(client)?, path, num_clients).with_data(data);
        Ok(DoubleBarrier { barrier: Arc::new(barrier) })
    }

    /// This member's node path (kazoo's `create_path`).
    #[getter]
    fn create_path(&self) -> String {
        self.barrier.node_path().to_string()
    }

    /// Enters and waits until enough members have entered; False after
    /// `timeout` seconds (this member stays entered).
    #[pyo3(signature = (timeout=None))]
    fn enter(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = duration(timeout)?;
        block_on(py, step(self.barrier.clone(), true, t))
    }

    /// `enter` as an awaitable.
    #[pyo3(signature = (timeout=None))]
    fn enter_async<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let t = duration(timeout)?;
        awaitable_py(py, step(self.barrier.clone(), true, t), |py, v| into(py, v))
    }

    /// Leaves and waits until every member has left; False after `timeout` seconds.
    #[pyo3(signature = (timeout=None))]
    fn leave(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let t = duration(timeout)?;
        block_on(py, step(self.barrier.clone(), false, t))
    }

    /// `leave` as an awaitable.
    #[pyo3(signature = (timeout=None))]
    fn leave_async<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let t = duration(timeout)?;
        awaitable_py(py, step(self.barrier.clone(), false, t), |py, v| into(py, v))
    }
}
