//! Deterministic simulation of a corral ensemble.
//!
//! Real: openraft 0.9.25 with corral's Raft configuration, and corral's
//! replicated state machine (`corral::txn::State`). Simulated: time (tokio's
//! paused clock), the network ([`net`]), storage ([`storage`]) and the
//! clients ([`client`]). Modelled after corral's server: the node logic
//! around the log ([`node`]: sessions, forwarding, sync).
//!
//! Everything random derives from one seed, so a seed replays bit for bit.

pub mod check;
pub mod client;
pub mod external;
pub mod faults;
pub mod history;
pub mod net;
pub mod node;
pub mod runtime;
pub mod sim;
pub mod storage;
pub mod types;
pub mod world;

pub use sim::{run_seed, SeedReport};
pub use world::{Bug, SimConfig};

/// Runs seeds `from..from+count` on `threads` threads; reports in seed order.
pub fn run_batch(
    from: u64,
    count: u64,
    threads: usize,
    make: impl Fn(u64) -> SimConfig + Sync,
    on_done: impl Fn(&SeedReport) + Sync,
) -> Vec<SeedReport> {
    let next = std::sync::atomic::AtomicU64::new(from);
    let out = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let seed = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if seed >= from + count {
                    return;
                }
                let report = run_seed(make(seed));
                on_done(&report);
                world::lock(&out).push(report);
            });
        }
    });
    let mut reports = out.into_inner().unwrap_or_else(|e| e.into_inner());
    reports.sort_by_key(|r| r.seed);
    reports
}
