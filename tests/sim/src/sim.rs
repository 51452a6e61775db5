//! One simulation: start the ensemble, run clients under faults, heal
//! everything, check liveness and convergence, let sessions expire, and run
//! the checkers.

use std::sync::Arc;
use std::time::Duration;

use corral::proto::CreateMode;
use corral::txn::{State, TxnOp};
use tokio::sync::watch;

use crate::check;
use crate::client::Client;
use crate::faults;
use crate::history::{Ack, Op, OpRecord, Outcome};
use crate::node::{create_op, SimNode};
use crate::world::{key_state, lock, state_hash, SimConfig, World, EPHEMERAL_PARENT, KEYS};

/// How long after healing a write must succeed.
const LIVENESS_BOUND: Duration = Duration::from_secs(30);
/// How long after healing every node must hold the same state.
const CONVERGENCE_BOUND: Duration = Duration::from_secs(30);
/// How long after the clients stop every session must be gone.
const EXPIRY_BOUND: Duration = Duration::from_secs(30);
/// How long one attempt of an administrative write may take.
const ADMIN_ATTEMPT: Duration = Duration::from_secs(5);
/// How long the clients get to finish their last op.
const CLIENT_DRAIN: Duration = Duration::from_secs(20);

/// The result of one seed.
#[derive(Clone, Debug)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Ensemble size.
    pub nodes: usize,
    /// Clients.
    pub clients: usize,
    /// Everything that went wrong.
    pub violations: Vec<String>,
    /// Ops given to the checkers.
    pub ops_checked: usize,
    /// Keys whose linearizability search ran out of budget.
    pub inconclusive: usize,
    /// Simulated time, ms.
    pub sim_ms: u64,
    /// Faults injected, crashes among them.
    pub faults: u64,
    /// Crashes.
    pub crashes: u64,
    /// Log writes that failed (disk errors).
    pub disk_errors: u64,
    /// Membership changes asked for.
    pub reconfigs: u64,
    /// Snapshots installed from leaders.
    pub snapshot_installs: u64,
    /// Terms in which more than one node led (allowed by openraft's leader ids).
    pub shared_terms: usize,
    /// Hash of the full event trace, and its length.
    pub trace_hash: u64,
    /// Number of trace events.
    pub trace_len: u64,
}

impl SeedReport {
    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// How to run this seed again, verbosely.
    pub fn reproduce(&self) -> String {
        format!(
            "CORRAL_SIM_SEED={} cargo test -p corral-sim --test ci one_seed -- --ignored --nocapture   \
             (or: cargo run --release -p corral-sim -- --seed {} --nodes {} --verbose)",
            self.seed, self.seed, self.nodes
        )
    }
}

thread_local! {
    /// Panics raised on this thread (by any task of the simulation running on it).
    static PANICS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Whether a simulation runs on this thread now.
    static IN_SIM: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Installs (once) a panic hook that records panics of simulation threads
/// as violations instead of printing a backtrace; other threads keep the
/// default behaviour.
fn record_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_SIM.try_with(|s| s.get()).unwrap_or(false) {
                let _ = PANICS.try_with(|p| p.borrow_mut().push(info.to_string().replace('\n', " ")));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs one seed on a fresh current-thread runtime with paused time.
pub fn run_seed(cfg: SimConfig) -> SeedReport {
    record_panics();
    PANICS.with(|p| p.borrow_mut().clear());
    // The scheduler's own random choices (`select!` fairness, the order
    // waiters wake in) follow the seed too.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .rng_seed(tokio::runtime::RngSeed::from_bytes(&cfg.seed.to_le_bytes()))
        .build();
    let rt = match rt {
        Ok(rt) => rt,
        Err(e) => return failed_report(&cfg, format!("cannot build the runtime: {e}")),
    };
    corral::replication::seed_consensus_rng(cfg.seed ^ 0x005e_ed0f_0af7);
    IN_SIM.with(|s| s.set(true));
    let (cancel, cancelled) = std::sync::mpsc::channel::<()>();
    let mut report = rt.block_on(async {
        tokio::select! {
            biased;
            report = simulate(cfg.clone()) => report,
            () = wall_clock_guard(WALL_LIMIT, cancelled) => {
                failed_report(&cfg, format!("simulated time stopped moving: no progress within {WALL_LIMIT:?} of real time"))
            }
        }
    });
    drop(cancel);
    drop(rt);
    IN_SIM.with(|s| s.set(false));
    let panics = PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()));
    report.violations.extend(panics.into_iter().map(|p| format!("a task panicked: {p}")));
    report
}

/// Real time a seed may take. With the clock paused, a task that keeps
/// running without waiting (a spin) stops simulated time, and no simulated
/// timeout can end the seed; this real-time guard does.
const WALL_LIMIT: Duration = Duration::from_secs(20);

/// Resolves once `limit` of real time has passed, unless `cancel` is
/// signalled or dropped first. A helper thread keeps the time, so the
/// guard does not keep the runtime busy (which would stop the paused clock).
async fn wall_clock_guard(limit: Duration, cancel: std::sync::mpsc::Receiver<()>) {
    let fired = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let waker: Arc<std::sync::Mutex<Option<std::task::Waker>>> = Arc::default();
    {
        let (fired, waker) = (fired.clone(), waker.clone());
        std::thread::spawn(move || {
            if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = cancel.recv_timeout(limit) {
                fired.store(true, std::sync::atomic::Ordering::SeqCst);
                if let Some(w) = lock(&waker).take() {
                    w.wake();
                }
            }
        });
    }
    std::future::poll_fn(|cx| {
        if fired.load(std::sync::atomic::Ordering::SeqCst) {
            return std::task::Poll::Ready(());
        }
        *lock(&waker) = Some(cx.waker().clone());
        // Checked again: the thread may have fired before the waker was stored.
        if fired.load(std::sync::atomic::Ordering::SeqCst) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await
}

fn failed_report(cfg: &SimConfig, why: String) -> SeedReport {
    SeedReport {
        seed: cfg.seed,
        nodes: cfg.nodes,
        clients: cfg.clients,
        violations: vec![why],
        ops_checked: 0,
        inconclusive: 0,
        sim_ms: 0,
        faults: 0,
        crashes: 0,
        disk_errors: 0,
        reconfigs: 0,
        snapshot_installs: 0,
        shared_terms: 0,
        trace_hash: 0,
        trace_len: 0,
    }
}

async fn simulate(cfg: SimConfig) -> SeedReport {
    let world = World::new(cfg.clone());
    world.trace(format_args!("config {cfg:?}"));
    {
        let mut net = lock(&world.net);
        net.max_delay_ms = 5;
    }
    lock(&world.net).down.extend(world.member_ids());
    faults::restart_all(&world).await;
    if admin_write(&world, create_op(EPHEMERAL_PARENT, "", CreateMode::Persistent)).await.is_none() {
        world.violation("setup: no write succeeded on a healthy ensemble".into());
    } else {
        workload(&world).await;
        end_phase(&world).await;
    }
    let nodes: Vec<Arc<SimNode>> = lock(&world.nodes).values().cloned().collect();
    for n in nodes {
        n.stop().await;
    }
    let report = report(&world);
    world.tear_down();
    report
}

/// Clients and faults for the configured time; then the clients finish their last op.
async fn workload(world: &Arc<World>) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut clients = Vec::new();
    for c in 0..world.cfg.clients {
        let node = (c % world.members()) as u64 + 1;
        let client = Client::new(world.clone(), c as u32 + 1, node, stop_rx.clone());
        clients.push(tokio::spawn(client.run()));
    }
    let faults = tokio::spawn(faults::run(world.clone(), stop_rx));
    tokio::time::sleep(Duration::from_millis(world.cfg.workload_ms)).await;
    let _ = stop_tx.send(true);
    world.trace("workload over");
    let _ = faults.await;
    let drain = async {
        for c in clients {
            let _ = c.await;
        }
    };
    if tokio::time::timeout(CLIENT_DRAIN, drain).await.is_err() {
        world.trace("clients did not finish in time");
    }
}

/// Heals, then checks liveness, convergence and session expiry.
async fn end_phase(world: &Arc<World>) {
    faults::heal_all(world).await;
    world.trace("healed");
    let op = create_op("/live", "x", CreateMode::Persistent);
    let started = world.now_ms();
    match tokio::time::timeout(LIVENESS_BOUND, admin_write(world, op)).await {
        Ok(Some(zxid)) => world.trace(format_args!("liveness: write at {zxid} after {} ms", world.now_ms() - started)),
        _ => world.violation(format!("liveness: no write succeeded within {LIVENESS_BOUND:?} after healing")),
    }
    if !converge(world).await {
        return;
    }
    expire_sessions(world).await;
    if converge(world).await {
        final_state_checks(world);
    }
}

/// Proposes `op` through whichever node leads, retrying; the zxid it got.
async fn admin_write(world: &Arc<World>, op: corral::txn::WriteOp) -> Option<u64> {
    let deadline = tokio::time::Instant::now() + LIVENESS_BOUND;
    while tokio::time::Instant::now() < deadline {
        let leader = faults::leader(world).and_then(|l| world.live_node(l));
        if let Some(node) = leader {
            let caller = corral::txn::Caller { session_id: 0, ids: vec![] };
            let attempt = node.admin_propose(TxnOp::Write { caller, op: op.clone() });
            match tokio::time::timeout(ADMIN_ATTEMPT, attempt).await {
                Ok(Ok((zxid, _))) => return Some(zxid),
                Ok(Err(e)) => world.trace(format_args!("admin write via node {}: {e:?}", node.id)),
                Err(_) => world.trace(format_args!("admin write via node {}: no answer in {ADMIN_ATTEMPT:?}", node.id)),
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Waits until every node has applied the leader's whole log and all states are equal.
async fn converge(world: &Arc<World>) -> bool {
    let deadline = tokio::time::Instant::now() + CONVERGENCE_BOUND;
    loop {
        let nodes: Vec<Arc<SimNode>> = lock(&world.nodes).values().cloned().collect();
        let last = nodes.iter().filter(|n| n.is_leader()).map(|n| n.last_log_index()).next();
        if let Some(last) = last {
            let hashes: Vec<(u64, u64)> = nodes.iter().map(|n| n.with_state(|s, at| (at, state_hash(s)))).collect();
            if nodes.len() == world.members() && hashes.iter().all(|h| h.0 == last && h.1 == hashes[0].1) {
                world.trace(format_args!("converged at index {last} state {:016x}", hashes[0].1));
                return true;
            }
        }
        if tokio::time::Instant::now() >= deadline {
            let states: Vec<String> = nodes
                .iter()
                .map(|n| n.with_state(|s, at| format!("node {} applied {at} hash {:016x}", n.id, state_hash(s))))
                .collect();
            world.violation(format!("no convergence within {CONVERGENCE_BOUND:?}: {states:?}"));
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// With every client gone, every session must expire and take its ephemerals along.
async fn expire_sessions(world: &Arc<World>) {
    let deadline = tokio::time::Instant::now() + EXPIRY_BOUND;
    loop {
        let nodes: Vec<Arc<SimNode>> = lock(&world.nodes).values().cloned().collect();
        let left: Vec<(u64, usize, usize)> = nodes
            .iter()
            .map(|n| n.with_state(|s, _| (n.id, s.sessions.len(), s.tree.ephemeral_count())))
            .filter(|(_, s, e)| *s > 0 || *e > 0)
            .collect();
        if left.is_empty() {
            world.trace("all sessions expired");
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            world.violation(format!(
                "sessions or ephemerals left {EXPIRY_BOUND:?} after the clients stopped (node, sessions, ephemerals): {left:?}"
            ));
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// On the converged state: every node's state equals the replay of the
/// entries the state machines applied; final reads of every key on every
/// node join the history (after everything else).
fn final_state_checks(world: &Arc<World>) {
    let nodes: Vec<Arc<SimNode>> = lock(&world.nodes).values().cloned().collect();
    let replayed = replay(world);
    for n in &nodes {
        let (at, hash, reads) = n.with_state(|s, at| {
            let reads: Vec<_> = KEYS.iter().map(|k| (k.to_string(), key_state(s, k))).collect();
            (at, state_hash(s), reads)
        });
        if let Some((upto, want)) = replayed {
            if upto == at && want != hash {
                world.violation(format!("node {} state at {at} differs from the replay of the applied entries", n.id));
            }
        }
        for (key, state) in reads {
            let invoke = world.next_seq();
            let complete = world.next_seq();
            let mut rec = lock(&world.rec);
            let id = rec.history.len();
            rec.history.push(OpRecord {
                id,
                client: 0,
                session: 0,
                node: n.id,
                op: Op::SyncRead { key },
                invoke,
                complete: Some(complete),
                t_invoke_ms: world.now_ms(),
                t_complete_ms: world.now_ms(),
                outcome: Outcome::Ok(Ack::Read { at, state }),
            });
        }
    }
}

/// Replays every recorded entry in index order into a fresh state: (last index, state hash).
fn replay(world: &World) -> Option<(u64, u64)> {
    let rec = lock(&world.rec);
    let mut state = State::new();
    let mut expected = rec.entries.keys().next().copied()?;
    for (index, (txn, _)) in &rec.entries {
        if *index != expected {
            drop(rec);
            world.violation(format!("no node applied index {expected}"));
            return None;
        }
        if let Some(txn) = txn {
            state.apply(*index as i64, txn);
        }
        expected = index + 1;
    }
    Some((expected - 1, state_hash(&state)))
}

/// Runs the history checkers and builds the report.
fn report(world: &Arc<World>) -> SeedReport {
    let (history, timeline) = {
        let rec = lock(&world.rec);
        (rec.history.clone(), rec.timeline.clone())
    };
    let findings = check::check_history(&history, &timeline);
    for v in &findings.violations {
        world.violation(v.clone());
    }
    let (violations, shared_terms) = {
        let rec = lock(&world.rec);
        let mut violations = rec.violations.clone();
        for (term, leaders) in rec.leaders.iter().filter(|(_, l)| l.len() > 1) {
            violations.push(format!("term {term} had more than one leader: {leaders:?}"));
        }
        (violations, rec.leaders.values().filter(|l| l.len() > 1).count())
    };
    let stats = lock(&world.stats).clone();
    let (trace_hash, trace_len) = world.trace_hash();
    SeedReport {
        seed: world.cfg.seed,
        nodes: world.cfg.nodes,
        clients: world.cfg.clients,
        violations,
        ops_checked: findings.ops_checked,
        inconclusive: findings.inconclusive,
        sim_ms: world.now_ms(),
        faults: stats.faults,
        crashes: stats.crashes,
        disk_errors: stats.disk_errors,
        reconfigs: stats.reconfigs,
        snapshot_installs: stats.snapshot_installs,
        shared_terms,
        trace_hash,
        trace_len,
    }
}
