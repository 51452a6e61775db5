//! `Election` (core's `election::LeaderElection`, kazoo's run/cancel/contenders)
//! and `LeaderLatch` (core's `leader_latch::LeaderLatch`).

use std::convert::Infallible;
use std::sync::{Arc, Mutex as StdMutex};

use corral::client::Result;
use corral::recipes::election::{LeaderElection, Leadership};
use corral::recipes::leader_latch::LeaderLatch as CoreLeaderLatch;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use tokio::sync::{oneshot, watch, Mutex};
use tokio::task::JoinHandle;

use super::{core_client, duration, into, naming};
use crate::runtime::{self, awaitable_py, block_on, WaitError};

/// Takes the value out of a slot shared with other threads.
fn take<T>(slot: &StdMutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// A leader election; the leader's work runs in Python, between
/// `ElectionRun.wait_leader` and `ElectionRun.finish`.
#[pyclass(module = "corral._corral", frozen)]
pub struct Election {
    election: LeaderElection,
}

#[pymethods]
impl Election {
    /// An election on `path` with kazoo's or Curator's node `layout`;
    /// `identifier` is this contender's node data.
    #[new]
    #[pyo3(signature = (client, path, identifier, layout="kazoo"))]
    fn new(client: &Bound<'_, PyAny>, path: &str, identifier: &str, layout: &str) -> PyResult<Election> {
        let election = LeaderElection::new(&core_client(client)?, path, identifier).with_naming(naming(layout)?);
        Ok(Election { election })
    }

    /// Joins the election in the background. The run leads once
    /// `wait_leader` says so, and keeps leading until `finish`.
    fn start_run(&self) -> ElectionRun {
        let (lead_tx, lead_rx) = oneshot::channel::<i64>();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let mut lead_tx = Some(lead_tx);
        let mut done_rx = Some(done_rx);
        let election = self.election.clone();
        let task = runtime::get().spawn(async move {
            let led = election
                .run(move |leadership: Leadership| {
                    let token = leadership.fencing_token();
                    let tx = lead_tx.take();
                    let rx = done_rx.take();
                    async move {
                        if let Some(tx) = tx {
                            let _ = tx.send(token);
                        }
                        // Leads until Python is done (or drops the run).
                        if let Some(rx) = rx {
                            let _ = rx.await;
                        }
                    }
                })
                .await?;
            Ok::<bool, corral::client::Error>(led.is_some())
        });
        ElectionRun {
            leading: StdMutex::new(Some(lead_rx)),
            done: StdMutex::new(Some(done_tx)),
            task: StdMutex::new(Some(task)),
        }
    }

    /// Stops every run of this election: a queued one leaves the queue
    /// (a leader is not interrupted).
    fn cancel(&self) {
        self.election.cancel();
    }

    /// The identifiers of all contenders in queue order; the first leads.
    fn contenders(&self, py: Python<'_>) -> PyResult<Vec<String>> {
        let e = self.election.clone();
        block_on(py, async move { e.contenders().await })
    }

    /// `contenders` as an awaitable.
    fn contenders_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let e = self.election.clone();
        awaitable_py(py, async move { e.contenders().await }, |py, v| into(py, v))
    }
}

/// One `Election.start_run`: queued, then leading until `finish`.
#[pyclass(module = "corral._corral", frozen)]
pub struct ElectionRun {
    leading: StdMutex<Option<oneshot::Receiver<i64>>>,
    done: StdMutex<Option<oneshot::Sender<()>>>,
    task: StdMutex<Option<JoinHandle<Result<bool>>>>,
}

impl ElectionRun {
    fn leader_fut(
        &self,
    ) -> impl std::future::Future<Output = std::result::Result<Option<i64>, Infallible>> + Send + 'static {
        let rx = take(&self.leading);
        async move {
            Ok(match rx {
                Some(rx) => rx.await.ok(),
                None => None,
            })
        }
    }

    fn finish_fut(&self) -> impl std::future::Future<Output = std::result::Result<(), WaitError>> + Send + 'static {
        // Dropping the sender ends the leader's turn: the node is deleted.
        drop(take(&self.done));
        let task = take(&self.task);
        async move {
            match task {
                None => Ok(()),
                Some(t) => match t.await {
                    Ok(r) => r.map(|_| ()).map_err(WaitError::from),
                    Err(e) => Err(WaitError::Py(PyRuntimeError::new_err(format!("election run failed: {e}")))),
                },
            }
        }
    }
}

#[pymethods]
impl ElectionRun {
    /// Waits until this run leads: its fencing token; None when the run
    /// ended first (cancelled, or failed: `finish` raises why). Only once.
    fn wait_leader(&self, py: Python<'_>) -> PyResult<Option<i64>> {
        block_on(py, self.leader_fut())
    }

    /// `wait_leader` as an awaitable.
    fn wait_leader_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.leader_fut(), |py, v| into(py, v))
    }

    /// Gives up leadership (or the place in the queue) and waits for the run
    /// to end; raises the error that ended it, if any.
    fn finish(&self, py: Python<'_>) -> PyResult<()> {
        block_on(py, self.finish_fut())
    }

    /// `finish` as an awaitable.
    fn finish_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.finish_fut(), |py, ()| Ok(py.None()))
    }
}

/// Curator's LeaderLatch: one participant among many is the leader.
#[pyclass(module = "corral._corral", frozen)]
pub struct LeaderLatch {
    latch: Arc<Mutex<Option<CoreLeaderLatch>>>,
    /// Leadership as the latch reports it, read without waiting for the
    /// latch (which `start` holds while it joins).
    leadership: watch::Receiver<bool>,
}

impl LeaderLatch {
    fn start_fut(&self) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        let l = self.latch.clone();
        async move {
            match l.lock().await.as_mut() {
                Some(latch) => latch.start().await,
                None => Ok(()),
            }
        }
    }

    fn await_fut(
        &self,
        timeout: Option<f64>,
    ) -> PyResult<impl std::future::Future<Output = std::result::Result<bool, Infallible>> + Send + 'static> {
        let t = duration(timeout)?;
        let mut rx = self.leadership.clone();
        Ok(async move {
            // Ends (not leading) once the latch is closed and its sender gone.
            let wait = rx.wait_for(|leader| *leader);
            Ok(match t {
                None => wait.await.is_ok(),
                Some(t) => matches!(tokio::time::timeout(t, wait).await, Ok(Ok(_))),
            })
        })
    }

    fn close_fut(&self) -> impl std::future::Future<Output = Result<()>> + Send + 'static {
        let l = self.latch.clone();
        async move {
            let latch = l.lock().await.take();
            match latch {
                Some(latch) => latch.close().await,
                None => Ok(()),
            }
        }
    }
}

#[pymethods]
impl LeaderLatch {
    #[new]
    fn new(client: &Bound<'_, PyAny>, path: &str, id: &str) -> PyResult<LeaderLatch> {
        let latch = CoreLeaderLatch::new(&core_client(client)?, path, id);
        Ok(LeaderLatch { leadership: latch.leadership_changes(), latch: Arc::new(Mutex::new(Some(latch))) })
    }

    /// Joins the latch.
    fn start(&self, py: Python<'_>) -> PyResult<()> {
        block_on(py, self.start_fut())
    }

    /// `start` as an awaitable.
    fn start_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.start_fut(), |py, ()| Ok(py.None()))
    }

    /// Whether this participant leads now.
    fn has_leadership(&self) -> bool {
        *self.leadership.borrow()
    }

    /// True once leader; False after `timeout` seconds (or when closed).
    #[pyo3(signature = (timeout=None))]
    fn await_leadership(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<bool> {
        let fut = self.await_fut(timeout)?;
        block_on(py, fut)
    }

    /// `await_leadership` as an awaitable.
    #[pyo3(signature = (timeout=None))]
    fn await_leadership_async<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let fut = self.await_fut(timeout)?;
        awaitable_py(py, fut, |py, v| into(py, v))
    }

    /// Leaves the latch (its node is deleted).
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        block_on(py, self.close_fut())
    }

    /// `close` as an awaitable.
    fn close_async<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        awaitable_py(py, self.close_fut(), |py, ()| Ok(py.None()))
    }
}
