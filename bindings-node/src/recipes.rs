//! The recipes, backed by core's: so far the lock, whose every acquisition
//! resolves with its fencing token.

use std::sync::{Arc, Mutex};

use corral::client::Client as CoreClient;
use corral::recipes::lock::Lock as CoreLock;
use napi::bindgen_prelude::{BigInt, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;

use crate::client::CallOptions;
use crate::promise::spawn_value;

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
    /// holder to the next.
    #[napi(ts_return_type = "Promise<bigint>")]
    pub fn acquire<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, BigInt>> {
        let (lock, token) = (self.lock.clone(), self.token.clone());
        let fut = async move {
            let mut lock = lock.lock().await;
            lock.acquire().await?;
            let t = lock.fencing_token().unwrap_or(-1);
            if let Ok(mut slot) = token.lock() {
                *slot = Some(t);
            }
            Ok(BigInt::from(t))
        };
        spawn_value(env, options.and_then(|o| o.signal), fut)
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
