//! Durable files: write-ahead log segments and snapshots.
