//! The native addon of the `corral` npm package: corral's client, its
//! recipes, its embedding kit and fault relay, translated for Node by napi-rs.
//!
//! Every Promise runs on corral's one shared runtime ([`runtime`]); nothing
//! here blocks the event loop. The package's `index.js` loads this addon and
//! only shapes it (error classes, the state EventEmitter, watch iterators):
//! coordination logic stays in core.
//!
//! May use: `corral`'s public API.

// napi-derive registers free functions only outside cfg(test), so in the test
// harness `clippy --all-targets` builds, the ones only JS calls look unused.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod convert;
mod embedded;
mod error;
mod events;
mod faults;
mod promise;
mod recipes;
mod runtime;
mod teardown;
