//! `TreeCache`: core's `tree_cache::TreeCache`, its events pulled by the
//! package's listener thread (`next_event`).

use std::sync::{Arc, Mutex as StdMutex};
use std::time::Duration;

use corral::recipes::tree_cache::{ChildData, TreeCache as CoreTreeCache, TreeCacheEvent};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{core_client, InRuntime};
use crate::client::seconds;
use crate::convert::{self, StatTuple};
use crate::runtime::{self, block_on};

type NodeTuple<'py> = (String, Bound<'py, PyBytes>, StatTuple);

fn node<'py>(py: Python<'py>, d: &ChildData) -> NodeTuple<'py> {
    (d.path.clone(), PyBytes::new(py, &d.data), convert::stat(&d.stat))
}

/// kazoo's `TreeEvent` type names.
fn event<'py>(py: Python<'py>, ev: &TreeCacheEvent) -> (&'static str, Option<NodeTuple<'py>>) {
    match ev {
        TreeCacheEvent::NodeAdded(d) => ("NODE_ADDED", Some(node(py, d))),
        TreeCacheEvent::NodeUpdated(d) => ("NODE_UPDATED", Some(node(py, d))),
        TreeCacheEvent::NodeRemoved(d) => ("NODE_REMOVED", Some(node(py, d))),
        TreeCacheEvent::Initialized => ("INITIALIZED", None),
        TreeCacheEvent::ConnectionSuspended => ("CONNECTION_SUSPENDED", None),
        TreeCacheEvent::ConnectionReconnected => ("CONNECTION_RECONNECTED", None),
        TreeCacheEvent::ConnectionLost => ("CONNECTION_LOST", None),
    }
}

/// A live in-memory mirror of a subtree, with an event per change.
#[pyclass(module = "corral._corral", frozen)]
pub struct TreeCache {
    cache: InRuntime<Arc<CoreTreeCache>>,
    /// Subscribed at creation, so the initial load's events are kept.
    events: StdMutex<broadcast::Receiver<TreeCacheEvent>>,
}

#[pymethods]
impl TreeCache {
    #[new]
    fn new(client: &Bound<'_, PyAny>, path: &str) -> PyResult<TreeCache> {
        let cache = CoreTreeCache::new(&core_client(client)?, path);
        let events = StdMutex::new(cache.events());
        Ok(TreeCache { cache: InRuntime::new(Arc::new(cache)), events })
    }

    /// Loads the subtree and keeps it live; returns once loaded.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        let c = Arc::clone(&*self.cache);
        block_on(py, async move { c.start().await })
    }

    /// Stops following changes.
    fn close(&self) {
        self.cache.close();
    }

    /// The next event as `(type, (path, data, stat) or None)`, or None after
    /// `timeout` seconds. Events a slow reader fell behind on are skipped.
    fn next_event<'py>(
        &self,
        py: Python<'py>,
        timeout: f64,
    ) -> PyResult<Option<(&'static str, Option<NodeTuple<'py>>)>> {
        let wait: Duration = seconds(timeout.max(0.0))?;
        let ev = py.detach(|| {
            let mut rx = self.events.lock().unwrap_or_else(|e| e.into_inner());
            runtime::get().block_on(async {
                let deadline = tokio::time::Instant::now() + wait;
                loop {
                    match tokio::time::timeout_at(deadline, rx.recv()).await {
                        Ok(Ok(ev)) => return Some(ev),
                        Ok(Err(RecvError::Lagged(_))) => continue,
                        Ok(Err(RecvError::Closed)) | Err(_) => return None,
                    }
                }
            })
        });
        Ok(ev.as_ref().map(|ev| event(py, ev)))
    }

    /// The cached node at `path` as `(path, data, stat)`, if any.
    fn get_data<'py>(&self, py: Python<'py>, path: &str) -> Option<NodeTuple<'py>> {
        self.cache.current_data(path).map(|d| node(py, &d))
    }

    /// The names of the cached children of `path`; None when `path` is not cached.
    fn get_children(&self, path: &str) -> Option<Vec<String>> {
        self.cache.current_children(path).map(|c| c.into_keys().collect())
    }
}
