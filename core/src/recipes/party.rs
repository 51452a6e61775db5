//! Group membership, following kazoo's `Party` and `ShallowParty` and their
//! node naming, so corral and kazoo processes can be members of one party:
//!
//! - [`Party`]: each member is an ephemeral node `<path>/<uuidhex>__party__`
//!   whose data is the member's identifier (any text).
//! - [`ShallowParty`]: each member is an ephemeral node
//!   `<path>/<uuidhex>-<identifier>` (data `0`); listing members is one call,
//!   but the identifier must be a valid node name.
//!
//! As in kazoo, a member node lives and dies with its session: after the
//! session is lost, call `join` again (or keep the node with
//! [`super::persistent_node::PersistentEphemeralNode`]). [`Party::watch`]
//! gives a live member list that follows every change.

use std::time::Duration;

use tokio::sync::watch;

use super::election::{fired, transient, until_connected};
use super::util::{create_if_missing, retry, uuid};
use crate::client::{Client, CreateOptions, OneshotWatch, Result};
use crate::proto::{Code, CreateMode};

/// kazoo's marker in `Party` node names.
const PARTY_NAME: &str = "__party__";
/// Pause after a failed call before trying again.
const RETRY_PAUSE: Duration = Duration::from_millis(20);
/// Pause after an error a reconnect cannot fix, before trying again.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// What distinguishes the two kinds of party.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Identifier in the node's data.
    Deep,
    /// Identifier in the node's name.
    Shallow,
}

/// What both kinds share: one member's node and the reading of the others.
#[derive(Clone)]
struct Core {
    client: Client,
    path: String,
    /// This member's node name.
    node: String,
    /// This member's node data.
    data: Vec<u8>,
    kind: Kind,
}

impl Core {
    fn new(client: &Client, path: &str, identifier: &str, kind: Kind) -> Core {
        let hex = uuid().replace('-', "");
        let (node, data) = match kind {
            Kind::Deep => (format!("{hex}{PARTY_NAME}"), identifier.as_bytes().to_vec()),
            Kind::Shallow => (format!("{hex}-{identifier}"), b"0".to_vec()),
        };
        Core { client: client.clone(), path: path.trim_end_matches('/').to_string(), node, data, kind }
    }

    fn node_path(&self) -> String {
        format!("{}/{}", self.path, self.node)
    }

    async fn join(&self) -> Result<()> {
        let path = self.node_path();
        create_if_missing(&self.client, &path, &self.data, &CreateOptions::mode(CreateMode::Ephemeral)).await
    }

    async fn leave(&self) -> Result<bool> {
        let path = self.node_path();
        match retry(&self.client, || self.client.delete(&path, None)).await {
            Ok(()) => Ok(true),
            Err(e) if e.code == Code::NoNode => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Member identifiers from the children's names (and data, for `Party`), sorted.
    async fn members_of(&self, children: Vec<String>) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for child in children {
            match self.kind {
                Kind::Shallow => {
                    if let Some((_, id)) = child.split_once('-') {
                        out.push(id.to_string());
                    }
                }
                Kind::Deep if child.contains(PARTY_NAME) => {
                    let path = format!("{}/{child}", self.path);
                    match self.client.get_data(&path).await {
                        Ok((data, _)) => out.push(String::from_utf8_lossy(&data).into_owned()),
                        Err(e) if e.code == Code::NoNode => {}
                        Err(e) => return Err(e),
                    }
                }
                Kind::Deep => {}
            }
        }
        out.sort();
        Ok(out)
    }

    async fn members(&self) -> Result<Vec<String>> {
        retry(&self.client, || async {
            match self.client.get_children(&self.path).await {
                Ok(children) => self.members_of(children).await,
                Err(e) if e.code == Code::NoNode => Ok(Vec::new()),
                Err(e) => Err(e),
            }
        })
        .await
    }

    async fn watch(&self) -> Result<MemberWatch> {
        let (tx, rx) = watch::channel(self.members().await?);
        let (stop, stop_rx) = watch::channel(());
        tokio::spawn(self.clone().follow(tx, stop_rx));
        Ok(MemberWatch { rx, _stop: stop })
    }

    /// Keeps `tx` up to date until the watch is dropped or the client closes.
    async fn follow(self, tx: watch::Sender<Vec<String>>, mut stop: watch::Receiver<()>) {
        loop {
            tokio::select! {
                r = until_connected(&self.client) => if r.is_err() { return },
                _ = stop.changed() => return,
            }
            let mut w: Option<OneshotWatch> = None;
            let read = match self.client.get_children_w(&self.path).await {
                Ok((children, _, cw)) => {
                    w = Some(cw);
                    self.members_of(children).await
                }
                Err(e) if e.code == Code::NoNode => match self.client.exists_w(&self.path).await {
                    // Created meanwhile: read again.
                    Ok((Some(_), _)) => continue,
                    Ok((None, ew)) => {
                        w = Some(ew);
                        Ok(Vec::new())
                    }
                    Err(e) => Err(e),
                },
                Err(e) => Err(e),
            };
            match read {
                Ok(members) => {
                    tx.send_if_modified(|cur| {
                        let changed = *cur != members;
                        *cur = members;
                        changed
                    });
                }
                Err(e) => {
                    if !transient(&e) {
                        tracing::warn!(path = %self.path, error = %e, "party watch: retrying after an error");
                    }
                    tokio::time::sleep(if transient(&e) { RETRY_PAUSE } else { ERROR_PAUSE }).await;
                    continue;
                }
            }
            tokio::select! {
                _ = fired(&mut w) => {}
                _ = stop.changed() => return,
                _ = tx.closed() => return,
            }
        }
    }
}

/// A live, sorted member list; dropping it stops following.
pub struct MemberWatch {
    rx: watch::Receiver<Vec<String>>,
    /// Dropped with the watch, which stops the background task.
    _stop: watch::Sender<()>,
}

impl MemberWatch {
    /// The members as last seen.
    pub fn current(&self) -> Vec<String> {
        self.rx.borrow().clone()
    }

    /// Waits for the member list to change and returns it; `None` once the
    /// list can no longer be followed (the client was closed).
    pub async fn changed(&mut self) -> Option<Vec<String>> {
        self.rx.changed().await.ok()?;
        Some(self.rx.borrow_and_update().clone())
    }
}

/// The membership operations both party kinds share, over their `core`.
macro_rules! member_methods {
    ($t:ty) => {
        impl $t {
            /// Joins (creates this member's node, and `path` if needed).
            pub async fn join(&self) -> Result<()> {
                self.core.join().await
            }

            /// Leaves; whether this member was in the party.
            pub async fn leave(&self) -> Result<bool> {
                self.core.leave().await
            }

            /// The members' identifiers, sorted.
            pub async fn members(&self) -> Result<Vec<String>> {
                self.core.members().await
            }

            /// The number of members.
            pub async fn len(&self) -> Result<usize> {
                Ok(self.core.members().await?.len())
            }

            /// Whether the party has no members.
            pub async fn is_empty(&self) -> Result<bool> {
                Ok(self.len().await? == 0)
            }

            /// A live member list.
            pub async fn watch(&self) -> Result<MemberWatch> {
                self.core.watch().await
            }

            /// This member's node path.
            pub fn node_path(&self) -> String {
                self.core.node_path()
            }
        }
    };
}

/// kazoo's `Party`: members keep their identifier in their node's data.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::party::Party;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let alice = Party::new(&client, "/app/party", "alice");
/// let bob = Party::new(&client, "/app/party", "bob");
/// alice.join().await?;
/// let mut live = alice.watch().await?;
/// assert_eq!(live.current(), ["alice"]);
/// bob.join().await?;
/// assert_eq!(live.changed().await, Some(vec!["alice".to_string(), "bob".to_string()]));
/// alice.leave().await?;
/// assert_eq!(bob.members().await?, ["bob"]);
/// assert_eq!(bob.len().await?, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Party {
    core: Core,
}

impl Party {
    /// A member of the party at `path` with `identifier` (not yet joined).
    pub fn new(client: &Client, path: &str, identifier: &str) -> Party {
        Party { core: Core::new(client, path, identifier, Kind::Deep) }
    }
}

member_methods!(Party);

/// kazoo's `ShallowParty`: members keep their identifier in their node's
/// name, so listing them takes one call.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::party::ShallowParty;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let me = ShallowParty::new(&client, "/app/workers", "worker-7");
/// me.join().await?;
/// assert_eq!(me.members().await?, ["worker-7"]);
/// assert!(me.leave().await?);
/// assert!(me.is_empty().await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ShallowParty {
    core: Core,
}

impl ShallowParty {
    /// A member of the party at `path`; `identifier` must be valid in a node name.
    pub fn new(client: &Client, path: &str, identifier: &str) -> ShallowParty {
        ShallowParty { core: Core::new(client, path, identifier, Kind::Shallow) }
    }
}

member_methods!(ShallowParty);
