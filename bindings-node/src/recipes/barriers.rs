//! Barriers: the barrier (a node that blocks while it exists) and the
//! double barrier (enter together, leave together).

use std::sync::Arc;

use corral::client::Client as CoreClient;
use corral::recipes::barrier::Barrier as CoreBarrier;
use corral::recipes::double_barrier::DoubleBarrier as CoreDoubleBarrier;
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;

use super::{wait_options, WaitOptions};
use crate::client::CallOptions;
use crate::promise::spawn_value;

/// kazoo's `Barrier` / Curator's `DistributedBarrier`: up while its
/// (persistent) node exists.
#[napi]
pub struct Barrier {
    barrier: Arc<CoreBarrier>,
}

impl Barrier {
    pub(crate) fn new(client: &CoreClient, path: &str) -> Barrier {
        Barrier { barrier: Arc::new(CoreBarrier::new(client, path)) }
    }
}

#[napi]
impl Barrier {
    /// Raises the barrier (creates its node and missing parents; up already is fine).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, ()>> {
        let barrier = self.barrier.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(barrier.set().await?) })
    }

    /// Lowers the barrier (deletes its node; down already is fine).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn remove<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, ()>> {
        let barrier = self.barrier.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(barrier.remove().await.map(drop)?) })
    }

    /// Waits until the barrier is down: `true`; `false` when `timeout` passed first.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn wait<'env>(&self, env: &'env Env, options: Option<WaitOptions>) -> Result<PromiseRaw<'env, bool>> {
        let (timeout, signal) = wait_options(options);
        let barrier = self.barrier.clone();
        spawn_value(env, signal, async move { Ok(barrier.wait(timeout).await?) })
    }
}

/// Curator's `DistributedDoubleBarrier`: `enter()` waits until `memberQty`
/// members have entered, `leave()` until every member has left.
#[napi]
pub struct DoubleBarrier {
    barrier: Arc<CoreDoubleBarrier>,
}

impl DoubleBarrier {
    pub(crate) fn new(client: &CoreClient, path: &str, member_qty: u32) -> DoubleBarrier {
        DoubleBarrier { barrier: Arc::new(CoreDoubleBarrier::new(client, path, member_qty as usize)) }
    }
}

#[napi]
impl DoubleBarrier {
    /// Enters and waits until enough members are in: `true`; `false` when
    /// `timeout` passed first (this member stays entered: `leave()` to go).
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn enter<'env>(&self, env: &'env Env, options: Option<WaitOptions>) -> Result<PromiseRaw<'env, bool>> {
        let (timeout, signal) = wait_options(options);
        let barrier = self.barrier.clone();
        spawn_value(env, signal, async move {
            Ok(match timeout {
                None => barrier.enter().await.map(|()| true)?,
                Some(t) => barrier.enter_timeout(t).await?,
            })
        })
    }

    /// Leaves and waits until every member has left: `true`; `false` when
    /// `timeout` passed first.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn leave<'env>(&self, env: &'env Env, options: Option<WaitOptions>) -> Result<PromiseRaw<'env, bool>> {
        let (timeout, signal) = wait_options(options);
        let barrier = self.barrier.clone();
        spawn_value(env, signal, async move {
            Ok(match timeout {
                None => barrier.leave().await.map(|()| true)?,
                Some(t) => barrier.leave_timeout(t).await?,
            })
        })
    }
}
