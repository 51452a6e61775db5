//! ZooKeeper result codes (`KeeperException.Code`): one table, number ↔ variant.

use serde::{Deserialize, Serialize};

macro_rules! codes {
    ($( $(#[$doc:meta])* $name:ident = $num:expr ),+ $(,)?) => {
        /// A ZooKeeper result code as carried in `ReplyHeader.err` and multi results.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[repr(i32)]
        pub enum Code {
            $( $(#[$doc])* $name = $num, )+
        }

        impl Code {
            /// The code for a wire number, if it is one ZooKeeper defines.
            pub fn from_i32(n: i32) -> Option<Code> {
                match n {
                    $( $num => Some(Code::$name), )+
                    _ => None,
                }
            }

            /// ZooKeeper's upper-case name of the code (as in `KeeperException.Code`).
            pub fn name(self) -> &'static str {
                match self {
                    $( Code::$name => stringify!($name), )+
                }
            }
        }
    };
}

codes! {
    /// Success.
    Ok = 0,
    /// Range marker for system errors; never sent.
    SystemError = -1,
    /// Multi: a sub-op after the failing one.
    RuntimeInconsistency = -2,
    /// Data inconsistency detected.
    DataInconsistency = -3,
    /// Client-local: the connection was lost.
    ConnectionLoss = -4,
    /// The request body could not be decoded, or a multi was malformed.
    MarshallingError = -5,
    /// Operation not implemented (unknown opcode, TTL disabled, reconfig standalone).
    Unimplemented = -6,
    /// Client-local: operation timed out.
    OperationTimeout = -7,
    /// Invalid arguments (path, flags, TTL, protected nodes).
    BadArguments = -8,
    /// Server-internal: the session is unknown.
    UnknownSession = -12,
    /// reconfig: the new configuration has no quorum.
    NewConfigNoQuorum = -13,
    /// reconfig: another reconfiguration is in progress.
    ReconfigInProgress = -14,
    /// Range marker for API errors; never sent.
    ApiError = -100,
    /// The node (or the parent, for create) does not exist.
    NoNode = -101,
    /// The ACL does not grant the permission.
    NoAuth = -102,
    /// Version mismatch.
    BadVersion = -103,
    /// Ephemeral nodes may not have children.
    NoChildrenForEphemerals = -108,
    /// The node already exists.
    NodeExists = -110,
    /// The node has children.
    NotEmpty = -111,
    /// The session has expired.
    SessionExpired = -112,
    /// Client-local: invalid callback.
    InvalidCallback = -113,
    /// The ACL being set is invalid.
    InvalidAcl = -114,
    /// Authentication failed.
    AuthFailed = -115,
    /// The session moved to another server.
    SessionMoved = -118,
    /// A write reached a read-only server.
    NotReadOnly = -119,
    /// An ephemeral create on a local session.
    EphemeralOnLocalSession = -120,
    /// checkWatches/removeWatches found no watch.
    NoWatcher = -121,
    /// Client-local: the request timed out.
    RequestTimeout = -122,
    /// reconfig is disabled.
    ReconfigDisabled = -123,
    /// The server requires SASL authentication.
    SessionClosedRequireSaslAuth = -124,
    /// A hard quota was exceeded.
    QuotaExceeded = -125,
    /// The request was throttled.
    Throttled = -127,
}

impl Code {
    /// The wire number of the code.
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name(), self.as_i32())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for n in -130..=0 {
            if let Some(c) = Code::from_i32(n) {
                assert_eq!(c.as_i32(), n);
            }
        }
        assert_eq!(Code::from_i32(-101), Some(Code::NoNode));
        assert_eq!(Code::from_i32(-9), None);
    }
}
