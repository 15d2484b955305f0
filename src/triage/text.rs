//! The report as plain text: short lines, no colour, no box drawing, so it
//! reads the same in a terminal, a chat message and an incident ticket.

use std::fmt::Write as _;

use crate::triage::report::{SignalChange, TriageReport};

fn num(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(x) if x.abs() >= 100.0 => format!("{x:.0}{unit}"),
        Some(x) if x.abs() >= 10.0 => format!("{x:.1}{unit}"),
        Some(x) => format!("{x:.2}{unit}"),
        None => "-".into(),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{:.2}%", x * 100.0))
}

fn change_line(c: &SignalChange) -> [String; 4] {
    let is_share = c.name == "success_rate";
    let show = |v: Option<f64>| {
        if is_share {
            pct(v)
        } else if c.name.ends_with("_ms") {
            num(v, " ms")
        } else {
            num(v, "/s")
        }
    };
    let delta = match (c.now, c.baseline, c.change) {
        (_, _, Some(d)) if is_share => format!("{:+.2} pts", d * 100.0),
        (_, Some(b), Some(d)) if b.abs() > 1e-9 => format!("{:+.1}%", d / b * 100.0),
        (_, _, Some(d)) => format!("{d:+.2}"),
        _ => "-".into(),
    };
    [c.name.clone(), show(c.now), show(c.baseline), delta]
}

fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        let _ = writeln!(out, "  {}", cells.join("  ").trim_end());
    }
}

/// Render the report.
pub fn render(r: &TriageReport) -> String {
    let mut o = String::new();
    let s = &r.subject;
    let _ = writeln!(
        o,
        "TRIAGE {} ({}{}) at {}",
        s.id,
        s.kind,
        if s.kind == "service" && !s.workloads.is_empty() {
            format!(": {}", s.workloads.join(", "))
        } else {
            String::new()
        },
        r.collected_at
    );
    let _ = writeln!(o, "VERDICT: {}", r.verdict.as_str().to_uppercase());
    for c in &r.checks {
        let _ = writeln!(o, "  [{}] {}: {}", c.outcome, c.name, c.detail);
    }
    let _ = writeln!(
        o,
        "  objectives: success {}%, p99 {}, from {}",
        r.slo.success_rate,
        r.slo
            .latency_p99_ms
            .map_or("none".into(), |v| format!("{v:.0} ms")),
        r.slo.source
    );

    let _ = writeln!(
        o,
        "\nSIGNALS (last {} window)",
        crate::triage::verdict::fmt_secs(r.signals.window_seconds)
    );
    if r.changes.is_empty() {
        let g = &r.signals;
        table(
            &mut o,
            &[
                vec!["rps".into(), num(g.rps, "/s")],
                vec!["success_rate".into(), pct(g.success_rate)],
                vec!["error_rps".into(), num(g.error_rps, "/s")],
                vec!["p50_ms".into(), num(g.p50_ms, " ms")],
                vec!["p95_ms".into(), num(g.p95_ms, " ms")],
                vec!["p99_ms".into(), num(g.p99_ms, " ms")],
            ],
        );
        let _ = writeln!(o, "  no baseline (no previous window)");
    } else {
        let mut rows = vec![
            ["signal", "now", "before", "change"]
                .map(String::from)
                .to_vec(),
        ];
        rows.extend(r.changes.iter().map(|c| change_line(c).to_vec()));
        table(&mut o, &rows);
    }

    let e = &r.errors;
    let _ = writeln!(o, "\nWHERE THE ERRORS COME FROM");
    let _ = writeln!(
        o,
        "  {} failing {}; {} from its callees, {} its own",
        s.id,
        num(e.error_rps, "/s"),
        num(Some(e.from_callees_rps), "/s"),
        num(e.own_rps, "/s"),
    );
    if e.culprits.is_empty() {
        let _ = writeln!(o, "  no failing calls downstream");
    }
    for (i, c) in e.culprits.iter().take(10).enumerate() {
        let _ = writeln!(
            o,
            "  {}. {} -> {}  {} failing of {} ({} ok), {}{}, depth {}{}",
            i + 1,
            c.source,
            c.target,
            num(Some(c.error_rps), "/s"),
            num(c.rps, "/s"),
            pct(c.success_rate),
            c.kind,
            c.share_of_target_failures
                .map_or(String::new(), |f| format!(
                    ", {:.0}% of its failures",
                    f * 100.0
                )),
            c.depth,
            if c.codes.is_empty() {
                String::new()
            } else {
                format!(", codes {}", c.codes.join(", "))
            },
        );
    }
    if e.culprits.len() > 10 {
        let _ = writeln!(o, "  … {} more", e.culprits.len() - 10);
    }

    let _ = writeln!(o, "\nBLAST RADIUS");
    if r.blast_radius.callers.is_empty() {
        let _ = writeln!(o, "  no callers in the window");
    }
    for c in &r.blast_radius.callers {
        let _ = writeln!(
            o,
            "  {} -> {}  {} failing of {} ({})",
            c.source,
            c.target,
            num(c.error_rps, "/s"),
            num(c.rps, "/s"),
            c.failing_share.map_or("-".into(), |f| format!(
                "{:.2}% of its calls fail",
                f * 100.0
            )),
        );
    }
    if !r.blast_radius.entry_points.is_empty() {
        let _ = writeln!(
            o,
            "  entry points: {}",
            r.blast_radius.entry_points.join(", ")
        );
    }

    let _ = writeln!(o, "\nGAPS TOUCHING IT");
    if r.gaps.is_empty() {
        let _ = writeln!(o, "  none");
    }
    for g in &r.gaps {
        let sev = format!("{:?}", g.severity).to_lowercase();
        let _ = writeln!(o, "  [{sev}] {} {}: {}", g.kind, g.subject, g.message);
    }
    let _ = writeln!(o, "\nRULES");
    if r.rules.is_empty() {
        let _ = writeln!(o, "  none declared for it");
    } else {
        let _ = writeln!(o, "  {}", r.rules.join(", "));
    }
    for d in &r.rule_diffs {
        let change = format!("{:?}", d.change).to_lowercase();
        let _ = writeln!(o, "  changed: {} ({change})", d.resource);
        for l in d.diff.lines() {
            let _ = writeln!(o, "    {l}");
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(o, "\nNOTES");
        for n in &r.notes {
            let _ = writeln!(o, "  {n}");
        }
    }
    o
}
