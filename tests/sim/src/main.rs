//! `corral-sim`: runs many seeds of the deterministic ensemble simulation.
//!
//! ```text
//! cargo run --release -p corral-sim -- --seeds 5000 --from 0 [--nodes 3|5] [--threads N]
//! cargo run --release -p corral-sim -- --seed 42 [--nodes 3|5] [--verbose]
//! corral-sim check-history history.jsonl     # a history recorded by real clients
//! ```

use std::process::ExitCode;
use std::time::Instant;

use corral_sim::{run_batch, Bug, SimConfig};

/// Command-line options.
struct Args {
    from: u64,
    seeds: u64,
    nodes: Option<usize>,
    threads: usize,
    verbose: bool,
    bug: Option<Bug>,
}

fn parse(argv: Vec<String>) -> Result<Args, String> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mut a = Args { from: 0, seeds: 1000, nodes: None, threads, verbose: false, bug: None };
    let mut it = argv.into_iter();
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--from" => a.from = num(&value("--from")?)?,
            "--seeds" => a.seeds = num(&value("--seeds")?)?,
            "--seed" => {
                a.from = num(&value("--seed")?)?;
                a.seeds = 1;
            }
            "--nodes" => {
                let n = num(&value("--nodes")?)? as usize;
                if n != 3 && n != 5 {
                    return Err("--nodes must be 3 or 5".into());
                }
                a.nodes = Some(n);
            }
            "--threads" => a.threads = num(&value("--threads")?)?.max(1) as usize,
            "--verbose" => a.verbose = true,
            "--bug-lying-fsync" => a.bug = Some(Bug::LyingFsync),
            "-h" | "--help" => {
                return Err("usage: corral-sim [--seeds N] [--from S] [--seed S] [--nodes 3|5] [--threads T] \
                            [--verbose] [--bug-lying-fsync]\n       corral-sim check-history FILE"
                    .into())
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(a)
}

fn num(s: &str) -> Result<u64, String> {
    s.parse().map_err(|_| format!("not a number: {s:?}"))
}

/// openraft's own logs, when `RUST_LOG` asks for them (e.g. `RUST_LOG=openraft=debug`).
fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .without_time()
            .try_init();
    }
}

/// `check-history FILE`: the linearizability checker over a history that real
/// clients recorded against real processes (format: [`corral_sim::external`]).
/// Exit 0 when every key is linearizable, 1 when one is not (or its search ran
/// out of budget), 2 on bad input.
fn check_history(path: &str) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("corral-sim check-history: cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let r = match corral_sim::external::check(&text) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("corral-sim check-history: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let [ok, fail, unknown] = r.outcomes;
    println!(
        "corral-sim check-history: {} ops ({ok} ok, {fail} failed, {unknown} unknown), {} checked over {} keys: \
         {} violations, {} keys inconclusive",
        r.lines,
        r.ops_checked,
        r.keys,
        r.violations.len(),
        r.inconclusive
    );
    for v in &r.violations {
        println!("  {v}");
    }
    if r.violations.is_empty() && r.inconclusive == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    init_logs();
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("check-history") {
        return match argv.get(1..) {
            Some([path]) => check_history(path),
            _ => {
                eprintln!("usage: corral-sim check-history FILE");
                ExitCode::from(2)
            }
        };
    }
    let args = match parse(argv) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let make = |seed| {
        let mut cfg = SimConfig::from_seed(seed, args.nodes);
        cfg.verbose = args.verbose;
        cfg.bug = args.bug;
        cfg
    };
    let reports = run_batch(args.from, args.seeds, args.threads, make, |r| {
        if !r.passed() {
            println!("seed {} FAILED ({} nodes):", r.seed, r.nodes);
            for v in &r.violations {
                println!("  {v}");
            }
            println!("  reproduce: {}", r.reproduce());
        }
    });
    let failed: Vec<u64> = reports.iter().filter(|r| !r.passed()).map(|r| r.seed).collect();
    let ops: usize = reports.iter().map(|r| r.ops_checked).sum();
    let sim_ms: u64 = reports.iter().map(|r| r.sim_ms).sum();
    let faults: u64 = reports.iter().map(|r| r.faults).sum();
    let crashes: u64 = reports.iter().map(|r| r.crashes).sum();
    let disk_errors: u64 = reports.iter().map(|r| r.disk_errors).sum();
    let reconfigs: u64 = reports.iter().map(|r| r.reconfigs).sum();
    let installs: u64 = reports.iter().map(|r| r.snapshot_installs).sum();
    let inconclusive: usize = reports.iter().map(|r| r.inconclusive).sum();
    let shared: usize = reports.iter().map(|r| r.shared_terms).sum();
    println!(
        "corral-sim: seeds {}..{}: {} passed, {} failed; {ops} ops checked, {inconclusive} keys inconclusive; \
         {:.1} h simulated; {faults} faults ({crashes} crashes, {disk_errors} disk errors, {reconfigs} reconfigs), {installs} snapshot installs, {shared} terms with two leaders; {:.1} s wall",
        args.from,
        args.from + args.seeds,
        reports.len() - failed.len(),
        failed.len(),
        sim_ms as f64 / 3_600_000.0,
        started.elapsed().as_secs_f64()
    );
    if args.seeds == 1 {
        if let Some(r) = reports.first() {
            println!("trace hash {:016x} ({} events)", r.trace_hash, r.trace_len);
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!("failing seeds: {failed:?}");
        ExitCode::FAILURE
    }
}
