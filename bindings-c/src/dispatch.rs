//! The one dispatch thread: every watch, state and recipe callback of the
//! process runs there, in the order its events happened. It is a plain
//! thread, not one of the runtime's, so a callback may call the blocking API
//! and free handles (even the one whose callback is running).

use std::ffi::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use tokio::sync::mpsc;

/// Callbacks waiting to run at most; a producer waits (asynchronously)
/// while the queue is full, so a slow callback slows event delivery
/// rather than growing memory.
pub const DISPATCH_QUEUE_MAX: usize = 4096;

type Job = Box<dyn FnOnce() + Send>;

static QUEUE: OnceLock<mpsc::Sender<Job>> = OnceLock::new();

fn queue() -> &'static mpsc::Sender<Job> {
    QUEUE.get_or_init(|| {
        let (tx, mut rx) = mpsc::channel::<Job>(DISPATCH_QUEUE_MAX);
        std::thread::Builder::new()
            .name("corral-dispatch".into())
            .spawn(move || {
                while let Some(job) = rx.blocking_recv() {
                    // A panicking callback (Rust code behind the C ABI) must
                    // not stop every later callback.
                    let _ = catch_unwind(AssertUnwindSafe(job));
                }
            })
            .expect("the operating system refused the dispatch thread");
        tx
    })
}

/// Queues `job` for the dispatch thread, waiting while the queue is full.
pub async fn post(job: impl FnOnce() + Send + 'static) {
    let _ = queue().send(Box::new(job)).await;
}

/// The caller's `void *userdata`, carried to the dispatch thread untouched.
#[derive(Clone, Copy)]
pub struct UserData(pub *mut c_void);

impl UserData {
    /// The pointer (a method, so that closures capture the whole `Send` wrapper).
    pub fn get(self) -> *mut c_void {
        self.0
    }
}

// SAFETY: corral never dereferences it; the C caller who passed it decides
// what the callback may do with it on the dispatch thread (the header says so).
unsafe impl Send for UserData {}
unsafe impl Sync for UserData {}
