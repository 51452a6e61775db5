//! Counters: kazoo's `Counter`, Curator's `DistributedAtomicLong` and
//! `SharedCount`, and the id generator. 64-bit values are `bigint`.

use std::sync::Arc;

use corral::client::Client as CoreClient;
use corral::recipes::atomic_long::{AtomicValue as CoreAtomicValue, DistributedAtomicLong};
use corral::recipes::counter::{
    Counter as CoreCounter, CounterChange as CoreChange, SharedCount as CoreSharedCount,
    VersionedValue as CoreVersioned,
};
use corral::recipes::id_generator::IdGenerator as CoreIdGenerator;
use napi::bindgen_prelude::{BigInt, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;

use super::{call, signal, InRuntime};
use crate::client::CallOptions;
use crate::events::{EventStream, Feed};

/// A bigint argument as core's `i64` (wrapping, as Java's long does).
fn long(v: BigInt) -> i64 {
    v.get_i64().0
}

/// Options of `counter`.
#[napi(object, object_to_js = false)]
pub struct CounterOptions {
    /// The value of an empty node; default `0n`.
    pub default: Option<BigInt>,
}

/// The values before and after a counter change (kazoo's `pre_value` / `post_value`).
#[napi(object, object_from_js = false)]
pub struct CounterChange {
    /// The value the change applied to.
    pub pre_value: BigInt,
    /// The value the change wrote.
    pub post_value: BigInt,
}

impl From<CoreChange> for CounterChange {
    fn from(c: CoreChange) -> CounterChange {
        CounterChange { pre_value: c.pre_value.into(), post_value: c.post_value.into() }
    }
}

/// kazoo's `Counter`: the value as decimal text; concurrent changes all count.
#[napi]
pub struct Counter {
    counter: Arc<CoreCounter>,
}

impl Counter {
    pub(crate) fn new(client: &CoreClient, path: &str, options: Option<CounterOptions>) -> Counter {
        let mut counter = CoreCounter::new(client, path);
        if let Some(d) = options.and_then(|o| o.default) {
            counter = counter.with_default(long(d));
        }
        Counter { counter: Arc::new(counter) }
    }
}

#[napi]
impl Counter {
    /// The current value.
    #[napi(ts_return_type = "Promise<bigint>")]
    pub fn value<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, BigInt>> {
        call(env, signal(options), &self.counter, |c| async move { c.value().await.map(BigInt::from) })
    }

    /// Adds `delta` atomically.
    #[napi(ts_return_type = "Promise<CounterChange>")]
    pub fn add<'env>(
        &self,
        env: &'env Env,
        delta: BigInt,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, CounterChange>> {
        let delta = long(delta);
        call(env, signal(options), &self.counter, |c| async move { c.add(delta).await.map(CounterChange::from) })
    }

    /// Subtracts `delta` atomically.
    #[napi(ts_return_type = "Promise<CounterChange>")]
    pub fn subtract<'env>(
        &self,
        env: &'env Env,
        delta: BigInt,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, CounterChange>> {
        let delta = long(delta);
        call(env, signal(options), &self.counter, |c| async move { c.subtract(delta).await.map(CounterChange::from) })
    }
}

/// The outcome of an atomic operation (Curator's `AtomicValue`): always check `succeeded`.
#[napi(object, object_from_js = false)]
pub struct AtomicValue {
    /// Whether the operation applied (an optimistic update gives up after its
    /// attempts, a compare-and-set fails on a mismatch).
    pub succeeded: bool,
    /// The value before (the value seen last when it failed).
    pub pre_value: BigInt,
    /// The value after (`preValue` when it failed).
    pub post_value: BigInt,
}

impl From<CoreAtomicValue<i64>> for AtomicValue {
    fn from(v: CoreAtomicValue<i64>) -> AtomicValue {
        AtomicValue { succeeded: v.succeeded, pre_value: v.pre_value.into(), post_value: v.post_value.into() }
    }
}

/// Options of `atomicLong`.
#[napi(object, object_to_js = false)]
pub struct AtomicLongOptions {
    /// Attempts of an optimistic update before it reports failure; default 100.
    pub attempts: Option<u32>,
}

/// Curator's `DistributedAtomicLong`: 8 big-endian bytes updated by
/// compare-and-set on the node's version.
#[napi]
pub struct AtomicLong {
    long: Arc<DistributedAtomicLong>,
}

impl AtomicLong {
    pub(crate) fn new(client: &CoreClient, path: &str, options: Option<AtomicLongOptions>) -> AtomicLong {
        let mut long = DistributedAtomicLong::new(client, path);
        if let Some(n) = options.and_then(|o| o.attempts) {
            long = long.with_attempts(n);
        }
        AtomicLong { long: Arc::new(long) }
    }
}

/// Declares AtomicLong methods that take one bigint and resolve an `AtomicValue`.
macro_rules! atomic_ops {
    ($($(#[$doc:meta])* $name:ident),*) => {
        #[napi]
        impl AtomicLong {
            $(
                $(#[$doc])*
                #[napi(ts_return_type = "Promise<AtomicValue>")]
                pub fn $name<'env>(&self, env: &'env Env, value: BigInt, options: Option<CallOptions>) -> Result<PromiseRaw<'env, AtomicValue>> {
                    let value = long(value);
                    call(env, signal(options), &self.long, |l| async move { l.$name(value).await.map(AtomicValue::from) })
                }
            )*
        }
    };
}

atomic_ops!(
    /// Adds `delta` (wrapping on overflow).
    add,
    /// Subtracts `delta`.
    subtract,
    /// Sets the value whatever it is, optimistically (Curator's `trySet`).
    try_set
);

#[napi]
impl AtomicLong {
    /// The current value (`0n` if never set).
    #[napi(ts_return_type = "Promise<AtomicValue>")]
    pub fn get<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, AtomicValue>> {
        call(env, signal(options), &self.long, |l| async move { l.get().await.map(AtomicValue::from) })
    }

    /// Adds 1.
    #[napi(ts_return_type = "Promise<AtomicValue>")]
    pub fn increment<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, AtomicValue>> {
        call(env, signal(options), &self.long, |l| async move { l.increment().await.map(AtomicValue::from) })
    }

    /// Subtracts 1.
    #[napi(ts_return_type = "Promise<AtomicValue>")]
    pub fn decrement<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, AtomicValue>> {
        call(env, signal(options), &self.long, |l| async move { l.decrement().await.map(AtomicValue::from) })
    }

    /// Sets `newValue` if the value is `expected` (one attempt; fails when the node does not exist yet).
    #[napi(ts_return_type = "Promise<AtomicValue>")]
    pub fn compare_and_set<'env>(
        &self,
        env: &'env Env,
        expected: BigInt,
        new_value: BigInt,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, AtomicValue>> {
        let (expected, new) = (long(expected), long(new_value));
        call(env, signal(options), &self.long, |l| async move {
            l.compare_and_set(expected, new).await.map(AtomicValue::from)
        })
    }

    /// Sets the value unconditionally (Curator's `forceSet`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn force_set<'env>(
        &self,
        env: &'env Env,
        value: BigInt,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let value = long(value);
        call(env, signal(options), &self.long, |l| async move { l.force_set(value).await })
    }

    /// Creates the node with `value` if missing; `false` if it existed.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn initialize<'env>(
        &self,
        env: &'env Env,
        value: BigInt,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, bool>> {
        let value = long(value);
        call(env, signal(options), &self.long, |l| async move { l.initialize(value).await })
    }
}

/// A count with the node version it was read at (Curator's `VersionedValue`).
#[napi(object)]
pub struct VersionedValue {
    /// The node's data version (-1 before anything was read).
    pub version: i32,
    /// The count.
    pub value: i32,
}

impl From<CoreVersioned> for VersionedValue {
    fn from(v: CoreVersioned) -> VersionedValue {
        VersionedValue { version: v.version, value: v.value }
    }
}

/// Curator's `SharedCount`: a 32-bit count every holder sees, with its changes.
#[napi]
pub struct SharedCount {
    count: Arc<InRuntime<CoreSharedCount>>,
}

impl SharedCount {
    pub(crate) fn new(client: &CoreClient, path: &str, seed: i32) -> SharedCount {
        SharedCount { count: Arc::new(InRuntime::new(CoreSharedCount::new(client, path, seed))) }
    }
}

#[napi]
impl SharedCount {
    /// Creates the node with the seed if missing, reads the count and keeps following it.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn start<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        call(env, None, &self.count, |c| async move { c.start().await })
    }

    /// The count as last seen.
    #[napi(getter)]
    pub fn count(&self) -> i32 {
        self.count.get_count()
    }

    /// The count as last seen, with its version (for `trySetCount`).
    #[napi(getter)]
    pub fn versioned_value(&self) -> VersionedValue {
        self.count.get_versioned_value().into()
    }

    /// Sets the count unconditionally.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_count<'env>(
        &self,
        env: &'env Env,
        value: i32,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        call(env, signal(options), &self.count, |c| async move { c.set_count(value).await })
    }

    /// Sets the count if it is still at `previous.version`; `false` if someone changed it since.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn try_set_count<'env>(
        &self,
        env: &'env Env,
        previous: VersionedValue,
        value: i32,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, bool>> {
        let previous = CoreVersioned { version: previous.version, value: previous.value };
        call(env, signal(options), &self.count, |c| async move { c.try_set_count(previous, value).await })
    }

    /// Every new count seen from now on (index.js's `changes()`).
    #[napi(skip_typescript)]
    pub fn subscribe(&self) -> EventStream {
        EventStream::new(Feed::Count(self.count.changes()))
    }

    /// Stops following the count; the iterators end.
    #[napi]
    pub fn close(&self) {
        self.count.close();
    }
}

/// Options of `idGenerator`.
#[napi(object, object_to_js = false)]
pub struct IdGeneratorOptions {
    /// Node name prefix before the sequence; default `'id-'`.
    pub prefix: Option<String>,
    /// Keep each id's node (persistent-sequential) instead of deleting it.
    pub keep_nodes: Option<bool>,
}

/// Unique, increasing ids from the sequence numbers of nodes created under a path.
#[napi]
pub struct IdGenerator {
    ids: Arc<CoreIdGenerator>,
}

impl IdGenerator {
    pub(crate) fn new(client: &CoreClient, path: &str, options: Option<IdGeneratorOptions>) -> IdGenerator {
        let mut ids = CoreIdGenerator::new(client, path);
        if let Some(o) = options {
            if let Some(prefix) = o.prefix {
                ids = ids.with_prefix(&prefix);
            }
            ids = ids.keeping_nodes(o.keep_nodes.unwrap_or(false));
        }
        IdGenerator { ids: Arc::new(ids) }
    }
}

#[napi]
impl IdGenerator {
    /// A new id, greater than every id this path gave before.
    #[napi(ts_return_type = "Promise<bigint>")]
    pub fn next_id<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, BigInt>> {
        call(env, signal(options), &self.ids, |i| async move { i.next_id().await.map(BigInt::from) })
    }
}
