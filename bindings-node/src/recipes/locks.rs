//! The recipes, backed by core's: so far the lock, whose every acquisition
//! resolves with its fencing token.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::client::Client as CoreClient;
use corral::recipes::lock::Lock as CoreLock;
use napi::bindgen_prelude::{BigInt, Object, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;

use crate::client::CallOptions;
use crate::promise::spawn_value;

/// Options of `acquire`.
#[napi(object, object_to_js = false)]
pub struct AcquireOptions<'a> {
    /// Give up after this many ms (the contender node is deleted again).
    pub timeout: Option<u32>,
    /// Aborts the wait (the contender node is deleted again).
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// A distributed, re-entrant mutex (Curator's `InterProcessMutex` naming):
/// waiters are served first come, first served; an aborted or failed
/// acquisition deletes its node.
#[napi]
pub struct Lock {
    path: String,
    lock: Arc<tokio::sync::Mutex<CoreLock>>,
    /// The current hold's fencing token, readable while an acquisition waits.
    token: Arc<Mutex<Option<i64>>>,
}

impl Lock {
    pub(crate) fn new(client: &CoreClient, path: &str) -> Lock {
        Lock {
            path: path.to_string(),
            lock: Arc::new(tokio::sync::Mutex::new(CoreLock::new(client, path))),
            token: Arc::new(Mutex::new(None)),
        }
    }
}

#[napi]
impl Lock {
    /// The lock path.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// Waits until the lock is held (nests when already held); resolves with
    /// the fencing token, the lock node's czxid, which grows strictly from one
    /// holder to the next. With `timeout`, resolves `null` when the lock was
    /// not had in time (`0`: only if free now).
    #[napi(ts_return_type = "Promise<bigint | null>")]
    pub fn acquire<'env>(
        &self,
        env: &'env Env,
        options: Option<AcquireOptions>,
    ) -> Result<PromiseRaw<'env, Option<BigInt>>> {
        let (lock, token) = (self.lock.clone(), self.token.clone());
        let (timeout, signal) = options.map(|o| (o.timeout, o.signal)).unwrap_or_default();
        let fut = async move {
            let mut lock = lock.lock().await;
            let held = match timeout {
                None => lock.acquire().await.map(|()| true)?,
                Some(ms) => lock.acquire_timeout(Duration::from_millis(ms.into())).await?,
            };
            let t = if held { lock.fencing_token() } else { None };
            if let Ok(mut slot) = token.lock() {
                *slot = lock.fencing_token();
            }
            Ok(t.map(BigInt::from))
        };
        spawn_value(env, signal, fut)
    }

    /// Undoes one acquisition; the last one deletes the lock node.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn release<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, ()>> {
        let (lock, token) = (self.lock.clone(), self.token.clone());
        let fut = async move {
            let mut lock = lock.lock().await;
            let released = lock.release().await;
            if let Ok(mut slot) = token.lock() {
                *slot = lock.fencing_token();
            }
            Ok(released?)
        };
        spawn_value(env, options.and_then(|o| o.signal), fut)
    }

    /// The fencing token of the current hold (`null` when not held).
    #[napi(getter)]
    pub fn fencing_token(&self) -> Option<BigInt> {
        self.token.lock().ok().and_then(|t| *t).map(BigInt::from)
    }

    /// The full paths of every contender node, the holder first.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn participant_nodes<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let lock = self.lock.clone();
        spawn_value(
            env,
            options.and_then(|o| o.signal),
            async move { Ok(lock.lock().await.participant_nodes().await?) },
        )
    }
}
