//! Unit tests: one per rule of wire-protocol.md §8.3–§8.5 plus the bound and the admin views.

use super::*;
use crate::proto::EventType::{
    ChildWatchRemoved, DataWatchRemoved, NodeChildrenChanged, NodeCreated, NodeDataChanged, NodeDeleted,
    PersistentWatchRemoved,
};
use crate::proto::{Code, EventType, WatcherType};

/// The (conn, event, path) triples of a trigger, for compact assertions.
fn fire(reg: &mut WatchRegistry, path: &str, event: EventType) -> Vec<Notification> {
    reg.trigger(path, event)
}

fn one(conn: ConnId, event: EventType, path: &str) -> Vec<Notification> {
    vec![(conn, event, path.to_owned())]
}

fn add(reg: &mut WatchRegistry, conn: ConnId, path: &str, kind: WatchKind) {
    assert_eq!(reg.add(conn, path, kind), Ok(true), "{conn} {path} {kind:?}");
}

#[test]
fn data_watch_fires_once_on_data_change() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Data);
    assert_eq!(fire(&mut reg, "/a", NodeDataChanged), one(1, NodeDataChanged, "/a"));
    assert!(fire(&mut reg, "/a", NodeDataChanged).is_empty(), "one-shot");
    assert_eq!(reg.watch_count(), 0);
}

#[test]
fn data_watch_ignores_children_changed_and_other_paths() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Data);
    assert!(fire(&mut reg, "/a", NodeChildrenChanged).is_empty());
    assert!(fire(&mut reg, "/a/b", NodeDataChanged).is_empty(), "one-shots are not recursive");
    assert!(fire(&mut reg, "/ab", NodeDataChanged).is_empty());
    assert!(reg.check(1, "/a", WatcherType::Data), "still armed");
}

#[test]
fn exist_watch_fires_on_created_and_lives_in_data_table() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Exist);
    assert_eq!(reg.add(1, "/a", WatchKind::Data), Ok(false), "exist and data are one mode");
    assert!(reg.check(1, "/a", WatcherType::Data));
    assert_eq!(fire(&mut reg, "/a", NodeCreated), one(1, NodeCreated, "/a"));
    assert!(!reg.check(1, "/a", WatcherType::Data));
}

#[test]
fn child_watch_fires_on_children_changed_and_deleted_only() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Child);
    assert!(fire(&mut reg, "/a", NodeDataChanged).is_empty());
    assert!(fire(&mut reg, "/a", NodeCreated).is_empty());
    assert_eq!(fire(&mut reg, "/a", NodeChildrenChanged), one(1, NodeChildrenChanged, "/a"));
    assert!(fire(&mut reg, "/a", NodeChildrenChanged).is_empty(), "one-shot");

    add(&mut reg, 1, "/a", WatchKind::Child);
    assert_eq!(fire(&mut reg, "/a", NodeDeleted), one(1, NodeDeleted, "/a"));
    assert_eq!(reg.watch_count(), 0);
}

#[test]
fn delete_with_data_and_child_watches_notifies_once() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Data);
    add(&mut reg, 1, "/a", WatchKind::Child);
    add(&mut reg, 2, "/a", WatchKind::Child);
    assert_eq!(
        fire(&mut reg, "/a", NodeDeleted),
        vec![(1, NodeDeleted, "/a".to_owned()), (2, NodeDeleted, "/a".to_owned())]
    );
    assert_eq!(reg.watch_count(), 0, "both one-shots of conn 1 removed");
    assert_eq!(reg.connection_watch_count(1), 0);
}

#[test]
fn persistent_gets_every_event_on_its_path_and_stays() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Persistent);
    for event in [NodeCreated, NodeDataChanged, NodeChildrenChanged, NodeDeleted, NodeCreated] {
        assert_eq!(fire(&mut reg, "/a", event), one(1, event, "/a"), "{event:?}");
    }
    assert!(fire(&mut reg, "/a/b", NodeCreated).is_empty(), "not recursive");
    assert!(reg.check(1, "/a", WatcherType::Persistent));
}

#[test]
fn recursive_gets_descendants_but_never_children_changed() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::PersistentRecursive);
    for path in ["/a", "/a/b", "/a/b/c"] {
        for event in [NodeCreated, NodeDataChanged, NodeDeleted] {
            assert_eq!(fire(&mut reg, path, event), one(1, event, path), "{event:?} {path}");
        }
        assert!(fire(&mut reg, path, NodeChildrenChanged).is_empty(), "{path}");
    }
    assert!(fire(&mut reg, "/", NodeDataChanged).is_empty(), "not the parent");
    assert!(fire(&mut reg, "/ab", NodeCreated).is_empty(), "not a sibling sharing a prefix");
    assert!(reg.check(1, "/a", WatcherType::PersistentRecursive), "never removed on fire");
}

#[test]
fn recursive_on_root_sees_everything() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/", WatchKind::PersistentRecursive);
    assert_eq!(fire(&mut reg, "/x/y", NodeDeleted), one(1, NodeDeleted, "/x/y"));
    assert_eq!(fire(&mut reg, "/", NodeDataChanged), one(1, NodeDataChanged, "/"));
}

#[test]
fn persistent_on_root_gets_children_changed() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/", WatchKind::Persistent);
    assert_eq!(fire(&mut reg, "/", NodeChildrenChanged), one(1, NodeChildrenChanged, "/"));
    assert!(fire(&mut reg, "/a", NodeCreated).is_empty());
}

#[test]
fn modes_add_up_and_one_shot_leaves_persistent_in_place() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Persistent);
    add(&mut reg, 1, "/a", WatchKind::Data);
    add(&mut reg, 1, "/a", WatchKind::PersistentRecursive);
    assert_eq!(reg.connection_watch_count(1), 3);
    assert_eq!(fire(&mut reg, "/a", NodeDataChanged), one(1, NodeDataChanged, "/a"));
    assert!(!reg.check(1, "/a", WatcherType::Data), "one-shot consumed");
    assert!(reg.check(1, "/a", WatcherType::Persistent));
    assert!(reg.check(1, "/a", WatcherType::PersistentRecursive));
    assert_eq!(reg.connection_watch_count(1), 2);
    // A recursive registration does not replace the persistent one (3.6–3.8 did).
    assert_eq!(fire(&mut reg, "/a", NodeChildrenChanged), one(1, NodeChildrenChanged, "/a"));
}

#[test]
fn one_connection_matching_several_ways_is_notified_once() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 7, "/", WatchKind::PersistentRecursive);
    add(&mut reg, 7, "/a", WatchKind::PersistentRecursive);
    add(&mut reg, 7, "/a/b", WatchKind::Persistent);
    add(&mut reg, 7, "/a/b", WatchKind::Data);
    add(&mut reg, 7, "/a/b", WatchKind::Child);
    add(&mut reg, 3, "/a", WatchKind::PersistentRecursive);
    assert_eq!(
        fire(&mut reg, "/a/b", NodeDeleted),
        vec![(3, NodeDeleted, "/a/b".to_owned()), (7, NodeDeleted, "/a/b".to_owned())]
    );
}

#[test]
fn non_recursive_watches_on_ancestors_do_not_fire() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Persistent);
    add(&mut reg, 1, "/a", WatchKind::Data);
    add(&mut reg, 1, "/a", WatchKind::Child);
    add(&mut reg, 2, "/", WatchKind::PersistentRecursive);
    assert_eq!(fire(&mut reg, "/a/b", NodeCreated), one(2, NodeCreated, "/a/b"));
    assert!(reg.check(1, "/a", WatcherType::Data), "ancestor one-shots untouched");
}

#[test]
fn client_local_events_notify_nobody() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Data);
    add(&mut reg, 1, "/a", WatchKind::PersistentRecursive);
    for event in [EventType::None, DataWatchRemoved, ChildWatchRemoved, PersistentWatchRemoved] {
        assert!(fire(&mut reg, "/a", event).is_empty());
    }
    assert_eq!(reg.connection_watch_count(1), 2);
}

#[test]
fn check_matches_per_type() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/d", WatchKind::Data);
    add(&mut reg, 1, "/c", WatchKind::Child);
    add(&mut reg, 1, "/p", WatchKind::Persistent);
    add(&mut reg, 1, "/r", WatchKind::PersistentRecursive);
    let cases = [
        ("/d", [false, true, true, false, false]),
        ("/c", [true, false, true, false, false]),
        ("/p", [false, false, true, true, false]),
        ("/r", [false, false, true, false, true]),
        ("/none", [false; 5]),
    ];
    let types = [
        WatcherType::Children,
        WatcherType::Data,
        WatcherType::Any,
        WatcherType::Persistent,
        WatcherType::PersistentRecursive,
    ];
    for (path, expected) in cases {
        for (ty, want) in types.iter().zip(expected) {
            assert_eq!(reg.check(1, path, *ty), want, "{path} {ty:?}");
        }
    }
    assert!(!reg.check(2, "/d", WatcherType::Any), "other connection");
}

#[test]
fn remove_takes_only_the_matching_mode() {
    let mut reg = WatchRegistry::default();
    for kind in [WatchKind::Data, WatchKind::Child, WatchKind::Persistent, WatchKind::PersistentRecursive] {
        add(&mut reg, 1, "/a", kind);
    }
    assert!(reg.remove(1, "/a", WatcherType::Data));
    assert!(!reg.remove(1, "/a", WatcherType::Data), "nothing left to match");
    assert!(reg.check(1, "/a", WatcherType::Children));
    assert!(reg.remove(1, "/a", WatcherType::Children));
    assert!(reg.remove(1, "/a", WatcherType::Persistent));
    assert!(reg.check(1, "/a", WatcherType::PersistentRecursive));
    assert_eq!(fire(&mut reg, "/a/x", NodeCreated), one(1, NodeCreated, "/a/x"));
    assert!(reg.remove(1, "/a", WatcherType::PersistentRecursive));
    assert!(fire(&mut reg, "/a/x", NodeCreated).is_empty(), "recursive index updated");
    assert_eq!(reg.connection_watch_count(1), 0);
    assert_eq!(reg.watch_count(), 0);
}

#[test]
fn remove_any_takes_every_mode_in_both_tables() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Exist);
    add(&mut reg, 1, "/a", WatchKind::Child);
    add(&mut reg, 1, "/a", WatchKind::PersistentRecursive);
    add(&mut reg, 2, "/a", WatchKind::Data);
    assert!(reg.remove(1, "/a", WatcherType::Any));
    assert!(!reg.check(1, "/a", WatcherType::Any));
    assert!(!reg.remove(1, "/a", WatcherType::Any));
    assert!(reg.check(2, "/a", WatcherType::Data), "other connections untouched");
    assert_eq!(fire(&mut reg, "/a", NodeDeleted), one(2, NodeDeleted, "/a"));
}

#[test]
fn remove_connection_drops_everything_of_that_connection_only() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Data);
    add(&mut reg, 1, "/a", WatchKind::Persistent);
    add(&mut reg, 1, "/b", WatchKind::PersistentRecursive);
    add(&mut reg, 2, "/a", WatchKind::Data);
    assert_eq!(reg.remove_connection(1), 3);
    assert_eq!(reg.remove_connection(1), 0);
    assert_eq!(reg.connection_watch_count(1), 0);
    assert!(fire(&mut reg, "/b/c", NodeCreated).is_empty());
    assert_eq!(reg.watch_count(), 1);
    assert_eq!(fire(&mut reg, "/a", NodeDataChanged), one(2, NodeDataChanged, "/a"));
    assert_eq!(reg.summary(), WatchSummary { connections: 0, paths: 0, watches: 0 });
}

#[test]
fn registrations_beyond_the_bound_are_refused() {
    let mut reg = WatchRegistry::new(2);
    add(&mut reg, 1, "/a", WatchKind::Data);
    add(&mut reg, 1, "/a", WatchKind::Persistent);
    let err = reg.add(1, "/b", WatchKind::Data).unwrap_err();
    assert_eq!(err, WatchError::TooManyWatches { conn: 1, limit: 2 });
    assert_eq!(err.code(), Code::QuotaExceeded);
    assert!(err.to_string().contains("watches_per_connection_max"));
    assert_eq!(reg.add(1, "/a", WatchKind::Exist), Ok(false), "re-adding a held mode is not growth");
    assert_eq!(reg.add(1, "/a", WatchKind::Child).map_err(|e| e.code()), Err(Code::QuotaExceeded));
    add(&mut reg, 2, "/b", WatchKind::Data);
    fire(&mut reg, "/a", NodeDataChanged);
    add(&mut reg, 1, "/b", WatchKind::Data);
    assert_eq!(reg.connection_watch_count(1), 2);
}

#[test]
fn mntr_count_follows_zookeeper_tables() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Persistent);
    assert_eq!(reg.watch_count(), 2, "persistent sits in both tables");
    add(&mut reg, 1, "/a", WatchKind::Data);
    assert_eq!(reg.watch_count(), 2, "same (connection, path) in the same tables");
    add(&mut reg, 1, "/b", WatchKind::Child);
    add(&mut reg, 1, "/c", WatchKind::PersistentRecursive);
    assert_eq!(reg.watch_count(), 4);
    assert_eq!(reg.connection_watch_count(1), 4);
}

#[test]
fn wchs_counts_the_data_table() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/a", WatchKind::Data);
    add(&mut reg, 1, "/b", WatchKind::Persistent);
    add(&mut reg, 2, "/a", WatchKind::Exist);
    add(&mut reg, 3, "/c", WatchKind::Child);
    let summary = reg.summary();
    assert_eq!(summary, WatchSummary { connections: 2, paths: 2, watches: 3 });
    assert_eq!(summary.to_string(), "2 connections watching 2 paths\nTotal watches:3\n");
}

#[test]
fn wchc_and_wchp_list_sessions_in_hex() {
    let mut reg = WatchRegistry::default();
    add(&mut reg, 1, "/b", WatchKind::Data);
    add(&mut reg, 1, "/a", WatchKind::PersistentRecursive);
    add(&mut reg, 2, "/a", WatchKind::Data);
    add(&mut reg, 2, "/only-children", WatchKind::Child);
    add(&mut reg, 9, "/a", WatchKind::Data);
    let session_of = |conn: ConnId| match conn {
        1 => Some(0x1000_0abc_i64),
        2 => Some(-2),
        _ => None,
    };
    assert_eq!(reg.render_wchc(session_of), "0x10000abc\n\t/a\n\t/b\n0xfffffffffffffffe\n\t/a\n\n");
    assert_eq!(reg.render_wchp(session_of), "/a\n\t0x10000abc\n\t0xfffffffffffffffe\n/b\n\t0x10000abc\n\n");
    assert_eq!(reg.connections_by_path(), vec![("/a".to_owned(), vec![1, 2, 9]), ("/b".to_owned(), vec![1])]);
    assert_eq!(reg.paths_by_connection()[0], (1, vec!["/a".to_owned(), "/b".to_owned()]));
}

#[test]
fn add_watch_mode_maps_to_kind() {
    use crate::proto::AddWatchMode;
    assert_eq!(WatchKind::from(AddWatchMode::Persistent), WatchKind::Persistent);
    assert_eq!(WatchKind::from(AddWatchMode::PersistentRecursive), WatchKind::PersistentRecursive);
}
