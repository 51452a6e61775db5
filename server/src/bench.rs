//! `corral bench`: measures corral and Apache ZooKeeper side by side in one
//! run and reports ratios.
//!
//! Both servers are started as separate processes (corral is this binary with
//! `server --config`, ZooKeeper is `java … ZooKeeperServerMain`), each on a
//! fresh temporary data directory and a free port on 127.0.0.1, and measured
//! one after the other, never at the same time:
//!
//! 1. start-up: time from spawning the process to the first `ruok` answered
//!    with `imok` (polled every 2 ms), repeated `--runs` times;
//! 2. memory: VmRSS right after start-up, and after `--znodes` persistent
//!    znodes of `--value-bytes` bytes were created by a pipelined client
//!    (`--window` requests in flight on one connection), plus the peak RSS and
//!    the size of the data directory;
//! 3. throughput: the pipelined creates of (2), then sequential synchronous
//!    creates and getData calls (one request in flight) on the same server;
//! 4. ensemble (see [`ensemble`]): three-member ensembles on loopback, the time
//!    from SIGKILL of the leader to the first successful write of a client on
//!    a follower, and the time a follower whose data directory was wiped takes
//!    to catch up with a loaded ensemble.
//!
//! `--only` picks phases, `--no-ensemble` skips the last.
//!
//! Every spawned process is killed and every temporary directory deleted on
//! return, on error, on panic (guards with `Drop`) and on SIGINT/SIGTERM.
//! Submodules: [`process`] (servers, temporary directories, clean-up),
//! [`client`] (a blocking raw-protocol client), [`ensemble`] (the ensemble
//! phase), [`report`] (table and JSON).

mod client;
mod ensemble;
mod process;
mod report;

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};

use self::client::Client;
use self::process::{Kind, Launcher, Server};
use self::report::{Better, Metric, Report};

/// The Debian `zookeeper` package's server jar, its jute records, the slf4j
/// API and a simple slf4j binding (the jar's manifest names the rest).
const DEFAULT_ZOOKEEPER_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:\
/usr/share/java/zookeeper-jute.jar:/usr/share/java/slf4j-api.jar:/usr/share/java/slf4j-simple.jar";

/// How long a freshly started server is left alone before its idle RSS is read,
/// and a loaded one before its loaded RSS is read.
const SETTLE: Duration = Duration::from_millis(500);

/// `corral bench` options.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Java classpath for Apache ZooKeeper's ZooKeeperServerMain and an slf4j binding.
    #[arg(long, value_name = "CP", default_value = DEFAULT_ZOOKEEPER_CLASSPATH)]
    pub zookeeper_classpath: String,
    /// The java launcher used to run ZooKeeper.
    #[arg(long, value_name = "PATH", default_value = "java")]
    pub java: PathBuf,
    /// Measure corral alone (no java or ZooKeeper needed).
    #[arg(long)]
    pub no_zookeeper: bool,
    /// Persistent znodes created for the memory measurement.
    #[arg(long, value_name = "N", default_value_t = 100_000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub znodes: u32,
    /// Bytes of data in each znode.
    #[arg(long, value_name = "BYTES", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(0..=65_536))]
    pub value_bytes: u32,
    /// Start-up measurements per server.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub runs: u32,
    /// Requests in flight during the pipelined creates.
    #[arg(long, value_name = "N", default_value_t = 1000,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub window: u32,
    /// Sequential synchronous creates timed for the throughput row.
    #[arg(long, value_name = "N", default_value_t = 2000,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub sync_creates: u32,
    /// Sequential synchronous getData calls timed for the throughput row.
    #[arg(long, value_name = "N", default_value_t = 20_000,
          value_parser = clap::value_parser!(u32).range(1..=100_000_000))]
    pub gets: u32,
    /// Skip the ensemble phase (leader failover and follower catch-up).
    #[arg(long, conflicts_with = "only")]
    pub no_ensemble: bool,
    /// Run only these phases (repeat or separate with commas).
    #[arg(long, value_enum, value_name = "PHASE", value_delimiter = ',')]
    pub only: Vec<Phase>,
    /// Leader failover rounds per server in the ensemble phase.
    #[arg(long, value_name = "N", default_value_t = 5,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub failover_rounds: u32,
    /// Wiped-follower catch-up rounds per server in the ensemble phase
    /// (on an ensemble holding --znodes znodes of --value-bytes bytes).
    #[arg(long, value_name = "N", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub catch_up_rounds: u32,
    /// Seconds a server may take to start or to answer one request.
    #[arg(long, value_name = "SECS", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A part of the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Phase {
    /// Start-up time to the first `ruok`.
    Startup,
    /// Memory, disk and throughput of a loaded standalone server.
    Load,
    /// Leader failover and follower catch-up in three-member ensembles.
    Ensemble,
}

impl BenchArgs {
    /// Whether `phase` runs: listed by `--only` (or no `--only`), and for
    /// the ensemble phase no `--no-ensemble`.
    fn runs(&self, phase: Phase) -> bool {
        (self.only.is_empty() || self.only.contains(&phase)) && !(phase == Phase::Ensemble && self.no_ensemble)
    }
}

/// A benchmark failure: what was being done and why it failed.
#[derive(Debug)]
pub struct Error(String);

impl Error {
    /// An error with just a message.
    pub fn msg(message: impl Into<String>) -> Error {
        Error(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// The result type of the benchmark.
pub type Result<T> = std::result::Result<T, Error>;

/// Adds what was being done to an error.
pub trait Context<T> {
    /// Prefixes the error with `what()`: "`what`: `error`".
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
    /// Prefixes the error with a fixed text.
    fn context(self, what: &str) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error(format!("{}: {e}", what())))
    }

    fn context(self, what: &str) -> Result<T> {
        self.map_err(|e| Error(format!("{what}: {e}")))
    }
}

/// Runs the benchmark and prints the report; errors go to stderr.
pub fn run(args: &BenchArgs) -> ExitCode {
    process::install_signal_cleanup();
    let result = measure(args);
    process::cleanup_all();
    match result {
        Ok(report) => {
            if args.json {
                println!("{}", report.json());
            } else {
                print!("{}", report.table());
            }
            ExitCode::SUCCESS
        }
        Err(_) if process::interrupted() => {
            // The signal handler is cleaning up and exits with 130 itself;
            // the error is only the effect of the servers being killed.
            std::thread::sleep(Duration::from_secs(5));
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("corral bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// What one server's load phase measured.
struct LoadFigures {
    idle_rss: u64,
    loaded_rss: u64,
    peak_rss: u64,
    disk_allocated: u64,
    disk_apparent: u64,
    pipelined_ops: f64,
    sync_create_ops: f64,
    get_ops: f64,
}

/// All measurements; the report is built from what this returns.
fn measure(args: &BenchArgs) -> Result<Report> {
    let launcher = Launcher {
        corral_exe: std::env::current_exe().context("finding the corral executable")?,
        java: args.java.clone(),
        zookeeper_classpath: args.zookeeper_classpath.clone(),
    };
    let java_version = if args.no_zookeeper { None } else { Some(check_zookeeper(args)?) };
    let kinds: &[Kind] = if args.no_zookeeper { &[Kind::Corral] } else { &[Kind::Corral, Kind::ZooKeeper] };
    let timeout = Duration::from_secs(args.timeout);
    let load_at_start = load_average();
    let mut report = Report::default();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;

    if args.runs(Phase::Startup) {
        let mut startup: Vec<(Kind, Vec<Duration>)> = kinds.iter().map(|&k| (k, Vec::new())).collect();
        for run in 0..args.runs {
            // Alternate who goes first so neither always starts on a warmer cache.
            let order: Vec<usize> =
                if run % 2 == 0 { (0..kinds.len()).collect() } else { (0..kinds.len()).rev().collect() };
            for i in order {
                let kind = kinds[i];
                progress(&format!("start-up run {}/{} of {}", run + 1, args.runs, kind.name()));
                let server = Server::spawn(&launcher, kind)?;
                let took = server.wait_ready(timeout)?;
                server.stop();
                startup[i].1.push(took);
            }
        }
        let zk = |f: &dyn Fn(usize) -> f64| (kinds.len() > 1).then(|| f(1));
        let median = |i: usize| ms(median(&startup[i].1));
        let min = |i: usize| startup[i].1.iter().copied().min().map_or(0.0, ms);
        report.metrics.push(Metric::new(
            "start-up to first ruok, median",
            "ms",
            Better::Lower,
            1,
            median(0),
            zk(&median),
        ));
        report.metrics.push(Metric::new("start-up to first ruok, min", "ms", Better::Lower, 1, min(0), zk(&min)));
        for (kind, samples) in &startup {
            report.samples.push((format!("start-up ms, {}", kind.name()), samples.iter().map(|&d| ms(d)).collect()));
        }
    }

    if args.runs(Phase::Load) {
        let mut loads = Vec::new();
        for &kind in kinds {
            loads.push(load_phase(&launcher, kind, args, timeout)?);
        }
        load_rows(&mut report, args, &loads);
    }

    if args.runs(Phase::Ensemble) {
        let settings = ensemble::Settings {
            failover_rounds: args.failover_rounds,
            catch_up_rounds: args.catch_up_rounds,
            znodes: args.znodes,
            value_bytes: args.value_bytes,
            window: args.window,
            timeout,
        };
        let mut figures = Vec::new();
        for &kind in kinds {
            figures.push((kind, ensemble::measure(&launcher, kind, &settings)?));
        }
        ensemble_rows(&mut report, args, &figures);
    }

    let phases: Vec<&str> = [(Phase::Startup, "startup"), (Phase::Load, "load"), (Phase::Ensemble, "ensemble")]
        .iter()
        .filter(|(p, _)| args.runs(*p))
        .map(|(_, name)| *name)
        .collect();
    report.settings = vec![
        ("phases", phases.join(", ")),
        ("runs", args.runs.to_string()),
        ("znodes", args.znodes.to_string()),
        ("value_bytes", args.value_bytes.to_string()),
        ("window", args.window.to_string()),
        ("sync_creates", args.sync_creates.to_string()),
        ("gets", args.gets.to_string()),
        ("failover_rounds", args.failover_rounds.to_string()),
        ("catch_up_rounds", args.catch_up_rounds.to_string()),
        ("timeout_s", args.timeout.to_string()),
        ("zookeeper", if args.no_zookeeper { "off".into() } else { "on".into() }),
        ("zookeeper_classpath", args.zookeeper_classpath.clone()),
        ("zookeeper_jvm", format!("{} {}", process::ZOOKEEPER_HEAP_FLAG, process::ZOOKEEPER_LOG_FLAG)),
        (
            "server_config",
            format!(
                "tickTime={} on 127.0.0.1; ensembles: {} members, initLimit={} syncLimit={}, \
                 ZooKeeper members run QuorumPeerMain",
                process::TICK_TIME_MS,
                ensemble::MEMBERS,
                ensemble::INIT_LIMIT,
                ensemble::SYNC_LIMIT
            ),
        ),
        ("server_logging", "warn for both (RUST_LOG=warn, slf4j-simple warn)".into()),
    ];
    let temp = std::env::temp_dir();
    report.environment = vec![
        ("corral_version", env!("CARGO_PKG_VERSION").into()),
        ("corral_exe", launcher.corral_exe.display().to_string()),
        ("java", java_version.unwrap_or_else(|| "not used".into())),
        ("cpus", std::thread::available_parallelism().map_or("unknown".into(), |n| n.to_string())),
        ("load_average_at_start", load_at_start),
        ("load_average_at_end", load_average()),
        ("temp_dir", format!("{} ({})", temp.display(), filesystem_of(&temp))),
    ];
    Ok(report)
}

/// The load phase's rows: one per figure, corral first, ZooKeeper second if measured.
fn load_rows(report: &mut Report, args: &BenchArgs, loads: &[LoadFigures]) {
    type Pick = fn(&LoadFigures) -> f64;
    let rows: [(String, &str, Better, usize, Pick); 8] = [
        ("RSS idle after start-up".into(), "MiB", Better::Lower, 1, |l| mib(l.idle_rss)),
        (format!("RSS with {} znodes of {} B", args.znodes, args.value_bytes), "MiB", Better::Lower, 1, |l| {
            mib(l.loaded_rss)
        }),
        ("peak RSS (VmHWM)".into(), "MiB", Better::Lower, 1, |l| mib(l.peak_rss)),
        ("data dir on disk (allocated)".into(), "MiB", Better::Lower, 1, |l| mib(l.disk_allocated)),
        ("data dir apparent size".into(), "MiB", Better::Lower, 1, |l| mib(l.disk_apparent)),
        (format!("pipelined create ({} in flight)", args.window), "ops/s", Better::Higher, 0, |l| l.pipelined_ops),
        ("sequential create (1 in flight)".into(), "ops/s", Better::Higher, 0, |l| l.sync_create_ops),
        ("sequential getData (1 in flight)".into(), "ops/s", Better::Higher, 0, |l| l.get_ops),
    ];
    for (name, unit, better, decimals, pick) in rows {
        let zk_value = loads.get(1).map(pick);
        report.metrics.push(Metric::new(&name, unit, better, decimals, pick(&loads[0]), zk_value));
    }
}

/// The ensemble phase's rows, samples and notes; a failed part shows as
/// "failed" with its error in the notes.
fn ensemble_rows(report: &mut Report, args: &BenchArgs, figures: &[(Kind, ensemble::Figures)]) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    // Per server: the samples in ms, `None` if that part failed.
    type Samples = Vec<Option<Vec<f64>>>;
    let failover_ms: Samples =
        figures.iter().map(|(_, f)| f.failover.as_ref().ok().map(|s| s.iter().map(|s| ms(s.took)).collect())).collect();
    let catch_up_ms: Samples =
        figures.iter().map(|(_, f)| f.catch_up.as_ref().ok().map(|s| s.iter().map(|&d| ms(d)).collect())).collect();
    type Summary = fn(&[f64]) -> f64;
    let rows: [(String, &Samples, Summary); 3] = [
        ("leader failover: SIGKILL to first write, median".into(), &failover_ms, median_f64),
        ("leader failover: SIGKILL to first write, max".into(), &failover_ms, max_f64),
        (
            format!("catch-up of a wiped follower, {} znodes: restart to leader's zxid, median", args.znodes),
            &catch_up_ms,
            median_f64,
        ),
    ];
    for (name, samples, summary) in rows {
        let value = |i: usize| samples[i].as_deref().map_or(f64::NAN, summary);
        report.metrics.push(Metric::new(
            &name,
            "ms",
            Better::Lower,
            1,
            value(0),
            (figures.len() > 1).then(|| value(1)),
        ));
    }
    for (i, (kind, _)) in figures.iter().enumerate() {
        if let Some(s) = &failover_ms[i] {
            report.samples.push((format!("leader failover ms, {}", kind.name()), s.clone()));
        }
    }
    for (i, (kind, _)) in figures.iter().enumerate() {
        if let Some(s) = &catch_up_ms[i] {
            report.samples.push((format!("catch-up ms, {}", kind.name()), s.clone()));
        }
    }

    report.notes.push((
        "leader failover".into(),
        format!(
            "{members} members on 127.0.0.1; a client opens a session on a follower and creates \
             {bytes}-byte znodes one at a time for {warm} ms, then the leader gets SIGKILL between \
             two creates; the time runs from just before the signal until a create sent after it \
             succeeds. On any failure the client reconnects to a surviving member (alternating, \
             {pause} ms pause after a refused connection, {bound} ms bound on each connect and \
             request) and resumes its session; a new session only if the session is reported \
             expired. Each round restarts the killed member on its data and waits until the \
             ensemble has a leader and {followers} followers again.",
            members = ensemble::MEMBERS,
            bytes = args.value_bytes,
            warm = ensemble::FAILOVER_WARMUP.as_millis(),
            pause = ensemble::RETRY_PAUSE.as_millis(),
            bound = ensemble::REQUEST_TIMEOUT.as_millis(),
            followers = ensemble::MEMBERS - 1,
        ),
    ));
    report.notes.push((
        "catch-up".into(),
        format!(
            "a fresh ensemble loaded with {znodes} znodes of {bytes} B through a pipelined \
             client on the leader; per round a follower gets SIGKILL, its data directory is \
             emptied but for myid, and it is restarted; the time runs from spawning it until its \
             srvr shows Mode follower with the leader's Zxid and Node count (polled every {poll} \
             ms), so it includes process start-up (a JVM for ZooKeeper). Membership is fixed: \
             a new member would need reconfig.",
            znodes = args.znodes,
            bytes = args.value_bytes,
            poll = ensemble::POLL_INTERVAL.as_millis(),
        ),
    ));
    for (kind, f) in figures {
        match &f.failover {
            Ok(samples) => {
                let resumed = samples.iter().filter(|s| s.resumed).count();
                let failures: Vec<String> = samples.iter().map(|s| s.failures.to_string()).collect();
                report.notes.push((
                    format!("leader failover sessions, {}", kind.name()),
                    format!(
                        "the first write after the kill ran in the resumed session in {resumed} of {} \
                         rounds, otherwise in a new session; failed requests and connection attempts \
                         before it, per round: {}",
                        samples.len(),
                        failures.join(", ")
                    ),
                ));
            }
            Err(e) => report.notes.push((format!("leader failover failed, {}", kind.name()), e.to_string())),
        }
        if let Err(e) = &f.catch_up {
            report.notes.push((format!("catch-up failed, {}", kind.name()), e.to_string()));
        }
    }
}

/// Starts one server, loads it and measures memory, disk and throughput.
fn load_phase(launcher: &Launcher, kind: Kind, args: &BenchArgs, timeout: Duration) -> Result<LoadFigures> {
    progress(&format!("load phase of {}: starting", kind.name()));
    let server = Server::spawn(launcher, kind)?;
    server.wait_ready(timeout)?;
    std::thread::sleep(SETTLE);
    let idle = server.memory()?;

    let mut client =
        Client::connect(server.addr(), timeout).with_context(|| format!("opening a session with {}", kind.name()))?;
    client.create("/bench", b"")?;
    client.create("/bench-seq", b"")?;

    progress(&format!("load phase of {}: {} pipelined creates", kind.name(), args.znodes));
    let value_bytes = args.value_bytes as usize;
    let took = client.create_pipelined(args.znodes, args.window, &bulk_path, &|i| value(i, value_bytes))?;
    let pipelined_ops = rate(args.znodes, took);
    std::thread::sleep(SETTLE);
    let loaded = server.memory()?;
    let disk = server.disk_usage()?;

    progress(&format!("load phase of {}: {} sequential creates", kind.name(), args.sync_creates));
    let started = Instant::now();
    for i in 0..args.sync_creates {
        client.create(&format!("/bench-seq/s{i:07}"), &value(i, value_bytes))?;
    }
    let sync_create_ops = rate(args.sync_creates, started.elapsed());

    progress(&format!("load phase of {}: {} sequential getData", kind.name(), args.gets));
    let started = Instant::now();
    for i in 0..args.gets {
        let n = i % args.znodes;
        let data = client.get_data(&bulk_path(n))?;
        if data.len() != value_bytes {
            return Err(Error::msg(format!(
                "{}: getData {} returned {} bytes, expected {value_bytes}",
                kind.name(),
                bulk_path(n),
                data.len()
            )));
        }
    }
    let get_ops = rate(args.gets, started.elapsed());
    drop(client);
    server.stop();
    Ok(LoadFigures {
        idle_rss: idle.rss_bytes,
        loaded_rss: loaded.rss_bytes,
        peak_rss: loaded.peak_rss_bytes,
        disk_allocated: disk.allocated_bytes,
        disk_apparent: disk.apparent_bytes,
        pipelined_ops,
        sync_create_ops,
        get_ops,
    })
}

/// The path of bulk znode `i`.
fn bulk_path(i: u32) -> String {
    format!("/bench/n{i:07}")
}

/// `len` bytes of data, distinct per znode: the index in decimal, then filler.
fn value(i: u32, len: usize) -> Vec<u8> {
    let mut v = i.to_string().into_bytes();
    v.resize(len, b'x');
    v
}

/// Bytes in MiB.
fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Operations per second.
fn rate(ops: u32, took: Duration) -> f64 {
    f64::from(ops) / took.as_secs_f64().max(1e-9)
}

/// The median of a sample (the lower middle for an even count; NaN if empty).
fn median_f64(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len().saturating_sub(1) / 2).copied().unwrap_or(f64::NAN)
}

/// The largest value of a sample (NaN if empty).
fn max_f64(samples: &[f64]) -> f64 {
    samples.iter().copied().reduce(f64::max).unwrap_or(f64::NAN)
}

/// The median of a non-empty sample (the lower middle for an even count).
fn median(samples: &[Duration]) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted.get(sorted.len().saturating_sub(1) / 2).copied().unwrap_or_default()
}

/// A progress line on stderr (stdout carries only the report).
fn progress(what: &str) {
    eprintln!("corral bench: {what}");
}

/// Checks that java runs and the ZooKeeper classpath exists; returns java's version line.
fn check_zookeeper(args: &BenchArgs) -> Result<String> {
    let hint = "install Apache ZooKeeper (Debian: apt-get install zookeeper), \
                pass --java / --zookeeper-classpath, or run with --no-zookeeper";
    let output = Command::new(&args.java).arg("-version").output().map_err(|e| {
        Error::msg(format!(
            "java not found: cannot run `{} -version` ({e}); install a Java runtime \
             (Debian: apt-get install default-jre-headless), pass --java, or run with --no-zookeeper",
            args.java.display()
        ))
    })?;
    if !output.status.success() {
        return Err(Error::msg(format!(
            "`{} -version` failed ({}); pass a working --java or run with --no-zookeeper",
            args.java.display(),
            output.status
        )));
    }
    for entry in args.zookeeper_classpath.split(':').filter(|e| !e.is_empty()) {
        if !entry.ends_with('*') && !Path::new(entry).exists() {
            return Err(Error::msg(format!("ZooKeeper classpath entry {entry} does not exist; {hint}")));
        }
    }
    let text = String::from_utf8_lossy(&output.stderr);
    Ok(text.lines().next().unwrap_or("unknown").trim().to_owned())
}

/// `/proc/loadavg`'s three averages, or "unknown".
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

/// The file system type of the mount holding `path` (from `/proc/mounts`).
fn filesystem_of(path: &Path) -> String {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let Ok(mounts) = std::fs::read_to_string("/proc/mounts") else {
        return "unknown".into();
    };
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_dev, point, fs) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(point).then(|| (point.len(), fs.to_owned()))
        })
        .max_by_key(|(len, _)| *len)
        .map_or_else(|| "unknown".into(), |(_, fs)| fs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_have_the_requested_length_and_differ() {
        assert_eq!(value(42, 100).len(), 100);
        assert_ne!(value(1, 100), value(2, 100));
        assert_eq!(value(12345, 3), b"123");
        assert!(value(7, 0).is_empty());
    }

    #[test]
    fn median_takes_the_middle() {
        let d = |ms| Duration::from_millis(ms);
        assert_eq!(median(&[d(5), d(1), d(3)]), d(3));
        assert_eq!(median(&[d(4), d(1), d(3), d(2)]), d(2));
        assert_eq!(median(&[]), Duration::ZERO);
    }

    #[test]
    fn float_summaries() {
        assert_eq!(median_f64(&[5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median_f64(&[4.0, 1.0, 3.0, 2.0]), 2.0);
        assert!(median_f64(&[]).is_nan());
        assert_eq!(max_f64(&[1.0, 7.5, 3.0]), 7.5);
        assert!(max_f64(&[]).is_nan());
    }

    #[test]
    fn phases_follow_only_and_no_ensemble() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            bench: BenchArgs,
        }
        let parse =
            |argv: &[&str]| Cli::try_parse_from(std::iter::once("bench").chain(argv.iter().copied())).map(|c| c.bench);
        let all = parse(&[]).expect("no flags");
        assert!(all.runs(Phase::Startup) && all.runs(Phase::Load) && all.runs(Phase::Ensemble));
        let skip = parse(&["--no-ensemble"]).expect("--no-ensemble");
        assert!(skip.runs(Phase::Load) && !skip.runs(Phase::Ensemble));
        let only = parse(&["--only", "ensemble"]).expect("--only ensemble");
        assert!(!only.runs(Phase::Startup) && !only.runs(Phase::Load) && only.runs(Phase::Ensemble));
        let two = parse(&["--only", "startup,load"]).expect("--only startup,load");
        assert!(two.runs(Phase::Startup) && two.runs(Phase::Load) && !two.runs(Phase::Ensemble));
        assert!(parse(&["--only", "ensemble", "--no-ensemble"]).is_err());
        assert!(parse(&["--only", "bogus"]).is_err());
    }
}
