//! Session bookkeeping local to this node: expiry deadlines (ZooKeeper's
//! tick buckets) and which connection currently carries each session.
//!
//! The session table itself (id, password, timeout) is replicated state in
//! `txn::State`; deadlines are not: a node that starts (or a new leader)
//! restarts every session's clock, as ZooKeeper does.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use parking_lot::Mutex;

use tokio::time::Instant;

use crate::watch::ConnId;

struct Entry {
    deadline: Instant,
    timeout: Duration,
    conn: Option<ConnId>,
}

/// Deadlines and owners of live sessions.
pub struct SessionTracker {
    tick: Duration,
    entries: Mutex<BTreeMap<i64, Entry>>,
    /// Sessions touched since the last [`SessionTracker::drain_touched`]
    /// (what a follower reports to the leader).
    touched: Mutex<BTreeSet<i64>>,
    /// Whether the last [`SessionTracker::round`] ran on the leader.
    leading: Mutex<bool>,
}

/// What one round of session expiry decided (see [`SessionTracker::round`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    /// Local sessions of this member that went silent: end them here.
    pub expire_local: Vec<i64>,
    /// Not the leader: sessions heard from since the last round, for the leader.
    pub touches_for_leader: Vec<i64>,
    /// This member has just become the leader (every clock was restarted).
    pub started_leading: bool,
    /// On the leader: global sessions that went silent, to close through the log.
    pub expire: Vec<i64>,
}

impl SessionTracker {
    /// A tracker that rounds deadlines up to multiples of `tick`.
    pub fn new(tick: Duration) -> SessionTracker {
        SessionTracker {
            tick,
            entries: Mutex::new(BTreeMap::new()),
            touched: Mutex::new(BTreeSet::new()),
            leading: Mutex::new(false),
        }
    }

    fn deadline(&self, now: Instant, timeout: Duration) -> Instant {
        // Round up to the next tick boundary so that expiry runs in batches
        // (between `timeout` and `timeout + tick` after the last packet).
        let tick_ms = self.tick.as_millis().max(1);
        let ms = timeout.as_millis();
        let rounded = ms.div_ceil(tick_ms) * tick_ms;
        now + Duration::from_millis(rounded as u64)
    }

    /// Starts tracking a session (new, resumed, or known from the log at start).
    pub fn add(&self, session_id: i64, timeout_ms: i32) {
        let timeout = Duration::from_millis(timeout_ms.max(0) as u64);
        let deadline = self.deadline(Instant::now(), timeout);
        self.entries.lock().entry(session_id).or_insert(Entry { deadline, timeout, conn: None });
    }

    /// Moves the deadline of a session after a packet from its client; false if unknown.
    pub fn touch(&self, session_id: i64) -> bool {
        self.touched.lock().insert(session_id);
        let now = Instant::now();
        let mut entries = self.entries.lock();
        match entries.get_mut(&session_id) {
            Some(e) => {
                let timeout = e.timeout;
                e.deadline = self.deadline(now, timeout);
                true
            }
            None => false,
        }
    }

    /// Sets the session's timeout (renegotiated on resume) and touches it.
    pub fn set_timeout(&self, session_id: i64, timeout_ms: i32) {
        if let Some(e) = self.entries.lock().get_mut(&session_id) {
            e.timeout = Duration::from_millis(timeout_ms.max(0) as u64);
        }
        self.touch(session_id);
    }

    /// Attaches a connection, returning the connection it replaces.
    pub fn attach(&self, session_id: i64, conn: ConnId) -> Option<ConnId> {
        self.entries.lock().get_mut(&session_id).and_then(|e| e.conn.replace(conn))
    }

    /// The connection currently carrying the session.
    pub fn owner(&self, session_id: i64) -> Option<ConnId> {
        self.entries.lock().get(&session_id).and_then(|e| e.conn)
    }

    /// Detaches `conn` if it still carries the session.
    pub fn detach(&self, session_id: i64, conn: ConnId) {
        if let Some(e) = self.entries.lock().get_mut(&session_id) {
            if e.conn == Some(conn) {
                e.conn = None;
            }
        }
    }

    /// Stops tracking a session; returns its connection, if any.
    pub fn remove(&self, session_id: i64) -> Option<ConnId> {
        self.entries.lock().remove(&session_id).and_then(|e| e.conn)
    }

    /// The sessions touched since the last call, plus every session a local
    /// connection carries.
    pub fn drain_touched(&self) -> Vec<i64> {
        let mut touched = std::mem::take(&mut *self.touched.lock());
        touched.extend(self.entries.lock().iter().filter(|(_, e)| e.conn.is_some()).map(|(id, _)| *id));
        touched.into_iter().collect()
    }

    /// Gives every session a full timeout from now (a new leader's start).
    pub fn restart_all(&self) {
        self.restart_all_at(Instant::now());
    }

    fn restart_all_at(&self, now: Instant) {
        let mut entries = self.entries.lock();
        for e in entries.values_mut() {
            let timeout = e.timeout;
            e.deadline = self.deadline(now, timeout);
        }
    }

    /// Tracks exactly the sessions of the replicated table plus this
    /// member's local sessions: new ones start a fresh clock, ones the log
    /// closed are dropped.
    pub fn reconcile(&self, table: &imbl::OrdMap<i64, crate::txn::SessionInfo>, local: &dyn Fn(i64) -> bool) {
        self.reconcile_at(Instant::now(), table, local);
    }

    fn reconcile_at(
        &self,
        now: Instant,
        table: &imbl::OrdMap<i64, crate::txn::SessionInfo>,
        local: &dyn Fn(i64) -> bool,
    ) {
        let mut entries = self.entries.lock();
        entries.retain(|id, _| table.contains_key(id) || local(*id));
        for (id, info) in table.iter() {
            if !entries.contains_key(id) {
                let timeout = Duration::from_millis(info.timeout_ms.max(0) as u64);
                let deadline = self.deadline(now, timeout);
                entries.insert(*id, Entry { deadline, timeout, conn: None });
            }
        }
    }

    /// Sessions whose deadline has passed.
    pub fn expired(&self, now: Instant) -> Vec<i64> {
        self.entries.lock().iter().filter(|(_, e)| e.deadline <= now).map(|(id, _)| *id).collect()
    }

    /// One round of expiry at `now`, decided without I/O; the caller acts on
    /// it. Every member expires its own local sessions. A member that does
    /// not lead (`leads`: leader with a quorum) reports the sessions its
    /// clients touched to the leader, which owns expiry. The leader restarts
    /// every clock when it starts leading (as ZooKeeper's new leader does),
    /// tracks exactly the replicated session `table` plus local sessions,
    /// and names the sessions whose deadline has passed.
    pub fn round(
        &self,
        now: Instant,
        leads: bool,
        table: &imbl::OrdMap<i64, crate::txn::SessionInfo>,
        local: &dyn Fn(i64) -> bool,
    ) -> Round {
        let mut round =
            Round { expire_local: self.expired(now).into_iter().filter(|id| local(*id)).collect(), ..Round::default() };
        for id in &round.expire_local {
            self.remove(*id);
        }
        let mut leading = self.leading.lock();
        if !leads {
            *leading = false;
            round.touches_for_leader = self.drain_touched().into_iter().filter(|id| !local(*id)).collect();
            return round;
        }
        self.drain_touched();
        if !*leading {
            *leading = true;
            round.started_leading = true;
            self.restart_all_at(now);
        }
        drop(leading);
        self.reconcile_at(now, table, local);
        round.expire = self.expired(now).into_iter().filter(|id| !local(*id)).collect();
        round
    }

    /// Sessions grouped by the deadline they expire at, for `dump`.
    pub fn by_deadline(&self) -> Vec<(Instant, Vec<i64>)> {
        let mut map: std::collections::BTreeMap<Instant, Vec<i64>> = Default::default();
        for (id, e) in self.entries.lock().iter() {
            map.entry(e.deadline).or_default().push(*id);
        }
        map.into_iter().collect()
    }

    /// Number of tracked sessions.
    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    /// Whether no session is tracked.
    pub fn is_empty(&self) -> bool {
        self.entries.lock().is_empty()
    }
}

/// A batch of session touches as a member sends it to the leader: each id
/// as 8 bytes, big-endian.
pub fn encode_touches(ids: &[i64]) -> Vec<u8> {
    ids.iter().flat_map(|id| id.to_be_bytes()).collect()
}

/// The ids of a batch of touches; `None` if the payload is not one.
pub fn decode_touches(payload: &[u8]) -> Option<Vec<i64>> {
    if !payload.len().is_multiple_of(8) {
        return None;
    }
    Some(payload.chunks_exact(8).map(|c| i64::from_be_bytes(c.try_into().expect("8 bytes"))).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_round_up_to_ticks_and_move_on_touch() {
        let t = SessionTracker::new(Duration::from_millis(100));
        t.add(7, 250);
        assert!(t.expired(Instant::now()).is_empty());
        assert_eq!(t.expired(Instant::now() + Duration::from_millis(301)), vec![7]);
        assert!(t.touch(7));
        assert!(!t.touch(8));
        assert_eq!(t.attach(7, 1), None);
        assert_eq!(t.attach(7, 2), Some(1));
        t.detach(7, 1);
        assert_eq!(t.owner(7), Some(2));
        assert_eq!(t.remove(7), Some(2));
        assert_eq!(t.len(), 0);
    }

    fn table(ids: &[(i64, i32)]) -> imbl::OrdMap<i64, crate::txn::SessionInfo> {
        ids.iter()
            .map(|(id, timeout_ms)| (*id, crate::txn::SessionInfo { passwd: [0; 16], timeout_ms: *timeout_ms }))
            .collect()
    }

    #[test]
    fn a_round_reports_touches_off_the_leader_and_expires_on_it() {
        let t = SessionTracker::new(Duration::from_millis(100));
        let now = Instant::now();
        let local = |id: i64| id == 9;
        t.add(7, 250);
        t.add(9, 250);
        t.touch(7);
        t.touch(9);
        let follower = t.round(now, false, &table(&[(7, 250)]), &local);
        assert_eq!(follower.touches_for_leader, vec![7], "local sessions stay on this member");
        assert!(follower.expire.is_empty() && !follower.started_leading);
        let first = t.round(now, true, &table(&[(7, 250), (8, 250)]), &local);
        assert!(first.started_leading, "the first round as leader restarts the clocks");
        assert!(first.expire.is_empty() && first.touches_for_leader.is_empty());
        assert_eq!(t.len(), 3, "the leader tracks the replicated table (7, 8) and local sessions (9)");
        let later = t.round(now + Duration::from_millis(301), true, &table(&[(7, 250), (8, 250)]), &local);
        assert!(!later.started_leading);
        assert_eq!(later.expire, vec![7, 8]);
        assert_eq!(later.expire_local, vec![9]);
        assert_eq!(t.len(), 2, "an expired local session is forgotten at once");
        let again = t.round(now, false, &table(&[]), &local);
        assert!(again.expire.is_empty());
        assert!(
            t.round(now, true, &table(&[]), &local).started_leading,
            "leading again after losing it restarts the clocks"
        );
    }
}
