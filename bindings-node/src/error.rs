//! Errors, mapped once: a client error becomes a `ZooKeeperError` (subclass
//! per code) with `code` (`'NO_NODE'`), `rc` (-101) and `path`; a kit error an
//! `Error` with an `ERR_CORRAL_*` code; an aborted call an `AbortError` whose
//! `cause` is the signal's reason. The classes are index.js's: it registers
//! one factory ([`set_error_factory`]) that this module calls to build them.

use std::cell::RefCell;

use corral::client::Error as ClientError;
use corral::embedded::EmbedError;
use corral::proto::Code;
use napi::bindgen_prelude::{Function, FunctionRef, JsObjectValue, JsValue, Object, Unknown};
use napi::{Env, Error, Status};
use napi_derive::napi;

/// What went wrong in a call, before it is a JS value.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The server or the client answered with a ZooKeeper result code.
    Zk(ClientError),
    /// The embedding kit, or the binding itself, refused.
    Corral {
        /// An `ERR_CORRAL_*` code.
        code: &'static str,
        /// What happened, naming the offending key or value.
        message: String,
    },
    /// The call's `AbortSignal` fired first.
    Aborted,
}

/// The outcome of a call that runs on the runtime.
pub(crate) type Outcome<T> = std::result::Result<T, Failure>;

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Failure {
        Failure::Zk(e)
    }
}

impl From<EmbedError> for Failure {
    fn from(e: EmbedError) -> Failure {
        let code = match &e {
            EmbedError::Config(_) => "ERR_CORRAL_CONFIG",
            EmbedError::Server(_) | EmbedError::TempDir(_) => "ERR_CORRAL_SERVER",
            EmbedError::NoVoters | EmbedError::NoMember { .. } | EmbedError::BadAddress(_) => "ERR_CORRAL_ARGUMENT",
            EmbedError::Closed => "ERR_CORRAL_CLOSED",
            EmbedError::Timeout { .. } => "ERR_CORRAL_TIMEOUT",
            _ => "ERR_CORRAL_KIT",
        };
        Failure::Corral { code, message: e.to_string() }
    }
}

impl Failure {
    /// A refusal of the binding itself (closed client, bad option value).
    pub(crate) fn corral(code: &'static str, message: impl Into<String>) -> Failure {
        Failure::Corral { code, message: message.into() }
    }
}

/// What index.js's factory receives to build an error.
#[napi(object, object_from_js = false)]
pub struct ErrorInfo {
    /// `'NO_NODE'`, `'ERR_CORRAL_CONFIG'`, `'ABORT_ERR'`, ...
    pub code: String,
    /// ZooKeeper's numeric code, for ZooKeeper errors only.
    pub rc: Option<i32>,
    /// The client-side path the operation concerned.
    pub path: Option<String>,
    /// The message.
    pub message: String,
}

thread_local! {
    /// The JS thread's error factory (a napi reference is valid on its own thread only).
    static FACTORY: RefCell<Option<FunctionRef<ErrorInfo, Unknown<'static>>>> = const { RefCell::new(None) };
}

/// Registers the function that turns an [`ErrorInfo`] into an error object
/// (index.js calls it once, as it loads).
#[napi(skip_typescript)]
pub fn set_error_factory(factory: Function<ErrorInfo, Unknown<'static>>) -> napi::Result<()> {
    let factory = factory.create_ref()?;
    FACTORY.with(|f| *f.borrow_mut() = Some(factory));
    Ok(())
}

/// A ZooKeeper code's JS name: `NoNode` → `NO_NODE`.
pub(crate) fn js_code(code: Code) -> String {
    let mut out = String::new();
    for (i, c) in code.name().chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// One row of ZooKeeper's code table, as JS sees it.
#[napi(object, object_from_js = false)]
pub struct ErrorCode {
    /// `'NO_NODE'`.
    pub code: String,
    /// ZooKeeper's name, `'NoNode'` (the error class is this plus `Error`).
    pub name: String,
    /// -101.
    pub rc: i32,
}

/// Every ZooKeeper result code but `OK`, from core's one table.
#[napi(skip_typescript)]
pub fn error_codes() -> Vec<ErrorCode> {
    (-200..0)
        .filter_map(Code::from_i32)
        .map(|c| ErrorCode { code: js_code(c), name: c.name().to_string(), rc: c.as_i32() })
        .collect()
}

impl Failure {
    fn info(&self) -> ErrorInfo {
        match self {
            Failure::Zk(e) => ErrorInfo {
                code: js_code(e.code),
                rc: Some(e.code.as_i32()),
                path: e.path.clone(),
                message: e.to_string(),
            },
            Failure::Corral { code, message } => {
                ErrorInfo { code: (*code).to_string(), rc: None, path: None, message: message.clone() }
            }
            Failure::Aborted => ErrorInfo {
                code: "ABORT_ERR".into(),
                rc: None,
                path: None,
                message: "The operation was aborted".into(),
            },
        }
    }

    /// The error object to throw or reject with; `signal` is the call's
    /// AbortSignal, whose reason becomes an AbortError's `cause`.
    pub(crate) fn into_js(self, env: &Env, signal: Option<&Object>) -> Error {
        let info = self.info();
        let plain = Error::new(Status::GenericFailure, info.message.clone());
        let built = FACTORY.with(|f| -> napi::Result<Option<Unknown<'static>>> {
            let f = f.borrow();
            let Some(factory) = f.as_ref() else {
                return Ok(None);
            };
            Ok(Some(factory.borrow_back(env)?.call(info)?))
        });
        let value = match built {
            Ok(Some(v)) => v,
            Ok(None) => return plain,
            Err(e) => return e,
        };
        if let (Failure::Aborted, Some(signal)) = (&self, signal) {
            if let Ok(reason) = signal.get_named_property::<Unknown>("reason") {
                if let Ok(mut obj) = value.coerce_to_object() {
                    let _ = obj.set_named_property("cause", reason);
                }
            }
        }
        Error::from(value)
    }
}

/// Throws `failure` from a synchronous call.
pub(crate) fn throw(env: &Env, failure: Failure) -> Error {
    failure.into_js(env, None)
}
