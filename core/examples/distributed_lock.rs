//! A distributed lock from the command line, for demos and interop tests.
//!
//! ```text
//! cargo run --example distributed_lock -- <connect-string> <lock-path> \
//!     [--kazoo] [--hold-ms N] [--rounds N] [--id NAME] [--log-node PATH]
//! cargo run --example distributed_lock    # embedded server, two contending clients
//! ```
//!
//! Prints one line per event, `<event> <fencing-token> at <unix-ms> by <id>`:
//!
//! ```text
//! acquired 12884901890 at 1718000000123 by rust-4242
//! released 12884901890 at 1718000000323 by rust-4242
//! ```
//!
//! `--kazoo` names the lock nodes like kazoo's `Lock` (so kazoo processes
//! contend on the same path), with the id as node data. `--log-node` appends
//! `<id> begin <round>` and `<id> end <round>` lines to that node while
//! holding, each with a versioned write: a write racing another holder fails
//! (BadVersion) and the program exits with status 2.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use corral::client::{Client, Error};
use corral::proto::Code;
use corral::recipes::lock::{Lock, Naming};
use corral::EmbeddedServer;

/// What to do, from the command line.
#[derive(Clone, Debug)]
struct Args {
    /// `None`: start an embedded server and run two contenders.
    connect: Option<String>,
    lock_path: String,
    naming: Naming,
    hold: Duration,
    rounds: u32,
    id: String,
    log_node: Option<String>,
}

const USAGE: &str = "usage: distributed_lock [<connect-string> <lock-path>] [--kazoo] [--hold-ms N] [--rounds N] \
                     [--id NAME] [--log-node PATH]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        connect: None,
        lock_path: "/demo/lock".to_string(),
        naming: Naming::Curator,
        hold: Duration::from_millis(200),
        rounds: 3,
        id: format!("rust-{}", std::process::id()),
        log_node: None,
    };
    let mut positional = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--kazoo" => args.naming = Naming::Kazoo,
            "--hold-ms" => {
                args.hold = Duration::from_millis(value("--hold-ms")?.parse().map_err(|e| format!("--hold-ms: {e}"))?)
            }
            "--rounds" => args.rounds = value("--rounds")?.parse().map_err(|e| format!("--rounds: {e}"))?,
            "--id" => args.id = value("--id")?,
            "--log-node" => args.log_node = Some(value("--log-node")?),
            "-h" | "--help" => return Err(USAGE.to_string()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => positional.push(a),
        }
    }
    match positional.len() {
        0 => {}
        2 => {
            args.lock_path = positional.pop().unwrap_or_default();
            args.connect = positional.pop();
        }
        _ => return Err(USAGE.to_string()),
    }
    Ok(args)
}

fn unix_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

/// Why a contender stopped.
#[derive(Debug)]
enum Failure {
    /// A client operation failed.
    Client(Error),
    /// The demo could not start.
    Setup(String),
    /// The log node changed while this contender held the lock.
    Overlap(String),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Client(e)
    }
}

/// Appends `line` to the log node, expecting it unchanged since `version`;
/// returns the new version.
async fn append(client: &Client, node: &str, version: i32, line: &str) -> Result<i32, Failure> {
    let (mut data, _) = client.get_data(node).await?;
    data.extend_from_slice(line.as_bytes());
    match client.set_data(node, &data, Some(version)).await {
        Ok(stat) => Ok(stat.version),
        Err(e) if e.code == Code::BadVersion => Err(Failure::Overlap(format!("{node} changed while holding the lock"))),
        Err(e) => Err(e.into()),
    }
}

/// Takes and gives back the lock `args.rounds` times.
async fn contend(client: Client, args: Args) -> Result<(), Failure> {
    if let Some(node) = &args.log_node {
        client.ensure_path(node).await?;
    }
    let mut lock = Lock::with_naming(&client, &args.lock_path, args.naming).with_data(args.id.as_bytes());
    for round in 0..args.rounds {
        lock.acquire().await?;
        let token = lock.fencing_token().unwrap_or(-1);
        println!("acquired {token} at {} by {}", unix_ms(), args.id);
        if let Some(node) = &args.log_node {
            let (_, stat) = client.get_data(node).await?;
            let v = append(&client, node, stat.version, &format!("{} begin {round}\n", args.id)).await?;
            tokio::time::sleep(args.hold).await;
            append(&client, node, v, &format!("{} end {round}\n", args.id)).await?;
        } else {
            tokio::time::sleep(args.hold).await;
        }
        if !lock.is_held() {
            eprintln!("{}: lost the lock during round {round}", args.id);
        }
        println!("released {token} at {} by {}", unix_ms(), args.id);
        lock.release().await?;
    }
    client.close().await;
    Ok(())
}

async fn run(args: Args) -> Result<(), Failure> {
    let Some(connect) = args.connect.clone() else {
        // Demo: an embedded server and two clients taking turns.
        let server = EmbeddedServer::start().await.map_err(|e| Failure::Setup(format!("embedded server: {e}")))?;
        eprintln!("embedded server at {}", server.hosts());
        let mut tasks = Vec::new();
        for id in ["a", "b"] {
            let client = Client::connect(&server.hosts()).await?;
            tasks.push(tokio::spawn(contend(client, Args { id: id.to_string(), ..args.clone() })));
        }
        for t in tasks {
            t.await.map_err(|e| Failure::Setup(format!("contender task: {e}")))??;
        }
        return Ok(());
    };
    let client = Client::connect(&connect).await?;
    contend(client, args).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(64);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Client(e)) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Setup(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
        Err(Failure::Overlap(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}
