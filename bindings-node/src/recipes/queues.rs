//! Queues (kazoo's layout): the queue, with optional priorities, and the
//! locking queue, whose items come back when their consumer dies.

use std::sync::Arc;

use corral::client::Client as CoreClient;
use corral::recipes::locking_queue::LockingQueue as CoreLockingQueue;
use corral::recipes::queue::{PriorityQueue, DEFAULT_PRIORITY};
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;

use super::{wait_options, WaitOptions};
use crate::client::CallOptions;
use crate::promise::spawn_value;

/// Options of `queue`.
#[napi(object, object_to_js = false)]
pub struct QueueOptions {
    /// Where receipts go (default `<path>-receipts`).
    pub receipts_path: Option<String>,
}

/// Options of `put` and `putAll`.
#[napi(object, object_to_js = false)]
pub struct PutOptions<'a> {
    /// 0 (taken first) to 999; default 100, kazoo's.
    pub priority: Option<u16>,
    /// Aborts the call.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<napi::bindgen_prelude::Object<'a>>,
}

fn put_options(options: Option<PutOptions>) -> (u16, Option<napi::bindgen_prelude::Object>) {
    options.map(|o| (o.priority.unwrap_or(DEFAULT_PRIORITY), o.signal)).unwrap_or((DEFAULT_PRIORITY, None))
}

fn bytes(items: Vec<Buffer>) -> Vec<Vec<u8>> {
    items.into_iter().map(|b| b.to_vec()).collect()
}

/// kazoo's `Queue` and `PriorityQueue`: each item goes to exactly one
/// consumer, most urgent first, then in order; a put or take cut off by a
/// lost connection is neither lost nor applied twice.
#[napi]
pub struct Queue {
    queue: Arc<PriorityQueue>,
}

impl Queue {
    pub(crate) fn new(client: &CoreClient, path: &str, options: Option<QueueOptions>) -> Queue {
        let mut queue = PriorityQueue::new(client, path);
        if let Some(receipts) = options.and_then(|o| o.receipts_path) {
            queue = queue.with_receipts_path(&receipts);
        }
        Queue { queue: Arc::new(queue) }
    }
}

#[napi]
impl Queue {
    /// Adds an item.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn put<'env>(&self, env: &'env Env, item: Buffer, options: Option<PutOptions>) -> Result<PromiseRaw<'env, ()>> {
        self.put_all(env, vec![item], options)
    }

    /// Adds several items with one priority: all of them or none.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn put_all<'env>(
        &self,
        env: &'env Env,
        items: Vec<Buffer>,
        options: Option<PutOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (priority, signal) = put_options(options);
        let (queue, items) = (self.queue.clone(), bytes(items));
        spawn_value(env, signal, async move { Ok(queue.put_all(&items, priority).await?) })
    }

    /// Takes the next item without waiting; `null` when the queue is empty.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn get<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, Option<Buffer>>> {
        let queue = self.queue.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(queue.get().await?.map(Buffer::from)) })
    }

    /// Takes the next item, waiting for one; with `timeout`, `null` when none came.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn take<'env>(&self, env: &'env Env, options: Option<WaitOptions>) -> Result<PromiseRaw<'env, Option<Buffer>>> {
        let (timeout, signal) = wait_options(options);
        let queue = self.queue.clone();
        spawn_value(env, signal, async move {
            let item = match timeout {
                None => Some(queue.take().await?),
                Some(t) => queue.take_timeout(t).await?,
            };
            Ok(item.map(Buffer::from))
        })
    }

    /// The number of items.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn length<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, u32>> {
        let queue = self.queue.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(queue.len().await? as u32) })
    }
}

/// kazoo's `LockingQueue`: `get()` locks the next item, `consume()` removes
/// it once processed, `release()` gives it back; an item whose consumer's
/// session ends first is delivered again.
#[napi]
pub struct LockingQueue {
    queue: Arc<CoreLockingQueue>,
}

impl LockingQueue {
    pub(crate) fn new(client: &CoreClient, path: &str) -> LockingQueue {
        LockingQueue { queue: Arc::new(CoreLockingQueue::new(client, path)) }
    }
}

#[napi]
impl LockingQueue {
    /// Adds an item.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn put<'env>(&self, env: &'env Env, item: Buffer, options: Option<PutOptions>) -> Result<PromiseRaw<'env, ()>> {
        self.put_all(env, vec![item], options)
    }

    /// Adds several items with one priority: all of them or none.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn put_all<'env>(
        &self,
        env: &'env Env,
        items: Vec<Buffer>,
        options: Option<PutOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (priority, signal) = put_options(options);
        let (queue, items) = (self.queue.clone(), bytes(items));
        spawn_value(env, signal, async move { Ok(queue.put_all(&items, priority).await?) })
    }

    /// Locks and returns the next item, waiting for one; with `timeout`,
    /// `null` when none came. While an item is held, returns it again.
    #[napi(ts_return_type = "Promise<Buffer | null>")]
    pub fn get<'env>(&self, env: &'env Env, options: Option<WaitOptions>) -> Result<PromiseRaw<'env, Option<Buffer>>> {
        let (timeout, signal) = wait_options(options);
        let queue = self.queue.clone();
        spawn_value(env, signal, async move { Ok(queue.get(timeout).await?.map(Buffer::from)) })
    }

    /// Whether this consumer still holds the lock of its item.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn holds_lock<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, bool>> {
        let queue = self.queue.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(queue.holds_lock().await?) })
    }

    /// Removes the held item; `false` when its lock was lost (it may go to another consumer).
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn consume<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, bool>> {
        let queue = self.queue.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(queue.consume().await?) })
    }

    /// Unlocks the held item for another consumer; `false` when none was held.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn release<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, bool>> {
        let queue = self.queue.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(queue.release().await?) })
    }

    /// The number of items, locked ones included.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn length<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, u32>> {
        let queue = self.queue.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(queue.len().await? as u32) })
    }
}
