//! kazoo's non-blocking leases: [`NonBlockingLease`] (one holder of a path
//! for a while) and [`MultiNonBlockingLease`] (one of `count` such leases).
//!
//! A lease is a node `<path>/lease_holder` holding JSON
//! `{"version": 1, "holder": <identifier>, "end": "YYYY-MM-DDTHH:MM:SS"}`
//! (the end in UTC, whole seconds), written under kazoo's `Lock` at `<path>`,
//! so corral and kazoo processes share leases. Obtaining never waits for
//! the lease: it is obtained when it is free, expired, or already this
//! identifier's (a renewal), and otherwise not. The times are the clients'
//! clocks, which must roughly agree, as in kazoo.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::lock::Lock;
use crate::client::{Client, CreateOptions, Error, Result};
use crate::proto::Code;

/// The lease format version this code reads and writes.
pub const LEASE_VERSION: i64 = 1;
/// The node under the lease path that records the holder.
pub const HOLDER_NODE: &str = "lease_holder";

#[derive(Serialize, Deserialize)]
struct Holder {
    version: i64,
    holder: String,
    end: String,
}

/// An exclusive lease on a path for a duration, taken without waiting.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::{Duration, SystemTime};
/// use corral::client::Client;
/// use corral::recipes::lease::NonBlockingLease;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let lease = NonBlockingLease::new(&client, "/leases/cleanup", Duration::from_secs(3600), "host-a");
/// let now = SystemTime::now();
/// assert!(lease.obtain(now).await?);
/// let other = NonBlockingLease::new(&client, "/leases/cleanup", Duration::from_secs(3600), "host-b");
/// assert!(!other.obtain(now).await?);     // held by host-a for an hour
/// assert!(lease.obtain(now).await?);      // host-a renews it
/// # Ok(())
/// # }
/// ```
pub struct NonBlockingLease {
    client: Client,
    path: String,
    duration: Duration,
    identifier: String,
}

impl NonBlockingLease {
    /// A lease on `path` for `duration`, held as `identifier` (reuse it to renew).
    pub fn new(client: &Client, path: &str, duration: Duration, identifier: &str) -> NonBlockingLease {
        NonBlockingLease {
            client: client.clone(),
            path: path.to_string(),
            duration,
            identifier: identifier.to_string(),
        }
    }

    /// Tries to obtain (or renew) the lease as of `now`: true when this
    /// identifier now holds it until `now + duration`, false when another
    /// holder's lease has not ended, or the recorded lease has a format
    /// version this code does not know (left alone, as kazoo does).
    pub async fn obtain(&self, now: std::time::SystemTime) -> Result<bool> {
        let now_s = now.duration_since(std::time::UNIX_EPOCH).map_err(|_| Error::new(Code::BadArguments))?.as_secs();
        self.client.ensure_path(&self.path).await?;
        let holder_path = format!("{}/{HOLDER_NODE}", self.path);
        let mut lock = Lock::kazoo(&self.client, &self.path, &self.identifier);
        lock.acquire().await?;
        let outcome = self.obtain_locked(&holder_path, now_s as i64).await;
        let released = lock.release().await;
        let obtained = outcome?;
        released?;
        Ok(obtained)
    }

    async fn obtain_locked(&self, holder_path: &str, now_s: i64) -> Result<bool> {
        match self.client.get_data(holder_path).await {
            Ok((raw, stat)) => {
                let Ok(current) = serde_json::from_slice::<Holder>(&raw) else {
                    return Err(Error::at(Code::MarshallingError, holder_path));
                };
                if current.version != LEASE_VERSION {
                    return Ok(false);
                }
                let end = parse_utc(&current.end).ok_or_else(|| Error::at(Code::MarshallingError, holder_path))?;
                if current.holder != self.identifier && now_s < end {
                    return Ok(false);
                }
                self.client.delete(holder_path, Some(stat.version)).await?;
            }
            Err(e) if e.code == Code::NoNode => {}
            Err(e) => return Err(e),
        }
        let end = now_s.saturating_add(self.duration.as_secs() as i64);
        let record = Holder { version: LEASE_VERSION, holder: self.identifier.clone(), end: format_utc(end) };
        let data = serde_json::to_vec(&record).map_err(|_| Error::new(Code::MarshallingError))?;
        self.client.create(holder_path, &data, &CreateOptions::default()).await?;
        Ok(true)
    }
}

/// One of `count` leases under a path (`<path>/0` .. `<path>/<count-1>`),
/// for tasks that a limited number of hosts should run.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::{Duration, SystemTime};
/// use corral::client::Client;
/// use corral::recipes::lease::MultiNonBlockingLease;
///
/// let server = corral::EmbeddedServer::start().await?;
/// let client = Client::connect(&server.hosts()).await?;
/// let day = Duration::from_secs(86_400);
/// let now = SystemTime::now();
/// assert!(MultiNonBlockingLease::new(&client, 2, "/leases/report", day, "a").obtain(now).await?);
/// assert!(MultiNonBlockingLease::new(&client, 2, "/leases/report", day, "b").obtain(now).await?);
/// assert!(!MultiNonBlockingLease::new(&client, 2, "/leases/report", day, "c").obtain(now).await?);
/// # Ok(())
/// # }
/// ```
pub struct MultiNonBlockingLease {
    leases: Vec<NonBlockingLease>,
}

impl MultiNonBlockingLease {
    /// `count` leases under `path` for `duration`, held as `identifier`.
    pub fn new(client: &Client, count: usize, path: &str, duration: Duration, identifier: &str) -> Self {
        let leases =
            (0..count).map(|i| NonBlockingLease::new(client, &format!("{path}/{i}"), duration, identifier)).collect();
        MultiNonBlockingLease { leases }
    }

    /// Tries the leases in order and stops at the first obtained: true when
    /// one was (a renewal of this identifier's own counts).
    pub async fn obtain(&self, now: std::time::SystemTime) -> Result<bool> {
        for lease in &self.leases {
            if lease.obtain(now).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SS` (UTC).
fn format_utc(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `YYYY-MM-DDTHH:MM:SS` (UTC) as seconds since the epoch.
fn parse_utc(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_text_round_trips() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00");
        assert_eq!(format_utc(1_796_601_599), "2026-12-06T23:59:59");
        for secs in [0, 59, 86_399, 951_782_400, 1_796_601_599, 4_102_444_800] {
            assert_eq!(parse_utc(&format_utc(secs)), Some(secs));
        }
        for bad in ["", "2026-13-01T00:00:00", "2026-12-01 00:00:00", "2026-12-01T24:00:00", "2026-12-01T00:00"] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }
}
