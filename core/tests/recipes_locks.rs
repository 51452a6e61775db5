//! Lock, ReadWriteLock and Semaphore against corral and Apache ZooKeeper 3.8:
//! exclusion under contention, FIFO order without a herd, re-entrancy,
//! fencing tokens, try/timeout/cancel, read-write and lease semantics in
//! Curator's and kazoo's node layouts, and
//! exclusion across a server restart, a session expiry and a forced
//! disconnect.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use corral::client::Client;
use corral::proto::Code;
use corral::recipes::lock::{Lock, LockState, Naming};
use corral::recipes::rwlock::ReadWriteLock;
use corral::recipes::semaphore::Semaphore;
use support::{eventually, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const T: Duration = Duration::from_secs(20);

/// Who is inside a critical section: never more than one, tokens in entry order.
#[derive(Default)]
struct Exclusion {
    inside: AtomicUsize,
    max: AtomicUsize,
    tokens: Mutex<Vec<i64>>,
}

impl Exclusion {
    fn enter(&self, token: i64) {
        let n = self.inside.fetch_add(1, SeqCst) + 1;
        self.max.fetch_max(n, SeqCst);
        self.tokens.lock().unwrap().push(token);
    }

    fn leave(&self) {
        self.inside.fetch_sub(1, SeqCst);
    }

    fn entries(&self) -> usize {
        self.tokens.lock().unwrap().len()
    }

    /// At most one holder at a time, `entries` entries, tokens strictly increasing.
    fn check(&self, entries: usize) {
        assert_eq!(self.max.load(SeqCst), 1, "two holders at once");
        let tokens = self.tokens.lock().unwrap();
        assert_eq!(tokens.len(), entries);
        assert!(tokens.windows(2).all(|w| w[0] < w[1]), "fencing tokens not increasing: {tokens:?}");
    }
}

/// Takes the lock `rounds` times, working inside while ownership is certain
/// and leaving the moment it is not. Returns (rounds, failed attempts).
async fn hammer(
    client: Client,
    path: &'static str,
    naming: Naming,
    rounds: usize,
    hold: Duration,
    ex: Arc<Exclusion>,
) -> (usize, usize) {
    let mut lock = Lock::with_naming(&client, path, naming);
    let (mut done, mut failed) = (0, 0);
    while done < rounds {
        if let Err(e) = lock.acquire().await {
            assert!(matches!(e.code, Code::SessionExpired | Code::ConnectionLoss), "acquire: {e}");
            failed += 1;
            continue;
        }
        if lock.is_held() {
            ex.enter(lock.fencing_token().expect("held"));
            let until = Instant::now() + hold;
            while Instant::now() < until && lock.is_held() {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            ex.leave();
        }
        match lock.release().await {
            Ok(()) => done += 1,
            Err(e) => {
                assert_eq!(e.code, Code::SessionExpired, "release: {e}");
                failed += 1;
            }
        }
    }
    (done, failed)
}

/// Polls an async condition for up to `T`.
async fn until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + T;
    while !f().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn count_children(zk: &Client, path: &str) -> usize {
    zk.get_children(path).await.map(|c| c.len()).unwrap_or(0)
}

/// `wchp`: the sessions watching each path.
fn watchers(port: u16) -> BTreeMap<String, BTreeSet<i64>> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("4lw connect");
    s.write_all(b"wchp").expect("4lw write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("4lw read");
    let mut map: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let mut path = String::new();
    for line in out.lines() {
        match line.trim().strip_prefix("0x") {
            Some(hex) if line.starts_with('\t') => {
                map.entry(path.clone()).or_default().insert(i64::from_str_radix(hex, 16).expect("session id"));
            }
            _ => path = line.trim().to_string(),
        }
    }
    map
}

both_servers!(mutual_exclusion_and_fencing_under_contention, |srv: TestServer| async move {
    // Five contenders, two of them named like kazoo: the sequence orders both.
    let ex = Arc::new(Exclusion::default());
    let mut tasks = Vec::new();
    for i in 0..5 {
        let naming = if i % 2 == 1 { Naming::Kazoo } else { Naming::Curator };
        let client = srv.client().await;
        tasks.push(tokio::spawn(hammer(client, "/locks/m", naming, 8, Duration::from_millis(3), ex.clone())));
    }
    for t in tasks {
        assert_eq!(tokio::time::timeout(T, t).await.expect("in time").expect("task"), (8, 0));
    }
    ex.check(40);
    let zk = srv.client().await;
    assert_eq!(count_children(&zk, "/locks/m").await, 0, "every node removed");
});

both_servers!(fifo_without_herd_and_reentrancy, |srv: TestServer| async move {
    let path = "/locks/fifo";
    let zk = srv.client().await;
    let mut holder = Lock::new(&zk, path);
    holder.acquire().await.unwrap();
    let token = holder.fencing_token().unwrap();
    let node = holder.node_path().unwrap().to_string();
    let name = node.rsplit('/').next().unwrap();
    assert!(name.starts_with("_c_") && name[3..39].len() == 36 && &name[39..45] == "-lock-", "Curator naming: {name}");
    assert!(name[45..].len() == 10 && name[45..].bytes().all(|b| b.is_ascii_digit()), "{name}");
    assert_eq!(token, zk.exists(&node).await.unwrap().unwrap().czxid, "the token is the node's czxid");

    // Re-entrant: nests on the same node, released by the last release.
    holder.acquire().await.unwrap();
    assert_eq!((holder.hold_count(), holder.fencing_token()), (2, Some(token)));
    assert_eq!(holder.participant_nodes().await.unwrap(), vec![node.clone()]);
    holder.release().await.unwrap();
    assert!(holder.is_held());
    assert!(zk.exists(&node).await.unwrap().is_some());

    // Four waiters join one after the other.
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    let mut sessions = vec![zk.session_id()];
    for i in 0..4 {
        let client = srv.client().await;
        sessions.push(client.session_id());
        let order = order.clone();
        tasks.push(tokio::spawn(async move {
            let mut lock = Lock::new(&client, path);
            lock.acquire().await.unwrap();
            order.lock().unwrap().push((i, lock.fencing_token().unwrap()));
            tokio::time::sleep(Duration::from_millis(20)).await;
            lock.release().await.unwrap();
        }));
        until("the waiter's node", || async { holder.participant_nodes().await.unwrap().len() == i + 2 }).await;
    }
    // No herd: each waiter watches its predecessor only; the holder watches its own node.
    let nodes = holder.participant_nodes().await.unwrap();
    let expected: BTreeMap<String, BTreeSet<i64>> = (0..nodes.len())
        .filter_map(|i| {
            let mut s: BTreeSet<i64> = sessions.get(i + 1).into_iter().copied().collect();
            if i == 0 {
                s.insert(sessions[0]);
            }
            (!s.is_empty()).then(|| (nodes[i].clone(), s))
        })
        .collect();
    let mut seen = BTreeMap::new();
    let found = eventually(Duration::from_secs(5), || {
        seen = watchers(srv.port).into_iter().filter(|(p, _)| p.starts_with(path)).collect();
        seen == expected
    })
    .await;
    assert!(found, "watches by path: {seen:?}, expected {expected:?}");

    holder.release().await.unwrap();
    assert_eq!(holder.state(), LockState::Released);
    assert_eq!(holder.release().await.unwrap_err().code, Code::BadArguments);
    for t in tasks {
        tokio::time::timeout(T, t).await.expect("in time").expect("task");
    }
    let order = order.lock().unwrap().clone();
    assert_eq!(order.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 1, 2, 3], "first come, first served");
    assert!(order[0].1 > token && order.windows(2).all(|w| w[0].1 < w[1].1));
});

both_servers!(try_timeout_cancel_and_kazoo_naming, |srv: TestServer| async move {
    let path = "/locks/t";
    let zk = srv.client().await;
    let other = srv.client().await;
    let mut a = Lock::kazoo(&zk, path, "holder-a");
    a.acquire().await.unwrap();
    let node = a.node_path().unwrap().to_string();
    let name = node.rsplit('/').next().unwrap();
    assert!(name.len() == 50 && name[..32].bytes().all(|b| b.is_ascii_hexdigit()), "kazoo naming: {name}");
    assert!(name[32..].starts_with("__lock__") && name[40..].bytes().all(|b| b.is_ascii_digit()), "{name}");
    assert_eq!(zk.get_data(&node).await.unwrap().0, b"holder-a", "the identifier is the node data");

    // A Curator-named contender is excluded by the sequence order all the same.
    let mut b = Lock::new(&other, path);
    assert!(!b.try_acquire().await.unwrap());
    assert_eq!(count_children(&zk, path).await, 1, "try_acquire removed its node");
    let t0 = Instant::now();
    assert!(!b.acquire_timeout(Duration::from_millis(300)).await.unwrap());
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(300) && waited < Duration::from_secs(5), "{waited:?}");
    assert_eq!((count_children(&zk, path).await, b.state()), (1, LockState::Released));
    // An acquisition dropped midway removes its node in the background.
    assert!(tokio::time::timeout(Duration::from_millis(200), b.acquire()).await.is_err());
    until("the abandoned node to go", || async { count_children(&zk, path).await == 1 }).await;
    assert_eq!(b.lost().await, LockState::Released, "not held: lost() resolves at once");

    let (lost, token_a) = (a.lost(), a.fencing_token().unwrap());
    a.release().await.unwrap();
    assert_eq!(lost.await, LockState::Released);
    assert!(b.try_acquire().await.unwrap());
    assert!(b.fencing_token().unwrap() > token_a);
    b.release().await.unwrap();
    assert_eq!(count_children(&zk, path).await, 0);
});

both_servers!(persistent_lock_nodes_outlive_the_session, |srv: TestServer| async move {
    // kazoo's acquire(ephemeral=False).
    let path = "/locks/persistent";
    let zk = srv.client().await;
    let other = srv.client().await;
    let mut a = Lock::kazoo(&zk, path, "a");
    a.set_ephemeral(false);
    a.acquire().await.unwrap();
    let node = a.node_path().unwrap().to_string();
    assert_eq!(other.exists(&node).await.unwrap().unwrap().ephemeral_owner, 0);
    zk.close().await;
    assert!(other.exists(&node).await.unwrap().is_some(), "the node stays after its session");
    let mut b = Lock::kazoo(&other, path, "b");
    assert!(!b.try_acquire().await.unwrap(), "and still holds the lock");
    other.delete(&node, None).await.unwrap();
    assert!(b.try_acquire().await.unwrap());
    assert!(other.exists(b.node_path().unwrap()).await.unwrap().unwrap().ephemeral_owner != 0, "b's is ephemeral");
    b.release().await.unwrap();
});

both_servers!(read_write_lock, |srv: TestServer| async move {
    let path = "/locks/rw";
    let (c1, c2, c3) = (srv.client().await, srv.client().await, srv.client().await);
    let mut r1 = ReadWriteLock::new(&c1, path);
    let mut r2 = ReadWriteLock::new(&c2, path);
    r1.read().acquire().await.unwrap();
    r2.read().acquire().await.unwrap();
    assert!(r1.read().is_held() && r2.read().is_held(), "readers share");
    let name = r1.read().node_path().unwrap().rsplit('/').next().unwrap().to_string();
    assert!(name.starts_with("_c_") && name[39..].starts_with("-__READ__"), "{name}");

    // A writer waits for the readers; a reader arriving after it waits for it.
    let writer = tokio::spawn(async move {
        let mut w = ReadWriteLock::new(&c3, path);
        w.write().acquire().await.unwrap();
        w
    });
    until("the writer's node", || async { r1.participant_nodes().await.unwrap().len() == 3 }).await;
    let mut late = ReadWriteLock::new(&c1, path);
    assert!(!late.read().try_acquire().await.unwrap());
    r1.read().acquire().await.unwrap();
    assert_eq!(r1.read().hold_count(), 2, "re-entrant read");
    r1.read().release().await.unwrap();
    r1.read().release().await.unwrap();
    assert!(!writer.is_finished(), "one reader still holds");
    r2.read().release().await.unwrap();
    let mut w = tokio::time::timeout(T, writer).await.expect("writer in time").expect("task");
    let wname = w.write().node_path().unwrap().rsplit('/').next().unwrap().to_string();
    assert!(wname[39..].starts_with("-__WRIT__"), "{wname}");
    assert!(!late.read().try_acquire().await.unwrap());
    assert!(!r2.write().try_acquire().await.unwrap());

    // The writer may read too; it gives the read lock back first.
    w.read().acquire().await.unwrap();
    assert!(w.read().is_held());
    assert_eq!(w.write().release().await.unwrap_err().code, Code::BadArguments);
    w.read().release().await.unwrap();
    w.write().release().await.unwrap();
    assert!(late.read().try_acquire().await.unwrap());
    // Upgrading would wait for itself: refused.
    assert_eq!(late.write().acquire().await.unwrap_err().code, Code::BadArguments);
    late.read().release().await.unwrap();
    assert!(r2.write().try_acquire().await.unwrap());
    r2.write().release().await.unwrap();
    assert!(r1.participant_nodes().await.unwrap().is_empty());
});

both_servers!(semaphore_leases, |srv: TestServer| async move {
    let path = "/sem/pool";
    let zk = srv.client().await;
    let sem = Semaphore::new(&zk, path, 3);
    assert_eq!(sem.acquire(0).await.unwrap_err().code, Code::BadArguments);
    assert_eq!(sem.acquire(4).await.unwrap_err().code, Code::BadArguments);
    let two = sem.acquire(2).await.unwrap();
    let one = Semaphore::new(&srv.client().await, path, 3).acquire(1).await.unwrap();
    assert!(two.iter().chain(&one).all(|l| l.is_held()));
    let mut names = zk.get_children(&format!("{path}/leases")).await.unwrap();
    names.sort();
    assert!(names.iter().all(|n| n.starts_with("_c_") && n[39..].starts_with("-lease-")), "{names:?}");
    assert!(zk.exists(&format!("{path}/locks")).await.unwrap().is_some());
    // Full: a fourth does not come, and leaves nothing behind.
    assert!(sem.acquire_timeout(1, Duration::from_millis(200)).await.unwrap().is_none());
    assert_eq!(sem.participant_nodes().await.unwrap().len(), 3);
    // A waiter gets the lease a dropped one gives back.
    let waiter = tokio::spawn({
        let c = srv.client().await;
        async move { Semaphore::new(&c, path, 3).acquire(1).await.unwrap().len() }
    });
    until("the waiter's lease node", || async { sem.participant_nodes().await.unwrap().len() == 4 }).await;
    assert!(!waiter.is_finished());
    drop(one);
    assert_eq!(tokio::time::timeout(T, waiter).await.expect("in time").expect("task"), 1);
    for lease in two {
        lease.release().await.unwrap();
    }

    // Many acquirers: never more than three leases out at once.
    let out = Arc::new((AtomicUsize::new(0), AtomicUsize::new(0)));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (c, out) = (srv.client().await, out.clone());
        tasks.push(tokio::spawn(async move {
            let sem = Semaphore::new(&c, path, 3);
            for round in 0..4 {
                let n = 1 + (i + round) % 2;
                let leases = sem.acquire(n).await.unwrap();
                let now = out.0.fetch_add(n, SeqCst) + n;
                out.1.fetch_max(now, SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                out.0.fetch_sub(n, SeqCst);
                if round % 2 == 0 {
                    drop(leases);
                } else {
                    for l in leases {
                        l.release().await.unwrap();
                    }
                }
            }
        }));
    }
    for t in tasks {
        tokio::time::timeout(T, t).await.expect("in time").expect("task");
    }
    let max = out.1.load(SeqCst);
    assert!((2..=3).contains(&max), "leases out at once: {max}");
    until("dropped leases to go", || async { count_children(&zk, &format!("{path}/leases")).await == 0 }).await;
});

/// A kazoo contender name: 32 hex digits, the kind, a 10-digit sequence.
fn kazoo_named(name: &str, kind: &str) -> bool {
    let (hex, rest) = name.split_at(32.min(name.len()));
    hex.bytes().all(|b| b.is_ascii_hexdigit())
        && rest.strip_prefix(kind).is_some_and(|seq| seq.len() == 10 && seq.bytes().all(|b| b.is_ascii_digit()))
}

both_servers!(kazoo_layouts_of_rwlock_and_semaphore, |srv: TestServer| async move {
    let (c1, c2) = (srv.client().await, srv.client().await);
    // ReadLock/WriteLock: `__rlock__` readers, `__lock__` writers; a kazoo
    // `Lock` on the path is a writer to both.
    let path = "/kazoo/rw";
    let mut r = ReadWriteLock::new(&c1, path).with_naming(Naming::Kazoo).with_data(b"reader-1");
    assert_eq!(r.naming(), Naming::Kazoo);
    r.read().acquire().await.unwrap();
    let name = r.read().node_path().unwrap().rsplit('/').next().unwrap().to_string();
    assert!(kazoo_named(&name, "__rlock__"), "{name}");
    let (data, _) = c1.get_data(r.read().node_path().unwrap()).await.unwrap();
    assert_eq!(data, b"reader-1");
    let mut plain = Lock::kazoo(&c2, path, "plain");
    assert!(!plain.try_acquire().await.unwrap(), "a kazoo Lock is a writer: it waits for the reader");
    let mut w = ReadWriteLock::new(&c2, path).with_naming(Naming::Kazoo);
    assert!(!w.write().try_acquire().await.unwrap());
    r.read().release().await.unwrap();
    w.write().acquire().await.unwrap();
    let wname = w.write().node_path().unwrap().rsplit('/').next().unwrap().to_string();
    assert!(kazoo_named(&wname, "__lock__"), "{wname}");
    assert!(!r.read().try_acquire().await.unwrap(), "readers wait for a writer");
    assert!(!plain.try_acquire().await.unwrap());
    w.write().release().await.unwrap();
    assert!(plain.try_acquire().await.unwrap());
    assert!(!r.read().try_acquire().await.unwrap(), "readers wait for a kazoo Lock holder");
    plain.release().await.unwrap();

    // Semaphore: leases `<path>/<hex>` (ephemeral, no sequence), the mutex a
    // kazoo Lock at `<path>-__lock__`, max_leases as text in `<path>`.
    let path = "/kazoo/sem";
    let sem = Semaphore::new(&c1, path, 2).with_naming(Naming::Kazoo).with_data(b"holder-1");
    let first = sem.acquire(1).await.unwrap();
    assert_eq!(c1.get_data(path).await.unwrap().0, b"2");
    let lease = first[0].node_name().to_string();
    assert!(lease.len() == 32 && lease.bytes().all(|b| b.is_ascii_hexdigit()), "{lease}");
    let stat = c1.exists(first[0].path()).await.unwrap().unwrap();
    assert_eq!(stat.ephemeral_owner, c1.session_id());
    assert_eq!(c1.get_data(first[0].path()).await.unwrap().0, b"holder-1");
    assert!(c1.exists(&format!("{path}-__lock__")).await.unwrap().is_some());
    assert!(c1.get_children(&format!("{path}-__lock__")).await.unwrap().is_empty(), "mutex given back");
    let other = Semaphore::new(&c2, path, 2).with_naming(Naming::Kazoo);
    let second = other.acquire(1).await.unwrap();
    assert!(other.acquire_timeout(1, Duration::from_millis(200)).await.unwrap().is_none(), "full");
    assert_eq!(sem.participant_nodes().await.unwrap().len(), 2, "the timed-out acquirer left nothing");
    // Every process must agree on max_leases, as kazoo checks.
    let wrong = Semaphore::new(&c2, path, 3).with_naming(Naming::Kazoo);
    assert_eq!(wrong.acquire(1).await.unwrap_err().code, Code::BadArguments);
    let waiter = tokio::spawn(async move { other.acquire(1).await.unwrap() });
    // The waiter holds the mutex while it waits for room.
    let mutex = format!("{path}-__lock__");
    until("the waiter to hold the mutex", || async { count_children(&c1, &mutex).await == 1 }).await;
    assert!(!waiter.is_finished());
    for l in first {
        l.release().await.unwrap();
    }
    let third = tokio::time::timeout(T, waiter).await.expect("waiter in time").expect("task");
    for l in second.into_iter().chain(third) {
        l.release().await.unwrap();
    }
    assert!(c1.get_children(path).await.unwrap().is_empty());
});

both_servers!(exclusion_across_a_server_restart, |srv: TestServer| async move {
    let mut srv = srv;
    let ex = Arc::new(Exclusion::default());
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let client = srv.client_with(Duration::from_secs(8)).await;
        tasks.push(tokio::spawn(hammer(
            client,
            "/locks/restart",
            Naming::Curator,
            12,
            Duration::from_millis(15),
            ex.clone(),
        )));
    }
    assert!(eventually(T, || ex.entries() >= 8).await);
    srv.restart().await;
    for t in tasks {
        // The sessions outlive the restart: nobody loses the lock or fails.
        assert_eq!(tokio::time::timeout(Duration::from_secs(40), t).await.expect("in time").expect("task"), (12, 0));
    }
    ex.check(48);
});

both_servers!(session_expiry_loses_the_lock, |srv: TestServer| async move {
    let mut srv = srv;
    let path = "/locks/expiry";
    let a = srv.client_with(Duration::from_millis(1000)).await;
    let b = srv.client_with(Duration::from_millis(1000)).await;
    let mut la = Lock::new(&a, path);
    la.acquire().await.unwrap();
    let token = la.fencing_token().unwrap();
    let lost = la.lost();
    let waiter = tokio::spawn(async move {
        let mut lb = Lock::new(&b, path);
        let r = lb.acquire().await;
        (r, lb.state())
    });
    until("the waiter's node", || async { la.participant_nodes().await.unwrap().len() == 2 }).await;

    srv.stop().await;
    // Ownership is unknown at once, and gone once the session expires.
    assert!(eventually(Duration::from_secs(2), || la.state() == LockState::Suspended).await, "{:?}", la.state());
    assert!(!la.is_held());
    assert_eq!(tokio::time::timeout(Duration::from_secs(10), lost).await.expect("lost in time"), LockState::Lost);
    assert_eq!(la.state(), LockState::Lost);
    let (r, state) = tokio::time::timeout(Duration::from_secs(10), waiter).await.expect("in time").expect("task");
    assert_eq!((r.unwrap_err().code, state), (Code::SessionExpired, LockState::Released));
    assert_eq!(la.acquire().await.unwrap_err().code, Code::SessionExpired, "a lost hold does not nest");

    srv.start_again().await;
    assert_eq!(la.release().await.unwrap_err().code, Code::SessionExpired);
    assert_eq!(la.state(), LockState::Released);
    // A newcomer gets the lock once the expired sessions' nodes are gone.
    let c = srv.client().await;
    let mut lc = Lock::new(&c, path);
    tokio::time::timeout(T, lc.acquire()).await.expect("in time").unwrap();
    let token_c = lc.fencing_token().unwrap();
    assert!(token_c > token);
    assert_eq!(lc.participant_nodes().await.unwrap().len(), 1);
    // The expired client carries on in a new session.
    assert!(!la.try_acquire().await.unwrap());
    lc.release().await.unwrap();
    tokio::time::timeout(T, la.acquire()).await.expect("in time").unwrap();
    assert!(la.is_held() && la.fencing_token().unwrap() > token_c);
    la.release().await.unwrap();
});

/// A TCP proxy in front of a server that can sever the path (close every
/// connection, refuse new ones) or black-hole it (sockets stay open, bytes
/// vanish: a partition).
struct Proxy {
    port: u16,
    /// 0 forward, 1 sever, 2 black-hole.
    mode: Arc<AtomicU8>,
    /// Bumped by `sever`: connections of an older epoch close.
    epoch: Arc<AtomicU64>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let port = listener.local_addr().expect("proxy addr").port();
        let (mode, epoch) = (Arc::new(AtomicU8::new(0)), Arc::new(AtomicU64::new(0)));
        let (m, e) = (mode.clone(), epoch.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                if m.load(SeqCst) == 1 {
                    continue;
                }
                let Ok(upstream) = TcpStream::connect(("127.0.0.1", target)).await else { continue };
                let (cr, cw) = sock.into_split();
                let (sr, sw) = upstream.into_split();
                let born = e.load(SeqCst);
                let (m1, e1, m2, e2) = (m.clone(), e.clone(), m.clone(), e.clone());
                tokio::spawn(async move {
                    tokio::select! {
                        _ = pipe(cr, sw, m1, e1, born) => {}
                        _ = pipe(sr, cw, m2, e2, born) => {}
                    }
                });
            }
        });
        Proxy { port, mode, epoch }
    }

    fn hosts(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn sever(&self) {
        self.mode.store(1, SeqCst);
        self.epoch.fetch_add(1, SeqCst);
    }

    fn blackhole(&self) {
        self.mode.store(2, SeqCst);
    }

    fn heal(&self) {
        self.mode.store(0, SeqCst);
    }
}

async fn pipe(
    mut r: tokio::net::tcp::OwnedReadHalf,
    mut w: tokio::net::tcp::OwnedWriteHalf,
    mode: Arc<AtomicU8>,
    epoch: Arc<AtomicU64>,
    born: u64,
) {
    let mut buf = vec![0u8; 64 * 1024];
    while epoch.load(SeqCst) == born {
        match tokio::time::timeout(Duration::from_millis(10), r.read(&mut buf)).await {
            Err(_) => continue,
            Ok(Ok(0)) | Ok(Err(_)) => return,
            Ok(Ok(n)) if mode.load(SeqCst) == 0 => {
                if w.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
            Ok(Ok(_)) => {}
        }
    }
}

both_servers!(exclusion_across_a_forced_disconnect, |srv: TestServer| async move {
    let path = "/locks/partition";
    let proxy = Proxy::start(srv.port).await;
    let a = Client::builder(&proxy.hosts())
        .session_timeout(Duration::from_millis(1500))
        .connection_timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("client through the proxy");
    let ex = Arc::new(Exclusion::default());
    let mut la = Lock::new(&a, path);
    la.acquire().await.unwrap();
    let token = la.fencing_token().unwrap();
    ex.enter(token);
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let client = srv.client().await;
        tasks.push(tokio::spawn(hammer(client, path, Naming::Curator, 3, Duration::from_millis(20), ex.clone())));
    }
    until("the waiters' nodes", || async { la.participant_nodes().await.unwrap().len() == 3 }).await;

    // A brief disconnect: ownership unknown, then certain again in the same session.
    proxy.sever();
    assert!(eventually(Duration::from_secs(2), || la.state() == LockState::Suspended).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    proxy.heal();
    assert!(eventually(Duration::from_secs(5), || la.state() == LockState::Held).await, "{:?}", la.state());
    assert_eq!(ex.entries(), 1, "nobody got in meanwhile");

    // A partition longer than the session: the holder stops before anyone gets in.
    let lost = la.lost();
    proxy.blackhole();
    let stopped = eventually(Duration::from_secs(5), || !la.is_held()).await;
    ex.leave();
    assert!(stopped, "the holder never noticed the partition");
    assert_eq!(tokio::time::timeout(Duration::from_secs(10), lost).await.expect("lost in time"), LockState::Lost);
    for t in tasks {
        assert_eq!(tokio::time::timeout(T, t).await.expect("in time").expect("task"), (3, 0));
    }
    ex.check(7);

    // Healed, the client has a new session: the old hold reports its loss, a new one works.
    proxy.heal();
    assert_eq!(la.release().await.unwrap_err().code, Code::SessionExpired);
    tokio::time::timeout(T, la.acquire()).await.expect("in time").unwrap();
    assert!(la.fencing_token().unwrap() > *ex.tokens.lock().unwrap().last().unwrap());
    la.release().await.unwrap();
});
