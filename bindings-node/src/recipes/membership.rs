//! Membership: the party (kazoo's `Party` / `ShallowParty`), the persistent
//! node (Curator's `PersistentNode`) and the set partitioner (kazoo's).

use std::sync::Arc;
use std::time::Duration;

use corral::client::Client as CoreClient;
use corral::recipes::partitioner::{PartitionState, SetPartitioner as CorePartitioner};
use corral::recipes::party::{MemberWatch, Party as DeepParty, ShallowParty};
use corral::recipes::persistent_node::PersistentEphemeralNode;
use napi::bindgen_prelude::{Buffer, PromiseRaw};
use napi::{Env, Result};
use napi_derive::napi;

use super::{call, live, signal, wait_options, InRuntime, Slot, WaitOptions};
use crate::client::CallOptions;
use crate::convert::create_mode;
use crate::error::{Failure, Outcome};
use crate::events::{EventStream, Feed};
use crate::promise::spawn_value;

/// Options of `party`.
#[napi(object, object_to_js = false)]
pub struct PartyOptions {
    /// kazoo's `ShallowParty`: the identifier in the node's name (one call to
    /// list members; it must be valid in a node name), not in its data.
    pub shallow: Option<bool>,
}

/// The two party kinds core offers, with the same operations.
enum Kind {
    Deep(DeepParty),
    Shallow(ShallowParty),
}

/// Calls the same core method on either kind of party.
macro_rules! either {
    ($kind:expr, $p:ident => $e:expr) => {
        match $kind {
            Kind::Deep($p) => $e,
            Kind::Shallow($p) => $e,
        }
    };
}

/// Group membership: this member joins and leaves; everyone sees the members.
#[napi]
pub struct Party {
    party: Arc<Kind>,
}

impl Party {
    pub(crate) fn new(client: &CoreClient, path: &str, identifier: &str, options: Option<PartyOptions>) -> Party {
        let kind = if options.and_then(|o| o.shallow).unwrap_or(false) {
            Kind::Shallow(ShallowParty::new(client, path, identifier))
        } else {
            Kind::Deep(DeepParty::new(client, path, identifier))
        };
        Party { party: Arc::new(kind) }
    }
}

#[napi]
impl Party {
    /// Joins (creates this member's node, and the party's path if needed).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn join<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, ()>> {
        call(env, signal(options), &self.party, |p| async move { either!(&*p, p => p.join().await) })
    }

    /// Leaves; whether this member was in the party.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn leave<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, bool>> {
        call(env, signal(options), &self.party, |p| async move { either!(&*p, p => p.leave().await) })
    }

    /// The members' identifiers, sorted.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn members<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, Vec<String>>> {
        call(env, signal(options), &self.party, |p| async move { either!(&*p, p => p.members().await) })
    }

    /// This member's node path.
    #[napi(getter)]
    pub fn node_path(&self) -> String {
        either!(&*self.party, p => p.node_path())
    }

    /// A live member list (index.js's `watch()` iterates it).
    #[napi(skip_typescript)]
    pub fn subscribe<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, EventStream>> {
        let party = self.party.clone();
        spawn_value(env, signal(options), async move {
            let watch: MemberWatch = either!(&*party, p => p.watch().await)?;
            Ok(EventStream::new(Feed::Members { watch: InRuntime::new(watch), first: true }))
        })
    }
}

/// Options of `persistentNode`.
#[napi(object, object_to_js = false)]
pub struct PersistentNodeOptions {
    /// A `CreateMode` value; default `EPHEMERAL`.
    pub mode: Option<i32>,
    /// Curator's protected name `_c_<uuid>-<name>`.
    pub protected: Option<bool>,
}

/// Curator's `PersistentNode`: a node (usually ephemeral) kept present, made
/// again whenever it goes, its data restored, until `close()`.
#[napi]
pub struct PersistentNode {
    node: Slot<PersistentEphemeralNode>,
}

impl PersistentNode {
    pub(crate) fn new(
        client: &CoreClient,
        path: &str,
        data: Option<Buffer>,
        options: Option<PersistentNodeOptions>,
    ) -> Outcome<PersistentNode> {
        let (mode, protected) = options.map(|o| (o.mode, o.protected.unwrap_or(false))).unwrap_or_default();
        let mode = create_mode(Some(mode.unwrap_or(corral::proto::CreateMode::Ephemeral.flags())))?;
        let data = data.map(|d| d.to_vec()).unwrap_or_default();
        let node = PersistentEphemeralNode::new(client, path, mode, &data).protected(protected);
        Ok(PersistentNode { node: Slot::new(node) })
    }
}

#[napi]
impl PersistentNode {
    /// Starts keeping the node present (a second call does nothing).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn start<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let node = self.node.clone();
        spawn_value(env, None, async move {
            let mut node = node.write().await;
            live(node.as_deref_mut(), "persistent node")?.start();
            Ok(())
        })
    }

    /// Waits for the first create: `true`; `false` when `timeout` (default
    /// forever) passed first.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn wait_for_initial_create<'env>(
        &self,
        env: &'env Env,
        options: Option<WaitOptions>,
    ) -> Result<PromiseRaw<'env, bool>> {
        let (timeout, signal) = wait_options(options);
        let node = self.node.clone();
        let closing = node.closing();
        spawn_value(env, signal, async move {
            let node = node.read().await;
            let created =
                live(node.as_deref(), "persistent node")?.wait_for_initial_create(timeout.unwrap_or(Duration::MAX));
            Ok(tokio::select! {
                created = created => created,
                () = closing => false,
            })
        })
    }

    /// The node's actual path once created (`null` before, or while closing).
    #[napi(getter)]
    pub fn actual_path(&self) -> Option<String> {
        self.node.try_read().ok().and_then(|n| n.as_ref().and_then(|n| n.actual_path()))
    }

    /// Changes the node's data, now if it exists, else when it is created.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn set_data<'env>(
        &self,
        env: &'env Env,
        data: Buffer,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, ()>> {
        let (node, data) = (self.node.clone(), data.to_vec());
        spawn_value(env, signal(options), async move {
            let node = node.read().await;
            Ok(live(node.as_deref(), "persistent node")?.set_data(&data).await?)
        })
    }

    /// Stops keeping the node and deletes it (nothing when closed).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let node = self.node.clone();
        spawn_value(env, None, async move {
            match node.take().await {
                Some(n) => Ok(n.close().await?),
                None => Ok(()),
            }
        })
    }
}

/// Options of `setPartitioner`.
#[napi(object, object_to_js = false)]
pub struct PartitionerOptions {
    /// How long the membership must stay unchanged before shares are taken, in ms; default 30000.
    pub time_boundary: Option<u32>,
    /// Lock each item of the share (default true, as kazoo always does).
    pub locks: Option<bool>,
}

fn state_name(s: PartitionState) -> &'static str {
    match s {
        PartitionState::Allocating => "allocating",
        PartitionState::Acquired => "acquired",
        PartitionState::Release => "release",
        PartitionState::Failure => "failure",
    }
}

/// The states of a set partitioner, as JS names them.
const PARTITION_STATE_TS: &str = "'allocating' | 'acquired' | 'release' | 'failure'";

/// kazoo's `SetPartitioner`: this member's share of a set of items.
/// `allocating` → `acquired` (the share is held) → `release` (call
/// `releaseSet()`) → `allocating`; `failure` once finished or the session was lost.
#[napi]
pub struct SetPartitioner {
    partitioner: Slot<CorePartitioner>,
}

impl SetPartitioner {
    pub(crate) async fn start(
        client: CoreClient,
        path: String,
        items: Vec<String>,
        identifier: String,
        options: Option<PartitionerOptions>,
    ) -> Outcome<SetPartitioner> {
        let mut builder = CorePartitioner::builder(&client, &path, &items, &identifier);
        if let Some(o) = options {
            if let Some(ms) = o.time_boundary {
                builder = builder.time_boundary(Duration::from_millis(ms.into()));
            }
            if let Some(locks) = o.locks {
                builder = builder.locks(locks);
            }
        }
        Ok(SetPartitioner { partitioner: Slot::new(builder.start().await?) })
    }

    /// Waits for a state other than `from`; `failure` once `finish()` begins.
    fn wait<'env>(
        &self,
        env: &'env Env,
        from: PartitionState,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, &'static str>> {
        let partitioner = self.partitioner.clone();
        let closing = partitioner.closing();
        spawn_value(env, signal(options), async move {
            let p = partitioner.read().await;
            let p = live(p.as_deref(), "set partitioner")?;
            Ok(state_name(tokio::select! {
                reached = p.wait_for_change(from) => reached,
                () = closing => PartitionState::Failure,
            }))
        })
    }
}

#[napi]
impl SetPartitioner {
    /// The current state.
    #[napi(getter, ts_return_type = "'allocating' | 'acquired' | 'release' | 'failure'")]
    pub fn state(&self) -> &'static str {
        let p = self.partitioner.try_read();
        state_name(p.ok().and_then(|p| p.as_ref().map(|p| p.state())).unwrap_or(PartitionState::Failure))
    }

    /// The share: the items held while `acquired` (still listed during `release`), sorted.
    #[napi(getter)]
    pub fn partitions(&self) -> Vec<String> {
        self.partitioner.try_read().ok().and_then(|p| p.as_ref().map(|p| p.partitions())).unwrap_or_default()
    }

    /// Waits while allocating; resolves with the state reached.
    #[napi(ts_return_type = "Promise<'allocating' | 'acquired' | 'release' | 'failure'>")]
    pub fn wait_for_acquire<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, &'static str>> {
        self.wait(env, PartitionState::Allocating, options)
    }

    /// Waits until the state is no longer `from`; resolves with the new one.
    #[napi(ts_return_type = "Promise<'allocating' | 'acquired' | 'release' | 'failure'>")]
    pub fn wait_for_change<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "'allocating' | 'acquired' | 'release' | 'failure'")] from: String,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, &'static str>> {
        let from = match from.as_str() {
            "allocating" => PartitionState::Allocating,
            "acquired" => PartitionState::Acquired,
            "release" => PartitionState::Release,
            "failure" => PartitionState::Failure,
            other => {
                let f = Failure::corral(
                    "ERR_CORRAL_ARGUMENT",
                    format!("from: {other:?} is not one of {PARTITION_STATE_TS}"),
                );
                return Err(crate::error::throw(env, f));
            }
        };
        self.wait(env, from, options)
    }

    /// Gives up the share (its locks) and starts allocating again.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn release_set<'env>(&self, env: &'env Env, options: Option<CallOptions>) -> Result<PromiseRaw<'env, ()>> {
        let partitioner = self.partitioner.clone();
        spawn_value(env, signal(options), async move {
            let p = partitioner.read().await;
            Ok(live(p.as_deref(), "set partitioner")?.release_set().await?)
        })
    }

    /// Releases the share, leaves the party and ends in `failure` (nothing when finished).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn finish<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let partitioner = self.partitioner.clone();
        spawn_value(env, None, async move {
            if let Some(p) = partitioner.take().await {
                p.finish().await;
            }
            Ok(())
        })
    }
}
