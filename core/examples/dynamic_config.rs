//! Dynamic configuration, the way Twitter ran it on ZooKeeper: a service's
//! settings live in one znode; every instance keeps a NodeCache on it and
//! applies each new value as it arrives, with no restart and no polling.
//!
//! Here one writer updates `/config/search-service` a few times and a
//! watcher prints every value it sees.
//!
//! ```text
//! cargo run --example dynamic_config                  # starts an in-process server
//! cargo run --example dynamic_config 127.0.0.1:2181   # or uses yours
//! ```

use std::time::Duration;

use corral::client::{Client, CreateOptions};
use corral::recipes::node_cache::NodeCache;
use corral::EmbeddedServer;

const CONFIG_PATH: &str = "/config/search-service";
/// The settings the writer rolls out, one after another.
const ROLLOUT: [&str; 3] = [
    "max_results=50 timeout_ms=200 ranking=v2",
    "max_results=50 timeout_ms=150 ranking=v2",
    "max_results=100 timeout_ms=150 ranking=v3",
];
/// How long the watcher waits for a change before giving up.
const CHANGE_WAIT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // With no connect string, bring a server along.
    let (server, hosts) = match std::env::args().nth(1) {
        Some(hosts) => (None, hosts),
        None => {
            let server = EmbeddedServer::start().await?;
            let hosts = server.hosts();
            println!("started an in-process corral server at {hosts}");
            (Some(server), hosts)
        }
    };

    let writer = Client::connect(&hosts).await?;
    writer.ensure_path("/config").await?;
    let initial = b"max_results=20 timeout_ms=200 ranking=v1";
    match writer.create(CONFIG_PATH, initial, &CreateOptions::default()).await {
        Ok(_) => {}
        Err(e) if e.code == corral::proto::Code::NodeExists => {
            writer.set_data(CONFIG_PATH, initial, None).await?;
        }
        Err(e) => return Err(e.into()),
    }

    // The service instance: a cache on its config node.
    let instance = Client::connect(&hosts).await?;
    let config = NodeCache::new(&instance, CONFIG_PATH);
    let mut changes = config.changes();
    config.start().await?;
    if let Some(now) = config.current() {
        println!("[instance] starting with v{}: {}", now.stat.version, String::from_utf8_lossy(&now.data));
    }

    // The operator rolls out new settings.
    let rollout = tokio::spawn(async move {
        for settings in ROLLOUT {
            tokio::time::sleep(Duration::from_millis(300)).await;
            let stat = writer.set_data(CONFIG_PATH, settings.as_bytes(), None).await?;
            println!("[operator] wrote v{}: {settings}", stat.version);
        }
        writer.close().await;
        Ok::<_, corral::client::Error>(())
    });

    // The instance applies each new value as it arrives, until the last one.
    let last = ROLLOUT[ROLLOUT.len() - 1].as_bytes();
    let mut done = false;
    while !done {
        match tokio::time::timeout(CHANGE_WAIT, changes.recv()).await {
            Ok(Ok(Some(now))) => {
                println!("[instance] applying v{}: {}", now.stat.version, String::from_utf8_lossy(&now.data));
                done = now.data == last;
            }
            Ok(Ok(None)) => println!("[instance] config deleted; keeping the last settings"),
            Ok(Err(e)) => return Err(format!("change stream failed: {e}").into()),
            Err(_) => return Err("no configuration change within 10 s".into()),
        }
    }
    rollout.await??;

    config.close();
    instance.close().await;
    if let Some(server) = server {
        server.close().await?;
    }
    Ok(())
}
