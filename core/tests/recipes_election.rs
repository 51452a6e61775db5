//! Election, membership and discovery recipes, against corral and against
//! Apache ZooKeeper 3.8: LeaderElection, LeaderLatch, Party/ShallowParty,
//! ServiceDiscovery, SetPartitioner, PersistentEphemeralNode — including
//! server restarts and session expiry in the middle of an election.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use corral::client::{Client, State};
use corral::proto::{Code, CreateMode};
use corral::recipes::discovery::{ServiceCache, ServiceDiscovery, ServiceInstance, ServiceType};
use corral::recipes::election::{LeaderElection, LossReason};
use corral::recipes::leader_latch::LeaderLatch;
use corral::recipes::lock::{Lock, Naming};
use corral::recipes::partitioner::{partition, PartitionState, SetPartitioner};
use corral::recipes::party::{Party, ShallowParty};
use corral::recipes::persistent_node::PersistentEphemeralNode;
use parking_lot::Mutex;
use support::{eventually, TestServer};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

const T: Duration = Duration::from_secs(15);

/// What the leadership callbacks saw.
#[derive(Default)]
struct Log {
    /// Callbacks running right now: more than one is two leaders at once.
    inside: AtomicUsize,
    max_inside: AtomicUsize,
    /// (identifier, fencing token) of every leadership, in order.
    terms: Mutex<Vec<(String, i64)>>,
    /// How each leadership ended (`None`: the callback returned by itself).
    ends: Mutex<Vec<(String, Option<LossReason>)>>,
}

impl Log {
    fn terms(&self) -> usize {
        self.terms.lock().len()
    }

    fn assert_one_leader_and_rising_tokens(&self) {
        assert_eq!(self.max_inside.load(SeqCst), 1, "two callbacks led at once");
        let tokens: Vec<i64> = self.terms.lock().iter().map(|t| t.1).collect();
        assert!(tokens.windows(2).all(|w| w[0] < w[1]), "fencing tokens must rise: {tokens:?}");
    }
}

/// Runs a contender whose callback leads until `release` is notified or leadership is lost.
fn contend(
    election: &LeaderElection,
    id: &str,
    log: &Arc<Log>,
    release: &Arc<Notify>,
) -> JoinHandle<corral::client::Result<Option<i64>>> {
    let (election, id, log, release) = (election.clone(), id.to_string(), log.clone(), release.clone());
    tokio::spawn(async move {
        election
            .run(|l| {
                let (id, log, release) = (id.clone(), log.clone(), release.clone());
                async move {
                    let n = log.inside.fetch_add(1, SeqCst) + 1;
                    log.max_inside.fetch_max(n, SeqCst);
                    log.terms.lock().push((id.clone(), l.fencing_token()));
                    tokio::select! {
                        _ = release.notified() => {}
                        _ = l.lost() => {}
                    }
                    log.ends.lock().push((id, l.reason()));
                    log.inside.fetch_sub(1, SeqCst);
                    l.fencing_token()
                }
            })
            .await
    })
}

async fn wait_terms(log: &Log, n: usize) {
    assert!(eventually(Duration::from_secs(20), || log.terms() >= n).await, "leadership #{n} never began");
}

async fn wait_lost(states: &mut tokio::sync::broadcast::Receiver<State>) {
    loop {
        match tokio::time::timeout(Duration::from_secs(20), states.recv()).await.expect("a state change") {
            Ok(State::Lost) => return,
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("state stream ended: {e}"),
        }
    }
}

both_servers!(election_in_kazoo_naming, |srv: TestServer| async move {
    // kazoo's Election is a kazoo Lock: `<hex>__lock__<seq>` holding the
    // identifier; a kazoo Lock holder on the path is ahead of every contender.
    let (c1, c2) = (srv.client().await, srv.client().await);
    let path = "/kazoo/election";
    let mut holder = Lock::kazoo(&c2, path, "lock-holder");
    holder.acquire().await.unwrap();
    let election = LeaderElection::new(&c1, path, "candidate").with_naming(Naming::Kazoo);
    let run = tokio::spawn({
        let election = election.clone();
        async move { election.run(|l| async move { l.node().to_string() }).await.unwrap() }
    });
    let queued = tokio::time::Instant::now() + T;
    while election.contenders().await.unwrap().len() < 2 {
        assert!(tokio::time::Instant::now() < queued, "the candidate did not queue");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(election.contenders().await.unwrap(), ["lock-holder", "candidate"]);
    assert!(!run.is_finished(), "the lock holder leads");
    holder.release().await.unwrap();
    let node = tokio::time::timeout(T, run).await.expect("led in time").expect("task").expect("led");
    let name = node.rsplit('/').next().unwrap();
    let (hex, rest) = name.split_at(32);
    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()) && rest.starts_with("__lock__"), "{name}");
    assert!(election.contenders().await.unwrap().is_empty());
});

both_servers!(election_hands_over_on_return_cancel_and_close, |srv: TestServer| async move {
    let log = Arc::new(Log::default());
    let mut clients = Vec::new();
    let mut elections = Vec::new();
    let mut releases = Vec::new();
    let mut runs = Vec::new();
    for i in 0..4 {
        let c = srv.client().await;
        // c0 queues again after leading; the others lead once.
        let e = LeaderElection::new(&c, "/elect", &format!("c{i}")).auto_requeue(i == 0);
        let release = Arc::new(Notify::new());
        runs.push(contend(&e, &format!("c{i}"), &log, &release));
        // One at a time, so the queue order is c0..c3.
        let deadline = std::time::Instant::now() + T;
        while e.contenders().await.unwrap().len() < i + 1 {
            assert!(std::time::Instant::now() < deadline, "contender c{i} never queued");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        clients.push(c);
        elections.push(e);
        releases.push(release);
    }
    wait_terms(&log, 1).await;
    assert_eq!(elections[3].contenders().await.unwrap(), ["c0", "c1", "c2", "c3"]);
    assert_eq!(elections[2].leader().await.unwrap().as_deref(), Some("c0"));
    // Curator's naming: _c_<uuid>-lock-<seq>, the identifier as data.
    let names = clients[0].get_children("/elect").await.unwrap();
    assert!(
        names.iter().all(|n| n.starts_with("_c_") && n[3..].len() == 36 + 1 + 5 + 10 && n.contains("-lock-")),
        "{names:?}"
    );

    releases[0].notify_one(); // c0 returns: c1 leads, c0 queues at the back
    wait_terms(&log, 2).await;
    let deadline = std::time::Instant::now() + T;
    while elections[1].contenders().await.unwrap() != ["c1", "c2", "c3", "c0"] {
        assert!(std::time::Instant::now() < deadline, "c0 did not requeue at the back");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    elections[1].cancel(); // c1 is interrupted: c2 leads
    wait_terms(&log, 3).await;
    let t1 = runs.remove(1).await.unwrap().unwrap();
    assert_eq!(log.max_inside.load(SeqCst), 1, "two callbacks led at once");
    // c2's session ends: c3 leads. The server deletes c2's node as it closes
    // the session, so c3 may start a moment before c2's own process hears of
    // it — the window fencing tokens exist for; only the ordering is checked.
    clients[2].close().await;
    wait_terms(&log, 4).await;
    assert!(eventually(T, || log.ends.lock().len() == 3).await, "c2 was interrupted");
    log.max_inside.store(log.inside.load(SeqCst), SeqCst);
    releases[3].notify_one(); // c3 returns: c0 leads again
    wait_terms(&log, 5).await;
    elections[0].cancel();
    for r in runs {
        assert!(tokio::time::timeout(T, r).await.unwrap().unwrap().unwrap().is_some());
    }

    let who: Vec<String> = log.terms.lock().iter().map(|t| t.0.clone()).collect();
    assert_eq!(who, ["c0", "c1", "c2", "c3", "c0"]);
    assert_eq!(t1, Some(log.terms.lock()[1].1), "run returns the callback's output");
    let mut ends = log.ends.lock().clone();
    // Closing tells c2 either way: the state stream, or the deletion of its node.
    assert!(matches!(ends[2].1, Some(LossReason::Closed | LossReason::NodeDeleted)), "{ends:?}");
    ends[2].1 = None;
    let want = [(0, None), (1, Some(LossReason::Cancelled)), (2, None), (3, None), (0, Some(LossReason::Cancelled))];
    assert_eq!(ends, want.map(|(i, r)| (format!("c{i}"), r)));
    log.assert_one_leader_and_rising_tokens();
    assert!(elections[1].contenders().await.unwrap().is_empty(), "every contender left");
});

both_servers!(election_survives_restart_and_expiry_with_one_leader, |srv: TestServer| async move {
    let mut srv = srv;
    let log = Arc::new(Log::default());
    let never = Arc::new(Notify::new());
    let mut clients = Vec::new();
    let mut elections = Vec::new();
    let mut runs = Vec::new();
    for i in 0..3 {
        let c = srv.client_with(Duration::from_millis(1500)).await;
        let e = LeaderElection::new(&c, "/faults", &format!("f{i}")).auto_requeue(true);
        runs.push(contend(&e, &format!("f{i}"), &log, &never));
        clients.push(c);
        elections.push(e);
    }
    wait_terms(&log, 1).await;

    // A restart: sessions survive, the leader is interrupted while suspended.
    let before = log.terms();
    srv.restart().await;
    wait_terms(&log, before + 1).await;
    assert!(log.ends.lock().iter().any(|e| e.1 == Some(LossReason::Suspended)), "{:?}", log.ends.lock());

    // A disconnect longer than the session timeout: every session is Lost.
    let sessions: Vec<i64> = clients.iter().map(Client::session_id).collect();
    let mut states: Vec<_> = clients.iter().map(Client::state_changes).collect();
    let before = log.terms();
    srv.stop().await;
    tokio::time::sleep(Duration::from_millis(3200)).await;
    srv.start_again().await;
    for s in &mut states {
        wait_lost(s).await;
    }
    wait_terms(&log, before + 1).await;
    for (c, old) in clients.iter().zip(&sessions) {
        assert!(eventually(T, || c.session_id() != 0 && c.session_id() != *old).await, "a new session follows Lost");
    }
    // The queue's head is the latest leader: no node of a lost session is left ahead of it.
    let deadline = std::time::Instant::now() + T;
    loop {
        let contenders = elections[0].contenders().await.unwrap();
        let leader = log.terms.lock().last().cloned().expect("a leader");
        if contenders.first() == Some(&leader.0) && contenders.len() == 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "leader {leader:?}, queue {contenders:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    for e in &elections {
        e.cancel();
    }
    for r in runs {
        assert!(tokio::time::timeout(T, r).await.unwrap().is_ok());
    }
    log.assert_one_leader_and_rising_tokens();
    let deadline = std::time::Instant::now() + T;
    while !elections[0].contenders().await.unwrap().is_empty() {
        assert!(std::time::Instant::now() < deadline, "stale contenders stayed behind");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
});

both_servers!(leader_latch_one_leader_and_handover, |srv: TestServer| async move {
    let mut srv = srv;
    let mut clients = Vec::new();
    let mut latches = Vec::new();
    for i in 0..3 {
        let c = srv.client().await;
        let mut l = LeaderLatch::new(&c, "/latch", &format!("l{i}"));
        l.start().await.unwrap();
        clients.push(c);
        latches.push(l);
    }
    assert!(latches[0].await_leadership_timeout(T).await);
    let leaders = || latches.iter().filter(|l| l.has_leadership()).count();
    assert_eq!(leaders(), 1);
    let parts = latches[2].participants().await.unwrap();
    assert_eq!(
        parts.iter().map(|p| (p.id.as_str(), p.is_leader)).collect::<Vec<_>>(),
        [("l0", true), ("l1", false), ("l2", false)]
    );
    let name = latches[1].our_path().unwrap();
    assert!(name.starts_with("/latch/_c_") && name.contains("-latch-"), "{name}");
    assert!(latches[1].start().await.is_err(), "a latch starts once");

    let mut changes = latches[1].leadership_changes();
    latches.remove(0).close().await.unwrap();
    assert!(latches[0].await_leadership_timeout(T).await);
    tokio::time::timeout(T, changes.wait_for(|l| *l)).await.unwrap().unwrap();
    assert!(!latches[1].has_leadership());
    assert_eq!(latches[1].leader().await.unwrap().map(|p| p.id).as_deref(), Some("l1"));

    clients[1].close().await; // l1's session ends: l2 leads
    assert!(latches[1].await_leadership_timeout(T).await);
    assert!(eventually(T, || !latches[0].has_leadership()).await);

    // Suspended clears leadership; the surviving session leads again with its node.
    let path = latches[1].our_path();
    srv.stop().await;
    assert!(eventually(T, || !latches[1].has_leadership()).await, "a suspended latch is not leader");
    srv.start_again().await;
    assert!(latches[1].await_leadership_timeout(Duration::from_secs(20)).await);
    assert_eq!(latches[1].our_path(), path);
    let l2 = latches.remove(1);
    let node = path.unwrap();
    l2.close().await.unwrap();
    assert!(clients[2].exists(&node).await.unwrap().is_none(), "close deletes the node");
});

async fn next_members(live: &mut corral::recipes::party::MemberWatch, want: &[&str]) {
    tokio::time::timeout(T, async {
        while live.current() != want {
            live.changed().await.expect("still following");
        }
    })
    .await
    .unwrap_or_else(|_| panic!("members never became {want:?}, have {:?}", live.current()));
}

both_servers!(party_membership_and_live_list, |srv: TestServer| async move {
    let a = srv.client().await;
    let b = srv.client().await;
    let pa = Party::new(&a, "/party", "alpha");
    let pb = Party::new(&b, "/party", "beta two");
    pa.join().await.unwrap();
    pa.join().await.unwrap(); // joining twice is harmless
    let mut live = pa.watch().await.unwrap();
    assert_eq!(live.current(), ["alpha"]);
    pb.join().await.unwrap();
    next_members(&mut live, &["alpha", "beta two"]).await;
    assert_eq!(pb.len().await.unwrap(), 2);
    // kazoo's naming: <uuidhex>__party__, the identifier as data.
    let names = a.get_children("/party").await.unwrap();
    assert!(names.iter().all(|n| n.len() == 32 + 9 && n.ends_with("__party__")), "{names:?}");
    let (data, stat) = a.get_data(&pb.node_path()).await.unwrap();
    assert_eq!((data.as_slice(), stat.ephemeral_owner), (&b"beta two"[..], b.session_id()));
    b.close().await; // a member's session ends
    next_members(&mut live, &["alpha"]).await;
    assert!(pa.leave().await.unwrap());
    next_members(&mut live, &[]).await;
    assert!(!pa.leave().await.unwrap());

    let sa = ShallowParty::new(&a, "/shallow", "w1");
    let c = srv.client().await;
    let sc = ShallowParty::new(&c, "/shallow", "w2");
    sa.join().await.unwrap();
    sc.join().await.unwrap();
    assert_eq!(sa.members().await.unwrap(), ["w1", "w2"]);
    let name = sc.node_path().rsplit('/').next().unwrap().to_string();
    assert!(name.len() == 32 + 3 && name.ends_with("-w2"), "{name}");
    assert_eq!(c.get_data(&sc.node_path()).await.unwrap().0, b"0");
    let mut live = sa.watch().await.unwrap();
    sc.leave().await.unwrap();
    next_members(&mut live, &["w1"]).await;
    c.close().await;
    a.close().await;
    let ended = tokio::time::timeout(T, async { while live.changed().await.is_some() {} }).await;
    assert!(ended.is_ok(), "the watch ends with the client");
});

async fn seen(cache: &mut ServiceCache, want: Vec<ServiceInstance>) -> Result<(), tokio::time::error::Elapsed> {
    tokio::time::timeout(T, async {
        while cache.instances() != want {
            cache.changed().await.expect("cache follows");
        }
    })
    .await
}

both_servers!(discovery_register_query_cache_unregister, |srv: TestServer| async move {
    let a = srv.client().await;
    let b = srv.client().await;
    let da = ServiceDiscovery::new(&a, "/disc");
    let db = ServiceDiscovery::new(&b, "/disc");
    let i1 = ServiceInstance::new("api")
        .with_id("i1")
        .with_address("10.0.0.1")
        .with_port(80)
        .with_payload(serde_json::json!({"zone": "a"}))
        .with_uri_spec("{scheme}://{address}:{port}/x");
    let i2 = ServiceInstance::new("api").with_id("i2").with_address("10.0.0.2").with_ssl_port(443);
    let s1 = ServiceInstance::new("db").with_id("s1").with_service_type(ServiceType::Static);
    da.register(&i1).await.unwrap();
    db.register(&i2).await.unwrap();
    db.register(&s1).await.unwrap();
    assert_eq!(db.query_for_names().await.unwrap(), ["api", "db"]);
    assert_eq!(db.query_for_instances("api").await.unwrap(), [i1.clone(), i2.clone()]);
    assert_eq!(db.query_for_instance("api", "i1").await.unwrap(), Some(i1.clone()));
    assert_eq!(db.query_for_instance("api", "nope").await.unwrap(), None);
    assert_eq!(i1.build_uri().as_deref(), Some("http://10.0.0.1:80/x"));
    // Curator's layout and JSON.
    let (raw, stat) = b.get_data("/disc/api/i1").await.unwrap();
    assert_eq!(stat.ephemeral_owner, a.session_id());
    assert_eq!(b.exists("/disc/db/s1").await.unwrap().map(|s| s.ephemeral_owner), Some(0), "STATIC is persistent");
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    for key in ["name", "id", "address", "port", "sslPort", "payload", "registrationTimeUTC", "serviceType", "uriSpec"]
    {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert_eq!((v["serviceType"].as_str(), v["sslPort"].is_null()), (Some("DYNAMIC"), true));
    assert_eq!(v["uriSpec"]["parts"][0], serde_json::json!({"value": "scheme", "variable": true}));
    let curator = br#"{"name":"test","id":"ca2f","address":"10.20.30.40","port":1234,"payload":"From Test","registrationTimeUTC":1325129459728,"serviceType":"STATIC"}"#;
    let parsed = ServiceInstance::from_json(curator).unwrap();
    assert_eq!((parsed.port, parsed.service_type, parsed.enabled), (Some(1234), ServiceType::Static, true));
    // Curator's compatible-mode serializer tags an object payload with its Java class.
    let tagged =
        br#"{"name":"test","id":"cb01","payload":{"@class":"java.util.LinkedHashMap","zone":"us-2","weight":5}}"#;
    let parsed = ServiceInstance::from_json(tagged).unwrap();
    assert_eq!(parsed.payload, Some(serde_json::json!({"zone": "us-2", "weight": 5})));

    let mut cache = db.service_cache("api").await.unwrap();
    assert_eq!(cache.instances(), [i1.clone(), i2.clone()]);
    let i1b = i1.clone().with_payload(serde_json::json!({"zone": "b"}));
    da.update(&i1b).await.unwrap();
    seen(&mut cache, vec![i1b.clone(), i2.clone()]).await.expect("the cache sees the update");
    db.unregister(&i2).await.unwrap();
    seen(&mut cache, vec![i1b.clone()]).await.expect("the cache sees the unregistration");
    assert_eq!(db.update(&i2).await.unwrap_err().code, Code::NoNode);
    let i3 = ServiceInstance::new("api").with_id("i3");
    db.register(&i3).await.unwrap();
    seen(&mut cache, vec![i1b.clone(), i3.clone()]).await.expect("the cache sees a registration");
    a.close().await; // i1 goes with its session
    seen(&mut cache, vec![i3.clone()]).await.expect("the cache sees the session end");
    db.close().await.unwrap();
    seen(&mut cache, vec![]).await.expect("close unregisters dynamic instances");
    assert!(b.exists("/disc/db/s1").await.unwrap().is_some(), "static instances outlive close");
});

both_servers!(nodes_come_back_after_delete_and_session_expiry, |srv: TestServer| async move {
    let mut srv = srv;
    let zk = srv.client_with(Duration::from_millis(1500)).await;
    let other = srv.client_with(Duration::from_secs(20)).await;
    let mut plain = PersistentEphemeralNode::new(&zk, "/pn/plain", CreateMode::Ephemeral, b"p1");
    plain.start();
    let mut prot =
        PersistentEphemeralNode::new(&zk, "/pn/prot-", CreateMode::EphemeralSequential, b"s").protected(true);
    prot.start();
    assert!(plain.wait_for_initial_create(T).await && prot.wait_for_initial_create(T).await);
    let first = prot.actual_path().unwrap();
    assert!(first.starts_with("/pn/_c_") && first.contains("-prot-"), "{first}");
    let disc = ServiceDiscovery::new(&zk, "/svc");
    let inst = ServiceInstance::new("api").with_id("me").with_port(1);
    disc.register(&inst).await.unwrap();

    // Deleted by someone else: it comes back, with the data set meanwhile.
    let owned_by = |path: String, sid: i64| {
        let other = other.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            loop {
                if let Ok(Some(s)) = other.exists(&path).await {
                    if s.ephemeral_owner == sid {
                        return;
                    }
                }
                assert!(std::time::Instant::now() < deadline, "{path} not back for session {sid:x}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    other.delete("/pn/plain", None).await.unwrap();
    plain.set_data(b"p2").await.unwrap();
    owned_by("/pn/plain".into(), zk.session_id()).await;
    assert!(eventually(T, || plain.data() == b"p2").await);
    let deadline = std::time::Instant::now() + T;
    while other.get_data("/pn/plain").await.map(|d| d.0).ok().as_deref() != Some(&b"p2"[..]) {
        assert!(std::time::Instant::now() < deadline, "new data not applied");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The session expires while the server is down: all three come back in the new session.
    let old = zk.session_id();
    let mut states = zk.state_changes();
    srv.stop().await;
    tokio::time::sleep(Duration::from_millis(3200)).await;
    srv.start_again().await;
    wait_lost(&mut states).await;
    assert!(eventually(T, || zk.session_id() != 0 && zk.session_id() != old).await);
    let sid = zk.session_id();
    owned_by("/pn/plain".into(), sid).await;
    owned_by("/svc/api/me".into(), sid).await;
    assert!(
        eventually(T, || prot.actual_path().is_some_and(|p| p != first)).await,
        "a protected sequential node gets a new name"
    );
    owned_by(prot.actual_path().unwrap(), sid).await;
    assert_eq!(other.get_data("/pn/plain").await.unwrap().0, b"p2");
    let deadline = std::time::Instant::now() + T;
    while other.get_children("/pn").await.unwrap().len() != 2 {
        assert!(std::time::Instant::now() < deadline, "stale nodes of the old session stayed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    plain.close().await.unwrap();
    prot.close().await.unwrap();
    disc.close().await.unwrap();
    assert!(other.get_children("/pn").await.unwrap().is_empty(), "close deletes");
    assert!(other.exists("/svc/api/me").await.unwrap().is_none());
});

/// Drives partitioners (releasing when asked) until all hold a share; the
/// shares are checked for overlap every time they are all held.
async fn settle(parts: &[SetPartitioner], items: &[String], ids: &[String]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        for p in parts {
            if p.state() == PartitionState::Release {
                p.release_set().await.unwrap();
                assert_ne!(p.state(), PartitionState::Release, "release_set returned before the state moved on");
            }
        }
        if parts.iter().all(|p| p.state() == PartitionState::Acquired) {
            let shares: Vec<Vec<String>> = parts.iter().map(SetPartitioner::partitions).collect();
            let mut all: Vec<String> = shares.concat();
            let n = all.len();
            all.sort();
            all.dedup();
            assert_eq!(all.len(), n, "an item is held twice: {shares:?}");
            let want: Vec<Vec<String>> = ids.iter().map(|id| partition(id, ids, items)).collect();
            if all.len() == items.len() && shares == want {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "partitions never settled: {:?}",
            parts.iter().map(|p| p.state()).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

both_servers!(partitioner_splits_and_resplits, |srv: TestServer| async move {
    let items: Vec<String> = (1..=7).map(|i| format!("item{i}")).collect();
    let ids: Vec<String> = (0..3).map(|i| format!("w{i}")).collect();
    let mut clients = Vec::new();
    let mut parts = Vec::new();
    for id in &ids {
        let c = srv.client().await;
        let p = SetPartitioner::builder(&c, "/part", &items, id)
            .time_boundary(Duration::from_millis(300))
            .start()
            .await
            .unwrap();
        clients.push(c);
        parts.push(p);
    }
    settle(&parts, &items, &ids).await;
    assert_eq!(parts[0].partitions(), ["item1", "item4", "item7"]);
    // kazoo's layout: a shallow party and one lock per held item.
    let members = clients[0].get_children("/part/party").await.unwrap();
    assert!(members.iter().all(|m| m.len() == 32 + 3 && m[32..].starts_with("-w")), "{members:?}");
    for item in &items {
        let holders = clients[0].get_children(&format!("/part/locks/{item}")).await.unwrap();
        assert_eq!(holders.len(), 1, "{item}: {holders:?}");
        assert!(holders[0].contains("__lock__"), "{holders:?}");
    }

    // A member leaves: the other two share everything.
    parts.remove(1).finish().await;
    let ids2 = vec![ids[0].clone(), ids[2].clone()];
    settle(&parts, &items, &ids2).await;
    assert_eq!(parts[0].partitions(), ["item1", "item3", "item5", "item7"]);
    for p in parts {
        p.finish().await;
    }
    assert!(clients[0].get_children("/part/party").await.unwrap().is_empty());
});

both_servers!(partitioner_with_a_custom_split, |srv: TestServer| async move {
    use std::sync::Arc;

    let items: Vec<String> = ["a1", "a2", "b1", "b2"].map(String::from).to_vec();
    // Items by prefix: the first member takes the "a"s, the second the "b"s;
    // an item outside the set is ignored.
    let split: corral::recipes::partitioner::PartitionFn = Arc::new(|id, members, items| {
        let prefix = if members.first().map(String::as_str) == Some(id) { "a" } else { "b" };
        let mut share: Vec<String> = items.iter().filter(|i| i.starts_with(prefix)).cloned().collect();
        share.push("not-an-item".to_string());
        share
    });
    let mut clients = Vec::new();
    let mut parts = Vec::new();
    for id in ["m1", "m2"] {
        let c = srv.client().await;
        let p = SetPartitioner::builder(&c, "/custom", &items, id)
            .time_boundary(Duration::from_millis(300))
            .partition_fn(split.clone())
            .start()
            .await
            .unwrap();
        clients.push(c);
        parts.push(p);
    }
    for p in &parts {
        assert_eq!(p.wait_for_acquire().await, PartitionState::Acquired);
    }
    assert!(eventually(T, || parts[0].partitions() == ["a1", "a2"] && parts[1].partitions() == ["b1", "b2"]).await);
    for p in parts {
        p.finish().await;
    }
});
