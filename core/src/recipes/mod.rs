//! The recipes the world builds on ZooKeeper — the union of what Apache
//! Curator and kazoo offer — written once, on the public client API only.
//! Each recipe's documentation says whose node naming it follows, so corral
//! processes can share paths with Curator or kazoo processes.
//!
//! May use: `client` (public API), `proto` data types. Nothing else.

pub mod util;
pub mod election;
