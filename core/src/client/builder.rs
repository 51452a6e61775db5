//! Connect strings and the client builder (in the style of Curator's
//! `CuratorFrameworkFactory.builder()`).

use std::time::Duration;

use super::error::{Error, Result};
use super::Client;
use crate::proto::Code;

/// `host:port,host:port/chroot`, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectString {
    /// `host:port` pairs, resolved again on every connect attempt.
    pub hosts: Vec<String>,
    /// Client-side root, e.g. `/app`; `None` for `/`.
    pub chroot: Option<String>,
}

impl ConnectString {
    /// Parses a ZooKeeper connect string; a host without a port gets 2181.
    pub fn parse(s: &str) -> Result<ConnectString> {
        let (hosts, chroot) = match s.find('/') {
            Some(i) => (&s[..i], Some(&s[i..])),
            None => (s, None),
        };
        let hosts: Vec<String> = hosts
            .split(',')
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(|h| {
                let port = if h.starts_with('[') {
                    h.split_once("]:").map(|(_, p)| p)
                } else {
                    h.rsplit_once(':').map(|(_, p)| p)
                };
                match port {
                    None => Ok(format!("{h}:2181")),
                    // A port that is not a port is refused here, not found
                    // unreachable at every connect attempt.
                    Some(p) if p.parse::<u16>().is_ok_and(|p| p > 0) => Ok(h.to_string()),
                    Some(_) => Err(Error::at(Code::BadArguments, h)),
                }
            })
            .collect::<Result<_>>()?;
        if hosts.is_empty() {
            return Err(Error::new(Code::BadArguments));
        }
        let chroot = match chroot {
            None | Some("/") => None,
            Some(c) => {
                if c.ends_with('/') || c.contains("//") {
                    return Err(Error::at(Code::BadArguments, c));
                }
                Some(c.to_string())
            }
        };
        Ok(ConnectString { hosts, chroot })
    }
}

/// Options of a [`Client`]; build one with [`Client::builder`].
#[derive(Clone, Debug)]
pub struct ClientBuilder {
    pub(crate) connect_string: String,
    pub(crate) session_timeout: Duration,
    pub(crate) connection_timeout: Option<Duration>,
    pub(crate) auth: Vec<(String, Vec<u8>)>,
    pub(crate) backoff_max: Duration,
    pub(crate) read_only: bool,
    pub(crate) resume: Option<(i64, [u8; 16])>,
    pub(crate) randomize_hosts: bool,
}

impl ClientBuilder {
    pub(crate) fn new(connect_string: &str) -> ClientBuilder {
        ClientBuilder {
            connect_string: connect_string.to_string(),
            session_timeout: Duration::from_secs(10),
            connection_timeout: None,
            auth: Vec::new(),
            backoff_max: Duration::from_secs(1),
            read_only: false,
            resume: None,
            randomize_hosts: true,
        }
    }

    /// Requested session timeout (the server clamps it); default 10 s.
    pub fn session_timeout(mut self, t: Duration) -> Self {
        self.session_timeout = t;
        self
    }

    /// How long the first connection may take before `connect` gives up;
    /// default: the session timeout.
    pub fn connection_timeout(mut self, t: Duration) -> Self {
        self.connection_timeout = Some(t);
        self
    }

    /// Authenticates every connection with `scheme` (e.g. `digest`, `user:password`).
    pub fn auth(mut self, scheme: &str, auth: &[u8]) -> Self {
        self.auth.push((scheme.to_string(), auth.to_vec()));
        self
    }

    /// Longest pause between reconnect attempts (jittered exponential backoff); default 1 s.
    pub fn backoff_max(mut self, t: Duration) -> Self {
        self.backoff_max = t;
        self
    }

    /// Accept read-only servers (ZooKeeper's `canBeReadOnly`).
    pub fn read_only(mut self, yes: bool) -> Self {
        self.read_only = yes;
        self
    }

    /// Resumes the session `id` with its `password` (from
    /// [`Client::session_id`] and [`Client::session_password`] of another
    /// client, possibly in another process) instead of starting a new one,
    /// as ZooKeeper's clients do with a client id. If the server says that
    /// session has expired, `connect` fails with `SessionExpired`.
    pub fn session(mut self, id: i64, password: [u8; 16]) -> Self {
        self.resume = Some((id, password));
        self
    }

    /// Whether the servers are tried in a random order (the default, as
    /// every ZooKeeper client does, so clients spread over the ensemble) or
    /// in the order given (kazoo's `randomize_hosts=False`). Reconnects go
    /// on from the server after the last one tried, in the same order.
    pub fn randomize_hosts(mut self, yes: bool) -> Self {
        self.randomize_hosts = yes;
        self
    }

    /// Connects and waits until a session is established.
    pub async fn connect(self) -> Result<Client> {
        Client::start(self).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_strings() {
        let c = ConnectString::parse("a:1,b,127.0.0.1:3/app/x").unwrap();
        assert_eq!(c.hosts, vec!["a:1", "b:2181", "127.0.0.1:3"]);
        assert_eq!(c.chroot.as_deref(), Some("/app/x"));
        assert_eq!(ConnectString::parse("h:1/").unwrap().chroot, None);
        assert!(ConnectString::parse("").is_err());
        assert!(ConnectString::parse("h:1/app/").is_err());
        assert_eq!(ConnectString::parse("[::1]:2182").unwrap().hosts, vec!["[::1]:2182"]);
        for bad in ["h:notaport", "h:0", "h:65536", "[::1]:x", "a:1,b:"] {
            assert_eq!(ConnectString::parse(bad).unwrap_err().code, Code::BadArguments, "{bad}");
        }
    }
}
