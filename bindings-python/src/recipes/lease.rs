//! kazoo's leases: core's `lease::NonBlockingLease` and `MultiNonBlockingLease`.

use std::time::{Duration, UNIX_EPOCH};

use corral::recipes::lease::{MultiNonBlockingLease, NonBlockingLease};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::core_client;
use crate::client::seconds;
use crate::runtime::block_on;

/// Tries to obtain (or renew) a lease on `path` for `duration` seconds as
/// `identifier`, as of `now` (seconds since the epoch, UTC); with `count`,
/// one of the `count` leases `path/0` .. `path/<count-1>`. True when obtained.
#[pyfunction]
#[pyo3(signature = (client, path, duration, identifier, now, count=None))]
pub fn obtain_lease(
    py: Python<'_>,
    client: &Bound<'_, PyAny>,
    path: &str,
    duration: f64,
    identifier: &str,
    now: f64,
    count: Option<usize>,
) -> PyResult<bool> {
    let client = core_client(client)?;
    let duration = seconds(duration)?;
    let now = Duration::try_from_secs_f64(now)
        .map(|d| UNIX_EPOCH + d)
        .map_err(|_| PyValueError::new_err(format!("not a time after the epoch: {now}")))?;
    match count {
        None => {
            let lease = NonBlockingLease::new(&client, path, duration, identifier);
            block_on(py, async move { lease.obtain(now).await })
        }
        Some(count) => {
            let leases = MultiNonBlockingLease::new(&client, count, path, duration, identifier);
            block_on(py, async move { leases.obtain(now).await })
        }
    }
}
