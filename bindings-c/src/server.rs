//! `corral_server`: an embedded server in the host process, standalone on an
//! ephemeral loopback port with a temporary data directory, or configured
//! through `corral_server_options` (a `zoo.cfg`, options, a data directory, a
//! client port, a server id and peers: a durable member of a real ensemble).

use std::ffi::{c_char, CString};
use std::sync::Mutex;

use corral_core::embedded::{EmbeddedServer, ServerBuilder};

use crate::ffi::{out_arg, str_arg};
use crate::result::*;

/// Settings for `corral_server_start`, applied in the order `corral server`
/// applies them: the `zoo.cfg` file, the data directory and client port, each
/// option as a `zoo.cfg` line in the order set, the server id and peers. Bad
/// values are reported by `corral_server_start` (`CORRAL_SERVER_ERROR`).
#[allow(non_camel_case_types)]
pub struct corral_server_options {
    builder: ServerBuilder,
}

/// A running (or stopped) embedded server.
#[allow(non_camel_case_types)]
pub struct corral_server {
    server: Mutex<Option<EmbeddedServer>>,
    connect_string: CString,
    port: u16,
}

/// Makes an empty set of server options (a standalone server on 127.0.0.1,
/// ephemeral port, temporary data directory). Free it with
/// `corral_server_options_free`.
///
/// ```c
/// corral_server_options *opts = NULL;
/// corral_server_options_new(&opts);
/// corral_server_options_set(opts, "tickTime", "200");
/// corral_server *srv = NULL;
/// corral_result rc = corral_server_start(opts, &srv);
/// corral_server_options_free(opts);
/// ```
#[no_mangle]
pub extern "C" fn corral_server_options_new(out: *mut *mut corral_server_options) -> corral_result {
    guard(|| {
        let out = out_arg(out)?;
        *out = Box::into_raw(Box::new(corral_server_options { builder: ServerBuilder::new() }));
        Ok(())
    })
}

/// Frees options made by `corral_server_options_new`; NULL does nothing.
///
/// # Safety
///
/// `opts` is NULL or a handle not yet freed.
#[no_mangle]
pub unsafe extern "C" fn corral_server_options_free(opts: *mut corral_server_options) {
    if !opts.is_null() {
        drop(Box::from_raw(opts));
    }
}

/// Applies `edit` to the builder behind `opts`.
unsafe fn edit_options(
    opts: *mut corral_server_options,
    edit: impl FnOnce(ServerBuilder) -> Result<ServerBuilder, corral_result>,
) -> corral_result {
    guard(|| {
        let opts = out_arg(opts)?;
        let builder = std::mem::take(&mut opts.builder);
        match edit(builder.clone()) {
            Ok(b) => opts.builder = b,
            Err(code) => {
                opts.builder = builder;
                return Err(code);
            }
        }
        Ok(())
    })
}

/// Sets a `zoo.cfg` key (`tickTime`, `maxClientCnxns`, ...); later calls win.
///
/// # Safety
///
/// `opts` is a live handle; `key` and `value` are NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn corral_server_options_set(
    opts: *mut corral_server_options,
    key: *const c_char,
    value: *const c_char,
) -> corral_result {
    edit_options(opts, |b| Ok(b.option(str_arg(key)?, str_arg(value)?)))
}

/// Starts from this `zoo.cfg` file instead of the loopback defaults.
///
/// # Safety
///
/// `opts` is a live handle; `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_server_options_config_file(
    opts: *mut corral_server_options,
    path: *const c_char,
) -> corral_result {
    edit_options(opts, |b| Ok(b.config_file(str_arg(path)?)))
}

/// Keeps the data in `dir` (durable; not removed on free).
///
/// # Safety
///
/// `opts` is a live handle; `dir` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_server_options_data_dir(
    opts: *mut corral_server_options,
    dir: *const c_char,
) -> corral_result {
    edit_options(opts, |b| Ok(b.data_dir(str_arg(dir)?)))
}

/// Listens on this client port (0: an ephemeral one).
///
/// # Safety
///
/// `opts` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_server_options_client_port(
    opts: *mut corral_server_options,
    port: u16,
) -> corral_result {
    edit_options(opts, |b| Ok(b.client_port(port)))
}

/// This member's id in an ensemble (`myid`).
///
/// # Safety
///
/// `opts` is a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_server_options_server_id(opts: *mut corral_server_options, id: u64) -> corral_result {
    edit_options(opts, |b| Ok(b.server_id(id)))
}

/// A member of the ensemble (this one included), as the value of its
/// `server.N` line: `host:peerPort:electionPort[:observer][;[host:]clientPort]`.
///
/// # Safety
///
/// `opts` is a live handle; `spec` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn corral_server_options_peer(
    opts: *mut corral_server_options,
    id: u64,
    spec: *const c_char,
) -> corral_result {
    edit_options(opts, |b| Ok(b.peer(id, str_arg(spec)?)))
}

/// Starts an embedded server; `opts` may be NULL (standalone, 127.0.0.1,
/// ephemeral port, temporary data directory removed on free). The options
/// are not consumed. Blocks until it serves.
///
/// ```c
/// corral_server *srv = NULL;
/// if (corral_server_start(NULL, &srv) != CORRAL_OK) return 1;
/// printf("%s\n", corral_server_connect_string(srv)); // 127.0.0.1:40123
/// corral_server_free(srv);
/// ```
///
/// # Safety
///
/// `opts` is NULL or a live handle; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn corral_server_start(
    opts: *const corral_server_options,
    out: *mut *mut corral_server,
) -> corral_result {
    guard(|| {
        let out = out_arg(out)?;
        let builder = opts.as_ref().map_or_else(ServerBuilder::new, |o| o.builder.clone());
        let server =
            corral_core::runtime::block_on(builder.start()).map_err(|e| from_block(&e))?.map_err(|e| from_embed(&e))?;
        let connect_string = CString::new(server.connect_string()).map_err(|_| CORRAL_SERVER_ERROR)?;
        let port = server.port();
        *out = Box::into_raw(Box::new(corral_server { server: Mutex::new(Some(server)), connect_string, port }));
        Ok(())
    })
}

/// The connect string clients use (`127.0.0.1:<port>`), owned by the server
/// and valid until `corral_server_free`; NULL for a NULL handle.
///
/// # Safety
///
/// `srv` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_server_connect_string(srv: *const corral_server) -> *const c_char {
    srv.as_ref().map_or(std::ptr::null(), |s| s.connect_string.as_ptr())
}

/// The client port (the same after a stop and serve); 0 for a NULL handle.
///
/// # Safety
///
/// `srv` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_server_port(srv: *const corral_server) -> u16 {
    srv.as_ref().map_or(0, |s| s.port)
}

/// What `corral_server_stop`, `_serve` and `_restart` do.
#[derive(Clone, Copy)]
enum Action {
    Stop,
    Serve,
    Restart,
}

/// Runs `action` on the server behind `srv`, blocking.
unsafe fn act(srv: *const corral_server, action: Action) -> corral_result {
    guard(|| {
        let srv = srv.as_ref().ok_or(CORRAL_NULL_ARGUMENT)?;
        let mut slot = srv.server.lock().map_err(|_| CORRAL_PANIC)?;
        let server = slot.as_mut().ok_or(CORRAL_CLOSED_HANDLE)?;
        let done = corral_core::runtime::block_on(async {
            match action {
                Action::Stop => server.stop().await,
                Action::Serve => server.serve().await,
                Action::Restart => server.restart().await,
            }
        });
        done.map_err(|e| from_block(&e))?.map_err(|e| from_embed(&e))
    })
}

/// Stops serving: clients are disconnected; the data, the sessions and the
/// port stay for `corral_server_serve`.
///
/// # Safety
///
/// `srv` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_server_stop(srv: *const corral_server) -> corral_result {
    act(srv, Action::Stop)
}

/// Serves again after `corral_server_stop`, on the same port with the same
/// data (clients resume their sessions); does nothing while serving.
///
/// # Safety
///
/// `srv` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_server_serve(srv: *const corral_server) -> corral_result {
    act(srv, Action::Serve)
}

/// Stops and serves again (same port, same data).
///
/// # Safety
///
/// `srv` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_server_restart(srv: *const corral_server) -> corral_result {
    act(srv, Action::Restart)
}

/// Whether the server serves now (false for NULL).
///
/// # Safety
///
/// `srv` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn corral_server_is_running(srv: *const corral_server) -> bool {
    srv.as_ref().and_then(|s| s.server.lock().ok()).is_some_and(|s| s.as_ref().is_some_and(|s| s.is_running()))
}

/// Stops the server, removes its temporary data directory (if it made one)
/// and frees the handle; NULL does nothing.
///
/// # Safety
///
/// `srv` is NULL or a handle not yet freed, used by no other thread now.
#[no_mangle]
pub unsafe extern "C" fn corral_server_free(srv: *mut corral_server) {
    if srv.is_null() {
        return;
    }
    let srv = Box::from_raw(srv);
    let server = srv.server.into_inner().ok().flatten();
    if let Some(server) = server {
        // From a runtime thread the server is closed in the background instead.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = corral_core::runtime::block_on(server.close());
        }));
    }
}
