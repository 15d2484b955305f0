//! The workload graph as a Mermaid flowchart (for incident documents and
//! Markdown tickets): nodes coloured by health through one `classDef` per
//! health, edges labelled with rps and success rate, plaintext edges dotted.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::model::graph::{Health, fmt_pct, fmt_rps, health};
use crate::model::snapshot::{MtlsStatus, NodeKind, Protocol, Snapshot};

/// The class name and colour of a health.
fn class(h: Health) -> (&'static str, &'static str) {
    match h {
        Health::Healthy => ("healthy", "#3f9c35"),
        Health::Degraded => ("degraded", "#f0ab00"),
        Health::Failure => ("failure", "#cc0000"),
        Health::NoTraffic => ("notraffic", "#8a8d90"),
    }
}

/// Text inside a quoted Mermaid label: quotes and the characters Mermaid
/// treats specially become entity codes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '#' => out.push_str("#35;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '|' => out.push_str("#124;"),
            c => out.push(c),
        }
    }
    out
}

/// A Mermaid `flowchart LR` of the snapshot's graph.
pub fn to_mermaid(snap: &Snapshot) -> String {
    let mut out = String::from("flowchart LR\n");
    for h in [
        Health::Healthy,
        Health::Degraded,
        Health::Failure,
        Health::NoTraffic,
    ] {
        let (name, colour) = class(h);
        let _ = writeln!(
            out,
            "  classDef {name} fill:{colour},stroke:{colour},color:#ffffff"
        );
    }
    let mut ids: HashMap<&str, String> = HashMap::new();
    for (i, n) in snap.nodes.iter().enumerate() {
        let id = format!("n{i}");
        let label = match (&n.namespace, n.kind) {
            (Some(ns), NodeKind::Workload) => format!("{}<br/>{}", esc(&n.name), esc(ns)),
            _ => esc(&n.id),
        };
        let (open, close) = match n.kind {
            NodeKind::Workload => ("(", ")"),
            NodeKind::Service => ("{{", "}}"),
            NodeKind::External => ("[/", "/]"),
            NodeKind::Unknown => ("{", "}"),
        };
        let (cls, _) = class(health(n.signals.as_ref().and_then(|s| s.success_rate)));
        let _ = writeln!(out, "  {id}{open}\"{label}\"{close}:::{cls}");
        ids.insert(n.id.as_str(), id);
    }
    let mut styles = String::new();
    let mut k = 0usize;
    for e in &snap.edges {
        let (Some(a), Some(b)) = (ids.get(e.source.as_str()), ids.get(e.target.as_str())) else {
            continue;
        };
        let mut label = format!(
            "{} {}",
            fmt_rps(e.signals.rps),
            fmt_pct(e.signals.success_rate)
        );
        if e.protocol != Protocol::Http {
            label.push(' ');
            label.push_str(e.protocol.as_str());
        }
        if e.mtls.status == MtlsStatus::Full {
            label.push_str(" mTLS");
        }
        let arrow = if e.mtls.status == MtlsStatus::None {
            "-.->"
        } else {
            "-->"
        };
        let _ = writeln!(out, "  {a} {arrow}|\"{}\"| {b}", esc(&label));
        let (_, colour) = class(health(e.signals.success_rate));
        let _ = writeln!(styles, "  linkStyle {k} stroke:{colour}");
        k += 1;
    }
    out.push_str(&styles);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::snapshot::{Edge, Evidence, Mtls, Node, Signals};

    fn node(id: &str, ns: &str, name: &str, success: Option<f64>) -> Node {
        Node {
            id: id.into(),
            kind: NodeKind::Workload,
            namespace: Some(ns.into()),
            name: name.into(),
            app: None,
            version: None,
            meshed: true,
            signals: Some(Signals {
                rps: Some(1.0),
                success_rate: success,
                ..Signals::default()
            }),
        }
    }

    fn edge(s: &str, t: &str, success: f64, mtls: MtlsStatus) -> Edge {
        Edge {
            source: s.into(),
            target: t.into(),
            service: None,
            protocol: Protocol::Http,
            signals: Signals {
                rps: Some(12.5),
                success_rate: Some(success),
                ..Signals::default()
            },
            mtls: Mtls {
                status: mtls,
                fraction: None,
                declared: None,
                verdict: None,
            },
            evidence: vec![Evidence::Metrics],
            declared: None,
            responses: vec![],
            identities: None,
            traces: Vec::new(),
        }
    }

    #[test]
    fn nodes_classed_by_health_edges_labelled() {
        let mut snap = Snapshot::empty("2026-01-01T00:00:00Z".into(), 10.0);
        snap.nodes = vec![
            node("a/front", "a", "front", Some(1.0)),
            node("a/back", "a", "back", Some(0.8)),
            node("a/side\"q", "a", "side\"q", Some(0.95)),
        ];
        snap.edges = vec![
            edge("a/front", "a/back", 0.8, MtlsStatus::Full),
            edge("a/front", "a/side\"q", 0.95, MtlsStatus::None),
            edge("a/front", "a/missing", 1.0, MtlsStatus::Full),
        ];
        let m = to_mermaid(&snap);
        assert!(m.starts_with("flowchart LR\n"));
        assert!(m.contains("classDef failure fill:#cc0000"));
        assert!(m.contains("n0(\"front<br/>a\"):::healthy"), "{m}");
        assert!(m.contains("n1(\"back<br/>a\"):::failure"), "{m}");
        assert!(m.contains("n2(\"side#quot;q<br/>a\"):::degraded"), "{m}");
        assert!(m.contains("n0 -->|\"12.5 rps 80.0% mTLS\"| n1"), "{m}");
        assert!(m.contains("n0 -.->|\"12.5 rps 95.0%\"| n2"), "{m}");
        // The edge to an unknown node is left out, so two link styles.
        assert!(m.contains("linkStyle 0 stroke:#cc0000"));
        assert!(m.contains("linkStyle 1 stroke:#f0ab00"));
        assert!(!m.contains("linkStyle 2"));
    }
}
