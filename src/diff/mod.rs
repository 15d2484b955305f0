//! `meshscope diff A.json B.json`: what changed between two snapshots:
//! edges that appeared or vanished, signals that moved beyond a threshold,
//! gaps that are new or resolved, rule changes that differ.

pub mod text;

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::app_main::Failure;
use crate::model::snapshot::{Edge, Gap, RuleDiff, Signals, Snapshot};

/// When a signal counts as moved.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Success rate moved by more than this many percentage points.
    pub success_points: f64,
    /// Rps or a latency moved by more than this share of its old value.
    pub relative: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            success_points: 1.0,
            relative: 0.25,
        }
    }
}

/// An edge, by its identity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EdgeRef {
    pub source: String,
    pub target: String,
    pub protocol: String,
    pub rps: Option<f64>,
    pub success_rate: Option<f64>,
}

/// A signal of an edge that moved beyond its threshold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Moved {
    pub source: String,
    pub target: String,
    pub protocol: String,
    /// `rps`, `success_rate`, `p50_ms`, `p95_ms`, `p99_ms`.
    pub signal: String,
    pub before: f64,
    pub after: f64,
}

/// A rule change that is new, gone, or different between the two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RuleDiffChange {
    /// `new` (only in B), `gone` (only in A), `changed` (both, different diff).
    pub status: String,
    pub rule_diff: RuleDiff,
}

/// The difference between two snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SnapshotDiff {
    pub before_at: String,
    pub after_at: String,
    pub edges_appeared: Vec<EdgeRef>,
    pub edges_vanished: Vec<EdgeRef>,
    pub signals_moved: Vec<Moved>,
    pub gaps_new: Vec<Gap>,
    pub gaps_resolved: Vec<Gap>,
    pub rule_diffs: Vec<RuleDiffChange>,
}

impl SnapshotDiff {
    /// Whether anything changed.
    pub fn is_empty(&self) -> bool {
        self.edges_appeared.is_empty()
            && self.edges_vanished.is_empty()
            && self.signals_moved.is_empty()
            && self.gaps_new.is_empty()
            && self.gaps_resolved.is_empty()
            && self.rule_diffs.is_empty()
    }
}

type Key = (String, String, String);

fn key(e: &Edge) -> Key {
    (
        e.source.clone(),
        e.target.clone(),
        e.protocol.as_str().to_string(),
    )
}

fn edge_ref(e: &Edge) -> EdgeRef {
    EdgeRef {
        source: e.source.clone(),
        target: e.target.clone(),
        protocol: e.protocol.as_str().into(),
        rps: e.signals.rps,
        success_rate: e.signals.success_rate,
    }
}

fn moved(k: &Key, a: &Signals, b: &Signals, t: Thresholds) -> Vec<Moved> {
    let mut out = Vec::new();
    let mk = |signal: &str, before: f64, after: f64| Moved {
        source: k.0.clone(),
        target: k.1.clone(),
        protocol: k.2.clone(),
        signal: signal.into(),
        before,
        after,
    };
    if let (Some(x), Some(y)) = (a.success_rate, b.success_rate)
        && ((y - x) * 100.0).abs() > t.success_points
    {
        out.push(mk("success_rate", x, y));
    }
    let rel: [(&str, Option<f64>, Option<f64>); 4] = [
        ("rps", a.rps, b.rps),
        ("p50_ms", a.p50_ms, b.p50_ms),
        ("p95_ms", a.p95_ms, b.p95_ms),
        ("p99_ms", a.p99_ms, b.p99_ms),
    ];
    for (name, x, y) in rel {
        if let (Some(x), Some(y)) = (x, y) {
            let base = x.abs().max(1e-9);
            if (y - x).abs() / base > t.relative {
                out.push(mk(name, x, y));
            }
        }
    }
    out
}

fn gap_key(g: &Gap) -> (String, String) {
    (g.kind.clone(), g.subject.clone())
}

/// The difference from `a` to `b`.
pub fn diff(a: &Snapshot, b: &Snapshot, t: Thresholds) -> SnapshotDiff {
    let ea: BTreeMap<Key, &Edge> = a.edges.iter().map(|e| (key(e), e)).collect();
    let eb: BTreeMap<Key, &Edge> = b.edges.iter().map(|e| (key(e), e)).collect();
    let mut d = SnapshotDiff {
        before_at: a.collected_at.clone(),
        after_at: b.collected_at.clone(),
        ..SnapshotDiff::default()
    };
    for (k, e) in &eb {
        match ea.get(k) {
            None => d.edges_appeared.push(edge_ref(e)),
            Some(old) => d
                .signals_moved
                .extend(moved(k, &old.signals, &e.signals, t)),
        }
    }
    for (k, e) in &ea {
        if !eb.contains_key(k) {
            d.edges_vanished.push(edge_ref(e));
        }
    }
    let ga: BTreeMap<_, &Gap> = a.gaps.iter().map(|g| (gap_key(g), g)).collect();
    let gb: BTreeMap<_, &Gap> = b.gaps.iter().map(|g| (gap_key(g), g)).collect();
    d.gaps_new = gb
        .iter()
        .filter(|(k, _)| !ga.contains_key(*k))
        .map(|(_, g)| (*g).clone())
        .collect();
    d.gaps_resolved = ga
        .iter()
        .filter(|(k, _)| !gb.contains_key(*k))
        .map(|(_, g)| (*g).clone())
        .collect();
    let ra: BTreeMap<&str, &RuleDiff> = a
        .rule_diffs
        .iter()
        .map(|r| (r.resource.as_str(), r))
        .collect();
    let rb: BTreeMap<&str, &RuleDiff> = b
        .rule_diffs
        .iter()
        .map(|r| (r.resource.as_str(), r))
        .collect();
    for (k, r) in &rb {
        let status = match ra.get(k) {
            None => "new",
            Some(old) if old.diff != r.diff || old.change != r.change => "changed",
            Some(_) => continue,
        };
        d.rule_diffs.push(RuleDiffChange {
            status: status.into(),
            rule_diff: (*r).clone(),
        });
    }
    for (k, r) in &ra {
        if !rb.contains_key(k) {
            d.rule_diffs.push(RuleDiffChange {
                status: "gone".into(),
                rule_diff: (*r).clone(),
            });
        }
    }
    d
}

/// Read a snapshot JSON file, naming the file on error.
pub fn read_snapshot(path: &Path) -> Result<Snapshot, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::BadInput(format!("'{}': cannot be read: {e}", path.display())))?;
    let snap: Snapshot = serde_json::from_str(&text).map_err(|e| {
        Failure::BadInput(format!(
            "'{}': not a meshscope snapshot: {e}",
            path.display()
        ))
    })?;
    if snap.schema != crate::model::snapshot::SNAPSHOT_SCHEMA {
        return Err(Failure::BadInput(format!(
            "'{}': schema is '{}', expected '{}'",
            path.display(),
            snap.schema,
            crate::model::snapshot::SNAPSHOT_SCHEMA
        )));
    }
    Ok(snap)
}

/// `meshscope diff A B`: exit 0 when nothing changed, 1 when something did.
pub fn diff_cmd(args: &crate::cli::DiffArgs) -> Result<u8, Failure> {
    use std::io::Write;
    if !(args.success_points >= 0.0 && args.relative >= 0.0) {
        return Err(Failure::BadInput(format!(
            "--success-points {} / --relative {}: thresholds must be zero or positive",
            args.success_points, args.relative
        )));
    }
    let a = read_snapshot(&args.before)?;
    let b = read_snapshot(&args.after)?;
    let d = diff(
        &a,
        &b,
        Thresholds {
            success_points: args.success_points,
            relative: args.relative,
        },
    );
    let out = match args.output {
        crate::triage::run::TriageFormat::Text => text::render(&d),
        crate::triage::run::TriageFormat::Json => serde_json::to_string_pretty(&d)
            .map(|s| s + "\n")
            .map_err(|e| Failure::Internal(format!("cannot serialise the diff: {e}")))?,
    };
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(|e| Failure::Internal(format!("cannot write to stdout: {e}")))?;
    Ok(u8::from(!d.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_thresholds() {
        let k = ("a".to_string(), "b".to_string(), "http".to_string());
        let a = Signals {
            rps: Some(100.0),
            p99_ms: Some(10.0),
            success_rate: Some(0.99),
            ..Signals::default()
        };
        let mut b = a.clone();
        b.rps = Some(120.0);
        b.p99_ms = Some(20.0);
        b.success_rate = Some(0.985);
        let m = moved(&k, &a, &b, Thresholds::default());
        let names: Vec<&str> = m.iter().map(|m| m.signal.as_str()).collect();
        assert_eq!(names, vec!["p99_ms"]);
        let m = moved(
            &k,
            &a,
            &b,
            Thresholds {
                success_points: 0.1,
                relative: 0.1,
            },
        );
        assert_eq!(m.len(), 3);
    }
}
