//! The shared runtime and the blocking bridge, as a binding uses them.

use std::time::Duration;

use corral::runtime::{block_on, block_on_with, get, BlockError, WORKER_THREADS_MAX};
use tokio::runtime::Runtime;

#[test]
fn one_runtime_with_bounded_workers() {
    let a: *const Runtime = get();
    let b: *const Runtime = get();
    assert_eq!(a, b);
    assert!(get().metrics().num_workers() <= WORKER_THREADS_MAX);
}

#[test]
fn cancel_hook_ends_the_wait_with_its_error() {
    let mut calls = 0;
    let out = block_on_with(std::future::pending::<()>(), None, || {
        calls += 1;
        if calls == 2 {
            Err("interrupted")
        } else {
            Ok(())
        }
    });
    assert!(matches!(out, Err(BlockError::Cancelled("interrupted"))));
    assert_eq!(calls, 2);
}

#[test]
fn refuses_to_block_inside_a_runtime() {
    let inner = get().block_on(async { block_on(async { 1 }).map_err(|e| e.to_string()) });
    assert!(matches!(inner, Err(ref m) if m.contains("inside a tokio runtime")), "{inner:?}");
}

#[test]
fn abandoned_future_is_dropped_inside_the_runtime() {
    struct SpawnsOnDrop(std::sync::mpsc::Sender<()>);
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            let tx = self.0.clone();
            tokio::spawn(async move {
                let _ = tx.send(());
            });
        }
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let guard = SpawnsOnDrop(tx);
    let out = block_on_with(
        async move {
            let _guard = guard;
            std::future::pending::<()>().await
        },
        Some(Duration::from_millis(20)),
        || Ok::<(), ()>(()),
    );
    assert!(matches!(out, Err(BlockError::TimedOut(_))));
    assert!(rx.recv_timeout(Duration::from_secs(5)).is_ok(), "the cleanup task never ran");
}
