//! `corral_client_options`: how `corral_client_connect_with` connects — the
//! session timeout, credentials, a session to resume, read-only servers and
//! the state callback.

use std::ffi::c_char;
use std::time::Duration;

use corral_core::client::Client;

use crate::client::corral_client;
use crate::dispatch::UserData;
use crate::ffi::{bytes_arg, out_arg, str_arg};
use crate::result::*;
use crate::watches::{corral_state_fn, follow_states};

/// The session timeout `corral_client_options_new` starts with.
pub const CORRAL_SESSION_TIMEOUT_DEFAULT_MS: u32 = 10_000;

/// Settings for `corral_client_connect_with`.
#[allow(non_camel_case_types)]
pub struct corral_client_options {
    session_timeout_ms: u32,
    connection_timeout_ms: Option<u32>,
    auth: Vec<(String, Vec<u8>)>,
    session: Option<(i64, [u8; 16])>,
    read_only: bool,
    state: Option<(unsafe extern "C" fn(i32, *mut std::ffi::c_void), UserData)>,
}

impl corral_client_options {
    /// The defaults with this session timeout.
    pub(crate) fn with_session_timeout(session_timeout_ms: u32) -> corral_client_options {
        corral_client_options {
            session_timeout_ms,
            connection_timeout_ms: None,
            auth: Vec::new(),
            session: None,
            read_only: false,
            state: None,
        }
    }
}

/// Makes client options with the defaults (10 s session timeout, no
/// credentials, a new session). Free them with `corral_client_options_free`.
///
/// ```c
/// corral_client_options *o = NULL;
/// corral_client_options_new(&o);
/// corral_client_options_session_timeout(o, 30000);
/// corral_client_options_auth(o, "digest", (const uint8_t *)"app:secret", 10);
/// corral_client *zk = NULL;
/// corral_result rc = corral_client_connect_with("10.0.0.1:2181,10.0.0.2:2181/app", o, &zk);
/// corral_client_options_free(o);
/// ```
#[no_mangle]
pub extern "C" fn corral_client_options_new(out: *mut *mut corral_client_options) -> corral_result {
    guard(|| {
        let out = out_arg(out)?;
        *out = Box::into_raw(Box::new(corral_client_options::with_session_timeout(CORRAL_SESSION_TIMEOUT_DEFAULT_MS)));
        Ok(())
    })
}

/// Frees client options; NULL does nothing.
///
/// # Safety
///
/// `opts` is NULL or options not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_client_options_free(opts: *mut corral_client_options) {
    if !opts.is_null() {
        drop(Box::from_raw(opts));
    }
}

/// The session timeout to ask for, in milliseconds (the server clamps it).
///
/// # Safety
///
/// `opts` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_client_options_session_timeout(
    opts: *mut corral_client_options,
    ms: u32,
) -> corral_result {
    guard(|| {
        let opts = out_arg(opts)?;
        if ms == 0 {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        opts.session_timeout_ms = ms;
        Ok(())
    })
}

/// How long the first connection may take, in milliseconds (default: the
/// session timeout).
///
/// # Safety
///
/// `opts` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_client_options_connection_timeout(
    opts: *mut corral_client_options,
    ms: u32,
) -> corral_result {
    guard(|| {
        let opts = out_arg(opts)?;
        if ms == 0 {
            return Err(CORRAL_INVALID_ARGUMENT);
        }
        opts.connection_timeout_ms = Some(ms);
        Ok(())
    })
}

/// Credentials sent on every connection (`"digest"`, `"user:password"`).
///
/// # Safety
///
/// `opts` is NULL or live; `scheme` is a NUL-terminated string; `auth` has `auth_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_client_options_auth(
    opts: *mut corral_client_options,
    scheme: *const c_char,
    auth: *const u8,
    auth_len: usize,
) -> corral_result {
    guard(|| {
        let opts = out_arg(opts)?;
        let scheme = str_arg(scheme)?;
        let auth = bytes_arg(auth, auth_len)?;
        opts.auth.push((scheme.to_owned(), auth.to_vec()));
        Ok(())
    })
}

/// Resumes this session (id and 16-byte password from
/// `corral_client_session_id` / `corral_client_session_password`, possibly
/// of another process) instead of starting a new one. If it has expired,
/// `corral_client_connect_with` returns `CORRAL_SESSION_EXPIRED`.
///
/// # Safety
///
/// `opts` is NULL or live; `password` has `password_len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn corral_client_options_session(
    opts: *mut corral_client_options,
    session_id: i64,
    password: *const u8,
    password_len: usize,
) -> corral_result {
    guard(|| {
        let opts = out_arg(opts)?;
        let password: [u8; 16] = bytes_arg(password, password_len)?.try_into().map_err(|_| CORRAL_INVALID_ARGUMENT)?;
        opts.session = Some((session_id, password));
        Ok(())
    })
}

/// Whether read-only servers are acceptable (ZooKeeper's `canBeReadOnly`).
///
/// # Safety
///
/// `opts` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_client_options_read_only(
    opts: *mut corral_client_options,
    allow: bool,
) -> corral_result {
    guard(|| {
        out_arg(opts)?.read_only = allow;
        Ok(())
    })
}

/// A callback for the client's state: called on the dispatch thread with
/// the state right after connecting (`CORRAL_STATE_CONNECTED`), then with
/// every change, the last being `CORRAL_STATE_CLOSED`; `userdata` must stay
/// valid until then.
///
/// # Safety
///
/// `opts` is NULL or live.
#[no_mangle]
pub unsafe extern "C" fn corral_client_options_state_callback(
    opts: *mut corral_client_options,
    callback: corral_state_fn,
    userdata: *mut std::ffi::c_void,
) -> corral_result {
    guard(|| {
        let opts = out_arg(opts)?;
        opts.state = Some((callback.ok_or(CORRAL_NULL_ARGUMENT)?, UserData(userdata)));
        Ok(())
    })
}

/// Connects with `opts` (NULL: the defaults), blocking until the session is
/// established or the attempt fails. The options are not consumed.
///
/// # Safety
///
/// `connect_string` is a NUL-terminated string; `opts` is NULL or live; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_client_connect_with(
    connect_string: *const c_char,
    opts: *const corral_client_options,
    out: *mut *mut corral_client,
) -> corral_result {
    guard(|| {
        let cs = str_arg(connect_string)?;
        let out = out_arg(out)?;
        let defaults = corral_client_options::with_session_timeout(CORRAL_SESSION_TIMEOUT_DEFAULT_MS);
        let o = opts.as_ref().unwrap_or(&defaults);
        let mut b = Client::builder(cs)
            .session_timeout(Duration::from_millis(u64::from(o.session_timeout_ms)))
            .read_only(o.read_only);
        if let Some(ms) = o.connection_timeout_ms {
            b = b.connection_timeout(Duration::from_millis(u64::from(ms)));
        }
        for (scheme, auth) in &o.auth {
            b = b.auth(scheme, auth);
        }
        if let Some((id, password)) = o.session {
            b = b.session(id, password);
        }
        let client = corral_core::runtime::block_on(b.connect()).map_err(|e| from_block(&e))?.map_err(|e| {
            if e.code == corral_core::proto::Code::BadArguments {
                CORRAL_INVALID_ARGUMENT
            } else {
                from_client(&e)
            }
        })?;
        if let Some((cb, ud)) = o.state {
            follow_states(&client, cb, ud);
        }
        *out = Box::into_raw(Box::new(corral_client::new(client)));
        Ok(())
    })
}
