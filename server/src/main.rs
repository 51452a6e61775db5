//! The `corral` binary: `corral server` runs one server node from a `zoo.cfg`
//! (flags override the file), `corral version` prints the version, and
//! `corral bench` (Linux) measures corral against Apache ZooKeeper.
//!
//! Thin by design: configuration lives in `corral::server::config`, the
//! server in `corral::server`. This file parses arguments, sets up logging,
//! the runtime and the shutdown signals, and maps errors to exit codes
//! (2 = bad configuration, 1 = the server failed).

#[cfg(target_os = "linux")]
mod bench;

use std::future::Future;
use std::io::IsTerminal as _;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use corral::server::config::{Config, ConfigError};
use tracing_subscriber::EnvFilter;

/// Exit code for a configuration that cannot be used (clap uses 2 for bad flags too).
const EXIT_CONFIG: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "corral", version, about = "A coordination service in the ZooKeeper family")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a server node.
    Server(ServerArgs),
    /// Print the version and exit.
    Version,
    /// Measure corral and Apache ZooKeeper side by side: start-up, memory, throughput,
    /// ensemble failover and catch-up.
    #[cfg(target_os = "linux")]
    Bench(bench::BenchArgs),
}

/// `corral server` flags; each overrides the matching `zoo.cfg` key.
#[derive(Debug, Args)]
struct ServerArgs {
    /// zoo.cfg to read (defaults apply without one).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Client port (clientPort); 0 picks a free one.
    #[arg(long, value_name = "N")]
    port: Option<u16>,
    /// Address to listen on (clientPortAddress).
    #[arg(long, value_name = "ADDR")]
    bind: Option<IpAddr>,
    /// Snapshot directory (dataDir).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Write-ahead log directory (dataLogDir); defaults to the data directory.
    #[arg(long, value_name = "DIR")]
    data_log_dir: Option<PathBuf>,
    /// Base time unit in ms (tickTime).
    #[arg(long, value_name = "MS")]
    tick_time: Option<u32>,
    /// Connections per client address, 0 = unlimited (maxClientCnxns).
    #[arg(long, value_name = "N")]
    max_client_cnxns: Option<u32>,
    /// Smallest session timeout granted (minSessionTimeout).
    #[arg(long, value_name = "MS")]
    min_session_timeout: Option<u32>,
    /// Largest session timeout granted (maxSessionTimeout).
    #[arg(long, value_name = "MS")]
    max_session_timeout: Option<u32>,
    /// Comma-separated four-letter words to answer, `*` = all (4lw.commands.whitelist).
    #[arg(long = "4lw-whitelist", value_name = "LIST")]
    four_letter_whitelist: Option<String>,
    /// Largest frame accepted, in bytes (jute.maxbuffer).
    #[arg(long, value_name = "N")]
    jute_maxbuffer: Option<u32>,
    /// Super user digest (DigestAuthenticationProvider.superDigest).
    #[arg(long, value_name = "USER:HASH")]
    super_digest: Option<String>,
    /// Log entries between snapshots (snapCount).
    #[arg(long, value_name = "N")]
    snap_count: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!("corral {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Server(args) => {
            init_logging();
            server(&args)
        }
        #[cfg(target_os = "linux")]
        Command::Bench(args) => bench::run(&args),
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,openraft=warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn server(args: &ServerArgs) -> ExitCode {
    let config = match load_config(args) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("corral: invalid configuration: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("corral: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let shutdown = shutdown_signal()?;
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            addr = %config.client_address(),
            "starting; SIGTERM or SIGINT stops the server"
        );
        run_server(config, shutdown).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("corral: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The file (or the defaults), then the flags, then validation.
fn load_config(args: &ServerArgs) -> Result<Config, ConfigError> {
    let mut config = match &args.config {
        Some(path) => Config::from_file(path)?,
        None => Config::default(),
    };
    if let Some(port) = args.port {
        config.client_port = port;
    }
    if let Some(addr) = args.bind {
        config.client_port_address = addr;
    }
    if let Some(dir) = &args.data_dir {
        config.data_dir = dir.clone();
    }
    if let Some(dir) = &args.data_log_dir {
        config.set_data_log_dir(dir.clone());
    }
    if let Some(ms) = args.tick_time {
        config.tick_time_ms = ms;
    }
    if let Some(n) = args.max_client_cnxns {
        config.connections_per_address_max = n;
    }
    if let Some(ms) = args.min_session_timeout {
        config.set_min_session_timeout_ms(ms);
    }
    if let Some(ms) = args.max_session_timeout {
        config.set_max_session_timeout_ms(ms);
    }
    if let Some(list) = &args.four_letter_whitelist {
        config.set("4lw.commands.whitelist", list)?;
    }
    if let Some(n) = args.jute_maxbuffer {
        config.jute_maxbuffer_bytes = n;
    }
    if let Some(digest) = &args.super_digest {
        config.set("DigestAuthenticationProvider.superDigest", digest)?;
    }
    if let Some(n) = args.snap_count {
        config.snap_count = n;
    }
    config.validate()?;
    Ok(config)
}

/// Completes on the first SIGTERM or SIGINT. The handlers are installed
/// here, before the server starts, so an early signal is not lost.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!("{name} received, shutting down");
    })
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            tracing::info!("Ctrl-C received, shutting down");
        }
    })
}

/// Runs the server until `shutdown` completes.
async fn run_server(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    corral::server::run(config, shutdown).await.map_err(Into::into)
}
