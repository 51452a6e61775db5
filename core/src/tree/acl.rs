//! ACLs: the digest identity, validation and `auth` expansion of an ACL being
//! set (ZooKeeper's `fixupACL`), the permission check against a connection's
//! identities (world, digest, ip with CIDR, super), getACL
//! masking, and the interning that lets thousands of nodes share one list.
//!
//! May use: `proto` data records and codes.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use base64::Engine as _;
use imbl::OrdSet;
use sha1::{Digest as _, Sha1};

use crate::proto::{Acl, Code, Id};

/// The digest identity for `user:password` text as sent in a digest
/// AuthPacket: `user:base64(sha1("user:password"))`.
pub fn digest_id(user_password: &str) -> String {
    let user = user_password.split(':').next().unwrap_or_default();
    let hash = Sha1::digest(user_password.as_bytes());
    format!("{user}:{}", base64::engine::general_purpose::STANDARD.encode(hash))
}

/// Whether the identities include a super user (bypasses every ACL check).
pub fn is_super(ids: &[Id]) -> bool {
    ids.iter().any(|id| id.scheme == "super")
}

/// Schemes whose identities `auth` expands to (providers that report
/// "authenticated"; `ip` and `super` are not).
fn is_authenticated_scheme(scheme: &str) -> bool {
    matches!(scheme, "digest" | "sasl" | "x509")
}

/// Validates the ACL of a create/setACL and expands `auth` entries into one
/// entry per authenticated identity of the caller. `Err(InvalidAcl)` when the
/// list is empty (after dropping exact duplicates), holds a `world` id other
/// than `anyone`, an `auth` entry while the caller has no authenticated
/// identity, a malformed `digest`/`ip` id, or any other scheme.
pub fn fixup(acl: &[Acl], ids: &[Id]) -> Result<Vec<Acl>, Code> {
    let mut unique: Vec<&Acl> = Vec::with_capacity(acl.len());
    for a in acl {
        if !unique.contains(&a) {
            unique.push(a);
        }
    }
    if unique.is_empty() {
        return Err(Code::InvalidAcl);
    }
    let mut out = Vec::with_capacity(unique.len());
    for a in unique {
        match a.id.scheme.as_str() {
            "world" if a.id.id == "anyone" => out.push(a.clone()),
            "auth" => {
                let before = out.len();
                for id in ids.iter().filter(|id| is_authenticated_scheme(&id.scheme)) {
                    out.push(Acl { perms: a.perms, id: id.clone() });
                }
                if out.len() == before {
                    return Err(Code::InvalidAcl);
                }
            }
            "digest" if is_valid_digest_id(&a.id.id) => out.push(a.clone()),
            "ip" if is_valid_ip_id(&a.id.id) => out.push(a.clone()),
            _ => return Err(Code::InvalidAcl),
        }
    }
    Ok(out)
}

/// Java's `id.split(":").length == 2`: trailing empty parts do not count.
fn is_valid_digest_id(id: &str) -> bool {
    let mut parts: Vec<&str> = id.split(':').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts.len() == 2
}

/// An `ip` ACL id: an IPv4 address, optionally `/bits`. ZooKeeper 3.8
/// refuses IPv6 ACL ids (InvalidACL), and corral answers as it does; IPv6
/// clients still match through IPv4-mapped addresses.
fn is_valid_ip_id(id: &str) -> bool {
    !id.contains(':') && parse_ip_expr(id).is_some()
}

/// Whether `acl` grants any bit of `perm` to one of `ids`. An empty ACL
/// grants everything; a super identity passes every check.
pub fn permits(acl: &[Acl], perm: i32, ids: &[Id]) -> bool {
    if acl.is_empty() || is_super(ids) {
        return true;
    }
    acl.iter().filter(|a| a.perms & perm != 0).any(|a| {
        if a.id.scheme == "world" && a.id.id == "anyone" {
            return true;
        }
        ids.iter().filter(|id| id.scheme == a.id.scheme).any(|id| match a.id.scheme.as_str() {
            "ip" => ip_matches(&id.id, &a.id.id),
            "digest" | "sasl" | "x509" => id.id == a.id.id,
            _ => false,
        })
    })
}

/// `Ok(())` if permitted, else `Err(NoAuth)`.
pub fn check(acl: &[Acl], perm: i32, ids: &[Id]) -> Result<(), Code> {
    if permits(acl, perm, ids) {
        Ok(())
    } else {
        Err(Code::NoAuth)
    }
}

/// The ACL as getACL shows it to a caller without ADMIN: every `digest` id
/// has its hash replaced, `user:<hash>` → `user:x`.
pub fn masked(acl: &[Acl]) -> Vec<Acl> {
    acl.iter()
        .map(|a| {
            let mut a = a.clone();
            if a.id.scheme == "digest" {
                if let Some(i) = a.id.id.find(':') {
                    a.id.id.truncate(i);
                    a.id.id.push_str(":x");
                }
            }
            a
        })
        .collect()
}

/// An address as bytes: 4 for IPv4, 16 for IPv6.
fn parse_addr(addr: &str) -> Option<Vec<u8>> {
    if addr.contains(':') {
        let addr = addr.trim_start_matches('[').trim_end_matches(']');
        // A scope id (`fe80::1%eth0`) does not take part in matching.
        let addr = addr.split('%').next().unwrap_or_default();
        return addr.parse::<Ipv6Addr>().ok().map(|a| a.octets().to_vec());
    }
    // Java's v4 parser: exactly four `Integer.parseInt` parts in 0..=255
    // (so leading zeros are fine, unlike Rust's strict parser).
    let parts: Vec<&str> = addr.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    parts.iter().map(|p| p.parse::<i32>().ok().filter(|v| (0..=255).contains(v)).map(|v| v as u8)).collect()
}

/// Parses `addr[/bits]` into masked address bytes and the prefix length.
fn parse_ip_expr(expr: &str) -> Option<(Vec<u8>, usize)> {
    let mut parts = expr.splitn(2, '/');
    let mut addr = parse_addr(parts.next().unwrap_or_default())?;
    let width = addr.len() * 8;
    let bits = match parts.next() {
        None => width,
        Some(b) => {
            let b = b.parse::<i32>().ok()?;
            if b < 0 || b as usize > width {
                return None;
            }
            b as usize
        }
    };
    mask(&mut addr, bits);
    Some((addr, bits))
}

/// Clears every bit after the first `bits`.
fn mask(bytes: &mut [u8], bits: usize) {
    for (i, b) in bytes.iter_mut().enumerate() {
        let keep = bits.saturating_sub(i * 8).min(8);
        *b &= if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
    }
}

/// Whether the client address `remote` falls in the ACL's `addr[/bits]`.
/// An IPv4-mapped IPv6 client address (dual-stack listener) matches IPv4 ACLs.
fn ip_matches(remote: &str, acl_expr: &str) -> bool {
    let Some((acl_addr, bits)) = parse_ip_expr(acl_expr) else {
        return false;
    };
    let Some(mut remote) = parse_addr(remote) else {
        return false;
    };
    if remote.len() == 16 && acl_addr.len() == 4 {
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&remote);
        if let Some(v4) = Ipv6Addr::from(octets).to_ipv4_mapped() {
            remote = Ipv4Addr::octets(&v4).to_vec();
        }
    }
    if remote.len() != acl_addr.len() {
        return false;
    }
    mask(&mut remote, bits);
    remote == acl_addr
}

/// One shared copy of each distinct ACL list in use. Cloned with the tree in
/// O(1); entries no node holds any more are dropped once the table has grown.
#[derive(Clone, Debug, Default)]
pub(crate) struct AclInterner {
    /// Every list handed out (some possibly no longer used).
    lists: OrdSet<Arc<[Acl]>>,
    /// Table size at which unused lists are pruned.
    prune_at: usize,
}

/// Smallest table size at which pruning runs.
const INTERNER_PRUNE_MIN: usize = 64;

impl AclInterner {
    /// The shared copy of `acl`.
    pub(crate) fn intern(&mut self, acl: &[Acl]) -> Arc<[Acl]> {
        if let Some(shared) = self.lists.get(acl) {
            return shared.clone();
        }
        if self.lists.len() >= self.prune_at.max(INTERNER_PRUNE_MIN) {
            // Only the table itself holds a list whose count is 1.
            self.lists = self.lists.iter().filter(|l| Arc::strong_count(l) > 1).cloned().collect();
            self.prune_at = self.lists.len() * 2;
        }
        let shared: Arc<[Acl]> = Arc::from(acl);
        self.lists.insert(shared.clone());
        shared
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::perms;

    fn acl(perms: i32, scheme: &str, id: &str) -> Acl {
        Acl { perms, id: Id::new(scheme, id) }
    }

    const ALICE: &str = "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=";

    #[test]
    fn digest_test_vector() {
        assert_eq!(digest_id("alice:secret"), ALICE);
    }

    #[test]
    fn fixup_expands_auth_to_authenticated_ids_only() {
        let ids = vec![Id::new("ip", "127.0.0.1"), Id::new("digest", ALICE)];
        assert_eq!(fixup(&Acl::creator_all(), &ids), Ok(vec![acl(31, "digest", ALICE)]));
        let unauthenticated = vec![Id::new("ip", "127.0.0.1")];
        assert_eq!(fixup(&Acl::creator_all(), &unauthenticated), Err(Code::InvalidAcl));
        let super_only = vec![Id::new("ip", "127.0.0.1"), Id::new("super", "")];
        assert_eq!(fixup(&Acl::creator_all(), &super_only), Err(Code::InvalidAcl));
    }

    #[test]
    fn fixup_rejects_invalid_acls() {
        let ids = vec![Id::new("ip", "127.0.0.1")];
        for bad in [
            vec![],
            vec![acl(31, "world", "foo")],
            vec![acl(31, "digest", "alice")],
            vec![acl(31, "digest", "alice:")],
            vec![acl(31, "digest", "a:b:c")],
            vec![acl(31, "ip", "notanip")],
            vec![acl(31, "ip", "10.0.0.0/33")],
            vec![acl(31, "ip", "1.2.3")],
            vec![acl(31, "ip", "1.2.3.256")],
            // ZooKeeper 3.8 accepts IPv4 ACL ids only.
            vec![acl(31, "ip", "::1")],
            vec![acl(31, "ip", "fe80::/10")],
            vec![acl(31, "unknown", "x")],
            vec![acl(31, "super", "")],
            vec![acl(31, "world", "anyone"), acl(1, "bogus", "x")],
        ] {
            assert_eq!(fixup(&bad, &ids), Err(Code::InvalidAcl), "{bad:?}");
        }
    }

    #[test]
    fn fixup_keeps_valid_entries_and_drops_duplicates() {
        let input = vec![
            acl(31, "world", "anyone"),
            acl(31, "world", "anyone"),
            acl(1, "digest", ":hash"),
            acl(1, "ip", "10.0.0.0/8"),
            acl(1, "ip", "010.1.2.3"),
        ];
        let out = fixup(&input, &[]).unwrap_or_default();
        assert_eq!(out.len(), 4);
        assert_eq!(out[0], acl(31, "world", "anyone"));
    }

    #[test]
    fn ip_cidr_matching() {
        let client = vec![Id::new("ip", "127.0.0.1")];
        assert!(permits(&[acl(1, "ip", "127.0.0.0/8")], perms::READ, &client));
        assert!(!permits(&[acl(1, "ip", "10.0.0.0/8")], perms::READ, &client));
        assert!(permits(&[acl(1, "ip", "127.0.0.1")], perms::READ, &client));
        assert!(!permits(&[acl(1, "ip", "127.0.0.2")], perms::READ, &client));
        assert!(permits(&[acl(1, "ip", "0.0.0.0/0")], perms::READ, &client));
        assert!(permits(&[acl(1, "ip", "127.0.0.0/31")], perms::READ, &client));
        let mapped = vec![Id::new("ip", "::ffff:127.0.0.1")];
        assert!(permits(&[acl(1, "ip", "127.0.0.0/8")], perms::READ, &mapped));
        let v6 = vec![Id::new("ip", "0:0:0:0:0:0:0:1")];
        assert!(permits(&[acl(1, "ip", "::1")], perms::READ, &v6));
        assert!(permits(&[acl(1, "ip", "::/64")], perms::READ, &v6));
        assert!(!permits(&[acl(1, "ip", "fe80::/10")], perms::READ, &v6));
        assert!(!permits(&[acl(1, "ip", "127.0.0.1")], perms::READ, &v6));
        let scoped = vec![Id::new("ip", "fe80::1%eth0")];
        assert!(permits(&[acl(1, "ip", "fe80::/10")], perms::READ, &scoped));
    }

    #[test]
    fn permission_bits_identities_and_super() {
        let alice = vec![Id::new("ip", "10.1.1.1"), Id::new("digest", ALICE)];
        let anon = vec![Id::new("ip", "10.1.1.1")];
        let list = vec![acl(perms::READ, "world", "anyone"), acl(perms::ALL, "digest", ALICE)];
        assert!(permits(&list, perms::READ, &anon));
        assert!(!permits(&list, perms::WRITE, &anon));
        assert!(permits(&list, perms::WRITE, &alice));
        assert!(permits(&list, perms::READ | perms::ADMIN, &anon));
        let sup = vec![Id::new("ip", "10.1.1.1"), Id::new("super", "")];
        assert!(permits(&[acl(perms::READ, "digest", ALICE)], perms::ADMIN, &sup));
        assert!(permits(&[], perms::ADMIN, &anon));
        assert_eq!(check(&list, perms::WRITE, &anon), Err(Code::NoAuth));
    }

    #[test]
    fn masking_hides_digest_hashes() {
        let list = vec![acl(1, "world", "anyone"), acl(31, "digest", ALICE), acl(1, "ip", "1.2.3.4")];
        let m = masked(&list);
        assert_eq!(m[0], list[0]);
        assert_eq!(m[1], acl(31, "digest", "alice:x"));
        assert_eq!(m[2], list[2]);
    }

    #[test]
    fn interner_shares_and_prunes() {
        let mut interner = AclInterner::default();
        let a = interner.intern(&Acl::open_unsafe());
        let b = interner.intern(&Acl::open_unsafe());
        assert!(Arc::ptr_eq(&a, &b));
        for i in 0..200 {
            interner.intern(&[acl(1, "ip", &format!("10.0.0.{}", i % 250))]);
        }
        assert!(interner.lists.len() < 200);
        let c = interner.intern(&Acl::open_unsafe());
        assert!(Arc::ptr_eq(&a, &c));
    }
}
