//! Core's recipes (`corral::recipes`) as native classes: each class owns one
//! core recipe value. Blocking methods wait on the shared runtime with the
//! GIL released; their `*_async` twins (where `corral.aio` uses the class)
//! return an asyncio awaitable of the same future. The package's
//! `corral.recipes` and `corral.aio` give them kazoo's shape; nothing here
//! decides coordination behaviour.
//!
//! One file per core recipe module, as `src/` has one file per core module.

mod barrier;
mod counter;
mod discovery;
mod election;
mod lease;
mod lock;
mod partitioner;
mod party;
mod queue;
mod semaphore;
mod tree_cache;
mod watchers;

use std::future::Future;
use std::ops::Deref;
use std::time::Duration;

use corral::client::Client as CoreClient;
use corral::proto::Code;
use corral::recipes::lock::Naming;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use pyo3::IntoPyObjectExt;
use tokio::sync::watch;

use crate::aio::AsyncClient;
use crate::client::{seconds, SyncClient};
use crate::error::CancelledError;
use crate::runtime::{self, WaitError};

/// The core client behind a blocking or an asyncio client: recipes accept either.
fn core_client(client: &Bound<'_, PyAny>) -> PyResult<CoreClient> {
    if let Ok(c) = client.cast::<SyncClient>() {
        return Ok(c.get().client.clone());
    }
    if let Ok(c) = client.cast::<AsyncClient>() {
        return Ok(c.get().client.clone());
    }
    Err(PyTypeError::new_err("a recipe needs a corral._corral.Client or AsyncClient"))
}

/// Optional seconds as a duration.
/// A recipe's node layout by name: "kazoo" or "curator".
fn naming(layout: &str) -> PyResult<Naming> {
    layout
        .parse()
        .map_err(|_| PyValueError::new_err(format!("unknown layout {layout:?}: use \"kazoo\" or \"curator\"")))
}

fn duration(timeout: Option<f64>) -> PyResult<Option<Duration>> {
    timeout.map(seconds).transpose()
}

/// How long an acquisition may wait.
#[derive(Clone, Copy)]
enum Wait {
    /// As long as it takes.
    Forever,
    /// At most this long.
    For(Duration),
    /// Not at all (kazoo's `blocking=False`).
    Now,
}

impl Wait {
    fn of(blocking: bool, timeout: Option<f64>) -> PyResult<Wait> {
        Ok(match (blocking, duration(timeout)?) {
            (false, _) => Wait::Now,
            (true, None) => Wait::Forever,
            (true, Some(t)) => Wait::For(t),
        })
    }
}

/// Drops its value with the runtime entered, so that a core value whose drop
/// cleans up in the background (a held lock's node, a lease) can spawn that
/// cleanup when Python frees it on a thread of its own.
struct InRuntime<T>(Option<T>);

impl<T> InRuntime<T> {
    fn new(value: T) -> InRuntime<T> {
        InRuntime(Some(value))
    }
}

impl<T> Deref for InRuntime<T> {
    type Target = T;

    fn deref(&self) -> &T {
        match &self.0 {
            Some(v) => v,
            // Taken only by drop.
            None => unreachable!("an InRuntime value is present until dropped"),
        }
    }
}

impl<T> Drop for InRuntime<T> {
    fn drop(&mut self) {
        if let Some(v) = self.0.take() {
            let _entered = runtime::get().enter();
            drop(v);
        }
    }
}

/// kazoo's `cancel()`: ends the waits under way on one recipe value with
/// `CancelledError` (a later wait is not affected).
struct Cancel(watch::Sender<u64>);

impl Cancel {
    fn new() -> Cancel {
        Cancel(watch::channel(0).0)
    }

    fn cancel(&self) {
        self.0.send_modify(|g| *g = g.wrapping_add(1));
    }

    /// Resolves once `cancel` is called after this call.
    fn later(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.0.subscribe();
        let start = *rx.borrow();
        async move {
            if rx.wait_for(|g| *g != start).await.is_err() {
                // The recipe value is gone: nobody can cancel any more.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The error of a cancelled wait.
fn cancelled(path: &str) -> WaitError {
    WaitError::Py(CancelledError::new_err(format!("cancelled: {path}")))
}

/// The data of each node (a contender's identifier, as kazoo lists them),
/// skipping nodes gone meanwhile.
async fn identifiers(client: &CoreClient, paths: Vec<String>) -> corral::client::Result<Vec<String>> {
    let mut out = Vec::with_capacity(paths.len());
    for path in paths {
        match client.get_data(&path).await {
            Ok((data, _)) => out.push(String::from_utf8_lossy(&data).into_owned()),
            Err(e) if e.code == Code::NoNode => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Any value as a Python object (passed as `|py, v| into(py, v)`).
fn into<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> PyResult<Py<PyAny>> {
    v.into_py_any(py)
}

/// Bytes as `bytes` (a `Vec<u8>` would become a list).
fn bytes(py: Python<'_>, v: Vec<u8>) -> PyResult<Py<PyAny>> {
    Ok(PyBytes::new(py, &v).into_any().unbind())
}

/// Optional bytes as `bytes` or None.
fn opt_bytes(py: Python<'_>, v: Option<Vec<u8>>) -> PyResult<Py<PyAny>> {
    match v {
        Some(d) => bytes(py, d),
        None => Ok(py.None()),
    }
}

/// Registers the recipe classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<lock::Lock>()?;
    m.add_class::<semaphore::Semaphore>()?;
    m.add_class::<counter::Counter>()?;
    m.add_class::<counter::FloatCounter>()?;
    m.add_class::<barrier::Barrier>()?;
    m.add_class::<barrier::DoubleBarrier>()?;
    m.add_class::<queue::Queue>()?;
    m.add_class::<queue::LockingQueue>()?;
    m.add_class::<election::Election>()?;
    m.add_class::<election::ElectionRun>()?;
    m.add_class::<election::LeaderLatch>()?;
    m.add_class::<party::Party>()?;
    m.add_class::<tree_cache::TreeCache>()?;
    m.add_class::<discovery::ServiceDiscovery>()?;
    m.add_class::<discovery::ServiceCache>()?;
    m.add_class::<partitioner::SetPartitioner>()?;
    m.add_class::<watchers::DataWatch>()?;
    m.add_class::<watchers::ChildrenWatch>()?;
    m.add_function(wrap_pyfunction!(lease::obtain_lease, m)?)?;
    Ok(())
}
