//! The session handshake records (no request/reply header) and the headers
//! that precede every later frame.

use super::jute::{DecodeError, Reader, Writer};

/// First frame from a client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    /// Always 0; ignored.
    pub protocol_version: i32,
    /// Highest zxid the client has seen; a server behind it must not accept the client.
    pub last_zxid_seen: i64,
    /// Requested session timeout in ms.
    pub timeout_ms: i32,
    /// 0 for a new session, else the session to resume.
    pub session_id: i64,
    /// Session password (16 bytes from a resuming client).
    pub passwd: Option<Vec<u8>>,
    /// The trailing readOnly byte; `None` for 3.3-era clients that omit it.
    pub read_only: Option<bool>,
}

impl ConnectRequest {
    /// Decodes the handshake; a trailing byte, if any, is the readOnly flag.
    pub fn decode(r: &mut Reader<'_>) -> Result<ConnectRequest, DecodeError> {
        let protocol_version = r.int()?;
        let last_zxid_seen = r.long()?;
        let timeout_ms = r.int()?;
        let session_id = r.long()?;
        let passwd = r.buffer()?;
        let read_only = if r.remaining() > 0 { Some(r.boolean()?) } else { None };
        Ok(ConnectRequest { protocol_version, last_zxid_seen, timeout_ms, session_id, passwd, read_only })
    }

    /// Encodes the handshake.
    pub fn encode(&self, w: &mut Writer) {
        w.int(self.protocol_version);
        w.long(self.last_zxid_seen);
        w.int(self.timeout_ms);
        w.long(self.session_id);
        w.buffer(self.passwd.as_deref());
        if let Some(ro) = self.read_only {
            w.boolean(ro);
        }
    }
}

/// First frame from the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectResponse {
    /// Always 0.
    pub protocol_version: i32,
    /// Negotiated timeout; 0 means the session is invalid or expired.
    pub timeout_ms: i32,
    /// The session id (0 when invalid).
    pub session_id: i64,
    /// 16-byte password.
    pub passwd: Vec<u8>,
    /// Present only when the request carried the readOnly byte.
    pub read_only: Option<bool>,
}

impl ConnectResponse {
    /// Decodes the handshake reply; a trailing byte, if any, is the readOnly flag.
    pub fn decode(r: &mut Reader<'_>) -> Result<ConnectResponse, DecodeError> {
        let protocol_version = r.int()?;
        let timeout_ms = r.int()?;
        let session_id = r.long()?;
        let passwd = r.buffer()?.unwrap_or_default();
        let read_only = if r.remaining() > 0 { Some(r.boolean()?) } else { None };
        Ok(ConnectResponse { protocol_version, timeout_ms, session_id, passwd, read_only })
    }

    /// Encodes the handshake reply.
    pub fn encode(&self, w: &mut Writer) {
        w.int(self.protocol_version);
        w.int(self.timeout_ms);
        w.long(self.session_id);
        w.buffer(Some(&self.passwd));
        if let Some(ro) = self.read_only {
            w.boolean(ro);
        }
    }
}

/// Precedes every request after the handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHeader {
    /// Client-chosen id echoed in the reply (special: -2 ping, -4 auth, -8 setWatches).
    pub xid: i32,
    /// The opcode number.
    pub op: i32,
}

impl RequestHeader {
    /// Decodes the header.
    pub fn decode(r: &mut Reader<'_>) -> Result<RequestHeader, DecodeError> {
        Ok(RequestHeader { xid: r.int()?, op: r.int()? })
    }

    /// Encodes the header.
    pub fn encode(&self, w: &mut Writer) {
        w.int(self.xid);
        w.int(self.op);
    }
}

/// Precedes every reply and notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReplyHeader {
    /// The request's xid; -1 notification, -2 ping, -4 auth.
    pub xid: i32,
    /// The server's last applied zxid when the reply was made.
    pub zxid: i64,
    /// 0 or a [`super::Code`] number.
    pub err: i32,
}

impl ReplyHeader {
    /// Decodes the header.
    pub fn decode(r: &mut Reader<'_>) -> Result<ReplyHeader, DecodeError> {
        Ok(ReplyHeader { xid: r.int()?, zxid: r.long()?, err: r.int()? })
    }

    /// Encodes the header.
    pub fn encode(&self, w: &mut Writer) {
        w.int(self.xid);
        w.long(self.zxid);
        w.int(self.err);
    }
}

/// Special xids.
pub mod xid {
    /// A watch notification (server to client).
    pub const NOTIFICATION: i32 = -1;
    /// A ping.
    pub const PING: i32 = -2;
    /// An auth packet.
    pub const AUTH: i32 = -4;
    /// SetWatches from the C client.
    pub const SET_WATCHES: i32 = -8;
}
