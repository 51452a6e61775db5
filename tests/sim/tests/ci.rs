//! The simulation's test entry points.
//!
//! - `ci_batch`: a batch of seeds (default 500 from 0, mixed 3/5 nodes);
//!   `CORRAL_SIM_SEEDS=N` and `CORRAL_SIM_FROM=S` change it.
//! - `one_seed` (ignored unless asked for): runs seed `CORRAL_SIM_SEED` verbosely.
//! - `same_seed_same_trace`: determinism.
//! - `injected_fault_is_caught`: the checkers catch a deliberately broken disk.

use corral_sim::{run_batch, run_seed, Bug, SeedReport, SimConfig};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn threads() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn describe_failure(r: &SeedReport) -> String {
    let mut s = format!("seed {} ({} nodes) failed:\n", r.seed, r.nodes);
    for v in &r.violations {
        s.push_str(&format!("  {v}\n"));
    }
    s.push_str(&format!("  reproduce: {}\n", r.reproduce()));
    s
}

#[test]
fn ci_batch() {
    let from = env_u64("CORRAL_SIM_FROM", 0);
    let count = env_u64("CORRAL_SIM_SEEDS", 500);
    let started = std::time::Instant::now();
    let reports = run_batch(from, count, threads(), |seed| SimConfig::from_seed(seed, None), |_| {});
    let failed: Vec<&SeedReport> = reports.iter().filter(|r| !r.passed()).collect();
    let ops: usize = reports.iter().map(|r| r.ops_checked).sum();
    let faults: u64 = reports.iter().map(|r| r.faults).sum();
    let crashes: u64 = reports.iter().map(|r| r.crashes).sum();
    let disk_errors: u64 = reports.iter().map(|r| r.disk_errors).sum();
    let reconfigs: u64 = reports.iter().map(|r| r.reconfigs).sum();
    let installs: u64 = reports.iter().map(|r| r.snapshot_installs).sum();
    println!(
        "corral-sim CI batch: seeds {from}..{}: {} passed, {} failed, {ops} ops checked, {faults} faults \
         ({crashes} crashes, {disk_errors} disk errors, {reconfigs} reconfigs), {installs} snapshot installs, {:.1} s",
        from + count,
        reports.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    let report: String = failed.iter().map(|r| describe_failure(r)).collect();
    assert!(failed.is_empty(), "{report}");
}

#[test]
#[ignore = "reproduces one seed: CORRAL_SIM_SEED=S cargo test -p corral-sim --test ci one_seed -- --ignored"]
fn one_seed() {
    let var = std::env::var("CORRAL_SIM_SEED");
    let Some(seed) = var.as_deref().ok().and_then(|v| v.parse().ok()) else {
        panic!("one_seed needs CORRAL_SIM_SEED=<seed> (got {var:?})");
    };
    let nodes = std::env::var("CORRAL_SIM_NODES").ok().and_then(|v| v.parse().ok());
    let mut cfg = SimConfig::from_seed(seed, nodes);
    cfg.verbose = true;
    let r = run_seed(cfg);
    println!("trace hash {:016x} ({} events), {} ops checked", r.trace_hash, r.trace_len, r.ops_checked);
    assert!(r.passed(), "{}", describe_failure(&r));
}

#[test]
fn same_seed_same_trace() {
    for seed in [7, 12] {
        let a = run_seed(SimConfig::from_seed(seed, None));
        let b = run_seed(SimConfig::from_seed(seed, None));
        assert!(a.trace_len > 100, "seed {seed}: trace too short to mean anything");
        assert_eq!((a.trace_hash, a.trace_len), (b.trace_hash, b.trace_len), "seed {seed} is not deterministic");
        assert_eq!(a.violations, b.violations);
        assert_eq!(a.ops_checked, b.ops_checked);
        // A different seed gives a different run.
        let c = run_seed(SimConfig::from_seed(seed + 1000, None));
        assert_ne!(a.trace_hash, c.trace_hash);
    }
}

#[test]
fn injected_fault_is_caught() {
    let seeds = env_u64("CORRAL_SIM_BUG_SEEDS", 100);
    let reports = run_batch(
        0,
        seeds,
        threads(),
        |seed| {
            let mut cfg = SimConfig::from_seed(seed, None);
            cfg.bug = Some(Bug::LyingFsync);
            cfg
        },
        |_| {},
    );
    let caught: Vec<&SeedReport> = reports.iter().filter(|r| !r.passed()).collect();
    println!("lying fsync caught in {} of {seeds} seeds", caught.len());
    if let Some(r) = caught.first() {
        println!("first: {}", describe_failure(r));
    }
    assert!(!caught.is_empty(), "a disk that loses acknowledged log writes on crash went unnoticed in {seeds} seeds");
}
