//! The ZooKeeper client wire protocol: jute primitives, records grouped by
//! family, opcodes and result codes.
//!
//! Depends on nothing else of ours.

mod code;
mod data;
mod opcode;

pub use code::Code;
pub use data::*;
pub use opcode::OpCode;
