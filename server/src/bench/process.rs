//! The servers under test as child processes, their temporary directories,
//! and the clean-up that kills and deletes them whatever happens.
//!
//! [`Proc`] is one server process (standalone or an ensemble member, see
//! [`Role`]); [`Server`] is a standalone one with its own directory.
//! Every child and every temporary directory is recorded in a process-wide
//! registry while it lives. Guards remove their own entry on `Drop` (normal
//! return, error, panic); [`cleanup_all`] empties the registry, and the
//! handler installed by [`install_signal_cleanup`] calls it on SIGINT/SIGTERM.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{Context, Error, Result};

/// The JVM heap flag ZooKeeper runs with.
pub const ZOOKEEPER_HEAP_FLAG: &str = "-Xmx256m";
/// Keeps slf4j-simple at warnings, as `RUST_LOG=warn` does for corral.
pub const ZOOKEEPER_LOG_FLAG: &str = "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn";
/// ZooKeeper's standalone entry point.
const ZOOKEEPER_MAIN: &str = "org.apache.zookeeper.server.ZooKeeperServerMain";
/// ZooKeeper's entry point for an ensemble member.
const ZOOKEEPER_QUORUM_MAIN: &str = "org.apache.zookeeper.server.quorum.QuorumPeerMain";
/// tickTime of every server started (ZooKeeper's default).
pub const TICK_TIME_MS: u32 = 2000;
/// Pause between `ruok` probes.
const POLL_INTERVAL: Duration = Duration::from_millis(2);
/// Lines of a server's log quoted when it fails.
const LOG_TAIL_LINES: usize = 20;

/// Which server a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// This binary's `server` subcommand.
    Corral,
    /// Apache ZooKeeper's standalone server on a JVM.
    ZooKeeper,
}

impl Kind {
    /// The display name.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Corral => "corral",
            Kind::ZooKeeper => "ZooKeeper",
        }
    }

    /// A lower-case name for file names.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Corral => "corral",
            Kind::ZooKeeper => "zookeeper",
        }
    }
}

/// How to start each server.
#[derive(Clone, Debug)]
pub struct Launcher {
    /// The corral binary (normally the running one).
    pub corral_exe: PathBuf,
    /// The java launcher.
    pub java: PathBuf,
    /// The classpath holding ZooKeeperServerMain and an slf4j binding.
    pub zookeeper_classpath: String,
}

/// What the guards have created and not yet cleaned up.
struct Registry {
    children: Vec<(u64, Arc<Mutex<Child>>)>,
    dirs: Vec<(u64, PathBuf)>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { children: Vec::new(), dirs: Vec::new() });
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
/// Set when a signal handler started cleaning up; the process is about to exit.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// True once SIGINT or SIGTERM was caught: failures after it are its doing.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(PoisonError::into_inner)
}

fn lock_child(child: &Mutex<Child>) -> MutexGuard<'_, Child> {
    child.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Kills (SIGKILL) and reaps a child; errors mean it is already gone.
fn kill(child: &Mutex<Child>) {
    let mut child = lock_child(child);
    let _ = child.kill();
    let _ = child.wait();
}

/// Kills every registered child and deletes every registered directory.
pub fn cleanup_all() {
    let (children, dirs) = {
        let mut r = registry();
        (std::mem::take(&mut r.children), std::mem::take(&mut r.dirs))
    };
    for (_, child) in children {
        kill(&child);
    }
    for (_, dir) in dirs {
        let _ = fs::remove_dir_all(dir);
    }
}

/// Starts a thread that, on SIGINT or SIGTERM, cleans up and exits with 130.
pub fn install_signal_cleanup() {
    let spawned = std::thread::Builder::new().name("bench-signals".into()).spawn(|| {
        let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(runtime) => runtime,
            Err(e) => {
                eprintln!("corral bench: no signal handling ({e}); an interrupt may leave servers running");
                return;
            }
        };
        let caught = runtime.block_on(async {
            use tokio::signal::unix::{signal, SignalKind};
            let mut term = signal(SignalKind::terminate())?;
            let mut int = signal(SignalKind::interrupt())?;
            Ok::<_, io::Error>(tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            })
        });
        match caught {
            Ok(name) => {
                INTERRUPTED.store(true, Ordering::SeqCst);
                eprintln!("corral bench: {name}: stopping servers and deleting temporary directories");
                cleanup_all();
                std::process::exit(130);
            }
            Err(e) => eprintln!("corral bench: no signal handling ({e}); an interrupt may leave servers running"),
        }
    });
    if let Err(e) = spawned {
        eprintln!("corral bench: no signal handling ({e}); an interrupt may leave servers running");
    }
}

/// A directory under the system temporary directory, deleted on drop.
pub struct TempDir {
    path: PathBuf,
    id: u64,
}

impl TempDir {
    /// Creates `corral-bench-<pid>-<label>-<n>` in the temporary directory.
    pub fn new(label: &str) -> Result<TempDir> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let name = format!("corral-bench-{}-{label}-{id}", std::process::id());
        let path = std::env::temp_dir().join(name);
        fs::create_dir(&path).with_context(|| format!("creating {}", path.display()))?;
        registry().dirs.push((id, path.clone()));
        Ok(TempDir { path, id })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
        registry().dirs.retain(|(id, _)| *id != self.id);
    }
}

/// Resident memory of a process, from `/proc/<pid>/status`.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// VmRSS.
    pub rss_bytes: u64,
    /// VmHWM: the peak RSS so far.
    pub peak_rss_bytes: u64,
}

/// Size of a directory tree.
#[derive(Clone, Copy, Debug)]
pub struct DiskUsage {
    /// Sum of file lengths.
    pub apparent_bytes: u64,
    /// Blocks actually allocated (sparse, preallocated files count what is written).
    pub allocated_bytes: u64,
}

/// Which entry point a server process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// A single server (`ZooKeeperServerMain` for ZooKeeper).
    Standalone,
    /// A member of a replicated ensemble (`QuorumPeerMain` for ZooKeeper;
    /// corral reads the `server.N` lines of the same file).
    Member,
}

/// One running server process, recorded in the registry while it lives.
/// Dropping it kills (SIGKILL) and reaps the process.
pub struct Proc {
    kind: Kind,
    child: Arc<Mutex<Child>>,
    child_id: u64,
    pid: u32,
    log: PathBuf,
    spawned_at: Instant,
}

impl Proc {
    /// Spawns `kind` on the configuration file `config`, in the working
    /// directory `cwd`, with stdout and stderr appended to `log`.
    pub fn spawn(launcher: &Launcher, kind: Kind, role: Role, config: &Path, cwd: &Path, log: &Path) -> Result<Proc> {
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone().with_context(|| format!("opening {}", log.display()))?;
        let mut command = match kind {
            Kind::Corral => {
                let mut c = Command::new(&launcher.corral_exe);
                c.arg("server").arg("--config").arg(config).env("RUST_LOG", "warn");
                c
            }
            Kind::ZooKeeper => {
                let mut c = Command::new(&launcher.java);
                c.arg(ZOOKEEPER_HEAP_FLAG)
                    .arg(ZOOKEEPER_LOG_FLAG)
                    .arg("-cp")
                    .arg(&launcher.zookeeper_classpath)
                    .arg(match role {
                        Role::Standalone => ZOOKEEPER_MAIN,
                        Role::Member => ZOOKEEPER_QUORUM_MAIN,
                    })
                    .arg(config);
                c
            }
        };
        command.current_dir(cwd).stdin(Stdio::null()).stdout(out).stderr(err);

        let spawned_at = Instant::now();
        let child =
            command.spawn().with_context(|| format!("starting {} ({:?})", kind.name(), command.get_program()))?;
        let pid = child.id();
        let child = Arc::new(Mutex::new(child));
        let child_id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        registry().children.push((child_id, Arc::clone(&child)));
        Ok(Proc { kind, child, child_id, pid, log: log.to_path_buf(), spawned_at })
    }

    /// When the process was spawned.
    pub fn spawned_at(&self) -> Instant {
        self.spawned_at
    }

    /// Fails, quoting the log, if the process has exited.
    pub fn check_running(&self) -> Result<()> {
        let status = lock_child(&self.child)
            .try_wait()
            .with_context(|| format!("checking on the {} process", self.kind.name()))?;
        match status {
            None => Ok(()),
            Some(status) => Err(Error::msg(format!("{} exited ({status}){}", self.kind.name(), self.log_tail()))),
        }
    }

    /// The last lines of the server's log, formatted for an error message.
    pub fn log_tail(&self) -> String {
        log_tail(&self.log)
    }

    /// Sends SIGKILL and reaps the process; returns the instant just before
    /// the signal was sent.
    pub fn kill(self) -> Instant {
        let sent = Instant::now();
        drop(self);
        sent
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        kill(&self.child);
        registry().children.retain(|(id, _)| *id != self.child_id);
    }
}

/// The last lines of a log file, formatted for an error message.
pub fn log_tail(log: &Path) -> String {
    let Ok(file) = File::open(log) else {
        return String::new();
    };
    let lines: Vec<String> = BufReader::new(file).lines().map_while(|l| l.ok()).collect();
    let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
    if tail.is_empty() {
        return String::new();
    }
    format!("; last lines of its output:\n  {}", tail.join("\n  "))
}

/// A running standalone server process on 127.0.0.1 with its own temporary
/// directory. Dropping it kills the process and deletes the directory.
pub struct Server {
    kind: Kind,
    // Declared before `_dir`: the process dies before its directory is deleted.
    proc: Proc,
    addr: SocketAddr,
    data_dir: PathBuf,
    /// Held only to be deleted (after the process is killed) when dropped.
    _dir: TempDir,
}

impl Server {
    /// Writes a zoo.cfg for a free loopback port and a fresh data directory,
    /// and spawns the server with its output going to a log file.
    pub fn spawn(launcher: &Launcher, kind: Kind) -> Result<Server> {
        let dir = TempDir::new(kind.slug())?;
        let data_dir = dir.path().join("data");
        fs::create_dir(&data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let port = free_ports(1)?[0];
        let config = dir.path().join("zoo.cfg");
        fs::write(&config, zoo_cfg(kind, &data_dir, port)).with_context(|| format!("writing {}", config.display()))?;
        let log = dir.path().join("server.log");
        let proc = Proc::spawn(launcher, kind, Role::Standalone, &config, dir.path(), &log)?;
        let addr = SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port));
        Ok(Server { kind, proc, addr, data_dir, _dir: dir })
    }

    /// The client address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Polls `ruok` every [`POLL_INTERVAL`] until the server answers `imok`;
    /// returns the time since the process was spawned. Fails if the process
    /// exits or `timeout` passes first.
    pub fn wait_ready(&self, timeout: Duration) -> Result<Duration> {
        let spawned_at = self.proc.spawned_at();
        let deadline = spawned_at + timeout;
        loop {
            if let Ok(true) = ruok(self.addr) {
                return Ok(spawned_at.elapsed());
            }
            self.proc.check_running()?;
            if Instant::now() >= deadline {
                return Err(Error::msg(format!(
                    "{} did not answer ruok on {} within {} s{}",
                    self.kind.name(),
                    self.addr,
                    timeout.as_secs(),
                    self.proc.log_tail()
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// The process's current and peak RSS.
    pub fn memory(&self) -> Result<Memory> {
        self.proc.check_running()?;
        let path = format!("/proc/{}/status", self.proc.pid);
        let status = fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        let field = |name: &str| -> Result<u64> {
            let line = status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .ok_or_else(|| Error::msg(format!("{path} has no {name} line")))?;
            let kib: u64 = line
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .with_context(|| format!("parsing {name} in {path}"))?;
            Ok(kib * 1024)
        };
        Ok(Memory { rss_bytes: field("VmRSS:")?, peak_rss_bytes: field("VmHWM:")? })
    }

    /// The size of the data directory (snapshots and logs).
    pub fn disk_usage(&self) -> Result<DiskUsage> {
        let mut usage = DiskUsage { apparent_bytes: 0, allocated_bytes: 0 };
        add_tree(&self.data_dir, &mut usage)?;
        Ok(usage)
    }

    /// Kills the process and deletes its directory (what `Drop` does).
    pub fn stop(self) {}
}

/// Adds the sizes of every file under `dir`.
fn add_tree(dir: &Path, usage: &mut DiskUsage) -> Result<()> {
    let entries = fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        let path = entry.path();
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // The server may delete a file (an old log or snapshot) meanwhile.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::msg(format!("inspecting {}: {e}", path.display()))),
        };
        if meta.is_dir() {
            add_tree(&path, usage)?;
        } else {
            usage.apparent_bytes += meta.len();
            usage.allocated_bytes += meta.blocks() * 512;
        }
    }
    Ok(())
}

/// `n` distinct ports that were free on 127.0.0.1 a moment ago (all are held
/// open together while they are picked, so none is handed out twice).
pub fn free_ports(n: usize) -> Result<Vec<u16>> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))
        .collect::<io::Result<Vec<_>>>()
        .context("finding a free port on 127.0.0.1")?;
    listeners.iter().map(|l| Ok(l.local_addr().context("finding a free port on 127.0.0.1")?.port())).collect()
}

/// The configuration file for one server (an ensemble member's adds to it).
pub fn zoo_cfg(kind: Kind, data_dir: &Path, port: u16) -> String {
    let mut cfg = format!(
        "tickTime={TICK_TIME_MS}\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\n\
         maxClientCnxns=0\n4lw.commands.whitelist=*\n",
        data_dir.display()
    );
    if kind == Kind::ZooKeeper {
        // The AdminServer would open an HTTP port on all interfaces.
        cfg.push_str("admin.enableServer=false\n");
    }
    cfg
}

/// One `ruok` probe: true if the server answered `imok`.
fn ruok(addr: SocketAddr) -> io::Result<bool> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.set_write_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(b"ruok")?;
    let mut answer = [0u8; 4];
    let mut got = 0;
    while got < answer.len() {
        match stream.read(&mut answer[got..])? {
            0 => return Ok(false),
            n => got += n,
        }
    }
    Ok(&answer == b"imok")
}

/// Sends a four-letter word and returns the whole answer (read until the
/// server closes the connection). Connecting and each read are bounded.
pub fn four_letter(addr: SocketAddr, word: &str) -> io::Result<String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.set_write_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(word.as_bytes())?;
    let mut answer = Vec::new();
    stream.take(1 << 20).read_to_end(&mut answer)?;
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_deleted_on_drop() {
        let dir = TempDir::new("test").expect("temp dir");
        let path = dir.path().to_path_buf();
        fs::write(path.join("f"), b"x").expect("write");
        assert!(path.exists());
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn zookeeper_config_disables_the_admin_server() {
        let cfg = zoo_cfg(Kind::ZooKeeper, Path::new("/tmp/x"), 1234);
        assert!(cfg.contains("clientPort=1234\n") && cfg.contains("admin.enableServer=false"));
        assert!(!zoo_cfg(Kind::Corral, Path::new("/tmp/x"), 1234).contains("admin."));
    }

    #[test]
    fn tree_sizes_add_up() {
        let dir = TempDir::new("test").expect("temp dir");
        fs::create_dir(dir.path().join("sub")).expect("mkdir");
        fs::write(dir.path().join("a"), [0u8; 10]).expect("write");
        fs::write(dir.path().join("sub/b"), [0u8; 5]).expect("write");
        let mut usage = DiskUsage { apparent_bytes: 0, allocated_bytes: 0 };
        add_tree(dir.path(), &mut usage).expect("walk");
        assert_eq!(usage.apparent_bytes, 15);
    }
}
