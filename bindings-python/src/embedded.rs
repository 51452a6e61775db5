//! `corral._corral`'s embedding and testing kit: core's [`corral::embedded`]
//! (in-process server, test cluster, fault relay, session expiry) on the
//! shared runtime. Each class holds one core value and translates its calls;
//! `corral.testing` only spells them the kazoo way.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use corral::embedded::{ClusterBuilder, EmbedError, ServerBuilder};
use pyo3::exceptions::{
    PyConnectionError, PyIndexError, PyKeyError, PyOSError, PyRuntimeError, PyTimeoutError, PyValueError,
};
use pyo3::prelude::*;
use pyo3::types::PyBool;
use tokio::sync::Mutex;

use crate::aio::AsyncClient;
use crate::client::{seconds, SyncClient};
use crate::error;
use crate::runtime::block_on;

/// The kit's errors as Python exceptions (configuration and server errors as
/// the package's own classes, the rest as the builtin that fits).
pub fn to_py(err: EmbedError) -> PyErr {
    let text = err.to_string();
    match err {
        e @ EmbedError::Config(_) => error::config(e.to_string()),
        e @ EmbedError::Server(_) => error::server(e.to_string()),
        EmbedError::NoVoters | EmbedError::BadAddress(_) | EmbedError::NoSession => PyValueError::new_err(text),
        EmbedError::NoMember { .. } => PyIndexError::new_err(text),
        EmbedError::UnknownSession(_) => PyKeyError::new_err(text),
        EmbedError::Closed => PyRuntimeError::new_err(text),
        EmbedError::Timeout { .. } => PyTimeoutError::new_err(text),
        EmbedError::Protocol(_) => PyConnectionError::new_err(text),
        EmbedError::TempDir(_) | EmbedError::Io { .. } => PyOSError::new_err(text),
    }
}

/// A `zoo.cfg` value from Python: booleans as Java spells them, the rest as `str()`.
fn cfg_value(value: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(if b.is_true() { "true" } else { "false" }.to_owned());
    }
    value.str()?.extract()
}

/// A member index from Python: negative ones are refused as out of range.
fn member_index(index: i64) -> PyResult<usize> {
    usize::try_from(index).map_err(|_| PyIndexError::new_err(format!("no member {index}: members are numbered from 0")))
}

/// A corral server in this process: built from its settings at the first
/// `start`, stopped and started again on the same port and data.
#[pyclass(module = "corral._corral", frozen)]
pub struct EmbeddedServer {
    /// The settings, until the first start builds the server from them.
    builder: std::sync::Mutex<Option<ServerBuilder>>,
    /// The server once built (running or stopped).
    server: Arc<Mutex<Option<corral::EmbeddedServer>>>,
}

#[pymethods]
impl EmbeddedServer {
    /// Settings only; `start` checks them and starts the server.
    #[new]
    #[pyo3(signature = (config=None, data_dir=None, client_port=None, options=Vec::new(), server_id=None, peers=BTreeMap::new()))]
    fn new(
        config: Option<PathBuf>,
        data_dir: Option<PathBuf>,
        client_port: Option<u16>,
        options: Vec<(String, Bound<'_, PyAny>)>,
        server_id: Option<u64>,
        peers: BTreeMap<u64, String>,
    ) -> PyResult<EmbeddedServer> {
        let mut b = ServerBuilder::new();
        if let Some(path) = config {
            b = b.config_file(path);
        }
        if let Some(dir) = data_dir {
            b = b.data_dir(dir);
        }
        if let Some(port) = client_port {
            b = b.client_port(port);
        }
        for (key, value) in &options {
            b = b.option(key, cfg_value(value)?);
        }
        if let Some(id) = server_id {
            b = b.server_id(id);
        }
        for (id, spec) in peers {
            b = b.peer(id, spec);
        }
        Ok(EmbeddedServer { builder: std::sync::Mutex::new(Some(b)), server: Arc::new(Mutex::new(None)) })
    }

    /// Starts the server (again, after `stop`, on the same port and data).
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        let builder = self.builder.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let server = self.server.clone();
        block_on(py, async move {
            let mut slot = server.lock().await;
            if slot.is_none() {
                *slot = builder.map(ServerBuilder::build).transpose()?;
            }
            match slot.as_mut() {
                Some(s) => s.serve().await,
                None => Ok(()),
            }
        })
    }

    /// Stops the server; data, sessions and the port stay for `start`.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let server = self.server.clone();
        block_on(py, async move {
            match server.lock().await.as_mut() {
                Some(s) => s.stop().await,
                None => Ok(()),
            }
        })
    }

    /// Stops the server and removes its temporary data directory.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let server = self.server.clone();
        block_on(py, async move {
            match server.lock().await.take() {
                Some(s) => s.close().await,
                None => Ok(()),
            }
        })?;
        // Closed for good: a later `start` builds a fresh server.
        Ok(())
    }

    /// Whether the server is serving.
    #[getter]
    fn running(&self, py: Python<'_>) -> PyResult<bool> {
        self.read(py, |s| Ok(s.is_some_and(corral::EmbeddedServer::is_running)))
    }

    /// The client port (the one bound, kept across restarts).
    #[getter]
    fn port(&self, py: Python<'_>) -> PyResult<u16> {
        self.read(py, |s| match s.map(corral::EmbeddedServer::port) {
            Some(port) if port != 0 => Ok(port),
            _ => Err(PyRuntimeError::new_err("the server has not started yet")),
        })
    }

    /// The connect string, `127.0.0.1:<port>`.
    #[getter]
    fn hosts(&self, py: Python<'_>) -> PyResult<String> {
        self.read(py, |s| match s {
            Some(s) if s.port() != 0 => Ok(s.connect_string()),
            _ => Err(PyRuntimeError::new_err("the server has not started yet")),
        })
    }

    /// Where the data lives (None before the first start).
    #[getter]
    fn data_dir(&self, py: Python<'_>) -> PyResult<Option<PathBuf>> {
        self.read(py, |s| Ok(s.map(|s| s.data_dir().to_path_buf())))
    }
}

impl EmbeddedServer {
    fn read<T: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(Option<&corral::EmbeddedServer>) -> PyResult<T> + Send,
    ) -> PyResult<T> {
        let server = self.server.clone();
        block_on(py, async move { Ok::<_, EmbedError>(f(server.lock().await.as_ref())) })?
    }
}

/// A replicated ensemble in this process (core's `TestCluster`).
#[pyclass(module = "corral._corral", frozen)]
pub struct TestCluster {
    cluster: Arc<corral::embedded::TestCluster>,
}

#[pymethods]
impl TestCluster {
    /// Builds the members (stopped): ports chosen, directories made.
    #[new]
    #[pyo3(signature = (size=3, observers=0, tick_ms=100))]
    fn new(size: usize, observers: usize, tick_ms: u32) -> PyResult<TestCluster> {
        let cluster =
            ClusterBuilder::new().voters(size).observers(observers).tick_ms(tick_ms).build().map_err(to_py)?;
        Ok(TestCluster { cluster: Arc::new(cluster) })
    }

    /// Starts every stopped member and waits until the cluster serves.
    fn start(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let (cluster, timeout) = (self.cluster.clone(), seconds(timeout)?);
        block_on(py, async move { cluster.serve(timeout).await })
    }

    /// Waits until every running member serves under one leader.
    fn wait_serving(&self, py: Python<'_>, timeout: f64) -> PyResult<()> {
        let (cluster, timeout) = (self.cluster.clone(), seconds(timeout)?);
        block_on(py, async move { cluster.wait_serving(timeout).await })
    }

    /// A connect string naming every member.
    #[getter]
    fn hosts(&self) -> String {
        self.cluster.connect_string()
    }

    /// How many members.
    #[getter]
    fn size(&self) -> usize {
        self.cluster.member_count()
    }

    /// Member `index`'s client port.
    fn port(&self, index: i64) -> PyResult<u16> {
        self.cluster.port(member_index(index)?).map_err(to_py)
    }

    /// Whether member `index` runs.
    fn running(&self, py: Python<'_>, index: i64) -> PyResult<bool> {
        let (cluster, index) = (self.cluster.clone(), member_index(index)?);
        block_on(py, async move { cluster.is_running(index).await })
    }

    /// `leader`, `follower` or `observer`; None while stopped or without a leader.
    fn mode(&self, py: Python<'_>, index: i64) -> PyResult<Option<&'static str>> {
        let (cluster, index) = (self.cluster.clone(), member_index(index)?);
        let role = block_on(py, async move { cluster.mode(index).await })?;
        Ok(role.map(corral::embedded::Role::name))
    }

    /// The index of the leading member, waiting up to `timeout` seconds.
    fn leader(&self, py: Python<'_>, timeout: f64) -> PyResult<usize> {
        let (cluster, timeout) = (self.cluster.clone(), seconds(timeout)?);
        block_on(py, async move { cluster.leader(timeout).await })
    }

    /// Stops member `index` at once.
    fn kill(&self, py: Python<'_>, index: i64) -> PyResult<()> {
        let (cluster, index) = (self.cluster.clone(), member_index(index)?);
        block_on(py, async move { cluster.kill(index).await })
    }

    /// Starts member `index` again and waits until the cluster serves.
    fn restart(&self, py: Python<'_>, index: i64) -> PyResult<()> {
        let (cluster, index) = (self.cluster.clone(), member_index(index)?);
        block_on(py, async move { cluster.restart(index).await })
    }

    /// Stops every member (data kept).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let cluster = self.cluster.clone();
        block_on(py, async move { cluster.stop().await })
    }

    /// Stops every member and removes their data.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let cluster = self.cluster.clone();
        block_on(py, async move { cluster.close().await })
    }
}

/// A loopback relay in front of one server that drops connections, keeps
/// clients out and expires sessions (core's `FaultRelay`).
#[pyclass(module = "corral._corral", frozen)]
pub struct FaultRelay {
    relay: Arc<corral::embedded::FaultRelay>,
}

#[pymethods]
impl FaultRelay {
    /// Listens on an ephemeral loopback port, relaying to `upstream`.
    #[new]
    fn new(py: Python<'_>, upstream: String) -> PyResult<FaultRelay> {
        let relay = block_on(py, async move { corral::embedded::FaultRelay::start(&upstream).await })?;
        Ok(FaultRelay { relay: Arc::new(relay) })
    }

    /// The relay's connect string.
    #[getter]
    fn hosts(&self) -> String {
        self.relay.connect_string()
    }

    /// The relay's port.
    #[getter]
    fn port(&self) -> u16 {
        self.relay.local_addr().port()
    }

    /// The server relayed to, `(host, port)`.
    #[getter]
    fn upstream(&self) -> PyResult<(String, u16)> {
        let addr = self.relay.upstream();
        addr.rsplit_once(':')
            .and_then(|(host, port)| Some((host.trim_matches(['[', ']']).to_owned(), port.parse().ok()?)))
            .ok_or_else(|| PyValueError::new_err(format!("not host:port: {addr}")))
    }

    /// Closes every relayed connection now.
    #[pyo3(name = "drop")]
    fn drop_connections(&self) {
        self.relay.drop_connections();
    }

    /// Drops every connection and refuses new ones until `unblock`.
    fn block(&self) {
        self.relay.block();
    }

    /// Lets clients connect again.
    fn unblock(&self) {
        self.relay.unblock();
    }

    /// The password of a session seen through the relay, or None.
    fn password(&self, session_id: i64) -> Option<Vec<u8>> {
        self.relay.password(session_id)
    }

    /// Ends a session that connected through the relay; False if it was gone already.
    fn expire(&self, py: Python<'_>, session_id: i64) -> PyResult<bool> {
        let relay = self.relay.clone();
        block_on(py, async move { relay.expire(session_id).await })
    }

    /// Expires the session of `client` (a native `Client` or `AsyncClient`)
    /// on the server behind the relay and waits until the client has a new
    /// one; returns its id.
    fn expire_client(&self, py: Python<'_>, client: &Bound<'_, PyAny>, timeout: f64) -> PyResult<i64> {
        let client = if let Ok(c) = client.cast::<SyncClient>() {
            c.get().client.clone()
        } else if let Ok(c) = client.cast::<AsyncClient>() {
            c.get().client.clone()
        } else {
            return Err(to_py(EmbedError::NoSession));
        };
        let (relay, timeout) = (self.relay.clone(), seconds(timeout)?);
        block_on(py, async move { corral::embedded::expire_session(&client, relay.upstream(), timeout).await })
    }

    /// Stops relaying and closes every connection.
    fn close(&self) {
        self.relay.close();
    }
}
