//! Headless output of a snapshot.

pub mod mermaid;

use crate::cli::OutputFormat;
use crate::model::snapshot::Snapshot;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot serialise the snapshot as {0}: {1}")]
    Serialise(&'static str, String),
}

pub fn render(snap: &Snapshot, format: OutputFormat) -> Result<String, OutputError> {
    match format {
        OutputFormat::Json => serde_json::to_string_pretty(snap)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| OutputError::Serialise("JSON", e.to_string())),
        OutputFormat::Yaml => {
            serde_saphyr::to_string(snap).map_err(|e| OutputError::Serialise("YAML", e.to_string()))
        }
        OutputFormat::Dot => Ok(crate::model::graph::to_dot(snap)),
        OutputFormat::Text => Ok(text(snap)),
        OutputFormat::Mermaid => Ok(mermaid::to_mermaid(snap)),
    }
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.0}ms"))
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, cell)| format!("{cell:<w$}", w = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// Tables in the spirit of `linkerd viz stat` and `linkerd viz edges`.
pub fn text(snap: &Snapshot) -> String {
    use crate::model::graph::{fmt_pct, fmt_rps};
    let mut out = format!(
        "mesh {} · {} nodes · {} edges · window {}s · collected {}\n",
        snap.mesh.kind.as_str(),
        snap.nodes.len(),
        snap.edges.len(),
        snap.window_seconds,
        snap.collected_at
    );
    for s in &snap.sources {
        if s.status != crate::model::snapshot::SourceState::Ok {
            out.push_str(&format!(
                "! {} {:?}: {}\n",
                s.name,
                s.status,
                s.detail.as_deref().unwrap_or("")
            ));
        }
    }
    out.push('\n');
    let mut rows = vec![
        ["WORKLOAD", "MESHED", "SUCCESS", "RPS", "P50", "P95", "P99"]
            .map(String::from)
            .to_vec(),
    ];
    for n in &snap.nodes {
        let s = n.signals.clone().unwrap_or_default();
        rows.push(vec![
            n.id.clone(),
            if n.meshed { "yes".into() } else { "no".into() },
            fmt_pct(s.success_rate),
            fmt_rps(s.rps).replace(" rps", ""),
            ms(s.p50_ms),
            ms(s.p95_ms),
            ms(s.p99_ms),
        ]);
    }
    out.push_str(&table(&rows));
    out.push('\n');
    let mut rows = vec![
        ["SRC", "DST", "PROTO", "SUCCESS", "RPS", "P95", "MTLS"]
            .map(String::from)
            .to_vec(),
    ];
    for e in &snap.edges {
        rows.push(vec![
            e.source.clone(),
            e.target.clone(),
            e.protocol.as_str().into(),
            fmt_pct(e.signals.success_rate),
            fmt_rps(e.signals.rps).replace(" rps", ""),
            ms(e.signals.p95_ms),
            match e.mtls.fraction {
                Some(f) => format!("{:?} {:.0}%", e.mtls.status, f * 100.0).to_lowercase(),
                None => "unknown".into(),
            },
        ]);
    }
    out.push_str(&table(&rows));
    out
}
