//! What every part of one simulation shares: the configuration, the seeded
//! generator, simulated time, the network's fault state, the live nodes,
//! the event trace, the history and the invariant records.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use corral::txn::{State, TxnOp, TxnResult};
use openraft::EntryPayload;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

use crate::history::{KeyState, OpRecord};
use crate::node::SimNode;
use crate::storage::Durable;
use crate::types::{fnv, fnv_more, Entry, NodeId};

/// Election timeout E (min E, max 1.5 E, heartbeat E/5), as corral derives them.
pub const ELECTION_MS: u64 = 500;
/// ZooKeeper's tickTime in the simulation.
pub const TICK_MS: u64 = 500;
/// syncLimit: a leader with no quorum ack for syncLimit × tickTime stops serving.
pub const SYNC_LIMIT: u64 = 5;
/// Negotiated session timeout of every simulated session.
pub const SESSION_TIMEOUT_MS: i32 = 4000;
/// The register keys clients read and write.
pub const KEYS: [&str; 4] = ["/k0", "/k1", "/k2", "/k3"];
/// Parent of the ephemerals.
pub const EPHEMERAL_PARENT: &str = "/e";
/// Violations listed per seed (the first ones explain the rest).
const VIOLATIONS_KEPT: usize = 12;
/// Wall clock of simulated time 0 (ms since the epoch), for `Txn::time_ms`.
const EPOCH_MS: i64 = 1_700_000_000_000;

/// A deliberately injected fault, to show the checkers catch real bugs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bug {
    /// The disk acknowledges fsync but keeps log writes in a volatile cache
    /// for 400 ms more: a crash loses log entries openraft was told are durable.
    LyingFsync,
}

/// What one simulation runs.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// The seed everything derives from.
    pub seed: u64,
    /// Voters in the ensemble (3 or 5).
    pub nodes: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Simulated ms of workload under faults.
    pub workload_ms: u64,
    /// snapCount: log entries between snapshots.
    pub snap_count: u64,
    /// Snapshots retained; the log is purged below the oldest.
    pub snap_retain: usize,
    /// Injected bug, if any.
    pub bug: Option<Bug>,
    /// Print the trace as it happens.
    pub verbose: bool,
}

impl SimConfig {
    /// The configuration a seed implies; `nodes` overrides the ensemble size.
    pub fn from_seed(seed: u64, nodes: Option<usize>) -> SimConfig {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0xc0ffee);
        let nodes = nodes.unwrap_or(if seed.is_multiple_of(2) { 3 } else { 5 });
        SimConfig {
            seed,
            nodes,
            clients: rng.gen_range(3..=8),
            workload_ms: rng.gen_range(15_000..=30_000),
            snap_count: rng.gen_range(30..=60),
            snap_retain: rng.gen_range(1..=3),
            bug: None,
            verbose: false,
        }
    }
}

/// Counters for the summary line.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Faults injected (partitions, heals, crashes, restarts, network changes).
    pub faults: u64,
    /// Crashes among them.
    pub crashes: u64,
    /// Snapshots installed from a leader.
    pub snapshot_installs: u64,
    /// Snapshots built.
    pub snapshots_built: u64,
    /// Messages sent through the network, and dropped.
    pub messages: u64,
    /// Messages dropped.
    pub dropped: u64,
}

/// Fault state of the network.
#[derive(Clone, Debug, Default)]
pub struct NetState {
    /// Upper bound of the one-way delay of a message.
    pub max_delay_ms: u64,
    /// Probability that a message is lost.
    pub loss: f64,
    /// Partition group of each node (nodes in different groups cannot talk).
    pub group: BTreeMap<NodeId, u32>,
    /// Crashed nodes.
    pub down: BTreeSet<NodeId>,
}

impl NetState {
    /// Whether a message from `a` can reach `b` now.
    pub fn connected(&self, a: NodeId, b: NodeId) -> bool {
        !self.down.contains(&a)
            && !self.down.contains(&b)
            && self.group.get(&a).copied().unwrap_or(0) == self.group.get(&b).copied().unwrap_or(0)
    }
}

/// What the state machines reported as they applied entries.
#[derive(Default)]
pub struct Records {
    /// Per log index: the hash of the entry and its result, and who applied it first.
    pub applied: BTreeMap<u64, (u64, NodeId)>,
    /// Per log index: the entry first applied there (for the final replay).
    pub entries: BTreeMap<u64, Entry>,
    /// Per register key: its state after each index that changed it.
    pub timeline: BTreeMap<String, BTreeMap<u64, KeyState>>,
    /// Per term: the nodes that were leader in it.
    pub leaders: BTreeMap<u64, BTreeSet<NodeId>>,
    /// Invariant violations, in the order found.
    pub violations: Vec<String>,
    /// The client history.
    pub history: Vec<OpRecord>,
}

/// Locks a mutex, ignoring poisoning (a panic already fails the run).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The shared state of one simulation.
pub struct World {
    /// The configuration.
    pub cfg: SimConfig,
    start: Instant,
    rng: Mutex<StdRng>,
    /// Network faults.
    pub net: Mutex<NetState>,
    /// The running incarnation of each node that is up.
    pub nodes: Mutex<BTreeMap<NodeId, Arc<SimNode>>>,
    /// The durable state of crashed nodes, frozen at the crash.
    pub frozen: Mutex<BTreeMap<NodeId, Durable>>,
    /// Incarnation counter per node.
    pub incarnations: Mutex<BTreeMap<NodeId, u64>>,
    /// Invariant records and the history.
    pub rec: Mutex<Records>,
    /// Counters.
    pub stats: Mutex<Stats>,
    trace: Mutex<(u64, u64)>,
    seq: AtomicU64,
    next_session: AtomicU64,
}

impl World {
    /// A world for `cfg`, with time starting now.
    pub fn new(cfg: SimConfig) -> Arc<World> {
        let rng = StdRng::seed_from_u64(cfg.seed);
        Arc::new(World {
            cfg,
            start: Instant::now(),
            rng: Mutex::new(rng),
            net: Mutex::new(NetState::default()),
            nodes: Mutex::new(BTreeMap::new()),
            frozen: Mutex::new(BTreeMap::new()),
            incarnations: Mutex::new(BTreeMap::new()),
            rec: Mutex::new(Records::default()),
            stats: Mutex::new(Stats::default()),
            trace: Mutex::new((fnv(b"corral-sim"), 0)),
            seq: AtomicU64::new(1),
            next_session: AtomicU64::new(1),
        })
    }

    /// Simulated ms since the start.
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64
    }

    /// The simulated wall clock a proposer stamps a `Txn` with.
    pub fn wall_ms(&self) -> i64 {
        EPOCH_MS + self.now_ms() as i64
    }

    /// The next global event number (orders invocations and completions exactly).
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// A fresh session id, as node `node` would pick it (node id in the top byte).
    pub fn next_session_id(&self, node: NodeId) -> i64 {
        ((node << 56) | self.next_session.fetch_add(1, Ordering::Relaxed)) as i64
    }

    /// Runs `f` with the simulation's generator.
    pub fn with_rng<T>(&self, f: impl FnOnce(&mut StdRng) -> T) -> T {
        f(&mut lock(&self.rng))
    }

    /// A uniform draw in `range`.
    pub fn rand_range(&self, range: std::ops::Range<u64>) -> u64 {
        if range.is_empty() {
            return range.start;
        }
        self.with_rng(|r| r.gen_range(range))
    }

    /// True with probability `p`.
    pub fn chance(&self, p: f64) -> bool {
        self.with_rng(|r| r.gen_bool(p.clamp(0.0, 1.0)))
    }

    /// How long one simulated fsync takes.
    pub fn fsync_delay(&self) -> Duration {
        Duration::from_micros(self.rand_range(200..4_000))
    }

    /// Adds an event to the trace (and prints it in verbose mode).
    pub fn trace(&self, what: impl Display) {
        let line = format!("{:>8} {what}", self.now_ms());
        let mut t = lock(&self.trace);
        t.0 = fnv_more(t.0, line.as_bytes());
        t.1 += 1;
        if self.cfg.verbose {
            println!("{line}");
        }
    }

    /// Hash of the whole trace so far, and its length.
    pub fn trace_hash(&self) -> (u64, u64) {
        *lock(&self.trace)
    }

    /// Records an invariant violation.
    pub fn violation(&self, what: String) {
        self.trace(format!("VIOLATION {what}"));
        let mut rec = lock(&self.rec);
        match rec.violations.len() {
            n if n < VIOLATIONS_KEPT => rec.violations.push(what),
            VIOLATIONS_KEPT => rec.violations.push("(further violations not listed)".into()),
            _ => {}
        }
    }

    /// The running incarnation of `id`, if it is up.
    pub fn live_node(&self, id: NodeId) -> Option<Arc<SimNode>> {
        lock(&self.nodes).get(&id).cloned()
    }

    /// Whether `(id, inc)` is the running incarnation of `id`.
    pub fn is_current(&self, id: NodeId, inc: u64) -> bool {
        lock(&self.nodes).get(&id).is_some_and(|n| n.inc == inc)
    }

    /// Ids of all voters.
    pub fn voter_ids(&self) -> Vec<NodeId> {
        (1..=self.cfg.nodes as u64).collect()
    }

    /// What a state machine reports after applying `entry` (with `result`,
    /// leaving `state`): checks that every node applies the same entry at an
    /// index, records the key timeline, and checks that no ephemeral is owned
    /// by a session the state no longer has.
    pub fn on_apply(&self, node: NodeId, entry: &Entry, result: &TxnResult, state: &State) {
        let index = entry.log_id.index;
        let hash = entry_hash(entry, result);
        let mut rec = lock(&self.rec);
        match rec.applied.get(&index) {
            Some((h, first)) if *h != hash => {
                let msg = format!(
                    "committed entries differ at index {index}: node {first} applied {h:016x}, node {node} applied {hash:016x} ({})",
                    entry.log_id
                );
                drop(rec);
                self.violation(msg);
                return;
            }
            Some(_) => {}
            None => {
                let before = rec.entries.range(..index).next_back().map(|(i, e)| (*i, e.log_id.leader_id));
                rec.applied.insert(index, (hash, node));
                rec.entries.insert(index, entry.clone());
                if let Some((i, leader)) = before.filter(|(_, l)| *l > entry.log_id.leader_id) {
                    let msg = format!(
                        "committed log goes back in leader id: index {i} by {leader}, index {index} by {}",
                        entry.log_id.leader_id
                    );
                    drop(rec);
                    self.violation(msg);
                    return;
                }
            }
        }
        if let EntryPayload::Normal(txn) = &entry.payload {
            if let TxnOp::Write { op, .. } = &txn.op {
                let path = write_path(op);
                if KEYS.contains(&path) {
                    let ks = key_state(state, path);
                    let line = rec.timeline.entry(path.to_string()).or_default();
                    match line.get(&index) {
                        Some(prev) if *prev != ks => {
                            let msg = format!(
                                "node {node} state of {path} after index {index} is {ks:?}, another node had {prev:?}"
                            );
                            drop(rec);
                            self.violation(msg);
                            return;
                        }
                        Some(_) => {}
                        None => {
                            line.insert(index, ks);
                        }
                    }
                }
            }
        }
        drop(rec);
        self.check_ephemerals(node, index, state);
    }

    /// Every ephemeral must belong to a live session of the same state.
    pub fn check_ephemerals(&self, node: NodeId, index: u64, state: &State) {
        for (owner, paths) in state.tree.ephemerals_by_session() {
            if !state.sessions.contains_key(&owner) {
                self.violation(format!(
                    "node {node} at index {index}: ephemerals {paths:?} outlive their session 0x{owner:x}"
                ));
            }
        }
    }
}

/// The path a write op names.
pub fn write_path(op: &corral::txn::WriteOp) -> &str {
    use corral::txn::WriteOp;
    match op {
        WriteOp::Create { path, .. }
        | WriteOp::Delete { path, .. }
        | WriteOp::SetData { path, .. }
        | WriteOp::SetAcl { path, .. }
        | WriteOp::Check { path, .. } => path,
        WriteOp::Fail { .. } => "",
    }
}

/// A register key's state in `state`.
pub fn key_state(state: &State, path: &str) -> KeyState {
    let ids = [corral::proto::Id::new("world", "anyone")];
    state.tree.get_data(path, &ids).ok().map(|d| {
        let value = d.data.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        (value, d.stat.version)
    })
}

/// A stable hash of an applied entry and its result.
pub fn entry_hash(entry: &Entry, result: &TxnResult) -> u64 {
    // Two entries that failed to encode would hash alike and hide a divergence.
    let e = bincode::serialize(entry).expect("an applied entry encodes");
    let r = bincode::serialize(result).expect("an entry's result encodes");
    fnv_more(fnv(&e), &r)
}

/// A stable hash of a whole state.
pub fn state_hash(state: &State) -> u64 {
    let mut bytes = Vec::new();
    if state.write_snapshot(&mut bytes).is_err() {
        return 0;
    }
    fnv(&bytes)
}

impl World {
    /// A node reports it leads in `term`. corral builds openraft with
    /// `single-term-leader` (classic Raft: at most one leader per term); a
    /// term with two leaders is a violation, reported at the end of the run.
    pub fn leader_claim(&self, term: u64, node: NodeId) {
        let mut rec = lock(&self.rec);
        let leaders = rec.leaders.entry(term).or_default();
        leaders.insert(node);
    }
}
