//! Small shared types of the simulation.

/// A member id (ZooKeeper's `myid`).
pub type NodeId = u64;

/// FNV-1a over bytes: a hash that is the same on every run and platform.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Feeds more bytes into an FNV-1a state.
pub fn fnv_more(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
