//! Linearizability of one register key (a ZooKeeper node with data and
//! version), by a Wing–Gong search with memoization of (set of linearized
//! ops, state) as in Lowe's and Porcupine's checkers.
//!
//! Writes whose outcome is unknown may take effect at any point after their
//! invocation, or never: they return "at infinity" and need not be placed.

use std::collections::BTreeSet;

use crate::history::{KWrite, KeyState, WriteRes};

/// What a register op did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinKind {
    /// A write.
    Write(KWrite),
    /// A linearizable read.
    Read,
}

/// What a register op returned; `None` = unknown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinResult {
    /// A write's result.
    Write(WriteRes),
    /// A read's value.
    Read(KeyState),
}

/// One op of a key's history.
#[derive(Clone, Debug)]
pub struct LinOp {
    /// History index (for reports).
    pub id: usize,
    /// Invocation event number.
    pub call: u64,
    /// Completion event number; `None` = never answered (unknown outcome).
    pub ret: Option<u64>,
    /// The op.
    pub kind: LinKind,
    /// Its result; `None` when unknown.
    pub result: Option<LinResult>,
}

/// The checker's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A linearization exists.
    Linearizable,
    /// None exists; why.
    Violation(String),
    /// The search budget ran out.
    Inconclusive,
}

/// The state after `op` if it is legal in `state` with its result, else `None`.
pub fn step(state: &KeyState, op: &LinOp) -> Option<KeyState> {
    match (&op.kind, &op.result) {
        (LinKind::Read, Some(LinResult::Read(seen))) => (seen == state).then(|| state.clone()),
        (LinKind::Read, _) => None,
        (LinKind::Write(w), Some(LinResult::Write(res))) => write_step(state, w, Some(res)),
        (LinKind::Write(w), None) => write_step(state, w, None),
        (LinKind::Write(_), Some(LinResult::Read(_))) => None,
    }
}

/// What a write does in `state`; with `res`, only if it would have returned `res`.
fn write_step(state: &KeyState, w: &KWrite, res: Option<&WriteRes>) -> Option<KeyState> {
    let (next, actual) = match (w, state) {
        (KWrite::Create { value }, None) => (Some((value.clone(), 0)), WriteRes::Ok { version: 0 }),
        (KWrite::Create { .. }, Some(_)) => (state.clone(), WriteRes::Exists),
        (KWrite::Set { .. }, None) | (KWrite::Delete { .. }, None) => (None, WriteRes::NoNode),
        (KWrite::Set { value, expected }, Some((_, v))) => {
            if *expected == -1 || expected == v {
                (Some((value.clone(), v + 1)), WriteRes::Ok { version: v + 1 })
            } else {
                (state.clone(), WriteRes::BadVersion)
            }
        }
        (KWrite::Delete { expected }, Some((_, v))) => {
            if *expected == -1 || expected == v {
                (None, WriteRes::Ok { version: -1 })
            } else {
                (state.clone(), WriteRes::BadVersion)
            }
        }
    };
    match res {
        Some(r) if *r != actual => None,
        _ => Some(next),
    }
}

/// The doubly linked list of call and return events the search walks.
struct Events {
    next: Vec<usize>,
    prev: Vec<usize>,
    /// Per event (1-based; 0 is the head): the op and whether it is the call.
    ev: Vec<(usize, bool)>,
    call_of: Vec<usize>,
    ret_of: Vec<usize>,
}

impl Events {
    fn new(ops: &[LinOp]) -> Events {
        let mut order: Vec<(u64, usize, bool)> = Vec::with_capacity(ops.len() * 2);
        for (i, op) in ops.iter().enumerate() {
            order.push((op.call, i, true));
            order.push((op.ret.unwrap_or(u64::MAX), i, false));
        }
        order.sort();
        let m = order.len();
        let mut ev = vec![(usize::MAX, false); m + 1];
        let (mut call_of, mut ret_of) = (vec![0; ops.len()], vec![0; ops.len()]);
        for (k, (_, i, is_call)) in order.into_iter().enumerate() {
            ev[k + 1] = (i, is_call);
            if is_call {
                call_of[i] = k + 1;
            } else {
                ret_of[i] = k + 1;
            }
        }
        let next = (0..=m).map(|k| k + 1).collect();
        let prev = (0..=m).map(|k| k.saturating_sub(1)).collect();
        Events { next, prev, ev, call_of, ret_of }
    }

    fn end(&self) -> usize {
        self.ev.len()
    }

    fn unlink(&mut self, k: usize) {
        let (p, n) = (self.prev[k], self.next[k]);
        self.next[p] = n;
        if n < self.end() {
            self.prev[n] = p;
        }
    }

    fn relink(&mut self, k: usize) {
        let (p, n) = (self.prev[k], self.next[k]);
        self.next[p] = k;
        if n < self.end() {
            self.prev[n] = k;
        }
    }

    /// Takes op `i` (call and return) out of the list.
    fn lift(&mut self, i: usize) {
        self.unlink(self.call_of[i]);
        self.unlink(self.ret_of[i]);
    }

    /// Puts op `i` back (the reverse of the last `lift`).
    fn unlift(&mut self, i: usize) {
        self.relink(self.ret_of[i]);
        self.relink(self.call_of[i]);
    }
}

/// Checks one key's ops, giving up after `budget` search steps.
pub fn check(ops: &[LinOp], budget: u64) -> Verdict {
    let finite = ops.iter().filter(|o| o.ret.is_some()).count();
    let mut events = Events::new(ops);
    let mut bits = vec![0u64; ops.len().div_ceil(64)];
    let mut cache: BTreeSet<(Vec<u64>, KeyState)> = BTreeSet::new();
    let mut stack: Vec<(usize, KeyState)> = Vec::new();
    let mut state: KeyState = None;
    let mut placed = 0usize;
    let mut deepest = (0usize, None::<usize>);
    let mut e = events.next[0];
    let mut steps = 0u64;
    while placed < finite {
        steps += 1;
        if steps > budget {
            return Verdict::Inconclusive;
        }
        let is_call = e < events.end() && events.ev[e].1;
        if is_call {
            let i = events.ev[e].0;
            if let Some(next) = step(&state, &ops[i]) {
                bits[i / 64] |= 1 << (i % 64);
                if cache.insert((bits.clone(), next.clone())) {
                    stack.push((i, std::mem::replace(&mut state, next)));
                    events.lift(i);
                    placed += usize::from(ops[i].ret.is_some());
                    e = events.next[0];
                    continue;
                }
                bits[i / 64] &= !(1 << (i % 64));
            }
            e = events.next[e];
            continue;
        }
        // A return (or the end) of an op not placed yet: backtrack.
        if stack.len() >= deepest.0 {
            deepest = (stack.len(), (e < events.end()).then(|| events.ev[e].0));
        }
        let Some((i, prev)) = stack.pop() else {
            return Verdict::Violation(describe(ops, finite, deepest));
        };
        state = prev;
        bits[i / 64] &= !(1 << (i % 64));
        events.unlift(i);
        placed -= usize::from(ops[i].ret.is_some());
        e = events.next[events.call_of[i]];
    }
    Verdict::Linearizable
}

fn describe(ops: &[LinOp], finite: usize, (depth, stuck): (usize, Option<usize>)) -> String {
    let stuck = stuck.map(|i| format!("history op #{} {:?} -> {:?}", ops[i].id, ops[i].kind, ops[i].result));
    format!(
        "no linearization of {finite} completed ops; at most {depth} could be ordered, then {} could not be placed",
        stuck.unwrap_or_else(|| "nothing".into())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(id: usize, call: u64, ret: Option<u64>, kw: KWrite, res: Option<WriteRes>) -> LinOp {
        LinOp { id, call, ret, kind: LinKind::Write(kw), result: res.map(LinResult::Write) }
    }

    fn r(id: usize, call: u64, ret: u64, seen: Option<(&str, i32)>) -> LinOp {
        let seen = seen.map(|(v, n)| (v.to_string(), n));
        LinOp { id, call, ret: Some(ret), kind: LinKind::Read, result: Some(LinResult::Read(seen)) }
    }

    fn create(v: &str) -> KWrite {
        KWrite::Create { value: v.into() }
    }

    fn set(v: &str, expected: i32) -> KWrite {
        KWrite::Set { value: v.into(), expected }
    }

    const BUDGET: u64 = 1_000_000;

    #[test]
    fn sequential_history_passes() {
        let ops = vec![
            w(0, 1, Some(2), create("a"), Some(WriteRes::Ok { version: 0 })),
            r(1, 3, 4, Some(("a", 0))),
            w(2, 5, Some(6), set("b", 0), Some(WriteRes::Ok { version: 1 })),
            w(3, 7, Some(8), set("c", 0), Some(WriteRes::BadVersion)),
            r(4, 9, 10, Some(("b", 1))),
            w(5, 11, Some(12), KWrite::Delete { expected: -1 }, Some(WriteRes::Ok { version: -1 })),
            r(6, 13, 14, None),
        ];
        assert_eq!(check(&ops, BUDGET), Verdict::Linearizable);
    }

    #[test]
    fn stale_read_is_rejected() {
        let ops = vec![
            w(0, 1, Some(2), create("a"), Some(WriteRes::Ok { version: 0 })),
            w(1, 3, Some(4), set("b", -1), Some(WriteRes::Ok { version: 1 })),
            r(2, 5, 6, Some(("a", 0))),
        ];
        assert!(matches!(check(&ops, BUDGET), Verdict::Violation(_)));
    }

    #[test]
    fn concurrent_ops_may_reorder() {
        // The read overlaps the set, so it may see either value.
        let ops = vec![
            w(0, 1, Some(2), create("a"), Some(WriteRes::Ok { version: 0 })),
            w(1, 3, Some(6), set("b", -1), Some(WriteRes::Ok { version: 1 })),
            r(2, 4, 5, Some(("b", 1))),
            r(3, 7, 8, Some(("b", 1))),
        ];
        assert_eq!(check(&ops, BUDGET), Verdict::Linearizable);
        // ...but a later read cannot go back to "a".
        let mut bad = ops.clone();
        bad.push(r(4, 9, 10, Some(("a", 0))));
        assert!(matches!(check(&bad, BUDGET), Verdict::Violation(_)));
    }

    #[test]
    fn unknown_write_may_apply_late_or_never() {
        let base = vec![
            w(0, 1, Some(2), create("a"), Some(WriteRes::Ok { version: 0 })),
            w(1, 3, None, set("x", -1), None),
            r(2, 4, 5, Some(("a", 0))),
        ];
        // Never applied.
        assert_eq!(check(&base, BUDGET), Verdict::Linearizable);
        // Applied long after its client gave up.
        let mut late = base.clone();
        late.push(r(3, 10, 11, Some(("x", 1))));
        assert_eq!(check(&late, BUDGET), Verdict::Linearizable);
        // But not before it was invoked.
        let early = vec![
            w(0, 1, Some(2), create("a"), Some(WriteRes::Ok { version: 0 })),
            r(1, 3, 4, Some(("x", 1))),
            w(2, 5, None, set("x", -1), None),
        ];
        assert!(matches!(check(&early, BUDGET), Verdict::Violation(_)));
    }

    #[test]
    fn lost_acknowledged_write_is_rejected() {
        let ops = vec![
            w(0, 1, Some(2), create("a"), Some(WriteRes::Ok { version: 0 })),
            w(1, 3, Some(4), set("b", 0), Some(WriteRes::Ok { version: 1 })),
            // A later conditional write that only fits if "b" never happened.
            w(2, 5, Some(6), set("c", 0), Some(WriteRes::Ok { version: 1 })),
        ];
        assert!(matches!(check(&ops, BUDGET), Verdict::Violation(_)));
    }

    #[test]
    fn wrong_results_are_rejected() {
        let exists = vec![w(0, 1, Some(2), create("a"), Some(WriteRes::Exists))];
        assert!(matches!(check(&exists, BUDGET), Verdict::Violation(_)));
        let version = vec![
            w(0, 1, Some(2), create("a"), Some(WriteRes::Ok { version: 0 })),
            w(1, 3, Some(4), set("b", -1), Some(WriteRes::Ok { version: 5 })),
        ];
        assert!(matches!(check(&version, BUDGET), Verdict::Violation(_)));
    }

    #[test]
    fn many_concurrent_ops_stay_tractable() {
        // 12 concurrent unconditional sets, then a read of one of them.
        let mut ops = vec![w(0, 0, Some(1), create("v0"), Some(WriteRes::Ok { version: 0 }))];
        for i in 1..=12u64 {
            ops.push(w(
                i as usize,
                10 + i,
                Some(100 + i),
                set(&format!("v{i}"), -1),
                Some(WriteRes::Ok { version: 0 }),
            ));
        }
        // Versions must be 1..=12 in some order: give each its own.
        for (k, op) in ops.iter_mut().enumerate().skip(1) {
            op.result = Some(LinResult::Write(WriteRes::Ok { version: k as i32 }));
        }
        ops.push(r(13, 200, 201, Some(("v12", 12))));
        assert_eq!(check(&ops, BUDGET), Verdict::Linearizable);
    }
}
