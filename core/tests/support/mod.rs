//! Servers for client and recipe tests: corral in-process, or a real Apache
//! ZooKeeper 3.8 (Debian package `zookeeper`) started on loopback from a
//! temporary directory. Every test body runs against both.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use corral::client::Client;
use corral::server::{Config, Server};

/// Tick time of test servers: short, so expiry tests are quick.
pub const TICK_MS: u32 = 200;
/// Classpath of the Debian package's server.
const ZK_CLASSPATH: &str = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-simple.jar";

/// Which server a test runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Corral,
    ZooKeeper,
}

/// A running server on 127.0.0.1 with its own data directory.
pub struct TestServer {
    pub kind: Kind,
    pub port: u16,
    dir: tempfile::TempDir,
    corral: Option<Server>,
    zk: Option<Child>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

fn four_letter(port: u16, word: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.write_all(word.as_bytes()).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

impl TestServer {
    /// Starts a fresh server of `kind`.
    pub async fn start(kind: Kind) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut srv = TestServer { kind, port: free_port(), dir, corral: None, zk: None };
        srv.start_again().await;
        srv
    }

    /// `127.0.0.1:<port>`.
    pub fn hosts(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// A connected client with a short session timeout.
    pub async fn client(&self) -> Client {
        self.client_with(Duration::from_secs(4)).await
    }

    /// A connected client with the given session timeout.
    pub async fn client_with(&self, session_timeout: Duration) -> Client {
        Client::builder(&self.hosts())
            .session_timeout(session_timeout)
            .connection_timeout(Duration::from_secs(20))
            .connect()
            .await
            .expect("client connects")
    }

    fn zoo_cfg(&self) -> String {
        let d = self.dir.path().display();
        format!(
            "tickTime={TICK_MS}\ndataDir={d}/data\ndataLogDir={d}/log\nclientPort={}\nclientPortAddress=127.0.0.1\n\
             maxClientCnxns=0\n4lw.commands.whitelist=*\nadmin.enableServer=false\nextendedTypesEnabled=true\n\
             znode.container.checkIntervalMs=500\nminSessionTimeout={}\nmaxSessionTimeout=60000\n",
            self.port,
            TICK_MS * 2
        )
    }

    /// Starts the server again on the same port and data.
    pub async fn start_again(&mut self) {
        let cfg_path = self.dir.path().join("zoo.cfg");
        std::fs::write(&cfg_path, self.zoo_cfg()).expect("write zoo.cfg");
        match self.kind {
            Kind::Corral => {
                let config = Config::from_file(&cfg_path).expect("zoo.cfg parses");
                // Binding may briefly fail right after a stop on the same port.
                let deadline = Instant::now() + Duration::from_secs(10);
                loop {
                    match Server::start(config.clone()).await {
                        Ok(s) => {
                            self.corral = Some(s);
                            break;
                        }
                        Err(e) if Instant::now() < deadline => {
                            eprintln!("corral start retry: {e}");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        Err(e) => panic!("corral did not start: {e}"),
                    }
                }
            }
            Kind::ZooKeeper => {
                assert!(
                    std::path::Path::new("/usr/share/java/zookeeper.jar").exists(),
                    "Apache ZooKeeper is not installed (apt-get install zookeeper): tests/run-all.sh installs it"
                );
                let log = std::fs::File::create(self.dir.path().join("zk.log")).expect("log file");
                let child = Command::new("java")
                    .args(["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"])
                    .arg("-Dzookeeper.extendedTypesEnabled=true")
                    .arg("-Dznode.container.checkIntervalMs=500")
                    .arg("-Dzookeeper.admin.enableServer=false")
                    .args(["-cp", ZK_CLASSPATH, "org.apache.zookeeper.server.ZooKeeperServerMain"])
                    .arg(&cfg_path)
                    .stdout(Stdio::from(log.try_clone().expect("log")))
                    .stderr(Stdio::from(log))
                    .spawn()
                    .expect("java starts");
                self.zk = Some(child);
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if four_letter(self.port, "srvr").is_some_and(|s| s.contains("Zxid")) {
                break;
            }
            assert!(Instant::now() < deadline, "{:?} server did not start serving", self.kind);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server (corral: clean shutdown; ZooKeeper: SIGKILL).
    pub async fn stop(&mut self) {
        if let Some(s) = self.corral.take() {
            s.shutdown().await.expect("clean shutdown");
        }
        if let Some(mut c) = self.zk.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops and starts the server.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.start_again().await;
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(mut c) = self.zk.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Defines `mod $name { corral(); zookeeper(); }` running one async body
/// against each server.
#[macro_export]
macro_rules! both_servers {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread")]
            async fn corral() {
                let srv = $crate::support::TestServer::start($crate::support::Kind::Corral).await;
                ($body)(srv).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn zookeeper() {
                let srv = $crate::support::TestServer::start($crate::support::Kind::ZooKeeper).await;
                ($body)(srv).await;
            }
        }
    };
}

/// Polls `f` until it is true or `timeout` passes.
pub async fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
}
