//! Server-wide counters shown by `srvr`, `stat` and `mntr`, and the per
//! connection counters shown by `cons`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Request latency and packet counters (reset by `srst`).
#[derive(Default)]
pub struct ServerStats {
    /// Packets received from clients.
    pub received: AtomicU64,
    /// Packets sent to clients.
    pub sent: AtomicU64,
    /// Requests being processed right now.
    pub outstanding: AtomicU64,
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
    latency_min_us: AtomicU64,
    latency_max_us: AtomicU64,
    /// `sync` requests waiting for the leader's commit point.
    pub pending_syncs: AtomicU64,
}

impl ServerStats {
    /// Records one request's latency.
    pub fn record_latency(&self, us: u64) {
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_us.fetch_add(us, Relaxed);
        self.latency_max_us.fetch_max(us, Relaxed);
        let us = us.max(1);
        let _ = self.latency_min_us.fetch_update(Relaxed, Relaxed, |m| (m == 0 || us < m).then_some(us));
    }

    /// Latency min/avg/max in ms, as ZooKeeper prints it.
    pub fn latency_ms(&self) -> (f64, f64, f64) {
        let n = self.latency_count.load(Relaxed);
        if n == 0 {
            return (0.0, 0.0, 0.0);
        }
        let sum = self.latency_sum_us.load(Relaxed) as f64;
        (
            self.latency_min_us.load(Relaxed) as f64 / 1000.0,
            sum / n as f64 / 1000.0,
            self.latency_max_us.load(Relaxed) as f64 / 1000.0,
        )
    }

    /// Clears every counter (`srst`).
    pub fn reset(&self) {
        for c in [
            &self.received,
            &self.sent,
            &self.latency_count,
            &self.latency_sum_us,
            &self.latency_min_us,
            &self.latency_max_us,
        ] {
            c.store(0, Relaxed);
        }
    }
}

/// Counters of one connection (reset by `crst`).
#[derive(Default)]
pub struct ConnStats {
    /// Packets received.
    pub received: AtomicU64,
    /// Packets sent.
    pub sent: AtomicU64,
    /// Last client xid.
    pub last_cxid: AtomicU64,
    /// Last zxid sent.
    pub last_zxid: AtomicU64,
    /// Last response time, ms since the epoch.
    pub last_response_ms: AtomicU64,
    /// Last request latency in ms.
    pub last_latency_ms: AtomicU64,
    /// Number of timed requests.
    pub count: AtomicU64,
    /// Sum of latencies in ms.
    pub latency_sum_ms: AtomicU64,
    /// Max latency in ms.
    pub latency_max_ms: AtomicU64,
    /// Last op short name index into OpCode (as i32 wire number).
    pub last_op: std::sync::atomic::AtomicI32,
}

impl ConnStats {
    /// Clears the counters (`crst`).
    pub fn reset(&self) {
        for c in
            [&self.received, &self.sent, &self.count, &self.latency_sum_ms, &self.latency_max_ms, &self.last_latency_ms]
        {
            c.store(0, Relaxed);
        }
    }
}
