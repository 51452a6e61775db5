//! The C ABI of corral (`libcorral`, `corral.h`): the client with a
//! blocking call for every operation, an embedded server, result codes
//! equal to the ZooKeeper C client's. It translates; every decision is in
//! the `corral` crate.
//!
//! Conventions (rustls-ffi's): opaque handles made by `_new`/`_start`/
//! `_connect` and freed once by `_free` (NULL is a no-op); every fallible
//! function returns a [`result::corral_result`]; the handle first, inputs
//! next, outputs last, outputs written only on success; a length beside
//! every buffer; every pointer checked for NULL; no panic crosses the
//! boundary.
//!
//! May use: `corral`'s public API only.

pub mod acl;
pub mod caches;
pub mod client;
pub mod completion;
pub mod coordination;
pub mod counters;
mod dispatch;
pub mod election;
mod ffi;
pub mod identity;
pub mod kit;
pub mod multi_read;
pub mod options;
pub mod partitioner;
pub mod persistent_node;
pub mod queues;
pub mod recipes;
pub mod result;
pub mod server;
pub mod strings;
pub mod txn;
pub mod watches;
