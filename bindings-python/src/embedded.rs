//! `corral._corral.EmbeddedServer`: core's in-process server, started and
//! stopped from Python. The package's `corral.testing` decides the defaults
//! (temporary directory, ephemeral port).

use std::sync::Mutex;

use corral::server::Config;
use pyo3::prelude::*;

use crate::error;
use crate::runtime::block_on;

/// A corral server running in this process on the shared runtime.
#[pyclass(module = "corral._corral", frozen)]
pub struct EmbeddedServer {
    server: Mutex<Option<corral::EmbeddedServer>>,
    hosts: String,
    port: u16,
}

impl EmbeddedServer {
    fn new(server: corral::EmbeddedServer) -> EmbeddedServer {
        EmbeddedServer {
            hosts: server.hosts(),
            port: server.local_addr().port(),
            server: Mutex::new(Some(server)),
        }
    }
}

#[pymethods]
impl EmbeddedServer {
    /// A standalone server on 127.0.0.1, ephemeral port, fresh temporary data directory.
    #[staticmethod]
    fn start(py: Python<'_>) -> PyResult<EmbeddedServer> {
        Ok(EmbeddedServer::new(block_on(py, corral::EmbeddedServer::start())?))
    }

    /// A server from a `zoo.cfg` file (or the defaults), then `options`
    /// applied as `zoo.cfg` lines in order.
    #[staticmethod]
    #[pyo3(signature = (config_file=None, options=Vec::new()))]
    fn with_config(
        py: Python<'_>,
        config_file: Option<std::path::PathBuf>,
        options: Vec<(String, String)>,
    ) -> PyResult<EmbeddedServer> {
        let mut config = match config_file {
            Some(path) => Config::from_file(path).map_err(error::config)?,
            None => Config::default(),
        };
        for (key, value) in &options {
            config.set(key, value).map_err(error::config)?;
        }
        config.validate().map_err(error::config)?;
        Ok(EmbeddedServer::new(block_on(
            py,
            corral::EmbeddedServer::with_config(config),
        )?))
    }

    /// `127.0.0.1:<port>`.
    #[getter]
    fn hosts(&self) -> &str {
        &self.hosts
    }

    #[getter]
    fn port(&self) -> u16 {
        self.port
    }

    /// Whether `stop` has not been called yet.
    #[getter]
    fn running(&self) -> bool {
        self.server.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    /// Stops the server cleanly (clients are disconnected; sessions and data
    /// stay on disk for the next start on the same data directory).
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let server = self.server.lock().unwrap_or_else(|e| e.into_inner()).take();
        match server {
            Some(s) => block_on(py, s.stop()),
            None => Ok(()),
        }
    }
}
