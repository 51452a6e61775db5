//! The testing kit for C: a replicated ensemble inside the process
//! (`corral_cluster`), a loopback relay that breaks connections on purpose
//! (`corral_fault_relay`), and expiring a client's session.

use std::ffi::{c_char, CString};
use std::time::Duration;

use corral_core::embedded::Role;
use corral_core::embedded::{expire_session, ClusterBuilder, FaultRelay, TestCluster};

use crate::client::corral_client;
use crate::ffi::{out_arg, str_arg};
use crate::result::*;

/// Member mode: not running.
pub const CORRAL_MODE_DOWN: i32 = -1;
/// Member mode: running, but knows no leader (serves no client).
pub const CORRAL_MODE_LOOKING: i32 = 0;
/// Member mode: the leader.
pub const CORRAL_MODE_LEADER: i32 = 1;
/// Member mode: a following voter.
pub const CORRAL_MODE_FOLLOWER: i32 = 2;
/// Member mode: an observer.
pub const CORRAL_MODE_OBSERVER: i32 = 3;
/// Member mode: a standalone server.
pub const CORRAL_MODE_STANDALONE: i32 = 4;

/// A replicated ensemble in this process, for tests.
#[allow(non_camel_case_types)]
pub struct corral_cluster {
    cluster: TestCluster,
    connect_string: CString,
}

/// Runs a kit future to completion, blocking.
fn wait<T>(
    fut: impl std::future::Future<Output = Result<T, corral_core::embedded::EmbedError>>,
) -> Result<T, corral_result> {
    corral_core::runtime::block_on(fut).map_err(|e| from_block(&e))?.map_err(|e| from_embed(&e))
}

/// Starts `voters` voting members and `observers` observers on loopback
/// (short ticks, temporary data directories) and waits until they serve with
/// one leader. Members are numbered from 0, voters first.
///
/// ```c
/// corral_cluster *c = NULL;
/// corral_cluster_start(3, 0, &c);
/// size_t leader = 0;
/// corral_cluster_leader(c, 10000, &leader);
/// corral_cluster_kill(c, leader);       // the others elect a new leader
/// corral_cluster_restart(c, leader);    // it catches up
/// corral_cluster_free(c);
/// ```
#[no_mangle]
pub extern "C" fn corral_cluster_start(voters: u32, observers: u32, out: *mut *mut corral_cluster) -> corral_result {
    guard(|| {
        let out = out_arg(out)?;
        if voters == 0 {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        let builder = ClusterBuilder::new().voters(voters as usize).observers(observers as usize);
        let cluster = wait(builder.start())?;
        let connect_string = CString::new(cluster.connect_string()).map_err(|_| CORRAL_SERVER_ERROR)?;
        *out = Box::into_raw(Box::new(corral_cluster { cluster, connect_string }));
        Ok(())
    })
}

/// The connect string naming every member; valid until `corral_cluster_free`.
///
/// # Safety
///
/// `cluster` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_connect_string(cluster: *const corral_cluster) -> *const c_char {
    cluster.as_ref().map_or(std::ptr::null(), |c| c.connect_string.as_ptr())
}

/// How many members the cluster has (0 for NULL).
///
/// # Safety
///
/// `cluster` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_size(cluster: *const corral_cluster) -> usize {
    cluster.as_ref().map_or(0, |c| c.cluster.member_count())
}

/// The client port of member `index`.
///
/// # Safety
///
/// `cluster` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_port(
    cluster: *const corral_cluster,
    index: usize,
    out: *mut u16,
) -> corral_result {
    guard(|| {
        let c = cluster.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = c.cluster.port(index).map_err(|e| from_embed(&e))?;
        Ok(())
    })
}

/// Waits up to `timeout_ms` for the one leader and gives its index.
///
/// # Safety
///
/// `cluster` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_leader(
    cluster: *const corral_cluster,
    timeout_ms: u32,
    out: *mut usize,
) -> corral_result {
    guard(|| {
        let c = cluster.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = wait(c.cluster.leader(Duration::from_millis(u64::from(timeout_ms))))?;
        Ok(())
    })
}

/// Member `index`'s mode now (`CORRAL_MODE_*`).
///
/// # Safety
///
/// `cluster` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_mode(
    cluster: *const corral_cluster,
    index: usize,
    out: *mut i32,
) -> corral_result {
    guard(|| {
        let c = cluster.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = match wait(c.cluster.mode(index))? {
            None => CORRAL_MODE_DOWN,
            Some(Role::Looking) => CORRAL_MODE_LOOKING,
            Some(Role::Leader) => CORRAL_MODE_LEADER,
            Some(Role::Follower) => CORRAL_MODE_FOLLOWER,
            Some(Role::Observer) => CORRAL_MODE_OBSERVER,
            Some(Role::Standalone) => CORRAL_MODE_STANDALONE,
        };
        Ok(())
    })
}

/// Stops member `index` abruptly for its peers (as a process exit is); its
/// data stays for `corral_cluster_restart`.
///
/// # Safety
///
/// `cluster` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_kill(cluster: *const corral_cluster, index: usize) -> corral_result {
    guard(|| {
        let c = cluster.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        wait(c.cluster.kill(index))
    })
}

/// Starts member `index` again on its port and data and waits until it serves.
///
/// # Safety
///
/// `cluster` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_restart(cluster: *const corral_cluster, index: usize) -> corral_result {
    guard(|| {
        let c = cluster.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        wait(c.cluster.restart(index))
    })
}

/// Waits up to `timeout_ms` until every running member serves with one leader.
///
/// # Safety
///
/// `cluster` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_wait_serving(cluster: *const corral_cluster, timeout_ms: u32) -> corral_result {
    guard(|| {
        let c = cluster.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        wait(c.cluster.wait_serving(Duration::from_millis(u64::from(timeout_ms))))
    })
}

/// Stops every member, removes their data and frees the handle; NULL does nothing.
///
/// # Safety
///
/// `cluster` is NULL or a handle not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_cluster_free(cluster: *mut corral_cluster) {
    if cluster.is_null() {
        return;
    }
    let c = Box::from_raw(cluster);
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = corral_core::runtime::block_on(c.cluster.close());
    }));
}

/// A loopback relay in front of a server, for breaking connections on purpose.
#[allow(non_camel_case_types)]
pub struct corral_fault_relay {
    relay: FaultRelay,
    connect_string: CString,
}

/// Starts a relay on an ephemeral loopback port in front of `upstream`
/// (`host:port`, or a connect string: its first host). Clients that connect
/// to `corral_fault_relay_connect_string` reach the server through it.
///
/// # Safety
///
/// `upstream` is a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_fault_relay_start(
    upstream: *const c_char,
    out: *mut *mut corral_fault_relay,
) -> corral_result {
    guard(|| {
        let upstream = str_arg(upstream)?;
        let out = out_arg(out)?;
        let relay = wait(FaultRelay::start(upstream))?;
        let connect_string = CString::new(relay.connect_string()).map_err(|_| CORRAL_SERVER_ERROR)?;
        *out = Box::into_raw(Box::new(corral_fault_relay { relay, connect_string }));
        Ok(())
    })
}

/// The connect string of the relay; valid until `corral_fault_relay_free`.
///
/// # Safety
///
/// `relay` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_fault_relay_connect_string(relay: *const corral_fault_relay) -> *const c_char {
    relay.as_ref().map_or(std::ptr::null(), |r| r.connect_string.as_ptr())
}

/// Closes every relayed connection now: clients see a disconnect, then
/// reconnect and keep their sessions.
///
/// # Safety
///
/// `relay` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_fault_relay_drop(relay: *const corral_fault_relay) -> corral_result {
    guard(|| {
        relay.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.relay.drop_connections();
        Ok(())
    })
}

/// Drops every connection and refuses new ones until `corral_fault_relay_unblock`.
///
/// # Safety
///
/// `relay` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_fault_relay_block(relay: *const corral_fault_relay) -> corral_result {
    guard(|| {
        relay.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.relay.block();
        Ok(())
    })
}

/// Lets clients connect through the relay again.
///
/// # Safety
///
/// `relay` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_fault_relay_unblock(relay: *const corral_fault_relay) -> corral_result {
    guard(|| {
        relay.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.relay.unblock();
        Ok(())
    })
}

/// Ends session `session_id` on the server (it must have connected through
/// this relay): its ephemerals go, its clients see it expire.
///
/// # Safety
///
/// `relay` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_fault_relay_expire(relay: *const corral_fault_relay, session_id: i64) -> corral_result {
    guard(|| {
        let r = relay.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        if wait(r.relay.expire(session_id))? {
            Ok(())
        } else {
            Err(CORRAL_SESSION_EXPIRED)
        }
    })
}

/// Stops the relay and frees it; NULL does nothing.
///
/// # Safety
///
/// `relay` is NULL or a handle not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_fault_relay_free(relay: *mut corral_fault_relay) {
    if !relay.is_null() {
        Box::from_raw(relay).relay.close();
    }
}

/// Expires `zk`'s session on `server` (a connect string of its ensemble, or
/// of a relay in front of it) and waits up to `timeout_ms` until the client
/// has a new session (it sees `CORRAL_STATE_LOST`, then
/// `CORRAL_STATE_RECONNECTED`). Works against corral and Apache ZooKeeper.
///
/// # Safety
///
/// `zk` is NULL or live; `server` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_client_expire_session(
    zk: *const corral_client,
    server: *const c_char,
    timeout_ms: u32,
) -> corral_result {
    guard(|| {
        let zk = zk.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let server = str_arg(server)?;
        let client = zk.get()?;
        wait(
            async move { expire_session(&client, server, Duration::from_millis(u64::from(timeout_ms))).await.map(|_| ()) },
        )
    })
}
