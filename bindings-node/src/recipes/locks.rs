//! Mutual exclusion: the lock, the read-write lock and the semaphore, each
//! acquisition of a lock resolving with its fencing token.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::client::{Client as CoreClient, Result as CoreResult};
use corral::recipes::lock::{Lock as CoreLock, Naming};
use corral::recipes::rwlock::{ReadWriteLock as CoreRwLock, ReadWriteLockHalf};
use corral::recipes::semaphore::{Lease as CoreLease, Semaphore as CoreSemaphore};
use napi::bindgen_prelude::{BigInt, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;

use super::{wait_options, InRuntime, WaitOptions};
use crate::client::CallOptions;
use crate::error::Outcome;
use crate::promise::spawn_value;

/// What a lock side offers, in core's words.
pub(crate) trait Hold: Send + 'static {
    fn acquire(&mut self) -> impl Future<Output = CoreResult<()>> + Send;
    fn acquire_timeout(&mut self, timeout: Duration) -> impl Future<Output = CoreResult<bool>> + Send;
    fn release(&mut self) -> impl Future<Output = CoreResult<()>> + Send;
    fn fencing_token(&self) -> Option<i64>;
    fn is_held(&self) -> bool;
}

macro_rules! hold_by_core {
    ($t:ty) => {
        impl Hold for $t {
            fn acquire(&mut self) -> impl Future<Output = CoreResult<()>> + Send {
                <$t>::acquire(self)
            }
            fn acquire_timeout(&mut self, timeout: Duration) -> impl Future<Output = CoreResult<bool>> + Send {
                <$t>::acquire_timeout(self, timeout)
            }
            fn release(&mut self) -> impl Future<Output = CoreResult<()>> + Send {
                <$t>::release(self)
            }
            fn fencing_token(&self) -> Option<i64> {
                <$t>::fencing_token(self)
            }
            fn is_held(&self) -> bool {
                <$t>::is_held(self)
            }
        }
    };
}

hold_by_core!(CoreLock);
hold_by_core!(ReadWriteLockHalf);

/// One lock side as JS uses it: `L` is the core value (shared by the sides
/// of a read-write lock), `pick` its side; the fencing token is kept
/// readable while an acquisition waits.
struct Holder<L: Send + 'static, H> {
    lock: Arc<tokio::sync::Mutex<InRuntime<L>>>,
    pick: fn(&mut L) -> &mut H,
    token: Arc<Mutex<Option<i64>>>,
    held: Arc<Mutex<bool>>,
}

impl<L: Send + 'static, H: Hold> Holder<L, H> {
    fn new(lock: Arc<tokio::sync::Mutex<InRuntime<L>>>, pick: fn(&mut L) -> &mut H) -> Holder<L, H> {
        Holder { lock, pick, token: Arc::default(), held: Arc::default() }
    }

    /// Records the side's token and whether it is held, after an acquire or release.
    fn record(token: &Mutex<Option<i64>>, held: &Mutex<bool>, side: &H) {
        if let (Ok(mut t), Ok(mut h)) = (token.lock(), held.lock()) {
            *t = side.fencing_token();
            *h = side.is_held();
        }
    }

    fn acquire<'env>(&self, env: &'env Env, options: Option<WaitOptions>) -> Result<PromiseRaw<'env, Option<BigInt>>> {
        let (timeout, signal) = wait_options(options);
        let (lock, pick, token, held) = (self.lock.clone(), self.pick, self.token.clone(), self.held.clone());
        let fut = async move {
            let mut guard = lock.lock().await;
            let side = pick(&mut guard);
            let had = match timeout {
                None => side.acquire().await.map(|()| true),
                Some(t) => side.acquire_timeout(t).await,
            };
            Self::record(&token, &held, side);
            Ok(if had? { side.fencing_token().map(BigInt::from) } else { None })
        };
        spawn_value(env, signal, fut)
    }

    fn release<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, ()>> {
        let (lock, pick, token, held) = (self.lock.clone(), self.pick, self.token.clone(), self.held.clone());
        let fut = async move {
            let mut guard = lock.lock().await;
            let side = pick(&mut guard);
            let released = side.release().await;
            Self::record(&token, &held, side);
            Ok(released?)
        };
        spawn_value(env, options.and_then(|o| o.signal), fut)
    }

    fn fencing_token(&self) -> Option<BigInt> {
        self.token.lock().ok().and_then(|t| *t).map(BigInt::from)
    }

    fn is_held(&self) -> bool {
        self.held.lock().is_ok_and(|h| *h)
    }
}

/// Declares a JS lock class over a [`Holder`]: acquire, release, fencingToken, isHeld.
macro_rules! lock_methods {
    ($t:ident) => {
        #[napi]
        impl $t {
            /// Waits until held (nests when already held); resolves with the
            /// fencing token, the lock node's czxid, which grows strictly
            /// from one holder to the next. With `timeout`, resolves `null`
            /// when not had in time (`0`: only if free now).
            #[napi(ts_return_type = "Promise<bigint | null>")]
            pub fn acquire<'env>(
                &self,
                env: &'env Env,
                options: Option<WaitOptions>,
            ) -> Result<PromiseRaw<'env, Option<BigInt>>> {
                self.holder.acquire(env, options)
            }

            /// Undoes one acquisition; the last one deletes the lock node.
            #[napi(ts_return_type = "Promise<void>")]
            pub fn release<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, ()>> {
                self.holder.release(env, options)
            }

            /// The fencing token of the current hold (`null` when not held).
            #[napi(getter)]
            pub fn fencing_token(&self) -> Option<BigInt> {
                self.holder.fencing_token()
            }

            /// Whether this value holds the lock (as of its last acquire or release).
            #[napi(getter)]
            pub fn is_held(&self) -> bool {
                self.holder.is_held()
            }
        }
    };
}

/// A distributed, re-entrant mutex (Curator's `InterProcessMutex` naming):
/// waiters are served first come, first served; an aborted or failed
/// acquisition deletes its node.
#[napi]
pub struct Lock {
    path: String,
    holder: Holder<CoreLock, CoreLock>,
}

impl Lock {
    pub(crate) fn new(client: &CoreClient, path: &str, naming: Naming, data: &[u8]) -> Lock {
        let lock = CoreLock::with_naming(client, path, naming).with_data(data);
        let lock = Arc::new(tokio::sync::Mutex::new(InRuntime::new(lock)));
        Lock { path: path.to_string(), holder: Holder::new(lock, |l| l) }
    }
}

lock_methods!(Lock);

#[napi]
impl Lock {
    /// The lock path.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// The full paths of every contender node, the holder first.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn participant_nodes<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let lock = self.holder.lock.clone();
        spawn_value(
            env,
            options.and_then(|o| o.signal),
            async move { Ok(lock.lock().await.participant_nodes().await?) },
        )
    }
}

/// A distributed read-write lock (Curator's `InterProcessReadWriteLock`):
/// readers share, a writer excludes everyone, a waiting writer holds back
/// later readers. The value holding the write lock may take the read lock too
/// (release it first).
#[napi]
pub struct ReadWriteLock {
    path: String,
    lock: Arc<tokio::sync::Mutex<InRuntime<CoreRwLock>>>,
}

impl ReadWriteLock {
    pub(crate) fn new(client: &CoreClient, path: &str, naming: Naming, data: &[u8]) -> ReadWriteLock {
        let lock = CoreRwLock::new(client, path).with_naming(naming).with_data(data);
        ReadWriteLock { path: path.to_string(), lock: Arc::new(tokio::sync::Mutex::new(InRuntime::new(lock))) }
    }
}

#[napi]
impl ReadWriteLock {
    /// The lock path.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// The shared side (Curator's `readLock()`).
    #[napi]
    pub fn read_lock(&self) -> ReadWriteLockSide {
        ReadWriteLockSide { holder: Holder::new(self.lock.clone(), CoreRwLock::read) }
    }

    /// The exclusive side (Curator's `writeLock()`).
    #[napi]
    pub fn write_lock(&self) -> ReadWriteLockSide {
        ReadWriteLockSide { holder: Holder::new(self.lock.clone(), CoreRwLock::write) }
    }

    /// Full paths of every contender node, readers and writers, in line order.
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

/// One side of a `ReadWriteLock`, used like a `Lock`.
#[napi]
pub struct ReadWriteLockSide {
    holder: Holder<CoreRwLock, ReadWriteLockHalf>,
}

lock_methods!(ReadWriteLockSide);

/// A counting semaphore (Curator's `InterProcessSemaphoreV2` layout): at
/// most `maxLeases` leases out at a time, acquirers served in turn.
#[napi]
pub struct Semaphore {
    semaphore: Arc<CoreSemaphore>,
}

impl Semaphore {
    pub(crate) fn new(client: &CoreClient, path: &str, max_leases: u32, naming: Naming, data: &[u8]) -> Semaphore {
        let semaphore = CoreSemaphore::new(client, path, max_leases as usize).with_naming(naming).with_data(data);
        Semaphore { semaphore: Arc::new(semaphore) }
    }

    /// Core's acquisition of `count` leases, each a JS `Lease`.
    fn leases(
        &self,
        count: u32,
        timeout: Option<Duration>,
    ) -> impl Future<Output = Outcome<Option<Vec<Lease>>>> + Send + 'static {
        let semaphore = self.semaphore.clone();
        async move {
            let n = count as usize;
            let leases = match timeout {
                None => Some(semaphore.acquire(n).await?),
                Some(t) => semaphore.acquire_timeout(n, t).await?,
            };
            Ok(leases.map(|l| l.into_iter().map(Lease::new).collect()))
        }
    }
}

#[napi]
impl Semaphore {
    /// The semaphore path.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.semaphore.path().to_string()
    }

    /// The most leases out at a time.
    #[napi(getter)]
    pub fn max_leases(&self) -> u32 {
        self.semaphore.max_leases() as u32
    }

    /// Waits for one lease; with `timeout`, `null` when none came in time.
    #[napi(ts_return_type = "Promise<Lease | null>")]
    pub fn acquire<'env>(
        &self,
        env: &'env Env,
        options: Option<WaitOptions>,
    ) -> Result<PromiseRaw<'env, Option<Lease>>> {
        let (timeout, signal) = wait_options(options);
        let leases = self.leases(1, timeout);
        spawn_value(env, signal, async move { Ok(leases.await?.and_then(|mut l| l.pop())) })
    }

    /// Waits for `count` leases, granted together; with `timeout`, `null`
    /// when they did not come in time (none is kept then). BadArguments when
    /// `count` is 0 or more than `maxLeases`.
    #[napi(ts_return_type = "Promise<Lease[] | null>")]
    pub fn acquire_many<'env>(
        &self,
        env: &'env Env,
        count: u32,
        options: Option<WaitOptions>,
    ) -> Result<PromiseRaw<'env, Option<Vec<Lease>>>> {
        let (timeout, signal) = wait_options(options);
        spawn_value(env, signal, self.leases(count, timeout))
    }

    /// Full paths of the lease nodes, in sequence order.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn participant_nodes<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let semaphore = self.semaphore.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(semaphore.participant_nodes().await?) })
    }
}

/// One lease of a `Semaphore`: an ephemeral node until `release()` (or
/// `await using` ends, or the lease is garbage collected).
#[napi]
pub struct Lease {
    path: String,
    lease: Arc<Mutex<Option<InRuntime<CoreLease>>>>,
}

impl Lease {
    fn new(lease: CoreLease) -> Lease {
        Lease { path: lease.path().to_string(), lease: Arc::new(Mutex::new(Some(InRuntime::new(lease)))) }
    }
}

#[napi]
impl Lease {
    /// The lease node's full path.
    #[napi(getter)]
    pub fn path(&self) -> String {
        self.path.clone()
    }

    /// Whether the lease is held: not released, and its session connected.
    #[napi(getter)]
    pub fn is_held(&self) -> bool {
        self.lease.lock().is_ok_and(|l| l.as_ref().is_some_and(|l| l.is_held()))
    }

    /// Gives the lease back (deletes its node); nothing when already given back.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn release<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let lease = self.lease.lock().ok().and_then(|mut l| l.take());
        spawn_value(env, None, async move {
            match lease {
                Some(l) => Ok(InRuntime::into_inner(l).release().await?),
                None => Ok(()),
            }
        })
    }
}
