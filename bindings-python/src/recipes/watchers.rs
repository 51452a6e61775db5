//! `DataWatch` and `ChildrenWatch`: core's `watchers`, calling a Python
//! function with the GIL from the runtime's blocking pool. The package's
//! `corral.DataWatch` and `corral.ChildrenWatch` adapt the arguments to
//! kazoo's signatures.

use std::ops::ControlFlow;
use std::sync::{Arc, Mutex as StdMutex};

use corral::client::{Client as CoreClient, WatchedEvent};
use corral::proto::Stat;
use corral::recipes::watchers::{
    Callback, Children, ChildrenWatch as CoreChildrenWatch, Data, DataWatch as CoreDataWatch, Watch,
};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyTuple};

use super::core_client;
use crate::convert;
use crate::runtime::block_on;

/// An exception of a first call, for `start` to raise.
type FirstError = Arc<StdMutex<Option<PyErr>>>;

/// The core callback calling `func` with `args(value, event)`. The watch
/// stops when `func` returns False. As kazoo: an exception in the first call
/// is raised by `start`, a later one is logged and the watch goes on.
fn python_callback<V, A>(
    func: Py<PyAny>,
    kind: &'static str,
    first_error: FirstError,
    args: A,
) -> impl FnMut(V, Option<WatchedEvent>) -> ControlFlow<()> + Send + 'static
where
    V: Send + 'static,
    A: for<'py> Fn(Python<'py>, V, Option<WatchedEvent>) -> PyResult<Bound<'py, PyTuple>> + Send + 'static,
{
    let mut first = true;
    move |value, event| {
        Python::attach(|py| {
            let result = args(py, value, event).and_then(|a| func.call1(py, a));
            let was_first = std::mem::replace(&mut first, false);
            match result {
                Ok(r) if r.bind(py).cast::<PyBool>().is_ok_and(|b| !b.is_true()) => ControlFlow::Break(()),
                Ok(_) => ControlFlow::Continue(()),
                Err(e) if was_first => {
                    *first_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                    ControlFlow::Continue(())
                }
                Err(e) => {
                    log_exception(py, kind, e);
                    ControlFlow::Continue(())
                }
            }
        })
    }
}

/// Logs `err` on the package's logger, as kazoo logs a watcher's exception.
fn log_exception(py: Python<'_>, kind: &str, err: PyErr) {
    let logged = (|| -> PyResult<()> {
        let kwargs = PyDict::new(py);
        kwargs.set_item("exc_info", err.value(py))?;
        let logger = py.import("logging")?.call_method1("getLogger", ("corral",))?;
        logger.call_method("error", (format!("corral: a {kind} callback raised"),), Some(&kwargs))?;
        Ok(())
    })();
    if logged.is_err() {
        err.print(py);
    }
}

/// DataWatch's arguments: `(data or None, stat tuple or None, event tuple or None)`.
fn data_args<'py>(
    py: Python<'py>,
    node: Option<(Vec<u8>, Stat)>,
    event: Option<WatchedEvent>,
) -> PyResult<Bound<'py, PyTuple>> {
    let (data, stat) = match node {
        Some((d, s)) => (Some(PyBytes::new(py, &d)), Some(convert::stat(&s))),
        None => (None, None),
    };
    (data, stat, event.map(convert::event)).into_pyobject(py)
}

/// ChildrenWatch's arguments: `(children, event tuple or None)`.
fn children_args<'py>(
    py: Python<'py>,
    children: Vec<String>,
    event: Option<WatchedEvent>,
) -> PyResult<Bound<'py, PyTuple>> {
    (children, event.map(convert::event)).into_pyobject(py)
}

/// What both classes hold: the watch's spec, and the core watch once
/// started. Freed by Python, the watch is detached, not stopped: kazoo's
/// watches live until their function returns False.
struct Held<K> {
    /// The client the watch reads with.
    client: CoreClient,
    /// The watched node.
    path: String,
    /// The Python function to call.
    func: Py<PyAny>,
    /// What the first call raised, for `start` to raise.
    first_error: FirstError,
    /// The core watch; `None` until started.
    watch: StdMutex<Option<Watch<K>>>,
}

impl<K> Held<K> {
    fn new(client: &Bound<'_, PyAny>, path: &str, func: Py<PyAny>) -> PyResult<Held<K>> {
        Ok(Held {
            client: core_client(client)?,
            path: path.to_string(),
            func,
            first_error: FirstError::default(),
            watch: StdMutex::new(None),
        })
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Watch<K>>> {
        self.watch.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the watch once, with the callback `args` builds the Python
    /// arguments for; raises what its first call raised.
    fn start<V, A, S, F>(&self, py: Python<'_>, kind: &'static str, args: A, start: S) -> PyResult<()>
    where
        K: Send,
        V: Send + 'static,
        A: for<'py> Fn(Python<'py>, V, Option<WatchedEvent>) -> PyResult<Bound<'py, PyTuple>> + Send + 'static,
        S: FnOnce(CoreClient, String, Callback<V>) -> F,
        F: std::future::Future<Output = corral::client::Result<Watch<K>>> + Send,
    {
        if self.slot().is_some() {
            return Err(PyRuntimeError::new_err("the watch is already started"));
        }
        let callback = python_callback(self.func.clone_ref(py), kind, self.first_error.clone(), args);
        let watch = block_on(py, start(self.client.clone(), self.path.clone(), Box::new(callback)))?;
        *self.slot() = Some(watch);
        match self.first_error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn stop(&self) {
        if let Some(w) = self.slot().as_ref() {
            w.stop();
        }
    }

    fn stopped(&self) -> bool {
        self.slot().as_ref().is_none_or(Watch::is_stopped)
    }
}

impl<K> Drop for Held<K> {
    fn drop(&mut self) {
        if let Some(w) = self.slot().take() {
            w.detach();
        }
    }
}

/// kazoo's DataWatch: `func(data, stat, event)` now and after every change.
#[pyclass(module = "corral._corral", frozen)]
pub struct DataWatch(Held<Data>);

#[pymethods]
impl DataWatch {
    #[new]
    fn new(client: &Bound<'_, PyAny>, path: &str, func: Py<PyAny>) -> PyResult<DataWatch> {
        Ok(DataWatch(Held::new(client, path, func)?))
    }

    /// Calls `func(data or None, stat tuple or None, event tuple or None)`
    /// now and returns when it returned; then after every change.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        self.0.start(py, "DataWatch", data_args, |client, path, callback| async move {
            CoreDataWatch::start(&client, &path, callback).await
        })
    }

    /// Stops the watch; a call under way finishes.
    fn stop(&self) {
        self.0.stop();
    }

    /// Whether the watch has ended (or was never started).
    #[getter]
    fn stopped(&self) -> bool {
        self.0.stopped()
    }
}

/// kazoo's ChildrenWatch: `func(children, event)` now and after every change.
#[pyclass(module = "corral._corral", frozen)]
pub struct ChildrenWatch {
    /// The watch and what it watches.
    held: Held<Children>,
    /// kazoo's `allow_session_lost`: go on in a new session after a lost one.
    allow_session_lost: bool,
}

#[pymethods]
impl ChildrenWatch {
    #[new]
    #[pyo3(signature = (client, path, func, allow_session_lost = true))]
    fn new(
        client: &Bound<'_, PyAny>,
        path: &str,
        func: Py<PyAny>,
        allow_session_lost: bool,
    ) -> PyResult<ChildrenWatch> {
        Ok(ChildrenWatch { held: Held::new(client, path, func)?, allow_session_lost })
    }

    /// Calls `func(children, event tuple or None)` now and returns when it
    /// returned (not at all when the node does not exist); then after every change.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        let keep = self.allow_session_lost;
        self.held.start(py, "ChildrenWatch", children_args, move |client, path, callback| async move {
            if keep {
                CoreChildrenWatch::start(&client, &path, callback).await
            } else {
                CoreChildrenWatch::start_in_session(&client, &path, callback).await
            }
        })
    }

    /// Stops the watch; a call under way finishes.
    fn stop(&self) {
        self.held.stop();
    }

    /// Whether the watch has ended (or was never started).
    #[getter]
    fn stopped(&self) -> bool {
        self.held.stopped()
    }
}
