//! The watch registry: one-shot, persistent and persistent-recursive watches.
