//! The process's one tokio runtime, shared by every client, server and
//! binding, and the bridge that waits on it from a thread that is not one of
//! its own (a C caller, a Python thread, a test's `main`).
//!
//! The runtime is created on first use with at most [`WORKER_THREADS_MAX`]
//! workers: a library should not take a core per CPU of its host. Node's
//! addon may hand [`get`] to napi-rs so that its Promises run here too.
//!
//! ```
//! use std::time::Duration;
//!
//! // From a plain thread: run a future to completion on the shared runtime.
//! let answer = corral::runtime::block_on(async { 6 * 7 })?;
//! assert_eq!(answer, 42);
//!
//! // With a deadline and a cancel hook, checked every `CANCEL_CHECK_INTERVAL`.
//! // (Timers and sockets are made inside the async block: it runs on the runtime.)
//! let slow = corral::runtime::block_on_with(
//!     async { tokio::time::sleep(Duration::from_secs(60)).await },
//!     Some(Duration::from_millis(50)),
//!     || Ok::<(), std::convert::Infallible>(()),
//! );
//! assert!(matches!(slow, Err(corral::runtime::BlockError::TimedOut(_))));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! May use: nothing of ours.

use std::future::Future;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::runtime::Runtime;

/// Worker threads at most, whatever the number of CPUs.
pub const WORKER_THREADS_MAX: usize = 4;

/// How often a blocked wait calls its cancel hook and checks its deadline.
pub const CANCEL_CHECK_INTERVAL: Duration = Duration::from_millis(100);

static RUNTIME: OnceLock<Runtime> = OnceLock::new();

/// Why a blocking wait ended without the future's output.
#[derive(Debug, Error)]
pub enum BlockError<E> {
    /// Called on a thread that already runs inside a tokio runtime, where
    /// blocking would stall the very workers the future needs: `.await` it.
    #[error("block_on called from inside a tokio runtime; await the future instead")]
    InsideRuntime,
    /// The deadline passed first; the future was dropped.
    #[error("no result within {0:?}")]
    TimedOut(Duration),
    /// The cancel hook asked to stop; the future was dropped.
    #[error("cancelled: {0}")]
    Cancelled(E),
}

/// The shared runtime, started on first use.
///
/// # Panics
///
/// When the operating system refuses the worker threads (nothing can run then).
pub fn get() -> &'static Runtime {
    RUNTIME.get_or_init(|| {
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(1, WORKER_THREADS_MAX);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("corral-runtime")
            .enable_all()
            .build()
            .expect("the operating system refused the runtime's threads")
    })
}

/// Runs `fut` to completion on the shared runtime, blocking this thread.
pub fn block_on<F: Future>(fut: F) -> Result<F::Output, BlockError<std::convert::Infallible>> {
    block_on_with(fut, None, || Ok(()))
}

/// Runs `fut` on the shared runtime, blocking this thread until it completes,
/// `timeout` passes, or `cancel` returns an error (it is called every
/// [`CANCEL_CHECK_INTERVAL`] on this thread: Python checks for Ctrl-C there,
/// C calls the caller's hook). An abandoned future is dropped inside the
/// runtime, so that its cleanup (closing a lock node, a lease) can spawn.
pub fn block_on_with<F, E>(
    fut: F,
    timeout: Option<Duration>,
    mut cancel: impl FnMut() -> Result<(), E>,
) -> Result<F::Output, BlockError<E>>
where
    F: Future,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(BlockError::InsideRuntime);
    }
    let rt = get();
    // Entered before `fut` is pinned here, so it is dropped while entered.
    let _entered = rt.enter();
    let mut fut = std::pin::pin!(fut);
    let deadline = timeout.map(|t| (Instant::now() + t, t));
    loop {
        let slice = match deadline {
            Some((at, t)) => match at.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => left.min(CANCEL_CHECK_INTERVAL),
                _ => return Err(BlockError::TimedOut(t)),
            },
            None => CANCEL_CHECK_INTERVAL,
        };
        if let Ok(out) = rt.block_on(async { tokio::time::timeout(slice, &mut fut).await }) {
            return Ok(out);
        }
        cancel().map_err(BlockError::Cancelled)?;
    }
}
