//! The ensemble phase: a three-member ensemble of one server kind on
//! loopback, started from ZooKeeper's configuration format (`server.N`
//! lines, `myid` in the data directory), and two measurements on it.
//!
//! 1. Leader failover, `rounds` times on one ensemble: a client opens a
//!    session on a follower and creates znodes one after another for
//!    [`FAILOVER_WARMUP`]; between two creates (none in flight) the leader is
//!    sent SIGKILL. The clock starts just before the signal and stops when a
//!    create sent after it succeeds. On any failure the client reconnects,
//!    alternating between the two surviving members, and resumes its session
//!    (a new session only if a server reports it expired); every connect and
//!    request is bounded by [`REQUEST_TIMEOUT`]. The killed member is then
//!    restarted on its data and the next round waits until it is a follower.
//! 2. Catch-up, `rounds` times on a second ensemble loaded with znodes by a
//!    pipelined client on the leader: a follower is sent SIGKILL, its data
//!    directory emptied but for `myid`, and it is restarted; the time runs
//!    from spawning it to its `srvr` showing `Mode: follower` with the
//!    leader's `Zxid` and `Node count` (polled every [`POLL_INTERVAL`]).
//!    Process start-up (a JVM for ZooKeeper) is part of it.
//!
//! Only one ensemble runs at a time.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::client::{code_name, Client, Session};
use super::process::{self, Kind, Launcher, Proc, Role, TempDir};
use super::{bulk_path, progress, value, Context, Error, Result};

/// Members of each ensemble.
pub const MEMBERS: usize = 3;
/// `initLimit` (ticks), ZooKeeper's sample configuration's value.
pub const INIT_LIMIT: u32 = 10;
/// `syncLimit` (ticks), ZooKeeper's sample configuration's value.
pub const SYNC_LIMIT: u32 = 5;
/// How long creates run on the follower before the leader is killed.
pub const FAILOVER_WARMUP: Duration = Duration::from_secs(1);
/// Bound on each connect, handshake and request while the leader is gone.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Pause after a failed connect or handshake before the next one.
pub const RETRY_PAUSE: Duration = Duration::from_millis(5);
/// Pause between `srvr` probes.
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);
/// The longest a wiped follower may take to catch up before the round fails
/// (or `--timeout`, if longer).
const CATCH_UP_LIMIT: Duration = Duration::from_secs(120);
/// ZooKeeper's result code for an expired session.
const SESSION_EXPIRED: i32 = -112;

/// What to measure.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Failover rounds.
    pub failover_rounds: u32,
    /// Catch-up rounds.
    pub catch_up_rounds: u32,
    /// Znodes loaded before the catch-up rounds.
    pub znodes: u32,
    /// Bytes in each znode.
    pub value_bytes: u32,
    /// Requests in flight while loading.
    pub window: u32,
    /// Bound on forming an ensemble, starting a member, one request.
    pub timeout: Duration,
}

/// One failover round.
#[derive(Clone, Copy, Debug)]
pub struct FailoverSample {
    /// From just before SIGKILL to the first create sent after it succeeding.
    pub took: Duration,
    /// Whether that create ran in the round's session (resumed) rather than a new one.
    pub resumed: bool,
    /// Failed requests and connection attempts before it.
    pub failures: u32,
}

/// What the ensemble phase measured for one server kind; each part fails on
/// its own (the error says why) without stopping the other.
pub struct Figures {
    /// Failover rounds.
    pub failover: Result<Vec<FailoverSample>>,
    /// Catch-up times.
    pub catch_up: Result<Vec<Duration>>,
}

/// Measures both; fails only when the run was interrupted.
pub fn measure(launcher: &Launcher, kind: Kind, settings: &Settings) -> Result<Figures> {
    let failover = failover(launcher, kind, settings);
    if process::interrupted() {
        return Err(Error::msg("interrupted"));
    }
    let catch_up = catch_up(launcher, kind, settings);
    if process::interrupted() {
        return Err(Error::msg("interrupted"));
    }
    Ok(Figures { failover, catch_up })
}

/// A member's ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Peer {
    /// `server.N`'s N, also the `myid`.
    pub id: u64,
    /// Client port.
    pub client_port: u16,
    /// Quorum (peer) port.
    pub peer_port: u16,
    /// Leader-election port (unused by corral, required by the format).
    pub election_port: u16,
}

/// The configuration of member `me` of an ensemble of `peers`: the
/// standalone configuration plus `initLimit`, `syncLimit` and the
/// `server.N` lines.
pub fn member_cfg(kind: Kind, data_dir: &Path, me: &Peer, peers: &[Peer]) -> String {
    let mut cfg = process::zoo_cfg(kind, data_dir, me.client_port);
    cfg.push_str(&format!("initLimit={INIT_LIMIT}\nsyncLimit={SYNC_LIMIT}\n"));
    for p in peers {
        cfg.push_str(&format!("server.{}=127.0.0.1:{}:{}\n", p.id, p.peer_port, p.election_port));
    }
    cfg
}

/// A server's role as `srvr` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `leader`.
    Leader,
    /// `follower`.
    Follower,
    /// `observer`.
    Observer,
    /// `standalone`.
    Standalone,
    /// Anything else (`looking`, …).
    Other,
}

/// The parts of a `srvr` answer the phase uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Srvr {
    /// `Mode:`.
    pub mode: Mode,
    /// `Zxid:` (hexadecimal with `0x`, as both servers print it).
    pub zxid: i64,
    /// `Node count:`, if present.
    pub node_count: Option<u64>,
}

/// Parses a `srvr` answer; `None` if it lacks a mode or a zxid (ZooKeeper's
/// "not currently serving requests", an empty answer).
pub fn parse_srvr(text: &str) -> Option<Srvr> {
    let (mut mode, mut zxid, mut node_count) = (None, None, None);
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "Mode" => {
                mode = Some(match value {
                    "leader" => Mode::Leader,
                    "follower" => Mode::Follower,
                    "observer" => Mode::Observer,
                    "standalone" => Mode::Standalone,
                    _ => Mode::Other,
                })
            }
            "Zxid" => zxid = parse_zxid(value),
            "Node count" => node_count = value.parse().ok(),
            _ => {}
        }
    }
    Some(Srvr { mode: mode?, zxid: zxid?, node_count })
}

/// A zxid written as `0x…` (hexadecimal) or in decimal.
fn parse_zxid(s: &str) -> Option<i64> {
    let n = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok()?,
        None => s.parse().ok()?,
    };
    i64::try_from(n).ok()
}

/// One member: its directory (configuration, log, data) and its process
/// while it runs.
struct Member {
    id: u64,
    kind: Kind,
    addr: SocketAddr,
    dir: PathBuf,
    data_dir: PathBuf,
    config: PathBuf,
    log: PathBuf,
    proc: Option<Proc>,
}

impl Member {
    fn start(&mut self, launcher: &Launcher) -> Result<()> {
        self.proc = Some(Proc::spawn(launcher, self.kind, Role::Member, &self.config, &self.dir, &self.log)?);
        Ok(())
    }

    /// SIGKILL; the instant just before the signal, `None` if not running.
    fn kill(&mut self) -> Option<Instant> {
        self.proc.take().map(Proc::kill)
    }

    fn srvr(&self) -> Option<Srvr> {
        process::four_letter(self.addr, "srvr").ok().and_then(|text| parse_srvr(&text))
    }

    fn check_running(&self) -> Result<()> {
        match &self.proc {
            Some(proc) => proc.check_running().with_context(|| format!("{} member {}", self.kind.name(), self.id)),
            None => Err(Error::msg(format!("{} member {} is not running", self.kind.name(), self.id))),
        }
    }

    /// Deletes everything in the data directory but `myid`.
    fn wipe_data(&self) -> Result<()> {
        let entries = fs::read_dir(&self.data_dir).with_context(|| format!("listing {}", self.data_dir.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("listing {}", self.data_dir.display()))?;
            if entry.file_name() == "myid" {
                continue;
            }
            let path = entry.path();
            let removed = if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) };
            removed.with_context(|| format!("deleting {}", path.display()))?;
        }
        Ok(())
    }
}

/// A running ensemble; dropping it kills the members, then deletes their
/// directory.
struct Ensemble {
    kind: Kind,
    // Before `_dir`: the processes die before the directory is deleted.
    members: Vec<Member>,
    _dir: TempDir,
}

impl Ensemble {
    /// Writes [`MEMBERS`] configurations on free loopback ports and starts
    /// every member.
    fn start(launcher: &Launcher, kind: Kind) -> Result<Ensemble> {
        let dir = TempDir::new(&format!("{}-ensemble", kind.slug()))?;
        let ports = process::free_ports(3 * MEMBERS)?;
        let peers: Vec<Peer> = (0..MEMBERS)
            .map(|i| Peer {
                id: i as u64 + 1,
                client_port: ports[3 * i],
                peer_port: ports[3 * i + 1],
                election_port: ports[3 * i + 2],
            })
            .collect();
        let mut members = Vec::new();
        for peer in &peers {
            let member_dir = dir.path().join(format!("member{}", peer.id));
            let data_dir = member_dir.join("data");
            fs::create_dir_all(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
            let myid = data_dir.join("myid");
            fs::write(&myid, format!("{}\n", peer.id)).with_context(|| format!("writing {}", myid.display()))?;
            let config = member_dir.join("zoo.cfg");
            fs::write(&config, member_cfg(kind, &data_dir, peer, &peers))
                .with_context(|| format!("writing {}", config.display()))?;
            members.push(Member {
                id: peer.id,
                kind,
                addr: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, peer.client_port)),
                log: member_dir.join("server.log"),
                dir: member_dir,
                data_dir,
                config,
                proc: None,
            });
        }
        let mut ensemble = Ensemble { kind, members, _dir: dir };
        for member in &mut ensemble.members {
            member.start(launcher)?;
        }
        Ok(ensemble)
    }

    /// Polls `srvr` on every member until one is the leader and every other
    /// a follower; returns the leader's index.
    fn wait_formed(&self, timeout: Duration) -> Result<usize> {
        let deadline = Instant::now() + timeout;
        loop {
            let seen: Vec<Option<Srvr>> = self.members.iter().map(Member::srvr).collect();
            let leaders: Vec<usize> =
                (0..seen.len()).filter(|&i| matches!(seen[i], Some(s) if s.mode == Mode::Leader)).collect();
            let formed = leaders.len() == 1
                && seen
                    .iter()
                    .enumerate()
                    .all(|(i, s)| matches!(s, Some(s) if i == leaders[0] || s.mode == Mode::Follower));
            if formed {
                return Ok(leaders[0]);
            }
            for member in &self.members {
                member.check_running()?;
            }
            if Instant::now() >= deadline {
                let modes: Vec<String> = self
                    .members
                    .iter()
                    .zip(&seen)
                    .map(|(m, s)| match s {
                        Some(s) => format!("member {}: {:?} zxid 0x{:x}", m.id, s.mode, s.zxid),
                        None => format!("member {}: no srvr answer", m.id),
                    })
                    .collect();
                return Err(Error::msg(format!(
                    "the {} ensemble did not settle on a leader and {} followers within {} s ({}){}",
                    self.kind.name(),
                    MEMBERS - 1,
                    timeout.as_secs(),
                    modes.join("; "),
                    self.members.first().map_or_else(String::new, |m| process::log_tail(&m.log))
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// The error followed by the last lines of every member's log.
    fn with_log_tails(&self, e: &Error) -> String {
        let mut text = e.to_string();
        for m in &self.members {
            let tail = process::log_tail(&m.log);
            if !tail.is_empty() {
                text.push_str(&format!("\n{} member {}{tail}", self.kind.name(), m.id));
            }
        }
        text
    }

    /// Waits until every member reports the same zxid and node count; returns
    /// the leader's index.
    fn wait_synced(&self, timeout: Duration) -> Result<usize> {
        let leader = self.wait_formed(timeout)?;
        let deadline = Instant::now() + timeout;
        loop {
            let seen: Vec<Option<Srvr>> = self.members.iter().map(Member::srvr).collect();
            let first = seen[leader];
            if first.is_some()
                && seen.iter().all(
                    |s| matches!((s, first), (Some(s), Some(f)) if s.zxid == f.zxid && s.node_count == f.node_count),
                )
            {
                return Ok(leader);
            }
            for member in &self.members {
                member.check_running()?;
            }
            if Instant::now() >= deadline {
                return Err(Error::msg(format!(
                    "the {} ensemble's members did not reach the same zxid within {} s: {seen:?}",
                    self.kind.name(),
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

/// The failover rounds on one ensemble.
fn failover(launcher: &Launcher, kind: Kind, settings: &Settings) -> Result<Vec<FailoverSample>> {
    progress(&format!("ensemble failover of {}: starting {MEMBERS} members", kind.name()));
    let mut ensemble = Ensemble::start(launcher, kind)?;
    failover_rounds(&mut ensemble, launcher, settings).inspect_err(|e| {
        if process::interrupted() {
            return;
        }
        progress(&format!("ensemble failover of {} failed: {}", kind.name(), ensemble.with_log_tails(e)));
    })
}

/// Every failover round.
fn failover_rounds(ensemble: &mut Ensemble, launcher: &Launcher, settings: &Settings) -> Result<Vec<FailoverSample>> {
    let kind = ensemble.kind;
    let mut samples = Vec::new();
    for round in 0..settings.failover_rounds {
        let sample = failover_round(ensemble, launcher, settings, round)?;
        progress(&format!(
            "ensemble failover of {}: round {}/{}: {:.1} ms",
            kind.name(),
            round + 1,
            settings.failover_rounds,
            sample.took.as_secs_f64() * 1000.0
        ));
        samples.push(sample);
    }
    Ok(samples)
}

/// One failover round; leaves the ensemble whole again.
fn failover_round(
    ensemble: &mut Ensemble,
    launcher: &Launcher,
    settings: &Settings,
    round: u32,
) -> Result<FailoverSample> {
    let kind = ensemble.kind;
    let timeout = settings.timeout;
    let leader = ensemble.wait_formed(timeout)?;
    // The two survivors; the client starts on one of them, alternating by round.
    let mut survivors: Vec<usize> = (0..MEMBERS).filter(|&i| i != leader).collect();
    let shift = round as usize % survivors.len();
    survivors.rotate_left(shift);

    let mut client = Client::connect(ensemble.members[survivors[0]].addr, timeout)
        .with_context(|| format!("opening a session with a {} follower", kind.name()))?;
    let dir = format!("/failover-{round}");
    client.create(&dir, b"")?;
    let value_bytes = settings.value_bytes as usize;
    let mut n: u32 = 0;
    let warm = Instant::now();
    while warm.elapsed() < FAILOVER_WARMUP {
        client.create(&format!("{dir}/n{n:07}"), &value(n, value_bytes))?;
        n += 1;
    }
    client.set_timeout(REQUEST_TIMEOUT)?;
    let killed_id = ensemble.members[leader].id;
    let killed_at = ensemble.members[leader].kill().ok_or_else(|| Error::msg("the leader is not running"))?;

    let mut session: Session = client.session().clone();
    let mut connection = Some(client);
    let mut resumed = true;
    let mut failures = 0u32;
    let mut next = 0usize;
    let mut last_error = String::from("none");
    let took = loop {
        if killed_at.elapsed() > timeout {
            return Err(Error::msg(format!(
                "{kind}: no write succeeded within {} s after the leader (member {killed_id}) was killed; \
                 {failures} failed attempts, the last: {last_error}",
                timeout.as_secs(),
                kind = kind.name()
            )));
        }
        match connection.take() {
            Some(mut c) => {
                let path = format!("{dir}/n{n:07}");
                let data = value(n, value_bytes);
                n += 1;
                match c.try_create(&path, &data) {
                    Ok(0) => {
                        connection = Some(c);
                        break killed_at.elapsed();
                    }
                    Ok(SESSION_EXPIRED) => {
                        last_error = format!("create {path} on {}: session expired", c.addr());
                        session.id = 0;
                        resumed = false;
                    }
                    Ok(code) => {
                        last_error = format!("create {path} on {}: {}", c.addr(), code_name(code));
                        session = c.session().clone();
                    }
                    Err(e) => {
                        last_error = e.to_string();
                        session = c.session().clone();
                    }
                }
                failures += 1;
                // Dropping `c` closes the connection; the next attempt reconnects.
            }
            None => {
                let addr = ensemble.members[survivors[next % survivors.len()]].addr;
                next += 1;
                let attempt = if session.id == 0 {
                    Client::connect(addr, REQUEST_TIMEOUT).map(Some)
                } else {
                    Client::resume(addr, REQUEST_TIMEOUT, &session)
                };
                match attempt {
                    Ok(Some(c)) => connection = Some(c),
                    Ok(None) => {
                        // Expired: carry on in a new session.
                        last_error = format!("{addr} reported the session expired");
                        session.id = 0;
                        resumed = false;
                        failures += 1;
                    }
                    Err(e) => {
                        last_error = e.to_string();
                        failures += 1;
                        std::thread::sleep(RETRY_PAUSE);
                    }
                }
            }
        }
    };
    if let Some(mut c) = connection {
        let _ = c.set_timeout(timeout);
        let _ = c.close();
    }

    progress(&format!("ensemble failover of {}: restarting member {killed_id}", kind.name()));
    ensemble.members[leader].start(launcher)?;
    if ensemble.wait_formed(timeout)? == leader {
        // Not expected (the others moved on to a later term or epoch), but
        // the ensemble is whole all the same.
        progress(&format!("ensemble failover of {}: the restarted member {killed_id} leads again", kind.name()));
    }
    Ok(FailoverSample { took, resumed, failures })
}

/// The catch-up rounds on a loaded ensemble.
fn catch_up(launcher: &Launcher, kind: Kind, settings: &Settings) -> Result<Vec<Duration>> {
    progress(&format!("ensemble catch-up of {}: starting {MEMBERS} members", kind.name()));
    let mut ensemble = Ensemble::start(launcher, kind)?;
    catch_up_rounds(&mut ensemble, launcher, settings).inspect_err(|e| {
        if process::interrupted() {
            return;
        }
        progress(&format!("ensemble catch-up of {} failed: {}", kind.name(), ensemble.with_log_tails(e)));
    })
}

/// Loads the ensemble, then every catch-up round.
fn catch_up_rounds(ensemble: &mut Ensemble, launcher: &Launcher, settings: &Settings) -> Result<Vec<Duration>> {
    let kind = ensemble.kind;
    let timeout = settings.timeout;
    let leader = ensemble.wait_formed(timeout)?;
    progress(&format!("ensemble catch-up of {}: {} pipelined creates on the leader", kind.name(), settings.znodes));
    let mut client = Client::connect(ensemble.members[leader].addr, timeout)
        .with_context(|| format!("opening a session with the {} leader", kind.name()))?;
    client.create("/bench", b"")?;
    let value_bytes = settings.value_bytes as usize;
    client.create_pipelined(settings.znodes, settings.window, &bulk_path, &|i| value(i, value_bytes))?;
    client.close()?;

    let mut samples = Vec::new();
    for round in 0..settings.catch_up_rounds {
        let leader = ensemble.wait_synced(timeout.max(CATCH_UP_LIMIT))?;
        let followers: Vec<usize> = (0..MEMBERS).filter(|&i| i != leader).collect();
        let target = followers[round as usize % followers.len()];
        let target_id = ensemble.members[target].id;
        ensemble.members[target].kill();
        ensemble.members[target].wipe_data()?;
        ensemble.members[target].start(launcher)?;
        let started = ensemble.members[target].proc.as_ref().map_or_else(Instant::now, Proc::spawned_at);
        let deadline = started + CATCH_UP_LIMIT.max(timeout);
        let took = loop {
            let mine = ensemble.members[target].srvr();
            let theirs = ensemble.members[leader].srvr();
            if let (Some(m), Some(l)) = (mine, theirs) {
                if m.mode == Mode::Follower && m.zxid == l.zxid && m.node_count == l.node_count {
                    break started.elapsed();
                }
            }
            ensemble.members[target].check_running()?;
            ensemble.members[leader].check_running()?;
            if Instant::now() >= deadline {
                let show = |s: Option<Srvr>| match s {
                    Some(s) => format!(
                        "{:?} at zxid 0x{:x} with {} znodes",
                        s.mode,
                        s.zxid,
                        s.node_count.map_or_else(|| "?".to_owned(), |n| n.to_string())
                    ),
                    None => "no srvr answer (not serving)".to_owned(),
                };
                return Err(Error::msg(format!(
                    "{} member {target_id} did not catch up within {} s after its restart: it shows {}, \
                     the leader (member {}) {}",
                    kind.name(),
                    deadline.duration_since(started).as_secs(),
                    show(mine),
                    ensemble.members[leader].id,
                    show(theirs)
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        };
        progress(&format!(
            "ensemble catch-up of {}: round {}/{}: member {target_id} caught up in {:.1} ms",
            kind.name(),
            round + 1,
            settings.catch_up_rounds,
            took.as_secs_f64() * 1000.0
        ));
        samples.push(took);
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peers() -> Vec<Peer> {
        (1..=3)
            .map(|id| Peer {
                id,
                client_port: 2180 + id as u16,
                peer_port: 2880 + id as u16,
                election_port: 3880 + id as u16,
            })
            .collect()
    }

    #[test]
    fn member_configs_list_every_member() {
        let peers = peers();
        let cfg = member_cfg(Kind::Corral, Path::new("/tmp/m2/data"), &peers[1], &peers);
        for line in [
            "tickTime=2000",
            "dataDir=/tmp/m2/data",
            "clientPort=2182",
            "clientPortAddress=127.0.0.1",
            "initLimit=10",
            "syncLimit=5",
            "4lw.commands.whitelist=*",
            "server.1=127.0.0.1:2881:3881",
            "server.2=127.0.0.1:2882:3882",
            "server.3=127.0.0.1:2883:3883",
        ] {
            assert!(cfg.lines().any(|l| l == line), "{line} missing from:\n{cfg}");
        }
        assert!(!cfg.contains("admin."));
        let zk = member_cfg(Kind::ZooKeeper, Path::new("/d"), &peers[0], &peers);
        assert!(zk.lines().any(|l| l == "admin.enableServer=false"));
        assert!(zk.lines().any(|l| l == "clientPort=2181"));
        assert_eq!(zk.lines().filter(|l| l.starts_with("server.")).count(), 3);
    }

    #[test]
    fn srvr_answers_of_both_servers_parse() {
        let zookeeper = "Zookeeper version: 3.8.0-${mvngit.commit.id}, built on 2024-12-29 17:54 UTC\n\
                         Latency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\nConnections: 1\n\
                         Outstanding: 0\nZxid: 0x100000000\nMode: leader\nNode count: 5\n\
                         Proposal sizes last/min/max: -1/-1/-1\n";
        assert_eq!(parse_srvr(zookeeper), Some(Srvr { mode: Mode::Leader, zxid: 0x1_0000_0000, node_count: Some(5) }));
        let corral = "Zookeeper version: 3.9.3-corral-0.1.0, built on 0.1.0\n\
                      Latency min/avg/max: 0/0.0000/0\nReceived: 0\nSent: 0\nConnections: 0\n\
                      Outstanding: 0\nZxid: 0x1a\nMode: follower\nNode count: 4\n";
        assert_eq!(parse_srvr(corral), Some(Srvr { mode: Mode::Follower, zxid: 26, node_count: Some(4) }));
        let looking = corral.replace("Mode: follower", "Mode: looking");
        assert_eq!(parse_srvr(&looking).map(|s| s.mode), Some(Mode::Other));
        let standalone = corral.replace("Mode: follower", "Mode: standalone");
        assert_eq!(parse_srvr(&standalone).map(|s| s.mode), Some(Mode::Standalone));
    }

    #[test]
    fn srvr_answers_without_mode_or_zxid_do_not_parse() {
        assert_eq!(parse_srvr("This ZooKeeper instance is not currently serving requests\n"), None);
        assert_eq!(parse_srvr(""), None);
        assert_eq!(parse_srvr("Mode: leader\n"), None);
        assert_eq!(parse_srvr("Zxid: 0x5\n"), None);
        assert_eq!(parse_srvr("Zxid: 0xnothex\nMode: leader\n"), None);
    }

    #[test]
    fn zxids_parse_in_hex_and_decimal() {
        assert_eq!(parse_zxid("0x0"), Some(0));
        assert_eq!(parse_zxid("0x1000186a3"), Some(0x1_0001_86a3));
        assert_eq!(parse_zxid("0X10"), Some(16));
        assert_eq!(parse_zxid("42"), Some(42));
        assert_eq!(parse_zxid("0xffffffffffffffff"), None);
        assert_eq!(parse_zxid(""), None);
    }
}
