//! The process's one tokio runtime, created on first use and shared by every
//! client, server and asyncio future of this module; and the two ways Python
//! waits on it: blocking without the GIL, or as an asyncio awaitable.

use std::future::Future;
use std::sync::{Once, OnceLock};
use std::time::Duration;

use pyo3::prelude::*;
use tokio::runtime::Runtime;

use crate::error;

/// Worker threads at most: a client library should not take a core per CPU.
const WORKER_THREADS_MAX: usize = 4;

/// How often a blocked call looks for Ctrl-C (the main thread's signals).
const SIGNAL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

static RUNTIME: OnceLock<Runtime> = OnceLock::new();
static ASYNCIO_BRIDGE: Once = Once::new();

/// The shared runtime.
pub fn get() -> &'static Runtime {
    let rt = RUNTIME.get_or_init(|| {
        let workers = std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .clamp(1, WORKER_THREADS_MAX);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("corral-runtime")
            .enable_all()
            .build()
            .expect("cannot start the tokio runtime")
    });
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
    let rt = get();
    // Entered before `fut` exists, so that a future dropped half-way (Ctrl-C)
    // can spawn its cleanup (a contender's node, a lease) as it goes.
    let _entered = rt.enter();
    let mut fut = std::pin::pin!(fut);
    loop {
        let step = py.detach(|| rt.block_on(async { tokio::time::timeout(SIGNAL_CHECK_INTERVAL, &mut fut).await }));
        match step {
            Ok(result) => return result.map_err(|e| e.into().into_py()),
            Err(_) => py.check_signals()?,
        }
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
    /// A server could not start or stop.
    Server(corral::server::ServerError),
    /// Anything already a Python exception.
    Py(PyErr),
}

impl WaitError {
    pub fn into_py(self) -> PyErr {
        match self {
            WaitError::Client(e) => error::to_py(e),
            WaitError::Server(e) => error::server(e),
            WaitError::Py(e) => e,
        }
    }
}

impl From<corral::client::Error> for WaitError {
    fn from(e: corral::client::Error) -> Self {
        WaitError::Client(e)
    }
}

impl From<corral::server::ServerError> for WaitError {
    fn from(e: corral::server::ServerError) -> Self {
        WaitError::Server(e)
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
