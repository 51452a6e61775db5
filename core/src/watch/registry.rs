//! The registry proper: two indexes (by path, by connection) kept in step by
//! one mutation point, [`WatchRegistry::store`].

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::proto::{EventType, WatcherType};

use super::{ConnId, Notification, WatchError, WatchKind, WATCHES_PER_CONNECTION_MAX_DEFAULT};

/// The modes one connection holds on one path, as a bit set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Modes(u8);

impl Modes {
    pub(super) const NONE: Modes = Modes(0);
    /// One-shot in the data table (getData, exists).
    pub(super) const DATA: Modes = Modes(1);
    /// One-shot in the child table (getChildren).
    pub(super) const CHILD: Modes = Modes(2);
    /// PERSISTENT: in both tables, survives firing.
    pub(super) const PERSISTENT: Modes = Modes(4);
    /// PERSISTENT_RECURSIVE: data table only, survives firing.
    pub(super) const RECURSIVE: Modes = Modes(8);
    const ALL: Modes = Modes(15);

    fn of(kind: WatchKind) -> Modes {
        match kind {
            WatchKind::Data | WatchKind::Exist => Modes::DATA,
            WatchKind::Child => Modes::CHILD,
            WatchKind::Persistent => Modes::PERSISTENT,
            WatchKind::PersistentRecursive => Modes::RECURSIVE,
        }
    }

    /// The modes a checkWatches / removeWatches type matches (3.9 rules).
    fn matched_by(watcher_type: WatcherType) -> Modes {
        match watcher_type {
            WatcherType::Children => Modes::CHILD,
            WatcherType::Data => Modes::DATA,
            WatcherType::Any => Modes::ALL,
            WatcherType::Persistent => Modes::PERSISTENT,
            WatcherType::PersistentRecursive => Modes::RECURSIVE,
        }
    }

    fn union(self, other: Modes) -> Modes {
        Modes(self.0 | other.0)
    }

    fn intersection(self, other: Modes) -> Modes {
        Modes(self.0 & other.0)
    }

    fn without(self, other: Modes) -> Modes {
        Modes(self.0 & !other.0)
    }

    pub(super) fn intersects(self, other: Modes) -> bool {
        self.0 & other.0 != 0
    }

    fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// How many registrations the set stands for (what the per-connection bound counts).
    fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// Whether ZooKeeper would list this (connection, path) in its data table.
    pub(super) fn in_data_table(self) -> bool {
        self.intersects(Modes::DATA.union(Modes::PERSISTENT).union(Modes::RECURSIVE))
    }

    /// Whether ZooKeeper would list this (connection, path) in its child table.
    fn in_child_table(self) -> bool {
        self.intersects(Modes::CHILD.union(Modes::PERSISTENT))
    }
}

/// Which watches one event type reaches (wire-protocol.md §8.4, §8.5).
struct Rule {
    /// One-shot modes on the path itself that fire and are removed.
    one_shot: Modes,
    /// Lasting modes on the path itself that fire and stay.
    lasting: Modes,
    /// Whether recursive watches on ancestors fire too.
    ancestors: bool,
}

impl Rule {
    fn for_event(event: EventType) -> Option<Rule> {
        let lasting_all = Modes::PERSISTENT.union(Modes::RECURSIVE);
        match event {
            EventType::NodeCreated | EventType::NodeDataChanged => {
                Some(Rule { one_shot: Modes::DATA, lasting: lasting_all, ancestors: true })
            }
            EventType::NodeDeleted => {
                Some(Rule { one_shot: Modes::DATA.union(Modes::CHILD), lasting: lasting_all, ancestors: true })
            }
            EventType::NodeChildrenChanged => {
                Some(Rule { one_shot: Modes::CHILD, lasting: Modes::PERSISTENT, ancestors: false })
            }
            EventType::None
            | EventType::DataWatchRemoved
            | EventType::ChildWatchRemoved
            | EventType::PersistentWatchRemoved => None,
        }
    }
}

/// Everyone watching one path.
#[derive(Debug, Default)]
pub(super) struct PathEntry {
    /// Modes per connection; never holds an empty set.
    pub(super) conns: HashMap<ConnId, Modes>,
    /// How many of `conns` hold RECURSIVE, so the ancestor walk skips the rest.
    recursive: u32,
}

/// Everything one connection watches.
#[derive(Debug, Default)]
pub(super) struct ConnEntry {
    /// Paths with a non-empty mode set, sharing the key of `by_path`.
    pub(super) paths: HashSet<Arc<str>>,
    /// Registrations held, one per (path, mode): what the bound limits.
    watches: u32,
}

/// Running totals so that `mntr` and the ancestor walk cost nothing.
#[derive(Debug, Default)]
struct Totals {
    /// (connection, path) pairs ZooKeeper would keep in its data table.
    data_table: usize,
    /// (connection, path) pairs ZooKeeper would keep in its child table.
    child_table: usize,
    /// (connection, path) pairs holding RECURSIVE; 0 skips every ancestor walk.
    recursive: usize,
}

impl Totals {
    fn add(&mut self, modes: Modes) {
        self.data_table += usize::from(modes.in_data_table());
        self.child_table += usize::from(modes.in_child_table());
        self.recursive += usize::from(modes.intersects(Modes::RECURSIVE));
    }

    fn sub(&mut self, modes: Modes) {
        self.data_table -= usize::from(modes.in_data_table());
        self.child_table -= usize::from(modes.in_child_table());
        self.recursive -= usize::from(modes.intersects(Modes::RECURSIVE));
    }
}

/// Who watches what. Called from the state machine's apply path, so every
/// operation is a few hash lookups; only the admin listings scan.
#[derive(Debug)]
pub struct WatchRegistry {
    /// path → watchers: what `trigger` reads.
    pub(super) by_path: HashMap<Arc<str>, PathEntry>,
    /// connection → paths: for `remove_connection`, the bound, `wchc`.
    pub(super) by_conn: HashMap<ConnId, ConnEntry>,
    totals: Totals,
    /// Registrations one connection may hold; beyond it `add` is refused.
    watches_per_connection_max: u32,
}

impl Default for WatchRegistry {
    fn default() -> WatchRegistry {
        WatchRegistry::new(WATCHES_PER_CONNECTION_MAX_DEFAULT)
    }
}

impl WatchRegistry {
    /// An empty registry that lets each connection hold at most
    /// `watches_per_connection_max` registrations (one per path and mode).
    pub fn new(watches_per_connection_max: u32) -> WatchRegistry {
        WatchRegistry {
            by_path: HashMap::new(),
            by_conn: HashMap::new(),
            totals: Totals::default(),
            watches_per_connection_max,
        }
    }

    /// The per-connection bound this registry enforces.
    pub fn watches_per_connection_max(&self) -> u32 {
        self.watches_per_connection_max
    }

    /// Registers a watch of `kind` by `conn` on `path`.
    ///
    /// Modes add up (ZooKeeper 3.9): a persistent watch and a one-shot watch
    /// on the same path are kept side by side. Returns `Ok(false)` when the
    /// connection already held that mode there (never refused), `Ok(true)`
    /// when it was added. Refused with [`WatchError::TooManyWatches`] when the
    /// connection already holds `watches_per_connection_max` registrations;
    /// the caller answers the request with [`WatchError::code`].
    pub fn add(&mut self, conn: ConnId, path: &str, kind: WatchKind) -> Result<bool, WatchError> {
        let mode = Modes::of(kind);
        let old = self.modes(conn, path);
        if old.intersects(mode) {
            return Ok(false);
        }
        if self.connection_watch_count(conn) >= self.watches_per_connection_max {
            return Err(WatchError::TooManyWatches { conn, limit: self.watches_per_connection_max });
        }
        self.store(conn, path, old, old.union(mode));
        Ok(true)
    }

    /// Who is notified of `event` on `path`; fired one-shot watches are removed.
    ///
    /// NodeCreated and NodeDataChanged reach data/exist one-shots and
    /// persistent watches on `path`; NodeDeleted also child one-shots;
    /// NodeChildrenChanged reaches only child one-shots and persistent
    /// watches. All but NodeChildrenChanged also reach persistent-recursive
    /// watches on `path` and on each of its ancestors. Each connection appears
    /// at most once, in ascending [`ConnId`] order. Client-local event types
    /// notify nobody.
    pub fn trigger(&mut self, path: &str, event: EventType) -> Vec<Notification> {
        let Some(rule) = Rule::for_event(event) else {
            return Vec::new();
        };
        let mut hits: Vec<ConnId> = Vec::new();
        let mut fired: Vec<(ConnId, Modes)> = Vec::new();
        if let Some(entry) = self.by_path.get(path) {
            for (&conn, &modes) in &entry.conns {
                let one_shot = modes.intersection(rule.one_shot);
                if !one_shot.is_empty() || modes.intersects(rule.lasting) {
                    hits.push(conn);
                }
                if !one_shot.is_empty() {
                    fired.push((conn, modes));
                }
            }
        }
        for (conn, modes) in fired {
            self.store(conn, path, modes, modes.without(rule.one_shot));
        }
        if rule.ancestors && self.totals.recursive > 0 {
            for ancestor in ancestors(path) {
                let Some(entry) = self.by_path.get(ancestor) else {
                    continue;
                };
                if entry.recursive == 0 {
                    continue;
                }
                hits.extend(
                    entry.conns.iter().filter(|(_, modes)| modes.intersects(Modes::RECURSIVE)).map(|(&conn, _)| conn),
                );
            }
        }
        hits.sort_unstable();
        hits.dedup();
        hits.into_iter().map(|conn| (conn, event, path.to_owned())).collect()
    }

    /// Whether `conn` holds a watch on `path` that `watcher_type` matches
    /// (3.9: Children = one-shot child, Data = one-shot data/exist, Any =
    /// every mode, Persistent, PersistentRecursive).
    pub fn check(&self, conn: ConnId, path: &str, watcher_type: WatcherType) -> bool {
        self.modes(conn, path).intersects(Modes::matched_by(watcher_type))
    }

    /// Removes the watches of `conn` on `path` that `watcher_type` matches
    /// (same matching as [`WatchRegistry::check`]); false when none matched.
    pub fn remove(&mut self, conn: ConnId, path: &str, watcher_type: WatcherType) -> bool {
        let old = self.modes(conn, path);
        let matched = Modes::matched_by(watcher_type);
        if !old.intersects(matched) {
            return false;
        }
        self.store(conn, path, old, old.without(matched));
        true
    }

    /// Drops every watch of a closed connection; returns how many registrations it held.
    pub fn remove_connection(&mut self, conn: ConnId) -> u32 {
        let Some(entry) = self.by_conn.get(&conn) else {
            return 0;
        };
        let held = entry.watches;
        let paths: Vec<Arc<str>> = entry.paths.iter().cloned().collect();
        for path in paths {
            let old = self.modes(conn, &path);
            self.store(conn, &path, old, Modes::NONE);
        }
        debug_assert!(!self.by_conn.contains_key(&conn));
        held
    }

    /// Registrations `conn` holds, one per (path, mode): the quantity
    /// `watches_per_connection_max` bounds.
    pub fn connection_watch_count(&self, conn: ConnId) -> u32 {
        self.by_conn.get(&conn).map_or(0, |entry| entry.watches)
    }

    /// Total watches as ZooKeeper's `mntr` reports `zk_watch_count`: entries of
    /// its data table plus entries of its child table (a persistent watch
    /// sits in both and counts twice).
    pub fn watch_count(&self) -> usize {
        self.totals.data_table + self.totals.child_table
    }

    /// (connection, path) pairs in ZooKeeper's data table: what `wchs` counts.
    pub(super) fn data_table_count(&self) -> usize {
        self.totals.data_table
    }

    /// The modes `conn` holds on `path`.
    pub(super) fn modes(&self, conn: ConnId, path: &str) -> Modes {
        self.by_path.get(path).and_then(|entry| entry.conns.get(&conn)).copied().unwrap_or(Modes::NONE)
    }

    /// Replaces the modes `conn` holds on `path` (`old`, as read by
    /// [`WatchRegistry::modes`]) with `new`, keeping both indexes and the
    /// totals in step. Every change goes through here.
    fn store(&mut self, conn: ConnId, path: &str, old: Modes, new: Modes) {
        if old == new {
            return;
        }
        self.totals.sub(old);
        self.totals.add(new);

        let key: Arc<str> = match self.by_path.get_key_value(path) {
            Some((key, _)) => Arc::clone(key),
            None => Arc::from(path),
        };
        let entry = self.by_path.entry(Arc::clone(&key)).or_default();
        if new.is_empty() {
            entry.conns.remove(&conn);
        } else {
            entry.conns.insert(conn, new);
        }
        match (old.intersects(Modes::RECURSIVE), new.intersects(Modes::RECURSIVE)) {
            (false, true) => entry.recursive += 1,
            (true, false) => entry.recursive -= 1,
            _ => {}
        }
        if entry.conns.is_empty() {
            self.by_path.remove(path);
        }

        let conn_entry = self.by_conn.entry(conn).or_default();
        conn_entry.watches = conn_entry.watches - old.len() + new.len();
        if old.is_empty() {
            conn_entry.paths.insert(key);
        } else if new.is_empty() {
            conn_entry.paths.remove(path);
        }
        if conn_entry.paths.is_empty() {
            debug_assert_eq!(conn_entry.watches, 0);
            self.by_conn.remove(&conn);
        }
    }
}

/// The proper ancestors of an absolute path, nearest first: `/a/b` → `/a`, `/`.
fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors(parent(path), |p| parent(p))
}

fn parent(path: &str) -> Option<&str> {
    if path == "/" {
        return None;
    }
    match path.rfind('/') {
        Some(0) => Some("/"),
        Some(i) => Some(&path[..i]),
        None => None,
    }
}

#[cfg(test)]
mod path_tests {
    use super::ancestors;

    #[test]
    fn ancestors_nearest_first() {
        assert_eq!(ancestors("/a/b/c").collect::<Vec<_>>(), ["/a/b", "/a", "/"]);
        assert_eq!(ancestors("/a").collect::<Vec<_>>(), ["/"]);
        assert_eq!(ancestors("/").count(), 0);
    }
}
