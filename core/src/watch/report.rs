//! Admin views of the registry for the `wchs`, `wchc` and `wchp` commands.
//!
//! Like ZooKeeper, these show its *data table* only: one-shot data/exist,
//! persistent and persistent-recursive watches. A connection that only holds
//! getChildren watches is counted by [`WatchRegistry::watch_count`] (`mntr`)
//! but listed nowhere here, exactly as ZooKeeper does. Listings are sorted so
//! output is stable; ZooKeeper's order is hash order.

use std::fmt::{self, Write as _};

use super::{ConnId, WatchRegistry};

/// The counts `wchs` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchSummary {
    /// Connections holding at least one data-table watch.
    pub connections: usize,
    /// Paths with at least one data-table watch.
    pub paths: usize,
    /// (connection, path) pairs in the data table.
    pub watches: usize,
}

impl fmt::Display for WatchSummary {
    /// The whole `wchs` answer: `<n> connections watching <m> paths\nTotal watches:<k>\n`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} connections watching {} paths\nTotal watches:{}\n", self.connections, self.paths, self.watches)
    }
}

impl WatchRegistry {
    /// Counts for `wchs` (data table only, as ZooKeeper).
    pub fn summary(&self) -> WatchSummary {
        let connections = self
            .by_conn
            .iter()
            .filter(|(&conn, entry)| entry.paths.iter().any(|path| self.modes(conn, path).in_data_table()))
            .count();
        let paths =
            self.by_path.values().filter(|entry| entry.conns.values().any(|modes| modes.in_data_table())).count();
        WatchSummary { connections, paths, watches: self.data_table_count() }
    }

    /// Each connection with its data-table paths, both sorted: the content of `wchc`.
    pub fn paths_by_connection(&self) -> Vec<(ConnId, Vec<String>)> {
        let mut out: Vec<(ConnId, Vec<String>)> =
            self.paths_by_connection_iter().filter(|(_, paths)| !paths.is_empty()).collect();
        out.sort_unstable_by_key(|(conn, _)| *conn);
        out
    }

    /// Each data-table path with its connections, both sorted: the content of `wchp`.
    pub fn connections_by_path(&self) -> Vec<(String, Vec<ConnId>)> {
        let mut out: Vec<(String, Vec<ConnId>)> = self
            .by_path
            .iter()
            .filter_map(|(path, entry)| {
                let mut conns: Vec<ConnId> =
                    entry.conns.iter().filter(|(_, modes)| modes.in_data_table()).map(|(&conn, _)| conn).collect();
                if conns.is_empty() {
                    return None;
                }
                conns.sort_unstable();
                Some((path.to_string(), conns))
            })
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The whole `wchc` answer: per session a `0x<sid>` line, then one
    /// `\t<path>` line per watched path, then a final empty line.
    ///
    /// `session_of` maps a connection to its session id; connections it does
    /// not know (closing) are left out.
    pub fn render_wchc(&self, session_of: impl Fn(ConnId) -> Option<i64>) -> String {
        let mut out = String::new();
        for (conn, paths) in self.paths_by_connection() {
            let Some(session_id) = session_of(conn) else {
                continue;
            };
            push_session_id(&mut out, session_id);
            out.push('\n');
            for path in paths {
                out.push('\t');
                out.push_str(&path);
                out.push('\n');
            }
        }
        out.push('\n');
        out
    }

    /// The whole `wchp` answer: per path a `<path>` line, then one `\t0x<sid>`
    /// line per watching session, then a final empty line.
    ///
    /// `session_of` as for [`WatchRegistry::render_wchc`].
    pub fn render_wchp(&self, session_of: impl Fn(ConnId) -> Option<i64>) -> String {
        let mut out = String::new();
        for (path, conns) in self.connections_by_path() {
            out.push_str(&path);
            out.push('\n');
            for session_id in conns.into_iter().filter_map(&session_of) {
                out.push('\t');
                push_session_id(&mut out, session_id);
                out.push('\n');
            }
        }
        out.push('\n');
        out
    }

    /// Connections with their (unsorted) data-table paths.
    fn paths_by_connection_iter(&self) -> impl Iterator<Item = (ConnId, Vec<String>)> + '_ {
        self.by_conn.iter().map(move |(&conn, entry)| {
            let mut paths: Vec<String> = entry
                .paths
                .iter()
                .filter(|path| self.modes(conn, path).in_data_table())
                .map(|path| path.to_string())
                .collect();
            paths.sort_unstable();
            (conn, paths)
        })
    }
}

/// `0x` and the id in lower-case hex without padding, as Java's `Long.toHexString`
/// (a negative id prints as its two's complement).
fn push_session_id(out: &mut String, session_id: i64) {
    // Writing to a String cannot fail.
    let _ = write!(out, "0x{:x}", session_id as u64);
}
