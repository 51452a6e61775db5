//! Consensus glue: every write becomes an entry of a replicated log (openraft),
//! committed once a quorum has it on disk, then applied to the state machine in
//! log order on every node. zxid = the log index of the entry.
//!
//! Nothing outside this folder sees openraft's types.
//!
//! May use: `storage`. It knows the state machine only through [`StateMachine`].

use std::io::{Read, Write};

use serde::{de::DeserializeOwned, Serialize};

/// What the replicated log drives. Implemented by the server over the data
/// tree, sessions and watches; tests use small machines of their own.
pub trait StateMachine: Send + Sync + 'static {
    /// A replicated command.
    type Command: Clone + std::fmt::Debug + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;
    /// What applying a command returns to the proposer.
    type Output: Clone + std::fmt::Debug + Default + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static;

    /// Applies a committed command; `index` is its log index (the zxid).
    fn apply(&mut self, index: u64, cmd: &Self::Command) -> Self::Output;

    /// Records that a log entry without a command (leader blank entry,
    /// membership change) at `index` was applied.
    fn apply_other(&mut self, index: u64);

    /// The index of the last applied entry (0 when nothing was applied).
    fn last_applied(&self) -> u64;

    /// Captures the current state cheaply (no long pause for writers) and
    /// returns a job that serializes it; the job runs off the apply path.
    fn capture(&self) -> Box<dyn FnOnce(&mut dyn Write) -> std::io::Result<()> + Send>;

    /// Replaces the whole state with a snapshot written by a `capture` job
    /// taken at log index `index`.
    fn restore(&mut self, index: u64, r: &mut dyn Read) -> std::io::Result<()>;
}
