//! corral — a coordination service in the ZooKeeper family.
//!
//! The crate holds the one implementation every binding exports. Its modules
//! read in the order a request meets them:
//!
//! - [`proto`]: the ZooKeeper client wire protocol (jute codec, records, codes).
//! - [`client`]: the async client (sessions across an ensemble, watches, states).
//! - [`server`]: one server node — listener, connections, sessions, request pipeline, admin.
//! - [`replication`]: consensus glue (openraft) — every write becomes a log entry.
//! - [`storage`]: durable files — write-ahead log segments and snapshots.
//! - [`txn`]: the replicated commands and how each one applies to the tree.
//! - [`tree`]: the data tree — znodes, Stat, paths, ACLs.
//! - [`watch`]: the watch registry and notification fan-out.
//! - [`recipes`]: locks, elections, barriers, queues, counters, caches, groups, discovery.
//! - [`embedded`]: the embedding and testing kit — [`EmbeddedServer`], `TestCluster`, faults.
//! - [`runtime`]: the process's one tokio runtime and the blocking bridge bindings use.

pub mod client;
pub mod embedded;
pub mod proto;
pub mod recipes;
pub mod replication;
pub mod runtime;
pub mod server;
pub mod storage;
pub mod tree;
pub mod txn;
pub mod watch;

pub use embedded::EmbeddedServer;
