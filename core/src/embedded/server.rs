//! An in-process server: with no settings a standalone server on an
//! ephemeral loopback port with a temporary data directory (removed when
//! the server is closed or dropped); or from a `zoo.cfg`, options, a data
//! directory, a client port, and a server id with peers (a durable member of
//! a real ensemble beside `corral server` processes).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};

use super::EmbedError;
use crate::replication::Role;
use crate::server::{Config, Server};

/// The settings of an [`EmbeddedServer`], applied in the order `corral
/// server` applies them: the `zoo.cfg` file (or the defaults, then listening
/// on 127.0.0.1 only), the data directory and client port, every option as a
/// `zoo.cfg` line in the order given, the server id and peers; then
/// validation. A bad value is an error naming its key.
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::embedded::{EmbedError, ServerBuilder};
/// use corral::server::config::ConfigError;
///
/// let err = ServerBuilder::new().option("tickTime", "soon").config().unwrap_err();
/// assert!(matches!(err, EmbedError::Config(ConfigError::InvalidValue { ref key, .. }) if key == "tickTime"));
///
/// let dir = tempfile::tempdir()?;
/// let mut server = ServerBuilder::new().data_dir(dir.path()).option("tickTime", "200").start().await?;
/// let port = server.port();
/// server.stop().await?;
/// server.serve().await?; // the same port and data
/// assert_eq!(server.port(), port);
/// server.close().await?;
/// # Ok(()) }
/// # corral::runtime::block_on(demo()).unwrap().unwrap();
/// ```
#[derive(Clone, Debug, Default)]
pub struct ServerBuilder {
    /// A `zoo.cfg` to start from, instead of the loopback defaults.
    config_file: Option<PathBuf>,
    /// Where the data lives; `None` without a file = a temporary directory.
    data_dir: Option<PathBuf>,
    /// The client port; `None` = the file's, or an ephemeral one.
    client_port: Option<u16>,
    /// `zoo.cfg` lines, applied in order after the file.
    options: Vec<(String, String)>,
    /// `myid` of an ensemble member.
    server_id: Option<u64>,
    /// `server.N` values of the ensemble's members, this one's included.
    peers: BTreeMap<u64, String>,
}

impl ServerBuilder {
    /// No settings: a standalone server on 127.0.0.1, ephemeral port,
    /// temporary data directory.
    pub fn new() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// Starts from a `zoo.cfg` file (listening where it says).
    pub fn config_file(mut self, path: impl Into<PathBuf>) -> ServerBuilder {
        self.config_file = Some(path.into());
        self
    }

    /// A durable data directory (kept on close; never removed by the kit).
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> ServerBuilder {
        self.data_dir = Some(dir.into());
        self
    }

    /// The client port (0 = pick one; the choice is kept across restarts).
    pub fn client_port(mut self, port: u16) -> ServerBuilder {
        self.client_port = Some(port);
        self
    }

    /// Sets a `zoo.cfg` key, as a line of the file would.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> ServerBuilder {
        self.options.push((key.into(), value.into()));
        self
    }

    /// Makes the server ensemble member `id` (`myid`).
    pub fn server_id(mut self, id: u64) -> ServerBuilder {
        self.server_id = Some(id);
        self
    }

    /// Adds member `id` of the ensemble, a `server.N` value:
    /// `host:peerPort:electionPort[:observer][;[clientHost:]clientPort]`.
    pub fn peer(mut self, id: u64, spec: impl Into<String>) -> ServerBuilder {
        self.peers.insert(id, spec.into());
        self
    }

    /// The configuration these settings make, validated (without a file
    /// or a data directory, `dataDir` is the default until [`ServerBuilder::build`]
    /// makes a temporary one).
    pub fn config(&self) -> Result<Config, EmbedError> {
        self.make_config(None)
    }

    fn make_config(&self, temp_dir: Option<&Path>) -> Result<Config, EmbedError> {
        let mut config = match &self.config_file {
            Some(path) => Config::from_file(path)?,
            None => {
                let mut c = Config::default();
                c.client_port_address = Ipv4Addr::LOCALHOST.into();
                c.client_port = 0;
                c
            }
        };
        if let Some(port) = self.client_port {
            config.client_port = port;
        }
        if let Some(dir) = self.data_dir.as_deref().or(temp_dir) {
            config.data_dir = dir.to_path_buf();
        }
        for (key, value) in &self.options {
            config.set(key, value)?;
        }
        if let Some(id) = self.server_id {
            config.set("myid", &id.to_string())?;
        }
        for (id, spec) in &self.peers {
            config.set(&format!("server.{id}"), spec)?;
        }
        config.validate()?;
        Ok(config)
    }

    /// A stopped server with these settings (its temporary directory made):
    /// [`EmbeddedServer::serve`] starts it.
    pub fn build(self) -> Result<EmbeddedServer, EmbedError> {
        let temp_dir = if self.config_file.is_none() && self.data_dir.is_none() {
            Some(tempfile::Builder::new().prefix("corral-").tempdir().map_err(EmbedError::TempDir)?)
        } else {
            None
        };
        let config = self.make_config(temp_dir.as_ref().map(tempfile::TempDir::path))?;
        Ok(EmbeddedServer { config, server: None, runtime: None, temp_dir })
    }

    /// Builds and starts the server.
    pub async fn start(self) -> Result<EmbeddedServer, EmbedError> {
        let mut server = self.build()?;
        server.serve().await?;
        Ok(server)
    }
}

/// A corral server running inside this process. Stop it and serve again on
/// the same port and data; dropping it shuts it down cleanly in the
/// background (call [`EmbeddedServer::close`] to wait for that).
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::EmbeddedServer;
///
/// let server = EmbeddedServer::start().await?; // 127.0.0.1, ephemeral port, temporary data
/// let client = Client::connect(&server.connect_string()).await?;
/// client.create("/hello", b"world", &Default::default()).await?;
/// server.close().await?;
/// # Ok(()) }
/// # corral::runtime::block_on(demo()).unwrap().unwrap();
/// ```
pub struct EmbeddedServer {
    /// The effective configuration; after the first start its client port
    /// is the one bound, so that the next start takes the same.
    config: Config,
    /// The running server; `None` while stopped.
    server: Option<Server>,
    /// The runtime the server runs on, where a drop shuts it down.
    runtime: Option<tokio::runtime::Handle>,
    /// The temporary data directory, removed after the server stops for good.
    temp_dir: Option<tempfile::TempDir>,
}

impl EmbeddedServer {
    /// A standalone server on 127.0.0.1 with an ephemeral port and a fresh
    /// temporary data directory.
    pub async fn start() -> Result<EmbeddedServer, EmbedError> {
        ServerBuilder::new().start().await
    }

    /// The settings of a server to build.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::new()
    }

    /// A server from a complete configuration (durable data where it says).
    pub async fn with_config(config: Config) -> Result<EmbeddedServer, EmbedError> {
        let mut server = EmbeddedServer { config, server: None, runtime: None, temp_dir: None };
        server.serve().await?;
        Ok(server)
    }

    /// Starts serving: the first time, or again after [`EmbeddedServer::stop`]
    /// on the same port and data (sessions resume). Does nothing when running.
    pub async fn serve(&mut self) -> Result<(), EmbedError> {
        if self.server.is_some() {
            return Ok(());
        }
        let server = Server::start(self.config.clone()).await?;
        self.config.client_port = server.local_addr().port();
        self.config.client_port_address = server.local_addr().ip();
        self.server = Some(server);
        self.runtime = Some(tokio::runtime::Handle::current());
        Ok(())
    }

    /// Stops the server cleanly: clients are disconnected; data, sessions and
    /// the port stay for the next [`EmbeddedServer::serve`]. For an ensemble
    /// member this is abrupt for its peers, as a process exit is.
    pub async fn stop(&mut self) -> Result<(), EmbedError> {
        match self.server.take() {
            Some(server) => Ok(server.shutdown().await?),
            None => Ok(()),
        }
    }

    /// Stops and serves again (same port, same data).
    pub async fn restart(&mut self) -> Result<(), EmbedError> {
        self.stop().await?;
        self.serve().await
    }

    /// Stops the server and removes its temporary data directory, if any.
    pub async fn close(mut self) -> Result<(), EmbedError> {
        let stopped = self.stop().await;
        if let Some(dir) = self.temp_dir.take() {
            dir.close().map_err(|e| EmbedError::io("removing the temporary data directory", e))?;
        }
        stopped
    }

    /// Whether the server is serving (started and not stopped).
    pub fn is_running(&self) -> bool {
        self.server.is_some()
    }

    /// The client port: the one bound, or (before the first start) the one
    /// configured, 0 meaning not chosen yet.
    pub fn port(&self) -> u16 {
        self.config.client_port
    }

    /// The client address (see [`EmbeddedServer::port`]).
    pub fn local_addr(&self) -> SocketAddr {
        self.config.client_address()
    }

    /// The connect string for clients, `host:port`: the loopback address when
    /// the server listens on every interface.
    pub fn connect_string(&self) -> String {
        let ip = match self.config.client_port_address {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.port()).to_string()
    }

    /// The connect string (kazoo's name for it): see [`EmbeddedServer::connect_string`].
    pub fn hosts(&self) -> String {
        self.connect_string()
    }

    /// Where the data lives.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The server's part in its ensemble; `None` while stopped.
    pub fn role(&self) -> Option<Role> {
        self.server.as_ref().map(Server::role)
    }
}

impl std::fmt::Debug for EmbeddedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedServer")
            .field("addr", &self.local_addr())
            .field("running", &self.is_running())
            .field("data_dir", &self.data_dir())
            .finish()
    }
}

impl Drop for EmbeddedServer {
    fn drop(&mut self) {
        let Some(server) = self.server.take() else {
            return;
        };
        let temp_dir = self.temp_dir.take();
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        // The directory goes only once the log is closed.
        runtime.spawn(async move {
            if let Err(e) = server.shutdown().await {
                tracing::warn!(error = %e, "embedded server did not stop cleanly");
            }
            drop(temp_dir);
        });
    }
}
