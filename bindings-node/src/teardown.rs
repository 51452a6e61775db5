//! Worker threads: every JS environment (the main thread's, each Worker's)
//! loads the addon anew, and what one environment opened must not outlive
//! it. Node runs an environment's cleanup hooks when it ends (a Worker
//! returning or terminated): the clients, servers and relays it opened are
//! closed then, so that their sessions end and their connections and
//! background tasks stop instead of running on in the shared runtime.

use std::cell::RefCell;
use std::sync::{Arc, Weak};

use napi::Env;

/// What an environment closes as it ends.
pub(crate) trait Teardown: Send + Sync {
    /// Starts closing, without waiting (the environment is going away).
    fn teardown(self: Arc<Self>);
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
    let _runtime = corral::runtime::get().enter();
    for item in opened.iter().filter_map(Weak::upgrade) {
        item.teardown();
    }
}
