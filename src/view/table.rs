//! The Workloads and Edges tables (like `linkerd viz stat` and `linkerd viz edges`).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Row, StatefulWidget, Table, TableState as RtState, Widget,
};

use super::Ctx;
use super::fmt::{self, Health, health};
use super::graph::model::aggregate;
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

struct Col {
    title: &'static str,
    width: u16,
    grow: bool,
    priority: u8,
    right: bool,
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

fn cols(view: View) -> &'static [Col] {
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

fn rows_with(
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

/// The Workloads or Edges table.
pub struct TableView<'a> {
    pub ctx: &'a Ctx<'a>,
    pub view: View,
}

impl Widget for &TableView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.ctx;
        let t = ctx.theme;
        let st = if self.view == View::Edges {
            &ctx.ui.edges
        } else {
            &ctx.ui.workloads
        };
        let all = cols(self.view);
        let rows = rows_with(ctx.snap, self.view, st, |s| {
            super::graph::mtls_mark_text(t, s)
        });
        let total = if self.view == View::Edges {
            ctx.snap.edges.len()
        } else {
            ctx.snap.nodes.len()
        };
        let sort = all
            .get(st.sort_column)
            .map_or("", |c| c.title)
            .to_lowercase();
        let mut title = format!(" {} ({}", self.view.name(), rows.len());
        if !st.filter.is_empty() {
            title.push_str(&format!(" of {total}) · filter: {} ", st.filter));
        } else {
            title.push_str(") ");
        }
        let arrow = if st.descending { "▼" } else { "▲" };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(Line::from(vec![
                Span::styled(title, t.title),
                Span::styled(format!("· sort {sort} {arrow} "), t.muted),
            ]));
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        if rows.is_empty() {
            let msg = if total == 0 {
                format!("No {} seen yet.", self.view.name())
            } else {
                format!("Nothing matches '{}' (esc clears the filter).", st.filter)
            };
            buf.set_stringn(
                inner.x + 1,
                inner.y,
                msg,
                usize::from(inner.width.saturating_sub(1)),
                t.muted,
            );
            return;
        }
        // Columns by priority until the width is used.
        let mut visible: Vec<usize> = Vec::new();
        for prio in 0..=3u8 {
            for (i, c) in all.iter().enumerate() {
                if c.priority != prio {
                    continue;
                }
                let mut trial = visible.clone();
                trial.push(i);
                let need: u16 = trial.iter().map(|&j| all[j].width + 1).sum();
                if need <= inner.width || visible.is_empty() {
                    visible = trial;
                }
            }
        }
        visible.sort_unstable();
        // The widths the grow columns get, to shorten ids sensibly.
        let fixed: u16 = visible
            .iter()
            .filter(|&&i| !all[i].grow)
            .map(|&i| all[i].width + 1)
            .sum();
        // Grow columns take what their content needs; the narrowest are served
        // first so the room they leave goes to the wider ones.
        let mut col_w: Vec<u16> = all.iter().map(|c| c.width).collect();
        let mut growing: Vec<(u16, usize)> = visible
            .iter()
            .filter(|&&i| all[i].grow)
            .map(|&i| {
                let need = rows
                    .iter()
                    .map(|r| fmt::width(&r.cells[i].0))
                    .max()
                    .unwrap_or(0);
                (need.max(all[i].title.len() + 1) as u16, i)
            })
            .collect();
        growing.sort_unstable();
        let mut room = inner.width.saturating_sub(fixed);
        let mut left = growing.len() as u16;
        for (need, i) in growing {
            let fair = (room / left.max(1)).saturating_sub(1);
            let w = need.min(fair.max(all[i].width));
            col_w[i] = w;
            room = room.saturating_sub(w + 1);
            left -= 1;
        }
        let widths: Vec<Constraint> = visible
            .iter()
            .map(|&i| Constraint::Length(col_w[i]))
            .collect();
        let header = Row::new(visible.iter().map(|&i| {
            let mut h = all[i].title.to_string();
            if i == st.sort_column {
                h.push_str(arrow);
            }
            Cell::from(h)
        }))
        .style(t.header);
        let tone = |tone: Tone| -> Style {
            match tone {
                Tone::Text => t.text,
                Tone::Muted => t.muted,
                Tone::Health(Health::Healthy) => t.node_healthy,
                Tone::Health(Health::Degraded) => t.node_degraded,
                Tone::Health(Health::Failing) => t.node_failing,
                Tone::Health(Health::Neutral) => t.node_neutral,
                Tone::Mtls(MtlsStatus::Full) => t.mtls_full,
                Tone::Mtls(MtlsStatus::Partial) => t.mtls_partial,
                Tone::Mtls(MtlsStatus::None) => t.mtls_off,
                Tone::Mtls(MtlsStatus::Unknown) => t.mtls_unknown,
            }
        };
        let body = rows.iter().map(|r| {
            Row::new(visible.iter().map(|&i| {
                let (text, tn) = &r.cells[i];
                let text = &if all[i].grow {
                    fmt::shorten_id(text, usize::from(col_w[i]))
                } else {
                    text.clone()
                };
                let text = if all[i].right && fmt::width(text) < usize::from(all[i].width) {
                    format!("{text:>w$}", w = usize::from(all[i].width))
                } else {
                    text.clone()
                };
                Cell::from(Span::styled(text, tone(*tn)))
            }))
        });
        let table = Table::new(body, widths)
            .header(header)
            .column_spacing(1)
            .row_highlight_style(t.selected);
        let mut state = RtState::default().with_selected(Some(st.selected.min(rows.len() - 1)));
        StatefulWidget::render(table, inner, buf, &mut state);
    }
}
