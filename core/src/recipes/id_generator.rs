//! IdGenerator: unique, increasing ids from the sequence numbers ZooKeeper
//! gives sequential nodes.

use super::util::{protected_create, protected_prefix, retry, sequence_of, uuid};
use crate::client::{Client, Error, Result};
use crate::proto::{Code, CreateMode};

/// Default node name prefix (before the 10-digit sequence).
const ID_PREFIX: &str = "id-";

/// Unique ids from sequential nodes, the classic ZooKeeper idiom (neither
/// Curator nor kazoo ships it as a recipe): each id is the sequence number
/// ZooKeeper appends to a node created under the generator's path, so ids
/// are unique and increase across all clients using that path (not
/// necessarily by one: deletions advance the parent's counter too).
///
/// By default the node is ephemeral-sequential and deleted at once, so the
/// path stays empty; [`IdGenerator::keeping_nodes`] keeps persistent nodes
/// instead (an audit trail). Creates carry Curator's protected prefix
/// `_c_<uuid>-`, so a create whose reply a lost connection swallowed is
/// found again rather than repeated. The sequence is ZooKeeper's signed
/// 32-bit counter: at most 2^31 ids per path.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use corral::client::Client;
/// use corral::recipes::id_generator::IdGenerator;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let ids = IdGenerator::new(&client, "/ids/orders");
/// let a = ids.next_id().await?;
/// let b = ids.next_id().await?;
/// assert!(b > a);
/// assert!(client.get_children("/ids/orders").await?.is_empty());
/// # Ok(())
/// # }
/// ```
pub struct IdGenerator {
    client: Client,
    path: String,
    prefix: String,
    keep: bool,
}

impl IdGenerator {
    /// A generator under `path` (created on first use).
    pub fn new(client: &Client, path: &str) -> IdGenerator {
        IdGenerator { client: client.clone(), path: path.to_string(), prefix: ID_PREFIX.to_string(), keep: false }
    }

    /// Names nodes `<prefix><seq>` instead of `id-<seq>`.
    pub fn with_prefix(mut self, prefix: &str) -> IdGenerator {
        self.prefix = prefix.to_string();
        self
    }

    /// Keeps each id's node (persistent-sequential) instead of deleting it.
    pub fn keeping_nodes(mut self, keep: bool) -> IdGenerator {
        self.keep = keep;
        self
    }

    /// A new id, greater than every id this path gave before.
    pub async fn next_id(&self) -> Result<i64> {
        let marker = uuid();
        let name = format!("{}{}", protected_prefix(&marker), self.prefix);
        let mode = if self.keep { CreateMode::PersistentSequential } else { CreateMode::EphemeralSequential };
        let created = protected_create(&self.client, &self.path, &name, &marker, b"", mode).await?;
        let id = sequence_of(&created).ok_or_else(|| Error::at(Code::MarshallingError, created.clone()))?;
        if !self.keep {
            match retry(&self.client, || self.client.delete(&created, None)).await {
                Ok(()) => {}
                Err(e) if e.code == Code::NoNode => {}
                Err(e) => return Err(e),
            }
        }
        Ok(id)
    }
}
