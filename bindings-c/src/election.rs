//! Leader election for C, the core's `LeaderElection` (Curator's
//! `LeaderSelector` node naming, kazoo's `Election` run/cancel/contenders):
//! `corral_election_run` waits to lead, runs the caller's function on the
//! caller's thread while leading, and relinquishes when it returns.

use std::ffi::{c_char, c_void, CString};
use std::sync::Mutex;

use corral_core::recipes::election::{LeaderElection, Leadership, LossReason};
use tokio::sync::oneshot;

use crate::client::corral_client;
use crate::ffi::{out_arg, spawn_started, str_arg, timeout_arg, wait, write_buf};
use crate::result::*;
use crate::strings::corral_strings;

/// Loss reason: the connection was suspended (ownership unknown, so
/// leadership is given up, as Curator's default policy does).
pub const CORRAL_LOSS_SUSPENDED: i32 = 1;
/// Loss reason: the session expired.
pub const CORRAL_LOSS_SESSION_LOST: i32 = 2;
/// Loss reason: someone deleted the leader's node.
pub const CORRAL_LOSS_NODE_DELETED: i32 = 3;
/// Loss reason: `corral_election_cancel` was called.
pub const CORRAL_LOSS_CANCELLED: i32 = 4;
/// Loss reason: the client was closed.
pub const CORRAL_LOSS_CLOSED: i32 = 5;

/// A leader election on one path.
#[allow(non_camel_case_types)]
pub struct corral_election {
    election: LeaderElection,
    /// Runs of one handle take turns: a run that gives up cancels the
    /// runs of its election, which must then be its own only.
    turn: Mutex<()>,
}

/// What the leader's function holds while it leads; valid during that call only.
#[allow(non_camel_case_types)]
pub struct corral_leadership {
    leadership: Leadership,
}

/// The leader's function: runs on the thread that called
/// `corral_election_run`, while this participant leads; returning gives up
/// leadership.
#[allow(non_camel_case_types)]
pub type corral_lead_fn = Option<unsafe extern "C" fn(leadership: *const corral_leadership, userdata: *mut c_void)>;

/// An election at `path` where this participant is known by `identifier`
/// (stored in its node, listed by `corral_election_contenders`); nothing is
/// joined until `corral_election_run`.
///
/// ```c
/// static void lead(const corral_leadership *l, void *ud) {
///     int64_t token = 0;
///     corral_leadership_fencing_token(l, &token);
///     while (!corral_leadership_is_lost(l) && work_left(ud)) do_work(ud, token);
/// }
/// corral_election *e = NULL;
/// corral_election_new(zk, "/election/scheduler", "host-a", &e);
/// corral_result rc = corral_election_run(e, CORRAL_WAIT_FOREVER, lead, NULL);   // CORRAL_OK once it led
/// corral_election_free(e);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` and `identifier` are NUL-terminated strings; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_election_new(
    zk: *const corral_client,
    path: *const c_char,
    identifier: *const c_char,
    out: *mut *mut corral_election,
) -> corral_result {
    crate::ffi::new_handle(zk, out, |c| {
        Ok(corral_election {
            election: LeaderElection::new(c, str_arg(path)?, str_arg(identifier)?),
            turn: Mutex::new(()),
        })
    })
}

/// An election at `path` in the given layout (`CORRAL_LAYOUT_CURATOR`, as
/// `corral_election_new`, or `CORRAL_LAYOUT_KAZOO`: kazoo's `Election`, to
/// share the election with kazoo processes; any other value is
/// `CORRAL_INVALID_ARGUMENT`).
///
/// ```c
/// corral_election *e = NULL;
/// corral_election_new_layout(zk, "/election/scheduler", "host-a", CORRAL_LAYOUT_KAZOO, &e);
/// corral_election_free(e);
/// ```
///
/// # Safety
///
/// `zk` is NULL or live; `path` and `identifier` are NUL-terminated strings; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_election_new_layout(
    zk: *const corral_client,
    path: *const c_char,
    identifier: *const c_char,
    layout: i32,
    out: *mut *mut corral_election,
) -> corral_result {
    crate::ffi::new_handle(zk, out, |c| {
        let naming = crate::recipes::layout_arg(layout)?;
        Ok(corral_election {
            election: LeaderElection::new(c, str_arg(path)?, str_arg(identifier)?).with_naming(naming),
            turn: Mutex::new(()),
        })
    })
}

/// Joins the election and waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`)
/// to lead; then calls `lead` on this thread and, when it returns, gives up
/// leadership (the node is deleted: the next participant leads). Returns
/// `CORRAL_OK` once it has led, `CORRAL_TIMEOUT` when the time passed first,
/// `CORRAL_CANCELLED` when `corral_election_cancel` stopped the wait, or the
/// error that ended it (a closed client). Leading again means calling it
/// again. Runs of one handle take turns; `lead` must not run its own handle.
///
/// # Safety
///
/// `election` is NULL or live; `userdata` is what `lead` expects.
#[no_mangle]
pub unsafe extern "C" fn corral_election_run(
    election: *const corral_election,
    timeout_ms: i64,
    lead: corral_lead_fn,
    userdata: *mut c_void,
) -> corral_result {
    guard(|| {
        let e = election.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let lead = lead.ok_or(CORRAL_NULL_ARGUMENT)?;
        let timeout = timeout_arg(timeout_ms)?;
        let _turn = e.turn.lock().map_err(|_| CORRAL_PANIC)?;
        let (lead_tx, lead_rx) = oneshot::channel::<Leadership>();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let (mut lead_tx, mut done_rx) = (Some(lead_tx), Some(done_rx));
        let run = e.election.clone();
        // Started here, so that a cancel from now on reaches this run.
        let task = spawn_started(async move {
            run.run(move |leadership| {
                let (tx, rx) = (lead_tx.take(), done_rx.take());
                async move {
                    if let Some(tx) = tx {
                        let _ = tx.send(leadership);
                    }
                    // Leads until C's function returns.
                    if let Some(rx) = rx {
                        let _ = rx.await;
                    }
                }
            })
            .await
        });
        let leading = corral_core::runtime::block_on(async move {
            match timeout {
                None => Some(lead_rx.await),
                Some(t) => tokio::time::timeout(t, lead_rx).await.ok(),
            }
        })
        .map_err(|e| from_block(&e))?;
        let outcome = match leading {
            Some(Ok(leadership)) => {
                // SAFETY: the caller passed `lead` for this call.
                unsafe { lead(&corral_leadership { leadership }, userdata) };
                Ok(())
            }
            Some(Err(_)) => Err(CORRAL_CANCELLED),
            None => {
                e.election.cancel();
                Err(CORRAL_TIMEOUT)
            }
        };
        drop(done_tx);
        let ended = corral_core::runtime::block_on(task).map_err(|e| from_block(&e))?.map_err(|_| CORRAL_PANIC)?;
        ended.map_err(|e| from_client(&e))?;
        outcome
    })
}

/// Stops the run of this handle in progress, if any: a waiting run returns
/// `CORRAL_CANCELLED`; a leader sees its leadership lost
/// (`CORRAL_LOSS_CANCELLED`) and should return. Runs started later are not
/// affected.
///
/// # Safety
///
/// `election` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_election_cancel(election: *const corral_election) -> corral_result {
    guard(|| {
        election.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?.election.cancel();
        Ok(())
    })
}

/// The identifiers of every participant in line, the leader first, as a new list.
///
/// # Safety
///
/// `election` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_election_contenders(
    election: *const corral_election,
    out: *mut *mut corral_strings,
) -> corral_result {
    guard(|| {
        let e = election.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let out = out_arg(out)?;
        *out = corral_strings::boxed(wait(e.election.contenders())?)?;
        Ok(())
    })
}

/// The leader's identifier, NUL-terminated, into `buf` (`cap` bytes; `*len`
/// gets its length). `CORRAL_NO_NODE` when no one leads.
///
/// # Safety
///
/// `election` is NULL or live; `buf` has `cap` writable bytes; `len` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_election_leader(
    election: *const corral_election,
    buf: *mut c_char,
    cap: usize,
    len: *mut usize,
) -> corral_result {
    guard(|| {
        let e = election.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        out_arg(len)?;
        let leader = wait(e.election.leader())?.ok_or(CORRAL_NO_NODE)?;
        let id = CString::new(leader).map_err(|_| CORRAL_INVALID_UTF8)?;
        write_buf(id.as_bytes(), true, buf.cast(), cap, len)
    })
}

/// Frees an election handle; NULL does nothing.
///
/// # Safety
///
/// `election` is NULL or not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_election_free(election: *mut corral_election) {
    crate::ffi::free_handle(election)
}

/// The fencing token of this leadership: the zxid that created the leader's
/// node, larger for every later leader of the election.
///
/// # Safety
///
/// `leadership` is NULL or the one given to the running `lead`; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_leadership_fencing_token(
    leadership: *const corral_leadership,
    out: *mut i64,
) -> corral_result {
    guard(|| {
        let l = leadership.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        *out_arg(out)? = l.leadership.fencing_token();
        Ok(())
    })
}

/// Whether leadership is lost (the leader should stop acting as one and
/// return); false for NULL.
///
/// # Safety
///
/// `leadership` is NULL or the one given to the running `lead`.
#[no_mangle]
pub unsafe extern "C" fn corral_leadership_is_lost(leadership: *const corral_leadership) -> bool {
    leadership.as_ref().is_some_and(|l| l.leadership.is_lost())
}

/// Waits up to `timeout_ms` (`CORRAL_WAIT_FOREVER`) until leadership is
/// lost: `CORRAL_OK` with why in `*reason` (`CORRAL_LOSS_*`; `reason` may be
/// NULL), or `CORRAL_TIMEOUT` while it still leads.
///
/// # Safety
///
/// `leadership` is NULL or the one given to the running `lead`; `reason` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn corral_leadership_wait_lost(
    leadership: *const corral_leadership,
    timeout_ms: i64,
    reason: *mut i32,
) -> corral_result {
    guard(|| {
        let l = leadership.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let timeout = timeout_arg(timeout_ms)?;
        let lost = corral_core::runtime::block_on(async {
            match timeout {
                None => Some(l.leadership.lost().await),
                Some(t) => tokio::time::timeout(t, l.leadership.lost()).await.ok(),
            }
        })
        .map_err(|e| from_block(&e))?
        .ok_or(CORRAL_TIMEOUT)?;
        if let Some(r) = reason.as_mut() {
            *r = match lost {
                LossReason::Suspended => CORRAL_LOSS_SUSPENDED,
                LossReason::SessionLost => CORRAL_LOSS_SESSION_LOST,
                LossReason::NodeDeleted => CORRAL_LOSS_NODE_DELETED,
                LossReason::Cancelled => CORRAL_LOSS_CANCELLED,
                LossReason::Closed => CORRAL_LOSS_CLOSED,
            };
        }
        Ok(())
    })
}
