//! Histories recorded outside the simulation — real clients against real
//! processes — checked by the same linearizability checker.
//!
//! The input is JSON Lines, one op per line:
//!
//! ```text
//! {"client": 1, "op": "set", "key": "k0", "value": "v17", "expected": -1,
//!  "invoke": 1200, "complete": 1350, "outcome": "ok", "result": "ok", "version": 3}
//! ```
//!
//! - `op`: `create`, `set`, `delete` or `read` (a linearizable read: sync, then getData);
//! - `value`: the data written by `create` and `set`; `expected`: the expected
//!   version of `set` and `delete` (`-1`, the default, = any);
//! - `invoke`, `complete`: times from one monotonic clock; `complete` is `null`
//!   for an op never answered;
//! - `outcome`: `ok` (answered), `fail` (certainly not applied) or `unknown`
//!   (may or may not have been applied: lost connection, timeout);
//! - with `outcome: ok`, a write's `result` is `ok`, `exists`, `no_node` or
//!   `bad_version`, and `version` the node's version after a create or set; a
//!   read's `data` is the node's data (`null`: no such node) and `version` its version.
//!
//! Writes should carry unique values, so the checker can tell them apart.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::check::linear::{self, LinKind, LinOp, LinResult, Verdict};
use crate::check::LIN_BUDGET;
use crate::history::{KWrite, WriteRes};

/// One line of an external history.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    /// Who issued the op; for the reader of the file only.
    #[serde(default, rename = "client")]
    _client: Option<u64>,
    op: String,
    key: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default = "any_version")]
    expected: i32,
    invoke: u64,
    complete: Option<u64>,
    outcome: String,
    #[serde(default)]
    result: Option<String>,
    #[serde(default)]
    version: Option<i32>,
    #[serde(default)]
    data: Option<String>,
    /// Why an op failed; for the reader of the file only.
    #[serde(default, rename = "error")]
    _error: Option<String>,
}

fn any_version() -> i32 {
    -1
}

/// What checking an external history found.
#[derive(Debug, Default)]
pub struct ExternalReport {
    /// Lines read.
    pub lines: usize,
    /// Ops given to the checker (answered, or writes of unknown outcome).
    pub ops_checked: usize,
    /// Ops of each outcome: ok, fail, unknown.
    pub outcomes: [usize; 3],
    /// Keys seen.
    pub keys: usize,
    /// Keys whose search ran out of budget.
    pub inconclusive: usize,
    /// Keys that are not linearizable, and why.
    pub violations: Vec<String>,
}

/// A parsed history.
pub struct Parsed {
    /// Each key's register ops, as the checker takes them.
    pub keys: BTreeMap<String, Vec<LinOp>>,
    /// Ops of each outcome: ok, fail, unknown.
    pub outcomes: [usize; 3],
    /// Lines read.
    pub lines: usize,
}

/// Parses a JSON Lines history into each key's register ops.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let mut keys: BTreeMap<String, Vec<LinOp>> = BTreeMap::new();
    let mut outcomes = [0usize; 3];
    let mut lines = 0;
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        lines += 1;
        let at = n + 1;
        let line: Line = serde_json::from_str(raw).map_err(|e| format!("line {at}: {e}"))?;
        if let Some(done) = line.complete {
            if done < line.invoke {
                return Err(format!("line {at}: completes ({done}) before it is invoked ({})", line.invoke));
            }
        }
        let value = |what: &str| line.value.clone().ok_or_else(|| format!("line {at}: {what} needs \"value\""));
        let kind = match line.op.as_str() {
            "create" => LinKind::Write(KWrite::Create { value: value("create")? }),
            "set" => LinKind::Write(KWrite::Set { value: value("set")?, expected: line.expected }),
            "delete" => LinKind::Write(KWrite::Delete { expected: line.expected }),
            "read" => LinKind::Read,
            other => return Err(format!("line {at}: unknown op {other:?} (create, set, delete, read)")),
        };
        let (ret, result) = match line.outcome.as_str() {
            "ok" => {
                outcomes[0] += 1;
                let Some(done) = line.complete else {
                    return Err(format!("line {at}: an ok op needs \"complete\""));
                };
                (Some(done), Some(answer(&line, &kind).map_err(|e| format!("line {at}: {e}"))?))
            }
            "fail" => {
                outcomes[1] += 1;
                continue;
            }
            "unknown" => {
                outcomes[2] += 1;
                match kind {
                    // A read that was not answered told nothing.
                    LinKind::Read => continue,
                    LinKind::Write(_) => (None, None),
                }
            }
            other => return Err(format!("line {at}: unknown outcome {other:?} (ok, fail, unknown)")),
        };
        keys.entry(line.key.clone()).or_default().push(LinOp { id: n, call: line.invoke, ret, kind, result });
    }
    Ok(Parsed { keys, outcomes, lines })
}

/// The answer of an ok op, as the checker compares it.
fn answer(line: &Line, kind: &LinKind) -> Result<LinResult, String> {
    let version = || line.version.ok_or("an ok create, set or read needs \"version\"");
    Ok(match kind {
        LinKind::Read => LinResult::Read(match &line.data {
            None => None,
            Some(d) => Some((d.clone(), version()?)),
        }),
        LinKind::Write(w) => LinResult::Write(match line.result.as_deref() {
            Some("ok") => match w {
                KWrite::Delete { .. } => WriteRes::Ok { version: -1 },
                _ => WriteRes::Ok { version: version()? },
            },
            Some("exists") => WriteRes::Exists,
            Some("no_node") => WriteRes::NoNode,
            Some("bad_version") => WriteRes::BadVersion,
            Some(other) => WriteRes::Other(other.to_string()),
            None => return Err("an ok write needs \"result\"".into()),
        }),
    })
}

/// Checks every key of a JSON Lines history for linearizability.
pub fn check(text: &str) -> Result<ExternalReport, String> {
    let Parsed { keys, outcomes, lines } = parse(text)?;
    let mut report = ExternalReport { lines, outcomes, keys: keys.len(), ..ExternalReport::default() };
    for (key, ops) in keys {
        report.ops_checked += ops.len();
        match linear::check(&ops, LIN_BUDGET) {
            Verdict::Linearizable => {}
            Verdict::Inconclusive => report.inconclusive += 1,
            Verdict::Violation(why) => report.violations.push(format!("key {key} not linearizable: {why}")),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(op: &str, extra: &str, invoke: u64, complete: Option<u64>) -> String {
        let complete = complete.map_or("null".to_string(), |c| c.to_string());
        format!(r#"{{"client": 1, "op": "{op}", "key": "k0", "invoke": {invoke}, "complete": {complete}, {extra}}}"#)
    }

    #[test]
    fn a_read_after_an_acknowledged_write_sees_it() {
        let good = [
            line("create", r#""value": "a", "outcome": "ok", "result": "ok", "version": 0"#, 1, Some(2)),
            line("set", r#""value": "b", "outcome": "ok", "result": "ok", "version": 1"#, 3, Some(4)),
            line("read", r#""outcome": "ok", "data": "b", "version": 1"#, 5, Some(6)),
        ]
        .join("\n");
        let r = check(&good).expect("valid input");
        assert!(r.violations.is_empty(), "{:?}", r.violations);
        assert_eq!((r.lines, r.ops_checked, r.keys, r.outcomes), (3, 3, 1, [3, 0, 0]));
    }

    #[test]
    fn a_stale_read_is_a_violation() {
        let stale = [
            line("create", r#""value": "a", "outcome": "ok", "result": "ok", "version": 0"#, 1, Some(2)),
            line("set", r#""value": "b", "outcome": "ok", "result": "ok", "version": 1"#, 3, Some(4)),
            line("read", r#""outcome": "ok", "data": "a", "version": 0"#, 5, Some(6)),
        ]
        .join("\n");
        let r = check(&stale).expect("valid input");
        assert_eq!(r.violations.len(), 1, "{r:?}");
    }

    #[test]
    fn a_write_of_unknown_outcome_may_or_may_not_have_happened() {
        let maybe = |seen: &str| {
            [
                line("create", r#""value": "a", "outcome": "ok", "result": "ok", "version": 0"#, 1, Some(2)),
                line("set", r#""value": "b", "outcome": "unknown", "error": "ConnectionLoss""#, 3, None),
                line(
                    "read",
                    &format!(r#""outcome": "ok", "data": "{seen}", "version": {}"#, (seen == "b") as i32),
                    5,
                    Some(6),
                ),
                line("set", r#""value": "c", "outcome": "fail", "error": "SessionMoved""#, 7, Some(8)),
            ]
            .join("\n")
        };
        for seen in ["a", "b"] {
            let r = check(&maybe(seen)).expect("valid input");
            assert!(r.violations.is_empty(), "read {seen}: {:?}", r.violations);
            assert_eq!(r.outcomes, [2, 1, 1]);
        }
    }

    #[test]
    fn bad_input_names_the_line() {
        for (input, says) in [
            (
                r#"{"op": "set", "key": "k0", "invoke": 1, "complete": 2, "outcome": "ok", "result": "ok", "version": 1}"#,
                "line 1: set needs \"value\"",
            ),
            (r#"{"op": "append", "key": "k0", "invoke": 1, "complete": 2, "outcome": "ok"}"#, "unknown op \"append\""),
            (r#"{"op": "read", "key": "k0", "invoke": 3, "complete": 2, "outcome": "ok"}"#, "completes (2) before"),
            (r#"{"op": "read", "key": "k0", "invoke": 1, "complete": null, "outcome": "ok"}"#, "needs \"complete\""),
            (r#"{"op": "read", "key": "k0", "invoke": 1, "complete": 2, "outcome": "maybe"}"#, "unknown outcome"),
            (
                r#"{"op": "read", "key": "k0", "invoke": 1, "complete": 2, "outcome": "ok", "data": "x"}"#,
                "needs \"version\"",
            ),
            (
                r#"{"op": "read", "key": "k0", "invoke": 1, "complete": 2, "outcome": "ok", "colour": 1}"#,
                "unknown field",
            ),
            ("\n\nnot json", "line 3:"),
        ] {
            let err = check(input).expect_err(input);
            assert!(err.contains(says), "{input}: {err}");
        }
    }
}
