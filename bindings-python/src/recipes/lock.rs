//! `Lock` (core's `lock::Lock`, kazoo's node naming) and the two sides of
//! core's `rwlock::ReadWriteLock`, behind one class: kazoo's Lock, ReadLock
//! and WriteLock are used alike.

use std::future::Future;
use std::sync::Arc;

use corral::client::{Client as CoreClient, Result};
use corral::recipes::lock::{Lock as CoreLock, LockState};
use corral::recipes::rwlock::ReadWriteLock;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::Mutex;

use super::{cancelled, core_client, identifiers, into, naming, Cancel, InRuntime, Wait};
use crate::runtime::{awaitable_py, block_on, WaitError};

fn lock_state(s: LockState) -> &'static str {
    match s {
        LockState::Released => "RELEASED",
        LockState::Held => "HELD",
        LockState::Suspended => "SUSPENDED",
        LockState::Lost => "LOST",
    }
}

/// A lock's state, fencing token and held node.
type Status = (LockState, Option<i64>, Option<String>);

/// The core value one `Lock` wraps.
enum Held {
    /// An exclusive lock.
    Mutex(CoreLock),
    /// The shared side of a read-write lock.
    Read(ReadWriteLock),
    /// The exclusive side of a read-write lock.
    Write(ReadWriteLock),
}

/// `$body` with `$l` bound to the lock or the read-write lock's side.
macro_rules! on_side {
    ($held:expr, $l:ident => $body:expr) => {
        match $held {
            Held::Mutex($l) => $body,
            Held::Read(rw) => {
                let $l = rw.read();
                $body
            }
            Held::Write(rw) => {
                let $l = rw.write();
                $body
            }
        }
    };
}

impl Held {
    async fn acquire(&mut self, wait: Wait, ephemeral: bool) -> Result<bool> {
        on_side!(self, l => l.set_ephemeral(ephemeral));
        on_side!(self, l => match wait {
            Wait::Forever => l.acquire().await.map(|()| true),
            Wait::For(t) => l.acquire_timeout(t).await,
            Wait::Now => l.try_acquire().await,
        })
    }

    async fn release(&mut self) -> Result<()> {
        on_side!(self, l => l.release().await)
    }

    fn status(&mut self) -> Status {
        on_side!(self, l => (l.state(), l.fencing_token(), l.node_path().map(str::to_string)))
    }
}

/// A distributed lock: exclusive (kazoo's `Lock`), or one side of a
/// read-write lock (`ReadLock` / `WriteLock`).
#[pyclass(module = "corral._corral", frozen)]
pub struct Lock {
    client: CoreClient,
    path: String,
    kind: &'static str,
    held: InRuntime<Arc<Mutex<Held>>>,
    /// State and fencing token after the last operation, answered while
    /// another one is under way.
    last: Arc<std::sync::Mutex<Status>>,
    cancel: Cancel,
}

impl Lock {
    fn acquire_fut(
        &self,
        blocking: bool,
        timeout: Option<f64>,
        ephemeral: bool,
    ) -> PyResult<impl Future<Output = std::result::Result<bool, WaitError>> + Send + 'static> {
        let wait = Wait::of(blocking, timeout)?;
        let held = Arc::clone(&*self.held);
        let last = self.last.clone();
        let cancel = self.cancel.later();
        let path = self.path.clone();
        Ok(async move {
            let work = async {
                let mut h = match wait {
                    // Not even waiting for another acquisition through this value.
                    Wait::Now => match held.try_lock() {
                        Ok(h) => h,
                        Err(_) => return Ok(false),
                    },
                    _ => held.lock().await,
                };
                let got = h.acquire(wait, ephemeral).await;
                *last.lock().unwrap_or_else(|e| e.into_inner()) = h.status();
                got
            };
            tokio::select! {
                got = work => Ok(got?),
                () = cancel => Err(cancelled(&path)),
            }
        })
    }

    fn release_fut(&self) -> impl Future<Output = Result<()>> + Send + 'static {
        let held = Arc::clone(&*self.held);
        let last = self.last.clone();
        async move {
            let mut h = held.lock().await;
            let r = h.release().await;
            *last.lock().unwrap_or_else(|e| e.into_inner()) = h.status();
            r
        }
    }

    fn contenders_fut(&self) -> impl Future<Output = Result<Vec<String>>> + Send + 'static {
        let client = self.client.clone();
        let path = self.path.clone();
        let kind = self.kind;
        async move {
            // A fresh value lists the line without waiting for this one's acquisitions.
            let paths = if kind == "lock" {
                CoreLock::kazoo(&client, &path, "").participant_nodes().await?
            } else {
                ReadWriteLock::new(&client, &path).participant_nodes().await?
            };
            identifiers(&client, paths).await
        }
    }

    fn status(&self) -> Status {
        match self.held.try_lock() {
            Ok(mut h) => {
                let s = h.status();
                *self.last.lock().unwrap_or_else(|e| e.into_inner()) = s.clone();
                s
            }
            Err(_) => self.last.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        }
    }
}

#[pymethods]
impl Lock {
    /// `kind`: "lock" (exclusive), "read" or "write" (the sides of a
    /// read-write lock); `layout`: "kazoo" or "curator" node naming.
    /// `identifier` is each node's data.
    #[new]
    #[pyo3(signature = (client, path, identifier, kind="lock", layout="kazoo"))]
    fn new(client: &Bound<'_, PyAny>, path: &str, identifier: &str, kind: &str, layout: &str) -> PyResult<Lock> {
        let c = core_client(client)?;
        let naming = naming(layout)?;
        let rw = || ReadWriteLock::new(&c, path).with_naming(naming).with_data(identifier.as_bytes());
        let (kind, held) = match kind {
            "lock" => ("lock", Held::Mutex(CoreLock::with_naming(&c, path, naming).with_data(identifier.as_bytes()))),
            "read" => ("read", Held::Read(rw())),
            "write" => ("write", Held::Write(rw())),
            other => return Err(PyValueError::new_err(format!("unknown lock kind {other:?}"))),
        };
        Ok(Lock {
            client: c,
            path: path.to_string(),
            kind,
            held: InRuntime::new(Arc::new(Mutex::new(held))),
            last: Arc::new(std::sync::Mutex::new((LockState::Released, None, None))),
            cancel: Cancel::new(),
        })
    }

    /// Waits for the lock (at most `timeout` seconds; not at all unless
    /// `blocking`); True once held. CancelledError after `cancel()`.
    /// `ephemeral=False`: the lock node stays after the session (kazoo's).
    #[pyo3(signature = (blocking=true, timeout=None, ephemeral=true))]
    fn acquire(&self, py: Python<'_>, blocking: bool, timeout: Option<f64>, ephemeral: bool) -> PyResult<bool> {
        let fut = self.acquire_fut(blocking, timeout, ephemeral)?;
        block_on(py, fut)
    }

    /// `acquire` as an awaitable.
    #[pyo3(signature = (blocking=true, timeout=None, ephemeral=true))]
    fn acquire_async<'py>(
        &self,
        py: Python<'py>,
        blocking: bool,
        timeout: Option<f64>,
        ephemeral: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.acquire_fut(blocking, timeout, ephemeral)?;
        awaitable_py(py, fut, |py, v| into(py, v))
    }

    /// Undoes one acquisition (BadArguments when not held).
    fn release(&self, py: Python<'_>) -> PyResult<()> {
        block_on(py, self.release_fut())
    }

    /// `release` as an awaitable.
    fn release_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.release_fut(), |py, ()| Ok(py.None()))
    }

    /// Ends the acquisitions under way with CancelledError.
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// RELEASED, HELD, SUSPENDED or LOST.
    fn state(&self) -> &'static str {
        lock_state(self.status().0)
    }

    /// The czxid of the held lock node (grows from one holder to the next).
    fn fencing_token(&self) -> Option<i64> {
        self.status().1
    }

    /// The path of the held lock node.
    fn node_path(&self) -> Option<String> {
        self.status().2
    }

    /// Every contender's identifier, in line order (the holder first).
    fn contenders(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        block_on(py, self.contenders_fut())
    }

    /// `contenders` as an awaitable.
    fn contenders_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.contenders_fut(), |py, v| into(py, v))
    }
}
