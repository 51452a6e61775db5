//! Four-letter-word admin commands: recognised only as the first four bytes
//! of a new connection, answered with text shaped like ZooKeeper's so that
//! existing monitoring scripts parse it, then the connection is closed.

use std::fmt::Write as _;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use super::node::Node;
use super::VERSION;
use crate::proto::OpCode;
use crate::replication::Role;
use crate::watch::ConnId;

/// A four-letter word corral answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// `ruok`: liveness.
    Ruok,
    /// `srvr`: server summary.
    Srvr,
    /// `stat`: summary plus clients.
    Stat,
    /// `mntr`: metrics, tab separated.
    Mntr,
    /// `conf`: effective configuration.
    Conf,
    /// `cons`: connection details.
    Cons,
    /// `crst`: reset connection counters.
    Crst,
    /// `envi`: environment.
    Envi,
    /// `dump`: sessions and ephemerals.
    Dump,
    /// `wchs`: watch summary.
    Wchs,
    /// `wchc`: watches by session.
    Wchc,
    /// `wchp`: watches by path.
    Wchp,
    /// `dirs`: data and log sizes.
    Dirs,
    /// `isro`: read-only or read-write.
    Isro,
    /// `srst`: reset server counters.
    Srst,
}

impl Command {
    /// Every command with its word.
    pub const ALL: [(Command, &'static str); 15] = [
        (Command::Ruok, "ruok"),
        (Command::Srvr, "srvr"),
        (Command::Stat, "stat"),
        (Command::Mntr, "mntr"),
        (Command::Conf, "conf"),
        (Command::Cons, "cons"),
        (Command::Crst, "crst"),
        (Command::Envi, "envi"),
        (Command::Dump, "dump"),
        (Command::Wchs, "wchs"),
        (Command::Wchc, "wchc"),
        (Command::Wchp, "wchp"),
        (Command::Dirs, "dirs"),
        (Command::Isro, "isro"),
        (Command::Srst, "srst"),
    ];

    /// The command spelled by the first four bytes of a connection, if any.
    pub fn parse(head: &[u8; 4]) -> Option<Command> {
        Command::ALL.iter().find(|(_, w)| w.as_bytes() == head).map(|(c, _)| *c)
    }

    /// The four letters.
    pub fn word(self) -> &'static str {
        Command::ALL.iter().find(|(c, _)| *c == self).map(|(_, w)| *w).unwrap_or("????")
    }
}

/// Writes the answer to `cmd` and closes the connection.
pub async fn answer(node: &Arc<Node>, cmd: Command, _rd: BufReader<OwnedReadHalf>, mut wr: OwnedWriteHalf) {
    let text = if node.config.four_letter_word_allowed(cmd.word()) {
        render(node, cmd)
    } else {
        format!("{} is not executed because it is not in the whitelist.\n", cmd.word())
    };
    let _ = wr.write_all(text.as_bytes()).await;
    let _ = wr.shutdown().await;
}

/// What ZooKeeper answers for server figures while it has no quorum.
const NOT_SERVING: &str = "This ZooKeeper instance is not currently serving requests\n";

/// The membership as `/zookeeper/config` records it (empty until the first
/// leader has written it).
fn membership(node: &Node) -> String {
    let sm = node.sm.read();
    let root = [crate::proto::Id::new("super", "")];
    let data = sm.state.tree.get_data(crate::tree::path::CONFIG, &root).ok().and_then(|nd| nd.data);
    String::from_utf8_lossy(data.as_deref().unwrap_or_default()).into_owned()
}

fn render(node: &Arc<Node>, cmd: Command) -> String {
    let mut out = String::new();
    let needs_serving = !matches!(cmd, Command::Ruok | Command::Isro | Command::Conf | Command::Envi);
    if needs_serving && !node.serving() && !node.read_only() {
        return NOT_SERVING.to_owned();
    }
    match cmd {
        Command::Ruok => out.push_str("imok"),
        Command::Isro => out.push_str(if node.read_only() { "ro" } else { "rw" }),
        Command::Srvr => summary(node, &mut out, false),
        Command::Stat => summary(node, &mut out, true),
        Command::Mntr => mntr(node, &mut out),
        Command::Conf => {
            let s = node.replica.stats();
            let membership = node.config.is_ensemble().then(|| membership(node));
            let member = membership.as_deref().map(|m| (node.server_id, m));
            out.push_str(&node.config.render_conf(s.data_dir_bytes, s.log_dir_bytes, member));
        }
        Command::Cons => {
            cons(node, &mut out);
            out.push('\n');
        }
        Command::Crst => {
            for c in node.conns.lock().values() {
                c.stats.reset();
            }
            out.push_str("Connection stats reset.\n");
        }
        Command::Srst => {
            node.stats.reset();
            out.push_str("Server stats reset.\n");
        }
        Command::Envi => envi(node, &mut out),
        Command::Dump => dump(node, &mut out),
        Command::Wchs => {
            let sm = node.sm.read();
            let reg = sm.watches.lock();
            let _ = write!(out, "{}", reg.summary());
        }
        Command::Wchc => {
            let sm = node.sm.read();
            let conns = node.conns.lock();
            out.push_str(&sm.watches.lock().render_wchc(|c| session_of(&conns, c)));
        }
        Command::Wchp => {
            let sm = node.sm.read();
            let conns = node.conns.lock();
            out.push_str(&sm.watches.lock().render_wchp(|c| session_of(&conns, c)));
        }
        Command::Dirs => {
            let s = node.replica.stats();
            let _ = write!(out, "datadir_size: {}\nlogdir_size: {}\n", s.data_dir_bytes, s.log_dir_bytes);
        }
    }
    out
}

fn session_of(conns: &std::collections::HashMap<ConnId, Arc<super::node::ConnInfo>>, conn: ConnId) -> Option<i64> {
    conns.get(&conn).map(|c| c.session_id.load(Relaxed) as i64)
}

fn version_line() -> String {
    format!("Zookeeper version: {VERSION}, built on {}", env!("CARGO_PKG_VERSION"))
}

fn summary(node: &Arc<Node>, out: &mut String, clients: bool) {
    let _ = writeln!(out, "{}", version_line());
    if clients {
        out.push_str("Clients:\n");
        for c in node.conns.lock().values() {
            let _ = writeln!(
                out,
                " /{}[1](queued={},recved={},sent={})",
                c.peer,
                c.queued.load(Relaxed),
                c.stats.received.load(Relaxed),
                c.stats.sent.load(Relaxed)
            );
        }
        out.push('\n');
    }
    let (min, avg, max) = node.stats.latency_ms();
    let _ = writeln!(out, "Latency min/avg/max: {}/{:.4}/{}", min.round() as u64, avg, max.round() as u64);
    let _ = writeln!(out, "Received: {}", node.stats.received.load(Relaxed));
    let _ = writeln!(out, "Sent: {}", node.stats.sent.load(Relaxed));
    let _ = writeln!(out, "Connections: {}", node.conns.lock().len());
    let _ = writeln!(out, "Outstanding: {}", node.stats.outstanding.load(Relaxed));
    let _ = writeln!(out, "Zxid: 0x{:x}", node.zxid());
    let _ = writeln!(out, "Mode: {}", node.mode());
    let _ = writeln!(out, "Node count: {}", node.sm.read().state.tree.node_count());
}

fn open_fds() -> Option<usize> {
    std::fs::read_dir("/proc/self/fd").ok().map(|d| d.count())
}

fn max_fds() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn mntr(node: &Arc<Node>, out: &mut String) {
    let (min, avg, max) = node.stats.latency_ms();
    let sm = node.sm.read();
    let tree = &sm.state.tree;
    let watches = sm.watches.lock().watch_count();
    let rows: Vec<(&str, String)> = vec![
        ("zk_version", format!("{VERSION}, built on {}", env!("CARGO_PKG_VERSION"))),
        ("zk_server_state", node.mode().to_string()),
        ("zk_avg_latency", format!("{avg:.4}")),
        ("zk_max_latency", format!("{}", max.round() as u64)),
        ("zk_min_latency", format!("{}", min.round() as u64)),
        ("zk_packets_received", node.stats.received.load(Relaxed).to_string()),
        ("zk_packets_sent", node.stats.sent.load(Relaxed).to_string()),
        ("zk_num_alive_connections", node.conns.lock().len().to_string()),
        ("zk_outstanding_requests", node.stats.outstanding.load(Relaxed).to_string()),
        ("zk_znode_count", tree.node_count().to_string()),
        ("zk_watch_count", watches.to_string()),
        ("zk_ephemerals_count", tree.ephemeral_count().to_string()),
        ("zk_approximate_data_size", tree.approximate_data_size().to_string()),
        ("zk_open_file_descriptor_count", open_fds().unwrap_or(0).to_string()),
        ("zk_max_file_descriptor_count", max_fds().unwrap_or(0).to_string()),
        ("zk_global_sessions", node.sessions.len().to_string()),
        ("zk_uptime", node.started.elapsed().as_millis().to_string()),
        ("zk_last_zxid", format!("0x{:x}", sm.zxid())),
    ];
    let mut rows = rows;
    if node.config.is_ensemble() {
        let e = node.replica.ensemble_stats();
        let peer_state = match e.role {
            Role::Leader => "leading - broadcast",
            Role::Follower => "following - broadcast",
            Role::Observer => "observing - broadcast",
            Role::Looking | Role::Standalone => "looking",
        };
        rows.push(("zk_peer_state", peer_state.to_string()));
        rows.push(("zk_quorum_size", (e.voters.len() / 2 + 1).to_string()));
        rows.push(("zk_election_epoch", e.term.to_string()));
        rows.push(("zk_pending_syncs", node.stats.pending_syncs.load(Relaxed).to_string()));
        if e.role == Role::Leader {
            let followers = e.voters.keys().filter(|id| **id != node.server_id).count();
            let synced_followers = e.synced.iter().filter(|id| e.voters.contains_key(id)).count();
            let synced_observers = e.synced.iter().filter(|id| e.learners.contains_key(id)).count();
            rows.push(("zk_learners", (followers + e.learners.len()).to_string()));
            rows.push(("zk_followers", followers.to_string()));
            rows.push(("zk_synced_followers", synced_followers.to_string()));
            rows.push(("zk_synced_non_voting_followers", "0".to_string()));
            rows.push(("zk_synced_observers", synced_observers.to_string()));
            rows.push(("zk_observers", e.learners.len().to_string()));
        }
    }
    for (k, v) in rows {
        let _ = writeln!(out, "{k}\t{v}");
    }
}

fn cons(node: &Arc<Node>, out: &mut String) {
    for c in node.conns.lock().values() {
        let s = &c.stats;
        let count = s.count.load(Relaxed).max(1);
        let est = c.established.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let lop = OpCode::from_i32(s.last_op.load(Relaxed)).map(OpCode::short_name).unwrap_or("NA");
        let _ = writeln!(
            out,
            " /{}[1](queued={},recved={},sent={},sid=0x{:x},lop={},est={},to={},lcxid=0x{:x},lzxid=0x{:x},lresp={},llat={},minlat=0,avglat={},maxlat={})",
            c.peer,
            c.queued.load(Relaxed),
            s.received.load(Relaxed),
            s.sent.load(Relaxed),
            c.session_id.load(Relaxed),
            lop,
            est,
            c.timeout_ms.load(Relaxed),
            s.last_cxid.load(Relaxed),
            s.last_zxid.load(Relaxed),
            s.last_response_ms.load(Relaxed),
            s.last_latency_ms.load(Relaxed),
            s.latency_sum_ms.load(Relaxed) / count,
            s.latency_max_ms.load(Relaxed),
        );
    }
}

fn envi(node: &Arc<Node>, out: &mut String) {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let cwd = std::env::current_dir().map(|p| p.display().to_string()).unwrap_or_default();
    out.push_str("Environment:\n");
    let rows = [
        ("zookeeper.version", format!("{VERSION}, built on {}", env!("CARGO_PKG_VERSION"))),
        ("host.name", host.trim().to_string()),
        ("corral.version", env!("CARGO_PKG_VERSION").to_string()),
        ("os.name", std::env::consts::OS.to_string()),
        ("os.arch", std::env::consts::ARCH.to_string()),
        ("user.name", std::env::var("USER").unwrap_or_default()),
        ("user.home", std::env::var("HOME").unwrap_or_default()),
        ("user.dir", cwd),
        ("data.dir", node.config.data_dir.display().to_string()),
    ];
    for (k, v) in rows {
        let _ = writeln!(out, "{k}={v}");
    }
}

fn dump(node: &Arc<Node>, out: &mut String) {
    let now = tokio::time::Instant::now();
    let wall = SystemTime::now();
    let sets = node.sessions.by_deadline();
    let total: usize = sets.iter().map(|(_, s)| s.len()).sum();
    out.push_str("SessionTracker dump:\n");
    let _ = writeln!(out, "Session Sets ({})/({}):", sets.len(), total);
    for (deadline, ids) in sets {
        let at = wall + deadline.saturating_duration_since(now);
        let ms = at.duration_since(UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
        let _ = writeln!(out, "{} expire at {}:", ids.len(), ms);
        for id in ids {
            let _ = writeln!(out, "\t0x{id:x}");
        }
    }
    let by_session = node.sm.read().state.tree.ephemerals_by_session();
    out.push_str("ephemeral nodes dump:\n");
    let _ = writeln!(out, "Sessions with Ephemerals ({}):", by_session.len());
    for (sid, paths) in by_session {
        let _ = writeln!(out, "0x{sid:x}:");
        for p in paths {
            let _ = writeln!(out, "\t{p}");
        }
    }
    out.push_str("Connections dump:\n");
    let _ = writeln!(out, "Connections Sets (0)/(0)");
}
