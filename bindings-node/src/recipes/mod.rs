//! The recipes, each backed by core's (`corral::recipes`): JS classes that
//! translate arguments and results and decide nothing. A `Client` method
//! makes each one (`client.semaphore(path, 3)`); blocking waits take
//! `{ timeout, signal }`; index.js adds the event iterators and
//! `Symbol.asyncDispose`.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;
use std::time::Duration;

use corral::client::Client as CoreClient;
use corral::recipes::lock::Naming;
use napi::bindgen_prelude::{Buffer, Object, PromiseRaw, ToNapiValue};
use napi::Env;
use napi_derive::napi;

use crate::client::{CallOptions, Client};
use crate::convert::naming;
use crate::error::{throw, Failure, Outcome};
use crate::events::EventStream;
use crate::promise::spawn_value;

mod barriers;
mod caches;
mod counters;
mod discovery;
mod election;
mod locks;
mod membership;
mod queues;

pub(crate) use caches::{CacheEvent, ChildData};
pub(crate) use discovery::instance_to_js;

use barriers::{Barrier, DoubleBarrier};
use caches::{NodeCache, PathChildrenCache, TreeCache, TreeCacheOptions};
use counters::{AtomicLong, AtomicLongOptions, Counter, CounterOptions, IdGenerator, IdGeneratorOptions, SharedCount};
use discovery::ServiceDiscovery;
use election::{ElectionOptions, LeaderElection, LeaderLatch};
use locks::{Lock, ReadWriteLock, Semaphore};
use membership::{PartitionerOptions, Party, PartyOptions, PersistentNode, PersistentNodeOptions, SetPartitioner};
use queues::{LockingQueue, Queue, QueueOptions};

/// Options of the calls that wait (acquire, wait, enter, take, ...).
#[napi(object, object_to_js = false)]
pub struct WaitOptions<'a> {
    /// Give up after this many ms (`0`: only if no waiting is needed); the
    /// call then resolves with its "not had" value (`null` or `false`).
    pub timeout: Option<u32>,
    /// Aborts the wait: it rejects with an AbortError (what the wait had
    /// created is deleted again).
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// `timeout` and `signal` of optional wait options.
pub(crate) fn wait_options(options: Option<WaitOptions>) -> (Option<Duration>, Option<Object>) {
    options.map(|o| (o.timeout.map(|ms| Duration::from_millis(ms.into())), o.signal)).unwrap_or_default()
}

/// A core recipe value, dropped inside corral's runtime even when the
/// garbage collector drops it on the JS thread: a recipe's drop cleans up
/// in the background (a lease's node, a cache's watch task), which needs the
/// runtime.
pub(crate) struct InRuntime<T>(ManuallyDrop<T>);

impl<T> InRuntime<T> {
    pub(crate) fn new(value: T) -> InRuntime<T> {
        InRuntime(ManuallyDrop::new(value))
    }
}

impl<T> InRuntime<T> {
    /// The value, to be consumed (by a core call that takes it by value).
    pub(crate) fn into_inner(mut this: InRuntime<T>) -> T {
        // SAFETY: taken once; `this` is forgotten, so its drop never runs.
        let value = unsafe { ManuallyDrop::take(&mut this.0) };
        std::mem::forget(this);
        value
    }
}

impl<T> DerefMut for InRuntime<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T> Deref for InRuntime<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Drop for InRuntime<T> {
    fn drop(&mut self) {
        let _runtime = corral::runtime::get().enter();
        // SAFETY: dropped once, here; never used again.
        unsafe { ManuallyDrop::drop(&mut self.0) }
    }
}

/// The session a recipe is made for, or the refusal to throw at once.
pub(crate) fn session(env: &Env, client: &Client) -> napi::Result<CoreClient> {
    client.core().map_err(|f| throw(env, f))
}

/// A refusal of a recipe used after `close()`.
pub(crate) fn closed(what: &str) -> Failure {
    Failure::corral("ERR_CORRAL_CLOSED", format!("the {what} is closed"))
}

/// The signal of optional call options.
pub(crate) fn signal(options: Option<CallOptions>) -> Option<Object> {
    options.and_then(|o| o.signal)
}

/// Runs `op` on a shared recipe value on the runtime: the Promise of one core call.
pub(crate) fn call<'env, R, T, F, Fut>(
    env: &'env Env,
    signal: Option<Object>,
    recipe: &Arc<R>,
    op: F,
) -> napi::Result<PromiseRaw<'env, T>>
where
    R: Send + Sync + 'static,
    T: ToNapiValue + Send + 'static,
    F: FnOnce(Arc<R>) -> Fut,
    Fut: Future<Output = corral::client::Result<T>> + Send + 'static,
{
    let fut = op(recipe.clone());
    spawn_value(env, signal, async move { Ok(fut.await?) })
}

/// A recipe value that `close()` (or `finish()`) consumes: shared by the
/// calls in flight, taken out by the one that closes it. Closing first
/// tells the waits in flight ([`Slot::closing`]), so that they let go.
pub(crate) struct Slot<T>(Arc<SlotInner<T>>);

pub(crate) struct SlotInner<T> {
    value: tokio::sync::RwLock<Option<InRuntime<T>>>,
    closing: tokio::sync::watch::Sender<bool>,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Slot<T> {
        Slot(self.0.clone())
    }
}

impl<T> Deref for Slot<T> {
    type Target = tokio::sync::RwLock<Option<InRuntime<T>>>;

    fn deref(&self) -> &Self::Target {
        &self.0.value
    }
}

impl<T> Slot<T> {
    pub(crate) fn new(value: T) -> Slot<T> {
        let value = tokio::sync::RwLock::new(Some(InRuntime::new(value)));
        Slot(Arc::new(SlotInner { value, closing: tokio::sync::watch::channel(false).0 }))
    }

    /// Resolves once closing has begun: a wait holding the value must then end.
    pub(crate) fn closing(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.0.closing.subscribe();
        async move {
            let _ = rx.wait_for(|c| *c).await;
        }
    }

    /// The value, for closing it; `None` when it was closed already.
    pub(crate) async fn take(&self) -> Option<T> {
        self.0.closing.send_replace(true);
        self.0.value.write().await.take().map(InRuntime::into_inner)
    }
}

/// Whose node layout a lock, read-write lock or semaphore follows.
#[napi(object, object_to_js = false)]
pub struct LayoutOptions {
    /// `'curator'` (the default: Curator's recipes share the path) or
    /// `'kazoo'` (kazoo's recipes share it).
    #[napi(ts_type = "'curator' | 'kazoo'")]
    pub layout: Option<String>,
    /// Stored in each of this value's nodes (kazoo's contender identifier).
    pub identifier: Option<String>,
}

/// The naming and node data `options` ask for.
fn layout(env: &Env, options: Option<LayoutOptions>) -> napi::Result<(Naming, Vec<u8>)> {
    let options = options.unwrap_or(LayoutOptions { layout: None, identifier: None });
    let naming = naming(options.layout.as_deref()).map_err(|f| throw(env, f))?;
    Ok((naming, options.identifier.unwrap_or_default().into_bytes()))
}

/// The value of a [`Slot`], or the refusal of a closed one.
pub(crate) fn live<R>(value: Option<R>, what: &str) -> Outcome<R> {
    value.ok_or_else(|| closed(what))
}

/// The recipes, made for this client's session (it must be connected).
#[napi]
impl Client {
    /// A lock at `path`, each acquisition with a fencing token: Curator's
    /// `InterProcessMutex` nodes, or kazoo's `Lock` ones with
    /// `{ layout: 'kazoo' }` (to share the path with kazoo processes).
    #[napi]
    pub fn lock(&self, env: Env, path: String, options: Option<LayoutOptions>) -> napi::Result<Lock> {
        let (naming, data) = layout(&env, options)?;
        Ok(Lock::new(&session(&env, self)?, &path, naming, &data))
    }

    /// A read-write lock at `path`: Curator's `InterProcessReadWriteLock`
    /// nodes, or kazoo's `ReadLock`/`WriteLock` ones with `{ layout: 'kazoo' }`.
    #[napi]
    pub fn read_write_lock(
        &self,
        env: Env,
        path: String,
        options: Option<LayoutOptions>,
    ) -> napi::Result<ReadWriteLock> {
        let (naming, data) = layout(&env, options)?;
        Ok(ReadWriteLock::new(&session(&env, self)?, &path, naming, &data))
    }

    /// A semaphore at `path` granting at most `maxLeases` leases at a time
    /// (every user must agree on `maxLeases`): Curator's
    /// `InterProcessSemaphoreV2` layout, or kazoo's `Semaphore` one with
    /// `{ layout: 'kazoo' }`.
    #[napi]
    pub fn semaphore(
        &self,
        env: Env,
        path: String,
        max_leases: u32,
        options: Option<LayoutOptions>,
    ) -> napi::Result<Semaphore> {
        let (naming, data) = layout(&env, options)?;
        Ok(Semaphore::new(&session(&env, self)?, &path, max_leases, naming, &data))
    }

    /// A contender in the leader election at `path` (Curator's `LeaderSelector`);
    /// `identifier` is what `contenders()` lists.
    #[napi]
    pub fn leader_election(
        &self,
        env: Env,
        path: String,
        identifier: String,
        options: Option<ElectionOptions>,
    ) -> napi::Result<LeaderElection> {
        LeaderElection::new(&session(&env, self)?, &path, &identifier, options).map_err(|f| throw(&env, f))
    }

    /// A participant `id` of the leader latch at `path` (Curator's `LeaderLatch`); `start()` it.
    #[napi]
    pub fn leader_latch(&self, env: Env, path: String, id: String) -> napi::Result<LeaderLatch> {
        Ok(LeaderLatch::new(&session(&env, self)?, &path, &id))
    }

    /// A barrier on the node at `path`.
    #[napi]
    pub fn barrier(&self, env: Env, path: String) -> napi::Result<Barrier> {
        Ok(Barrier::new(&session(&env, self)?, &path))
    }

    /// A member of the double barrier at `path` that opens once `memberQty` members are in.
    #[napi]
    pub fn double_barrier(&self, env: Env, path: String, member_qty: u32) -> napi::Result<DoubleBarrier> {
        Ok(DoubleBarrier::new(&session(&env, self)?, &path, member_qty))
    }

    /// A queue at `path` (kazoo's `Queue`, with `PriorityQueue`'s priorities).
    #[napi]
    pub fn queue(&self, env: Env, path: String, options: Option<QueueOptions>) -> napi::Result<Queue> {
        Ok(Queue::new(&session(&env, self)?, &path, options))
    }

    /// A locking queue at `path` (kazoo's `LockingQueue`).
    #[napi]
    pub fn locking_queue(&self, env: Env, path: String) -> napi::Result<LockingQueue> {
        Ok(LockingQueue::new(&session(&env, self)?, &path))
    }

    /// A counter at `path` (kazoo's `Counter`).
    #[napi]
    pub fn counter(&self, env: Env, path: String, options: Option<CounterOptions>) -> napi::Result<Counter> {
        Ok(Counter::new(&session(&env, self)?, &path, options))
    }

    /// An atomic 64-bit counter at `path` (Curator's `DistributedAtomicLong`).
    #[napi]
    pub fn atomic_long(&self, env: Env, path: String, options: Option<AtomicLongOptions>) -> napi::Result<AtomicLong> {
        Ok(AtomicLong::new(&session(&env, self)?, &path, options))
    }

    /// A shared count at `path`, created with `seed` by `start()` if missing (Curator's `SharedCount`).
    #[napi]
    pub fn shared_count(&self, env: Env, path: String, seed: i32) -> napi::Result<SharedCount> {
        Ok(SharedCount::new(&session(&env, self)?, &path, seed))
    }

    /// An id generator under `path`.
    #[napi]
    pub fn id_generator(
        &self,
        env: Env,
        path: String,
        options: Option<IdGeneratorOptions>,
    ) -> napi::Result<IdGenerator> {
        Ok(IdGenerator::new(&session(&env, self)?, &path, options))
    }

    /// A cache of the node at `path` (Curator's `NodeCache`); `start()` it.
    #[napi]
    pub fn node_cache(&self, env: Env, path: String) -> napi::Result<NodeCache> {
        Ok(NodeCache::new(&session(&env, self)?, &path))
    }

    /// A cache of the subtree at `path` (Curator's `TreeCache`); `start()` it.
    #[napi]
    pub fn tree_cache(&self, env: Env, path: String, options: Option<TreeCacheOptions>) -> napi::Result<TreeCache> {
        TreeCache::new(&session(&env, self)?, &path, options).map_err(|f| throw(&env, f))
    }

    /// A cache of the children of `path` (Curator's `PathChildrenCache`); `start()` it.
    #[napi]
    pub fn path_children_cache(&self, env: Env, path: String) -> napi::Result<PathChildrenCache> {
        Ok(PathChildrenCache::new(&session(&env, self)?, &path))
    }

    /// The feed of index.js's `childrenWatch()`.
    #[napi(skip_typescript)]
    pub fn children_watch_feed(&self, env: Env, path: String) -> napi::Result<EventStream> {
        Ok(caches::children_watch(&session(&env, self)?, &path))
    }

    /// The feed of index.js's `dataWatch()`.
    #[napi(skip_typescript)]
    pub fn data_watch_feed<'env>(&self, env: &'env Env, path: String) -> napi::Result<PromiseRaw<'env, EventStream>> {
        let client = self.core();
        spawn_value(env, None, async move { caches::data_watch(client?, path).await })
    }

    /// Membership `identifier` of the party at `path` (kazoo's `Party`, or
    /// `ShallowParty` with `{ shallow: true }`); `join()` it.
    #[napi]
    pub fn party(
        &self,
        env: Env,
        path: String,
        identifier: String,
        options: Option<PartyOptions>,
    ) -> napi::Result<Party> {
        Ok(Party::new(&session(&env, self)?, &path, &identifier, options))
    }

    /// Service discovery under `basePath` (Curator's `ServiceDiscovery`).
    #[napi]
    pub fn service_discovery(&self, env: Env, base_path: String) -> napi::Result<ServiceDiscovery> {
        Ok(ServiceDiscovery::new(&session(&env, self)?, &base_path))
    }

    /// A node at `path` holding `data`, kept present once started (Curator's `PersistentNode`).
    #[napi]
    pub fn persistent_node(
        &self,
        env: Env,
        path: String,
        data: Option<Buffer>,
        options: Option<PersistentNodeOptions>,
    ) -> napi::Result<PersistentNode> {
        PersistentNode::new(&session(&env, self)?, &path, data, options).map_err(|f| throw(&env, f))
    }

    /// Joins the set partitioner at `path` as member `identifier` and starts
    /// allocating `items` (kazoo's `SetPartitioner`).
    #[napi(ts_return_type = "Promise<SetPartitioner>")]
    pub fn set_partitioner<'env>(
        &self,
        env: &'env Env,
        path: String,
        items: Vec<String>,
        identifier: String,
        options: Option<PartitionerOptions>,
    ) -> napi::Result<PromiseRaw<'env, SetPartitioner>> {
        let client = self.core();
        spawn_value(env, None, async move { SetPartitioner::start(client?, path, items, identifier, options).await })
    }
}
