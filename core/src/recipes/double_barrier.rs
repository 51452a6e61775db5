//! DoubleBarrier (Curator's `DistributedDoubleBarrier`, kazoo's
//! `DoubleBarrier`): start a computation together, finish it together.

use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;

use super::util::{create_if_missing, retry, uuid};
use crate::client::{Client, CreateOptions, Error, OneshotWatch, Result, State};
use crate::proto::{Code, CreateMode};

/// Name of the node the member that completes the group creates.
const READY_NODE: &str = "ready";

/// Apache Curator's `DistributedDoubleBarrier` (kazoo's `DoubleBarrier`
/// does the same): [`DoubleBarrier::enter`] blocks until `member_qty`
/// members have entered, [`DoubleBarrier::leave`] blocks until every member
/// has left. `member_qty` is a threshold, not a limit.
///
/// Node layout (Curator's, so Curator processes can share the barrier):
/// each member is an ephemeral child `<path>/<uuid>`; the member that sees
/// the threshold reached creates `<path>/ready`, which wakes the others. To
/// leave, every member deletes its node and waits until the highest
/// remaining one is gone, until no member node is left; then `ready` is
/// deleted.
///
/// A member whose session expires drops out (its node is ephemeral); a wait
/// interrupted that way fails with `SessionExpired`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::double_barrier::DoubleBarrier;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let mut tasks = Vec::new();
/// for _ in 0..3 {
///     let client = Client::connect(&server.hosts()).await?;
///     tasks.push(tokio::spawn(async move {
///         let barrier = DoubleBarrier::new(&client, "/jobs/batch-7", 3);
///         barrier.enter().await?;
///         // ... the computation, started together ...
///         barrier.leave().await
///     }));
/// }
/// for t in tasks {
///     t.await??;
/// }
/// # Ok(())
/// # }
/// ```
pub struct DoubleBarrier {
    client: Client,
    path: String,
    member_qty: usize,
    /// This member's node: `<path>/<uuid>`.
    our_path: String,
    /// This member's node data (empty as Curator's; kazoo stores its identifier).
    data: Vec<u8>,
    ready_path: String,
}

impl DoubleBarrier {
    /// A member of the barrier at `path` that opens once `member_qty` members are in.
    pub fn new(client: &Client, path: &str, member_qty: usize) -> DoubleBarrier {
        DoubleBarrier {
            client: client.clone(),
            path: path.to_string(),
            member_qty: member_qty.max(1),
            our_path: format!("{path}/{}", uuid()),
            data: Vec::new(),
            ready_path: format!("{path}/{READY_NODE}"),
        }
    }

    /// Stores `data` in this member's node (kazoo's DoubleBarrier stores its
    /// identifier there).
    pub fn with_data(mut self, data: &[u8]) -> DoubleBarrier {
        self.data = data.to_vec();
        self
    }

    /// This member's node path: `<path>/<uuid>` (kazoo's `create_path`).
    pub fn node_path(&self) -> &str {
        &self.our_path
    }

    /// Enters and waits until enough members have entered.
    pub async fn enter(&self) -> Result<()> {
        self.enter_until(None).await.map(|_| ())
    }

    /// Enters and waits at most `timeout`; `false` if the threshold was not
    /// reached in time (this member stays entered; call `leave` to go).
    pub async fn enter_timeout(&self, timeout: Duration) -> Result<bool> {
        self.enter_until(Some(Instant::now() + timeout)).await
    }

    /// Leaves and waits until every member has left.
    pub async fn leave(&self) -> Result<()> {
        self.leave_until(None).await.map(|_| ())
    }

    /// Leaves and waits at most `timeout`; `false` if members were still in.
    pub async fn leave_timeout(&self, timeout: Duration) -> Result<bool> {
        self.leave_until(Some(Instant::now() + timeout)).await
    }

    async fn enter_until(&self, deadline: Option<Instant>) -> Result<bool> {
        let mut states = self.client.state_changes();
        self.create_ours().await?;
        let session = self.client.session_id();
        loop {
            let (ready, watch) = retry(&self.client, || self.client.exists_w(&self.ready_path)).await?;
            if ready.is_some() {
                return Ok(true);
            }
            let children = retry(&self.client, || self.client.get_children(&self.path)).await?;
            if children.iter().filter(|c| *c != READY_NODE).count() >= self.member_qty {
                let opts = CreateOptions::default();
                match retry(&self.client, || self.client.create(&self.ready_path, b"", &opts)).await {
                    Ok(_) => return Ok(true),
                    Err(e) if e.code == Code::NodeExists => return Ok(true),
                    Err(e) => return Err(e),
                }
            }
            if !self.wait(watch, &mut states, deadline, session).await? {
                return Ok(false);
            }
        }
    }

    async fn leave_until(&self, deadline: Option<Instant>) -> Result<bool> {
        let mut states = self.client.state_changes();
        let ours = self.our_path.rsplit('/').next().unwrap_or_default().to_string();
        let session = self.client.session_id();
        loop {
            let mut children = match retry(&self.client, || self.client.get_children(&self.path)).await {
                Ok(c) => c,
                Err(e) if e.code == Code::NoNode => Vec::new(),
                Err(e) => return Err(e),
            };
            children.retain(|c| c != READY_NODE);
            children.sort();
            let Some(highest) = children.last().cloned() else {
                break;
            };
            if children.len() == 1 && highest == ours {
                self.delete_ours().await?;
                break;
            }
            let highest_path = format!("{}/{highest}", self.path);
            let (stat, watch) = retry(&self.client, || self.client.exists_w(&highest_path)).await?;
            if children.contains(&ours) {
                self.delete_ours().await?;
            }
            if stat.is_some() && !self.wait(watch, &mut states, deadline, session).await? {
                return Ok(false);
            }
        }
        match retry(&self.client, || self.client.delete(&self.ready_path, None)).await {
            Ok(()) => Ok(true),
            Err(e) if e.code == Code::NoNode => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// Creates this member's ephemeral node (idempotent: its name is fixed).
    async fn create_ours(&self) -> Result<()> {
        let opts = CreateOptions::mode(CreateMode::Ephemeral);
        create_if_missing(&self.client, &self.our_path, &self.data, &opts).await
    }

    async fn delete_ours(&self) -> Result<()> {
        match retry(&self.client, || self.client.delete(&self.our_path, None)).await {
            Ok(()) => Ok(()),
            Err(e) if e.code == Code::NoNode => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Waits for `watch`, a reconnect (then the caller looks again) or the
    /// deadline (`false`). Fails once the session that entered is gone.
    async fn wait(
        &self,
        watch: OneshotWatch,
        states: &mut broadcast::Receiver<State>,
        deadline: Option<Instant>,
        session: i64,
    ) -> Result<bool> {
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = watch => {}
            st = states.recv() => match st {
                Ok(State::Closed) => return Err(Error::new(Code::ConnectionLoss)),
                Ok(State::Lost) => return Err(Error::at(Code::SessionExpired, self.our_path.clone())),
                _ => {}
            },
            _ = sleep => return Ok(false),
        }
        if self.client.session_id() != session && self.client.session_id() != 0 {
            return Err(Error::at(Code::SessionExpired, self.our_path.clone()));
        }
        Ok(true)
    }
}
