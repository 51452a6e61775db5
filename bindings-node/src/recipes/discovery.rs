//! Service discovery (Curator's `ServiceDiscovery`). A service instance is,
//! in JS, the plain object of Curator's JSON (`{ name, id, address, port,
//! sslPort, payload, registrationTimeUTC, serviceType, uriSpec, enabled }`):
//! core's JSON crosses the boundary through the JS `JSON` object.

use corral::client::Client as CoreClient;
use corral::recipes::discovery::{ServiceDiscovery as CoreDiscovery, ServiceInstance, ServiceType};
use napi::bindgen_prelude::{Function, JsObjectValue, JsValue, Object, PromiseRaw, Unknown};
use napi::{Env, Result};
use napi_derive::napi;

use super::{live, signal, Slot};
use crate::client::CallOptions;
use crate::error::{throw, Failure};
use crate::events::{EventStream, Feed};
use crate::promise::{spawn, spawn_value};

/// The JS `JSON` object's `method`.
fn json<'env, A, R>(env: &'env Env, method: &str) -> Result<Function<'env, A, R>>
where
    A: napi::bindgen_prelude::JsValuesTupleIntoVec,
    R: napi::bindgen_prelude::FromNapiValue,
{
    let json: Object = env.get_global()?.get_named_property("JSON")?;
    json.get_named_property(method)
}

/// An instance as JS sees it: Curator's JSON, parsed.
pub(crate) fn instance_to_js<'env>(env: &'env Env, instance: &ServiceInstance) -> Result<Unknown<'env>> {
    let text = String::from_utf8_lossy(&instance.to_json()).into_owned();
    json::<String, Unknown>(env, "parse")?.call(text)
}

/// An instance from JS: its JSON, read as Curator's.
fn instance_from_js(env: &Env, instance: Unknown) -> Result<ServiceInstance> {
    let text: String = json::<Unknown, String>(env, "stringify")?.call(instance)?;
    ServiceInstance::from_json(text.as_bytes()).map_err(|e| {
        throw(env, Failure::corral("ERR_CORRAL_ARGUMENT", format!("instance: not a service instance: {e}")))
    })
}

/// Options of `serviceInstance`.
#[napi(object, object_to_js = false)]
pub struct ServiceInstanceOptions<'a> {
    /// The instance id; default a random UUID.
    pub id: Option<String>,
    /// Host name or IP address.
    pub address: Option<String>,
    /// Plain port.
    pub port: Option<i32>,
    /// TLS port.
    pub ssl_port: Option<i32>,
    /// Anything JSON the application publishes.
    #[napi(ts_type = "unknown")]
    pub payload: Option<Unknown<'a>>,
    /// How the node is kept; default `'DYNAMIC'` (ephemeral).
    #[napi(ts_type = "'DYNAMIC' | 'DYNAMIC_SEQUENTIAL' | 'STATIC' | 'PERMANENT'")]
    pub service_type: Option<String>,
    /// A URI template, e.g. `'{scheme}://{address}:{port}'`.
    pub uri_spec: Option<String>,
}

/// A new instance of service `name` (Curator's `ServiceInstance.builder()`),
/// registered now, with a random id unless given.
#[napi(ts_return_type = "ServiceInstance")]
pub fn service_instance<'env>(
    env: &'env Env,
    name: String,
    options: Option<ServiceInstanceOptions<'env>>,
) -> Result<Unknown<'env>> {
    let mut instance = ServiceInstance::new(&name);
    let mut payload = None;
    if let Some(o) = options {
        if let Some(id) = o.id {
            instance = instance.with_id(&id);
        }
        if let Some(a) = o.address {
            instance = instance.with_address(&a);
        }
        if let Some(p) = o.port {
            instance = instance.with_port(p);
        }
        if let Some(p) = o.ssl_port {
            instance = instance.with_ssl_port(p);
        }
        if let Some(t) = o.service_type {
            let kind = match t.as_str() {
                "DYNAMIC" => ServiceType::Dynamic,
                "DYNAMIC_SEQUENTIAL" => ServiceType::DynamicSequential,
                "STATIC" => ServiceType::Static,
                "PERMANENT" => ServiceType::Permanent,
                other => {
                    let f =
                        Failure::corral("ERR_CORRAL_ARGUMENT", format!("serviceType: {other:?} is not a service type"));
                    return Err(throw(env, f));
                }
            };
            instance = instance.with_service_type(kind);
        }
        if let Some(spec) = o.uri_spec {
            instance = instance.with_uri_spec(&spec);
        }
        payload = o.payload;
    }
    let out = instance_to_js(env, &instance)?;
    if let Some(p) = payload {
        let mut obj = out.coerce_to_object()?;
        obj.set_named_property("payload", p)?;
    }
    Ok(out)
}

/// The URI an instance's `uriSpec` makes (Curator's `buildUriSpec`), `null` without one.
#[napi(ts_args_type = "instance: ServiceInstance")]
pub fn service_uri(env: Env, instance: Unknown) -> Result<Option<String>> {
    Ok(instance_from_js(&env, instance)?.build_uri())
}

/// Registers, queries and follows service instances under one base path.
#[napi]
pub struct ServiceDiscovery {
    discovery: Slot<CoreDiscovery>,
}

impl ServiceDiscovery {
    pub(crate) fn new(client: &CoreClient, base_path: &str) -> ServiceDiscovery {
        ServiceDiscovery { discovery: Slot::new(CoreDiscovery::new(client, base_path)) }
    }

    /// `op` on the discovery with one instance from JS.
    fn with_instance<'env, F, Fut>(
        &self,
        env: &'env Env,
        instance: Unknown,
        options: Option<CallOptions>,
        op: F,
    ) -> Result<PromiseRaw<'env, ()>>
    where
        F: FnOnce(Slot<CoreDiscovery>, ServiceInstance) -> Fut,
        Fut: std::future::Future<Output = crate::error::Outcome<()>> + Send + 'static,
    {
        let instance = instance_from_js(env, instance)?;
        spawn_value(env, signal(options), op(self.discovery.clone(), instance))
    }
}

const DISCOVERY: &str = "service discovery";

#[napi]
impl ServiceDiscovery {
    /// Registers `instance` (replacing an earlier registration of its id);
    /// a dynamic one is kept present until unregistered or closed.
    #[napi(ts_args_type = "instance: ServiceInstance, options?: CallOptions", ts_return_type = "Promise<void>")]
    pub fn register<'env>(
        &self,
        env: &'env Env,
        instance: Unknown,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        self.with_instance(env, instance, options, |d, i| async move {
            let d = d.read().await;
            Ok(live(d.as_deref(), DISCOVERY)?.register(&i).await?)
        })
    }

    /// Publishes new data for an instance this value registered (NoNode if it did not).
    #[napi(ts_args_type = "instance: ServiceInstance, options?: CallOptions", ts_return_type = "Promise<void>")]
    pub fn update<'env>(
        &self,
        env: &'env Env,
        instance: Unknown,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        self.with_instance(env, instance, options, |d, i| async move {
            let d = d.read().await;
            Ok(live(d.as_deref(), DISCOVERY)?.update(&i).await?)
        })
    }

    /// Removes an instance (registered here or not).
    #[napi(ts_args_type = "instance: ServiceInstance, options?: CallOptions", ts_return_type = "Promise<void>")]
    pub fn unregister<'env>(
        &self,
        env: &'env Env,
        instance: Unknown,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        self.with_instance(env, instance, options, |d, i| async move {
            let d = d.read().await;
            Ok(live(d.as_deref(), DISCOVERY)?.unregister(&i).await?)
        })
    }

    /// The names of all services, sorted.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn query_for_names<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let d = self.discovery.clone();
        spawn_value(env, signal(options), async move {
            let d = d.read().await;
            Ok(live(d.as_deref(), DISCOVERY)?.query_for_names().await?)
        })
    }

    /// Every instance of service `name`, sorted by id.
    #[napi(ts_return_type = "Promise<ServiceInstance[]>")]
    pub fn query_for_instances<'env>(
        &self,
        env: &'env Env,
        name: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<Unknown<'env>>>> {
        let d = self.discovery.clone();
        let fut = async move {
            let d = d.read().await;
            Ok(live(d.as_deref(), DISCOVERY)?.query_for_instances(&name).await?)
        };
        spawn(env, signal(options), fut, |env, list| list.iter().map(|i| instance_to_js(env, i)).collect())
    }

    /// One instance, `null` when not registered.
    #[napi(ts_return_type = "Promise<ServiceInstance | null>")]
    pub fn query_for_instance<'env>(
        &self,
        env: &'env Env,
        name: String,
        id: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Option<Unknown<'env>>>> {
        let d = self.discovery.clone();
        let fut = async move {
            let d = d.read().await;
            Ok(live(d.as_deref(), DISCOVERY)?.query_for_instance(&name, &id).await?)
        };
        spawn(env, signal(options), fut, |env, found| found.map(|i| instance_to_js(env, &i)).transpose())
    }

    /// A live instance list of service `name` (index.js's `watchInstances()`).
    #[napi(skip_typescript)]
    pub fn subscribe<'env>(
        &self,
        env: &'env Env,
        name: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, EventStream>> {
        let d = self.discovery.clone();
        spawn_value(env, signal(options), async move {
            let d = d.read().await;
            let cache = live(d.as_deref(), DISCOVERY)?.service_cache(&name).await?;
            Ok(EventStream::new(Feed::Instances { cache: super::InRuntime::new(cache), first: true }))
        })
    }

    /// Unregisters the dynamic instances this value registered (static and
    /// permanent ones stay); nothing when closed.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let d = self.discovery.clone();
        spawn_value(env, None, async move {
            match d.take().await {
                Some(d) => Ok(d.close().await?),
                None => Ok(()),
            }
        })
    }
}
