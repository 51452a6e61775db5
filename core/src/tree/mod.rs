//! The data tree: znodes, Stat, paths, ACLs, ephemerals, sequence, container, TTL.
