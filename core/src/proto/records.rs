//! Encoding of the data records shared by many messages: `Id`, `ACL`, `Stat`,
//! `WatcherEvent`, `ClientInfo`.

use super::data::{Acl, Id, Stat};
use super::jute::{DecodeError, Reader, Writer};

/// Decodes an `Id`. Null parts read as empty: kazoo sends the `auth:` id
/// of CREATOR_ALL_ACL as a null string, and ZooKeeper accepts it.
pub fn read_id(r: &mut Reader<'_>) -> Result<Id, DecodeError> {
    Ok(Id { scheme: r.ustring_opt()?.unwrap_or_default(), id: r.ustring_opt()?.unwrap_or_default() })
}

/// Encodes an `Id`.
pub fn write_id(w: &mut Writer, id: &Id) {
    w.ustring(&id.scheme);
    w.ustring(&id.id);
}

/// Decodes an `ACL`.
pub fn read_acl(r: &mut Reader<'_>) -> Result<Acl, DecodeError> {
    Ok(Acl { perms: r.int()?, id: read_id(r)? })
}

/// Encodes an `ACL`.
pub fn write_acl(w: &mut Writer, acl: &Acl) {
    w.int(acl.perms);
    write_id(w, &acl.id);
}

/// Decodes a `Stat` (68 bytes).
pub fn read_stat(r: &mut Reader<'_>) -> Result<Stat, DecodeError> {
    Ok(Stat {
        czxid: r.long()?,
        mzxid: r.long()?,
        ctime: r.long()?,
        mtime: r.long()?,
        version: r.int()?,
        cversion: r.int()?,
        aversion: r.int()?,
        ephemeral_owner: r.long()?,
        data_length: r.int()?,
        num_children: r.int()?,
        pzxid: r.long()?,
    })
}

/// Encodes a `Stat`.
pub fn write_stat(w: &mut Writer, s: &Stat) {
    w.long(s.czxid);
    w.long(s.mzxid);
    w.long(s.ctime);
    w.long(s.mtime);
    w.int(s.version);
    w.int(s.cversion);
    w.int(s.aversion);
    w.long(s.ephemeral_owner);
    w.int(s.data_length);
    w.int(s.num_children);
    w.long(s.pzxid);
}

/// A watch notification body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatcherEvent {
    /// [`super::EventType`] number.
    pub event_type: i32,
    /// KeeperState number (3 from servers).
    pub state: i32,
    /// Server-side path.
    pub path: String,
}

impl WatcherEvent {
    /// Decodes the event.
    pub fn decode(r: &mut Reader<'_>) -> Result<WatcherEvent, DecodeError> {
        Ok(WatcherEvent { event_type: r.int()?, state: r.int()?, path: r.ustring()? })
    }

    /// Encodes the event.
    pub fn encode(&self, w: &mut Writer) {
        w.int(self.event_type);
        w.int(self.state);
        w.ustring(&self.path);
    }
}

/// One identity in a whoAmI reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// Scheme (ip, digest, super, ...).
    pub auth_scheme: String,
    /// User or address.
    pub user: String,
}
