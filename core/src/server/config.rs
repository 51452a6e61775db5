//! Server configuration: defaults that just work, `zoo.cfg` parsing,
//! validation, and the `conf` four-letter-word output.
//!
//! `zoo.cfg` is a Java properties file. Keys are ZooKeeper's (zoo.cfg keys
//! and the system properties operators put there, also with a `zookeeper.`
//! prefix). A key corral does not use is logged and ignored, never fatal: an
//! operator's file carries many (`admin.serverPort`, `server.N`, `ssl.*`, …).
//! A bad value of a key corral uses is an error naming the key.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use base64::Engine as _;
use thiserror::Error;

use crate::watch::WATCHES_PER_CONNECTION_MAX_DEFAULT;

/// Every four-letter word ZooKeeper knows; `4lw.commands.whitelist=*` enables all of them.
pub const FOUR_LETTER_WORDS: [&str; 18] = [
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "hash", "isro", "mntr", "ruok", "srst", "srvr", "stat",
    "stmk", "wchc", "wchp", "wchs",
];

/// Why a configuration was rejected.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not a valid properties file (a malformed `\uXXXX` escape).
    #[error("config line {line}: {reason}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A key corral uses has a value it cannot accept.
    #[error("invalid value {value:?} for {key}: {reason}")]
    InvalidValue {
        /// The zoo.cfg key.
        key: String,
        /// The value as written.
        value: String,
        /// What is expected instead.
        reason: String,
    },
    /// minSessionTimeout exceeds maxSessionTimeout (after defaults are applied).
    #[error("minSessionTimeout ({min_ms} ms) must not be larger than maxSessionTimeout ({max_ms} ms)")]
    SessionTimeoutRange {
        /// Effective minimum.
        min_ms: u32,
        /// Effective maximum.
        max_ms: u32,
    },
}

/// One `server.N` line: a member of the ensemble.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerSpec {
    /// Host the other members reach this one at.
    pub host: String,
    /// Port of the peer transport (ZooKeeper's quorum port).
    pub peer_port: u16,
    /// ZooKeeper's leader-election port: accepted, unused by corral.
    pub election_port: Option<u16>,
    /// An observer (non-voting) rather than a participant.
    pub observer: bool,
    /// Client address from the `;[clientHost:]clientPort` part, if given.
    pub client: Option<(Option<String>, u16)>,
}

impl ServerSpec {
    /// The peer address, `host:port` (IPv6 hosts in brackets).
    pub fn peer_addr(&self) -> String {
        format!("{}:{}", bracketed(&self.host), self.peer_port)
    }

    /// The line as ZooKeeper writes it in `/zookeeper/config`: the client part
    /// only when the `server.N` line has one (a bare `;port` listens on every
    /// interface, which ZooKeeper writes as `0.0.0.0:port`). A line without one
    /// is written without one, as ZooKeeper does, never with another member's
    /// address: Curator's `EnsembleTracker` turns these lines into its
    /// connection string and skips members without a client address.
    pub fn render(&self) -> String {
        let mut line = format!(
            "{}:{}:{}:{}",
            bracketed(&self.host),
            self.peer_port,
            self.election_port.unwrap_or(0),
            if self.observer { "observer" } else { "participant" }
        );
        if let Some((host, port)) = &self.client {
            let host = host.as_deref().map_or_else(|| Ipv4Addr::UNSPECIFIED.to_string(), bracketed);
            line.push_str(&format!(";{host}:{port}"));
        }
        line
    }
}

/// An IPv6 literal in brackets, any other host as it is.
fn bracketed(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Parses the value of a `server.N` line:
/// `host:peerPort:electionPort[:observer|:participant][;[clientHost:]clientPort]`.
pub fn parse_server_spec(value: &str) -> Result<ServerSpec, String> {
    let (addr, client) = match value.split_once(';') {
        Some((a, c)) => (a.trim(), Some(c.trim())),
        None => (value.trim(), None),
    };
    let (host, rest) = if let Some(stripped) = addr.strip_prefix('[') {
        let (h, r) = stripped.split_once(']').ok_or("an unclosed '[' in the host")?;
        (h.to_owned(), r.strip_prefix(':').ok_or("expected ':' after the host")?)
    } else {
        let (h, r) = addr.split_once(':').ok_or("expected host:peerPort:electionPort")?;
        (h.to_owned(), r)
    };
    if host.is_empty() {
        return Err("the host is empty".into());
    }
    let parts: Vec<&str> = rest.split(':').collect();
    let port =
        |s: &str, what: &str| s.parse::<u16>().ok().filter(|p| *p > 0).ok_or(format!("{what} {s:?} is not a port"));
    let peer_port = port(parts[0], "peer port")?;
    let election_port = match parts.get(1) {
        Some(p) => Some(port(p, "election port")?),
        None => None,
    };
    let observer = match parts.get(2).copied() {
        None | Some("participant") => false,
        Some("observer") => true,
        Some(other) => return Err(format!("role {other:?} is neither participant nor observer")),
    };
    if parts.len() > 3 {
        return Err("too many ':' fields".into());
    }
    let client = match client {
        None | Some("") => None,
        Some(c) => match c.rsplit_once(':') {
            Some((h, p)) => {
                let h = h.trim_start_matches('[').trim_end_matches(']');
                Some((Some(h.to_owned()), port(p, "client port")?))
            }
            None => Some((None, port(c, "client port")?)),
        },
    };
    Ok(ServerSpec { host, peer_port, election_port, observer, client })
}

/// The `4lw.commands.whitelist` setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FourLetterWhitelist {
    /// `*`: every command in [`FOUR_LETTER_WORDS`].
    All,
    /// The listed known commands (`srvr`, and `isro` in read-only mode, are
    /// always added, as ZooKeeper does: its own scripts depend on them).
    Only(BTreeSet<String>),
}

/// Everything a server node needs to start. Build it with [`Config::default`],
/// [`Config::from_file`] or `text.parse::<Config>()`, then apply overrides
/// (fields, setters or [`Config::set`]) and call [`Config::validate`] again.
///
/// Settings whose default depends on another one (`dataLogDir`, the session
/// timeout bounds) are private, with a getter that applies the default.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// `clientPort`: where clients connect; 0 picks a free port (tests).
    pub client_port: u16,
    /// `clientPortAddress`: the interface to listen on.
    pub client_port_address: IpAddr,
    /// `clientPortListenBacklog`: the listen backlog; `None` (-1) = the OS default.
    pub client_port_listen_backlog: Option<u32>,
    /// `dataDir`: snapshots (and the log, unless `dataLogDir` is set).
    pub data_dir: PathBuf,
    /// `dataLogDir`; `None` = `data_dir`. See [`Config::data_log_dir`].
    data_log_dir: Option<PathBuf>,
    /// `tickTime`: the base time unit of sessions, in ms.
    pub tick_time_ms: u32,
    /// `maxClientCnxns`: concurrent connections one client address may hold; 0 = unlimited.
    pub connections_per_address_max: u32,
    /// `minSessionTimeout`; `None` = 2 × tickTime. See [`Config::min_session_timeout_ms`].
    min_session_timeout_ms: Option<u32>,
    /// `maxSessionTimeout`; `None` = 20 × tickTime. See [`Config::max_session_timeout_ms`].
    max_session_timeout_ms: Option<u32>,
    /// `autopurge.snapRetainCount`: snapshots (and their logs) kept by purging; at least 3.
    pub snap_retain_count: u32,
    /// `autopurge.purgeInterval`: hours between purges; 0 = never. See [`Config::purge_interval`].
    pub purge_interval_hours: u32,
    /// `4lw.commands.whitelist`. See [`Config::four_letter_word_allowed`].
    pub four_letter_words: FourLetterWhitelist,
    /// `readonlymode.enabled`: serve reads while cut off from the quorum; enables `isro`.
    pub read_only_mode: bool,
    /// `jute.maxbuffer`: the largest frame or znode payload accepted, in bytes.
    pub jute_maxbuffer_bytes: u32,
    /// `extendedTypesEnabled`: TTL nodes. On by default, unlike ZooKeeper.
    pub extended_types_enabled: bool,
    /// `DigestAuthenticationProvider.superDigest`: `user:base64(sha1(user:password))`
    /// of the super user, who passes every ACL check.
    pub super_digest: Option<String>,
    /// `reconfigEnabled`: whether the reconfig operation is allowed.
    pub reconfig_enabled: bool,
    /// `localSessionsEnabled`: in an ensemble, new sessions live on the member
    /// they connected to only (not in the log); they cannot move to another member.
    pub local_sessions_enabled: bool,
    /// `localSessionsUpgradingEnabled`: a local session that creates an
    /// ephemeral becomes a global one first; without it, that create fails
    /// with EphemeralOnLocalSession.
    pub local_sessions_upgrading_enabled: bool,
    /// `snapCount`: log entries between snapshots; at least 2.
    pub snap_count: u64,
    /// `dataDirLockWaitMs` (corral): how long a starting server waits for its
    /// data directories while another process — a predecessor killed a moment
    /// ago — still holds their lock, before it gives up.
    pub data_dir_lock_wait_ms: u64,
    /// `znode.container.checkIntervalMs`: how often empty containers and expired TTL nodes are looked for.
    pub container_check_interval_ms: u64,
    /// `znode.container.maxPerMinute`: container/TTL deletions issued per minute, at most.
    pub container_deletions_per_minute_max: u32,
    /// `maxOutstandingRequestsPerConnection` (corral; ZooKeeper bounds all
    /// connections together with `globalOutstandingLimit`): requests one
    /// connection may have in flight before the server stops reading from it.
    pub outstanding_requests_per_connection_max: u32,
    /// `maxWatchesPerConnection` (corral): watch registrations one connection
    /// may hold; beyond it the registering request fails.
    pub watches_per_connection_max: u32,
    /// `server.N` lines (and those of `dynamicConfigFile`): the ensemble's members.
    pub servers: BTreeMap<u64, ServerSpec>,
    /// This member's id; `None` = read from `dataDir/myid`. See [`Config::my_id`].
    pub server_id: Option<u64>,
    /// `initLimit`: ticks a member may take to connect and catch up.
    pub init_limit: u32,
    /// `syncLimit`: ticks a member may fall silent before it is dropped.
    pub sync_limit: u32,
    /// `standaloneEnabled`: a single `server.N` line runs standalone.
    pub standalone_enabled: bool,
    /// `dynamicConfigFile`: more `server.N` lines, read at start (corral keeps the
    /// membership a reconfig makes in its log, not in this file).
    pub dynamic_config_file: Option<PathBuf>,
    /// `quorumListenOnAllIPs`: bind the peer port on every interface.
    pub quorum_listen_on_all_ips: bool,
    /// `electionTimeoutMs` (corral): how long followers wait for the
    /// leader's heartbeat before electing; `None` = derived from tickTime.
    pub election_timeout_ms: Option<u32>,
    /// Keys of the parsed text that corral does not use, in file order.
    pub ignored_keys: Vec<String>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            client_port: 2181,
            client_port_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            client_port_listen_backlog: None,
            data_dir: PathBuf::from("./data"),
            data_log_dir: None,
            tick_time_ms: 2000,
            connections_per_address_max: 60,
            min_session_timeout_ms: None,
            max_session_timeout_ms: None,
            snap_retain_count: 3,
            purge_interval_hours: 0,
            four_letter_words: FourLetterWhitelist::Only(BTreeSet::new()),
            read_only_mode: false,
            jute_maxbuffer_bytes: 0xfffff,
            extended_types_enabled: true,
            super_digest: None,
            reconfig_enabled: false,
            local_sessions_enabled: false,
            local_sessions_upgrading_enabled: false,
            snap_count: 100_000,
            data_dir_lock_wait_ms: crate::replication::LOCK_WAIT_DEFAULT.as_millis() as u64,
            container_check_interval_ms: 60_000,
            container_deletions_per_minute_max: 10_000,
            outstanding_requests_per_connection_max: 1000,
            watches_per_connection_max: WATCHES_PER_CONNECTION_MAX_DEFAULT,
            servers: BTreeMap::new(),
            server_id: None,
            init_limit: 10,
            sync_limit: 5,
            standalone_enabled: true,
            dynamic_config_file: None,
            quorum_listen_on_all_ips: false,
            election_timeout_ms: None,
            ignored_keys: Vec::new(),
        }
    }
}

/// Keys ZooKeeper users set that corral reads differently, with a pointer.
const IGNORED_KEY_HINTS: [(&str, &str); 1] =
    [("globalOutstandingLimit", "corral bounds each connection: maxOutstandingRequestsPerConnection")];

impl FromStr for Config {
    type Err = ConfigError;

    /// Parses `zoo.cfg` text over the defaults and validates the result.
    fn from_str(text: &str) -> Result<Config, ConfigError> {
        let mut config = Config::default();
        for (line, key, value) in properties(text)? {
            if key.is_empty() {
                return Err(ConfigError::Syntax { line, reason: "a value without a key".to_owned() });
            }
            config.set(&key, &value)?;
        }
        config.validate()?;
        Ok(config)
    }
}

impl Config {
    /// Reads and parses a `zoo.cfg` file (see [`FromStr`]).
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, ConfigError> {
        let path = path.as_ref();
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        text.parse()
    }

    /// Sets one `zoo.cfg` key from its text value, as a line of the file would.
    ///
    /// A `zookeeper.` prefix is accepted on every key. A key corral does not
    /// use is logged, recorded in [`Config::ignored_keys`] and otherwise
    /// ignored. Range rules that involve several keys are checked by
    /// [`Config::validate`].
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        let value = value.trim();
        if self.apply(key, key, value)? {
            return Ok(());
        }
        if let Some(bare) = key.strip_prefix("zookeeper.") {
            if self.apply(bare, key, value)? {
                return Ok(());
            }
        }
        match IGNORED_KEY_HINTS.iter().find(|(k, _)| *k == key) {
            Some((_, hint)) => {
                tracing::warn!("ignoring config key {key}: not used by corral ({hint})")
            }
            None => tracing::warn!("ignoring config key {key}: not used by corral"),
        }
        self.ignored_keys.push(key.to_owned());
        Ok(())
    }

    /// Applies `name` (the key without prefix); `key` is how it was written,
    /// for errors. Returns false for a key corral does not use.
    fn apply(&mut self, name: &str, key: &str, value: &str) -> Result<bool, ConfigError> {
        let v = Value { key, text: value };
        match name {
            "clientPort" => self.client_port = v.parsed("a port number (0-65535)")?,
            "clientPortAddress" => self.client_port_address = v.parsed("an IP address")?,
            "clientPortListenBacklog" => {
                self.client_port_listen_backlog = match v.parsed::<i32>("-1 or a positive number")? {
                    -1 => None,
                    n => Some(v.check(u32::try_from(n).ok().filter(|&n| n > 0), "-1 or a positive number")?),
                }
            }
            "dataDir" => self.data_dir = v.path()?,
            "dataLogDir" => self.data_log_dir = Some(v.path()?),
            "tickTime" => self.tick_time_ms = v.parsed("a positive number of milliseconds")?,
            "maxClientCnxns" => self.connections_per_address_max = v.parsed("a number >= 0 (0 = unlimited)")?,
            "minSessionTimeout" => self.min_session_timeout_ms = v.session_timeout()?,
            "maxSessionTimeout" => self.max_session_timeout_ms = v.session_timeout()?,
            "autopurge.snapRetainCount" => self.snap_retain_count = v.parsed("a number >= 3")?,
            "autopurge.purgeInterval" => {
                // ZooKeeper treats any value <= 0 as "never".
                self.purge_interval_hours = v.parsed::<i32>("a number of hours")?.max(0).unsigned_abs()
            }
            "4lw.commands.whitelist" => self.four_letter_words = parse_whitelist(value),
            "readonlymode.enabled" => self.read_only_mode = v.boolean()?,
            "jute.maxbuffer" => self.jute_maxbuffer_bytes = v.java_int_decode("a positive number of bytes")?,
            "extendedTypesEnabled" => self.extended_types_enabled = v.boolean()?,
            "DigestAuthenticationProvider.superDigest" => self.super_digest = Some(v.super_digest()?),
            "reconfigEnabled" => self.reconfig_enabled = v.boolean()?,
            "localSessionsEnabled" => self.local_sessions_enabled = v.boolean()?,
            "localSessionsUpgradingEnabled" => self.local_sessions_upgrading_enabled = v.boolean()?,
            "snapCount" => self.snap_count = v.parsed("a number of log entries >= 2")?,
            "dataDirLockWaitMs" => self.data_dir_lock_wait_ms = v.parsed("a number of milliseconds")?,
            "znode.container.checkIntervalMs" => {
                self.container_check_interval_ms = v.parsed("a positive number of milliseconds")?
            }
            "znode.container.maxPerMinute" => {
                self.container_deletions_per_minute_max = v.parsed("a positive number")?
            }
            "maxOutstandingRequestsPerConnection" => {
                self.outstanding_requests_per_connection_max = v.parsed("a positive number")?
            }
            "maxWatchesPerConnection" => self.watches_per_connection_max = v.parsed("a positive number")?,
            "initLimit" => self.init_limit = v.parsed("a positive number of ticks")?,
            "syncLimit" => self.sync_limit = v.parsed("a positive number of ticks")?,
            "standaloneEnabled" => self.standalone_enabled = v.boolean()?,
            "quorumListenOnAllIPs" => self.quorum_listen_on_all_ips = v.boolean()?,
            "electionTimeoutMs" => self.election_timeout_ms = Some(v.parsed("a number of milliseconds >= 50")?),
            "myid" => self.server_id = Some(v.parsed("a server id (1-255)")?),
            "dynamicConfigFile" => {
                let path = v.path()?;
                let text = std::fs::read_to_string(&path).map_err(|e| v.invalid(&format!("cannot read it: {e}")))?;
                for (_, k, val) in properties(&text)? {
                    if k.starts_with("server.") {
                        self.apply(&k, &k, val.trim())?;
                    } else if k != "version" {
                        return Err(v.invalid(&format!("it holds {k:?}; only server.N and version belong there")));
                    }
                }
                self.dynamic_config_file = Some(path);
            }
            server if server.starts_with("server.") => {
                let id: u64 = server["server.".len()..]
                    .parse()
                    .ok()
                    .filter(|id| (1..=255).contains(id))
                    .ok_or_else(|| v.invalid("server.N needs a number N from 1 to 255"))?;
                let spec = parse_server_spec(value).map_err(|reason| v.invalid(&reason))?;
                self.servers.insert(id, spec);
            }
            "peerType" => match value {
                "observer" | "participant" => {}
                _ => return Err(v.invalid("observer or participant")),
            },
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Checks the rules that span keys or that CLI overrides may break, and
    /// raises values ZooKeeper raises (with a warning). Idempotent.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        let positive: [(&str, u64); 6] = [
            ("tickTime", self.tick_time_ms.into()),
            ("jute.maxbuffer", self.jute_maxbuffer_bytes.into()),
            ("znode.container.checkIntervalMs", self.container_check_interval_ms),
            ("znode.container.maxPerMinute", self.container_deletions_per_minute_max.into()),
            ("maxOutstandingRequestsPerConnection", self.outstanding_requests_per_connection_max.into()),
            ("maxWatchesPerConnection", self.watches_per_connection_max.into()),
        ];
        if let Some((key, _)) = positive.iter().find(|(_, n)| *n == 0) {
            return Err(ConfigError::InvalidValue {
                key: (*key).to_owned(),
                value: "0".to_owned(),
                reason: "must be positive".to_owned(),
            });
        }
        for (key, timeout) in
            [("minSessionTimeout", self.min_session_timeout_ms), ("maxSessionTimeout", self.max_session_timeout_ms)]
        {
            if let Some(ms) = timeout {
                Value { key, text: &ms.to_string() }.session_timeout()?;
            }
        }
        if self.is_ensemble() {
            for (key, n) in [("initLimit", self.init_limit), ("syncLimit", self.sync_limit)] {
                if n == 0 {
                    return Err(ConfigError::InvalidValue {
                        key: key.to_owned(),
                        value: "0".to_owned(),
                        reason: "must be positive".to_owned(),
                    });
                }
            }
            if !self.servers.values().any(|s| !s.observer) {
                return Err(ConfigError::InvalidValue {
                    key: "server.N".to_owned(),
                    value: String::new(),
                    reason: "an ensemble needs at least one participant".to_owned(),
                });
            }
            let mut peers = BTreeSet::new();
            for (id, spec) in &self.servers {
                if !peers.insert(spec.peer_addr()) {
                    return Err(ConfigError::InvalidValue {
                        key: format!("server.{id}"),
                        value: spec.peer_addr(),
                        reason: "two members share this peer address".to_owned(),
                    });
                }
            }
        }
        if let Some(ms) = self.election_timeout_ms {
            if ms < 50 {
                return Err(ConfigError::InvalidValue {
                    key: "electionTimeoutMs".to_owned(),
                    value: ms.to_string(),
                    reason: "must be at least 50".to_owned(),
                });
            }
        }
        let (min_ms, max_ms) = (self.min_session_timeout_ms(), self.max_session_timeout_ms());
        if min_ms > max_ms {
            return Err(ConfigError::SessionTimeoutRange { min_ms, max_ms });
        }
        if self.snap_retain_count < 3 {
            tracing::warn!("autopurge.snapRetainCount {} is below 3; using 3", self.snap_retain_count);
            self.snap_retain_count = 3;
        }
        if self.snap_count < 2 {
            tracing::warn!("snapCount {} is below 2; using 2", self.snap_count);
            self.snap_count = 2;
        }
        Ok(())
    }

    /// Whether this configuration runs a replicated ensemble member (several
    /// `server.N` lines, or one with `standaloneEnabled=false`).
    pub fn is_ensemble(&self) -> bool {
        self.servers.len() > 1 || (self.servers.len() == 1 && !self.standalone_enabled)
    }

    /// This member's id: `myid` if set, else the number in `dataDir/myid`
    /// (ZooKeeper's file); it must name one of the `server.N` lines.
    pub fn my_id(&self) -> Result<u64, ConfigError> {
        let id = match self.server_id {
            Some(id) => id,
            None => {
                let path = self.data_dir.join("myid");
                let text = std::fs::read_to_string(&path)
                    .map_err(|source| ConfigError::Read { path: path.clone(), source })?;
                text.trim().parse().map_err(|_| ConfigError::InvalidValue {
                    key: "myid".to_owned(),
                    value: text.trim().to_owned(),
                    reason: format!("{} must hold a server id", path.display()),
                })?
            }
        };
        if !self.servers.contains_key(&id) {
            return Err(ConfigError::InvalidValue {
                key: "myid".to_owned(),
                value: id.to_string(),
                reason: "no server.N line has this id".to_owned(),
            });
        }
        Ok(id)
    }

    /// How long a follower waits for the leader before it calls an election.
    pub fn election_timeout(&self) -> Duration {
        let ms = self.election_timeout_ms.unwrap_or_else(|| (self.tick_time_ms / 4).clamp(150, 500));
        Duration::from_millis(ms as u64)
    }

    /// Where the write-ahead log lives: `dataLogDir`, else `dataDir`.
    pub fn data_log_dir(&self) -> &Path {
        self.data_log_dir.as_deref().unwrap_or(&self.data_dir)
    }

    /// Sets `dataLogDir` (otherwise it follows `data_dir`).
    pub fn set_data_log_dir(&mut self, dir: impl Into<PathBuf>) {
        self.data_log_dir = Some(dir.into());
    }

    /// The smallest session timeout granted: `minSessionTimeout`, else 2 × tickTime.
    pub fn min_session_timeout_ms(&self) -> u32 {
        self.min_session_timeout_ms.unwrap_or_else(|| self.ticks_ms(2))
    }

    /// The largest session timeout granted: `maxSessionTimeout`, else 20 × tickTime.
    pub fn max_session_timeout_ms(&self) -> u32 {
        self.max_session_timeout_ms.unwrap_or_else(|| self.ticks_ms(20))
    }

    /// Sets `minSessionTimeout` (otherwise it follows `tick_time_ms`).
    pub fn set_min_session_timeout_ms(&mut self, ms: u32) {
        self.min_session_timeout_ms = Some(ms);
    }

    /// Sets `maxSessionTimeout` (otherwise it follows `tick_time_ms`).
    pub fn set_max_session_timeout_ms(&mut self, ms: u32) {
        self.max_session_timeout_ms = Some(ms);
    }

    /// `n` ticks in ms, capped at the largest timeout the wire can carry.
    fn ticks_ms(&self, n: u32) -> u32 {
        self.tick_time_ms.saturating_mul(n).min(i32::MAX.unsigned_abs())
    }

    /// The address to listen on.
    pub fn client_address(&self) -> SocketAddr {
        SocketAddr::new(self.client_port_address, self.client_port)
    }

    /// Time between purges of old snapshots and logs; `None` = never.
    pub fn purge_interval(&self) -> Option<Duration> {
        (self.purge_interval_hours > 0).then(|| Duration::from_secs(u64::from(self.purge_interval_hours) * 3600))
    }

    /// Whether the four-letter word `word` may be answered (as opposed to
    /// "is not executed because it is not in the whitelist"). Unknown words
    /// are never allowed.
    pub fn four_letter_word_allowed(&self, word: &str) -> bool {
        if !FOUR_LETTER_WORDS.contains(&word) {
            return false;
        }
        match &self.four_letter_words {
            FourLetterWhitelist::All => true,
            FourLetterWhitelist::Only(words) => {
                word == "srvr" || (word == "isro" && self.read_only_mode) || words.contains(word)
            }
        }
    }

    /// The `conf` answer, in ZooKeeper's line order. The directory sizes are
    /// runtime facts the caller measures; if it bound port 0 it should store
    /// the real port in `client_port` first. An ensemble member passes its id
    /// and the current membership (`/zookeeper/config`'s text), which ZooKeeper
    /// prints after its limits, ports and role.
    pub fn render_conf(
        &self,
        data_dir_size_bytes: u64,
        data_log_size_bytes: u64,
        member: Option<(u64, &str)>,
    ) -> String {
        let absolute = |dir: &Path| std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned());
        let backlog = self.client_port_listen_backlog.map_or(-1, i64::from);
        let mut out = format!(
            "clientPort={}\nsecureClientPort=-1\ndataDir={}\ndataDirSize={}\ndataLogDir={}\ndataLogSize={}\n\
             tickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\nmaxSessionTimeout={}\n\
             clientPortListenBacklog={}\nserverId={}\n",
            self.client_port,
            absolute(&self.data_dir).display(),
            data_dir_size_bytes,
            absolute(self.data_log_dir()).display(),
            data_log_size_bytes,
            self.tick_time_ms,
            self.connections_per_address_max,
            self.min_session_timeout_ms(),
            self.max_session_timeout_ms(),
            backlog,
            member.map_or(0, |(id, _)| id),
        );
        if let Some((id, membership)) = member {
            let me = self.servers.get(&id);
            out.push_str(&format!(
                "initLimit={}\nsyncLimit={}\nelectionAlg=3\nelectionPort={}\nquorumPort={}\npeerType={}\n\
                 membership: \n{membership}",
                self.init_limit,
                self.sync_limit,
                me.and_then(|s| s.election_port).unwrap_or(0),
                me.map_or(0, |s| s.peer_port),
                u8::from(me.is_some_and(|s| s.observer)),
            ));
        }
        out
    }
}

/// `4lw.commands.whitelist`: comma-separated, `*` = all; unknown names are
/// warned about and dropped.
fn parse_whitelist(value: &str) -> FourLetterWhitelist {
    let mut words = BTreeSet::new();
    for word in value.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        if word == "*" {
            return FourLetterWhitelist::All;
        }
        if FOUR_LETTER_WORDS.contains(&word) {
            words.insert(word.to_owned());
        } else {
            tracing::warn!("4lw.commands.whitelist: unknown four-letter word {word:?} ignored");
        }
    }
    FourLetterWhitelist::Only(words)
}

/// One value being parsed, with the key it belongs to (for errors).
struct Value<'a> {
    key: &'a str,
    text: &'a str,
}

impl Value<'_> {
    fn invalid(&self, reason: &str) -> ConfigError {
        ConfigError::InvalidValue {
            key: self.key.to_owned(),
            value: self.text.to_owned(),
            reason: format!("expected {reason}"),
        }
    }

    fn check<T>(&self, value: Option<T>, reason: &str) -> Result<T, ConfigError> {
        value.ok_or_else(|| self.invalid(reason))
    }

    fn parsed<T: FromStr>(&self, reason: &str) -> Result<T, ConfigError> {
        self.text.parse().map_err(|_| self.invalid(reason))
    }

    /// Java's `Integer.decode`, which ZooKeeper uses for `jute.maxbuffer`:
    /// decimal, or hex after `0x`/`0X`/`#`.
    fn java_int_decode(&self, reason: &str) -> Result<u32, ConfigError> {
        let hex = ["0x", "0X", "#"].iter().find_map(|p| self.text.strip_prefix(p));
        let parsed = match hex {
            Some(digits) => u32::from_str_radix(digits, 16).ok(),
            None => self.text.parse().ok(),
        };
        self.check(parsed.filter(|&n| n <= i32::MAX.unsigned_abs()), reason)
    }

    fn boolean(&self) -> Result<bool, ConfigError> {
        match self.text.to_ascii_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(self.invalid("true or false")),
        }
    }

    fn path(&self) -> Result<PathBuf, ConfigError> {
        self.check((!self.text.is_empty()).then(|| PathBuf::from(self.text)), "a directory")
    }

    /// A session timeout bound: -1 = derive from tickTime, else 1..=i32::MAX ms.
    fn session_timeout(&self) -> Result<Option<u32>, ConfigError> {
        let reason = "-1 (derive from tickTime) or a positive number of milliseconds";
        match self.parsed::<i32>(reason)? {
            -1 => Ok(None),
            n if n > 0 => Ok(Some(n.unsigned_abs())),
            _ => Err(self.invalid(reason)),
        }
    }

    /// `user:hash` with hash = base64 of a SHA-1 digest, as
    /// `DigestAuthenticationProvider` generates it.
    fn super_digest(&self) -> Result<String, ConfigError> {
        let reason = "user:base64(sha1(user:password))";
        let (user, hash) = self.check(self.text.split_once(':'), reason)?;
        let digest = base64::engine::general_purpose::STANDARD.decode(hash).ok();
        if user.is_empty() || digest.map(|d| d.len()) != Some(20) {
            return Err(self.invalid(reason));
        }
        Ok(self.text.to_owned())
    }
}

/// The `(line, key, value)` entries of Java properties text, in order:
/// `#`/`!` comment lines, `=`, `:` or whitespace between key and value,
/// `\` line continuation, `\t \n \r \f \uXXXX` escapes (any other escaped
/// character stands for itself). Keys and values are trimmed, as ZooKeeper does.
fn properties(text: &str) -> Result<Vec<(usize, String, String)>, ConfigError> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((index, raw)) = lines.next() {
        let first = raw.trim_start();
        if first.is_empty() || first.starts_with('#') || first.starts_with('!') {
            continue;
        }
        let mut logical = first.to_owned();
        while logical.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1 {
            logical.pop();
            match lines.next() {
                Some((_, next)) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let line = index + 1;
        let (key, value) = split_key_value(&logical);
        out.push((line, unescape(key, line)?.trim().to_owned(), unescape(value, line)?.trim().to_owned()));
    }
    Ok(out)
}

/// Splits a logical line at the first unescaped `=`, `:` or whitespace.
fn split_key_value(line: &str) -> (&str, &str) {
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == '=' || c == ':' || c.is_whitespace() {
            let rest = line[i..].trim_start();
            let rest = if c.is_whitespace() { rest.strip_prefix(['=', ':']).unwrap_or(rest) } else { &rest[1..] };
            return (&line[..i], rest.trim_start());
        }
    }
    (line, "")
}

fn unescape(text: &str, line: usize) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\x0c'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                let decoded = u32::from_str_radix(&hex, 16).ok().filter(|_| hex.len() == 4).and_then(char::from_u32);
                let Some(decoded) = decoded else {
                    return Err(ConfigError::Syntax { line, reason: format!("malformed \\u{hex} escape") });
                };
                out.push(decoded);
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        match text.parse::<Config>() {
            Ok(config) => config,
            Err(e) => panic!("{text:?}: {e}"),
        }
    }

    fn invalid(text: &str) -> (String, String) {
        match text.parse::<Config>() {
            Err(ConfigError::InvalidValue { key, value, .. }) => (key, value),
            other => panic!("{text:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_just_work() {
        let c = parse("");
        assert_eq!(c, Config::default());
        assert_eq!(c.client_address(), "0.0.0.0:2181".parse().unwrap());
        assert_eq!(c.data_dir, Path::new("./data"));
        assert_eq!(c.data_log_dir(), Path::new("./data"));
        assert_eq!((c.min_session_timeout_ms(), c.max_session_timeout_ms()), (4000, 40000));
        assert_eq!(c.connections_per_address_max, 60);
        assert_eq!((c.snap_retain_count, c.purge_interval()), (3, None));
        assert_eq!(c.jute_maxbuffer_bytes, 1_048_575);
        assert!(c.extended_types_enabled && !c.reconfig_enabled && !c.local_sessions_enabled);
        assert_eq!(
            (c.snap_count, c.container_check_interval_ms, c.container_deletions_per_minute_max),
            (100_000, 60_000, 10_000)
        );
        assert_eq!(c.outstanding_requests_per_connection_max, 1000);
        assert_eq!(c.watches_per_connection_max, WATCHES_PER_CONNECTION_MAX_DEFAULT);
        assert_eq!(c.data_dir_lock_wait_ms, 30_000);
    }

    #[test]
    fn parses_a_typical_zoo_cfg() {
        let c = parse(
            "# comment\n! also a comment\n  tickTime = 1000 \ndataDir=/var/zk\ndataLogDir:/var/zk-log\n\
             clientPort 2182\nclientPortAddress=127.0.0.1\nmaxClientCnxns=0\nminSessionTimeout=1500\n\
             autopurge.snapRetainCount=5\nautopurge.purgeInterval=24\njute.maxbuffer=0x400000\n\
             reconfigEnabled=TRUE\nlocalSessionsEnabled=true\nsnapCount=5000\n\
             znode.container.checkIntervalMs=1000\nznode.container.maxPerMinute=50\n\
             maxOutstandingRequestsPerConnection=10\nmaxWatchesPerConnection=20\nclientPortListenBacklog=128\n\
             dataDirLockWaitMs=2500\n",
        );
        assert_eq!(c.tick_time_ms, 1000);
        assert_eq!(c.data_dir, Path::new("/var/zk"));
        assert_eq!(c.data_log_dir(), Path::new("/var/zk-log"));
        assert_eq!(c.client_address(), "127.0.0.1:2182".parse().unwrap());
        assert_eq!(c.connections_per_address_max, 0);
        assert_eq!((c.min_session_timeout_ms(), c.max_session_timeout_ms()), (1500, 20000));
        assert_eq!((c.snap_retain_count, c.purge_interval()), (5, Some(Duration::from_secs(86_400))));
        assert_eq!(c.jute_maxbuffer_bytes, 0x40_0000);
        assert!(c.reconfig_enabled && c.local_sessions_enabled && !c.local_sessions_upgrading_enabled);
        assert_eq!(
            (c.snap_count, c.container_check_interval_ms, c.container_deletions_per_minute_max),
            (5000, 1000, 50)
        );
        assert_eq!((c.outstanding_requests_per_connection_max, c.watches_per_connection_max), (10, 20));
        assert_eq!(c.client_port_listen_backlog, Some(128));
        assert_eq!(c.data_dir_lock_wait_ms, 2500);
        assert!(c.ignored_keys.is_empty());
    }

    #[test]
    fn properties_escapes_and_continuations() {
        let c = parse("dataDir=C:\\\\zk\\\n    \\u0064ata\nsnap\\\nCount=7\n");
        assert_eq!(c.data_dir, Path::new("C:\\zkdata"));
        assert_eq!(c.snap_count, 7);
        assert!(matches!("dataDir=\\u12\n".parse::<Config>(), Err(ConfigError::Syntax { line: 1, .. })));
        assert!(matches!("a=1\n=2\n".parse::<Config>(), Err(ConfigError::Syntax { line: 2, .. })));
    }

    #[test]
    fn later_lines_win() {
        assert_eq!(parse("tickTime=100\ntickTime=300\n").tick_time_ms, 300);
    }

    #[test]
    fn unused_keys_are_ignored_and_recorded() {
        let c = parse(
            "admin.serverPort=8080\nadmin.enableServer=false\nmetricsProvider.className=x\ninitLimit=5\n\
             syncLimit=2\nserver.1=127.0.0.1:2888:3888\nstandaloneEnabled=true\nglobalOutstandingLimit=5\n\
             tickTime=500\n",
        );
        assert_eq!(c.tick_time_ms, 500);
        assert_eq!((c.init_limit, c.sync_limit, c.servers.len()), (5, 2, 1));
        // One server.N line with standaloneEnabled runs standalone.
        assert!(!c.is_ensemble());
        assert_eq!(
            c.ignored_keys,
            ["admin.serverPort", "admin.enableServer", "metricsProvider.className", "globalOutstandingLimit"]
        );
    }

    #[test]
    fn ensemble_lines_myid_and_dynamic_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("myid"), "2\n").unwrap();
        let text = format!(
            "dataDir={}\nserver.1=10.0.0.1:2888:3888\nserver.2=[::1]:2889:3889:participant;127.0.0.1:2182\n\
             server.3=host3:2890:3890:observer;2183\nserver.4=host4:2891\n",
            dir.path().display()
        );
        let c = parse(&text);
        assert!(c.is_ensemble());
        assert_eq!(c.my_id().unwrap(), 2);
        let s2 = &c.servers[&2];
        assert_eq!((s2.host.as_str(), s2.peer_port, s2.election_port, s2.observer), ("::1", 2889, Some(3889), false));
        assert_eq!(s2.client, Some((Some("127.0.0.1".to_owned()), 2182)));
        assert_eq!(s2.peer_addr(), "[::1]:2889");
        assert!(c.servers[&3].observer);
        assert_eq!(c.servers[&3].client, Some((None, 2183)));
        assert_eq!(c.servers[&4].election_port, None);
        // Each member's own client part or none, whoever renders it (ZooKeeper's lines).
        assert_eq!(c.servers[&1].render(), "10.0.0.1:2888:3888:participant");
        assert_eq!(c.servers[&2].render(), "[::1]:2889:3889:participant;127.0.0.1:2182");
        assert_eq!(c.servers[&3].render(), "host3:2890:3890:observer;0.0.0.0:2183");
        let v6 = parse_server_spec("[fe80::1]:1:2;[::1]:2181").unwrap();
        assert_eq!(v6.render(), "[fe80::1]:1:2:participant;[::1]:2181");

        let dynamic = dir.path().join("zoo.cfg.dynamic");
        std::fs::write(&dynamic, "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\nversion=100000000\n")
            .unwrap();
        let c = parse(&format!("dataDir={}\ndynamicConfigFile={}\nmyid=1\n", dir.path().display(), dynamic.display()));
        assert_eq!(c.servers.len(), 2);
        assert_eq!(c.my_id().unwrap(), 1);
        assert_eq!(c.dynamic_config_file.as_deref(), Some(dynamic.as_path()));
    }

    #[test]
    fn bad_ensemble_config_names_the_key() {
        for (text, key) in [
            ("server.0=h:1:2\n", "server.0"),
            ("server.x=h:1:2\n", "server.x"),
            ("server.1=h\n", "server.1"),
            ("server.1=h:port:2\n", "server.1"),
            ("server.1=h:1:2:leader\n", "server.1"),
            ("server.1=h:1:2;notaport\n", "server.1"),
            ("server.1=[::1:1:2\n", "server.1"),
            ("server.1=h:1:2\nserver.2=h:1:3\n", "server.2"),
            ("server.1=h:1:2:observer\nserver.2=h:2:3:observer\n", "server.N"),
            ("server.1=h:1:2\nserver.2=h:2:3\nsyncLimit=0\n", "syncLimit"),
            ("electionTimeoutMs=10\n", "electionTimeoutMs"),
            ("dynamicConfigFile=/nonexistent/zoo.cfg.dynamic\n", "dynamicConfigFile"),
            ("peerType=witness\n", "peerType"),
        ] {
            let (k, _) = invalid(text);
            assert_eq!(k, key, "{text}");
        }
        // myid must name a server line.
        let c = parse("server.1=h:1:2\nserver.2=h:2:3\nmyid=7\n");
        assert!(c.my_id().unwrap_err().to_string().contains("no server.N line"));
        let c = parse("dataDir=/nonexistent-corral\nserver.1=h:1:2\nserver.2=h:2:3\n");
        assert!(c.my_id().unwrap_err().to_string().contains("myid"));
    }

    #[test]
    fn zookeeper_prefix_is_accepted() {
        let c = parse(
            "zookeeper.extendedTypesEnabled=false\nzookeeper.DigestAuthenticationProvider.superDigest=\
             super:D/InIHSb7yEEbrWz8b9l71RjZJU=\nzookeeper.4lw.commands.whitelist=ruok\nzookeeper.nope=1\n",
        );
        assert!(!c.extended_types_enabled);
        assert_eq!(c.super_digest.as_deref(), Some("super:D/InIHSb7yEEbrWz8b9l71RjZJU="));
        assert!(c.four_letter_word_allowed("ruok"));
        assert_eq!(c.ignored_keys, ["zookeeper.nope"]);
        let c = parse("DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n");
        assert!(c.super_digest.is_some());
    }

    #[test]
    fn bad_values_name_the_key_and_value() {
        for (text, key, value) in [
            ("clientPort=70000", "clientPort", "70000"),
            ("clientPort=-1", "clientPort", "-1"),
            ("clientPortAddress=not-an-ip", "clientPortAddress", "not-an-ip"),
            ("tickTime=abc", "tickTime", "abc"),
            ("tickTime=0", "tickTime", "0"),
            ("maxClientCnxns=-3", "maxClientCnxns", "-3"),
            ("minSessionTimeout=0", "minSessionTimeout", "0"),
            ("maxSessionTimeout=-5", "maxSessionTimeout", "-5"),
            ("reconfigEnabled=yes", "reconfigEnabled", "yes"),
            ("localSessionsUpgradingEnabled=maybe", "localSessionsUpgradingEnabled", "maybe"),
            ("zookeeper.extendedTypesEnabled=1", "zookeeper.extendedTypesEnabled", "1"),
            ("jute.maxbuffer=0", "jute.maxbuffer", "0"),
            ("jute.maxbuffer=0xffffffff", "jute.maxbuffer", "0xffffffff"),
            ("dataDir=", "dataDir", ""),
            ("DigestAuthenticationProvider.superDigest=super", "DigestAuthenticationProvider.superDigest", "super"),
            (
                "DigestAuthenticationProvider.superDigest=super:abc",
                "DigestAuthenticationProvider.superDigest",
                "super:abc",
            ),
            ("znode.container.maxPerMinute=0", "znode.container.maxPerMinute", "0"),
            ("maxWatchesPerConnection=0", "maxWatchesPerConnection", "0"),
            ("clientPortListenBacklog=0", "clientPortListenBacklog", "0"),
        ] {
            assert_eq!(invalid(text), (key.to_owned(), value.to_owned()), "{text}");
        }
        let message = "tickTime=abc".parse::<Config>().unwrap_err().to_string();
        assert!(message.contains("tickTime") && message.contains("\"abc\""), "{message}");
    }

    #[test]
    fn session_timeouts_default_from_tick_and_must_be_ordered() {
        let c = parse("tickTime=100\nminSessionTimeout=-1\n");
        assert_eq!((c.min_session_timeout_ms(), c.max_session_timeout_ms()), (200, 2000));
        assert!(matches!(
            "minSessionTimeout=5000\nmaxSessionTimeout=4000".parse::<Config>(),
            Err(ConfigError::SessionTimeoutRange { min_ms: 5000, max_ms: 4000 })
        ));
        assert!(matches!(
            "tickTime=100\nminSessionTimeout=3000".parse::<Config>(),
            Err(ConfigError::SessionTimeoutRange { min_ms: 3000, max_ms: 2000 })
        ));
        let mut c = Config::default();
        c.set_min_session_timeout_ms(50_000);
        assert!(c.validate().is_err(), "an override is checked too");
        c.set_max_session_timeout_ms(60_000);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn low_retain_and_snap_counts_are_raised() {
        let c = parse("autopurge.snapRetainCount=1\nsnapCount=1\nautopurge.purgeInterval=-2\n");
        assert_eq!((c.snap_retain_count, c.snap_count, c.purge_interval()), (3, 2, None));
    }

    #[test]
    fn whitelist_defaults_to_srvr_and_knows_every_word() {
        let c = Config::default();
        assert!(c.four_letter_word_allowed("srvr"));
        assert!(!c.four_letter_word_allowed("ruok") && !c.four_letter_word_allowed("isro"));
        let ro = parse("readonlymode.enabled=true\n");
        assert!(ro.read_only_mode && ro.four_letter_word_allowed("isro"));

        let c = parse("4lw.commands.whitelist= ruok , stat,bogus,,\n");
        assert_eq!(c.four_letter_words, FourLetterWhitelist::Only(["ruok".into(), "stat".into()].into()));
        assert!(c.four_letter_word_allowed("ruok") && c.four_letter_word_allowed("srvr"));
        assert!(!c.four_letter_word_allowed("mntr") && !c.four_letter_word_allowed("bogus"));

        let c = parse("4lw.commands.whitelist=ruok, *\n");
        assert_eq!(c.four_letter_words, FourLetterWhitelist::All);
        assert!(FOUR_LETTER_WORDS.iter().all(|w| c.four_letter_word_allowed(w)));
        assert!(!c.four_letter_word_allowed("xyzw"));
    }

    #[test]
    fn data_log_dir_follows_data_dir_unless_set() {
        let mut c = Config { data_dir: PathBuf::from("/srv/zk"), ..Config::default() };
        assert_eq!(c.data_log_dir(), Path::new("/srv/zk"));
        c.set_data_log_dir("/fast/log");
        c.data_dir = PathBuf::from("/other");
        assert_eq!(c.data_log_dir(), Path::new("/fast/log"));
    }

    #[test]
    fn conf_output_matches_zookeeper_standalone() {
        let c = parse("dataDir=/var/zk\ntickTime=2000\nclientPort=2181\n");
        assert_eq!(
            c.render_conf(10, 20, None),
            "clientPort=2181\nsecureClientPort=-1\ndataDir=/var/zk\ndataDirSize=10\ndataLogDir=/var/zk\n\
             dataLogSize=20\ntickTime=2000\nmaxClientCnxns=60\nminSessionTimeout=4000\n\
             maxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n"
        );
        let relative = Config::default().render_conf(0, 0, None);
        let data_dir = relative.lines().nth(2).unwrap_or_default();
        assert!(data_dir.starts_with("dataDir=/") && data_dir.ends_with("data"), "{data_dir}");
    }

    #[test]
    fn from_file_reports_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("zoo.cfg");
        assert!(matches!(Config::from_file(&path), Err(ConfigError::Read { .. })));
        std::fs::write(&path, "clientPort=3000\n").unwrap();
        assert_eq!(Config::from_file(&path).unwrap().client_port, 3000);
    }
}
