//! What several recipes share: sequence numbers of sequential nodes, UUID
//! prefixes for protected creates (Curator's `_c_<uuid>-`), and retrying an
//! operation whose outcome a lost connection left unknown.

use std::future::Future;
use std::time::Duration;

use crate::client::{Client, CreateOptions, Error, Result, State};
use crate::proto::{Code, CreateMode};

/// The 10-digit sequence suffix of a sequential node's name (ZooKeeper's
/// `%010d`; negative after the counter wraps).
pub fn sequence_of(name: &str) -> Option<i64> {
    if name.len() < 10 {
        return None;
    }
    name.get(name.len() - 10..)?.parse::<i64>().ok()
}

/// Sorts sequential node names by their suffix (names without one last).
pub fn sort_by_sequence(names: &mut [String]) {
    names.sort_by_key(|n| (sequence_of(n).is_none(), sequence_of(n).unwrap_or(i64::MAX), n.clone()));
}

/// A random version-4 UUID in its usual text form.
pub fn uuid() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-4{}-{:x}{}-{}", &h[0..8], &h[8..12], &h[13..16], (b[8] & 0x3) | 0x8, &h[17..20], &h[20..32])
}

/// Curator's protected-name prefix: `_c_<uuid>-`.
pub fn protected_prefix(uuid: &str) -> String {
    format!("_c_{uuid}-")
}

/// Creates `parent/<name_prefix><seq>` ephemeral-sequentially (or in `mode`),
/// guarding against a lost reply: after a ConnectionLoss it looks for a child
/// carrying `marker` (a UUID in the name) before trying again, so a retry
/// never leaves an orphan contender behind.
pub async fn protected_create(
    client: &Client,
    parent: &str,
    name_prefix: &str,
    marker: &str,
    data: &[u8],
    mode: CreateMode,
) -> Result<String> {
    let path = format!("{parent}/{name_prefix}");
    loop {
        match client.create(&path, data, &CreateOptions::mode(mode)).await {
            Ok(p) => return Ok(p),
            Err(e) if e.code == Code::NoNode => {
                client.ensure_path(parent).await?;
            }
            Err(e) if e.is_retryable() => {
                wait_connected(client, Duration::from_secs(60)).await?;
                if let Some(found) = find_marked(client, parent, marker).await? {
                    return Ok(found);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// The child of `parent` whose name contains `marker`, as a full path.
pub async fn find_marked(client: &Client, parent: &str, marker: &str) -> Result<Option<String>> {
    let children = retry(client, || client.get_children(parent)).await?;
    Ok(children.into_iter().find(|c| c.contains(marker)).map(|c| format!("{parent}/{c}")))
}

/// Waits until the client is connected (or fails: session lost, closed, timeout).
pub async fn wait_connected(client: &Client, timeout: Duration) -> Result<()> {
    let mut changes = client.state_changes();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match client.state() {
            State::Connected | State::Reconnected | State::ReadOnly => return Ok(()),
            State::Closed => return Err(Error::new(Code::ConnectionLoss)),
            State::Lost | State::Suspended => {}
        }
        match tokio::time::timeout_at(deadline, changes.recv()).await {
            Ok(_) => continue,
            Err(_) => return Err(Error::new(Code::OperationTimeout)),
        }
    }
}

/// Creates `path` holding `data`, and its missing parents, unless it exists:
/// an existing node (another creator's, or this one's from a retried create
/// whose reply was lost) is not an error.
pub async fn create_if_missing(client: &Client, path: &str, data: &[u8], opts: &CreateOptions) -> Result<()> {
    loop {
        match retry(client, || client.create(path, data, opts)).await {
            Ok(_) => return Ok(()),
            Err(e) if e.code == Code::NodeExists => return Ok(()),
            Err(e) if e.code == Code::NoNode => {
                retry(client, || client.ensure_path(super::barrier::parent_of(path))).await?
            }
            Err(e) => return Err(e),
        }
    }
}

/// Runs `op` until it succeeds or fails with something other than a lost
/// connection; between tries it waits for the client to reconnect.
pub async fn retry<T, F, Fut>(client: &Client, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    loop {
        match op().await {
            Err(e) if e.is_retryable() => wait_connected(client, Duration::from_secs(60)).await?,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_and_names() {
        assert_eq!(sequence_of("_c_x-lock-0000000042"), Some(42));
        assert_eq!(sequence_of("abc__lock__0000000007"), Some(7));
        assert_eq!(sequence_of("short"), None);
        let mut v =
            vec!["b-0000000002".to_string(), "x".to_string(), "a-0000000010".to_string(), "c-0000000001".to_string()];
        sort_by_sequence(&mut v);
        assert_eq!(v, ["c-0000000001", "b-0000000002", "a-0000000010", "x"]);
        let u = uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes()[14], b'4');
        assert_ne!(u, uuid());
    }
}
