//! Per-session order of plain reads (ZooKeeper's guarantees for a client):
//! a read is served from a state at least as new as everything the client
//! has seen (its acknowledged writes, earlier reads, its session's
//! creation), and it shows exactly the key's committed state at the index
//! it was served at.

use std::collections::BTreeMap;

use crate::history::{Ack, KeyState, Op, OpRecord, Outcome};

/// Per key: its state after each index that wrote it (from the state machines).
pub type Timeline = BTreeMap<String, BTreeMap<u64, KeyState>>;

/// The key's committed state as of index `at`.
pub fn state_at(timeline: &Timeline, key: &str, at: u64) -> KeyState {
    timeline.get(key).and_then(|line| line.range(..=at).next_back()).and_then(|(_, s)| s.clone())
}

/// Checks every client's reads; returns the violations.
pub fn check(history: &[OpRecord], timeline: &Timeline) -> Vec<String> {
    let mut by_client: BTreeMap<u32, Vec<&OpRecord>> = BTreeMap::new();
    for op in history {
        by_client.entry(op.client).or_default().push(op);
    }
    let mut violations = Vec::new();
    for ops in by_client.values_mut() {
        ops.sort_by_key(|o| o.invoke);
        check_client(ops, timeline, &mut violations);
    }
    violations
}

fn check_client(ops: &[&OpRecord], timeline: &Timeline, violations: &mut Vec<String>) {
    let mut seen = 0u64;
    for op in ops {
        let Outcome::Ok(ack) = &op.outcome else { continue };
        match (ack, &op.op) {
            (Ack::Read { at, state }, Op::Read { key } | Op::SyncRead { key }) => {
                if *at < seen {
                    violations.push(format!(
                        "client {} op #{} read {key} at zxid {at}, older than zxid {seen} it had already seen",
                        op.client, op.id
                    ));
                }
                let want = state_at(timeline, key, *at);
                if *state != want {
                    violations.push(format!(
                        "client {} op #{} read {key} = {state:?} at zxid {at}, but the committed state there is {want:?}",
                        op.client, op.id
                    ));
                }
                seen = seen.max(*at);
            }
            (
                Ack::Session { zxid, .. }
                | Ack::Closed { zxid }
                | Ack::Write { zxid, .. }
                | Ack::Ephemeral { zxid, .. },
                _,
            ) => {
                seen = seen.max(*zxid);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{KWrite, WriteRes};

    fn rec(id: usize, op: Op, ack: Ack) -> OpRecord {
        OpRecord {
            id,
            client: 1,
            session: 7,
            node: 1,
            op,
            invoke: id as u64 * 2,
            complete: Some(id as u64 * 2 + 1),
            t_invoke_ms: 0,
            t_complete_ms: 0,
            outcome: Outcome::Ok(ack),
        }
    }

    fn timeline() -> Timeline {
        let mut line = BTreeMap::new();
        line.insert(5, Some(("a".to_string(), 0)));
        line.insert(9, Some(("b".to_string(), 1)));
        BTreeMap::from([("/k0".to_string(), line)])
    }

    fn write(id: usize, zxid: u64) -> OpRecord {
        let w = KWrite::Set { value: "b".into(), expected: -1 };
        rec(id, Op::Write { key: "/k0".into(), w }, Ack::Write { zxid, res: WriteRes::Ok { version: 1 } })
    }

    fn read(id: usize, at: u64, state: Option<(&str, i32)>) -> OpRecord {
        let state = state.map(|(v, n)| (v.to_string(), n));
        rec(id, Op::Read { key: "/k0".into() }, Ack::Read { at, state })
    }

    #[test]
    fn reads_after_own_write_pass() {
        let h = vec![read(0, 3, None), read(1, 6, Some(("a", 0))), write(2, 9), read(3, 9, Some(("b", 1)))];
        assert!(check(&h, &timeline()).is_empty());
    }

    #[test]
    fn read_missing_own_write_is_rejected() {
        let h = vec![write(0, 9), read(1, 6, Some(("a", 0)))];
        assert_eq!(check(&h, &timeline()).len(), 1);
    }

    #[test]
    fn read_going_back_in_time_is_rejected() {
        let h = vec![read(0, 9, Some(("b", 1))), read(1, 6, Some(("a", 0)))];
        assert_eq!(check(&h, &timeline()).len(), 1);
    }

    #[test]
    fn read_disagreeing_with_committed_state_is_rejected() {
        let h = vec![read(0, 7, Some(("b", 1)))];
        assert_eq!(check(&h, &timeline()).len(), 1);
    }
}
