//! Faults on purpose (core's `embedded::FaultRelay`): a loopback relay in
//! front of one server, corral or Apache ZooKeeper, that drops connections,
//! keeps clients out and expires their sessions.

use std::sync::Arc;

use corral::embedded::FaultRelay as CoreRelay;
use napi::bindgen_prelude::PromiseRaw;
use napi::{Env, Result};
use napi_derive::napi;

use crate::client::Client;
use crate::promise::{spawn, spawn_value};
use crate::recipes::InRuntime;
use crate::teardown::{on_teardown, Closing, Teardown};

impl Teardown for InRuntime<CoreRelay> {
    fn teardown(self: Arc<Self>) -> Closing {
        self.close();
        Box::pin(async {})
    }
}

/// A relay clients connect to (`connectString`) instead of the server.
#[napi]
pub struct FaultRelay {
    relay: Arc<InRuntime<CoreRelay>>,
}

#[napi]
impl FaultRelay {
    /// Listens on an ephemeral loopback port and relays to `target`
    /// (`host:port`, or a connect string: its first host).
    #[napi(ts_return_type = "Promise<FaultRelay>")]
    pub fn start<'env>(env: &'env Env, target: String) -> Result<PromiseRaw<'env, FaultRelay>> {
        let fut = async move { Ok(FaultRelay { relay: Arc::new(InRuntime::new(CoreRelay::start(&target).await?)) }) };
        spawn(env, None, fut, |env, relay| {
            on_teardown(env, &relay.relay)?;
            Ok(relay)
        })
    }

    /// The connect string clients use instead of the server's.
    #[napi(getter)]
    pub fn connect_string(&self) -> String {
        self.relay.connect_string()
    }

    /// The server relayed to, `host:port`.
    #[napi(getter)]
    pub fn upstream(&self) -> String {
        self.relay.upstream().to_string()
    }

    /// Whether new connections are refused.
    #[napi(getter)]
    pub fn is_blocked(&self) -> bool {
        self.relay.is_blocked()
    }

    /// Closes every relayed connection now: clients see `'suspended'`, then
    /// reconnect and keep their sessions (`'reconnected'`).
    #[napi]
    pub fn drop(&self) {
        self.relay.drop_connections();
    }

    /// Drops every connection and refuses new ones until `unblock()`.
    #[napi]
    pub fn block(&self) {
        self.relay.block();
    }

    /// Lets clients connect again.
    #[napi]
    pub fn unblock(&self) {
        self.relay.unblock();
    }

    /// Ends the session of `client` (connected through this relay) on the
    /// server, as if it had expired: its ephemerals go, the client sees
    /// `'lost'` and starts a new session. `false` when the server had no such
    /// session any more.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub fn expire<'env>(&self, env: &'env Env, client: &Client) -> Result<PromiseRaw<'env, bool>> {
        let (relay, client) = (self.relay.clone(), client.core());
        spawn_value(env, None, async move { Ok(relay.expire(client?.session_id()).await?) })
    }

    /// Stops relaying and closes every connection.
    #[napi]
    pub fn close(&self) {
        self.relay.close();
    }
}
