//! `Semaphore`: core's `semaphore::Semaphore`, one lease per value (kazoo's shape).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corral::client::{Client as CoreClient, Result};
use corral::recipes::semaphore::{Lease, Semaphore as CoreSemaphore};
use pyo3::prelude::*;
use tokio::sync::Mutex;

use super::{cancelled, core_client, identifiers, into, naming, Cancel, InRuntime, Wait};
use crate::runtime::{awaitable_py, block_on, WaitError};

/// A counting semaphore of which this value holds at most one lease.
#[pyclass(module = "corral._corral", frozen)]
pub struct Semaphore {
    client: CoreClient,
    path: String,
    semaphore: Arc<CoreSemaphore>,
    lease: InRuntime<Arc<Mutex<Option<Lease>>>>,
    /// Whether a lease is held, answered while an operation is under way.
    held: Arc<AtomicBool>,
    cancel: Cancel,
}

impl Semaphore {
    fn acquire_fut(
        &self,
        blocking: bool,
        timeout: Option<f64>,
    ) -> PyResult<impl Future<Output = std::result::Result<bool, WaitError>> + Send + 'static> {
        let wait = Wait::of(blocking, timeout)?;
        let semaphore = self.semaphore.clone();
        let lease = Arc::clone(&*self.lease);
        let held = self.held.clone();
        let cancel = self.cancel.later();
        let path = self.path.clone();
        Ok(async move {
            let work = async {
                let mut slot = match wait {
                    Wait::Now => match lease.try_lock() {
                        Ok(s) => s,
                        Err(_) => return Ok(false),
                    },
                    _ => lease.lock().await,
                };
                if slot.is_some() {
                    return Ok(true);
                }
                let got = match wait {
                    Wait::Forever => Some(semaphore.acquire(1).await?),
                    Wait::For(t) => semaphore.acquire_timeout(1, t).await?,
                    Wait::Now => semaphore.acquire_timeout(1, Duration::ZERO).await?,
                };
                *slot = got.and_then(|mut leases| leases.pop());
                held.store(slot.is_some(), Ordering::SeqCst);
                Ok::<bool, corral::client::Error>(slot.is_some())
            };
            tokio::select! {
                got = work => Ok(got?),
                () = cancel => Err(cancelled(&path)),
            }
        })
    }

    fn release_fut(&self) -> impl Future<Output = Result<bool>> + Send + 'static {
        let lease = Arc::clone(&*self.lease);
        let held = self.held.clone();
        async move {
            let mut slot = lease.lock().await;
            let taken = slot.take();
            held.store(false, Ordering::SeqCst);
            match taken {
                Some(l) => l.release().await.map(|()| true),
                None => Ok(false),
            }
        }
    }

    fn holders_fut(&self) -> impl Future<Output = Result<Vec<String>>> + Send + 'static {
        let semaphore = self.semaphore.clone();
        let client = self.client.clone();
        async move {
            let paths = semaphore.participant_nodes().await?;
            identifiers(&client, paths).await
        }
    }
}

#[pymethods]
impl Semaphore {
    /// A semaphore at `path` granting at most `max_leases` leases at a time,
    /// in kazoo's or Curator's `layout`; `identifier` is the data of this
    /// value's lease node.
    #[new]
    #[pyo3(signature = (client, path, identifier, max_leases, layout="kazoo"))]
    fn new(
        client: &Bound<'_, PyAny>,
        path: &str,
        identifier: &str,
        max_leases: usize,
        layout: &str,
    ) -> PyResult<Semaphore> {
        let c = core_client(client)?;
        let semaphore = CoreSemaphore::new(&c, path, max_leases).with_naming(naming(layout)?);
        Ok(Semaphore {
            semaphore: Arc::new(semaphore.with_data(identifier.as_bytes())),
            client: c,
            path: path.to_string(),
            lease: InRuntime::new(Arc::new(Mutex::new(None))),
            held: Arc::new(AtomicBool::new(false)),
            cancel: Cancel::new(),
        })
    }

    /// Waits for a lease (at most `timeout` seconds; not at all unless
    /// `blocking`); True once held (at once when already held).
    /// CancelledError after `cancel()`.
    #[pyo3(signature = (blocking=true, timeout=None))]
    fn acquire(&self, py: Python<'_>, blocking: bool, timeout: Option<f64>) -> PyResult<bool> {
        let fut = self.acquire_fut(blocking, timeout)?;
        block_on(py, fut)
    }

    /// `acquire` as an awaitable.
    #[pyo3(signature = (blocking=true, timeout=None))]
    fn acquire_async<'py>(&self, py: Python<'py>, blocking: bool, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.acquire_fut(blocking, timeout)?;
        awaitable_py(py, fut, |py, v| into(py, v))
    }

    /// Gives the lease back; False when none was held.
    fn release(&self, py: Python<'_>) -> PyResult<bool> {
        block_on(py, self.release_fut())
    }

    /// `release` as an awaitable.
    fn release_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.release_fut(), |py, v| into(py, v))
    }

    /// Ends the acquisitions under way with CancelledError.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether this value holds a lease.
    fn is_acquired(&self) -> bool {
        self.held.load(Ordering::SeqCst)
    }

    /// The identifiers of the lease holders, in lease order.
    fn lease_holders(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        block_on(py, self.holders_fut())
    }

    /// `lease_holders` as an awaitable.
    fn lease_holders_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.holders_fut(), |py, v| into(py, v))
    }
}
