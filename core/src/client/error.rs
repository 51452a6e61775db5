//! The client's error: a ZooKeeper result code plus the path it concerns.

use crate::proto::Code;

/// An operation failed with ZooKeeper result `code` (its numeric value is
/// ZooKeeper's: `err.code.as_i32()`), on `path` when the operation had one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The result code (NoNode, NodeExists, ConnectionLoss, SessionExpired, ...).
    pub code: Code,
    /// The client-side path of the operation, if any.
    pub path: Option<String>,
}

impl Error {
    /// An error without a path.
    pub fn new(code: Code) -> Error {
        Error { code, path: None }
    }

    /// An error about `path`.
    pub fn at(code: Code, path: impl Into<String>) -> Error {
        Error { code, path: Some(path.into()) }
    }

    /// Whether retrying the same operation may succeed: the connection was
    /// lost (the outcome is unknown) or the request timed out.
    pub fn is_retryable(&self) -> bool {
        matches!(self.code, Code::ConnectionLoss | Code::OperationTimeout | Code::RequestTimeout | Code::Throttled)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{} on {p}", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl std::error::Error for Error {}

/// Result of a client operation.
pub type Result<T> = std::result::Result<T, Error>;
