//! Service discovery, following Curator's x-discovery layout and JSON, so
//! corral and Curator (`ServiceDiscovery`, the discovery REST server)
//! processes see each other's instances:
//!
//! - each instance is a node `<base>/<service-name>/<instance-id>` whose data
//!   is Curator's `ServiceInstance` JSON: `name`, `id`, `address`, `port`,
//!   `sslPort`, `payload`, `registrationTimeUTC`, `serviceType`, `uriSpec`,
//!   `enabled`;
//! - `DYNAMIC` instances are ephemeral, `DYNAMIC_SEQUENTIAL` ones
//!   ephemeral-sequential, `STATIC` and `PERMANENT` ones persistent (as Curator
//!   creates them).
//!
//! Dynamic registrations are kept by a
//! [`PersistentEphemeralNode`]: re-created after the
//! session is lost (Curator re-registers on reconnect) and when someone
//! deletes them. A [`ServiceCache`] follows one service with a persistent
//! recursive watch (ZooKeeper 3.6+, as Curator 5's cache) and keeps a live
//! instance list.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use super::election::{transient, until_connected};
use super::persistent_node::PersistentEphemeralNode;
use super::util::{retry, uuid};
use crate::client::{Client, CreateOptions, Error, KeeperState, Result, State};
use crate::proto::{AddWatchMode, Code, CreateMode};

/// Pause after a failed call before trying again.
const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Shortest wait for a dynamic registration's first create.
const REGISTER_WAIT_MIN: Duration = Duration::from_secs(10);

/// Curator's `ServiceType`: how an instance's node is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceType {
    /// An ephemeral node that lives with the registering session (the default).
    #[default]
    Dynamic,
    /// An ephemeral-sequential node.
    DynamicSequential,
    /// A persistent node (Curator's REST server purges these after a while).
    Static,
    /// A persistent node that must be unregistered explicitly.
    Permanent,
}

/// One part of a [`UriSpec`]: literal text or a `{variable}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UriPart {
    /// The text, or the variable's name.
    pub value: String,
    /// Whether `value` names a variable.
    pub variable: bool,
}

/// Curator's `UriSpec`: a URI template such as `{scheme}://{address}:{port}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UriSpec {
    /// The template, split into literal and variable parts.
    pub parts: Vec<UriPart>,
}

impl UriSpec {
    /// Parses a template; `{name}` is a variable, an unclosed `{` is text.
    pub fn new(template: &str) -> UriSpec {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
            if open > 0 {
                parts.push(UriPart { value: rest[..open].to_string(), variable: false });
            }
            parts.push(UriPart { value: rest[open + 1..close].to_string(), variable: true });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(UriPart { value: rest.to_string(), variable: false });
        }
        UriSpec { parts }
    }

    /// Fills in Curator's variables from `instance`: `scheme` (`https` when
    /// there is an SSL port), `name`, `id`, `address`, `port`, `ssl-port`,
    /// `registration-time-utc`, `service-type`. Others stay as `{name}`.
    pub fn build(&self, instance: &ServiceInstance) -> String {
        let opt = |v: Option<i32>| v.map(|p| p.to_string()).unwrap_or_default();
        self.parts
            .iter()
            .map(|p| {
                if !p.variable {
                    return p.value.clone();
                }
                match p.value.as_str() {
                    "scheme" => if instance.ssl_port.is_some() { "https" } else { "http" }.to_string(),
                    "name" => instance.name.clone(),
                    "id" => instance.id.clone(),
                    "address" => instance.address.clone().unwrap_or_default(),
                    "port" => opt(instance.port),
                    "ssl-port" => opt(instance.ssl_port),
                    "registration-time-utc" => instance.registration_time_utc.to_string(),
                    "service-type" => match instance.service_type {
                        ServiceType::Dynamic => "dynamic",
                        ServiceType::DynamicSequential => "dynamic_sequential",
                        ServiceType::Static => "static",
                        ServiceType::Permanent => "permanent",
                    }
                    .to_string(),
                    other => format!("{{{other}}}"),
                }
            })
            .collect()
    }
}

fn enabled_default() -> bool {
    true
}

/// Curator's `ServiceInstance`, serialized with Curator's JSON field names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceInstance {
    /// The service's name (the node's parent).
    pub name: String,
    /// This instance's id, unique within the service (the node's name).
    pub id: String,
    /// Host name or IP address.
    pub address: Option<String>,
    /// Plain port.
    pub port: Option<i32>,
    /// TLS port.
    pub ssl_port: Option<i32>,
    /// Anything the application wants to publish (arbitrary JSON).
    pub payload: Option<serde_json::Value>,
    /// Registration time, ms since the Unix epoch.
    #[serde(rename = "registrationTimeUTC", default)]
    pub registration_time_utc: i64,
    /// How the node is kept.
    #[serde(default)]
    pub service_type: ServiceType,
    /// A URI template for clients.
    pub uri_spec: Option<UriSpec>,
    /// Whether the instance takes work (Curator 4+; `true` when absent).
    #[serde(default = "enabled_default")]
    pub enabled: bool,
}

impl ServiceInstance {
    /// A `DYNAMIC` instance of service `name` with a random id, registered now.
    pub fn new(name: &str) -> ServiceInstance {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        ServiceInstance {
            name: name.to_string(),
            id: uuid(),
            address: None,
            port: None,
            ssl_port: None,
            payload: None,
            registration_time_utc: now,
            service_type: ServiceType::Dynamic,
            uri_spec: None,
            enabled: true,
        }
    }

    /// Sets the id.
    pub fn with_id(mut self, id: &str) -> ServiceInstance {
        self.id = id.to_string();
        self
    }

    /// Sets the address.
    pub fn with_address(mut self, address: &str) -> ServiceInstance {
        self.address = Some(address.to_string());
        self
    }

    /// Sets the port.
    pub fn with_port(mut self, port: i32) -> ServiceInstance {
        self.port = Some(port);
        self
    }

    /// Sets the SSL port.
    pub fn with_ssl_port(mut self, port: i32) -> ServiceInstance {
        self.ssl_port = Some(port);
        self
    }

    /// Sets the payload.
    pub fn with_payload(mut self, payload: serde_json::Value) -> ServiceInstance {
        self.payload = Some(payload);
        self
    }

    /// Sets the service type.
    pub fn with_service_type(mut self, service_type: ServiceType) -> ServiceInstance {
        self.service_type = service_type;
        self
    }

    /// Sets the URI template (see [`UriSpec::new`]).
    pub fn with_uri_spec(mut self, template: &str) -> ServiceInstance {
        self.uri_spec = Some(UriSpec::new(template));
        self
    }

    /// The URI from the instance's template, if it has one.
    pub fn build_uri(&self) -> Option<String> {
        self.uri_spec.as_ref().map(|s| s.build(self))
    }

    /// The node data: Curator's JSON.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads Curator's JSON. Curator's serializer, in its default
    /// compatible mode, tags an object payload with its Java class
    /// (`"@class": "java.util.LinkedHashMap"`); the tag is type information
    /// for Java, not the application's data, so it is dropped.
    pub fn from_json(data: &[u8]) -> std::result::Result<ServiceInstance, serde_json::Error> {
        let mut instance: ServiceInstance = serde_json::from_slice(data)?;
        if let Some(serde_json::Value::Object(fields)) = &mut instance.payload {
            fields.remove("@class");
        }
        Ok(instance)
    }
}

/// A registration this process keeps.
enum Registration {
    /// Kept present by a background task.
    Dynamic(PersistentEphemeralNode),
    /// A persistent node at this path.
    Fixed(String),
}

/// Registers, queries and follows service instances under one base path.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::discovery::{ServiceDiscovery, ServiceInstance};
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let discovery = ServiceDiscovery::new(&client, "/services");
/// let me = ServiceInstance::new("api").with_address("10.0.0.7").with_port(8080).with_uri_spec("{scheme}://{address}:{port}");
/// discovery.register(&me).await?;
/// assert_eq!(discovery.query_for_names().await?, ["api"]);
/// let found = discovery.query_for_instance("api", &me.id).await?.expect("registered");
/// assert_eq!(found.build_uri().as_deref(), Some("http://10.0.0.7:8080"));
/// let mut cache = discovery.service_cache("api").await?;
/// assert_eq!(cache.instances().len(), 1);
/// discovery.unregister(&me).await?;
/// assert_eq!(cache.changed().await.map(|l| l.len()), Some(0));
/// # Ok(()) }
/// ```
pub struct ServiceDiscovery {
    client: Client,
    base_path: String,
    /// What this process registered, by (name, id).
    registered: tokio::sync::Mutex<HashMap<(String, String), Registration>>,
}

impl ServiceDiscovery {
    /// Discovery under `base_path` (Curator's `basePath`).
    pub fn new(client: &Client, base_path: &str) -> ServiceDiscovery {
        ServiceDiscovery {
            client: client.clone(),
            base_path: base_path.trim_end_matches('/').to_string(),
            registered: tokio::sync::Mutex::new(HashMap::new()),
        }
    }

    fn service_path(&self, name: &str) -> String {
        format!("{}/{name}", self.base_path)
    }

    fn instance_path(&self, name: &str, id: &str) -> String {
        format!("{}/{name}/{id}", self.base_path)
    }

    /// Registers `instance`, replacing an earlier registration of the same
    /// id (by this process or, as Curator does, a leftover node at its path).
    pub async fn register(&self, instance: &ServiceInstance) -> Result<()> {
        let key = (instance.name.clone(), instance.id.clone());
        let path = self.instance_path(&instance.name, &instance.id);
        let old = self.registered.lock().await.remove(&key);
        if let Some(Registration::Dynamic(node)) = old {
            node.close().await?;
        }
        let data = instance.to_json();
        let registration = match instance.service_type {
            ServiceType::Dynamic | ServiceType::DynamicSequential => {
                let mode = if instance.service_type == ServiceType::Dynamic {
                    // Curator deletes what stands at the path, so watchers see the new instance.
                    match retry(&self.client, || self.client.delete(&path, None)).await {
                        Err(e) if e.code != Code::NoNode => return Err(e),
                        _ => CreateMode::Ephemeral,
                    }
                } else {
                    CreateMode::EphemeralSequential
                };
                let mut node = PersistentEphemeralNode::new(&self.client, &path, mode, &data);
                node.start();
                if !node.wait_for_initial_create(self.client.session_timeout().max(REGISTER_WAIT_MIN)).await {
                    node.close().await?;
                    return Err(Error::at(Code::OperationTimeout, path));
                }
                Registration::Dynamic(node)
            }
            ServiceType::Static | ServiceType::Permanent => {
                self.create_persistent(&path, &data).await?;
                Registration::Fixed(path)
            }
        };
        self.registered.lock().await.insert(key, registration);
        Ok(())
    }

    async fn create_persistent(&self, path: &str, data: &[u8]) -> Result<()> {
        let opts = CreateOptions::default();
        loop {
            match retry(&self.client, || self.client.create(path, data, &opts)).await {
                Ok(_) => return Ok(()),
                Err(e) if e.code == Code::NoNode => {
                    let parent = &path[..path.rfind('/').unwrap_or(0)];
                    retry(&self.client, || self.client.ensure_path(parent)).await?;
                }
                Err(e) if e.code == Code::NodeExists => {
                    match retry(&self.client, || self.client.delete(path, None)).await {
                        Err(e) if e.code != Code::NoNode => return Err(e),
                        _ => {}
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Publishes new data for an instance this process registered (NoNode if
    /// it did not).
    pub async fn update(&self, instance: &ServiceInstance) -> Result<()> {
        let path = self.instance_path(&instance.name, &instance.id);
        let data = instance.to_json();
        let registered = self.registered.lock().await;
        match registered.get(&(instance.name.clone(), instance.id.clone())) {
            None => Err(Error::at(Code::NoNode, path)),
            Some(Registration::Dynamic(node)) => node.set_data(&data).await,
            Some(Registration::Fixed(p)) => {
                retry(&self.client, || self.client.set_data(p, &data, None)).await.map(|_| ())
            }
        }
    }

    /// Removes an instance (registered by this process or not).
    pub async fn unregister(&self, instance: &ServiceInstance) -> Result<()> {
        let path = self.instance_path(&instance.name, &instance.id);
        let removed = self.registered.lock().await.remove(&(instance.name.clone(), instance.id.clone()));
        let path = match removed {
            Some(Registration::Dynamic(node)) => match node.actual_path() {
                Some(p) => {
                    node.close().await?;
                    p
                }
                None => return node.close().await,
            },
            Some(Registration::Fixed(p)) => p,
            None => path,
        };
        match retry(&self.client, || self.client.delete(&path, None)).await {
            Err(e) if e.code != Code::NoNode => Err(e),
            _ => Ok(()),
        }
    }

    /// The names of all services, sorted.
    pub async fn query_for_names(&self) -> Result<Vec<String>> {
        let mut names = children(&self.client, &self.base_path).await?;
        names.sort();
        Ok(names)
    }

    /// Every instance of service `name`, by id (nodes that are not valid
    /// instance JSON are skipped).
    pub async fn query_for_instances(&self, name: &str) -> Result<Vec<ServiceInstance>> {
        load(&self.client, &self.service_path(name)).await
    }

    /// One instance, if registered; MarshallingError if its data is not instance JSON.
    pub async fn query_for_instance(&self, name: &str, id: &str) -> Result<Option<ServiceInstance>> {
        let path = self.instance_path(name, id);
        match retry(&self.client, || self.client.get_data(&path)).await {
            Ok((data, _)) => {
                ServiceInstance::from_json(&data).map(Some).map_err(|_| Error::at(Code::MarshallingError, path))
            }
            Err(e) if e.code == Code::NoNode => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A live instance list of service `name`, loaded before it returns.
    pub async fn service_cache(&self, name: &str) -> Result<ServiceCache> {
        ServiceCache::start(&self.client, &self.service_path(name)).await
    }

    /// Unregisters the dynamic instances this process registered (static
    /// and permanent ones stay, as they are meant to outlive it).
    pub async fn close(self) -> Result<()> {
        let registered = std::mem::take(&mut *self.registered.lock().await);
        let mut result = Ok(());
        for (_, r) in registered {
            if let Registration::Dynamic(node) = r {
                if let Err(e) = node.close().await {
                    result = Err(e);
                }
            }
        }
        result
    }
}

/// Children of `path`; none if it does not exist.
async fn children(client: &Client, path: &str) -> Result<Vec<String>> {
    match retry(client, || client.get_children(path)).await {
        Ok(c) => Ok(c),
        Err(e) if e.code == Code::NoNode => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Every valid instance under a service path, sorted by id.
async fn load(client: &Client, service_path: &str) -> Result<Vec<ServiceInstance>> {
    let mut out = Vec::new();
    for child in children(client, service_path).await? {
        let path = format!("{service_path}/{child}");
        match retry(client, || client.get_data(&path)).await {
            Ok((data, _)) => match ServiceInstance::from_json(&data) {
                Ok(i) => out.push(i),
                Err(e) => tracing::warn!(%path, error = %e, "discovery: not a service instance"),
            },
            Err(e) if e.code == Code::NoNode => {}
            Err(e) => return Err(e),
        }
    }
    out.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(out)
}

/// A live list of one service's instances (Curator's `ServiceCache`);
/// dropping it stops following.
pub struct ServiceCache {
    rx: watch::Receiver<Vec<ServiceInstance>>,
    /// Dropped with the cache, which stops the background task.
    _stop: watch::Sender<()>,
}

impl ServiceCache {
    async fn start(client: &Client, service_path: &str) -> Result<ServiceCache> {
        let (tx, rx) = watch::channel(load(client, service_path).await?);
        let (stop, stop_rx) = watch::channel(());
        tokio::spawn(follow(client.clone(), service_path.to_string(), tx, stop_rx));
        Ok(ServiceCache { rx, _stop: stop })
    }

    /// The instances as last seen, sorted by id.
    pub fn instances(&self) -> Vec<ServiceInstance> {
        self.rx.borrow().clone()
    }

    /// Waits for the instance list to change and returns it; `None` once it
    /// can no longer be followed (the client was closed).
    pub async fn changed(&mut self) -> Option<Vec<ServiceInstance>> {
        self.rx.changed().await.ok()?;
        Some(self.rx.borrow_and_update().clone())
    }
}

/// Keeps `tx` up to date: reloads after every event under the service and
/// after every reconnect (a persistent watch does not replay what it missed).
async fn follow(client: Client, path: String, tx: watch::Sender<Vec<ServiceInstance>>, mut stop: watch::Receiver<()>) {
    let publish = |list: Vec<ServiceInstance>| {
        tx.send_if_modified(|cur| {
            let changed = *cur != list;
            *cur = list;
            changed
        });
    };
    loop {
        tokio::select! {
            r = until_connected(&client) => if r.is_err() { return },
            _ = stop.changed() => return,
        }
        let mut states = client.state_changes();
        let mut events = match client.add_watch(&path, AddWatchMode::PersistentRecursive).await {
            Ok(s) => s,
            Err(e) => {
                if !transient(&e) {
                    tracing::warn!(%path, error = %e, "service cache: cannot watch");
                }
                tokio::time::sleep(if transient(&e) { RETRY_PAUSE } else { Duration::from_secs(1) }).await;
                continue;
            }
        };
        'watching: loop {
            match load(&client, &path).await {
                Ok(list) => publish(list),
                Err(e) => tracing::debug!(%path, error = %e, "service cache: reload failed; waiting for a reconnect"),
            }
            loop {
                tokio::select! {
                    _ = stop.changed() => return,
                    _ = tx.closed() => return,
                    ev = events.next() => match ev {
                        Some(ev) if ev.state == KeeperState::SyncConnected => {
                            // Take what else is already queued: one reload for a burst.
                            while let Ok(Some(_)) = tokio::time::timeout(Duration::ZERO, events.next()).await {}
                            continue 'watching;
                        }
                        // The watch ended with the session: watch again once a new one is up.
                        _ => break 'watching,
                    },
                    s = states.recv() => match s {
                        Ok(State::Connected | State::Reconnected) | Err(broadcast::error::RecvError::Lagged(_)) => continue 'watching,
                        Ok(State::Closed) | Err(broadcast::error::RecvError::Closed) => return,
                        Ok(_) => {}
                    },
                }
            }
        }
    }
}
