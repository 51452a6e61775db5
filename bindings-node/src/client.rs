//! `Client`: one session, every operation a Promise, 64-bit values as
//! `bigint`, data as `Buffer`. index.js adds the `'state'` events (pumped
//! from [`Client::next_state`]) and the `watch()` iterator (over [`Client::add_watch`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::client::{
    Client as CoreClient, ClientBuilder, ConnectString, CreateOptions as CoreCreate, Error as ClientError, KeeperState,
    OneshotWatch, OpResult as CoreOpResult, State, WatchStream as CoreWatchStream,
};
use corral::proto::{Acl as CoreAcl, AddWatchMode, Code, Stat as CoreStat, WatcherType};
use napi::bindgen_prelude::{BigInt, Buffer, Either3, JsObjectValue, Null, Object, PromiseRaw, ToNapiValue, Unknown};
use napi::{Env, Result};
use napi_derive::napi;
use tokio::sync::broadcast;

use crate::convert::{create_mode, Acl, Stat, WatchedEvent};
use crate::error::{throw, Failure, Outcome};
use crate::promise::{passive, spawn, spawn_value};
use crate::teardown::{on_teardown, Closing, Teardown};

/// How to connect.
#[napi(object, object_to_js = false)]
pub struct ClientOptions {
    /// Requested session timeout in ms (the server clamps it); default 10000.
    pub session_timeout: Option<u32>,
    /// How long `connect()` may take in ms; default the session timeout.
    pub connection_timeout: Option<u32>,
    /// Accept read-only servers.
    pub read_only: Option<bool>,
    /// Identities every connection authenticates with.
    pub auth: Option<Vec<AuthInfo>>,
}

/// An identity: `{ scheme: 'digest', auth: Buffer.from('user:password') }`.
#[napi(object, object_to_js = false)]
pub struct AuthInfo {
    /// Authentication scheme.
    pub scheme: String,
    /// Scheme-specific credentials.
    pub auth: Buffer,
}

/// Options every call takes.
#[napi(object, object_to_js = false)]
pub struct CallOptions<'a> {
    /// Aborts the call: it rejects with an AbortError (a write may still have been applied).
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of `create`.
#[napi(object, object_to_js = false)]
pub struct CreateOptions<'a> {
    /// A `CreateMode` value; default `PERSISTENT`.
    pub mode: Option<i32>,
    /// ACL; default world:anyone with every permission.
    pub acl: Option<Vec<Acl>>,
    /// TTL in ms, for the TTL modes.
    pub ttl: Option<i64>,
    /// Create missing parents as persistent nodes.
    pub make_path: Option<bool>,
    /// Aborts the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of the calls that take an expected version.
#[napi(object, object_to_js = false)]
pub struct VersionOptions<'a> {
    /// The version the node must have; default any.
    pub version: Option<i32>,
    /// Aborts the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of the reads that can leave a one-shot watch.
#[napi(object, object_to_js = false)]
pub struct ReadOptions<'a> {
    /// Also watch the node: the result's `watch` resolves with the next event.
    pub watch: Option<bool>,
    /// Aborts the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of `addWatch`.
#[napi(object, object_to_js = false)]
pub struct AddWatchOptions<'a> {
    /// Watch the whole subtree (persistent recursive), not only the node.
    pub recursive: Option<bool>,
    /// Aborts the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// One sub-operation of a transaction (index.js's `Transaction` builds them).
#[napi(object, object_to_js = false)]
pub struct TxnOp {
    /// The operation.
    #[napi(js_name = "type", ts_type = "'create' | 'remove' | 'setData' | 'check'")]
    pub kind: String,
    /// The node.
    pub path: String,
    /// Data of `create` and `setData`.
    pub data: Option<Buffer>,
    /// `create`'s mode.
    pub mode: Option<i32>,
    /// `create`'s ACL.
    pub acl: Option<Vec<Acl>>,
    /// `create`'s TTL in ms.
    pub ttl: Option<i64>,
    /// Expected version of `remove`, `setData` and `check`.
    pub version: Option<i32>,
}

/// One identity of a connection, as `whoAmI()` reports it.
#[napi(object, object_from_js = false)]
pub struct ClientInfo {
    /// `ip`, `digest`, `super`, ...
    pub auth_scheme: String,
    /// The user, or the address.
    pub user: String,
}

/// A [`TxnOp`] with its data copied out of JS, to cross to the runtime.
struct TxnStep {
    kind: String,
    path: String,
    data: Vec<u8>,
    mode: Option<i32>,
    acl: Option<Vec<Acl>>,
    ttl: Option<i64>,
    version: Option<i32>,
}

/// The result of one sub-operation of a committed transaction.
#[napi(object, object_from_js = false)]
pub struct OpResult {
    /// The operation.
    #[napi(js_name = "type", ts_type = "'create' | 'remove' | 'setData' | 'check'")]
    pub kind: String,
    /// The created node's actual path (`create`).
    pub path: Option<String>,
    /// The node's new Stat (`create`, `setData`).
    pub stat: Option<Stat>,
}

/// The state feed behind the `'state'` events.
struct StateFeed {
    /// `connected`, reported before anything the channel carries.
    first: Option<State>,
    changes: broadcast::Receiver<State>,
}

/// What every handle of one `Client` shares.
struct Shared {
    builder: ClientBuilder,
    /// The session; `None` before `connect()` and after `close()`.
    client: Mutex<Option<CoreClient>>,
    closed: AtomicBool,
    states: tokio::sync::Mutex<Option<StateFeed>>,
}

impl Shared {
    /// The live session, or why there is none.
    fn live(&self) -> Outcome<CoreClient> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Failure::corral("ERR_CORRAL_CLOSED", "the client is closed"));
        }
        let client = self.client.lock().map_err(|_| Failure::corral("ERR_CORRAL_CLOSED", "the client is closed"))?;
        client.clone().ok_or_else(|| {
            Failure::corral("ERR_CORRAL_NOT_CONNECTED", "the client is not connected: call connect() first")
        })
    }
}

impl Teardown for Shared {
    fn teardown(self: Arc<Self>) -> Closing {
        self.closed.store(true, Ordering::Release);
        let client = self.client.lock().ok().and_then(|mut c| c.take());
        Box::pin(async move {
            if let Some(c) = client {
                c.close().await;
            }
        })
    }
}

/// A ZooKeeper client session.
#[napi]
pub struct Client {
    shared: Arc<Shared>,
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Connected => "connected",
        State::Suspended => "suspended",
        State::Reconnected => "reconnected",
        State::ReadOnly => "readOnly",
        State::Lost => "lost",
        State::Closed => "closed",
    }
}

/// Core's create options from JS's.
fn core_create(mode: Option<i32>, acl: Option<Vec<Acl>>, ttl: Option<i64>) -> Outcome<CoreCreate> {
    let mut opts = CoreCreate::mode(create_mode(mode)?);
    if let Some(acl) = acl {
        opts = opts.with_acl(acl.into_iter().map(CoreAcl::from).collect());
    }
    if let Some(ttl) = ttl {
        opts = opts.with_ttl_ms(ttl);
    }
    Ok(opts)
}

/// The parent of a client path (`/a/b` → `/a`, `/a` → `/`).
fn parent(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((p, _)) => p,
    }
}

/// A read's result as JS sees it: `{ <field>: value, stat, watch? }`.
fn read_result<'env, V: ToNapiValue>(
    env: &'env Env,
    field: &str,
    value: V,
    stat: CoreStat,
    watch: Option<OneshotWatch>,
) -> Result<Object<'env>> {
    let mut out = Object::new(env)?;
    out.set_named_property(field, value)?;
    out.set_named_property("stat", Stat::from(stat))?;
    if let Some(w) = watch {
        out.set_named_property("watch", watch_promise(env, w)?)?;
    }
    Ok(out)
}

/// A one-shot watch as a Promise of its event.
fn watch_promise<'env>(env: &'env Env, watch: OneshotWatch) -> Result<PromiseRaw<'env, WatchedEvent>> {
    env.spawn_future(async move { Ok(WatchedEvent::from(watch.await)) })
}

impl Client {
    /// The live session, for the kit's fault helpers.
    pub(crate) fn core(&self) -> Outcome<CoreClient> {
        self.shared.live()
    }
}

#[napi]
impl Client {
    /// A client for `connectString` (`host:port[,host:port...][/chroot]`);
    /// nothing connects until `connect()`.
    #[napi(constructor)]
    pub fn new(env: Env, connect_string: String, options: Option<ClientOptions>) -> Result<Client> {
        ConnectString::parse(&connect_string).map_err(|e| throw(&env, e.into()))?;
        let mut builder = CoreClient::builder(&connect_string);
        if let Some(o) = options {
            if let Some(ms) = o.session_timeout {
                builder = builder.session_timeout(Duration::from_millis(ms.into()));
            }
            if let Some(ms) = o.connection_timeout {
                builder = builder.connection_timeout(Duration::from_millis(ms.into()));
            }
            if let Some(ro) = o.read_only {
                builder = builder.read_only(ro);
            }
            for a in o.auth.unwrap_or_default() {
                builder = builder.auth(&a.scheme, &a.auth);
            }
        }
        let shared =
            Shared { builder, client: Mutex::new(None), closed: AtomicBool::new(false), states: Default::default() };
        let shared = Arc::new(shared);
        on_teardown(&env, &shared)?;
        Ok(Client { shared })
    }

    /// Establishes the session (does nothing when connected).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn connect<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, ()>> {
        let shared = self.shared.clone();
        let fut = async move {
            if shared.live().is_ok() {
                return Ok(());
            }
            if shared.closed.load(Ordering::Acquire) {
                return Err(Failure::corral("ERR_CORRAL_CLOSED", "the client is closed"));
            }
            let client = shared.builder.clone().connect().await?;
            let changes = client.state_changes();
            *shared.states.lock().await = Some(StateFeed { first: Some(State::Connected), changes });
            if let Ok(mut slot) = shared.client.lock() {
                *slot = Some(client);
            }
            Ok(())
        };
        spawn_value(env, options.and_then(|o| o.signal), fut)
    }

    /// Closes the session (its ephemerals go); later calls fail with `ERR_CORRAL_CLOSED`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let shared = self.shared.clone();
        let fut = async move {
            shared.closed.store(true, Ordering::Release);
            let client = shared.client.lock().ok().and_then(|mut c| c.take());
            match client {
                Some(c) => c.close().await,
                // Never connected: no state will come, so the feed ends here.
                None => *shared.states.lock().await = None,
            }
            Ok(())
        };
        spawn_value(env, None, fut)
    }

    /// The next connection state change (`null` once the client is closed);
    /// index.js turns these into `'state'` events.
    #[napi(
        ts_return_type = "Promise<'connected' | 'suspended' | 'reconnected' | 'lost' | 'closed' | 'readOnly' | null>"
    )]
    pub fn next_state<'env>(&self, env: &'env Env) -> Result<Unknown<'env>> {
        let shared = self.shared.clone();
        let fut = async move {
            let mut feed = shared.states.lock().await;
            let f = feed.as_mut()?;
            let state = match f.first.take() {
                Some(s) => Some(s),
                None => loop {
                    match f.changes.recv().await {
                        Ok(s) => break Some(s),
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => break None,
                    }
                },
            };
            if matches!(state, None | Some(State::Closed)) {
                *feed = None;
            }
            state.map(state_name)
        };
        passive(env, fut)
    }

    /// The connection state now (`null` before `connect()`).
    #[napi(
        getter,
        ts_return_type = "'connected' | 'suspended' | 'reconnected' | 'lost' | 'closed' | 'readOnly' | null"
    )]
    pub fn state(&self) -> Option<&'static str> {
        if self.shared.closed.load(Ordering::Acquire) {
            return Some("closed");
        }
        self.shared.live().ok().map(|c| state_name(c.state()))
    }

    /// The session id (`0n` while there is none).
    #[napi(getter)]
    pub fn session_id(&self) -> BigInt {
        self.shared.live().map(|c| c.session_id()).unwrap_or(0).into()
    }

    /// The session timeout the server granted, in ms (0 while there is none).
    #[napi(getter)]
    pub fn session_timeout(&self) -> u32 {
        self.shared.live().map(|c| c.session_timeout().as_millis().min(u32::MAX.into()) as u32).unwrap_or(0)
    }

    /// The highest zxid seen in any reply.
    #[napi(getter)]
    pub fn last_zxid(&self) -> BigInt {
        self.shared.live().map(|c| c.last_zxid()).unwrap_or(0).into()
    }

    /// Creates a node; resolves with its actual path (sequential suffix included).
    #[napi(ts_return_type = "Promise<string>")]
    pub fn create<'env>(
        &self,
        env: &'env Env,
        path: String,
        data: Option<Buffer>,
        options: Option<CreateOptions>,
    ) -> Result<PromiseRaw<'env, String>> {
        let data = data.map(|d| d.to_vec()).unwrap_or_default();
        let (mode, acl, ttl, make_path, signal) = match options {
            Some(o) => (o.mode, o.acl, o.ttl, o.make_path.unwrap_or(false), o.signal),
            None => (None, None, None, false, None),
        };
        let shared = self.shared.clone();
        let fut = async move {
            let client = shared.live()?;
            let opts = core_create(mode, acl, ttl)?;
            match client.create(&path, &data, &opts).await {
                Err(e) if make_path && e.code == Code::NoNode => {
                    client.ensure_path(parent(&path)).await?;
                    Ok(client.create(&path, &data, &opts).await?)
                }
                out => Ok(out?),
            }
        };
        spawn_value(env, signal, fut)
    }

    /// Deletes a node (`version`: the version it must have).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<VersionOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (version, signal) = options.map(|o| (o.version, o.signal)).unwrap_or_default();
        let shared = self.shared.clone();
        spawn_value(env, signal, async move { Ok(shared.live()?.delete(&path, version).await?) })
    }

    /// Deletes a node and everything below it.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_recursive<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let shared = self.shared.clone();
        spawn_value(
            env,
            options.and_then(|o| o.signal),
            async move { Ok(shared.live()?.delete_recursive(&path).await?) },
        )
    }

    /// The node's Stat, or `null` when it does not exist. With `{ watch: true }`:
    /// `{ stat, watch }`, `watch` resolving at the node's creation, change or deletion.
    #[napi(
        ts_generic_types = "O extends ReadOptions = ReadOptions",
        ts_args_type = "path: string, options?: O",
        ts_return_type = "Promise<O extends { watch: true } ? { stat: Stat | null; watch: Promise<WatchedEvent> } : Stat | null>"
    )]
    pub fn exists<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<ReadOptions>,
    ) -> Result<PromiseRaw<'env, Either3<Stat, Null, Object<'env>>>> {
        let (watch, signal) = options.map(|o| (o.watch.unwrap_or(false), o.signal)).unwrap_or_default();
        let shared = self.shared.clone();
        let fut = async move {
            let client = shared.live()?;
            if watch {
                let (stat, w) = client.exists_w(&path).await?;
                Ok((stat, Some(w)))
            } else {
                Ok((client.exists(&path).await?, None))
            }
        };
        spawn(env, signal, fut, |env, (stat, watch)| match (stat, watch) {
            (Some(stat), None) => Ok(Either3::A(stat.into())),
            (None, None) => Ok(Either3::B(Null)),
            (stat, Some(w)) => {
                let mut out = Object::new(env)?;
                out.set_named_property("stat", stat.map(Stat::from))?;
                out.set_named_property("watch", watch_promise(env, w)?)?;
                Ok(Either3::C(out))
            }
        })
    }

    /// `{ data, stat }` of a node; with `{ watch: true }` also `watch`, resolving at its next change or deletion.
    #[napi(ts_return_type = "Promise<{ data: Buffer; stat: Stat; watch?: Promise<WatchedEvent> }>")]
    pub fn get_data<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<ReadOptions>,
    ) -> Result<PromiseRaw<'env, Object<'env>>> {
        let (watch, signal) = options.map(|o| (o.watch.unwrap_or(false), o.signal)).unwrap_or_default();
        let shared = self.shared.clone();
        let fut = async move {
            let client = shared.live()?;
            if watch {
                let (data, stat, w) = client.get_data_w(&path).await?;
                Ok((data, stat, Some(w)))
            } else {
                let (data, stat) = client.get_data(&path).await?;
                Ok((data, stat, None))
            }
        };
        spawn(env, signal, fut, |env, (data, stat, watch)| read_result(env, "data", Buffer::from(data), stat, watch))
    }

    /// Sets a node's data; resolves with its new Stat.
    #[napi(ts_return_type = "Promise<Stat>")]
    pub fn set_data<'env>(
        &self,
        env: &'env Env,
        path: String,
        data: Option<Buffer>,
        options: Option<VersionOptions>,
    ) -> Result<PromiseRaw<'env, Stat>> {
        let data = data.map(|d| d.to_vec()).unwrap_or_default();
        let (version, signal) = options.map(|o| (o.version, o.signal)).unwrap_or_default();
        let shared = self.shared.clone();
        spawn_value(env, signal, async move { Ok(shared.live()?.set_data(&path, &data, version).await?.into()) })
    }

    /// `{ children, stat }` of a node; with `{ watch: true }` also `watch`, resolving at the next child change or deletion.
    #[napi(ts_return_type = "Promise<{ children: string[]; stat: Stat; watch?: Promise<WatchedEvent> }>")]
    pub fn get_children<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<ReadOptions>,
    ) -> Result<PromiseRaw<'env, Object<'env>>> {
        let (watch, signal) = options.map(|o| (o.watch.unwrap_or(false), o.signal)).unwrap_or_default();
        let shared = self.shared.clone();
        let fut = async move {
            let client = shared.live()?;
            if watch {
                let (children, stat, w) = client.get_children_w(&path).await?;
                Ok((children, stat, Some(w)))
            } else {
                let (children, stat) = client.get_children2(&path).await?;
                Ok((children, stat, None))
            }
        };
        spawn(env, signal, fut, |env, (children, stat, watch)| read_result(env, "children", children, stat, watch))
    }

    /// `{ acl, stat }` of a node.
    #[napi(js_name = "getACL", ts_return_type = "Promise<{ acl: Acl[]; stat: Stat }>")]
    pub fn get_acl<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Object<'env>>> {
        let shared = self.shared.clone();
        let fut = async move { Ok(shared.live()?.get_acl(&path).await?) };
        spawn(env, options.and_then(|o| o.signal), fut, |env, (acl, stat)| {
            let mut out = Object::new(env)?;
            out.set_named_property("acl", acl.into_iter().map(Acl::from).collect::<Vec<_>>())?;
            out.set_named_property("stat", Stat::from(stat))?;
            Ok(out)
        })
    }

    /// Sets a node's ACL (`version`: the ACL version it must have); resolves with its new Stat.
    #[napi(js_name = "setACL", ts_return_type = "Promise<Stat>")]
    pub fn set_acl<'env>(
        &self,
        env: &'env Env,
        path: String,
        acl: Vec<Acl>,
        options: Option<VersionOptions>,
    ) -> Result<PromiseRaw<'env, Stat>> {
        let acl: Vec<CoreAcl> = acl.into_iter().map(CoreAcl::from).collect();
        let (version, signal) = options.map(|o| (o.version, o.signal)).unwrap_or_default();
        let shared = self.shared.clone();
        spawn_value(env, signal, async move { Ok(shared.live()?.set_acl(&path, &acl, version).await?.into()) })
    }

    /// Creates a node and its missing parents as persistent nodes (mkdir -p).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn mkdirp<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let shared = self.shared.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(shared.live()?.ensure_path(&path).await?) })
    }

    /// Adds an identity to the session, now and after every reconnect.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn add_auth_info<'env>(
        &self,
        env: &'env Env,
        scheme: String,
        auth: Buffer,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let auth = auth.to_vec();
        let shared = self.shared.clone();
        spawn_value(
            env,
            options.and_then(|o| o.signal),
            async move { Ok(shared.live()?.add_auth(&scheme, &auth).await?) },
        )
    }

    /// Waits until the connected server has caught up with the leader.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn sync<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let shared = self.shared.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(shared.live()?.sync(&path).await?) })
    }

    /// Number of descendants of a node (ZooKeeper 3.6+).
    #[napi(ts_return_type = "Promise<number>")]
    pub fn get_all_children_number<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, i32>> {
        let shared = self.shared.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move {
            Ok(shared.live()?.get_all_children_number(&path).await?)
        })
    }

    /// This session's ephemeral nodes under `prefix` (server paths; ZooKeeper 3.6+).
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn get_ephemerals<'env>(
        &self,
        env: &'env Env,
        prefix: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let shared = self.shared.clone();
        spawn_value(
            env,
            options.and_then(|o| o.signal),
            async move { Ok(shared.live()?.get_ephemerals(&prefix).await?) },
        )
    }

    /// The identities of this connection (ZooKeeper 3.7+).
    #[napi(ts_return_type = "Promise<ClientInfo[]>")]
    pub fn who_am_i<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<ClientInfo>>> {
        let shared = self.shared.clone();
        let fut = async move {
            let infos = shared.live()?.who_am_i().await?;
            Ok(infos.into_iter().map(|i| ClientInfo { auth_scheme: i.auth_scheme, user: i.user }).collect())
        };
        spawn_value(env, options.and_then(|o| o.signal), fut)
    }

    /// Removes this client's watches of `type` on `path`, on the server and
    /// here (their one-shot Promises resolve with a `*_WATCH_REMOVED` event,
    /// their iterators end); NoWatcher when there were none.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove_watches<'env>(
        &self,
        env: &'env Env,
        path: String,
        #[napi(ts_arg_type = "'children' | 'data' | 'any' | 'persistent' | 'persistentRecursive'")] kind: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let shared = self.shared.clone();
        let fut = async move {
            let kind = match kind.as_str() {
                "children" => WatcherType::Children,
                "data" => WatcherType::Data,
                "any" => WatcherType::Any,
                "persistent" => WatcherType::Persistent,
                "persistentRecursive" => WatcherType::PersistentRecursive,
                other => {
                    return Err(Failure::corral(
                        "ERR_CORRAL_ARGUMENT",
                        format!("type: {other:?} is not a watcher type"),
                    ))
                }
            };
            Ok(shared.live()?.remove_watches(&path, kind).await?)
        };
        spawn_value(env, options.and_then(|o| o.signal), fut)
    }

    /// Applies sub-operations atomically (index.js's `transaction().…commit()` calls this).
    #[napi(ts_return_type = "Promise<OpResult[]>")]
    pub fn multi<'env>(
        &self,
        env: &'env Env,
        ops: Vec<TxnOp>,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<OpResult>>> {
        let ops: Vec<TxnStep> = ops
            .into_iter()
            .map(|o| TxnStep {
                kind: o.kind,
                path: o.path,
                data: o.data.map(|d| d.to_vec()).unwrap_or_default(),
                mode: o.mode,
                acl: o.acl,
                ttl: o.ttl,
                version: o.version,
            })
            .collect();
        let shared = self.shared.clone();
        let fut = async move {
            let client = shared.live()?;
            let mut txn = client.transaction();
            let mut kinds = Vec::with_capacity(ops.len());
            for TxnStep { kind, path, data, mode, acl, ttl, version } in ops {
                txn = match kind.as_str() {
                    "create" => txn.create(&path, &data, &core_create(mode, acl, ttl)?),
                    "remove" => txn.delete(&path, version),
                    "setData" => txn.set_data(&path, &data, version),
                    "check" => txn.check(&path, version.unwrap_or(-1)),
                    other => {
                        return Err(Failure::corral(
                            "ERR_CORRAL_ARGUMENT",
                            format!("type: {other:?} is not a transaction operation"),
                        ))
                    }
                };
                kinds.push(kind);
            }
            let results = txn.commit().await?;
            Ok(results
                .into_iter()
                .zip(kinds)
                .map(|(r, kind)| match r {
                    CoreOpResult::Created { path, stat } => {
                        OpResult { kind, path: Some(path), stat: stat.map(Stat::from) }
                    }
                    CoreOpResult::SetData(stat) => OpResult { kind, path: None, stat: Some(stat.into()) },
                    _ => OpResult { kind, path: None, stat: None },
                })
                .collect())
        };
        spawn_value(env, options.and_then(|o| o.signal), fut)
    }

    /// A persistent (or, with `recursive`, persistent recursive) watch; index.js's
    /// `watch()` iterates it.
    #[napi(ts_return_type = "Promise<WatchStream>")]
    pub fn add_watch<'env>(
        &self,
        env: &'env Env,
        path: String,
        options: Option<AddWatchOptions>,
    ) -> Result<PromiseRaw<'env, WatchStream>> {
        let (recursive, signal) = options.map(|o| (o.recursive.unwrap_or(false), o.signal)).unwrap_or_default();
        let mode = if recursive { AddWatchMode::PersistentRecursive } else { AddWatchMode::Persistent };
        let shared = self.shared.clone();
        let fut = async move {
            let stream = shared.live()?.add_watch(&path, mode).await?;
            Ok(WatchStream { path, stream: Arc::new(tokio::sync::Mutex::new(Some(stream))) })
        };
        spawn_value(env, signal, fut)
    }
}

/// The events of a persistent watch, until it ends (`next()` resolves `null`).
#[napi]
pub struct WatchStream {
    /// The watched path, named by the error when the session expires.
    path: String,
    stream: Arc<tokio::sync::Mutex<Option<CoreWatchStream>>>,
}

#[napi]
impl WatchStream {
    /// The next event; `null` once the watch has ended (client closed or
    /// `close()`); rejects with SessionExpired when the session expired.
    #[napi(ts_return_type = "Promise<WatchedEvent | null>")]
    pub fn next<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Option<WatchedEvent>>> {
        let (stream, path) = (self.stream.clone(), self.path.clone());
        let fut = async move {
            let mut stream = stream.lock().await;
            let Some(s) = stream.as_mut() else {
                return Ok(None);
            };
            // The watch's last event says why it ended: the client closed
            // (the iteration is over) or the session expired (an error).
            match s.next().await {
                Some(ev) if ev.state == KeeperState::SyncConnected => Ok(Some(WatchedEvent::from(ev))),
                Some(ev) if ev.state == KeeperState::Expired => {
                    *stream = None;
                    Err(ClientError::at(Code::SessionExpired, path).into())
                }
                _ => {
                    *stream = None;
                    Ok(None)
                }
            }
        };
        spawn_value(env, options.and_then(|o| o.signal), fut)
    }

    /// Stops listening locally (a pending `next()` resolves first).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let stream = self.stream.clone();
        spawn_value(env, None, async move {
            *stream.lock().await = None;
            Ok(())
        })
    }
}
