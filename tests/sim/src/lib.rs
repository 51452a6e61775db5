//! Deterministic simulation of a corral ensemble.
//!
//! corral's own code: the replica (openraft, log and state machine stores,
//! peer transport, forwarding, read index, retention), the server's state
//! machine (`corral::server::sm::ServerSm`) and its session expiry decisions
//! (`corral::server::session::SessionTracker::round`). Simulated, through
//! the replica's seams: the disk ([`disk`]), the peer network ([`wire`]),
//! time (tokio's paused clock) and the clients ([`client`]).
//!
//! Everything random derives from one seed, so a seed replays bit for bit.

pub mod check;
pub mod client;
pub mod disk;
pub mod external;
pub mod faults;
pub mod history;
pub mod node;
pub mod sim;
pub mod types;
pub mod wire;
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
