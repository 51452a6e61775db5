//! The two ways Python waits on core's one runtime (`corral::runtime`):
//! blocking without the GIL (core's blocking bridge, checking for Ctrl-C),
//! or as an asyncio awaitable.

use std::future::Future;
use std::sync::Once;

use corral::runtime::BlockError;
use pyo3::exceptions::{PyRuntimeError, PyTimeoutError};
use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::error;

static ASYNCIO_BRIDGE: Once = Once::new();

/// The shared runtime (core's), also handed to asyncio's bridge.
pub fn get() -> &'static Runtime {
    let rt = corral::runtime::get();
    ASYNCIO_BRIDGE.call_once(|| {
        // Only fails when already set, which the Once rules out.
        let _ = pyo3_async_runtimes::tokio::init_with_runtime(rt);
    });
    rt
}

/// Runs `fut` to completion on the shared runtime with the GIL released;
/// Ctrl-C on the main thread interrupts the wait (the request is abandoned).
pub fn block_on<T, E, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = Result<T, E>> + Send,
    T: Send,
    E: Send + Into<WaitError>,
{
    get();
    let waited = py.detach(|| corral::runtime::block_on_with(fut, None, || Python::attach(|py| py.check_signals())));
    match waited {
        Ok(result) => result.map_err(|e| e.into().into_py()),
        Err(BlockError::Cancelled(e)) => Err(e),
        Err(e @ BlockError::TimedOut(_)) => Err(PyTimeoutError::new_err(e.to_string())),
        Err(e @ BlockError::InsideRuntime) => Err(PyRuntimeError::new_err(e.to_string())),
    }
}

/// `fut` as an asyncio awaitable; `convert` builds the Python result with the GIL held.
pub fn awaitable<'py, T, F, C>(py: Python<'py>, fut: F, convert: C) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = corral::client::Result<T>> + Send + 'static,
    T: Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    get();
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        let value = fut.await.map_err(error::to_py)?;
        Python::attach(|py| convert(py, value))
    })
}

/// `fut` as an asyncio awaitable, for futures that may also end with a
/// Python exception (a cancelled recipe wait, ...).
pub fn awaitable_py<'py, T, E, F, C>(py: Python<'py>, fut: F, convert: C) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Into<WaitError> + Send + 'static,
    C: FnOnce(Python<'_>, T) -> PyResult<Py<PyAny>> + Send + 'static,
{
    get();
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        let value = fut.await.map_err(|e| e.into().into_py())?;
        Python::attach(|py| convert(py, value))
    })
}

/// The errors a blocking wait can end with.
pub enum WaitError {
    /// A client operation failed.
    Client(corral::client::Error),
    /// The embedding and testing kit refused or failed.
    Embed(corral::embedded::EmbedError),
    /// Anything already a Python exception.
    Py(PyErr),
}

impl WaitError {
    pub fn into_py(self) -> PyErr {
        match self {
            WaitError::Client(e) => error::to_py(e),
            WaitError::Embed(e) => crate::embedded::to_py(e),
            WaitError::Py(e) => e,
        }
    }
}

impl From<corral::client::Error> for WaitError {
    fn from(e: corral::client::Error) -> Self {
        WaitError::Client(e)
    }
}

impl From<corral::embedded::EmbedError> for WaitError {
    fn from(e: corral::embedded::EmbedError) -> Self {
        WaitError::Embed(e)
    }
}

impl From<PyErr> for WaitError {
    fn from(e: PyErr) -> Self {
        WaitError::Py(e)
    }
}

impl From<std::convert::Infallible> for WaitError {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}
