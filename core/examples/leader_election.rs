//! Leader election with fencing tokens and handover.
//!
//! `cargo run --example leader_election [host:port,...]` — without a connect
//! string it starts an in-process server. Three contenders (each with its own
//! session) compete; the example kills the leader's session twice and shows
//! leadership passing on, with a larger fencing token each time.

use std::error::Error;
use std::time::Duration;

use corral::client::Client;
use corral::recipes::election::LeaderElection;
use corral::EmbeddedServer;
use tokio::sync::mpsc;

const CONTENDERS: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let (_server, hosts) = match std::env::args().nth(1) {
        Some(hosts) => (None, hosts),
        None => {
            let server = EmbeddedServer::start().await?;
            let hosts = server.hosts();
            println!("started an embedded server on {hosts}");
            (Some(server), hosts)
        }
    };
    let path = format!("/examples/election-{}", std::process::id());

    // Each contender reports when it starts leading.
    let (led_tx, mut led_rx) = mpsc::unbounded_channel::<(usize, i64)>();
    let mut clients = Vec::new();
    let mut elections = Vec::new();
    for i in 0..CONTENDERS {
        let client = Client::builder(&hosts).session_timeout(Duration::from_secs(5)).connect().await?;
        let election = LeaderElection::new(&client, &path, &format!("contender-{i}")).auto_requeue(true);
        let (e, led) = (election.clone(), led_tx.clone());
        tokio::spawn(async move {
            let result = e
                .run(|leadership| {
                    let led = led.clone();
                    async move {
                        let token = leadership.fencing_token();
                        println!("contender-{i} leads (fencing token {token})");
                        let _ = led.send((i, token));
                        let reason = leadership.lost().await;
                        println!("contender-{i} stops leading: {reason:?}");
                    }
                })
                .await;
            if let Err(e) = result {
                println!("contender-{i} left the election: {e}");
            }
        });
        // Queue one at a time so the order is predictable.
        while election.contenders().await?.len() <= i {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        clients.push(client);
        elections.push(election);
    }

    for round in 0..CONTENDERS - 1 {
        let Some((leader, token)) = led_rx.recv().await else { break };
        println!("round {round}: queue is {:?}", elections[leader].contenders().await?);
        println!("round {round}: killing the session of contender-{leader} (token {token})");
        clients[leader].close().await;
    }
    if let Some((leader, token)) = led_rx.recv().await {
        println!("final leader: contender-{leader} with fencing token {token}");
        println!("queue is {:?}", elections[leader].contenders().await?);
    }
    for e in &elections {
        e.cancel();
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    Ok(())
}
