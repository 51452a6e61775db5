//! What every part of one simulation shares: the configuration, the seeded
//! generator, simulated time, the network's fault state, the live nodes,
//! the event trace, the history and the invariant records.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use corral::txn::{State, Txn, TxnOp, TxnResult};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::Instant;

use crate::disk::SimDisk;
use crate::history::{KeyState, OpRecord};
use crate::node::SimNode;
use crate::types::{fnv, fnv_more, NodeId};
use crate::wire::SimNet;

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
    /// Voters the ensemble is founded with (3 or 5).
    pub nodes: usize,
    /// Observers (non-voting members) configured besides them (0 or 1).
    pub observers: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// Simulated ms of workload under faults.
    pub workload_ms: u64,
    /// snapCount: log entries between snapshots.
    pub snap_count: u64,
    /// Snapshots retained; the log is purged below the oldest.
    pub snap_retain: usize,
    /// Probability that one log write fails (a disk error).
    pub disk_error_rate: f64,
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
            observers: usize::from(rng.gen_bool(1.0 / 3.0)),
            clients: rng.gen_range(3..=8),
            workload_ms: rng.gen_range(15_000..=30_000),
            snap_count: rng.gen_range(30..=60),
            snap_retain: rng.gen_range(corral::replication::SNAP_RETAIN_COUNT_MIN..=5),
            disk_error_rate: [0.0, 0.0, 0.0005, 0.002][rng.gen_range(0..4)],
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
    /// Log writes that failed.
    pub disk_errors: u64,
    /// Membership changes asked for.
    pub reconfigs: u64,
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
    /// Per log index: the entry first applied there (for the final replay;
    /// `None` for entries without a command) and its term as the log holds it.
    pub entries: BTreeMap<u64, (Option<Txn>, Option<u64>)>,
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
    /// Each member's disk, which outlives its incarnations.
    disks: Mutex<BTreeMap<NodeId, Arc<SimDisk>>>,
    /// The network between members.
    wire: Mutex<Option<Arc<SimNet>>>,
    /// Members being started now.
    pub restarting: Mutex<BTreeSet<NodeId>>,
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
            disks: Mutex::new(BTreeMap::new()),
            wire: Mutex::new(None),
            restarting: Mutex::new(BTreeSet::new()),
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

    /// Ids of every configured member: the founding voters `1..=nodes`,
    /// then the observers.
    pub fn member_ids(&self) -> Vec<NodeId> {
        (1..=self.members() as u64).collect()
    }

    /// How many members are configured.
    pub fn members(&self) -> usize {
        self.cfg.nodes + self.cfg.observers
    }

    /// Whether `id` is configured as a voter (before any reconfig).
    pub fn founding_voter(&self, id: NodeId) -> bool {
        id <= self.cfg.nodes as u64
    }

    /// Member `id`'s disk (made empty on first use).
    pub fn disk(self: &Arc<Self>, id: NodeId) -> Arc<SimDisk> {
        lock(&self.disks).entry(id).or_insert_with(|| SimDisk::new(self.clone(), id)).clone()
    }

    /// The network between members (made on first use).
    pub fn wire(self: &Arc<Self>) -> Arc<SimNet> {
        lock(&self.wire).get_or_insert_with(|| SimNet::new(self.clone())).clone()
    }

    /// Drops the disks and the network, which point back at the world.
    pub fn tear_down(&self) {
        lock(&self.disks).clear();
        lock(&self.wire).take();
        lock(&self.nodes).clear();
    }

    /// What a state machine reports after applying the entry at `index`
    /// (`term`: its term as the log holds it; `txn`: its command,
    /// if any), with `result`, leaving `state`: checks that every member
    /// applies the same entry at an index and that the committed log never
    /// goes back in term, records the key timeline, and checks that no
    /// ephemeral is owned by a session the state no longer has.
    pub fn on_apply(
        &self,
        node: NodeId,
        index: u64,
        term: Option<u64>,
        txn: Option<&Txn>,
        result: &TxnResult,
        state: &State,
    ) {
        let hash = entry_hash(index, term, txn, result);
        let mut rec = lock(&self.rec);
        match rec.applied.get(&index) {
            Some((h, first)) if *h != hash => {
                let msg = format!(
                    "committed entries differ at index {index}: node {first} applied {h:016x}, node {node} applied {hash:016x} (term {term:?})"
                );
                drop(rec);
                self.violation(msg);
                return;
            }
            Some(_) => {}
            None => {
                let before = rec.entries.range(..index).next_back().map(|(i, (_, l))| (*i, *l));
                rec.applied.insert(index, (hash, node));
                rec.entries.insert(index, (txn.cloned(), term));
                if let Some((i, earlier)) = before.filter(|(_, t)| t.is_some() && term.is_some() && *t > term) {
                    let msg =
                        format!("committed log goes back in term: index {i} in {earlier:?}, index {index} in {term:?}");
                    drop(rec);
                    self.violation(msg);
                    return;
                }
            }
        }
        if term.is_none() {
            drop(rec);
            self.violation(format!("node {node} applied index {index}, which its log does not hold"));
            return;
        }
        if let Some(Txn { op: TxnOp::Write { op, .. }, .. }) = txn {
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

/// A stable hash of an applied entry (index, log id, command) and its result.
pub fn entry_hash(index: u64, term: Option<u64>, txn: Option<&Txn>, result: &TxnResult) -> u64 {
    // Two entries that failed to encode would hash alike and hide a divergence.
    let e = bincode::serialize(&(index, term, txn)).expect("an applied entry encodes");
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
