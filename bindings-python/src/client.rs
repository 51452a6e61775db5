//! The blocking client (`corral._corral.Client`): core's async client, each
//! call waited on with the GIL released. Watches take a callback that the
//! package's dispatch thread calls (see [`crate::events`]).
//!
//! Arguments arrive already in core's terms (create-mode number, ACL tuples,
//! versions); the public `corral.Client` does the kazoo-style spelling.

use std::time::Duration;

use corral::client::{Client as CoreClient, CreateOptions, Transaction};
use corral::proto::{AddWatchMode, CreateMode, WatcherType};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use crate::convert::{self, AclTuple, StatTuple};
use crate::events::{Delivery, Dispatcher, Source};
use crate::runtime::{self, block_on};

/// Options shared by both clients' `connect`.
pub fn builder(
    hosts: &str,
    session_timeout: f64,
    connection_timeout: Option<f64>,
    auth: Vec<(String, Vec<u8>)>,
    read_only: bool,
) -> PyResult<corral::client::ClientBuilder> {
    let mut b = CoreClient::builder(hosts).session_timeout(seconds(session_timeout)?).read_only(read_only);
    if let Some(t) = connection_timeout {
        b = b.connection_timeout(seconds(t)?);
    }
    for (scheme, credential) in auth {
        b = b.auth(&scheme, &credential);
    }
    Ok(b)
}

pub fn seconds(s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s).map_err(|_| PyValueError::new_err(format!("not a duration in seconds: {s}")))
}

pub fn create_options(acl: Vec<AclTuple>, mode: i32, ttl_ms: Option<i64>) -> PyResult<CreateOptions> {
    let mode =
        CreateMode::from_flags(mode).ok_or_else(|| PyValueError::new_err(format!("unknown create mode {mode}")))?;
    let mut opts = CreateOptions::mode(mode).with_acl(convert::acls_from(acl));
    if let Some(ttl) = ttl_ms {
        opts = opts.with_ttl_ms(ttl);
    }
    Ok(opts)
}

pub fn watcher_type(name: &str) -> PyResult<WatcherType> {
    Ok(match name {
        "children" => WatcherType::Children,
        "data" => WatcherType::Data,
        "any" => WatcherType::Any,
        "persistent" => WatcherType::Persistent,
        "persistent_recursive" => WatcherType::PersistentRecursive,
        other => return Err(PyValueError::new_err(format!("unknown watcher type {other:?}"))),
    })
}

pub fn add_watch_mode(recursive: bool) -> AddWatchMode {
    if recursive {
        AddWatchMode::PersistentRecursive
    } else {
        AddWatchMode::Persistent
    }
}

/// Builds a transaction from `(op, ...)` tuples; returns it with each sub-op's path.
pub fn transaction(client: &CoreClient, ops: &Bound<'_, PyList>) -> PyResult<(Transaction, Vec<String>)> {
    let mut t = client.transaction();
    let mut paths = Vec::with_capacity(ops.len());
    for op in ops.iter() {
        let op = op.cast_into::<PyTuple>().map_err(|_| PyTypeError::new_err("a transaction op is a tuple"))?;
        let kind: String = op.get_item(0)?.extract()?;
        let path: String = op.get_item(1)?.extract()?;
        t = match kind.as_str() {
            "create" => {
                let data: Vec<u8> = op.get_item(2)?.extract::<&[u8]>()?.to_vec();
                let opts =
                    create_options(op.get_item(3)?.extract()?, op.get_item(4)?.extract()?, op.get_item(5)?.extract()?)?;
                t.create(&path, &data, &opts)
            }
            "delete" => t.delete(&path, Some(op.get_item(2)?.extract()?)),
            "set_data" => t.set_data(&path, op.get_item(2)?.extract::<&[u8]>()?, Some(op.get_item(3)?.extract()?)),
            "check" => t.check(&path, op.get_item(2)?.extract()?),
            other => return Err(PyValueError::new_err(format!("unknown transaction op {other:?}"))),
        };
        paths.push(path);
    }
    Ok((t, paths))
}

/// A connected ZooKeeper session (blocking calls).
#[pyclass(module = "corral._corral", name = "Client", frozen)]
pub struct SyncClient {
    pub(crate) client: CoreClient,
    events: Dispatcher,
}

impl Drop for SyncClient {
    fn drop(&mut self) {
        // Core keeps reconnecting until closed; an abandoned client must not.
        let client = self.client.clone();
        runtime::get().spawn(async move { client.close().await });
    }
}

#[pymethods]
impl SyncClient {
    /// Connects and waits until a session is established; `session` is a
    /// `(session_id, password)` to resume instead of starting a new one;
    /// `randomize_hosts=False` tries the servers in the order given.
    #[staticmethod]
    #[pyo3(signature = (hosts, session_timeout, connection_timeout=None, auth=Vec::new(), read_only=false, session=None,
                        randomize_hosts=true))]
    #[allow(clippy::too_many_arguments)]
    fn connect(
        py: Python<'_>,
        hosts: &str,
        session_timeout: f64,
        connection_timeout: Option<f64>,
        auth: Vec<(String, Vec<u8>)>,
        read_only: bool,
        session: Option<(i64, Vec<u8>)>,
        randomize_hosts: bool,
    ) -> PyResult<SyncClient> {
        let mut b =
            builder(hosts, session_timeout, connection_timeout, auth, read_only)?.randomize_hosts(randomize_hosts);
        if let Some((id, password)) = session {
            let password: [u8; 16] = password.try_into().map_err(|p: Vec<u8>| {
                PyValueError::new_err(format!("a session password is 16 bytes, not {}", p.len()))
            })?;
            b = b.session(id, password);
        }
        let client = block_on(py, b.connect())?;
        let events = Dispatcher::start(&client);
        Ok(SyncClient { client, events })
    }

    /// Closes the session; the dispatch queue ends after the final events.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let c = self.client.clone();
        block_on(py, async move {
            c.close().await;
            Ok::<_, std::convert::Infallible>(())
        })?;
        self.events.close();
        Ok(())
    }

    /// The connection state's name.
    fn state(&self) -> &'static str {
        convert::state(self.client.state())
    }

    #[getter]
    fn session_id(&self) -> i64 {
        self.client.session_id()
    }

    /// Negotiated session timeout in seconds.
    #[getter]
    fn session_timeout(&self) -> f64 {
        self.client.session_timeout().as_secs_f64()
    }

    #[getter]
    fn last_zxid(&self) -> i64 {
        self.client.last_zxid()
    }

    /// The current session's password (16 bytes; zeros while there is none).
    #[getter]
    fn session_password<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.client.session_password())
    }

    /// `host:port` of the server the client is connected to, or None.
    fn connected_host(&self) -> Option<String> {
        self.client.connected_host()
    }

    /// Replaces the servers used from the next (re)connect on.
    fn set_hosts(&self, hosts: &str) -> PyResult<()> {
        self.client.set_hosts(hosts).map_err(crate::error::to_py)
    }

    /// Changes the ensemble's membership; returns the new config and its stat.
    fn reconfig<'py>(
        &self,
        py: Python<'py>,
        joining: Option<String>,
        leaving: Option<String>,
        new_members: Option<String>,
        from_config: i64,
    ) -> PyResult<(Bound<'py, PyBytes>, StatTuple)> {
        let c = &self.client;
        let (data, stat) =
            block_on(py, c.reconfig(joining.as_deref(), leaving.as_deref(), new_members.as_deref(), from_config))?;
        Ok((PyBytes::new(py, &data), convert::stat(&stat)))
    }

    /// The next event: `("watch", callback, event)`, `("state", name)`,
    /// `("closed",)` once the queue has ended, or None after `timeout` seconds.
    fn next_event<'py>(&self, py: Python<'py>, timeout: f64) -> PyResult<Option<Bound<'py, PyTuple>>> {
        match self.events.next(py, runtime_timeout(timeout)?) {
            Ok(None) => Ok(None),
            Ok(Some(Delivery::Watch(cb, ev))) => {
                Ok(Some(("watch", cb.clone_ref(py), convert::event(ev)).into_pyobject(py)?))
            }
            Ok(Some(Delivery::State(s))) => Ok(Some(("state", convert::state(s)).into_pyobject(py)?)),
            Err(()) => Ok(Some(("closed",).into_pyobject(py)?)),
        }
    }

    #[pyo3(signature = (path, data, acl, mode, ttl_ms=None))]
    fn create(
        &self,
        py: Python<'_>,
        path: &str,
        data: Option<&[u8]>,
        acl: Vec<AclTuple>,
        mode: i32,
        ttl_ms: Option<i64>,
    ) -> PyResult<(String, StatTuple)> {
        let opts = create_options(acl, mode, ttl_ms)?;
        let (p, s) = block_on(py, self.client.create_nullable(path, data, &opts))?;
        Ok((p, convert::stat(&s)))
    }

    fn delete(&self, py: Python<'_>, path: &str, version: i32) -> PyResult<()> {
        block_on(py, self.client.delete(path, Some(version)))
    }

    #[pyo3(signature = (path, watch=None))]
    fn exists(&self, py: Python<'_>, path: &str, watch: Option<Py<PyAny>>) -> PyResult<Option<StatTuple>> {
        let stat = match watch {
            None => block_on(py, self.client.exists(path))?,
            Some(cb) => {
                let (stat, w) = block_on(py, self.client.exists_w(path))?;
                self.events.watch(cb, Source::Once(w));
                stat
            }
        };
        Ok(stat.as_ref().map(convert::stat))
    }

    #[pyo3(signature = (path, watch=None))]
    fn get_data<'py>(
        &self,
        py: Python<'py>,
        path: &str,
        watch: Option<Py<PyAny>>,
    ) -> PyResult<(Option<Bound<'py, PyBytes>>, StatTuple)> {
        let (data, stat) = match watch {
            None => block_on(py, self.client.get_data_nullable(path))?,
            Some(cb) => {
                let (data, stat, w) = block_on(py, self.client.get_data_nullable_w(path))?;
                self.events.watch(cb, Source::Once(w));
                (data, stat)
            }
        };
        Ok((data.map(|d| PyBytes::new(py, &d)), convert::stat(&stat)))
    }

    fn set_data(&self, py: Python<'_>, path: &str, data: Option<&[u8]>, version: i32) -> PyResult<StatTuple> {
        Ok(convert::stat(&block_on(py, self.client.set_data_nullable(path, data, Some(version)))?))
    }

    fn get_acl(&self, py: Python<'_>, path: &str) -> PyResult<(Vec<AclTuple>, StatTuple)> {
        let (acl, stat) = block_on(py, self.client.get_acl(path))?;
        Ok((convert::acls_to(acl), convert::stat(&stat)))
    }

    fn set_acl(&self, py: Python<'_>, path: &str, acl: Vec<AclTuple>, version: i32) -> PyResult<StatTuple> {
        let acl = convert::acls_from(acl);
        Ok(convert::stat(&block_on(py, self.client.set_acl(path, &acl, Some(version)))?))
    }

    #[pyo3(signature = (path, watch=None))]
    fn get_children(&self, py: Python<'_>, path: &str, watch: Option<Py<PyAny>>) -> PyResult<(Vec<String>, StatTuple)> {
        let (names, stat) = match watch {
            None => block_on(py, self.client.get_children2(path))?,
            Some(cb) => {
                let (names, stat, w) = block_on(py, self.client.get_children_w(path))?;
                self.events.watch(cb, Source::Once(w));
                (names, stat)
            }
        };
        Ok((names, convert::stat(&stat)))
    }

    fn get_all_children_number(&self, py: Python<'_>, path: &str) -> PyResult<i32> {
        block_on(py, self.client.get_all_children_number(path))
    }

    fn get_ephemerals(&self, py: Python<'_>, prefix: &str) -> PyResult<Vec<String>> {
        block_on(py, self.client.get_ephemerals(prefix))
    }

    fn sync(&self, py: Python<'_>, path: &str) -> PyResult<()> {
        block_on(py, self.client.sync(path))
    }

    fn who_am_i(&self, py: Python<'_>) -> PyResult<Vec<(String, String)>> {
        let infos = block_on(py, self.client.who_am_i())?;
        Ok(infos.into_iter().map(|i| (i.auth_scheme, i.user)).collect())
    }

    fn add_auth(&self, py: Python<'_>, scheme: &str, credential: &[u8]) -> PyResult<()> {
        block_on(py, self.client.add_auth(scheme, credential))
    }

    /// A persistent (or recursive) watch whose events go to `callback`.
    fn add_watch(&self, py: Python<'_>, path: &str, recursive: bool, callback: Py<PyAny>) -> PyResult<()> {
        let stream = block_on(py, self.client.add_watch(path, add_watch_mode(recursive)))?;
        self.events.watch(callback, Source::Stream(stream));
        Ok(())
    }

    fn remove_watches(&self, py: Python<'_>, path: &str, watcher_type: &str) -> PyResult<()> {
        let t = self::watcher_type(watcher_type)?;
        block_on(py, self.client.remove_watches(path, t))
    }

    /// Commits `(op, ...)` tuples atomically. With `raise_on_error` the first
    /// failing sub-op's error is raised; otherwise every sub-op's result is
    /// returned, failures as exception objects.
    fn multi<'py>(
        &self,
        py: Python<'py>,
        ops: &Bound<'py, PyList>,
        raise_on_error: bool,
    ) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        let (t, paths) = transaction(&self.client, ops)?;
        let results = if raise_on_error { block_on(py, t.commit())? } else { block_on(py, t.commit_results())? };
        results.into_iter().zip(paths.iter()).map(|(r, p)| convert::op_result(py, r, Some(p))).collect()
    }

    fn multi_read<'py>(
        &self,
        py: Python<'py>,
        get_data: Vec<String>,
        get_children: Vec<String>,
    ) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        let d: Vec<&str> = get_data.iter().map(String::as_str).collect();
        let c: Vec<&str> = get_children.iter().map(String::as_str).collect();
        let results = block_on(py, self.client.multi_read(&d, &c))?;
        let paths = get_data.iter().chain(get_children.iter());
        results.into_iter().zip(paths).map(|(r, p)| convert::op_result(py, r, Some(p))).collect()
    }

    fn ensure_path(&self, py: Python<'_>, path: &str) -> PyResult<()> {
        block_on(py, self.client.ensure_path(path))
    }

    fn delete_recursive(&self, py: Python<'_>, path: &str) -> PyResult<()> {
        block_on(py, self.client.delete_recursive(path))
    }
}

fn runtime_timeout(s: f64) -> PyResult<Duration> {
    seconds(s.max(0.0))
}
