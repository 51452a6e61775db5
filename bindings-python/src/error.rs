//! Every Python exception the package raises, and the one place a Rust error
//! becomes one.
//!
//! The classes mirror core's result-code table (`corral::proto::Code`) with
//! kazoo's names, one class per code, all under `ZookeeperError`. The match
//! in `class_of` is exhaustive, so a code added to core does not compile
//! here until it has a class.

use corral::client::Error;
use corral::proto::Code;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::PyType;

create_exception!(corral.exceptions, CorralError, PyException, "Base class of every exception corral raises.");
create_exception!(
    corral.exceptions,
    ZookeeperError,
    CorralError,
    "An operation failed with a ZooKeeper result code: `.code` is its number, `.path` the znode it concerns (or None)."
);
create_exception!(corral.exceptions, ZookeeperStoppedError, CorralError, "The client is not started, or was stopped.");
create_exception!(
    corral.exceptions,
    ServerError,
    CorralError,
    "An embedded server could not start or stop (port in use, unusable data directory, ...)."
);

create_exception!(
    corral.exceptions,
    CancelledError,
    CorralError,
    "A recipe wait was cancelled by its `cancel()` (kazoo's CancelledError)."
);

create_exception!(
    corral.exceptions,
    ConfigurationError,
    CorralError,
    "Invalid server configuration: a bad zoo.cfg line or option value."
);

macro_rules! code_exceptions {
    ($( $code:ident => $name:ident : $doc:literal ),+ $(,)?) => {
        $( create_exception!(corral.exceptions, $name, ZookeeperError, $doc); )+

        /// The class of a result code.
        fn class_of(py: Python<'_>, code: Code) -> Bound<'_, PyType> {
            match code {
                $( Code::$code => py.get_type::<$name>(), )+
            }
        }

        /// Adds every code class to the module, each with its `code` number.
        fn add_code_classes(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $(
                let t = m.py().get_type::<$name>();
                t.setattr("code", Code::$code.as_i32())?;
                m.add(stringify!($name), t)?;
            )+
            Ok(())
        }
    };
}

code_exceptions! {
    Ok => RolledBackError: "A transaction sub-op that succeeded but was rolled back because another one failed (ZooKeeper code 0).",
    SystemError => SystemZookeeperError: "A system error (-1); also any result code this version does not know.",
    RuntimeInconsistency => RuntimeInconsistency: "A transaction sub-op after the failing one (-2).",
    DataInconsistency => DataInconsistency: "The server detected a data inconsistency (-3).",
    ConnectionLoss => ConnectionLoss: "The connection was lost before the reply arrived (-4); the outcome of a write is unknown.",
    MarshallingError => MarshallingError: "A request or reply could not be encoded or decoded (-5).",
    Unimplemented => UnimplementedError: "The server does not implement the operation (-6).",
    OperationTimeout => OperationTimeoutError: "The operation timed out (-7).",
    BadArguments => BadArgumentsError: "Invalid arguments: a bad path, flags, TTL or protected node (-8).",
    UnknownSession => UnknownSessionError: "The session is unknown to the server (-12).",
    NewConfigNoQuorum => NewConfigNoQuorumError: "reconfig: the new configuration has no quorum (-13).",
    ReconfigInProgress => ReconfigInProcessError: "reconfig: another reconfiguration is in progress (-14).",
    ApiError => APIError: "A generic API error (-100).",
    NoNode => NoNodeError: "The node (or, for create, its parent) does not exist (-101).",
    NoAuth => NoAuthError: "The node's ACL does not grant the permission (-102).",
    BadVersion => BadVersionError: "The node's version is not the expected one (-103).",
    NoChildrenForEphemerals => NoChildrenForEphemeralsError: "Ephemeral nodes may not have children (-108).",
    NodeExists => NodeExistsError: "The node already exists (-110).",
    NotEmpty => NotEmptyError: "The node has children (-111).",
    SessionExpired => SessionExpiredError: "The session expired (-112): its ephemerals and watches are gone.",
    InvalidCallback => InvalidCallbackError: "Invalid callback (-113).",
    InvalidAcl => InvalidACLError: "The ACL is invalid (-114).",
    AuthFailed => AuthFailedError: "Authentication failed (-115).",
    SessionMoved => SessionMovedError: "The session moved to another server (-118).",
    NotReadOnly => NotReadOnlyCallError: "A write reached a read-only server (-119).",
    EphemeralOnLocalSession => EphemeralOnLocalSessionError: "An ephemeral create on a local session (-120).",
    NoWatcher => NoWatcherError: "There is no such watch to remove (-121).",
    RequestTimeout => RequestTimeoutError: "The request timed out (-122).",
    ReconfigDisabled => ReconfigDisabledError: "reconfig is disabled on the server (-123).",
    SessionClosedRequireSaslAuth => SessionClosedRequireSaslError: "The server requires SASL authentication (-124).",
    QuotaExceeded => QuotaExceededError: "A hard quota was exceeded (-125).",
    Throttled => ThrottledOpError: "The server throttled the request (-127).",
}

/// A ready exception object for `code` (message, `.code`, `.path` set).
pub fn exception<'py>(py: Python<'py>, code: Code, path: Option<&str>) -> PyResult<Bound<'py, PyAny>> {
    let msg = match path {
        Some(p) => format!("{code} on {p}"),
        None => code.to_string(),
    };
    let e = class_of(py, code).call1((msg,))?;
    e.setattr("path", path)?;
    Ok(e)
}

/// A client error as the Python exception of its code.
pub fn to_py(err: Error) -> PyErr {
    Python::attach(|py| match exception(py, err.code, err.path.as_deref()) {
        Ok(e) => PyErr::from_value(e),
        Err(e) => e,
    })
}

/// A configuration that does not parse or validate (the kit's message names the key).
pub fn config(message: String) -> PyErr {
    ConfigurationError::new_err(message)
}

/// An embedded-server failure.
pub fn server(message: String) -> PyErr {
    ServerError::new_err(message)
}

/// Registers the exception classes.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("CorralError", py.get_type::<CorralError>())?;
    let base = py.get_type::<ZookeeperError>();
    base.setattr("code", py.None())?;
    base.setattr("path", py.None())?;
    m.add("ZookeeperError", base)?;
    m.add("ZookeeperStoppedError", py.get_type::<ZookeeperStoppedError>())?;
    m.add("ServerError", py.get_type::<ServerError>())?;
    m.add("ConfigurationError", py.get_type::<ConfigurationError>())?;
    m.add("CancelledError", py.get_type::<CancelledError>())?;
    add_code_classes(m)?;
    // The code table itself, so tests can check that every code has a class.
    let codes: Vec<(i32, &str)> = (-200..=0).filter_map(Code::from_i32).map(|c| (c.as_i32(), c.name())).collect();
    m.add("CODES", codes)?;
    Ok(())
}
