//! The embedding and testing kit: an in-process server and a replicated
//! cluster, both core's (`corral::embedded`), no JVM.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use corral::embedded::{
    expire_session as core_expire_session, ClusterBuilder, EmbeddedServer as CoreServer, ServerBuilder,
    TestCluster as CoreCluster, SETTLE_TIMEOUT_DEFAULT,
};
use napi::bindgen_prelude::{BigInt, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;

use crate::client::Client;
use crate::error::{Failure, Outcome};
use crate::promise::{spawn, spawn_value};
use crate::teardown::{on_teardown, Closing, Teardown};

/// Settings of an embedded server; none: 127.0.0.1, an ephemeral port, a
/// temporary data directory. Applied as `corral server` applies them: the
/// file, `dataDir` and `clientPort`, `options` in order, `serverId` and `peers`.
#[napi(object, object_to_js = false)]
pub struct ServerOptions {
    /// A `zoo.cfg` to start from.
    pub config: Option<String>,
    /// A durable data directory (kept on close).
    pub data_dir: Option<String>,
    /// The client port (0: pick one, kept across restarts).
    pub client_port: Option<u32>,
    /// `myid` of an ensemble member.
    pub server_id: Option<u32>,
    /// `server.N` values by N, this member's included.
    pub peers: Option<HashMap<String, String>>,
    /// `zoo.cfg` keys and values (a bad one is an error naming the key).
    pub options: Option<HashMap<String, String>>,
}

fn builder(o: ServerOptions) -> Outcome<ServerBuilder> {
    let mut b = ServerBuilder::new();
    if let Some(file) = o.config {
        b = b.config_file(file);
    }
    if let Some(dir) = o.data_dir {
        b = b.data_dir(dir);
    }
    if let Some(port) = o.client_port {
        let port = u16::try_from(port)
            .map_err(|_| Failure::corral("ERR_CORRAL_CONFIG", format!("clientPort: {port} is not a port")))?;
        b = b.client_port(port);
    }
    for (k, v) in o.options.unwrap_or_default() {
        b = b.option(k, v);
    }
    if let Some(id) = o.server_id {
        b = b.server_id(id.into());
    }
    for (id, spec) in o.peers.unwrap_or_default() {
        let n = id
            .parse::<u64>()
            .map_err(|_| Failure::corral("ERR_CORRAL_CONFIG", format!("peers: {id:?} is not a server id")))?;
        b = b.peer(n, spec);
    }
    Ok(b)
}

impl Teardown for tokio::sync::Mutex<Option<CoreServer>> {
    fn teardown(self: Arc<Self>) -> Closing {
        Box::pin(async move {
            if let Some(s) = self.lock().await.take() {
                let _ = s.close().await;
            }
        })
    }
}

impl Teardown for CoreCluster {
    fn teardown(self: Arc<Self>) -> Closing {
        Box::pin(async move {
            let _ = self.close().await;
        })
    }
}

/// An in-process corral server.
#[napi]
pub struct EmbeddedServer {
    server: Arc<tokio::sync::Mutex<Option<CoreServer>>>,
    /// Fixed at start: restarts keep the port.
    connect_string: String,
    port: u16,
    data_dir: String,
}

#[napi]
impl EmbeddedServer {
    /// Starts a server.
    #[napi(ts_return_type = "Promise<EmbeddedServer>")]
    pub fn start<'env>(env: &'env Env, options: Option<ServerOptions>) -> Result<PromiseRaw<'env, EmbeddedServer>> {
        let fut = async move {
            let builder = match options {
                Some(o) => builder(o)?,
                None => ServerBuilder::new(),
            };
            let server = builder.start().await?;
            Ok(EmbeddedServer {
                connect_string: server.connect_string(),
                port: server.port(),
                data_dir: server.data_dir().display().to_string(),
                server: Arc::new(tokio::sync::Mutex::new(Some(server))),
            })
        };
        spawn(env, None, fut, |env, server| {
            on_teardown(env, &server.server)?;
            Ok(server)
        })
    }

    /// `127.0.0.1:port`, for `new Client(...)`.
    #[napi(getter)]
    pub fn connect_string(&self) -> String {
        self.connect_string.clone()
    }

    /// The client port.
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port.into()
    }

    /// The data directory.
    #[napi(getter)]
    pub fn data_dir(&self) -> String {
        self.data_dir.clone()
    }

    /// Stops serving (clients are disconnected; data, sessions and port stay).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let server = self.server.clone();
        spawn_value(env, None, async move {
            match server.lock().await.as_mut() {
                Some(s) => Ok(s.stop().await?),
                None => Err(Failure::corral("ERR_CORRAL_CLOSED", "the server is closed")),
            }
        })
    }

    /// Serves again after `stop()`, on the same port and data (sessions resume).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn serve<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let server = self.server.clone();
        spawn_value(env, None, async move {
            match server.lock().await.as_mut() {
                Some(s) => Ok(s.serve().await?),
                None => Err(Failure::corral("ERR_CORRAL_CLOSED", "the server is closed")),
            }
        })
    }

    /// Stops and serves again.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn restart<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let server = self.server.clone();
        spawn_value(env, None, async move {
            match server.lock().await.as_mut() {
                Some(s) => Ok(s.restart().await?),
                None => Err(Failure::corral("ERR_CORRAL_CLOSED", "the server is closed")),
            }
        })
    }

    /// Whether it serves now.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn is_running<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, bool>> {
        let server = self.server.clone();
        spawn_value(env, None, async move { Ok(server.lock().await.as_ref().is_some_and(|s| s.is_running())) })
    }

    /// Stops the server for good and removes its temporary data directory.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let server = self.server.clone();
        spawn_value(env, None, async move {
            match server.lock().await.take() {
                Some(s) => Ok(s.close().await?),
                None => Ok(()),
            }
        })
    }
}

/// Settings of a test cluster.
#[napi(object, object_to_js = false)]
pub struct ClusterOptions {
    /// Voting members; default 3.
    pub size: Option<u32>,
    /// Observers (non-voting members); default 0.
    pub observers: Option<u32>,
    /// tickTime in ms.
    pub tick_ms: Option<u32>,
    /// `zoo.cfg` keys and values for every member.
    pub options: Option<HashMap<String, String>>,
    /// How long `start` and `leader` wait for the cluster to settle, in ms.
    pub settle_timeout: Option<u32>,
}

/// Options of `leader()`.
#[napi(object, object_to_js = false)]
pub struct LeaderOptions {
    /// How long to wait for a leader, in ms.
    pub timeout: Option<u32>,
}

/// A replicated ensemble in this process; members are numbered from 0.
#[napi]
pub struct TestCluster {
    cluster: Arc<CoreCluster>,
    settle: Duration,
}

fn member(index: u32) -> usize {
    index as usize
}

#[napi]
impl TestCluster {
    /// Starts a cluster and waits until it serves.
    #[napi(ts_return_type = "Promise<TestCluster>")]
    pub fn start<'env>(env: &'env Env, options: Option<ClusterOptions>) -> Result<PromiseRaw<'env, TestCluster>> {
        let o = options.unwrap_or(ClusterOptions {
            size: None,
            observers: None,
            tick_ms: None,
            options: None,
            settle_timeout: None,
        });
        let settle = o.settle_timeout.map_or(SETTLE_TIMEOUT_DEFAULT, |ms| Duration::from_millis(ms.into()));
        let mut b = ClusterBuilder::new()
            .voters(o.size.unwrap_or(3) as usize)
            .observers(o.observers.unwrap_or(0) as usize)
            .settle_timeout(settle);
        if let Some(ms) = o.tick_ms {
            b = b.tick_ms(ms);
        }
        for (k, v) in o.options.unwrap_or_default() {
            b = b.option(k, v);
        }
        let fut = async move { Ok(TestCluster { cluster: Arc::new(b.start().await?), settle }) };
        spawn(env, None, fut, |env, cluster| {
            on_teardown(env, &cluster.cluster)?;
            Ok(cluster)
        })
    }

    /// Every member's address, for `new Client(...)`.
    #[napi(getter)]
    pub fn connect_string(&self) -> String {
        self.cluster.connect_string()
    }

    /// How many members there are.
    #[napi(getter)]
    pub fn size(&self) -> u32 {
        self.cluster.member_count() as u32
    }

    /// The index of the leader, once there is one.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn leader<'env>(&self, env: &'env Env, options: Option<LeaderOptions>) -> Result<PromiseRaw<'env, u32>> {
        let timeout = options.and_then(|o| o.timeout).map_or(self.settle, |ms| Duration::from_millis(ms.into()));
        let cluster = self.cluster.clone();
        spawn_value(env, None, async move { Ok(cluster.leader(timeout).await? as u32) })
    }

    /// A member's role: `'leader'`, `'follower'`, `'observer'`, `'looking'`; `null` when it is down.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn mode<'env>(&self, env: &'env Env, index: u32) -> Result<PromiseRaw<'env, Option<&'static str>>> {
        let cluster = self.cluster.clone();
        spawn_value(env, None, async move { Ok(cluster.mode(member(index)).await?.map(|r| r.name())) })
    }

    /// A member's client port.
    #[napi]
    pub fn port(&self, env: Env, index: u32) -> Result<u32> {
        self.cluster.port(member(index)).map(u32::from).map_err(|e| crate::error::throw(&env, e.into()))
    }

    /// Stops a member abruptly, as a crash would.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn kill<'env>(&self, env: &'env Env, index: u32) -> Result<PromiseRaw<'env, ()>> {
        let cluster = self.cluster.clone();
        spawn_value(env, None, async move { Ok(cluster.kill(member(index)).await?) })
    }

    /// Starts a killed member again (same port, same data).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn restart<'env>(&self, env: &'env Env, index: u32) -> Result<PromiseRaw<'env, ()>> {
        let cluster = self.cluster.clone();
        spawn_value(env, None, async move { Ok(cluster.restart(member(index)).await?) })
    }

    /// Whether a member is running.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn is_running<'env>(&self, env: &'env Env, index: u32) -> Result<PromiseRaw<'env, bool>> {
        let cluster = self.cluster.clone();
        spawn_value(env, None, async move { Ok(cluster.is_running(member(index)).await?) })
    }

    /// Stops every member and removes their data.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let cluster = self.cluster.clone();
        spawn_value(env, None, async move { Ok(cluster.close().await?) })
    }
}

/// Options of `expireSession`.
#[napi(object, object_to_js = false)]
pub struct ExpireOptions {
    /// How long the client may take to see the expiry and get a new session, in ms; default 10000.
    pub timeout: Option<u32>,
}

/// How long `expireSession` waits for the new session unless told otherwise.
const EXPIRE_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);

/// Expires `client`'s session on purpose (as ZooKeeper's own tests do: another
/// connection takes the session over and closes it), against corral or
/// ZooKeeper at `server`; resolves with the client's new session id once it
/// has one. The client sees `'lost'`, then `'reconnected'`.
#[napi(ts_return_type = "Promise<bigint>")]
pub fn expire_session<'env>(
    env: &'env Env,
    client: &Client,
    server: String,
    options: Option<ExpireOptions>,
) -> Result<PromiseRaw<'env, BigInt>> {
    let client = client.core();
    let timeout = options.and_then(|o| o.timeout).map_or(EXPIRE_TIMEOUT_DEFAULT, |ms| Duration::from_millis(ms.into()));
    spawn_value(env, None, async move { Ok(core_expire_session(&client?, &server, timeout).await?.into()) })
}
