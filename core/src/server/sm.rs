//! The server's state machine: the replicated [`State`] (tree + sessions) plus
//! the node-local watch registry, so that applying a committed `Txn` fires the
//! watches it triggers before anyone can see its reply.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::mpsc;

use crate::proto::{xid, ReplyHeader, WatcherEvent, Writer, STATE_SYNC_CONNECTED};
use crate::replication::StateMachine;
use crate::txn::{State, Txn, TxnOp, TxnResult};
use crate::watch::{ConnId, WatchRegistry};

/// A frame queued for a connection's writer, or an order to close it.
#[derive(Debug)]
pub enum Outbound {
    /// A complete frame, length prefix included.
    Frame(Vec<u8>),
    /// Flush what is queued, then close the socket.
    Close,
}

/// Where notifications for each live connection go.
#[derive(Default)]
pub struct ConnectionSinks {
    sinks: Mutex<HashMap<ConnId, mpsc::UnboundedSender<Outbound>>>,
}

impl ConnectionSinks {
    /// Registers a connection's outbound queue.
    pub fn insert(&self, conn: ConnId, tx: mpsc::UnboundedSender<Outbound>) {
        self.sinks.lock().insert(conn, tx);
    }

    /// Forgets a connection.
    pub fn remove(&self, conn: ConnId) {
        self.sinks.lock().remove(&conn);
    }

    /// Queues a frame; a connection that is gone is skipped.
    pub fn send(&self, conn: ConnId, out: Outbound) {
        if let Some(tx) = self.sinks.lock().get(&conn) {
            let _ = tx.send(out);
        }
    }
}

/// Builds a notification frame. The zxid is the triggering transaction's
/// (ZooKeeper 3.9 behaviour; older clients ignore it).
pub fn notification_frame(zxid: i64, event_type: i32, path: &str) -> Vec<u8> {
    let mut w = Writer::frame();
    ReplyHeader { xid: xid::NOTIFICATION, zxid, err: 0 }.encode(&mut w);
    WatcherEvent { event_type, state: STATE_SYNC_CONNECTED, path: path.to_string() }.encode(&mut w);
    w.finish_frame()
}

/// A session the log has just ended (closed or expired), for the node to
/// drop its local bookkeeping.
pub type ClosedSessions = Mutex<Vec<i64>>;

/// The state machine the replicated log drives on this node.
pub struct ServerSm {
    /// Tree and session table: identical on every node.
    pub state: State,
    /// Watches of this node's connections.
    pub watches: Arc<Mutex<WatchRegistry>>,
    /// Outbound queues of this node's connections.
    pub sinks: Arc<ConnectionSinks>,
    /// Sessions ended by applied CloseSession entries, drained by the session tracker.
    pub closed_sessions: Arc<ClosedSessions>,
    last_applied: u64,
}

impl ServerSm {
    /// A state machine over a fresh tree.
    pub fn new(watches: Arc<Mutex<WatchRegistry>>, sinks: Arc<ConnectionSinks>) -> ServerSm {
        ServerSm {
            state: State::new(),
            watches,
            sinks,
            closed_sessions: Arc::new(Mutex::new(Vec::new())),
            last_applied: 0,
        }
    }

    /// The zxid of the last applied entry.
    pub fn zxid(&self) -> i64 {
        self.last_applied as i64
    }
}

impl StateMachine for ServerSm {
    type Command = Txn;
    type Output = TxnResult;

    fn apply(&mut self, index: u64, txn: &Txn) -> TxnResult {
        let zxid = index as i64;
        let (result, triggers) = self.state.apply(zxid, txn);
        self.last_applied = index;
        if let TxnOp::CloseSession { session_id } = txn.op {
            self.closed_sessions.lock().push(session_id);
        }
        if !triggers.is_empty() {
            let mut watches = self.watches.lock();
            for t in &triggers {
                for (conn, event, path) in watches.trigger(&t.path, t.event) {
                    self.sinks.send(conn, Outbound::Frame(notification_frame(zxid, event as i32, &path)));
                }
            }
        }
        result
    }

    fn apply_other(&mut self, index: u64) {
        self.last_applied = index;
    }

    fn last_applied(&self) -> u64 {
        self.last_applied
    }

    fn capture(&self) -> crate::replication::SnapshotJob {
        let state = self.state.clone();
        Box::new(move |w: &mut dyn Write| state.write_snapshot(w))
    }

    fn restore(&mut self, index: u64, r: &mut dyn Read) -> std::io::Result<()> {
        self.state = State::read_snapshot(r)?;
        self.last_applied = index;
        Ok(())
    }
}
