//! `SetPartitioner`: core's `partitioner::SetPartitioner` (kazoo's layout,
//! split and states).

use std::sync::Arc;
use std::time::Duration;

use corral::recipes::partitioner::{PartitionState, SetPartitioner as CoreSetPartitioner};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use tokio::sync::{watch, RwLock};

use super::{core_client, duration, InRuntime};
use crate::client::seconds;
use crate::runtime::{block_on, WaitError};

fn state_name(s: PartitionState) -> &'static str {
    match s {
        PartitionState::Allocating => "ALLOCATING",
        PartitionState::Acquired => "ACQUIRED",
        PartitionState::Release => "RELEASE",
        PartitionState::Failure => "FAILURE",
    }
}

fn state_of(name: &str) -> PyResult<PartitionState> {
    Ok(match name {
        "ALLOCATING" => PartitionState::Allocating,
        "ACQUIRED" => PartitionState::Acquired,
        "RELEASE" => PartitionState::Release,
        "FAILURE" => PartitionState::Failure,
        other => return Err(PyValueError::new_err(format!("unknown partition state {other:?}"))),
    })
}

/// A member's share of a set of items.
#[pyclass(module = "corral._corral", frozen)]
pub struct SetPartitioner {
    /// None once finished.
    partitioner: InRuntime<Arc<RwLock<Option<CoreSetPartitioner>>>>,
    /// Set by `finish`, which ends the waits under way (they hold the partitioner).
    finishing: watch::Sender<bool>,
    /// The least time between ALLOCATING and ACQUIRED.
    time_boundary: Duration,
}

#[pymethods]
impl SetPartitioner {
    /// Joins the party at `<path>/party` as `identifier` and starts
    /// allocating `items` in the background; the membership must stay
    /// unchanged `time_boundary` seconds before shares are taken.
    /// `split(identifier, members, items)`, when given, returns the share
    /// (a list of items); if it raises, the exception is reported as
    /// unraisable and the share is empty.
    #[new]
    #[pyo3(signature = (client, path, items, identifier, time_boundary, split=None))]
    fn new(
        py: Python<'_>,
        client: &Bound<'_, PyAny>,
        path: &str,
        items: Vec<String>,
        identifier: &str,
        time_boundary: f64,
        split: Option<Py<PyAny>>,
    ) -> PyResult<SetPartitioner> {
        let time_boundary = seconds(time_boundary)?;
        let mut builder =
            CoreSetPartitioner::builder(&core_client(client)?, path, &items, identifier).time_boundary(time_boundary);
        if let Some(func) = split {
            builder = builder.partition_fn(Arc::new(move |id: &str, members: &[String], items: &[String]| {
                Python::attach(|py| {
                    let share = func.call1(py, (id, members.to_vec(), items.to_vec())).and_then(|r| r.extract(py));
                    share.unwrap_or_else(|e| {
                        e.write_unraisable(py, Some(func.bind(py)));
                        Vec::new()
                    })
                })
            }));
        }
        let p = block_on(py, builder.start())?;
        Ok(SetPartitioner {
            partitioner: InRuntime::new(Arc::new(RwLock::new(Some(p)))),
            finishing: watch::channel(false).0,
            time_boundary,
        })
    }

    /// ALLOCATING, ACQUIRED, RELEASE or FAILURE.
    fn state(&self) -> &'static str {
        match self.partitioner.try_read() {
            Ok(g) => g.as_ref().map_or("FAILURE", |p| state_name(p.state())),
            // Being finished.
            Err(_) => "FAILURE",
        }
    }

    /// The share: the items held while ACQUIRED (still listed during RELEASE), sorted.
    fn partitions(&self) -> Vec<String> {
        match self.partitioner.try_read() {
            Ok(g) => g.as_ref().map(|p| p.partitions()).unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    /// Waits until the state is no longer `state` (at most `timeout`
    /// seconds); returns the state then.
    #[pyo3(signature = (state, timeout=None))]
    fn wait_for_change(&self, py: Python<'_>, state: &str, timeout: Option<f64>) -> PyResult<&'static str> {
        let from = state_of(state)?;
        let t = duration(timeout)?;
        let p = Arc::clone(&*self.partitioner);
        let mut finishing = self.finishing.subscribe();
        block_on(py, async move {
            let guard = p.read().await;
            let Some(p) = guard.as_ref() else {
                return Ok::<_, WaitError>(PartitionState::Failure);
            };
            let change = async {
                match t {
                    None => p.wait_for_change(from).await,
                    Some(t) => tokio::time::timeout(t, p.wait_for_change(from)).await.unwrap_or_else(|_| p.state()),
                }
            };
            Ok(tokio::select! {
                s = change => s,
                _ = finishing.wait_for(|f| *f) => PartitionState::Failure,
            })
        })
        .map(state_name)
    }

    /// Gives up the share (its locks) and starts allocating again: returns
    /// once the state has left ACQUIRED / RELEASE.
    fn release_set(&self, py: Python<'_>) -> PyResult<()> {
        let p = Arc::clone(&*self.partitioner);
        // The core acknowledges the release just before it moves to
        // ALLOCATING; allocation then takes at least the time boundary, so
        // waiting less than that for the move cannot see the next ACQUIRED.
        let settle = (self.time_boundary / 2).min(Duration::from_secs(1));
        block_on(py, async move {
            let guard = p.read().await;
            let Some(p) = guard.as_ref() else { return Ok(()) };
            let holding = |s: PartitionState| matches!(s, PartitionState::Acquired | PartitionState::Release);
            let before = p.state();
            p.release_set().await?;
            if holding(before) {
                let moved = async {
                    loop {
                        let s = p.state();
                        if !holding(s) {
                            break;
                        }
                        p.wait_for_change(s).await;
                    }
                };
                let _ = tokio::time::timeout(settle, moved).await;
            }
            Ok::<_, WaitError>(())
        })
    }

    /// Releases the share, leaves the party; the state ends as FAILURE.
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        self.finishing.send_replace(true);
        let p = Arc::clone(&*self.partitioner);
        block_on(py, async move {
            let taken = p.write().await.take();
            if let Some(p) = taken {
                p.finish().await;
            }
            Ok::<_, WaitError>(())
        })
    }
}
