//! Data recipes — barriers, queues, counters, caches, ids — against corral
//! and against Apache ZooKeeper 3.8, including a server restart and a forced
//! disconnect in the middle of queue consumption.

mod support;

use std::collections::{BTreeSet, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use corral::client::{Client, CreateOptions};
use corral::proto::CreateMode;
use corral::recipes::atomic_long::DistributedAtomicLong;
use corral::recipes::barrier::Barrier;
use corral::recipes::children_cache::{ChildrenWatch, PathChildrenCache, PathChildrenCacheEvent};
use corral::recipes::counter::{Counter, SharedCount};
use corral::recipes::double_barrier::DoubleBarrier;
use corral::recipes::id_generator::IdGenerator;
use corral::recipes::locking_queue::LockingQueue;
use corral::recipes::node_cache::NodeCache;
use corral::recipes::queue::{PriorityQueue, Queue};
use corral::recipes::tree_cache::{TreeCache, TreeCacheEvent, TreeWatchMode};
use support::{eventually, TestServer};
use tokio::sync::broadcast;

const T: Duration = Duration::from_secs(10);

/// The first event matching `pred` within [`T`].
async fn until<E: Clone + std::fmt::Debug>(
    rx: &mut broadcast::Receiver<E>,
    what: &str,
    pred: impl Fn(&E) -> bool,
) -> E {
    let wait = async {
        loop {
            match rx.recv().await {
                Ok(e) if pred(&e) => return e,
                Ok(_) => {}
                Err(e) => panic!("event stream ended while waiting for {what}: {e}"),
            }
        }
    };
    tokio::time::timeout(T, wait).await.unwrap_or_else(|_| panic!("no event: {what}"))
}

both_servers!(barrier_wakes_waiters, |srv: TestServer| async move {
    let zk = srv.client().await;
    let barrier = Barrier::new(&zk, "/b/gate");
    assert!(barrier.wait(Some(Duration::from_millis(10))).await.unwrap(), "no barrier: passes at once");
    barrier.set().await.unwrap();
    barrier.set().await.unwrap();
    assert!(zk.exists("/b/gate").await.unwrap().is_some());
    let mut waiters = Vec::new();
    for _ in 0..3 {
        let c = srv.client().await;
        waiters.push(tokio::spawn(async move { Barrier::new(&c, "/b/gate").wait(None).await }));
    }
    assert!(!barrier.wait(Some(Duration::from_millis(200))).await.unwrap(), "barrier is up");
    assert!(waiters.iter().all(|w| !w.is_finished()));
    assert!(barrier.remove().await.unwrap(), "this call lowered it");
    assert!(!barrier.remove().await.unwrap(), "down already");
    for w in waiters {
        assert!(tokio::time::timeout(T, w).await.expect("waiter released").unwrap().unwrap());
    }
});

both_servers!(double_barrier_enters_and_leaves_together, |srv: TestServer| async move {
    const N: usize = 3;
    let entering = Arc::new(AtomicUsize::new(0));
    let leaving = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for i in 0..N {
        let c = srv.client().await;
        let (entering, leaving) = (entering.clone(), leaving.clone());
        tasks.push(tokio::spawn(async move {
            // Members arrive one by one and leave in reverse order, so early ones wait at each barrier.
            tokio::time::sleep(Duration::from_millis(100 * i as u64)).await;
            let b = DoubleBarrier::new(&c, "/db/run", N);
            entering.fetch_add(1, Ordering::SeqCst);
            b.enter().await.unwrap();
            let entered_all = entering.load(Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50 * (N - i) as u64)).await;
            leaving.fetch_add(1, Ordering::SeqCst);
            b.leave().await.unwrap();
            (entered_all, leaving.load(Ordering::SeqCst))
        }));
    }
    for t in tasks {
        let (entered, left) = tokio::time::timeout(T, t).await.expect("member finished").unwrap();
        assert_eq!((entered, left), (N, N), "a member passed a barrier before everyone reached it");
    }
    let zk = srv.client().await;
    assert!(zk.get_children("/db/run").await.unwrap().is_empty(), "member and ready nodes are gone");
    // Below the threshold, enter times out.
    let lonely = DoubleBarrier::new(&zk, "/db/alone", 2);
    assert!(!lonely.enter_timeout(Duration::from_millis(200)).await.unwrap());
    assert!(lonely.leave_timeout(T).await.unwrap());
});

both_servers!(queue_fifo_and_priority_order, |srv: TestServer| async move {
    let zk = srv.client().await;
    let q = Queue::new(&zk, "/q/fifo");
    assert_eq!(q.get().await.unwrap(), None);
    for i in 0..5 {
        q.put(format!("a{i}").as_bytes()).await.unwrap();
    }
    q.put_all(&[b"b0", b"b1", b"b2"]).await.unwrap();
    assert_eq!(q.len().await.unwrap(), 8);
    let names = zk.get_children("/q/fifo").await.unwrap();
    assert!(
        names.iter().all(|n| n.starts_with("entry-100-") && n.len() == "entry-100-".len() + 10),
        "kazoo naming: {names:?}"
    );
    let mut got = Vec::new();
    while let Some(item) = q.get().await.unwrap() {
        got.push(String::from_utf8(item).unwrap());
    }
    assert_eq!(got, ["a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2"]);
    assert!(zk.get_children("/q/fifo-receipts").await.unwrap().is_empty(), "receipts are cleaned up");
    // take blocks until an item arrives; take_timeout gives up.
    assert_eq!(q.take_timeout(Duration::from_millis(100)).await.unwrap(), None);
    let other = srv.client().await;
    let producer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        Queue::new(&other, "/q/fifo").put(b"late").await.unwrap();
    });
    assert_eq!(tokio::time::timeout(T, q.take()).await.expect("take woke").unwrap(), b"late");
    producer.await.unwrap();

    let pq = PriorityQueue::new(&zk, "/q/prio");
    for (item, prio) in [("low-1", 900), ("mid-1", 500), ("top-1", 0), ("mid-2", 500), ("low-2", 900), ("top-2", 0)] {
        pq.put(item.as_bytes(), prio).await.unwrap();
    }
    assert_eq!(pq.put(b"x", 1000).await.unwrap_err().code, corral::proto::Code::BadArguments);
    let mut got = Vec::new();
    while let Some(item) = pq.get().await.unwrap() {
        got.push(String::from_utf8(item).unwrap());
    }
    assert_eq!(got, ["top-1", "top-2", "mid-1", "mid-2", "low-1", "low-2"]);
});

/// Consumers take until `total` items were taken altogether, never more
/// than `allowed` (so a test can keep work for later); returns what each took.
fn spawn_consumers(
    clients: Vec<Client>,
    path: &'static str,
    total: usize,
    taken: Arc<AtomicUsize>,
    allowed: Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<Vec<String>>> {
    clients
        .into_iter()
        .map(|c| {
            let (taken, allowed) = (taken.clone(), allowed.clone());
            tokio::spawn(async move {
                let q = Queue::new(&c, path);
                let mut mine = Vec::new();
                while taken.load(Ordering::SeqCst) < total {
                    if taken.load(Ordering::SeqCst) >= allowed.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                    match q.take_timeout(Duration::from_millis(200)).await {
                        Ok(Some(item)) => {
                            mine.push(String::from_utf8(item).expect("utf-8 item"));
                            taken.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(None) => {}
                        Err(e) if e.is_retryable() => tokio::time::sleep(Duration::from_millis(50)).await,
                        Err(e) => panic!("consumer failed: {e}"),
                    }
                }
                mine
            })
        })
        .collect()
}

/// Every consumer's haul, checked against what was produced: nothing twice, nothing missing.
async fn check_consumed(consumers: Vec<tokio::task::JoinHandle<Vec<String>>>, produced: &[String]) {
    let mut all = Vec::new();
    for c in consumers {
        all.extend(
            tokio::time::timeout(Duration::from_secs(40), c)
                .await
                .expect("consumers finished: an item was lost")
                .unwrap(),
        );
    }
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "an item was consumed twice");
    let mut all_sorted = all.clone();
    all_sorted.sort();
    let mut want = produced.to_vec();
    want.sort();
    assert_eq!(all_sorted, want, "consumed items differ from produced ones");
}

both_servers!(queue_concurrent_consumers_share_without_loss, |srv: TestServer| async move {
    const PRODUCERS: usize = 3;
    const PER_PRODUCER: usize = 40;
    let mut consumers = Vec::new();
    for _ in 0..3 {
        consumers.push(srv.client().await);
    }
    let taken = Arc::new(AtomicUsize::new(0));
    let unlimited = Arc::new(AtomicUsize::new(usize::MAX));
    let handles = spawn_consumers(consumers, "/q/shared", PRODUCERS * PER_PRODUCER, taken, unlimited);
    let mut produced = Vec::new();
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let c = srv.client().await;
        let items: Vec<String> = (0..PER_PRODUCER).map(|i| format!("p{p}-{i:03}")).collect();
        produced.extend(items.clone());
        producers.push(tokio::spawn(async move {
            let q = Queue::new(&c, "/q/shared");
            for item in items {
                q.put(item.as_bytes()).await.unwrap();
            }
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    check_consumed(handles, &produced).await;
    let zk = srv.client().await;
    assert_eq!(Queue::new(&zk, "/q/shared").len().await.unwrap(), 0);
});

both_servers!(queue_survives_restart_and_disconnect, |mut srv: TestServer| async move {
    const ITEMS: usize = 300;
    let session = Duration::from_secs(10);
    let producer = srv.client_with(session).await;
    let items: Vec<String> = (0..ITEMS).map(|i| format!("item-{i:03}")).collect();
    let q = Queue::new(&producer, "/q/fault");
    for chunk in items.chunks(50) {
        q.put_all(chunk).await.unwrap();
    }
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(srv.client_with(session).await);
    }
    let taken = Arc::new(AtomicUsize::new(0));
    let allowed = Arc::new(AtomicUsize::new(ITEMS / 3));
    let handles = spawn_consumers(clients, "/q/fault", ITEMS, taken.clone(), allowed.clone());
    // Reconnecting to a JVM that accepts connections before it serves can take seconds.
    let progress = |n: usize| {
        let taken = taken.clone();
        async move {
            let resumed = eventually(Duration::from_secs(30), || taken.load(Ordering::SeqCst) >= n).await;
            assert!(resumed, "consumption stalled before {n}");
        }
    };
    // Each fault strikes while consumers are busy and items remain.
    progress(30).await;
    srv.restart().await;
    let after_restart = taken.load(Ordering::SeqCst);
    allowed.store(2 * ITEMS / 3, Ordering::SeqCst);
    progress(after_restart + 30).await;
    // Forced disconnect, shorter than the session timeout.
    srv.stop().await;
    let at_stop = taken.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(1)).await;
    srv.start_again().await;
    assert!(at_stop < 2 * ITEMS / 3, "the disconnect hit the middle of consumption ({at_stop} of {ITEMS} taken)");
    allowed.store(ITEMS, Ordering::SeqCst);
    check_consumed(handles, &items).await;
    assert_eq!(q.len().await.unwrap(), 0);
});

both_servers!(locking_queue_redelivers_after_session_ends, |srv: TestServer| async move {
    let a_client = srv.client().await;
    let a = LockingQueue::new(&a_client, "/lq");
    a.put(b"second", 200).await.unwrap();
    a.put_all(&[b"first"], 100).await.unwrap();
    assert_eq!(a.len().await.unwrap(), 2);
    assert!(!a.consume().await.unwrap(), "nothing held yet");
    assert_eq!(a.get(Some(T)).await.unwrap().as_deref(), Some(&b"first"[..]));
    assert_eq!(a.get(Some(T)).await.unwrap().as_deref(), Some(&b"first"[..]), "held item returned again");
    assert!(a.holds_lock().await.unwrap());

    let b_client = srv.client().await;
    let b = LockingQueue::new(&b_client, "/lq");
    assert_eq!(b.get(Some(T)).await.unwrap().as_deref(), Some(&b"second"[..]), "locked item skipped");
    let c_client = srv.client().await;
    let c = LockingQueue::new(&c_client, "/lq");
    assert_eq!(c.get(Some(Duration::from_millis(200))).await.unwrap(), None, "both items locked");
    assert!(b.release().await.unwrap());
    assert!(!b.holds_lock().await.unwrap());

    // A's session ends without consuming: its item comes back.
    a_client.close().await;
    let first = c.get(Some(T)).await.unwrap();
    assert_eq!(first.as_deref(), Some(&b"first"[..]), "item of the closed session is delivered again");
    assert!(c.consume().await.unwrap());
    assert_eq!(b.get(Some(T)).await.unwrap().as_deref(), Some(&b"second"[..]));
    assert!(b.consume().await.unwrap());
    assert_eq!(c.len().await.unwrap(), 0);
    assert!(c_client.get_children("/lq/taken").await.unwrap().is_empty());
});

both_servers!(counters_count_every_concurrent_change, |srv: TestServer| async move {
    const TASKS: usize = 4;
    const EACH: usize = 25;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let c = srv.client().await;
        tasks.push(tokio::spawn(async move {
            let counter = Counter::new(&c, "/cnt/text");
            let long = DistributedAtomicLong::new(&c, "/cnt/long");
            let (mut pres, mut posts) = (Vec::new(), Vec::new());
            for _ in 0..EACH {
                pres.push(counter.add(1).await.unwrap().pre_value);
                let r = long.increment().await.unwrap();
                assert!(r.succeeded, "optimistic increment gave up");
                assert_eq!(r.post_value, r.pre_value + 1);
                posts.push(r.post_value);
            }
            (pres, posts)
        }));
    }
    let (mut pres, mut posts) = (BTreeSet::new(), BTreeSet::new());
    for t in tasks {
        let (p, q) = t.await.unwrap();
        pres.extend(p);
        posts.extend(q);
    }
    let n = (TASKS * EACH) as i64;
    assert_eq!(pres, (0..n).collect::<BTreeSet<_>>(), "every add saw a distinct value");
    assert_eq!(posts, (1..=n).collect::<BTreeSet<_>>(), "every increment wrote a distinct value");
    let zk = srv.client().await;
    assert_eq!(zk.get_data("/cnt/text").await.unwrap().0, n.to_string().into_bytes(), "kazoo's text format");
    assert_eq!(zk.get_data("/cnt/long").await.unwrap().0, n.to_be_bytes().to_vec(), "Curator's 8 bytes");
    let long = DistributedAtomicLong::new(&zk, "/cnt/long");
    assert!(!long.compare_and_set(n + 1, 0).await.unwrap().succeeded);
    let r = long.compare_and_set(n, -5).await.unwrap();
    assert!(r.succeeded && r.pre_value == n && r.post_value == -5);
    assert_eq!(long.subtract(5).await.unwrap().post_value, -10);
    assert_eq!(long.try_set(7).await.unwrap().post_value, 7);
    assert_eq!(long.get().await.unwrap().post_value, 7);

    // SharedCount: both holders see every value; a stale version loses.
    let (c1, c2) = (srv.client().await, srv.client().await);
    let (s1, s2) = (SharedCount::new(&c1, "/cnt/shared", 3), SharedCount::new(&c2, "/cnt/shared", 99));
    s1.start().await.unwrap();
    s2.start().await.unwrap();
    assert_eq!((s1.get_count(), s2.get_count()), (3, 3), "the first seed wins");
    let mut seen = s2.changes();
    s1.set_count(5).await.unwrap();
    assert_eq!(tokio::time::timeout(T, seen.recv()).await.expect("change seen").unwrap(), 5);
    let stale = s1.get_versioned_value();
    assert!(s2.try_set_count(s2.get_versioned_value(), 6).await.unwrap());
    assert!(!s1.try_set_count(stale, 7).await.unwrap(), "stale version");
    assert!(eventually(T, || s1.get_count() == 6).await);
    assert_eq!(zk.get_data("/cnt/shared").await.unwrap().0, 6i32.to_be_bytes().to_vec());
});

/// Reads lists from `w` until one equals `want`.
async fn children_become(w: &mut ChildrenWatch, want: &[&str]) {
    let wait = async {
        while let Some(list) = w.next().await {
            if list == want {
                return;
            }
        }
        panic!("children watch ended");
    };
    tokio::time::timeout(T, wait).await.unwrap_or_else(|_| panic!("children never were {want:?}"));
}

both_servers!(node_and_children_caches_follow_changes, |srv: TestServer| async move {
    let zk = srv.client().await;
    let writer = srv.client().await;
    let node = NodeCache::new(&zk, "/nc/config");
    let mut changes = node.changes();
    node.start().await.unwrap();
    assert_eq!(node.current(), None);
    writer.ensure_path("/nc").await.unwrap();
    writer.create("/nc/config", b"v1", &CreateOptions::default()).await.unwrap();
    let v = tokio::time::timeout(T, changes.recv()).await.expect("create seen").unwrap();
    assert_eq!(v.map(|d| d.data), Some(b"v1".to_vec()));
    writer.set_data("/nc/config", b"v2", None).await.unwrap();
    let v = tokio::time::timeout(T, changes.recv()).await.expect("update seen").unwrap();
    assert_eq!(v.as_ref().map(|d| (d.data.as_slice(), d.stat.version)), Some((&b"v2"[..], 1)));
    assert_eq!(node.current().map(|d| d.data), Some(b"v2".to_vec()));
    writer.delete("/nc/config", None).await.unwrap();
    assert_eq!(tokio::time::timeout(T, changes.recv()).await.expect("delete seen").unwrap(), None);
    assert_eq!(node.current(), None);

    writer.create("/nc/kids", b"", &CreateOptions::default()).await.unwrap();
    writer.create("/nc/kids/a", b"a0", &CreateOptions::default()).await.unwrap();
    let cache = PathChildrenCache::new(&zk, "/nc/kids");
    let mut ev = cache.events();
    let mut names = ChildrenWatch::start(&zk, "/nc/kids");
    cache.start().await.unwrap();
    until(&mut ev, "initial a", |e| matches!(e, PathChildrenCacheEvent::ChildAdded(d) if d.path == "/nc/kids/a")).await;
    until(&mut ev, "initialized", |e| *e == PathChildrenCacheEvent::Initialized).await;
    children_become(&mut names, &["a"]).await;
    writer.create("/nc/kids/b", b"b0", &CreateOptions::mode(CreateMode::Ephemeral)).await.unwrap();
    until(
        &mut ev,
        "b added",
        |e| matches!(e, PathChildrenCacheEvent::ChildAdded(d) if d.path == "/nc/kids/b" && d.data == b"b0"),
    )
    .await;
    children_become(&mut names, &["a", "b"]).await;
    writer.set_data("/nc/kids/a", b"a1", None).await.unwrap();
    until(
        &mut ev,
        "a updated",
        |e| matches!(e, PathChildrenCacheEvent::ChildUpdated(d) if d.path == "/nc/kids/a" && d.data == b"a1"),
    )
    .await;
    writer.close().await;
    until(
        &mut ev,
        "ephemeral b removed",
        |e| matches!(e, PathChildrenCacheEvent::ChildRemoved(d) if d.path == "/nc/kids/b"),
    )
    .await;
    children_become(&mut names, &["a"]).await;
    let now: Vec<(String, Vec<u8>)> = cache.current_data().into_iter().map(|d| (d.path, d.data)).collect();
    assert_eq!(now, [("/nc/kids/a".to_string(), b"a1".to_vec())]);
    assert_eq!(cache.child("a").map(|d| d.data), Some(b"a1".to_vec()));
    assert_eq!(cache.current_data_for("/nc/kids"), None, "the parent is not a child");
});

/// Creates, updates and deletes below `root` and checks the cache follows.
async fn exercise_tree_cache(zk: &Client, cache: &TreeCache, ev: &mut broadcast::Receiver<TreeCacheEvent>, root: &str) {
    let p = |s: &str| format!("{root}{s}");
    zk.create(&p("/a"), b"1", &CreateOptions::default()).await.unwrap();
    zk.create(&p("/a/b"), b"2", &CreateOptions::default()).await.unwrap();
    zk.create(&p("/a/b/c"), b"3", &CreateOptions::default()).await.unwrap();
    let c = p("/a/b/c");
    until(ev, "deep node added", |e| matches!(e, TreeCacheEvent::NodeAdded(d) if d.path == c && d.data == b"3")).await;
    zk.set_data(&p("/a/b"), b"22", None).await.unwrap();
    let b = p("/a/b");
    until(ev, "update", |e| matches!(e, TreeCacheEvent::NodeUpdated(d) if d.path == b && d.data == b"22")).await;
    let kids: Vec<String> = cache.current_children(&p("/a")).unwrap().into_keys().collect();
    assert_eq!(kids, ["b"]);
    zk.delete_recursive(&p("/a")).await.unwrap();
    let a = p("/a");
    until(ev, "subtree removed", |e| matches!(e, TreeCacheEvent::NodeRemoved(d) if d.path == a)).await;
    assert_eq!(cache.current_data(&c), None);
    assert!(cache.current_data(root).is_some());
}

both_servers!(tree_cache_recursive_and_one_shot_modes_survive_restart, |mut srv: TestServer| async move {
    let zk = srv.client_with(Duration::from_secs(10)).await;
    let mut caches = Vec::new();
    for (root, mode) in [("/tc-rec", TreeWatchMode::Auto), ("/tc-one", TreeWatchMode::OneShot)] {
        zk.ensure_path(&format!("{root}/pre/x")).await.unwrap();
        let cache = TreeCache::new(&zk, root).with_watch_mode(mode);
        let mut ev = cache.events();
        cache.start().await.unwrap();
        assert_eq!(cache.uses_recursive_watch(), mode == TreeWatchMode::Auto, "{root}");
        let x = format!("{root}/pre/x");
        until(&mut ev, "initial load", |e| matches!(e, TreeCacheEvent::NodeAdded(d) if d.path == x)).await;
        until(&mut ev, "initialized", |e| *e == TreeCacheEvent::Initialized).await;
        exercise_tree_cache(&zk, &cache, &mut ev, root).await;
        caches.push((root, cache, ev));
    }
    // Depth-limited: only the root and its children. Its own client: before
    // 3.9, ZooKeeper keeps one watch mode per path and session (ZOOKEEPER-4466),
    // so a recursive watch would displace the one-shot cache's watches there.
    let other = srv.client().await;
    let shallow = TreeCache::new(&other, "/tc-one").with_max_depth(1);
    shallow.start().await.unwrap();
    assert!(shallow.current_data("/tc-one/pre").is_some());
    assert_eq!(shallow.current_data("/tc-one/pre/x"), None);

    srv.restart().await;
    for (root, cache, ev) in &mut caches {
        until(ev, "reconnected", |e| *e == TreeCacheEvent::ConnectionReconnected).await;
        exercise_tree_cache(&zk, cache, ev, root).await;
    }
});

both_servers!(caches_set_watches_again_after_session_loss, |mut srv: TestServer| async move {
    let zk = srv.client_with(Duration::from_secs(1)).await;
    zk.ensure_path("/sl-node").await.unwrap();
    let node = NodeCache::new(&zk, "/sl-node");
    let mut node_changes = node.changes();
    node.start().await.unwrap();
    let mut trees = Vec::new();
    for (root, mode) in [("/sl-rec", TreeWatchMode::Auto), ("/sl-one", TreeWatchMode::OneShot)] {
        zk.ensure_path(root).await.unwrap();
        let cache = TreeCache::new(&zk, root).with_watch_mode(mode);
        let ev = cache.events();
        cache.start().await.unwrap();
        trees.push((root, cache, ev));
    }
    // Down for longer than the session timeout: the client starts a new session.
    let sid = zk.session_id();
    srv.stop().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    srv.start_again().await;
    for (_, _, ev) in &mut trees {
        until(ev, "lost", |e| *e == TreeCacheEvent::ConnectionLost).await;
        until(ev, "reconnected", |e| *e == TreeCacheEvent::ConnectionReconnected).await;
    }
    assert_ne!(zk.session_id(), sid, "a new session");
    let writer = srv.client().await;
    writer.set_data("/sl-node", b"after", None).await.unwrap();
    let now = tokio::time::timeout(T, async {
        loop {
            match node_changes.recv().await {
                Ok(Some(d)) if d.data == b"after" => return d,
                Ok(_) => {}
                Err(e) => panic!("node cache stream ended: {e}"),
            }
        }
    })
    .await
    .expect("node cache follows the node in the new session");
    assert_eq!(node.current(), Some(now));
    for (root, cache, ev) in &mut trees {
        exercise_tree_cache(&writer, cache, ev, root).await;
    }
});

both_servers!(id_generator_unique_and_increasing_across_clients, |srv: TestServer| async move {
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let c = srv.client().await;
        tasks.push(tokio::spawn(async move {
            let ids = IdGenerator::new(&c, "/ids/order");
            let mut got = Vec::new();
            for _ in 0..20 {
                got.push(ids.next_id().await.unwrap());
            }
            got
        }));
    }
    let mut all = BTreeSet::new();
    for t in tasks {
        let got = t.await.unwrap();
        assert!(got.windows(2).all(|w| w[0] < w[1]), "increasing per client: {got:?}");
        all.extend(got);
    }
    assert_eq!(all.len(), 60, "ids are unique");
    let zk = srv.client().await;
    assert!(zk.get_children("/ids/order").await.unwrap().is_empty(), "nodes deleted by default");
    let kept = IdGenerator::new(&zk, "/ids/kept").keeping_nodes(true).with_prefix("n-");
    let (x, y) = (kept.next_id().await.unwrap(), kept.next_id().await.unwrap());
    assert_eq!((x, y), (0, 1));
    let children = zk.get_children("/ids/kept").await.unwrap();
    assert_eq!(children.len(), 2);
    assert!(children.iter().all(|c| c.starts_with("_c_") && c.contains("-n-")));
    assert!(*all.iter().next_back().unwrap() > 0);
});

both_servers!(leases_are_held_renewed_and_expire, |srv: TestServer| async move {
    use corral::proto::Code;
    use corral::recipes::lease::{MultiNonBlockingLease, NonBlockingLease};
    use std::time::UNIX_EPOCH;

    let a = srv.client().await;
    let b = srv.client().await;
    let t0 = UNIX_EPOCH + Duration::from_secs(1_796_601_599);
    let hour = Duration::from_secs(3600);
    let mine = NonBlockingLease::new(&a, "/lease", hour, "host-a");
    let theirs = NonBlockingLease::new(&b, "/lease", hour, "host-b");
    assert!(mine.obtain(t0).await.unwrap());
    let (raw, _) = a.get_data("/lease/lease_holder").await.unwrap();
    let record: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(record, serde_json::json!({"version": 1, "holder": "host-a", "end": "2026-12-07T00:59:59"}));
    assert!(!theirs.obtain(t0 + Duration::from_secs(3599)).await.unwrap());
    assert!(mine.obtain(t0 + Duration::from_secs(1800)).await.unwrap(), "the holder renews");
    assert!(!theirs.obtain(t0 + Duration::from_secs(3600)).await.unwrap(), "renewed until 01:29:59");
    assert!(theirs.obtain(t0 + Duration::from_secs(5400)).await.unwrap(), "an ended lease is free");
    // An unknown format version is left alone; a record that is not a lease is an error.
    a.set_data("/lease/lease_holder", br#"{"version": 2, "holder": "x", "end": "2000-01-01T00:00:00"}"#, None)
        .await
        .unwrap();
    assert!(!mine.obtain(t0 + Duration::from_secs(99_999)).await.unwrap());
    a.set_data("/lease/lease_holder", b"not json", None).await.unwrap();
    assert_eq!(mine.obtain(t0).await.unwrap_err().code, Code::MarshallingError);
    assert_eq!(mine.obtain(UNIX_EPOCH - hour).await.unwrap_err().code, Code::BadArguments);
    // Only the lock's nodes and the record are left under the path.
    assert_eq!(a.get_children("/lease").await.unwrap(), vec!["lease_holder".to_string()]);
    let multi = |c: &Client, id: &str| MultiNonBlockingLease::new(c, 2, "/multi", hour, id);
    assert!(multi(&a, "a").obtain(t0).await.unwrap());
    assert!(multi(&b, "b").obtain(t0).await.unwrap());
    assert!(!multi(&b, "c").obtain(t0).await.unwrap());
    assert!(multi(&a, "a").obtain(t0).await.unwrap(), "a renews its own");
    a.close().await;
    b.close().await;
});

both_servers!(counter_encodings_curator_and_float, |srv: TestServer| async move {
    use corral::proto::Code;
    use corral::recipes::counter::{CounterEncoding, FloatCounter};

    let zk = srv.client().await;
    // Curator's 4 bytes, readable by SharedCount.
    let c = Counter::new(&zk, "/c32").with_default(5).with_encoding(CounterEncoding::Curator);
    assert_eq!(c.value().await.unwrap(), 5);
    // A node it creates holds the default, as SharedCount seeds it: Curator cannot read empty data.
    assert_eq!(zk.get_data("/c32").await.unwrap().0, 5i32.to_be_bytes());
    let change = c.add(-7).await.unwrap();
    assert_eq!((change.pre_value, change.post_value), (5, -2));
    assert_eq!(zk.get_data("/c32").await.unwrap().0, (-2i32).to_be_bytes());
    let shared = SharedCount::new(&zk, "/c32", 0);
    shared.start().await.unwrap();
    assert_eq!(shared.get_count(), -2);
    assert_eq!(c.add(i64::from(i32::MAX) + 3).await.unwrap_err().code, Code::BadArguments);
    assert_eq!(c.value().await.unwrap(), -2, "a refused change writes nothing");
    zk.set_data("/c32", b"12", None).await.unwrap();
    assert_eq!(c.value().await.unwrap_err().code, Code::MarshallingError);
    // Floats as Python's repr writes and reads them.
    let f = FloatCounter::new(&zk, "/cf").with_default(0.5);
    assert_eq!(f.add(0.25).await.unwrap(), (0.5, 0.75));
    assert_eq!(f.add(-1.0).await.unwrap(), (0.75, -0.25));
    assert_eq!(zk.get_data("/cf").await.unwrap().0, b"-0.25");
    zk.set_data("/cf", b"1e+20", None).await.unwrap();
    assert_eq!(f.value().await.unwrap(), 1e20);
    zk.set_data("/cf", b"one", None).await.unwrap();
    assert_eq!(f.add(1.0).await.unwrap_err().code, Code::MarshallingError);
    zk.close().await;
});
