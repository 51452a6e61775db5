//! The sync client's event pump: one task per client turns fired one-shot
//! watches, persistent-watch events and connection-state changes into one
//! ordered queue, which the package's dispatch thread drains
//! (`Client.next_event`) and hands to the Python callbacks.
//!
//! Events leave in the order their watches were woken; the pump reads every
//! event a stream already holds before it looks at the next source.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use corral::client::{Client, OneshotWatch, State, WatchStream, WatchedEvent};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use pyo3::prelude::*;
use tokio::sync::{broadcast, mpsc};

use crate::runtime;

/// What a watch callback is registered for.
pub enum Source {
    /// Fires once.
    Once(OneshotWatch),
    /// Fires until removed, expired or closed.
    Stream(WatchStream),
}

/// One event for the dispatch thread.
pub enum Delivery {
    /// Call `callback(event)`.
    Watch(Arc<Py<PyAny>>, WatchedEvent),
    /// Tell the state listeners.
    State(State),
}

type Registration = (Py<PyAny>, Source);

enum Ready {
    Watch(Arc<Py<PyAny>>, Vec<WatchedEvent>, Option<WatchStream>),
    States(Vec<State>, Option<broadcast::Receiver<State>>),
}

type Step = Pin<Box<dyn Future<Output = Ready> + Send>>;

/// The queue between a client's watches and its dispatch thread.
pub struct Dispatcher {
    registrations: Mutex<Option<mpsc::UnboundedSender<Registration>>>,
    deliveries: Mutex<std_mpsc::Receiver<Delivery>>,
}

impl Dispatcher {
    /// Starts the pump for `client`'s watches and state changes.
    pub fn start(client: &Client) -> Dispatcher {
        let (reg_tx, reg_rx) = mpsc::unbounded_channel();
        let (out_tx, out_rx) = std_mpsc::channel();
        runtime::get().spawn(pump(reg_rx, client.state_changes(), out_tx));
        Dispatcher { registrations: Mutex::new(Some(reg_tx)), deliveries: Mutex::new(out_rx) }
    }

    /// Calls `callback` on the dispatch thread when `source` fires.
    pub fn watch(&self, callback: Py<PyAny>, source: Source) {
        if let Some(tx) = self.registrations.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            let _ = tx.send((callback, source));
        }
    }

    /// No more registrations: the pump passes on what is ready and ends.
    pub fn close(&self) {
        self.registrations.lock().unwrap_or_else(|e| e.into_inner()).take();
    }

    /// The next event, waiting up to `timeout` without the GIL.
    /// `Ok(None)`: nothing yet; `Err(())`: the pump has ended.
    pub fn next(&self, py: Python<'_>, timeout: Duration) -> Result<Option<Delivery>, ()> {
        py.detach(|| {
            let rx = self.deliveries.lock().unwrap_or_else(|e| e.into_inner());
            match rx.recv_timeout(timeout) {
                Ok(d) => Ok(Some(d)),
                Err(std_mpsc::RecvTimeoutError::Timeout) => Ok(None),
                Err(std_mpsc::RecvTimeoutError::Disconnected) => Err(()),
            }
        })
    }
}

fn step(callback: Arc<Py<PyAny>>, source: Source) -> Step {
    match source {
        Source::Once(w) => Box::pin(async move { Ready::Watch(callback, vec![w.await], None) }),
        Source::Stream(mut s) => Box::pin(async move {
            match s.next().await {
                None => Ready::Watch(callback, Vec::new(), None),
                Some(first) => {
                    let mut events = vec![first];
                    let mut open = true;
                    while let Some(more) = s.next().now_or_never() {
                        match more {
                            Some(ev) => events.push(ev),
                            None => {
                                open = false;
                                break;
                            }
                        }
                    }
                    Ready::Watch(callback, events, open.then_some(s))
                }
            }
        }),
    }
}

fn state_step(mut rx: broadcast::Receiver<State>) -> Step {
    Box::pin(async move {
        let mut states = Vec::new();
        loop {
            match rx.recv().await {
                Ok(s) => {
                    states.push(s);
                    loop {
                        match rx.try_recv() {
                            Ok(s) => states.push(s),
                            Err(broadcast::error::TryRecvError::Lagged(_)) => continue,
                            Err(_) => break,
                        }
                    }
                    let open = !states.contains(&State::Closed);
                    return Ready::States(states, open.then_some(rx));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return Ready::States(states, None),
            }
        }
    })
}

async fn pump(
    mut registrations: mpsc::UnboundedReceiver<Registration>,
    states: broadcast::Receiver<State>,
    out: std_mpsc::Sender<Delivery>,
) {
    let mut pending: FuturesUnordered<Step> = FuturesUnordered::new();
    pending.push(state_step(states));
    loop {
        tokio::select! {
            biased;
            Some(ready) = pending.next(), if !pending.is_empty() => forward(ready, &mut pending, &out),
            reg = registrations.recv() => match reg {
                Some((cb, source)) => pending.push(step(Arc::new(cb), source)),
                None => {
                    // Closed: pass on what is ready, then end (dropping `out`).
                    while let Some(Some(ready)) = pending.next().now_or_never() {
                        forward(ready, &mut pending, &out);
                    }
                    return;
                }
            },
        }
    }
}

fn forward(ready: Ready, pending: &mut FuturesUnordered<Step>, out: &std_mpsc::Sender<Delivery>) {
    match ready {
        Ready::Watch(cb, events, stream) => {
            for ev in events {
                let _ = out.send(Delivery::Watch(cb.clone(), ev));
            }
            if let Some(s) = stream {
                pending.push(step(cb, Source::Stream(s)));
            }
        }
        Ready::States(states, rx) => {
            for s in states {
                let _ = out.send(Delivery::State(s));
            }
            if let Some(rx) = rx {
                pending.push(state_step(rx));
            }
        }
    }
}
