//! Checkers over a finished simulation's history.
//!
//! - [`linear`]: linearizability of writes and sync-reads, per key;
//! - [`session`]: per-session order of plain reads.
//!
//! The invariants observed while the simulation runs (one leader per term,
//! equal committed prefixes, ephemerals bound to live sessions) are
//! recorded by [`crate::world::World`]; the end-state ones are in [`crate::sim`].

pub mod linear;
pub mod session;

use std::collections::BTreeMap;

use crate::history::{Ack, Op, OpRecord, Outcome};
use linear::{LinKind, LinOp, LinResult, Verdict};

/// Search steps allowed per key before the linearizability check gives up.
pub const LIN_BUDGET: u64 = 20_000_000;

/// What the checkers found.
#[derive(Debug, Default)]
pub struct Findings {
    /// Violations.
    pub violations: Vec<String>,
    /// Keys whose linearizability search ran out of budget.
    pub inconclusive: usize,
    /// Ops given to the checkers (with a definite or unknown outcome).
    pub ops_checked: usize,
}

/// The register ops of each key, as the linearizability checker takes them.
pub fn register_ops(history: &[OpRecord]) -> BTreeMap<String, Vec<LinOp>> {
    let mut keys: BTreeMap<String, Vec<LinOp>> = BTreeMap::new();
    for r in history {
        let (key, kind) = match &r.op {
            Op::Write { key, w } => (key, LinKind::Write(w.clone())),
            Op::SyncRead { key } => (key, LinKind::Read),
            _ => continue,
        };
        let (ret, result) = match (&r.outcome, &kind) {
            (Outcome::Ok(Ack::Write { res, .. }), LinKind::Write(_)) => {
                (r.complete, Some(LinResult::Write(res.clone())))
            }
            (Outcome::Ok(Ack::Read { state, .. }), LinKind::Read) => (r.complete, Some(LinResult::Read(state.clone()))),
            (Outcome::Unknown(_) | Outcome::Pending, LinKind::Write(_)) => (None, None),
            _ => continue,
        };
        keys.entry(key.clone()).or_default().push(LinOp { id: r.id, call: r.invoke, ret, kind, result });
    }
    keys
}

/// Runs every history checker.
pub fn check_history(history: &[OpRecord], timeline: &session::Timeline) -> Findings {
    let mut f = Findings::default();
    for (key, ops) in register_ops(history) {
        f.ops_checked += ops.len();
        match linear::check(&ops, LIN_BUDGET) {
            Verdict::Linearizable => {}
            Verdict::Inconclusive => f.inconclusive += 1,
            Verdict::Violation(why) => f.violations.push(format!("key {key} not linearizable: {why}")),
        }
    }
    f.ops_checked += history.iter().filter(|r| matches!(r.op, Op::Read { .. })).count();
    f.violations.extend(session::check(history, timeline));
    f
}
