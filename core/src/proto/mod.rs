//! The ZooKeeper client wire protocol: jute primitives, records grouped by
//! family (handshake and headers, data records, requests, responses), opcodes
//! and result codes. Encode and decode live side by side.
//!
//! Depends on nothing else of ours.

mod code;
mod connect;
mod data;
pub mod jute;
mod opcode;
mod records;
mod request;
mod response;

pub use code::Code;
pub use connect::{xid, ConnectRequest, ConnectResponse, ReplyHeader, RequestHeader};
pub use data::*;
pub use jute::{DecodeError, Reader, Writer};
pub use opcode::OpCode;
pub use records::{read_acl, read_id, read_stat, write_acl, write_id, write_stat, ClientInfo, WatcherEvent};
pub use request::{CreateRequest, Request, SetWatches, MULTI_OPS_MAX};
pub use response::{MultiResult, Response};

#[cfg(test)]
mod golden_tests;
