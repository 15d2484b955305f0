//! Table rows: the data of the Workloads and Edges tables, filtered and sorted. Pure.

use super::super::fmt::{self, Health, health};
use super::super::graph::model::aggregate;
use crate::app::action::View;
use crate::app::state::{Subject, TableState};
use crate::model::snapshot::{MtlsStatus, Snapshot};

/// How a cell is coloured (mapped to theme names when drawn).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Text,
    Muted,
    Health(Health),
    Mtls(MtlsStatus),
}

/// A sort key.
#[derive(Debug, Clone, PartialEq)]
pub enum SortKey {
    Text(String),
    Num(Option<f64>),
}

/// One table row.
#[derive(Debug, Clone, PartialEq)]
pub struct TRow {
    pub subject: Subject,
    pub cells: Vec<(String, Tone)>,
    pub keys: Vec<SortKey>,
}

pub(super) struct Col {
    pub(super) title: &'static str,
    pub(super) width: u16,
    pub(super) grow: bool,
    pub(super) priority: u8,
    pub(super) right: bool,
}

const fn col(title: &'static str, width: u16, grow: bool, priority: u8) -> Col {
    Col {
        title,
        width,
        grow,
        priority,
        right: false,
    }
}

/// A right-aligned (numeric) column.
const fn num_col(title: &'static str, width: u16, priority: u8) -> Col {
    Col {
        title,
        width,
        grow: false,
        priority,
        right: true,
    }
}

const WORKLOAD_COLS: &[Col] = &[
    col("NAME", 28, true, 0),
    col("MESHED", 6, false, 1),
    num_col("SUCCESS", 7, 0),
    num_col("RPS", 7, 0),
    num_col("P50", 7, 2),
    num_col("P95", 7, 0),
    num_col("P99", 7, 1),
    num_col("MTLS", 6, 1),
    num_col("TCP", 5, 2),
];

const EDGE_COLS: &[Col] = &[
    col("SOURCE", 22, true, 0),
    col("TARGET", 22, true, 0),
    col("SERVICE", 18, true, 3),
    col("PROTO", 5, false, 3),
    num_col("SUCCESS", 7, 0),
    num_col("RPS", 7, 0),
    num_col("P50", 7, 3),
    num_col("P95", 7, 0),
    num_col("P99", 7, 3),
    col("MTLS", 7, false, 1),
    num_col("TCP", 5, 2),
];

pub(super) fn cols(view: View) -> &'static [Col] {
    if view == View::Edges {
        EDGE_COLS
    } else {
        WORKLOAD_COLS
    }
}

/// Columns of the table of `view` (for the sort key).
pub fn column_count(view: View) -> usize {
    cols(view).len()
}

fn num(v: Option<f64>, text: String) -> (String, Tone) {
    let tone = if v.is_some() { Tone::Text } else { Tone::Muted };
    (text, tone)
}

fn success_cell(rps: Option<f64>, ok: Option<f64>) -> (String, Tone) {
    let s = crate::model::snapshot::Signals {
        rps,
        success_rate: ok,
        ..Default::default()
    };
    (
        fmt::pct(ok),
        if ok.is_some() {
            Tone::Health(health(&s))
        } else {
            Tone::Muted
        },
    )
}

fn workload_rows(snap: &Snapshot) -> Vec<TRow> {
    let mut by_target: std::collections::HashMap<&str, Vec<&crate::model::snapshot::Edge>> =
        std::collections::HashMap::new();
    for e in &snap.edges {
        by_target.entry(e.target.as_str()).or_default().push(e);
    }
    snap.nodes
        .iter()
        .map(|n| {
            let inbound: &[&crate::model::snapshot::Edge] =
                by_target.get(n.id.as_str()).map_or(&[], |v| v.as_slice());
            let sig = n
                .signals
                .clone()
                .unwrap_or_else(|| aggregate(inbound.iter().map(|e| &e.signals)));
            let (mut w, mut sum) = (0.0, 0.0);
            for e in inbound {
                if let Some(f) = e.mtls.fraction {
                    let weight = e.signals.rps.filter(|r| *r > 0.0).unwrap_or(1.0);
                    w += weight;
                    sum += f * weight;
                }
            }
            let mtls = (w > 0.0).then(|| sum / w);
            let mtls_tone = match mtls {
                None => Tone::Muted,
                Some(f) if f >= 0.9999 => Tone::Mtls(MtlsStatus::Full),
                Some(f) if f > 0.0 => Tone::Mtls(MtlsStatus::Partial),
                Some(_) => Tone::Mtls(MtlsStatus::None),
            };
            let tcp = sig
                .open_connections
                .or_else(|| aggregate(inbound.iter().map(|e| &e.signals)).open_connections);
            TRow {
                subject: Subject::Node(n.id.clone()),
                cells: vec![
                    (n.id.clone(), Tone::Text),
                    (
                        if n.meshed { "yes" } else { "no" }.into(),
                        if n.meshed {
                            Tone::Text
                        } else {
                            Tone::Mtls(MtlsStatus::None)
                        },
                    ),
                    success_cell(sig.rps, sig.success_rate),
                    num(sig.rps, fmt::rps(sig.rps)),
                    num(sig.p50_ms, fmt::ms(sig.p50_ms)),
                    num(sig.p95_ms, fmt::ms(sig.p95_ms)),
                    num(sig.p99_ms, fmt::ms(sig.p99_ms)),
                    (fmt::pct(mtls), mtls_tone),
                    num(tcp, fmt::count(tcp)),
                ],
                keys: vec![
                    SortKey::Text(n.id.clone()),
                    SortKey::Num(Some(f64::from(u8::from(n.meshed)))),
                    SortKey::Num(sig.success_rate),
                    SortKey::Num(sig.rps),
                    SortKey::Num(sig.p50_ms),
                    SortKey::Num(sig.p95_ms),
                    SortKey::Num(sig.p99_ms),
                    SortKey::Num(mtls),
                    SortKey::Num(tcp),
                ],
            }
        })
        .collect()
}

fn edge_rows(snap: &Snapshot, mark: impl Fn(MtlsStatus) -> String) -> Vec<TRow> {
    snap.edges
        .iter()
        .map(|e| {
            let s = &e.signals;
            let mtls = format!("{} {}", mark(e.mtls.status), fmt::pct(e.mtls.fraction));
            TRow {
                subject: Subject::Edge(e.source.clone(), e.target.clone()),
                cells: vec![
                    (e.source.clone(), Tone::Text),
                    (e.target.clone(), Tone::Text),
                    (e.service.clone().unwrap_or_else(|| "-".into()), Tone::Muted),
                    (e.protocol.as_str().into(), Tone::Muted),
                    success_cell(s.rps, s.success_rate),
                    num(s.rps, fmt::rps(s.rps)),
                    num(s.p50_ms, fmt::ms(s.p50_ms)),
                    num(s.p95_ms, fmt::ms(s.p95_ms)),
                    num(s.p99_ms, fmt::ms(s.p99_ms)),
                    (mtls.trim().to_string(), Tone::Mtls(e.mtls.status)),
                    num(s.open_connections, fmt::count(s.open_connections)),
                ],
                keys: vec![
                    SortKey::Text(e.source.clone()),
                    SortKey::Text(e.target.clone()),
                    SortKey::Text(e.service.clone().unwrap_or_default()),
                    SortKey::Text(e.protocol.as_str().into()),
                    SortKey::Num(s.success_rate),
                    SortKey::Num(s.rps),
                    SortKey::Num(s.p50_ms),
                    SortKey::Num(s.p95_ms),
                    SortKey::Num(s.p99_ms),
                    SortKey::Num(e.mtls.fraction),
                    SortKey::Num(s.open_connections),
                ],
            }
        })
        .collect()
}

/// Whether `row` passes a k9s-style filter (`text`, or `!text` for the inverse), case-insensitive.
pub fn matches(row: &TRow, filter: &str) -> bool {
    let (inverse, needle) = match filter.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, filter),
    };
    if needle.is_empty() {
        return true;
    }
    let needle = needle.to_lowercase();
    let hit = row.keys.iter().any(|k| match k {
        SortKey::Text(t) => t.to_lowercase().contains(&needle),
        SortKey::Num(_) => false,
    });
    hit != inverse
}

/// The rows of a table, filtered and sorted as `st` says (the mTLS mark is plain text here).
pub fn rows(snap: &Snapshot, view: View, st: &TableState) -> Vec<TRow> {
    rows_with(snap, view, st, |_| String::new())
}

pub(super) fn rows_with(
    snap: &Snapshot,
    view: View,
    st: &TableState,
    mark: impl Fn(MtlsStatus) -> String,
) -> Vec<TRow> {
    let mut rows = if view == View::Edges {
        edge_rows(snap, mark)
    } else {
        workload_rows(snap)
    };
    rows.retain(|r| matches(r, &st.filter));
    let c = st.sort_column;
    rows.sort_by(|a, b| {
        let ord = match (a.keys.get(c), b.keys.get(c)) {
            (Some(SortKey::Text(x)), Some(SortKey::Text(y))) => x.cmp(y),
            // Unknown values sort last either way.
            (Some(SortKey::Num(x)), Some(SortKey::Num(y))) => match (x, y) {
                (Some(x), Some(y)) => x.total_cmp(y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            },
            _ => std::cmp::Ordering::Equal,
        };
        if st.descending { ord.reverse() } else { ord }
    });
    rows
}
