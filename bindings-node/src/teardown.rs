//! Worker threads: every JS environment (the main thread's, each Worker's)
//! loads the addon anew, and what one environment opened must not outlive
//! it. Node runs an environment's cleanup hooks when it ends (a Worker
//! returning or terminated, the process exiting): the clients, servers and
//! relays it opened are closed then, so that their sessions end and their
//! connections and background tasks stop instead of running on in the
//! shared runtime. The hook waits for the closes, up to [`CLOSE_WAIT`]: at
//! process exit the runtime's threads end with it, and a session left open
//! would keep its ephemeral nodes until it expired.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::{mpsc, Arc, Weak};
use std::time::Duration;

use napi::Env;

/// How long an ending environment waits for what it opened to close.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Closing one thing, on the runtime.
pub(crate) type Closing = Pin<Box<dyn Future<Output = ()> + Send>>;

/// What an environment closes as it ends.
pub(crate) trait Teardown: Send + Sync {
    /// Closes it (the environment is going away).
    fn teardown(self: Arc<Self>) -> Closing;
}

thread_local! {
    /// What this thread's environment opened; `None` until the first, when
    /// the cleanup hook is added.
    static OPENED: RefCell<Option<Vec<Weak<dyn Teardown>>>> = const { RefCell::new(None) };
}

/// Closes `item` when `env` ends, unless it is gone by then.
pub(crate) fn on_teardown<T: Teardown + 'static>(env: &Env, item: &Arc<T>) -> napi::Result<()> {
    let item: Weak<dyn Teardown> = Arc::downgrade(item) as Weak<T>;
    OPENED.with(|opened| {
        let mut opened = opened.borrow_mut();
        let list = match opened.as_mut() {
            Some(list) => list,
            None => {
                env.add_env_cleanup_hook((), |()| close_opened())?;
                opened.insert(Vec::new())
            }
        };
        list.retain(|w| w.strong_count() > 0);
        list.push(item);
        Ok(())
    })
}

fn close_opened() {
    let opened = OPENED.with(|o| o.borrow_mut().take()).unwrap_or_default();
    let closing: Vec<Closing> = opened.iter().filter_map(Weak::upgrade).map(|item| item.teardown()).collect();
    if closing.is_empty() {
        return;
    }
    let (done, closed) = mpsc::channel();
    corral::runtime::get().spawn(async move {
        // Last opened, first closed: clients before the servers they use.
        for close in closing.into_iter().rev() {
            close.await;
        }
        let _ = done.send(());
    });
    // The runtime's own threads do the closing: waiting here blocks only
    // this ending environment's thread.
    let _ = closed.recv_timeout(CLOSE_WAIT);
}
