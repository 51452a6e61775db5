//! Single writes on the tree — create, delete, setData, setACL, check, the
//! reaper's delete and a session's ephemeral cleanup — each validated in
//! ZooKeeper's precedence (PrepRequestProcessor) and applied with §7.4's Stat
//! maintenance. A write that fails changes nothing.
//!
//! May use: `proto` data records and codes.

use std::sync::Arc;

use crate::proto::{perms, Acl, Code, CreateMode, Id, Stat};

use super::node::{Node, NodeKind, MAX_TTL_MS};
use super::read::is_reapable_at;
use super::{acl, path, DataTree};

/// When a change happens: the zxid of its log entry and the proposer's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// zxid stamped into czxid/mzxid/pzxid.
    pub zxid: i64,
    /// ms since the epoch stamped into ctime/mtime (and the TTL "now").
    pub time_ms: i64,
}

/// A create request as the tree needs it.
#[derive(Clone, Copy, Debug)]
pub struct NewNode<'a> {
    /// Requested path (the sequence suffix is appended for sequential modes).
    pub path: &'a str,
    /// Data; `None` is the null buffer.
    pub data: Option<&'a [u8]>,
    /// Requested ACL (validated, `auth` expanded).
    pub acl: &'a [Acl],
    /// Node kind.
    pub mode: CreateMode,
    /// TTL in ms for the TTL modes (ignored otherwise).
    pub ttl_ms: i64,
    /// Creating session: the owner of an ephemeral. The tree does not know
    /// sessions; the caller checks that it is alive (SessionExpired).
    pub session_id: i64,
}

/// ZooKeeper's `checkAndIncVersion`: −1 matches anything; the next version
/// skips −1 on wrap-around so it can never mean "any".
fn check_version(current: i32, expected: i32) -> Result<i32, Code> {
    if expected != -1 && expected != current {
        return Err(Code::BadVersion);
    }
    Ok(match current.wrapping_add(1) {
        -1 => 0,
        next => next,
    })
}

impl DataTree {
    /// create / create2 / createContainer / createTTL. Precedence: bad TTL
    /// → BadArguments; no `/` or a NUL → BadArguments; ACL → InvalidAcl;
    /// parent missing → NoNode; CREATE on parent → NoAuth; final path invalid
    /// → BadArguments; exists → NodeExists; parent ephemeral →
    /// NoChildrenForEphemerals. Returns the actual path and the new Stat.
    pub fn create(&mut self, req: &NewNode<'_>, ids: &[Id], stamp: Stamp) -> Result<(String, Stat), Code> {
        if req.mode.is_ttl() && !(1..=MAX_TTL_MS).contains(&req.ttl_ms) {
            return Err(Code::BadArguments);
        }
        if req.path.contains('\0') {
            return Err(Code::BadArguments);
        }
        let parent_path = path::parent(req.path).ok_or(Code::BadArguments)?;
        let acl_list = acl::fixup(req.acl, ids)?;
        let parent = self.node(parent_path).ok_or(Code::NoNode)?;
        acl::check(&parent.acl, perms::CREATE, ids)?;
        let full_path = if req.mode.is_sequential() {
            format!("{}{}", req.path, path::sequence_suffix(parent.child_creates))
        } else {
            req.path.to_string()
        };
        path::validate(&full_path)?;
        if self.node(&full_path).is_some() {
            return Err(Code::NodeExists);
        }
        if matches!(parent.kind, NodeKind::Ephemeral(_)) {
            return Err(Code::NoChildrenForEphemerals);
        }
        let kind = match req.mode {
            CreateMode::Persistent | CreateMode::PersistentSequential => NodeKind::Persistent,
            CreateMode::Ephemeral | CreateMode::EphemeralSequential => NodeKind::Ephemeral(req.session_id),
            CreateMode::Container => NodeKind::Container,
            CreateMode::PersistentWithTtl | CreateMode::PersistentSequentialWithTtl => NodeKind::Ttl(req.ttl_ms),
        };
        let shared_acl = self.acls.intern(&acl_list);
        let node = Node::new(req.data.map(Arc::from), shared_acl, kind, stamp.zxid, stamp.time_ms);
        let stat = node.stat();
        if let Some(parent) = self.node_mut(parent_path) {
            parent.child_creates = parent.child_creates.wrapping_add(1);
            parent.num_children += 1;
            parent.pzxid = stamp.zxid;
        }
        self.insert_node(&full_path, node);
        Ok((full_path, stat))
    }

    /// delete. Precedence: no `/`, a NUL, or a protected system path →
    /// BadArguments; parent missing → NoNode; DELETE on parent → NoAuth; node
    /// missing → NoNode; version → BadVersion; children → NotEmpty.
    pub fn delete(&mut self, path: &str, version: i32, ids: &[Id], stamp: Stamp) -> Result<(), Code> {
        if path.contains('\0') || path::is_protected(path) {
            return Err(Code::BadArguments);
        }
        let parent_path = path::parent(path).ok_or(Code::BadArguments)?;
        let parent = self.node(parent_path).ok_or(Code::NoNode)?;
        acl::check(&parent.acl, perms::DELETE, ids)?;
        let node = self.node(path).ok_or(Code::NoNode)?;
        check_version(node.version, version)?;
        if node.num_children > 0 {
            return Err(Code::NotEmpty);
        }
        self.unlink(path, stamp);
        Ok(())
    }

    /// Removes a childless node and updates its parent (numChildren − 1,
    /// pzxid; the client-visible cversion rises by one as a result).
    fn unlink(&mut self, path: &str, stamp: Stamp) {
        if self.remove_node(path).is_none() {
            return;
        }
        if let Some(parent) = path::parent(path).and_then(|p| self.node_mut(p)) {
            parent.num_children -= 1;
            parent.pzxid = parent.pzxid.max(stamp.zxid);
        }
    }

    /// setData. Precedence: invalid path → BadArguments; missing → NoNode;
    /// WRITE → NoAuth; version → BadVersion. Returns the Stat after the update.
    pub fn set_data(
        &mut self,
        path: &str,
        data: Option<&[u8]>,
        version: i32,
        ids: &[Id],
        stamp: Stamp,
    ) -> Result<Stat, Code> {
        path::validate(path)?;
        let node = self.node(path).ok_or(Code::NoNode)?;
        acl::check(&node.acl, perms::WRITE, ids)?;
        let next = check_version(node.version, version)?;
        let delta = data.map_or(0, |d| d.len() as i64) - node.data_len() as i64;
        let node = self.node_mut(path).ok_or(Code::NoNode)?;
        node.data = data.map(Arc::from);
        node.version = next;
        node.mzxid = stamp.zxid;
        node.mtime = stamp.time_ms;
        let stat = node.stat();
        self.data_size += delta;
        Ok(stat)
    }

    /// Replaces `/zookeeper/config`'s data with a new membership, as
    /// ZooKeeper's reconfig does: mzxid and mtime move, and the version
    /// becomes -1 (ZooKeeper writes the config node with version -1).
    pub fn set_config(&mut self, data: &[u8], stamp: Stamp) -> Result<Stat, Code> {
        let node = self.node_mut(path::CONFIG).ok_or(Code::NoNode)?;
        let delta = data.len() as i64 - node.data_len() as i64;
        node.data = Some(Arc::from(data));
        node.version = -1;
        node.mzxid = stamp.zxid;
        node.mtime = stamp.time_ms;
        let stat = node.stat();
        self.data_size += delta;
        Ok(stat)
    }

    /// setACL. Precedence: invalid path → BadArguments; ACL → InvalidAcl;
    /// missing → NoNode; ADMIN → NoAuth; aversion → BadVersion. Only aversion
    /// changes in the Stat.
    pub fn set_acl(&mut self, path: &str, acl_list: &[Acl], version: i32, ids: &[Id]) -> Result<Stat, Code> {
        path::validate(path)?;
        let acl_list = acl::fixup(acl_list, ids)?;
        let node = self.node(path).ok_or(Code::NoNode)?;
        acl::check(&node.acl, perms::ADMIN, ids)?;
        let next = check_version(node.aversion, version)?;
        let shared = self.acls.intern(&acl_list);
        let node = self.node_mut(path).ok_or(Code::NoNode)?;
        node.acl = shared;
        node.aversion = next;
        Ok(node.stat())
    }

    /// check (multi only). Precedence: invalid path → BadArguments; missing →
    /// NoNode; READ → NoAuth; version (−1 = existence only) → BadVersion.
    pub fn check(&self, path: &str, version: i32, ids: &[Id]) -> Result<(), Code> {
        path::validate(path)?;
        let node = self.node(path).ok_or(Code::NoNode)?;
        acl::check(&node.acl, perms::READ, ids)?;
        check_version(node.version, version).map(|_| ())
    }

    /// The reaper's delete, re-checked at apply time with `stamp.time_ms` as
    /// now: missing → NoNode; children → NotEmpty; not a container/TTL node,
    /// or not (yet) due → BadVersion (ZooKeeper's code for a wrong kind).
    /// Nothing changes on error.
    pub fn delete_reapable(&mut self, path: &str, stamp: Stamp) -> Result<(), Code> {
        let node = self.node(path).ok_or(Code::NoNode)?;
        if node.num_children > 0 {
            return Err(Code::NotEmpty);
        }
        if !is_reapable_at(node, stamp.time_ms) {
            return Err(Code::BadVersion);
        }
        self.unlink(path, stamp);
        Ok(())
    }

    /// Deletes every ephemeral of a session (a closed or expired session),
    /// returning their paths in deletion order (sorted).
    pub fn remove_session_ephemerals(&mut self, session_id: i64, stamp: Stamp) -> Vec<String> {
        let paths = self.ephemerals_of(session_id);
        for p in &paths {
            self.unlink(p, stamp);
        }
        paths
    }
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
