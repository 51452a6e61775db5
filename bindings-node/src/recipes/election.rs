//! Leadership: the run-style election (Curator's `LeaderSelector`, the
//! leader's work a JS callback) and the leader latch.

use std::sync::Arc;

use corral::client::Client as CoreClient;
use corral::recipes::election::{LeaderElection as CoreElection, Leadership as CoreLeadership, LossReason};
use corral::recipes::leader_latch::{LeaderLatch as CoreLatch, Participant as CoreParticipant};
use napi::bindgen_prelude::{BigInt, Promise, PromiseRaw};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, Result, Status};
use napi_derive::napi;
use tokio::sync::watch;

use super::{live, wait_options, Slot, WaitOptions};
use crate::client::CallOptions;
use crate::convert::naming;
use crate::error::Failure;
use crate::events::{EventStream, Feed};
use crate::promise::spawn_value;

/// The leader's callback as the runtime calls it: index.js passes a wrapper
/// that never throws and resolves once the user's callback has settled.
type LeadCallback = ThreadsafeFunction<Leadership, Promise<()>, Leadership, Status, false>;

/// Options of `leaderElection`.
#[napi(object, object_to_js = false)]
pub struct ElectionOptions {
    /// After the callback returns, queue up again (Curator's `autoRequeue`):
    /// `run` then only ends on `cancel()` or an error.
    pub auto_requeue: Option<bool>,
    /// `'curator'` (the default: Curator's `LeaderSelector` nodes) or
    /// `'kazoo'` (kazoo's `Election`, a kazoo `Lock` on the path).
    #[napi(ts_type = "'curator' | 'kazoo'")]
    pub layout: Option<String>,
}

fn reason_name(r: LossReason) -> &'static str {
    match r {
        LossReason::Suspended => "suspended",
        LossReason::SessionLost => "sessionLost",
        LossReason::NodeDeleted => "nodeDeleted",
        LossReason::Cancelled => "cancelled",
        LossReason::Closed => "closed",
    }
}

/// A leader election on one path (Curator's `LeaderSelector` node naming,
/// kazoo's `run`/`cancel`/`contenders`).
#[napi]
pub struct LeaderElection {
    election: CoreElection,
}

impl LeaderElection {
    pub(crate) fn new(
        client: &CoreClient,
        path: &str,
        identifier: &str,
        options: Option<ElectionOptions>,
    ) -> std::result::Result<Self, Failure> {
        let (requeue, layout) = options.map(|o| (o.auto_requeue, o.layout)).unwrap_or_default();
        let election = CoreElection::new(client, path, identifier)
            .auto_requeue(requeue.unwrap_or(false))
            .with_naming(naming(layout.as_deref())?);
        Ok(LeaderElection { election })
    }
}

#[napi]
impl LeaderElection {
    /// Joins the election and calls `lead` each time this contender leads;
    /// leadership is given up when the callback settles. index.js's `run`
    /// wraps this: it resolves with the callback's last result.
    #[napi(skip_typescript)]
    pub fn run_native<'env>(&self, env: &'env Env, lead: LeadCallback) -> Result<PromiseRaw<'env, bool>> {
        let election = self.election.clone();
        let lead = Arc::new(lead);
        let fut = async move {
            let led = election
                .run(move |leadership| {
                    let lead = lead.clone();
                    async move {
                        // A callback that could not be called (the env is
                        // going away) ends the leadership at once.
                        if let Ok(done) = lead.call_async(Leadership::new(leadership)).await {
                            let _ = done.await;
                        }
                    }
                })
                .await?;
            Ok(led.is_some())
        };
        spawn_value(env, None, fut)
    }

    /// Stops every `run` in progress: a queued contender leaves the queue, a
    /// leader's `leadership.lost()` resolves with `'cancelled'`.
    #[napi]
    pub fn cancel(&self) {
        self.election.cancel();
    }

    /// The identifiers of all contenders in queue order; the first leads.
    #[napi(ts_return_type = "Promise<string[]>")]
    pub fn contenders<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let election = self.election.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(election.contenders().await?) })
    }

    /// The current leader's identifier, `null` when nobody leads.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub fn leader<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Option<String>>> {
        let election = self.election.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move { Ok(election.leader().await?) })
    }
}

/// What the leader's callback holds while it leads.
#[napi]
pub struct Leadership {
    leadership: CoreLeadership,
}

impl Leadership {
    fn new(leadership: CoreLeadership) -> Leadership {
        Leadership { leadership }
    }
}

#[napi]
impl Leadership {
    /// The contender node's czxid: every later leader of the path has a larger one.
    #[napi(getter)]
    pub fn fencing_token(&self) -> BigInt {
        self.leadership.fencing_token().into()
    }

    /// The contender node's path.
    #[napi(getter)]
    pub fn node(&self) -> String {
        self.leadership.node().to_string()
    }

    /// Whether leadership has been lost: stop acting as leader and return.
    #[napi(getter)]
    pub fn is_lost(&self) -> bool {
        self.leadership.is_lost()
    }

    /// Why leadership was lost, `null` while it lasts.
    #[napi(getter, ts_return_type = "'suspended' | 'sessionLost' | 'nodeDeleted' | 'cancelled' | 'closed' | null")]
    pub fn reason(&self) -> Option<&'static str> {
        self.leadership.reason().map(reason_name)
    }

    /// Resolves once leadership is lost (a suspended connection counts, as
    /// in Curator), with the reason.
    #[napi(ts_return_type = "Promise<'suspended' | 'sessionLost' | 'nodeDeleted' | 'cancelled' | 'closed'>")]
    pub fn lost<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, &'static str>> {
        let leadership = self.leadership.clone();
        spawn_value(env, None, async move { Ok(reason_name(leadership.lost().await)) })
    }
}

/// A participant of a leader latch.
#[napi(object, object_from_js = false)]
pub struct Participant {
    /// The id the participant gave its latch.
    pub id: String,
    /// Whether it leads.
    pub is_leader: bool,
}

impl From<CoreParticipant> for Participant {
    fn from(p: CoreParticipant) -> Participant {
        Participant { id: p.id, is_leader: p.is_leader }
    }
}

/// A leader latch (Curator's `LeaderLatch`): once started, the participant
/// leads while first in line, until it closes or loses its session.
#[napi]
pub struct LeaderLatch {
    id: String,
    latch: Slot<CoreLatch>,
    leader: watch::Receiver<bool>,
}

impl LeaderLatch {
    pub(crate) fn new(client: &CoreClient, path: &str, id: &str) -> LeaderLatch {
        let latch = CoreLatch::new(client, path, id);
        LeaderLatch { id: id.to_string(), leader: latch.leadership_changes(), latch: Slot::new(latch) }
    }
}

#[napi]
impl LeaderLatch {
    /// Joins: creates this participant's node and follows the line in the background.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn start<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let latch = self.latch.clone();
        spawn_value(env, None, async move {
            let mut latch = latch.write().await;
            Ok(live(latch.as_deref_mut(), "leader latch")?.start().await?)
        })
    }

    /// This participant's id.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.id.clone()
    }

    /// Whether this participant leads now.
    #[napi(getter)]
    pub fn has_leadership(&self) -> bool {
        *self.leader.borrow()
    }

    /// This participant's node, while it has one.
    #[napi(getter)]
    pub fn our_path(&self) -> Option<String> {
        self.latch.try_read().ok().and_then(|l| l.as_ref().and_then(|l| l.our_path()))
    }

    /// Waits until this participant leads (after `start()`); with `timeout`,
    /// resolves `false` when it did not lead in time. Rejects when the latch
    /// stops first (closed, or the client closed).
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn await_leadership<'env>(
        &self,
        env: &'env Env,
        options: Option<WaitOptions>,
    ) -> Result<PromiseRaw<'env, bool>> {
        let (timeout, signal) = wait_options(options);
        let mut leader = self.leader.clone();
        let path = self.id.clone();
        let fut = async move {
            let lead = leader.wait_for(|l| *l);
            let led = match timeout {
                None => Some(lead.await),
                Some(t) => tokio::time::timeout(t, lead).await.ok(),
            };
            match led {
                None => Ok(false),
                Some(Ok(_)) => Ok(true),
                Some(Err(_)) => Err(corral::client::Error::at(corral::proto::Code::ConnectionLoss, path).into()),
            }
        };
        spawn_value(env, signal, fut)
    }

    /// Every participant in line order; the first leads.
    #[napi(ts_return_type = "Promise<Participant[]>")]
    pub fn participants<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Vec<Participant>>> {
        let latch = self.latch.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move {
            let latch = latch.read().await;
            let list = live(latch.as_deref(), "leader latch")?.participants().await?;
            Ok(list.into_iter().map(Participant::from).collect())
        })
    }

    /// The leader, `null` when there is none.
    #[napi(ts_return_type = "Promise<Participant | null>")]
    pub fn leader<'env>(
        &self,
        env: &'env Env,
        options: Option<CallOptions>,
    ) -> Result<PromiseRaw<'env, Option<Participant>>> {
        let latch = self.latch.clone();
        spawn_value(env, options.and_then(|o| o.signal), async move {
            let latch = latch.read().await;
            Ok(live(latch.as_deref(), "leader latch")?.leader().await?.map(Participant::from))
        })
    }

    /// Leadership changes from now on (index.js's `changes()` iterates them).
    #[napi(skip_typescript)]
    pub fn subscribe(&self) -> EventStream {
        EventStream::new(Feed::Leadership(self.leader.clone()))
    }

    /// Leaves the latch: leadership ends and the node is deleted (nothing when closed).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let latch = self.latch.clone();
        spawn_value(env, None, async move {
            match Slot::take(&latch).await {
                Some(l) => Ok(l.close().await?),
                None => Ok(()),
            }
        })
    }
}
