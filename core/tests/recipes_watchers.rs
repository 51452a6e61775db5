//! kazoo's DataWatch and ChildrenWatch (`recipes::watchers`) against corral
//! and against Apache ZooKeeper 3.8: the first call, every change in order,
//! creation and deletion, stopping, a panicking callback, and staying armed
//! across a server restart, a cut connection and a lost session.

mod support;

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corral::client::{Client, CreateOptions, State, WatchedEvent};
use corral::proto::{EventType, Stat};
use corral::recipes::watchers::{Callback, ChildrenWatch, DataWatch};
use support::{eventually, TestServer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};

const T: Duration = Duration::from_secs(10);
/// Reconnecting to a JVM that accepts connections before it serves can take seconds.
const RECONNECT: Duration = Duration::from_secs(30);

/// The calls a watch made, in order; ends when the watch drops its callback.
struct Calls<V>(mpsc::UnboundedReceiver<(V, Option<WatchedEvent>)>);

impl<V: std::fmt::Debug> Calls<V> {
    /// The next call within `wait`.
    async fn next_within(&mut self, wait: Duration, what: &str) -> (V, Option<WatchedEvent>) {
        match tokio::time::timeout(wait, self.0.recv()).await {
            Ok(Some(call)) => call,
            Ok(None) => panic!("the watch ended while waiting for {what}"),
            Err(_) => panic!("no call: {what}"),
        }
    }

    async fn next(&mut self, what: &str) -> (V, Option<WatchedEvent>) {
        self.next_within(T, what).await
    }

    /// The call already made, if any (no waiting).
    fn made(&mut self) -> Option<(V, Option<WatchedEvent>)> {
        self.0.try_recv().ok()
    }

    /// Waits until the watch has dropped its callback, with no further call.
    async fn ended(&mut self) {
        match tokio::time::timeout(T, self.0.recv()).await {
            Ok(None) => {}
            Ok(Some(call)) => panic!("a call after the watch should have ended: {call:?}"),
            Err(_) => panic!("the watch did not end"),
        }
    }
}

type Node = Option<(Vec<u8>, Stat)>;

/// A callback recording every call (its value through `prepare`); it breaks when `stop` says so.
fn recorder<V: Send + 'static>(prepare: fn(V) -> V, stop: fn(&V) -> bool) -> (Callback<V>, Calls<V>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let f = move |value: V, ev: Option<WatchedEvent>| {
        let value = prepare(value);
        let flow = if stop(&value) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) };
        let _ = tx.send((value, ev));
        flow
    };
    (Box::new(f), Calls(rx))
}

/// A DataWatch callback recording every call; it breaks on data `stop`.
fn data_recorder() -> (Callback<Node>, Calls<Node>) {
    recorder(|node| node, |node| node.as_ref().is_some_and(|(d, _)| d == b"stop"))
}

/// A ChildrenWatch callback recording every call (children sorted); it breaks when a child `stop` appears.
fn children_recorder() -> (Callback<Vec<String>>, Calls<Vec<String>>) {
    let sorted = |mut children: Vec<String>| {
        children.sort();
        children
    };
    recorder(sorted, |children| children.iter().any(|c| c == "stop"))
}

/// Both watches on `path` (created with data `0`), their first calls made.
async fn watch_both(zk: &Client, path: &str) -> (DataWatch, ChildrenWatch, Calls<Node>, Calls<Vec<String>>) {
    zk.create(path, b"0", &CreateOptions::default()).await.unwrap();
    let (f, mut data_calls) = data_recorder();
    let dw = DataWatch::start(zk, path, f).await.unwrap();
    let (f, mut child_calls) = children_recorder();
    let cw = ChildrenWatch::start(zk, path, f).await.unwrap();
    assert!(data_calls.made().is_some() && child_calls.made().is_some());
    (dw, cw, data_calls, child_calls)
}

fn data(call: &(Node, Option<WatchedEvent>)) -> Option<&[u8]> {
    call.0.as_ref().map(|(d, _)| d.as_slice())
}

fn event_type(call: &(impl Sized, Option<WatchedEvent>)) -> Option<EventType> {
    call.1.as_ref().map(|e| e.event_type)
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

both_servers!(data_watch_follows_creation_changes_and_deletion, |srv: TestServer| async move {
    let zk = srv.client().await;
    let writer = srv.client().await;
    let (f, mut calls) = data_recorder();
    let watch = DataWatch::start(&zk, "/dw", f).await.unwrap();
    // The first call has returned by the time `start` does.
    let first = calls.made().expect("called before start returned");
    assert_eq!((data(&first), event_type(&first)), (None, None), "missing node: None, no event");

    writer.create("/dw", b"v1", &CreateOptions::default()).await.unwrap();
    let c = calls.next("creation").await;
    assert_eq!((data(&c), event_type(&c)), (Some(&b"v1"[..]), Some(EventType::NodeCreated)));
    assert_eq!(c.1.as_ref().map(|e| e.path.as_str()), Some("/dw"));
    let stat = writer.set_data("/dw", b"v2", None).await.unwrap();
    let c = calls.next("change").await;
    assert_eq!((data(&c), event_type(&c)), (Some(&b"v2"[..]), Some(EventType::NodeDataChanged)));
    assert_eq!(c.0.as_ref().map(|(_, s)| (s.version, s.mzxid)), Some((1, stat.mzxid)));
    writer.delete("/dw", None).await.unwrap();
    let c = calls.next("deletion").await;
    assert_eq!((data(&c), event_type(&c)), (None, Some(EventType::NodeDeleted)));
    writer.create("/dw", b"v3", &CreateOptions::default()).await.unwrap();
    let c = calls.next("creation again").await;
    assert_eq!((data(&c), event_type(&c)), (Some(&b"v3"[..]), Some(EventType::NodeCreated)));
    assert!(!watch.is_stopped());

    // An existing node: the first call carries its data.
    let (f, mut calls2) = data_recorder();
    let _w2 = DataWatch::start(&zk, "/dw", f).await.unwrap();
    let first = calls2.made().expect("first call");
    assert_eq!(first.0.map(|(d, s)| (d, s.version)), Some((b"v3".to_vec(), 0)));
});

both_servers!(data_watch_reports_changes_in_order, |srv: TestServer| async move {
    const CHANGES: i32 = 40;
    let zk = srv.client().await;
    let writer = srv.client().await;
    writer.create("/order", b"0", &CreateOptions::default()).await.unwrap();
    let (f, mut calls) = data_recorder();
    let _watch = DataWatch::start(&zk, "/order", f).await.unwrap();
    let mut last = calls.next("first").await.0.expect("node exists").1;
    // Changes in quick succession may be reported together, never out of order.
    let writes = tokio::spawn(async move {
        for i in 1..=CHANGES {
            writer.set_data("/order", i.to_string().as_bytes(), None).await.unwrap();
        }
    });
    loop {
        let c = calls.next("the next change").await;
        assert_eq!(event_type(&c), Some(EventType::NodeDataChanged));
        let (d, stat) = c.0.expect("node exists");
        assert!(stat.mzxid > last.mzxid && stat.version > last.version, "{stat:?} after {last:?}");
        assert_eq!(d, stat.version.to_string().into_bytes(), "data and Stat read together");
        last = stat;
        if last.version == CHANGES {
            break;
        }
    }
    writes.await.unwrap();
});

both_servers!(data_watch_stops_by_return_value_and_by_stop, |srv: TestServer| async move {
    let zk = srv.client().await;
    zk.create("/ds", b"a", &CreateOptions::default()).await.unwrap();
    let (f, mut by_value) = data_recorder();
    let w1 = DataWatch::start(&zk, "/ds", f).await.unwrap();
    let (f, mut by_stop) = data_recorder();
    let w2 = DataWatch::start(&zk, "/ds", f).await.unwrap();
    assert!(by_value.made().is_some() && by_stop.made().is_some());

    zk.set_data("/ds", b"stop", None).await.unwrap();
    assert_eq!(data(&by_value.next("stop value").await), Some(&b"stop"[..]));
    by_value.ended().await;
    assert!(w1.is_stopped());
    assert_eq!(data(&by_stop.next("stop value").await), Some(&b"stop"[..]));

    w2.stop();
    assert!(w2.is_stopped());
    zk.set_data("/ds", b"after", None).await.unwrap();
    by_stop.ended().await;

    // Breaking on the first call: `start` returns a stopped watch.
    let (f, mut at_once) = data_recorder();
    zk.set_data("/ds", b"stop", None).await.unwrap();
    let w3 = DataWatch::start(&zk, "/ds", f).await.unwrap();
    assert!(w3.is_stopped());
    assert!(at_once.made().is_some());
    at_once.ended().await;

    // Dropping the handle stops the watch; detaching it does not.
    zk.set_data("/ds", b"go", None).await.unwrap();
    let (f, mut dropped) = data_recorder();
    drop(DataWatch::start(&zk, "/ds", f).await.unwrap());
    let (f, mut detached) = data_recorder();
    DataWatch::start(&zk, "/ds", f).await.unwrap().detach();
    assert!(dropped.made().is_some() && detached.made().is_some());
    zk.set_data("/ds", b"later", None).await.unwrap();
    assert_eq!(data(&detached.next("detached watch").await), Some(&b"later"[..]));
    dropped.ended().await;
    // The client's close ends a detached watch.
    zk.close().await;
    detached.ended().await;
});

both_servers!(a_panicking_callback_ends_the_watch, |srv: TestServer| async move {
    let zk = srv.client().await;
    zk.create("/pn", b"ok", &CreateOptions::default()).await.unwrap();
    // A panic in the first call comes out of `start`.
    let c = zk.clone();
    let first = tokio::spawn(async move {
        DataWatch::start(&c, "/pn", |_: Node, _: Option<WatchedEvent>| -> ControlFlow<()> {
            panic!("first call fails")
        })
        .await
    });
    assert!(matches!(first.await, Err(e) if e.is_panic()), "start panics");
    // A later one ends the watch.
    let (tx, mut rx) = mpsc::unbounded_channel();
    let watch = ChildrenWatch::start(&zk, "/pn", move |children, _| {
        assert!(children.is_empty(), "boom");
        let _ = tx.send(());
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert!(rx.try_recv().is_ok());
    zk.create("/pn/kid", b"", &CreateOptions::default()).await.unwrap();
    assert!(tokio::time::timeout(T, rx.recv()).await.expect("the watch ends").is_none());
    // The callback went with the panic; the task ends right after.
    assert!(eventually(T, || watch.is_stopped()).await);
});

both_servers!(children_watch_follows_children_and_stops_with_the_node, |srv: TestServer| async move {
    let zk = srv.client().await;
    let writer = srv.client().await;
    // A missing node: stopped at once, never called (kazoo).
    let (f, mut missing) = children_recorder();
    let w = ChildrenWatch::start(&zk, "/cw", f).await.unwrap();
    assert!(w.is_stopped());
    missing.ended().await;

    writer.create("/cw", b"", &CreateOptions::default()).await.unwrap();
    let (f, mut calls) = children_recorder();
    let watch = ChildrenWatch::start(&zk, "/cw", f).await.unwrap();
    let first = calls.made().expect("called before start returned");
    assert_eq!(first, (vec![], None));
    for (change, want) in [("+a", &["a"][..]), ("+b", &["a", "b"]), ("-a", &["b"])] {
        let path = format!("/cw/{}", &change[1..]);
        if change.starts_with('+') {
            writer.create(&path, b"", &CreateOptions::default()).await.unwrap();
        } else {
            writer.delete(&path, None).await.unwrap();
        }
        let c = calls.next(change).await;
        assert_eq!(c.0, names(want), "after {change}");
        assert_eq!(c.1.map(|e| (e.event_type, e.path)), Some((EventType::NodeChildrenChanged, "/cw".to_string())));
    }
    // A data change of the node or a child is not a children change.
    writer.set_data("/cw", b"x", None).await.unwrap();
    writer.set_data("/cw/b", b"x", None).await.unwrap();
    writer.delete("/cw/b", None).await.unwrap();
    assert_eq!(calls.next("-b").await.0, names(&[]));
    // The node's deletion ends the watch without a call.
    writer.delete("/cw", None).await.unwrap();
    calls.ended().await;
    assert!(watch.is_stopped());

    // Stopping by return value.
    writer.create("/cw", b"", &CreateOptions::default()).await.unwrap();
    let (f, mut calls) = children_recorder();
    let watch = ChildrenWatch::start(&zk, "/cw", f).await.unwrap();
    assert!(calls.made().is_some());
    writer.create("/cw/stop", b"", &CreateOptions::default()).await.unwrap();
    assert_eq!(calls.next("stop child").await.0, names(&["stop"]));
    calls.ended().await;
    assert!(watch.is_stopped());
});

both_servers!(watches_stay_armed_across_a_server_restart, |mut srv: TestServer| async move {
    // A session that outlives the restart: the watches resume in it.
    let zk = srv.client_with(Duration::from_secs(30)).await;
    let (_dw, _cw, mut data_calls, mut child_calls) = watch_both(&zk, "/rs").await;
    let sid = zk.session_id();

    srv.restart().await;
    let writer = srv.client().await;
    writer.set_data("/rs", b"1", None).await.unwrap();
    let c = data_calls.next_within(RECONNECT, "change after restart").await;
    assert_eq!(data(&c), Some(&b"1"[..]));
    writer.create("/rs/k", b"", &CreateOptions::default()).await.unwrap();
    assert_eq!(child_calls.next_within(RECONNECT, "child after restart").await.0, names(&["k"]));
    assert_eq!(zk.session_id(), sid, "the session survived");
    // Armed again after the reconnect: the next changes are seen too.
    writer.set_data("/rs", b"2", None).await.unwrap();
    assert_eq!(data(&data_calls.next("second change").await), Some(&b"2"[..]));
    writer.delete("/rs/k", None).await.unwrap();
    assert_eq!(child_calls.next("child gone").await.0, names(&[]));
});

/// A TCP relay to a server whose connections the test can cut, and refuse
/// while it is closed.
struct Relay {
    addr: SocketAddr,
    cut: broadcast::Sender<()>,
    closed: Arc<AtomicBool>,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (cut, _) = broadcast::channel(1);
        let closed = Arc::new(AtomicBool::new(false));
        let (cut2, closed2) = (cut.clone(), closed.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if closed2.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(mut outbound) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let mut cut = cut2.subscribe();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.recv() => {}
                    }
                });
            }
        });
        Relay { addr, cut, closed }
    }

    /// Cuts every connection and refuses new ones until [`Relay::open`].
    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let _ = self.cut.send(());
    }

    fn open(&self) {
        self.closed.store(false, Ordering::SeqCst);
    }
}

/// Waits for `want` on `states`.
async fn state_becomes(states: &mut broadcast::Receiver<State>, want: State) {
    let wait = async {
        loop {
            match states.recv().await {
                Ok(s) if s == want => return,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("state stream ended: {e}"),
            }
        }
    };
    tokio::time::timeout(RECONNECT, wait).await.unwrap_or_else(|_| panic!("never {want:?}"));
}

both_servers!(changes_made_while_disconnected_are_not_missed, |srv: TestServer| async move {
    let relay = Relay::start(srv.hosts()).await;
    let zk = Client::builder(&relay.addr.to_string()).session_timeout(Duration::from_secs(30)).connect().await.unwrap();
    let writer = srv.client().await;
    let (_dw, _cw, mut data_calls, mut child_calls) = watch_both(&zk, "/cut").await;
    let mut states = zk.state_changes();

    relay.close();
    state_becomes(&mut states, State::Suspended).await;
    writer.set_data("/cut", b"while away", None).await.unwrap();
    writer.create("/cut/k", b"", &CreateOptions::default()).await.unwrap();
    relay.open();
    state_becomes(&mut states, State::Reconnected).await;
    assert_eq!(data(&data_calls.next("the missed change").await), Some(&b"while away"[..]));
    assert_eq!(child_calls.next("the missed child").await.0, names(&["k"]));
    // Still armed, and not called twice for one change.
    writer.set_data("/cut", b"back", None).await.unwrap();
    assert_eq!(data(&data_calls.next("a change after").await), Some(&b"back"[..]));
    writer.delete("/cut/k", None).await.unwrap();
    assert_eq!(child_calls.next("child gone").await.0, names(&[]));
});

both_servers!(watches_are_set_again_in_a_new_session, |mut srv: TestServer| async move {
    let zk = srv.client_with(Duration::from_secs(1)).await;
    let (_dw, _cw, mut data_calls, mut child_calls) = watch_both(&zk, "/sl").await;
    let (f, mut in_session) = children_recorder();
    let session_only = ChildrenWatch::start_in_session(&zk, "/sl", f).await.unwrap();
    assert!(in_session.made().is_some());
    let sid = zk.session_id();
    let mut states = zk.state_changes();

    // Down until the client gives the session up.
    srv.stop().await;
    state_becomes(&mut states, State::Lost).await;
    srv.start_again().await;
    state_becomes(&mut states, State::Reconnected).await;
    assert_ne!(zk.session_id(), sid, "a new session");
    // kazoo's allow_session_lost=False: ended with the session.
    in_session.ended().await;
    assert!(session_only.is_stopped());

    let writer = srv.client().await;
    writer.set_data("/sl", b"new session", None).await.unwrap();
    assert_eq!(data(&data_calls.next("change in the new session").await), Some(&b"new session"[..]));
    writer.create("/sl/k", b"", &CreateOptions::default()).await.unwrap();
    assert_eq!(child_calls.next("child in the new session").await.0, names(&["k"]));
});

both_servers!(callbacks_run_outside_the_runtime_and_may_block, |srv: TestServer| async move {
    let zk = srv.client().await;
    zk.create("/bl", b"0", &CreateOptions::default()).await.unwrap();
    let handle = tokio::runtime::Handle::current();
    let (reader, (tx, mut rx)) = (zk.clone(), mpsc::unbounded_channel());
    let _watch = DataWatch::start(&zk, "/bl", move |node: Node, _| {
        // No runtime here: a binding's blocking bridge may be used, as may a handle taken before.
        let outside = tokio::runtime::Handle::try_current().is_err();
        let now = handle.block_on(reader.get_data("/bl")).map(|(d, _)| d).ok();
        let _ = tx.send((outside, node.map(|(d, _)| d), now));
        ControlFlow::Continue(())
    })
    .await
    .unwrap();
    assert_eq!(rx.try_recv().ok(), Some((true, Some(b"0".to_vec()), Some(b"0".to_vec()))));
    zk.set_data("/bl", b"1", None).await.unwrap();
    let call = tokio::time::timeout(T, rx.recv()).await.expect("a call").expect("still watching");
    assert_eq!(call, (true, Some(b"1".to_vec()), Some(b"1".to_vec())));
});
