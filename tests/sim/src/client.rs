//! A simulated client: one session at a time, attached to one node, moving
//! to another node on failures (keeping its session and never accepting a
//! node that is behind what it has seen), recording every op in the history.

use std::sync::Arc;
use std::time::Duration;

use corral::proto::CreateMode;
use corral::txn::{TxnResult, WriteOp};
use tokio::sync::watch;

use crate::history::{Ack, KWrite, Op, OpRecord, Outcome};
use crate::node::{create_op, write_res, Reply, ReqErr, Request};
use crate::types::NodeId;
use crate::world::{lock, World, EPHEMERAL_PARENT, KEYS};

/// How long a client waits for any answer before the outcome is unknown.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(8);

/// One simulated client.
pub struct Client {
    id: u32,
    world: Arc<World>,
    node: NodeId,
    session: Option<i64>,
    /// Highest zxid this client has seen (ZooKeeper's lastZxidSeen).
    seen: u64,
    counter: u64,
    stop: watch::Receiver<bool>,
}

impl Client {
    /// Client `id`, first attached to node `node`.
    pub fn new(world: Arc<World>, id: u32, node: NodeId, stop: watch::Receiver<bool>) -> Client {
        Client { id, world, node, session: None, seen: 0, counter: 0, stop }
    }

    /// Runs ops until told to stop.
    pub async fn run(mut self) {
        while !*self.stop.borrow() {
            if self.session.is_none() {
                self.create_session().await;
            } else {
                self.one_op().await;
            }
            let think = self.world.rand_range(2..40);
            tokio::time::sleep(Duration::from_millis(think)).await;
        }
    }

    /// A fresh value, unique in the whole simulation.
    fn value(&mut self) -> String {
        self.counter += 1;
        format!("c{}-{}", self.id, self.counter)
    }

    /// Moves to another node (random).
    fn switch_node(&mut self) {
        let n = self.world.members() as u64;
        let other = self.world.rand_range(1..n);
        self.node = (self.node - 1 + other) % n + 1;
        self.world.trace(format_args!("client {} moves to node {}", self.id, self.node));
    }

    async fn create_session(&mut self) {
        if let Outcome::Ok(Ack::Session { id, .. }) = self.exec(Op::CreateSession, Request::CreateSession).await {
            self.session = Some(id);
        }
    }

    /// Picks and runs one op.
    async fn one_op(&mut self) {
        let roll = self.world.rand_range(0..100);
        let key = KEYS[self.world.rand_range(0..KEYS.len() as u64) as usize].to_string();
        match roll {
            0..=29 => self.write(key).await,
            30..=59 => {
                self.exec(Op::Read { key: key.clone() }, Request::Read(key)).await;
            }
            60..=79 => {
                self.exec(Op::SyncRead { key: key.clone() }, Request::SyncRead(key)).await;
            }
            80..=89 => self.ephemeral().await,
            90..=92 => {
                self.exec(Op::CloseSession, Request::CloseSession).await;
                self.session = None;
            }
            93..=94 => {
                // Stop touching the session: it must expire on the leader.
                if let Some(s) = self.session.take() {
                    self.world.trace(format_args!("client {} abandons session 0x{s:x}", self.id));
                }
            }
            95..=97 => {
                // Go quiet for a while (the session may expire meanwhile).
                let pause = self.world.rand_range(500..6_000);
                tokio::time::sleep(Duration::from_millis(pause)).await;
            }
            _ => self.switch_node(),
        }
    }

    /// A register write: create, setData (conditional or not) or delete.
    async fn write(&mut self, key: String) {
        let roll = self.world.rand_range(0..100);
        let expected = if self.world.chance(0.5) { -1 } else { self.world.rand_range(0..4) as i32 };
        let (w, op) = match roll {
            0..=19 => {
                let value = self.value();
                (KWrite::Create { value: value.clone() }, create_op(&key, &value, CreateMode::Persistent))
            }
            20..=84 => {
                let value = self.value();
                let op =
                    WriteOp::SetData { path: key.clone(), data: Some(value.clone().into_bytes()), version: expected };
                (KWrite::Set { value, expected }, op)
            }
            _ => (KWrite::Delete { expected }, WriteOp::Delete { path: key.clone(), version: expected }),
        };
        self.exec(Op::Write { key, w }, Request::Write(op)).await;
    }

    async fn ephemeral(&mut self) {
        let path = format!("{EPHEMERAL_PARENT}/c{}-{}", self.id, self.counter);
        self.counter += 1;
        let op = create_op(&path, "eph", CreateMode::Ephemeral);
        self.exec(Op::Ephemeral { path }, Request::Write(op)).await;
    }

    /// Runs one request against the attached node and records it.
    async fn exec(&mut self, op: Op, req: Request) -> Outcome {
        let session = self.session.unwrap_or(0);
        let index = self.invoke(op.clone(), session);
        let result = self.send(session, req).await;
        let outcome = self.outcome(&op, result);
        self.complete(index, &outcome);
        outcome
    }

    /// Sends a request; the answer, or why there is none.
    async fn send(&mut self, session: i64, req: Request) -> Result<Reply, ReqErr> {
        let Some(node) = self.world.live_node(self.node) else {
            return Err(ReqErr::Definite(format!("node {} is down", self.node)));
        };
        let work = tokio::time::timeout(CLIENT_TIMEOUT, node.handle(session, self.seen, req));
        tokio::select! {
            biased;
            r = work => r.unwrap_or_else(|_| Err(ReqErr::Unknown("client timeout".into()))),
            _ = node.crashed() => Err(ReqErr::Unknown(format!("connection to node {} lost", self.node))),
        }
    }

    /// Turns a reply into the recorded outcome, updating what the client knows.
    fn outcome(&mut self, op: &Op, result: Result<Reply, ReqErr>) -> Outcome {
        let reply = match result {
            Ok(r) => r,
            Err(ReqErr::Expired) => {
                self.session = None;
                return Outcome::Fail("session expired".into());
            }
            Err(ReqErr::Definite(e)) => {
                self.switch_node();
                return Outcome::Fail(e);
            }
            Err(ReqErr::Unknown(e)) => {
                self.switch_node();
                return Outcome::Unknown(e);
            }
        };
        let ack = match (op, reply) {
            (Op::CreateSession, Reply::Session { id, zxid }) => Ack::Session { id, zxid },
            (Op::CloseSession, Reply::Written { zxid, .. }) => Ack::Closed { zxid },
            (Op::Ping, Reply::Pong) => Ack::Pinged,
            (Op::Write { .. }, Reply::Written { zxid, result }) => Ack::Write { zxid, res: write_res(&result) },
            (Op::Read { .. } | Op::SyncRead { .. }, Reply::Read { at, state }) => Ack::Read { at, state },
            (Op::Ephemeral { .. }, Reply::Written { zxid, result }) => {
                let ok = matches!(result, TxnResult::Write(Ok(_)));
                if matches!(result, TxnResult::Write(Err(corral::proto::Code::SessionExpired))) {
                    self.session = None;
                }
                Ack::Ephemeral { zxid, ok }
            }
            (op, reply) => return Outcome::Fail(format!("unexpected reply {reply:?} to {op:?}")),
        };
        let zxid = match &ack {
            Ack::Session { zxid, .. }
            | Ack::Closed { zxid }
            | Ack::Write { zxid, .. }
            | Ack::Ephemeral { zxid, .. } => *zxid,
            Ack::Read { at, .. } => *at,
            Ack::Pinged => 0,
        };
        self.seen = self.seen.max(zxid);
        Outcome::Ok(ack)
    }

    /// Records an invocation; returns its history index.
    fn invoke(&self, op: Op, session: i64) -> usize {
        let seq = self.world.next_seq();
        let t = self.world.now_ms();
        let mut rec = lock(&self.world.rec);
        let id = rec.history.len();
        self.world.trace(format_args!("client {} s=0x{session:x} node {} invoke #{id} {op:?}", self.id, self.node));
        rec.history.push(OpRecord {
            id,
            client: self.id,
            session,
            node: self.node,
            op,
            invoke: seq,
            complete: None,
            t_invoke_ms: t,
            t_complete_ms: t,
            outcome: Outcome::Pending,
        });
        id
    }

    /// Records a completion.
    fn complete(&self, index: usize, outcome: &Outcome) {
        let seq = self.world.next_seq();
        let t = self.world.now_ms();
        self.world.trace(format_args!("client {} complete {outcome:?}", self.id));
        if let Some(r) = lock(&self.world.rec).history.get_mut(index) {
            r.complete = Some(seq);
            r.t_complete_ms = t;
            r.outcome = outcome.clone();
        }
    }
}
