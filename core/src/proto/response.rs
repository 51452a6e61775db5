//! Response bodies. A body follows the reply header only when `err == 0` and
//! the operation has one; decoding needs the opcode of the request it answers.

use super::data::{Acl, Stat};
use super::jute::{DecodeError, Reader, Writer};
use super::opcode::OpCode;
use super::records::{read_acl, read_stat, write_acl, write_stat, ClientInfo};

/// One result inside a multi or multiRead response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultiResult {
    /// type 1: path only.
    Create { path: String },
    /// type 15: path and Stat (create2, createTTL, createContainer sub-ops).
    Create2 { path: String, stat: Stat },
    /// type 2.
    Delete,
    /// type 5.
    SetData { stat: Stat },
    /// type 13.
    Check,
    /// type 8.
    GetChildren { children: Vec<String> },
    /// type 4.
    GetData { data: Option<Vec<u8>>, stat: Stat },
    /// type -1: the code (written twice on the wire).
    Error { err: i32 },
}

/// A decoded response body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// No body (delete, ping, auth, setWatches, check/removeWatches, close).
    Empty,
    /// create (1).
    Create { path: String },
    /// create2 / createContainer / createTTL.
    Create2 { path: String, stat: Stat },
    /// exists, setData, setACL.
    Stat(Stat),
    /// getData and reconfig.
    GetData { data: Option<Vec<u8>>, stat: Stat },
    /// getACL.
    GetAcl { acl: Vec<Acl>, stat: Stat },
    /// getChildren.
    GetChildren { children: Vec<String> },
    /// getChildren2.
    GetChildren2 { children: Vec<String>, stat: Stat },
    /// sync: echoes the path.
    Sync { path: String },
    /// multi / multiRead.
    Multi(Vec<MultiResult>),
    /// getEphemerals.
    Ephemerals(Vec<String>),
    /// getAllChildrenNumber.
    AllChildrenNumber(i32),
    /// addWatch: an ErrorResponse body (always 0).
    ErrorBody(i32),
    /// whoAmI.
    WhoAmI(Vec<ClientInfo>),
    /// sasl.
    Sasl { token: Option<Vec<u8>> },
}

impl Response {
    /// Encodes the body.
    pub fn encode(&self, w: &mut Writer) {
        match self {
            Response::Empty => {}
            Response::Create { path } | Response::Sync { path } => w.ustring(path),
            Response::Create2 { path, stat } => {
                w.ustring(path);
                write_stat(w, stat);
            }
            Response::Stat(stat) => write_stat(w, stat),
            Response::GetData { data, stat } => {
                w.buffer(data.as_deref());
                write_stat(w, stat);
            }
            Response::GetAcl { acl, stat } => {
                w.vector(acl, write_acl);
                write_stat(w, stat);
            }
            Response::GetChildren { children } | Response::Ephemerals(children) => {
                w.vector(children, |w, c| w.ustring(c))
            }
            Response::GetChildren2 { children, stat } => {
                w.vector(children, |w, c| w.ustring(c));
                write_stat(w, stat);
            }
            Response::Multi(results) => {
                for res in results {
                    encode_multi_result(w, res);
                }
                w.int(-1);
                w.boolean(true);
                w.int(-1);
            }
            Response::AllChildrenNumber(n) | Response::ErrorBody(n) => w.int(*n),
            Response::WhoAmI(infos) => w.vector(infos, |w, i| {
                w.ustring(&i.auth_scheme);
                w.ustring(&i.user);
            }),
            Response::Sasl { token } => w.buffer(token.as_deref()),
        }
    }

    /// Decodes the body of a successful reply to a request with opcode `op`.
    pub fn decode(op: i32, r: &mut Reader<'_>) -> Result<Response, DecodeError> {
        let Some(code) = OpCode::from_i32(op) else {
            return Err(DecodeError::Invalid(format!("unknown opcode {op}")));
        };
        use OpCode::*;
        Ok(match code {
            Create => Response::Create { path: r.ustring()? },
            Create2 | CreateContainer | CreateTtl => Response::Create2 { path: r.ustring()?, stat: read_stat(r)? },
            Exists | SetData | SetAcl => Response::Stat(read_stat(r)?),
            GetData | Reconfig => Response::GetData { data: r.buffer()?, stat: read_stat(r)? },
            GetAcl => Response::GetAcl { acl: r.vector(read_acl)?, stat: read_stat(r)? },
            GetChildren => Response::GetChildren { children: r.vector(Reader::ustring)? },
            GetChildren2 => Response::GetChildren2 { children: r.vector(Reader::ustring)?, stat: read_stat(r)? },
            Sync => Response::Sync { path: r.ustring()? },
            Multi | MultiRead => Response::Multi(decode_multi_results(r)?),
            GetEphemerals => Response::Ephemerals(r.vector(Reader::ustring)?),
            GetAllChildrenNumber => Response::AllChildrenNumber(r.int()?),
            AddWatch => Response::ErrorBody(r.int()?),
            WhoAmI => Response::WhoAmI(r.vector(|r| Ok(ClientInfo { auth_scheme: r.ustring()?, user: r.ustring()? }))?),
            Sasl => Response::Sasl { token: r.buffer()? },
            _ => Response::Empty,
        })
    }
}

fn encode_multi_result(w: &mut Writer, res: &MultiResult) {
    let (kind, err) = match res {
        MultiResult::Create { .. } => (1, 0),
        MultiResult::Create2 { .. } => (15, 0),
        MultiResult::Delete => (2, 0),
        MultiResult::SetData { .. } => (5, 0),
        MultiResult::Check => (13, 0),
        MultiResult::GetChildren { .. } => (8, 0),
        MultiResult::GetData { .. } => (4, 0),
        MultiResult::Error { err } => (-1, *err),
    };
    w.int(kind);
    w.boolean(false);
    w.int(err);
    match res {
        MultiResult::Create { path } => w.ustring(path),
        MultiResult::Create2 { path, stat } => {
            w.ustring(path);
            write_stat(w, stat);
        }
        MultiResult::Delete | MultiResult::Check => {}
        MultiResult::SetData { stat } => write_stat(w, stat),
        MultiResult::GetChildren { children } => w.vector(children, |w, c| w.ustring(c)),
        MultiResult::GetData { data, stat } => {
            w.buffer(data.as_deref());
            write_stat(w, stat);
        }
        MultiResult::Error { err } => w.int(*err),
    }
}

fn decode_multi_results(r: &mut Reader<'_>) -> Result<Vec<MultiResult>, DecodeError> {
    let mut out = Vec::new();
    loop {
        let kind = r.int()?;
        let done = r.boolean()?;
        let err = r.int()?;
        if done {
            return Ok(out);
        }
        out.push(match kind {
            1 => MultiResult::Create { path: r.ustring()? },
            15 | 19 | 21 => MultiResult::Create2 { path: r.ustring()?, stat: read_stat(r)? },
            2 => MultiResult::Delete,
            5 => MultiResult::SetData { stat: read_stat(r)? },
            13 => MultiResult::Check,
            8 => MultiResult::GetChildren { children: r.vector(Reader::ustring)? },
            4 => MultiResult::GetData { data: r.buffer()?, stat: read_stat(r)? },
            -1 => {
                let body = r.int()?;
                MultiResult::Error { err: if err != 0 { err } else { body } }
            }
            other => return Err(DecodeError::Invalid(format!("unknown multi result type {other}"))),
        });
    }
}
