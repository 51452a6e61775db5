//! Request bodies, one variant per opcode family, decoded by the opcode in the
//! request header and encoded back byte for byte.

use super::data::Acl;
use super::jute::{DecodeError, Reader, Writer};
use super::opcode::OpCode;
use super::records::{read_acl, write_acl};

/// create / create2 / createContainer / createTTL body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CreateRequest {
    /// Requested path.
    pub path: String,
    /// Data (`None` = null buffer).
    pub data: Option<Vec<u8>>,
    /// Requested ACL.
    pub acl: Vec<Acl>,
    /// CreateMode flags.
    pub flags: i32,
    /// TTL in ms; present only for createTTL.
    pub ttl_ms: Option<i64>,
}

/// SetWatches (101) and SetWatches2 (105) body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SetWatches {
    /// The client's last seen zxid.
    pub relative_zxid: i64,
    /// Paths with data watches.
    pub data: Vec<String>,
    /// Paths with exist watches.
    pub exist: Vec<String>,
    /// Paths with child watches.
    pub child: Vec<String>,
    /// Persistent watches (SetWatches2 only).
    pub persistent: Vec<String>,
    /// Persistent recursive watches (SetWatches2 only).
    pub persistent_recursive: Vec<String>,
}

/// A decoded request body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// create (1), create2 (15), createContainer (19), createTTL (21).
    Create(CreateRequest),
    /// delete (2).
    Delete { path: String, version: i32 },
    /// exists (3).
    Exists { path: String, watch: bool },
    /// getData (4).
    GetData { path: String, watch: bool },
    /// setData (5).
    SetData { path: String, data: Option<Vec<u8>>, version: i32 },
    /// getACL (6).
    GetAcl { path: String },
    /// setACL (7); `acl` is `None` for a null vector.
    SetAcl { path: String, acl: Option<Vec<Acl>>, version: i32 },
    /// getChildren (8) and getChildren2 (12).
    GetChildren { path: String, watch: bool },
    /// sync (9).
    Sync { path: String },
    /// ping (11).
    Ping,
    /// check (13).
    Check { path: String, version: i32 },
    /// multi (14) and multiRead (22): sub-ops as (opcode number, body).
    Multi(Vec<(i32, Request)>),
    /// reconfig (16).
    Reconfig { joining: Option<String>, leaving: Option<String>, new_members: Option<String>, cur_config_id: i64 },
    /// checkWatches (17) and removeWatches (18).
    Watches { path: String, watcher_type: i32 },
    /// auth (100).
    Auth { auth_type: i32, scheme: String, auth: Vec<u8> },
    /// setWatches (101) and setWatches2 (105).
    SetWatches(SetWatches),
    /// sasl (102).
    Sasl { token: Option<Vec<u8>> },
    /// getEphemerals (103); `None` prefix = all.
    GetEphemerals { prefix: Option<String> },
    /// getAllChildrenNumber (104).
    GetAllChildrenNumber { path: String },
    /// addWatch (106).
    AddWatch { path: String, mode: i32 },
    /// whoAmI (107) and closeSession (-11): header only.
    Empty,
}

/// Most sub-ops a multi may carry: a bound on work per request (a multi's
/// frame is already bounded by jute.maxbuffer; this bounds tiny sub-ops).
pub const MULTI_OPS_MAX: usize = 100_000;

impl Request {
    /// Decodes the body of a request with opcode `op`. Unknown opcodes are
    /// the caller's to answer; this returns `Invalid` for them.
    pub fn decode(op: i32, r: &mut Reader<'_>) -> Result<Request, DecodeError> {
        let Some(code) = OpCode::from_i32(op) else {
            return Err(DecodeError::Invalid(format!("unknown opcode {op}")));
        };
        use OpCode::*;
        Ok(match code {
            Create | Create2 | CreateContainer | CreateTtl => {
                let path = r.ustring()?;
                let data = r.buffer()?;
                let acl = r.vector(read_acl)?;
                let flags = r.int()?;
                let ttl_ms = if code == CreateTtl { Some(r.long()?) } else { None };
                Request::Create(CreateRequest { path, data, acl, flags, ttl_ms })
            }
            Delete => Request::Delete { path: r.ustring()?, version: r.int()? },
            Exists => Request::Exists { path: r.ustring()?, watch: r.boolean()? },
            GetData => Request::GetData { path: r.ustring()?, watch: r.boolean()? },
            SetData => Request::SetData { path: r.ustring()?, data: r.buffer()?, version: r.int()? },
            GetAcl => Request::GetAcl { path: r.ustring()? },
            SetAcl => Request::SetAcl { path: r.ustring()?, acl: r.vector_opt(read_acl)?, version: r.int()? },
            GetChildren | GetChildren2 => Request::GetChildren { path: r.ustring()?, watch: r.boolean()? },
            Sync => Request::Sync { path: r.ustring()? },
            Ping | WhoAmI | CloseSession => {
                if code == Ping {
                    Request::Ping
                } else {
                    Request::Empty
                }
            }
            Check => Request::Check { path: r.ustring()?, version: r.int()? },
            Multi | MultiRead => Request::Multi(decode_multi(r)?),
            Reconfig => Request::Reconfig {
                joining: r.ustring_opt()?,
                leaving: r.ustring_opt()?,
                new_members: r.ustring_opt()?,
                cur_config_id: r.long()?,
            },
            CheckWatches | RemoveWatches => Request::Watches { path: r.ustring()?, watcher_type: r.int()? },
            Auth => Request::Auth { auth_type: r.int()?, scheme: r.ustring()?, auth: r.buffer()?.unwrap_or_default() },
            SetWatches | SetWatches2 => {
                let mut sw = self::SetWatches {
                    relative_zxid: r.long()?,
                    data: r.vector(Reader::ustring)?,
                    exist: r.vector(Reader::ustring)?,
                    child: r.vector(Reader::ustring)?,
                    ..Default::default()
                };
                if code == SetWatches2 {
                    sw.persistent = r.vector(Reader::ustring)?;
                    sw.persistent_recursive = r.vector(Reader::ustring)?;
                }
                Request::SetWatches(sw)
            }
            Sasl => Request::Sasl { token: r.buffer()? },
            GetEphemerals => Request::GetEphemerals { prefix: r.ustring_opt()? },
            GetAllChildrenNumber => Request::GetAllChildrenNumber { path: r.ustring()? },
            AddWatch => Request::AddWatch { path: r.ustring()?, mode: r.int()? },
            Notification | DeleteContainer | CreateSession | Error => {
                return Err(DecodeError::Invalid(format!("opcode {op} is not a client request")))
            }
        })
    }

    /// Encodes the body (for opcode `op`, which picks between sibling layouts).
    pub fn encode(&self, op: i32, w: &mut Writer) {
        match self {
            Request::Create(c) => {
                w.ustring(&c.path);
                w.buffer(c.data.as_deref());
                w.vector(&c.acl, write_acl);
                w.int(c.flags);
                if let Some(ttl) = c.ttl_ms {
                    w.long(ttl);
                }
            }
            Request::Delete { path, version } | Request::Check { path, version } => {
                w.ustring(path);
                w.int(*version);
            }
            Request::Exists { path, watch }
            | Request::GetData { path, watch }
            | Request::GetChildren { path, watch } => {
                w.ustring(path);
                w.boolean(*watch);
            }
            Request::SetData { path, data, version } => {
                w.ustring(path);
                w.buffer(data.as_deref());
                w.int(*version);
            }
            Request::GetAcl { path } | Request::Sync { path } | Request::GetAllChildrenNumber { path } => {
                w.ustring(path)
            }
            Request::SetAcl { path, acl, version } => {
                w.ustring(path);
                match acl {
                    Some(acl) => w.vector(acl, write_acl),
                    None => w.int(-1),
                }
                w.int(*version);
            }
            Request::Ping | Request::Empty => {}
            Request::Multi(ops) => {
                for (sub_op, req) in ops {
                    w.int(*sub_op);
                    w.boolean(false);
                    w.int(-1);
                    req.encode(*sub_op, w);
                }
                w.int(-1);
                w.boolean(true);
                w.int(-1);
            }
            Request::Reconfig { joining, leaving, new_members, cur_config_id } => {
                w.ustring_opt(joining.as_deref());
                w.ustring_opt(leaving.as_deref());
                w.ustring_opt(new_members.as_deref());
                w.long(*cur_config_id);
            }
            Request::Watches { path, watcher_type } => {
                w.ustring(path);
                w.int(*watcher_type);
            }
            Request::Auth { auth_type, scheme, auth } => {
                w.int(*auth_type);
                w.ustring(scheme);
                w.buffer(Some(auth));
            }
            Request::SetWatches(sw) => {
                w.long(sw.relative_zxid);
                for list in [&sw.data, &sw.exist, &sw.child] {
                    w.vector(list, |w, p| w.ustring(p));
                }
                if op == OpCode::SetWatches2.as_i32() {
                    for list in [&sw.persistent, &sw.persistent_recursive] {
                        w.vector(list, |w, p| w.ustring(p));
                    }
                }
            }
            Request::Sasl { token } => w.buffer(token.as_deref()),
            Request::GetEphemerals { prefix } => w.ustring_opt(prefix.as_deref()),
            Request::AddWatch { path, mode } => {
                w.ustring(path);
                w.int(*mode);
            }
        }
    }
}

/// Reads multi sub-ops up to the terminator header. Only the sub-op kinds a
/// multi or multiRead may hold decode; anything else is a marshalling error.
fn decode_multi(r: &mut Reader<'_>) -> Result<Vec<(i32, Request)>, DecodeError> {
    let mut ops = Vec::new();
    loop {
        let op = r.int()?;
        let done = r.boolean()?;
        let _err = r.int()?;
        if done {
            return Ok(ops);
        }
        let allowed = matches!(op, 1 | 2 | 4 | 5 | 8 | 13 | 15 | 19 | 21);
        if !allowed {
            return Err(DecodeError::Invalid(format!("opcode {op} is not allowed in a multi")));
        }
        if ops.len() >= MULTI_OPS_MAX {
            return Err(DecodeError::Invalid("too many multi sub-ops".into()));
        }
        ops.push((op, Request::decode(op, r)?));
    }
}
