//! `ServiceDiscovery` and `ServiceCache`: core's `discovery` module (Curator's
//! x-discovery layout and JSON). Instances cross as plain tuples; the JSON
//! format stays the core's.

use std::sync::{Arc, Mutex as StdMutex};

use corral::client::Error;
use corral::proto::Code;
use corral::recipes::discovery::{
    ServiceCache as CoreServiceCache, ServiceDiscovery as CoreServiceDiscovery, ServiceInstance, ServiceType, UriSpec,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::{watch, Mutex, RwLock};

use super::{core_client, duration, InRuntime};
use crate::runtime::{block_on, WaitError};

/// `(name, id, address, port, ssl_port, payload as JSON text,
/// registration_time_utc, service_type, uri_spec template, enabled)`.
type InstanceTuple =
    (String, String, Option<String>, Option<i32>, Option<i32>, Option<String>, i64, String, Option<String>, bool);

fn service_type_name(t: ServiceType) -> &'static str {
    match t {
        ServiceType::Dynamic => "DYNAMIC",
        ServiceType::DynamicSequential => "DYNAMIC_SEQUENTIAL",
        ServiceType::Static => "STATIC",
        ServiceType::Permanent => "PERMANENT",
    }
}

fn service_type(name: &str) -> PyResult<ServiceType> {
    Ok(match name {
        "DYNAMIC" => ServiceType::Dynamic,
        "DYNAMIC_SEQUENTIAL" => ServiceType::DynamicSequential,
        "STATIC" => ServiceType::Static,
        "PERMANENT" => ServiceType::Permanent,
        other => return Err(PyValueError::new_err(format!("unknown service type {other:?}"))),
    })
}

/// A URI template back from its parts.
fn template(spec: &UriSpec) -> String {
    spec.parts.iter().map(|p| if p.variable { format!("{{{}}}", p.value) } else { p.value.clone() }).collect()
}

fn to_tuple(i: &ServiceInstance) -> InstanceTuple {
    (
        i.name.clone(),
        i.id.clone(),
        i.address.clone(),
        i.port,
        i.ssl_port,
        i.payload.as_ref().map(|p| p.to_string()),
        i.registration_time_utc,
        service_type_name(i.service_type).to_string(),
        i.uri_spec.as_ref().map(template),
        i.enabled,
    )
}

/// A core instance; an empty id or a zero registration time get fresh ones.
fn from_tuple(t: InstanceTuple) -> PyResult<ServiceInstance> {
    let (name, id, address, port, ssl_port, payload, time, kind, uri_spec, enabled) = t;
    let mut i = ServiceInstance::new(&name);
    if !id.is_empty() {
        i.id = id;
    }
    if time != 0 {
        i.registration_time_utc = time;
    }
    i.address = address;
    i.port = port;
    i.ssl_port = ssl_port;
    i.payload = match payload {
        None => None,
        Some(text) => Some(text.parse().map_err(|e| PyValueError::new_err(format!("the payload is not JSON: {e}")))?),
    };
    i.service_type = service_type(&kind)?;
    i.uri_spec = uri_spec.as_deref().map(UriSpec::new);
    i.enabled = enabled;
    Ok(i)
}

fn closed(path: &str) -> WaitError {
    WaitError::Client(Error::at(Code::ConnectionLoss, path))
}

/// Registers, queries and follows service instances under one base path.
#[pyclass(module = "corral._corral", frozen)]
pub struct ServiceDiscovery {
    base_path: String,
    /// None once closed.
    discovery: InRuntime<Arc<RwLock<Option<CoreServiceDiscovery>>>>,
}

#[pymethods]
impl ServiceDiscovery {
    #[new]
    fn new(client: &Bound<'_, PyAny>, base_path: &str) -> PyResult<ServiceDiscovery> {
        let d = CoreServiceDiscovery::new(&core_client(client)?, base_path);
        Ok(ServiceDiscovery {
            base_path: base_path.to_string(),
            discovery: InRuntime::new(Arc::new(RwLock::new(Some(d)))),
        })
    }

    /// A new instance of service `name`: a fresh id, registered now, DYNAMIC.
    #[staticmethod]
    fn new_instance(name: &str) -> InstanceTuple {
        to_tuple(&ServiceInstance::new(name))
    }

    /// The URI the instance's template gives, if it has one.
    #[staticmethod]
    fn build_uri(instance: InstanceTuple) -> PyResult<Option<String>> {
        Ok(from_tuple(instance)?.build_uri())
    }

    /// Registers an instance (replacing an earlier registration of its id);
    /// returns it as registered.
    fn register(&self, py: Python<'_>, instance: InstanceTuple) -> PyResult<InstanceTuple> {
        let inst = from_tuple(instance)?;
        let d = Arc::clone(&*self.discovery);
        let base = self.base_path.clone();
        block_on(py, async move {
            let guard = d.read().await;
            guard.as_ref().ok_or_else(|| closed(&base))?.register(&inst).await?;
            Ok::<_, WaitError>(to_tuple(&inst))
        })
    }

    /// Publishes new data for an instance this value registered (NoNode otherwise).
    fn update(&self, py: Python<'_>, instance: InstanceTuple) -> PyResult<()> {
        let inst = from_tuple(instance)?;
        let d = Arc::clone(&*self.discovery);
        let base = self.base_path.clone();
        block_on(py, async move {
            let guard = d.read().await;
            guard.as_ref().ok_or_else(|| closed(&base))?.update(&inst).await?;
            Ok::<_, WaitError>(())
        })
    }

    /// Removes the instance `id` of service `name` (registered here or not).
    fn unregister(&self, py: Python<'_>, name: &str, id: &str) -> PyResult<()> {
        let inst = ServiceInstance::new(name).with_id(id);
        let d = Arc::clone(&*self.discovery);
        let base = self.base_path.clone();
        block_on(py, async move {
            let guard = d.read().await;
            guard.as_ref().ok_or_else(|| closed(&base))?.unregister(&inst).await?;
            Ok::<_, WaitError>(())
        })
    }

    /// The names of all services, sorted.
    fn names(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let d = Arc::clone(&*self.discovery);
        let base = self.base_path.clone();
        block_on(py, async move {
            let guard = d.read().await;
            Ok::<_, WaitError>(guard.as_ref().ok_or_else(|| closed(&base))?.query_for_names().await?)
        })
    }

    /// Every instance of service `name`, sorted by id.
    fn instances(&self, py: Python<'_>, name: String) -> PyResult<Vec<InstanceTuple>> {
        let d = Arc::clone(&*self.discovery);
        let base = self.base_path.clone();
        block_on(py, async move {
            let guard = d.read().await;
            let list = guard.as_ref().ok_or_else(|| closed(&base))?.query_for_instances(&name).await?;
            Ok::<_, WaitError>(list.iter().map(to_tuple).collect())
        })
    }

    /// One instance, if registered.
    fn instance(&self, py: Python<'_>, name: String, id: String) -> PyResult<Option<InstanceTuple>> {
        let d = Arc::clone(&*self.discovery);
        let base = self.base_path.clone();
        block_on(py, async move {
            let guard = d.read().await;
            let found = guard.as_ref().ok_or_else(|| closed(&base))?.query_for_instance(&name, &id).await?;
            Ok::<_, WaitError>(found.as_ref().map(to_tuple))
        })
    }

    /// A live instance list of service `name`, loaded before it returns.
    fn cache(&self, py: Python<'_>, name: String) -> PyResult<ServiceCache> {
        let d = Arc::clone(&*self.discovery);
        let base = self.base_path.clone();
        let cache = block_on(py, async move {
            let guard = d.read().await;
            Ok::<_, WaitError>(guard.as_ref().ok_or_else(|| closed(&base))?.service_cache(&name).await?)
        })?;
        let snapshot = cache.instances();
        Ok(ServiceCache {
            cache: Arc::new(Mutex::new(Some(cache))),
            snapshot: Arc::new(StdMutex::new(snapshot)),
            closing: watch::channel(false).0,
        })
    }

    /// Unregisters the dynamic instances this value registered; later calls
    /// fail with ConnectionLoss.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let d = Arc::clone(&*self.discovery);
        block_on(py, async move {
            let taken = d.write().await.take();
            match taken {
                Some(d) => d.close().await,
                None => Ok(()),
            }
        })
    }
}

/// A live list of one service's instances.
#[pyclass(module = "corral._corral", frozen)]
pub struct ServiceCache {
    /// None once closed.
    cache: Arc<Mutex<Option<CoreServiceCache>>>,
    /// The list as last read, answered while a wait holds the cache.
    snapshot: Arc<StdMutex<Vec<ServiceInstance>>>,
    /// Set by `close`, which ends the waits under way.
    closing: watch::Sender<bool>,
}

#[pymethods]
impl ServiceCache {
    /// The instances as last seen, sorted by id.
    fn instances(&self) -> Vec<InstanceTuple> {
        if let Ok(guard) = self.cache.try_lock() {
            if let Some(c) = guard.as_ref() {
                *self.snapshot.lock().unwrap_or_else(|e| e.into_inner()) = c.instances();
            }
        }
        self.snapshot.lock().unwrap_or_else(|e| e.into_inner()).iter().map(to_tuple).collect()
    }

    /// Waits for the list to change (at most `timeout` seconds) and returns
    /// it; None after the timeout, or when the cache is closed.
    #[pyo3(signature = (timeout=None))]
    fn wait_for_change(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<Option<Vec<InstanceTuple>>> {
        let t = duration(timeout)?;
        let cache = self.cache.clone();
        let snapshot = self.snapshot.clone();
        let mut closing = self.closing.subscribe();
        let changed = block_on(py, async move {
            let mut guard = cache.lock().await;
            let Some(c) = guard.as_mut() else {
                return Ok::<_, WaitError>(None);
            };
            *snapshot.lock().unwrap_or_else(|e| e.into_inner()) = c.instances();
            let change = async {
                match t {
                    None => c.changed().await,
                    Some(t) => tokio::time::timeout(t, c.changed()).await.ok().flatten(),
                }
            };
            let list = tokio::select! {
                list = change => list,
                _ = closing.wait_for(|c| *c) => None,
            };
            if let Some(l) = &list {
                *snapshot.lock().unwrap_or_else(|e| e.into_inner()) = l.clone();
            }
            Ok(list)
        })?;
        Ok(changed.map(|l| l.iter().map(to_tuple).collect()))
    }

    /// Stops following the service.
    fn close(&self, py: Python<'_>) {
        self.closing.send_replace(true);
        let cache = self.cache.clone();
        py.detach(|| {
            runtime_drop(cache.blocking_lock().take());
        });
    }
}

/// Drops a core value with the runtime entered.
fn runtime_drop<T>(value: T) {
    drop(InRuntime::new(value));
}
