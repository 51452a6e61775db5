//! Transactions (ZooKeeper's multi): a typed builder whose sub-ops apply
//! atomically, all under one zxid, or not at all.

use super::error::{Error, Result};
use super::{create_opcode, Client, CreateOptions, Inner};
use crate::proto::{Code, CreateRequest, MultiResult, OpCode, Request, Response, Stat};

/// The result of one sub-op.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OpResult {
    /// A node was created (`stat` when the server sent one).
    Created {
        /// Actual path (client-side).
        path: String,
        /// Stat of the new node.
        stat: Option<Stat>,
    },
    /// A node was deleted.
    Deleted,
    /// Data was set.
    SetData(Stat),
    /// A version check passed.
    Checked,
    /// multiRead: a node's data.
    Data(Vec<u8>, Stat),
    /// multiRead: a node's children.
    Children(Vec<String>),
    /// The sub-op failed (or was rolled back: RuntimeInconsistency).
    Error(Code),
}

impl OpResult {
    pub(crate) fn from_wire(r: MultiResult, inner: &Inner) -> OpResult {
        match r {
            MultiResult::Create { path } => OpResult::Created { path: inner.to_local(&path), stat: None },
            MultiResult::Create2 { path, stat } => OpResult::Created { path: inner.to_local(&path), stat: Some(stat) },
            MultiResult::Delete => OpResult::Deleted,
            MultiResult::SetData { stat } => OpResult::SetData(stat),
            MultiResult::Check => OpResult::Checked,
            MultiResult::GetData { data, stat } => OpResult::Data(data.unwrap_or_default(), stat),
            MultiResult::GetChildren { children } => OpResult::Children(children),
            MultiResult::Error { err } => OpResult::Error(Code::from_i32(err).unwrap_or(Code::SystemError)),
        }
    }
}

/// Sub-ops collected for one atomic multi.
pub struct Transaction {
    client: Client,
    ops: Vec<(i32, Request)>,
    paths: Vec<String>,
}

impl Transaction {
    pub(crate) fn new(client: Client) -> Transaction {
        Transaction { client, ops: Vec::new(), paths: Vec::new() }
    }

    fn push(mut self, op: OpCode, path: &str, req: Request) -> Self {
        self.ops.push((op.as_i32(), req));
        self.paths.push(path.to_string());
        self
    }

    /// Creates a node.
    pub fn create(self, path: &str, data: &[u8], opts: &CreateOptions) -> Self {
        let op = create_opcode(opts.mode, true);
        let req = Request::Create(CreateRequest {
            path: self.client.inner().to_server(path),
            data: Some(data.to_vec()),
            acl: opts.acl.clone(),
            flags: opts.mode.flags(),
            ttl_ms: if op == OpCode::CreateTtl { Some(opts.ttl_ms.unwrap_or(-1)) } else { None },
        });
        self.push(op, path, req)
    }

    /// Deletes a node (`None` = any version).
    pub fn delete(self, path: &str, version: Option<i32>) -> Self {
        let req = Request::Delete { path: self.client.inner().to_server(path), version: version.unwrap_or(-1) };
        self.push(OpCode::Delete, path, req)
    }

    /// Sets a node's data (`None` = any version).
    pub fn set_data(self, path: &str, data: &[u8], version: Option<i32>) -> Self {
        let req = Request::SetData {
            path: self.client.inner().to_server(path),
            data: Some(data.to_vec()),
            version: version.unwrap_or(-1),
        };
        self.push(OpCode::SetData, path, req)
    }

    /// Requires the node to have `version` (`-1`: only to exist).
    pub fn check(self, path: &str, version: i32) -> Self {
        let req = Request::Check { path: self.client.inner().to_server(path), version };
        self.push(OpCode::Check, path, req)
    }

    /// Applies the sub-ops; on failure nothing is applied and the error
    /// names the first failing sub-op's code and path.
    pub async fn commit(self) -> Result<Vec<OpResult>> {
        let paths = self.paths.clone();
        let results = self.commit_results().await?;
        for (i, r) in results.iter().enumerate() {
            if let OpResult::Error(code) = r {
                if *code != Code::Ok && *code != Code::RuntimeInconsistency {
                    return Err(Error { code: *code, path: paths.get(i).cloned() });
                }
            }
        }
        Ok(results)
    }

    /// Applies the sub-ops and returns every sub-op's result, also when the
    /// transaction failed (then each is an `Error`: Ok before the failing
    /// one, its code, RuntimeInconsistency after).
    pub async fn commit_results(self) -> Result<Vec<OpResult>> {
        let inner = self.client.inner();
        match self.client.call(OpCode::Multi, Request::Multi(self.ops), None).await? {
            Response::Multi(results) => Ok(results.into_iter().map(|r| OpResult::from_wire(r, inner)).collect()),
            _ => Err(Error::new(Code::MarshallingError)),
        }
    }
}
