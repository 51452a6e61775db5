//! `corral_result`: the codes every fallible function returns, their messages,
//! and the guard that keeps panics from crossing the boundary.
//!
//! The ZooKeeper codes have the numbers of the ZooKeeper C client's
//! `zookeeper.h` (and of corral's `proto::Code`, checked by a test); corral's
//! own codes count down from -1000, a range ZooKeeper never uses.

use std::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

use corral_core::client::Error as ClientError;
use corral_core::embedded::EmbedError;
use corral_core::proto::Code;
use corral_core::runtime::BlockError;

/// The outcome of a call: `CORRAL_OK` (0) or an error code.
#[allow(non_camel_case_types)]
pub type corral_result = i32;

/// Success.
pub const CORRAL_OK: corral_result = 0;
/// A server-side error without a more specific code (ZSYSTEMERROR).
pub const CORRAL_SYSTEM_ERROR: corral_result = -1;
/// A runtime inconsistency was found (ZRUNTIMEINCONSISTENCY).
pub const CORRAL_RUNTIME_INCONSISTENCY: corral_result = -2;
/// A data inconsistency was found (ZDATAINCONSISTENCY).
pub const CORRAL_DATA_INCONSISTENCY: corral_result = -3;
/// The connection to the server was lost; the request may or may not have
/// been applied (ZCONNECTIONLOSS).
pub const CORRAL_CONNECTION_LOSS: corral_result = -4;
/// A record could not be encoded or decoded (ZMARSHALLINGERROR).
pub const CORRAL_MARSHALLING_ERROR: corral_result = -5;
/// The server does not implement the operation (ZUNIMPLEMENTED).
pub const CORRAL_UNIMPLEMENTED: corral_result = -6;
/// The operation timed out (ZOPERATIONTIMEOUT).
pub const CORRAL_OPERATION_TIMEOUT: corral_result = -7;
/// The server refused the arguments (ZBADARGUMENTS).
pub const CORRAL_BAD_ARGUMENTS: corral_result = -8;
/// The session id is unknown (ZooKeeper's UNKNOWNSESSION).
pub const CORRAL_UNKNOWN_SESSION: corral_result = -12;
/// A reconfig's new membership has no connected quorum (ZNEWCONFIGNOQUORUM).
pub const CORRAL_NEW_CONFIG_NO_QUORUM: corral_result = -13;
/// Another reconfig is in progress (ZRECONFIGINPROGRESS).
pub const CORRAL_RECONFIG_IN_PROGRESS: corral_result = -14;
/// An API error without a more specific code (ZAPIERROR).
pub const CORRAL_API_ERROR: corral_result = -100;
/// The node does not exist (ZNONODE).
pub const CORRAL_NO_NODE: corral_result = -101;
/// Not authorised (ZNOAUTH).
pub const CORRAL_NO_AUTH: corral_result = -102;
/// The expected version does not match (ZBADVERSION).
pub const CORRAL_BAD_VERSION: corral_result = -103;
/// Ephemeral nodes may not have children (ZNOCHILDRENFOREPHEMERALS).
pub const CORRAL_NO_CHILDREN_FOR_EPHEMERALS: corral_result = -108;
/// The node already exists (ZNODEEXISTS).
pub const CORRAL_NODE_EXISTS: corral_result = -110;
/// The node has children (ZNOTEMPTY).
pub const CORRAL_NOT_EMPTY: corral_result = -111;
/// The session expired: its ephemerals and watches are gone (ZSESSIONEXPIRED).
pub const CORRAL_SESSION_EXPIRED: corral_result = -112;
/// An invalid callback (ZINVALIDCALLBACK).
pub const CORRAL_INVALID_CALLBACK: corral_result = -113;
/// An invalid ACL (ZINVALIDACL).
pub const CORRAL_INVALID_ACL: corral_result = -114;
/// Authentication failed (ZAUTHFAILED).
pub const CORRAL_AUTH_FAILED: corral_result = -115;
/// The session moved to another server (ZSESSIONMOVED).
pub const CORRAL_SESSION_MOVED: corral_result = -118;
/// A write sent to a read-only server (ZNOTREADONLY).
pub const CORRAL_NOT_READ_ONLY: corral_result = -119;
/// An ephemeral node on a local session (ZEPHEMERALONLOCALSESSION).
pub const CORRAL_EPHEMERAL_ON_LOCAL_SESSION: corral_result = -120;
/// No such watcher (ZNOWATCHER).
pub const CORRAL_NO_WATCHER: corral_result = -121;
/// The request timed out on the server (ZooKeeper's REQUESTTIMEOUT).
pub const CORRAL_REQUEST_TIMEOUT: corral_result = -122;
/// Reconfiguration is disabled (ZRECONFIGDISABLED).
pub const CORRAL_RECONFIG_DISABLED: corral_result = -123;
/// The server requires SASL authentication (ZSESSIONCLOSEDREQUIRESASLAUTH).
pub const CORRAL_SESSION_CLOSED_REQUIRE_SASL_AUTH: corral_result = -124;
/// A quota was exceeded (ZooKeeper's QUOTAEXCEEDED).
pub const CORRAL_QUOTA_EXCEEDED: corral_result = -125;
/// The server throttled the request; retry (ZTHROTTLEDOP).
pub const CORRAL_THROTTLED: corral_result = -127;

/// corral: a required pointer argument was NULL.
pub const CORRAL_NULL_ARGUMENT: corral_result = -1000;
/// corral: an output buffer is too small; the needed length was reported and
/// nothing else written.
pub const CORRAL_BUFFER_TOO_SMALL: corral_result = -1001;
/// corral: a string argument is not valid UTF-8.
pub const CORRAL_INVALID_UTF8: corral_result = -1002;
/// corral: the handle was closed (`corral_client_close`, `corral_server_stop`).
pub const CORRAL_CLOSED_HANDLE: corral_result = -1003;
/// corral: the call did not finish within its time limit.
pub const CORRAL_TIMEOUT: corral_result = -1004;
/// corral: an argument is out of range or malformed (a path, a mode, an
/// option, a connect string); nothing was sent.
pub const CORRAL_INVALID_ARGUMENT: corral_result = -1005;
/// corral: an embedded server or cluster could not start, stop or be
/// configured (a port in use, a bad `zoo.cfg` key, an unusable data directory).
pub const CORRAL_SERVER_ERROR: corral_result = -1006;
/// corral: a blocking call was made from a thread of an async runtime.
pub const CORRAL_WRONG_THREAD: corral_result = -1007;
/// corral: a panic inside corral was caught at the boundary (a bug: please report).
pub const CORRAL_PANIC: corral_result = -1008;
/// corral: a recipe was asked to give up what it does not hold (a lock not held).
pub const CORRAL_NOT_HELD: corral_result = -1009;
/// corral: too many `_async` calls are waiting for their completions.
pub const CORRAL_QUEUE_FULL: corral_result = -1010;
/// corral: a wait was cancelled (`corral_election_cancel`) before it got what it waited for.
pub const CORRAL_CANCELLED: corral_result = -1011;

/// Every code with its message, NUL-terminated.
const MESSAGES: &[(corral_result, &str)] = &[
    (CORRAL_OK, "ok\0"),
    (CORRAL_SYSTEM_ERROR, "system error\0"),
    (CORRAL_RUNTIME_INCONSISTENCY, "runtime inconsistency\0"),
    (CORRAL_DATA_INCONSISTENCY, "data inconsistency\0"),
    (CORRAL_CONNECTION_LOSS, "connection loss\0"),
    (CORRAL_MARSHALLING_ERROR, "marshalling error\0"),
    (CORRAL_UNIMPLEMENTED, "unimplemented\0"),
    (CORRAL_OPERATION_TIMEOUT, "operation timeout\0"),
    (CORRAL_BAD_ARGUMENTS, "bad arguments\0"),
    (CORRAL_UNKNOWN_SESSION, "unknown session\0"),
    (CORRAL_NEW_CONFIG_NO_QUORUM, "no quorum of new config is connected\0"),
    (CORRAL_RECONFIG_IN_PROGRESS, "another reconfiguration is in progress\0"),
    (CORRAL_API_ERROR, "api error\0"),
    (CORRAL_NO_NODE, "no node\0"),
    (CORRAL_NO_AUTH, "not authenticated\0"),
    (CORRAL_BAD_VERSION, "bad version\0"),
    (CORRAL_NO_CHILDREN_FOR_EPHEMERALS, "no children for ephemerals\0"),
    (CORRAL_NODE_EXISTS, "node exists\0"),
    (CORRAL_NOT_EMPTY, "not empty\0"),
    (CORRAL_SESSION_EXPIRED, "session expired\0"),
    (CORRAL_INVALID_CALLBACK, "invalid callback\0"),
    (CORRAL_INVALID_ACL, "invalid acl\0"),
    (CORRAL_AUTH_FAILED, "authentication failed\0"),
    (CORRAL_SESSION_MOVED, "session moved to another server\0"),
    (CORRAL_NOT_READ_ONLY, "state-changing request sent to a read-only server\0"),
    (CORRAL_EPHEMERAL_ON_LOCAL_SESSION, "ephemeral node on a local session\0"),
    (CORRAL_NO_WATCHER, "no such watcher\0"),
    (CORRAL_REQUEST_TIMEOUT, "request timed out\0"),
    (CORRAL_RECONFIG_DISABLED, "reconfiguration is disabled\0"),
    (CORRAL_SESSION_CLOSED_REQUIRE_SASL_AUTH, "session closed: the server requires SASL authentication\0"),
    (CORRAL_QUOTA_EXCEEDED, "quota exceeded\0"),
    (CORRAL_THROTTLED, "request throttled\0"),
    (CORRAL_NULL_ARGUMENT, "a required argument is NULL\0"),
    (CORRAL_BUFFER_TOO_SMALL, "output buffer too small\0"),
    (CORRAL_INVALID_UTF8, "string is not valid UTF-8\0"),
    (CORRAL_CLOSED_HANDLE, "the handle is closed\0"),
    (CORRAL_TIMEOUT, "timed out\0"),
    (CORRAL_INVALID_ARGUMENT, "invalid argument\0"),
    (CORRAL_SERVER_ERROR, "embedded server error\0"),
    (CORRAL_WRONG_THREAD, "blocking call from an async runtime thread\0"),
    (CORRAL_PANIC, "internal panic caught at the C boundary\0"),
    (CORRAL_NOT_HELD, "not held\0"),
    (CORRAL_QUEUE_FULL, "too many calls waiting for their completions\0"),
    (CORRAL_CANCELLED, "cancelled\0"),
];

/// The message for `code` as a static NUL-terminated string (never NULL;
/// "unknown result code" for a number no function returns).
///
/// ```c
/// printf("%s\n", corral_result_message(CORRAL_NO_NODE)); // no node
/// ```
#[no_mangle]
pub extern "C" fn corral_result_message(code: corral_result) -> *const c_char {
    let text = MESSAGES.iter().find(|(c, _)| *c == code).map_or("unknown result code\0", |(_, m)| m);
    text.as_ptr().cast()
}

/// The code of a ZooKeeper error.
pub fn from_code(code: Code) -> corral_result {
    code.as_i32()
}

/// The code of a client error.
pub fn from_client(e: &ClientError) -> corral_result {
    from_code(e.code)
}

/// The code of a kit error.
pub fn from_embed(e: &EmbedError) -> corral_result {
    match e {
        EmbedError::NoMember { .. }
        | EmbedError::BadAddress(_)
        | EmbedError::UnknownSession(_)
        | EmbedError::NoVoters => CORRAL_INVALID_ARGUMENT,
        EmbedError::NoSession => CORRAL_SESSION_EXPIRED,
        EmbedError::Closed => CORRAL_CLOSED_HANDLE,
        EmbedError::Timeout { .. } => CORRAL_TIMEOUT,
        _ => CORRAL_SERVER_ERROR,
    }
}

/// The code of a blocking wait that ended without a result.
pub fn from_block<E>(e: &BlockError<E>) -> corral_result {
    match e {
        BlockError::InsideRuntime => CORRAL_WRONG_THREAD,
        BlockError::TimedOut(_) | BlockError::Cancelled(_) => CORRAL_TIMEOUT,
    }
}

/// Runs `body`, turning a panic into `CORRAL_PANIC`.
pub fn guard(body: impl FnOnce() -> Result<(), corral_result>) -> corral_result {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => CORRAL_OK,
        Ok(Err(code)) => code,
        Err(_) => CORRAL_PANIC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zookeeper_codes_have_the_numbers_of_the_core_table() {
        for (code, _) in MESSAGES.iter().filter(|(c, _)| *c > -1000) {
            let core = Code::from_i32(*code).unwrap_or_else(|| panic!("{code} is not a ZooKeeper code"));
            assert_eq!(from_code(core), *code);
        }
        // Every code of the core table has a constant here.
        for n in -200..=0 {
            if Code::from_i32(n).is_some() {
                assert!(MESSAGES.iter().any(|(c, _)| *c == n), "no constant for code {n}");
            }
        }
    }

    #[test]
    fn every_message_is_nul_terminated_and_unknown_codes_say_so() {
        for (code, m) in MESSAGES {
            assert!(m.ends_with('\0') && !m[..m.len() - 1].contains('\0'), "{code}");
        }
        let unknown = unsafe { std::ffi::CStr::from_ptr(corral_result_message(12345)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown result code");
    }

    #[test]
    fn a_panic_becomes_a_code() {
        assert_eq!(guard(|| panic!("boom")), CORRAL_PANIC);
        assert_eq!(guard(|| Err(CORRAL_NO_NODE)), CORRAL_NO_NODE);
        assert_eq!(guard(|| Ok(())), CORRAL_OK);
    }
}
