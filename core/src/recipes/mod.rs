//! The recipes the world builds on ZooKeeper — the union of what Apache
//! Curator and kazoo offer — written once, on the public client API only.
//! Each recipe's documentation says whose node naming it follows, so corral
//! processes can share paths with Curator or kazoo processes.
//!
//! May use: `client` (public API), `proto` data types. Nothing else.

pub mod atomic_long;
pub mod barrier;
mod cache_core;
pub mod children_cache;
pub mod counter;
pub mod discovery;
pub mod double_barrier;
pub mod election;
pub mod id_generator;
pub mod leader_latch;
pub mod lease;
pub mod lock;
mod lock_internals;
pub mod locking_queue;
pub mod node_cache;
pub mod partitioner;
pub mod party;
pub mod persistent_node;
pub mod queue;
pub mod rwlock;
pub mod semaphore;
pub mod tree_cache;
pub mod util;
pub mod watchers;
