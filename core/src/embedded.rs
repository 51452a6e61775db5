//! An in-process server for tests and for embedding: starts in milliseconds
//! on an ephemeral loopback port with its own temporary data directory
//! (removed when the server is dropped), or from any [`Config`].

use std::net::SocketAddr;

use crate::server::{Config, Server, ServerError};

/// A corral server running inside this process.
pub struct EmbeddedServer {
    server: Option<Server>,
    addr: SocketAddr,
    _dir: Option<tempfile::TempDir>,
}

impl EmbeddedServer {
    /// A standalone server on 127.0.0.1 with an ephemeral port and a fresh
    /// temporary data directory.
    pub async fn start() -> Result<EmbeddedServer, ServerError> {
        let dir = tempfile::tempdir().map_err(|source| ServerError::DataDir { path: "<temp>".into(), source })?;
        let mut config = Config::default();
        config.client_port = 0;
        config.client_port_address = std::net::Ipv4Addr::LOCALHOST.into();
        config.data_dir = dir.path().to_path_buf();
        config.set_data_log_dir(dir.path());
        let mut s = EmbeddedServer::with_config(config).await?;
        s._dir = Some(dir);
        Ok(s)
    }

    /// A server from a full configuration (durable data where it says).
    pub async fn with_config(config: Config) -> Result<EmbeddedServer, ServerError> {
        let server = Server::start(config).await?;
        let addr = server.local_addr();
        Ok(EmbeddedServer { server: Some(server), addr, _dir: None })
    }

    /// The client address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// A connect string for clients: `127.0.0.1:<port>`.
    pub fn hosts(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// Stops the server cleanly.
    pub async fn stop(mut self) -> Result<(), ServerError> {
        match self.server.take() {
            Some(s) => s.shutdown().await,
            None => Ok(()),
        }
    }
}
