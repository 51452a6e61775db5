//! Dynamic reconfiguration: what a `reconfig` request asks for, and the
//! `/zookeeper/config` text that records an ensemble's membership.
//!
//! The membership itself lives in the replicated log (openraft's membership
//! entries); `/zookeeper/config` is its ZooKeeper-shaped description, written
//! by a `SetConfig` entry after each change: one `server.N=` line per member,
//! then `version=<zxid in hex>`, byte for byte what ZooKeeper 3.5+ shows.

use std::collections::BTreeMap;

use super::config::{parse_server_spec, ServerSpec};
use crate::replication::Member;

/// Members by id.
pub type Servers = BTreeMap<u64, ServerSpec>;

/// The `server.N=...` lines for `servers`, each ending in a newline.
pub fn render(servers: &Servers) -> String {
    servers.iter().map(|(id, s)| format!("server.{id}={}\n", s.render())).collect()
}

/// Reads `/zookeeper/config` data back: the members and the version (the
/// zxid of the change). Empty data (a standalone server) has neither.
pub fn parse_config(data: &[u8]) -> Result<(Servers, Option<i64>), String> {
    let text = std::str::from_utf8(data).map_err(|_| "the configuration is not UTF-8".to_string())?;
    let mut servers = Servers::new();
    let mut version = None;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(v) = line.strip_prefix("version=") {
            version = Some(i64::from_str_radix(v, 16).map_err(|_| format!("bad version {v:?}"))?);
        } else {
            let (id, spec) = parse_server_line(line)?;
            servers.insert(id, spec);
        }
    }
    Ok((servers, version))
}

/// One `server.N=spec` entry.
fn parse_server_line(entry: &str) -> Result<(u64, ServerSpec), String> {
    let (key, value) = entry.split_once('=').ok_or_else(|| format!("{entry:?} is not server.N=..."))?;
    let id = key
        .trim()
        .strip_prefix("server.")
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{:?} is not server.N with N a positive number", key.trim()))?;
    let spec = parse_server_spec(value.trim()).map_err(|e| format!("server.{id}: {e}"))?;
    Ok((id, spec))
}

/// A comma-separated list of `server.N=spec` entries (the `joiningServers`
/// and `newMembers` fields).
fn parse_server_list(list: &str) -> Result<Servers, String> {
    let mut out = Servers::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (id, spec) = parse_server_line(entry)?;
        if out.insert(id, spec).is_some() {
            return Err(format!("server.{id} is listed twice"));
        }
    }
    Ok(out)
}

/// The membership a reconfig asks for: `new_members` replaces everything
/// (non-incremental); otherwise `leaving` ids (comma-separated) are removed
/// from `current` and `joining` entries added or changed (incremental).
/// Refused like ZooKeeper does it (BadArguments): both forms at once, an
/// unparsable entry, a joining entry without its election or client port,
/// removing a member that is not there, or a result without voters.
pub fn plan(
    current: &Servers,
    joining: Option<&str>,
    leaving: Option<&str>,
    new_members: Option<&str>,
) -> Result<Servers, String> {
    fn given(s: Option<&str>) -> Option<&str> {
        s.map(str::trim).filter(|s| !s.is_empty())
    }
    let (joining, leaving, new_members) = (given(joining), given(leaving), given(new_members));
    let next = match new_members {
        Some(list) => {
            if joining.is_some() || leaving.is_some() {
                return Err("a reconfig is either incremental (joining/leaving) or a new membership, not both".into());
            }
            parse_server_list(list)?
        }
        None => {
            if joining.is_none() && leaving.is_none() {
                return Err("nothing to change: no joining, leaving or new members".into());
            }
            let mut next = current.clone();
            for id in leaving.unwrap_or("").split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let id: u64 = id.parse().map_err(|_| format!("leaving server {id:?} is not a server id"))?;
                if next.remove(&id).is_none() {
                    return Err(format!("server {id} is not a member"));
                }
            }
            let joining = parse_server_list(joining.unwrap_or(""))?;
            // As ZooKeeper: a member added incrementally must name all three
            // ports (a new membership listed whole need not).
            if let Some((id, _)) = joining.iter().find(|(_, s)| s.election_port.is_none() || s.client.is_none()) {
                return Err(format!("server.{id}: a joining server names its peer, election and client ports"));
            }
            next.extend(joining);
            next
        }
    };
    if !next.values().any(|s| !s.observer) {
        return Err("the new membership has no participant".into());
    }
    Ok(next)
}

/// The replication layer's view of a membership.
pub fn members(servers: &Servers) -> BTreeMap<u64, Member> {
    servers.iter().map(|(id, s)| (*id, Member { addr: s.peer_addr(), voter: !s.observer })).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(text: &str) -> Servers {
        parse_config(text.as_bytes()).unwrap().0
    }

    const THREE: &str = "server.1=127.0.0.1:2881:3881:participant;127.0.0.1:2181\n\
                         server.2=127.0.0.1:2882:3882:participant;127.0.0.1:2182\n\
                         server.3=127.0.0.1:2883:3883:participant;127.0.0.1:2183\n\
                         version=100000000";

    #[test]
    fn config_text_round_trips_as_zookeeper_writes_it() {
        let (s, version) = parse_config(THREE.as_bytes()).unwrap();
        assert_eq!(version, Some(0x1_0000_0000));
        assert_eq!(format!("{}version=100000000", render(&s)), THREE);
        // Classic lines (no client part) stay without one.
        let classic = "server.1=127.0.0.1:2881:3881:participant\nserver.2=127.0.0.1:2882:3882:participant\n";
        assert_eq!(render(&parse_config(classic.as_bytes()).unwrap().0), classic);
        assert_eq!(parse_config(b"").unwrap(), (Servers::new(), None));
        assert!(parse_config(b"server.x=1.2.3.4:1:2\n").is_err());
        assert!(parse_config(b"version=zz").is_err());
    }

    #[test]
    fn incremental_and_new_membership_plans() {
        let cur = servers(THREE);
        let out = plan(&cur, None, Some("3"), None).unwrap();
        assert_eq!(out.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
        let out = plan(&cur, Some("server.4=127.0.0.1:2884:3884:observer;2184"), Some(" 1 "), None).unwrap();
        assert_eq!(out.keys().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert!(out[&4].observer);
        let out = plan(&cur, None, None, Some("server.7=127.0.0.1:2887:3887;2187")).unwrap();
        assert_eq!(out.keys().copied().collect::<Vec<_>>(), vec![7]);
        // A member's role can change in place.
        let out = plan(&cur, Some("server.3=127.0.0.1:2883:3883:observer;2183"), None, None).unwrap();
        assert!(out[&3].observer && out.len() == 3);
    }

    #[test]
    fn bad_reconfigs_are_refused_with_a_reason() {
        let cur = servers(THREE);
        for (joining, leaving, new_members, why) in [
            (None, None, None, "nothing to change"),
            (Some("server.9=bogus"), None, None, "server.9"),
            (Some("4=127.0.0.1:1:2"), None, None, "server.N"),
            (None, Some("x"), None, "not a server id"),
            (None, Some("9"), None, "not a member"),
            (None, Some("1,2,3"), None, "no participant"),
            (Some("server.4=127.0.0.1:1:2"), None, Some("server.4=127.0.0.1:1:2"), "either incremental"),
            (None, None, Some("server.4=127.0.0.1:1:2:observer"), "no participant"),
            (None, None, Some("server.4=127.0.0.1:1:2,server.4=127.0.0.1:3:4"), "twice"),
            (Some("server.4=127.0.0.1:2884:3884"), None, None, "client ports"),
            (Some("server.4=127.0.0.1:2884;2184"), None, None, "client ports"),
        ] {
            let err = plan(&cur, joining, leaving, new_members).unwrap_err();
            assert!(err.contains(why), "{joining:?} {leaving:?} {new_members:?}: {err}");
        }
    }
}
