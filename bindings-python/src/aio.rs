//! The asyncio client (`corral._corral.AsyncClient`): the same calls as
//! [`crate::client`], each returning an asyncio awaitable; watches are
//! awaitables (`Watch`) and async iterators (`WatchStream`, `StateStream`).

use std::sync::Arc;

use corral::client::{Client as CoreClient, OneshotWatch, State, WatchStream as CoreWatchStream};
use pyo3::exceptions::{PyRuntimeError, PyStopAsyncIteration};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};
use pyo3::IntoPyObjectExt;
use tokio::sync::{broadcast, Mutex};

use crate::client::{add_watch_mode, builder, create_options, transaction, watcher_type};
use crate::convert::{self, AclTuple};
use crate::runtime::{self, awaitable};

fn none(py: Python<'_>, _: ()) -> PyResult<Py<PyAny>> {
    Ok(py.None())
}

// Passed as closures (`|py, v| into(py, v)`): the fn item itself is not
// general over the GIL lifetime, whatever clippy's redundant_closure says.
fn into<'py, T: IntoPyObject<'py>>(py: Python<'py>, v: T) -> PyResult<Py<PyAny>> {
    v.into_py_any(py)
}

/// A connected ZooKeeper session (asyncio calls).
#[pyclass(module = "corral._corral", frozen)]
pub struct AsyncClient {
    pub(crate) client: CoreClient,
}

impl Drop for AsyncClient {
    fn drop(&mut self) {
        let client = self.client.clone();
        runtime::get().spawn(async move { client.close().await });
    }
}

#[pymethods]
impl AsyncClient {
    /// Connects; the awaitable gives the client once a session is established.
    #[staticmethod]
    #[pyo3(signature = (hosts, session_timeout, connection_timeout=None, auth=Vec::new(), read_only=false))]
    fn connect<'py>(
        py: Python<'py>,
        hosts: &str,
        session_timeout: f64,
        connection_timeout: Option<f64>,
        auth: Vec<(String, Vec<u8>)>,
        read_only: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let b = builder(hosts, session_timeout, connection_timeout, auth, read_only)?;
        awaitable(py, b.connect(), |py, client| Ok(Py::new(py, AsyncClient { client })?.into_any()))
    }

    fn close<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(
            py,
            async move {
                c.close().await;
                Ok(())
            },
            none,
        )
    }

    fn state(&self) -> &'static str {
        convert::state(self.client.state())
    }

    #[getter]
    fn session_id(&self) -> i64 {
        self.client.session_id()
    }

    #[getter]
    fn session_timeout(&self) -> f64 {
        self.client.session_timeout().as_secs_f64()
    }

    #[getter]
    fn last_zxid(&self) -> i64 {
        self.client.last_zxid()
    }

    /// Every state change from now on.
    fn state_changes(&self) -> StateStream {
        StateStream { rx: Arc::new(Mutex::new(self.client.state_changes())) }
    }

    #[pyo3(signature = (path, data, acl, mode, ttl_ms=None))]
    fn create<'py>(
        &self,
        py: Python<'py>,
        path: String,
        data: Option<Vec<u8>>,
        acl: Vec<AclTuple>,
        mode: i32,
        ttl_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = create_options(acl, mode, ttl_ms)?;
        let c = self.client.clone();
        awaitable(py, async move { c.create_nullable(&path, data.as_deref(), &opts).await }, |py, (p, s)| {
            into(py, (p, convert::stat(&s)))
        })
    }

    fn delete<'py>(&self, py: Python<'py>, path: String, version: i32) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.delete(&path, Some(version)).await }, none)
    }

    fn exists<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.exists(&path).await }, |py, s| into(py, s.as_ref().map(convert::stat)))
    }

    fn exists_w<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.exists_w(&path).await }, |py, (s, w)| {
            into(py, (s.as_ref().map(convert::stat), Watch::new(w)))
        })
    }

    fn get_data<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.get_data_nullable(&path).await }, |py, (d, s)| {
            into(py, (d.map(|d| PyBytes::new(py, &d)), convert::stat(&s)))
        })
    }

    fn get_data_w<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.get_data_nullable_w(&path).await }, |py, (d, s, w)| {
            into(py, (d.map(|d| PyBytes::new(py, &d)), convert::stat(&s), Watch::new(w)))
        })
    }

    fn set_data<'py>(
        &self,
        py: Python<'py>,
        path: String,
        data: Option<Vec<u8>>,
        version: i32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.set_data_nullable(&path, data.as_deref(), Some(version)).await }, |py, s| {
            into(py, convert::stat(&s))
        })
    }

    fn get_acl<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.get_acl(&path).await }, |py, (a, s)| {
            into(py, (convert::acls_to(a), convert::stat(&s)))
        })
    }

    fn set_acl<'py>(
        &self,
        py: Python<'py>,
        path: String,
        acl: Vec<AclTuple>,
        version: i32,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        let acl = convert::acls_from(acl);
        awaitable(py, async move { c.set_acl(&path, &acl, Some(version)).await }, |py, s| into(py, convert::stat(&s)))
    }

    fn get_children<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.get_children2(&path).await }, |py, (n, s)| into(py, (n, convert::stat(&s))))
    }

    fn get_children_w<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.get_children_w(&path).await }, |py, (n, s, w)| {
            into(py, (n, convert::stat(&s), Watch::new(w)))
        })
    }

    fn get_all_children_number<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.get_all_children_number(&path).await }, |py, n| into(py, n))
    }

    fn get_ephemerals<'py>(&self, py: Python<'py>, prefix: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.get_ephemerals(&prefix).await }, |py, v| into(py, v))
    }

    fn sync<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.sync(&path).await }, none)
    }

    fn who_am_i<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.who_am_i().await }, |py, infos| {
            into(py, infos.into_iter().map(|i| (i.auth_scheme, i.user)).collect::<Vec<_>>())
        })
    }

    fn add_auth<'py>(&self, py: Python<'py>, scheme: String, credential: Vec<u8>) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.add_auth(&scheme, &credential).await }, none)
    }

    /// A persistent (or recursive) watch as an async iterator of events.
    fn add_watch<'py>(&self, py: Python<'py>, path: String, recursive: bool) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.add_watch(&path, add_watch_mode(recursive)).await }, |py, s| {
            into(py, WatchStream { stream: Arc::new(Mutex::new(s)) })
        })
    }

    fn remove_watches<'py>(&self, py: Python<'py>, path: String, watcher_type: &str) -> PyResult<Bound<'py, PyAny>> {
        let t = self::watcher_type(watcher_type)?;
        let c = self.client.clone();
        awaitable(py, async move { c.remove_watches(&path, t).await }, none)
    }

    fn multi<'py>(
        &self,
        py: Python<'py>,
        ops: &Bound<'py, PyList>,
        raise_on_error: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (t, paths) = transaction(&self.client, ops)?;
        let fut = async move {
            if raise_on_error {
                t.commit().await
            } else {
                t.commit_results().await
            }
        };
        awaitable(py, fut, move |py, results| {
            let out: PyResult<Vec<_>> =
                results.into_iter().zip(paths.iter()).map(|(r, p)| convert::op_result(py, r, Some(p))).collect();
            into(py, out?)
        })
    }

    fn multi_read<'py>(
        &self,
        py: Python<'py>,
        get_data: Vec<String>,
        get_children: Vec<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        let paths: Vec<String> = get_data.iter().chain(get_children.iter()).cloned().collect();
        let fut = async move {
            let d: Vec<&str> = get_data.iter().map(String::as_str).collect();
            let ch: Vec<&str> = get_children.iter().map(String::as_str).collect();
            c.multi_read(&d, &ch).await
        };
        awaitable(py, fut, move |py, results| {
            let out: PyResult<Vec<_>> =
                results.into_iter().zip(paths.iter()).map(|(r, p)| convert::op_result(py, r, Some(p))).collect();
            into(py, out?)
        })
    }

    fn ensure_path<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.ensure_path(&path).await }, none)
    }

    fn delete_recursive<'py>(&self, py: Python<'py>, path: String) -> PyResult<Bound<'py, PyAny>> {
        let c = self.client.clone();
        awaitable(py, async move { c.delete_recursive(&path).await }, none)
    }
}

/// A one-shot watch: `wait()` gives the event that fired it.
#[pyclass(module = "corral._corral", frozen)]
pub struct Watch {
    watch: std::sync::Mutex<Option<OneshotWatch>>,
}

impl Watch {
    fn new(w: OneshotWatch) -> Watch {
        Watch { watch: std::sync::Mutex::new(Some(w)) }
    }
}

#[pymethods]
impl Watch {
    /// An awaitable of the `(type, state, path, zxid)` event; only once.
    fn wait<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let w = self
            .watch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .ok_or_else(|| PyRuntimeError::new_err("this watch was already awaited"))?;
        awaitable(py, async move { Ok(w.await) }, |py, ev| into(py, convert::event(ev)))
    }
}

/// A persistent watch's events.
#[pyclass(module = "corral._corral", frozen)]
pub struct WatchStream {
    stream: Arc<Mutex<CoreWatchStream>>,
}

#[pymethods]
impl WatchStream {
    /// An awaitable of the next event; raises StopAsyncIteration once the watch has ended.
    fn next<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let s = self.stream.clone();
        runtime::get();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            match s.lock().await.next().await {
                Some(ev) => Ok(convert::event(ev)),
                None => Err(PyStopAsyncIteration::new_err(())),
            }
        })
    }
}

/// Connection-state changes.
#[pyclass(module = "corral._corral", frozen)]
pub struct StateStream {
    rx: Arc<Mutex<broadcast::Receiver<State>>>,
}

#[pymethods]
impl StateStream {
    /// An awaitable of the next state's name; StopAsyncIteration after CLOSED.
    fn next<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let rx = self.rx.clone();
        runtime::get();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            let mut rx = rx.lock().await;
            loop {
                match rx.recv().await {
                    Ok(s) => return Ok(convert::state(s)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return Err(PyStopAsyncIteration::new_err(())),
                }
            }
        })
    }
}
