//! The diff as plain text.

use std::fmt::Write as _;

use crate::diff::SnapshotDiff;

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{:.1}%", x * 100.0))
}

fn rps(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1} rps"))
}

fn value(signal: &str, v: f64) -> String {
    match signal {
        "success_rate" => format!("{:.2}%", v * 100.0),
        "rps" => format!("{v:.1} rps"),
        _ => format!("{v:.1} ms"),
    }
}

/// Render the diff.
pub fn render(d: &SnapshotDiff) -> String {
    let mut o = format!("DIFF {} -> {}\n", d.before_at, d.after_at);
    if d.is_empty() {
        o.push_str("no changes\n");
        return o;
    }
    for e in &d.edges_appeared {
        let _ = writeln!(
            o,
            "+ edge {} -> {} ({}) {} {}",
            e.source,
            e.target,
            e.protocol,
            rps(e.rps),
            pct(e.success_rate)
        );
    }
    for e in &d.edges_vanished {
        let _ = writeln!(o, "- edge {} -> {} ({})", e.source, e.target, e.protocol);
    }
    for m in &d.signals_moved {
        let _ = writeln!(
            o,
            "~ {} -> {} {}: {} -> {}",
            m.source,
            m.target,
            m.signal,
            value(&m.signal, m.before),
            value(&m.signal, m.after)
        );
    }
    for g in &d.gaps_new {
        let _ = writeln!(
            o,
            "+ gap [{:?}] {} {}: {}",
            g.severity, g.kind, g.subject, g.message
        );
    }
    for g in &d.gaps_resolved {
        let _ = writeln!(o, "- gap [{}] {} {}", lower(g.severity), g.kind, g.subject);
    }
    for r in &d.rule_diffs {
        let _ = writeln!(
            o,
            "{} rule change {} ({})",
            match r.status.as_str() {
                "new" => "+",
                "gone" => "-",
                _ => "~",
            },
            r.rule_diff.resource,
            lower(r.rule_diff.change)
        );
        for l in r.rule_diff.diff.lines() {
            let _ = writeln!(o, "    {l}");
        }
    }
    o
}

/// A serde enum as its JSON name (`critical`, `modified`).
fn lower(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}
