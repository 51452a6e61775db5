//! The benchmark's results as a text table or as JSON.

use std::fmt::Write as _;

/// Which direction of a metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    /// Times, memory, disk: the ratio is ZooKeeper / corral.
    Lower,
    /// Throughput: the ratio is corral / ZooKeeper.
    Higher,
}

/// One row: a measured quantity for both servers.
#[derive(Clone, Debug)]
pub struct Metric {
    /// What was measured.
    pub name: String,
    /// The unit of both values.
    pub unit: &'static str,
    /// Which direction is better.
    pub better: Better,
    /// Decimals shown in the table.
    pub decimals: usize,
    /// corral's value (NaN when the measurement failed; the notes say why).
    pub corral: f64,
    /// ZooKeeper's value (`None` with `--no-zookeeper`, NaN when it failed).
    pub zookeeper: Option<f64>,
}

impl Metric {
    /// A row.
    pub fn new(
        name: &str,
        unit: &'static str,
        better: Better,
        decimals: usize,
        corral: f64,
        zookeeper: Option<f64>,
    ) -> Metric {
        Metric { name: name.to_owned(), unit, better, decimals, corral, zookeeper }
    }

    /// How many times better corral is: > 1 means corral is better.
    /// `None` without a ZooKeeper value or when a value is zero.
    pub fn ratio(&self) -> Option<f64> {
        let zk = self.zookeeper?;
        let (num, den) = match self.better {
            Better::Lower => (zk, self.corral),
            Better::Higher => (self.corral, zk),
        };
        (den > 0.0 && num.is_finite()).then(|| num / den)
    }
}

/// Everything the benchmark reports.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Rows, in order.
    pub metrics: Vec<Metric>,
    /// Raw samples behind summary rows (name, values).
    pub samples: Vec<(String, Vec<f64>)>,
    /// The options used.
    pub settings: Vec<(&'static str, String)>,
    /// The machine and versions.
    pub environment: Vec<(&'static str, String)>,
    /// How figures were taken, and why any is missing.
    pub notes: Vec<(String, String)>,
}

impl Report {
    /// The human-readable table with settings and environment below it.
    pub fn table(&self) -> String {
        let mut rows = vec![["metric".to_owned(), "corral".to_owned(), "ZooKeeper".to_owned(), "ratio".to_owned()]];
        for m in &self.metrics {
            rows.push([
                format!("{} ({})", m.name, m.unit),
                cell(m.corral, m.decimals),
                m.zookeeper.map_or_else(|| "-".to_owned(), |z| cell(z, m.decimals)),
                m.ratio().map_or_else(|| "-".to_owned(), |r| format!("{r:.2}x")),
            ]);
        }
        let widths: Vec<usize> = (0..4).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
        let mut out = String::new();
        out.push_str("corral vs Apache ZooKeeper, measured one after the other in one run\n");
        out.push_str("ratio > 1 means corral is better: ZooKeeper/corral for times, memory and disk,\n");
        out.push_str("corral/ZooKeeper for throughput (ops/s)\n\n");
        for (i, row) in rows.iter().enumerate() {
            let _ = write!(out, "{:<w$}", row[0], w = widths[0]);
            for c in 1..4 {
                let _ = write!(out, "  {:>w$}", row[c], w = widths[c]);
            }
            out.push('\n');
            if i == 0 {
                out.push_str(&"-".repeat(widths.iter().sum::<usize>() + 6));
                out.push('\n');
            }
        }
        out.push('\n');
        for (name, values) in &self.samples {
            let list: Vec<String> = values.iter().map(|v| format!("{v:.1}")).collect();
            let _ = writeln!(out, "{name}: {}", list.join(", "));
        }
        if !self.notes.is_empty() {
            out.push_str("\nnotes:\n");
            for (k, v) in &self.notes {
                let _ = writeln!(out, "  {k}: {v}");
            }
        }
        out.push_str("\nsettings:\n");
        for (k, v) in &self.settings {
            let _ = writeln!(out, "  {k}: {v}");
        }
        out.push_str("environment:\n");
        for (k, v) in &self.environment {
            let _ = writeln!(out, "  {k}: {v}");
        }
        out
    }

    /// The same content as one JSON object.
    pub fn json(&self) -> String {
        let mut out = String::from("{\n  \"ratio_meaning\": ");
        out.push_str(&json_string(
            "greater than 1 means corral is better: zookeeper/corral when lower is better, corral/zookeeper when higher is better",
        ));
        out.push_str(",\n  \"metrics\": [");
        for (i, m) in self.metrics.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            let better = match m.better {
                Better::Lower => "lower",
                Better::Higher => "higher",
            };
            let _ = write!(
                out,
                "    {{\"name\": {}, \"unit\": {}, \"better\": \"{better}\", \"corral\": {}, \"zookeeper\": {}, \"ratio\": {}}}",
                json_string(&m.name),
                json_string(m.unit),
                json_number(Some(m.corral)),
                json_number(m.zookeeper),
                json_number(m.ratio()),
            );
        }
        out.push_str("\n  ],\n  \"samples\": {");
        for (i, (name, values)) in self.samples.iter().enumerate() {
            out.push_str(if i == 0 { "\n" } else { ",\n" });
            let list: Vec<String> = values.iter().map(|&v| json_number(Some(v))).collect();
            let _ = write!(out, "    {}: [{}]", json_string(name), list.join(", "));
        }
        out.push_str("\n  },\n  \"settings\": ");
        out.push_str(&json_object(&self.settings));
        out.push_str(",\n  \"environment\": ");
        out.push_str(&json_object(&self.environment));
        out.push_str(",\n  \"notes\": ");
        out.push_str(&json_object(&self.notes));
        out.push_str("\n}");
        out
    }
}

/// A table cell: the value with `decimals`, or "failed" for NaN.
fn cell(v: f64, decimals: usize) -> String {
    if v.is_nan() {
        "failed".to_owned()
    } else {
        format!("{v:.decimals$}")
    }
}

/// A flat object of strings, indented one level.
fn json_object<K: AsRef<str>>(pairs: &[(K, String)]) -> String {
    if pairs.is_empty() {
        return "{}".to_owned();
    }
    let fields: Vec<String> =
        pairs.iter().map(|(k, v)| format!("    {}: {}", json_string(k.as_ref()), json_string(v))).collect();
    format!("{{\n{}\n  }}", fields.join(",\n"))
}

/// A JSON number, or `null` for none or a non-finite value.
fn json_number(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => {
            let rounded = (v * 1000.0).round() / 1000.0;
            format!("{rounded}")
        }
        _ => "null".to_owned(),
    }
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        Report {
            metrics: vec![
                Metric::new("start-up", "ms", Better::Lower, 1, 10.0, Some(400.0)),
                Metric::new("gets", "ops/s", Better::Higher, 0, 30_000.0, Some(10_000.0)),
                Metric::new("rss", "MiB", Better::Lower, 1, 5.0, None),
            ],
            samples: vec![("start-up ms, corral".into(), vec![10.0, 11.5])],
            settings: vec![("runs", "2".into())],
            environment: vec![("temp_dir", "/tmp \"x\"".into())],
            notes: vec![("failover".into(), "kill -9".into())],
        }
    }

    #[test]
    fn ratios_favour_corral_above_one() {
        let r = sample();
        assert_eq!(r.metrics[0].ratio(), Some(40.0));
        assert_eq!(r.metrics[1].ratio(), Some(3.0));
        assert_eq!(r.metrics[2].ratio(), None);
        assert_eq!(Metric::new("x", "ms", Better::Lower, 0, 0.0, Some(1.0)).ratio(), None);
    }

    #[test]
    fn table_has_a_row_per_metric() {
        let t = sample().table();
        assert!(t.contains("start-up (ms)") && t.contains("40.00x") && t.contains("3.00x"));
        assert!(t.contains("start-up ms, corral: 10.0, 11.5"));
    }

    #[test]
    fn failed_values_show_as_failed_and_have_no_ratio() {
        let mut r = sample();
        r.metrics.push(Metric::new("failover", "ms", Better::Lower, 1, f64::NAN, Some(300.0)));
        r.metrics.push(Metric::new("catch-up", "ms", Better::Lower, 1, 900.0, Some(f64::NAN)));
        assert_eq!(r.metrics[3].ratio(), None);
        assert_eq!(r.metrics[4].ratio(), None);
        let t = r.table();
        let row = t.lines().find(|l| l.starts_with("failover (ms)")).expect("row");
        assert!(row.contains("failed") && row.contains("300.0") && row.ends_with('-'));
        assert!(t.contains("notes:\n  failover: kill -9\n"));
        let j = r.json();
        assert!(j.contains("\"name\": \"failover\", \"unit\": \"ms\", \"better\": \"lower\", \"corral\": null"));
        assert!(j.contains("\"notes\": {\n    \"failover\": \"kill -9\"\n  }"));
        r.notes.clear();
        assert!(r.json().contains("\"notes\": {}"));
        assert!(!r.table().contains("notes:"));
    }

    #[test]
    fn json_escapes_and_uses_null() {
        let j = sample().json();
        assert!(j.contains("\"ratio\": 40"));
        assert!(j.contains("\"zookeeper\": null, \"ratio\": null"));
        assert!(j.contains("\"/tmp \\\"x\\\"\""));
    }
}
