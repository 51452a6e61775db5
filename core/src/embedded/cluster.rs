//! A replicated ensemble inside one process: N voting members plus
//! observers, each an [`EmbeddedServer`] with its own data directory, client
//! port and peer port on 127.0.0.1, with short ticks so that failover takes
//! a fraction of a second. Members are numbered from 0 (`myid` = index + 1).

use std::net::{Ipv4Addr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::{EmbedError, EmbeddedServer, ServerBuilder, POLL_INTERVAL, SETTLE_TIMEOUT_DEFAULT};
use crate::replication::Role;

/// The settings of a [`TestCluster`].
#[derive(Clone, Debug)]
pub struct ClusterBuilder {
    /// Voting members (participants).
    voters: usize,
    /// Non-voting members (observers), numbered after the voters.
    observers: usize,
    /// `tickTime` of every member.
    tick_ms: u32,
    /// More `zoo.cfg` lines for every member, applied after the cluster's own.
    options: Vec<(String, String)>,
    /// How long `start` and `restart` wait for the cluster to settle.
    settle_timeout: Duration,
}

impl Default for ClusterBuilder {
    fn default() -> ClusterBuilder {
        ClusterBuilder {
            voters: 3,
            observers: 0,
            tick_ms: 100,
            options: Vec::new(),
            settle_timeout: SETTLE_TIMEOUT_DEFAULT,
        }
    }
}

impl ClusterBuilder {
    /// Three voters, no observer, 100 ms ticks.
    pub fn new() -> ClusterBuilder {
        ClusterBuilder::default()
    }

    /// The number of voting members (at least 1).
    pub fn voters(mut self, n: usize) -> ClusterBuilder {
        self.voters = n;
        self
    }

    /// The number of observers.
    pub fn observers(mut self, n: usize) -> ClusterBuilder {
        self.observers = n;
        self
    }

    /// `tickTime` in ms; the election timeout follows (3 ticks, at least 150 ms).
    pub fn tick_ms(mut self, ms: u32) -> ClusterBuilder {
        self.tick_ms = ms;
        self
    }

    /// A `zoo.cfg` line for every member.
    pub fn option(mut self, key: impl Into<String>, value: impl Into<String>) -> ClusterBuilder {
        self.options.push((key.into(), value.into()));
        self
    }

    /// How long starting and restarting wait for one leader and every member serving.
    pub fn settle_timeout(mut self, timeout: Duration) -> ClusterBuilder {
        self.settle_timeout = timeout;
        self
    }

    /// The cluster with every member stopped: ports chosen, directories made,
    /// configurations checked. [`TestCluster::serve`] starts it.
    pub fn build(self) -> Result<TestCluster, EmbedError> {
        if self.voters == 0 {
            return Err(EmbedError::NoVoters);
        }
        let total = self.voters + self.observers;
        let dir = tempfile::Builder::new().prefix("corral-cluster-").tempdir().map_err(EmbedError::TempDir)?;
        let ports = free_ports(3 * total)?;
        let client_ports = &ports[..total];
        let peers: Vec<String> = (0..total)
            .map(|i| {
                let role = if i >= self.voters { ":observer" } else { "" };
                let (peer, election) = (ports[total + 2 * i], ports[total + 2 * i + 1]);
                format!("127.0.0.1:{peer}:{election}{role};127.0.0.1:{}", client_ports[i])
            })
            .collect();
        let own = [
            ("tickTime".to_owned(), self.tick_ms.to_string()),
            ("electionTimeoutMs".to_owned(), (3 * self.tick_ms).max(150).to_string()),
            ("4lw.commands.whitelist".to_owned(), "*".to_owned()),
            ("standaloneEnabled".to_owned(), "false".to_owned()),
        ];
        let mut members = Vec::with_capacity(total);
        for (i, port) in client_ports.iter().enumerate() {
            let data_dir: PathBuf = dir.path().join(format!("member{i}"));
            let mut b = ServerBuilder::new().data_dir(data_dir).client_port(*port).server_id(member_id(i));
            for (key, value) in own.iter().chain(&self.options) {
                b = b.option(key, value);
            }
            for (j, spec) in peers.iter().enumerate() {
                b = b.peer(member_id(j), spec);
            }
            members.push(Mutex::new(b.build()?));
        }
        Ok(TestCluster {
            members,
            client_ports: client_ports.to_vec(),
            settle_timeout: self.settle_timeout,
            closed: AtomicBool::new(false),
            dir: parking_lot::Mutex::new(Some(dir)),
        })
    }

    /// Builds the cluster and waits until it serves.
    pub async fn start(self) -> Result<TestCluster, EmbedError> {
        let settle = self.settle_timeout;
        let cluster = self.build()?;
        cluster.serve(settle).await?;
        Ok(cluster)
    }
}

/// `myid` of member `index`.
fn member_id(index: usize) -> u64 {
    index as u64 + 1
}

/// `n` distinct free loopback ports: all bound at once, then released.
fn free_ports(n: usize) -> Result<Vec<u16>, EmbedError> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EmbedError::io("reserving loopback ports", e))?;
    listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| EmbedError::io("reserving loopback ports", e))
}

/// A replicated ensemble in this process. Every method takes `&self`, so one
/// cluster can be shared by the threads of a test (and by a binding's handle).
///
/// ```
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// use corral::client::Client;
/// use corral::embedded::TestCluster;
///
/// let cluster = TestCluster::builder().voters(3).start().await?;
/// let client = Client::connect(&cluster.connect_string()).await?;
/// client.create("/before", b"", &Default::default()).await?;
/// let old = cluster.leader(Duration::from_secs(10)).await?;
/// cluster.kill(old).await?; // the others elect a new leader
/// assert_ne!(cluster.leader(Duration::from_secs(10)).await?, old);
/// cluster.restart(old).await?; // back, and catching up
/// cluster.close().await?;
/// # Ok(()) }
/// # corral::runtime::block_on(demo()).unwrap().unwrap();
/// ```
pub struct TestCluster {
    /// The members, each locked while it starts or stops.
    members: Vec<Mutex<EmbeddedServer>>,
    /// Each member's client port, fixed at build time.
    client_ports: Vec<u16>,
    /// How long starting and restarting wait.
    settle_timeout: Duration,
    /// Set by `close`: every later call fails with [`EmbedError::Closed`].
    closed: AtomicBool,
    /// The members' data directories, removed by `close` (or on drop).
    dir: parking_lot::Mutex<Option<tempfile::TempDir>>,
}

impl TestCluster {
    /// Settings for a cluster: three voters by default.
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::new()
    }

    /// How many members (voters and observers).
    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// A connect string naming every member.
    pub fn connect_string(&self) -> String {
        let hosts: Vec<String> = self.client_ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
        hosts.join(",")
    }

    /// Member `index`'s client port.
    pub fn port(&self, index: usize) -> Result<u16, EmbedError> {
        self.check(index)?;
        Ok(self.client_ports[index])
    }

    /// Whether member `index` is running.
    pub async fn is_running(&self, index: usize) -> Result<bool, EmbedError> {
        Ok(self.member(index)?.lock().await.is_running())
    }

    /// Member `index`'s role: `Leader`, `Follower` or `Observer`; `None`
    /// while it is stopped or knows no leader.
    pub async fn mode(&self, index: usize) -> Result<Option<Role>, EmbedError> {
        let role = self.member(index)?.lock().await.role();
        Ok(role.filter(|r| *r != Role::Looking))
    }

    /// The index of the one leading member, waiting up to `timeout` for one.
    pub async fn leader(&self, timeout: Duration) -> Result<usize, EmbedError> {
        let deadline = Instant::now() + timeout;
        loop {
            let modes = self.modes().await?;
            let leaders: Vec<usize> = (0..modes.len()).filter(|i| modes[*i] == Some(Role::Leader)).collect();
            if let [one] = leaders[..] {
                return Ok(one);
            }
            if Instant::now() >= deadline {
                return Err(EmbedError::Timeout { what: format!("no single leader (modes: {modes:?})"), timeout });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Waits until every running member serves under one leader.
    pub async fn wait_serving(&self, timeout: Duration) -> Result<(), EmbedError> {
        let deadline = Instant::now() + timeout;
        loop {
            let mut roles = Vec::with_capacity(self.members.len());
            for m in &self.members {
                roles.push(m.lock().await.role());
            }
            let running: Vec<Role> = roles.iter().flatten().copied().collect();
            let leaders = running.iter().filter(|r| **r == Role::Leader).count();
            if leaders == 1 && !running.contains(&Role::Looking) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(EmbedError::Timeout {
                    what: format!("the cluster did not settle (roles: {roles:?})"),
                    timeout,
                });
            }
            tokio::time::sleep(POLL_INTERVAL).await;
        }
    }

    /// Starts every stopped member and waits up to `timeout` until the cluster serves.
    pub async fn serve(&self, timeout: Duration) -> Result<(), EmbedError> {
        self.check_open()?;
        for m in &self.members {
            m.lock().await.serve().await?;
        }
        self.wait_serving(timeout).await
    }

    /// Stops member `index` at once: its clients move to other members, and
    /// if it led, the others elect a new leader.
    pub async fn kill(&self, index: usize) -> Result<(), EmbedError> {
        self.member(index)?.lock().await.stop().await
    }

    /// Starts member `index` again (same port, same data) and waits until the
    /// cluster serves; the member catches up with what it missed.
    pub async fn restart(&self, index: usize) -> Result<(), EmbedError> {
        self.member(index)?.lock().await.serve().await?;
        self.wait_serving(self.settle_timeout).await
    }

    /// Stops every member (their data stays until [`TestCluster::close`]).
    pub async fn stop(&self) -> Result<(), EmbedError> {
        self.check_open()?;
        self.stop_all().await
    }

    /// Stops every member and removes their data; the cluster is unusable after.
    pub async fn close(&self) -> Result<(), EmbedError> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let stopped = self.stop_all().await;
        let dir = self.dir.lock().take();
        if let Some(dir) = dir {
            dir.close().map_err(|e| EmbedError::io("removing the cluster's data", e))?;
        }
        stopped
    }

    async fn stop_all(&self) -> Result<(), EmbedError> {
        let mut first_error = None;
        for m in &self.members {
            if let Err(e) = m.lock().await.stop().await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn modes(&self) -> Result<Vec<Option<Role>>, EmbedError> {
        let mut modes = Vec::with_capacity(self.members.len());
        for i in 0..self.members.len() {
            modes.push(self.mode(i).await?);
        }
        Ok(modes)
    }

    fn check_open(&self) -> Result<(), EmbedError> {
        match self.closed.load(Ordering::Acquire) {
            true => Err(EmbedError::Closed),
            false => Ok(()),
        }
    }

    fn check(&self, index: usize) -> Result<(), EmbedError> {
        self.check_open()?;
        match index < self.members.len() {
            true => Ok(()),
            false => Err(EmbedError::NoMember { index, members: self.members.len() }),
        }
    }

    fn member(&self, index: usize) -> Result<&Mutex<EmbeddedServer>, EmbedError> {
        self.check(index)?;
        Ok(&self.members[index])
    }
}

impl std::fmt::Debug for TestCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCluster")
            .field("connect_string", &self.connect_string())
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish()
    }
}

impl Drop for TestCluster {
    /// Without [`TestCluster::close`]: stops the members on the runtime this
    /// drop happens in, and removes their data after that.
    fn drop(&mut self) {
        let members = std::mem::take(&mut self.members);
        let dir = self.dir.get_mut().take();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                for m in members {
                    if let Err(e) = m.into_inner().stop().await {
                        tracing::warn!(error = %e, "cluster member did not stop cleanly");
                    }
                }
                drop(dir);
            });
        }
    }
}
