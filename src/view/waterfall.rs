//! A waterfall of one trace: spans in tree order, indented by depth, each
//! with a bar on a shared time axis; the critical path (the chain of spans
//! that determined the trace's end-to-end time) is highlighted. Pure:
//! `(&Trace, &Theme, width)` → lines.

use ratatui::text::{Line, Span};

use super::critical::critical_path;
use super::theme::Theme;
use crate::collect::traces::Trace;
use crate::collect::traces::link::{LinkStats, resolve};
use crate::model::snapshot::TraceExemplar;

/// One row of the waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub index: usize,
    pub depth: usize,
    /// Start relative to the trace's first span, µs.
    pub offset_us: i64,
    pub duration_us: i64,
    /// Whether any part of the span is on the critical path.
    pub critical: bool,
    /// The span's critical stretches, relative to the trace's first span (µs).
    pub sections: Vec<(i64, i64)>,
}

/// A trace laid out once for drawing: rows in tree order with the critical
/// path, so a frame only formats the rows it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Waterfall {
    pub trace: Trace,
    pub rows: Vec<Row>,
    /// End of the last span, relative to the first start (µs).
    pub total_us: i64,
    /// Length of the critical path (the longest root's duration), µs.
    pub critical_us: i64,
}

/// Children of each span, sorted by start.
fn children(trace: &Trace, parent: &[Option<u32>], dropped: &[bool]) -> Vec<Vec<usize>> {
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); trace.spans.len()];
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = p
            && !dropped[i]
        {
            kids[*p as usize].push(i);
        }
    }
    for k in &mut kids {
        k.sort_by_key(|&i| trace.spans[i].start_us);
    }
    kids
}

impl Waterfall {
    /// Lay out `trace`: roots by start, children under their parent, the
    /// critical path of the longest root ([`critical_path`]) marked.
    pub fn new(trace: Trace) -> Waterfall {
        let mut stats = LinkStats::default();
        let tree = resolve(&trace.spans, &mut stats);
        let kids = children(&trace, &tree.parent, &tree.dropped);
        let mut roots: Vec<usize> = (0..trace.spans.len())
            .filter(|&i| tree.parent[i].is_none() && !tree.dropped[i])
            .collect();
        roots.sort_by_key(|&i| trace.spans[i].start_us);
        let t0 = trace.spans.iter().map(|s| s.start_us).min().unwrap_or(0);
        let mut sections: Vec<Vec<(i64, i64)>> = vec![Vec::new(); trace.spans.len()];
        let main = roots
            .iter()
            .copied()
            .max_by_key(|&i| (trace.spans[i].duration_us, std::cmp::Reverse(i)));
        let mut critical_us = 0;
        if let Some(main) = main {
            for s in critical_path(&trace.spans, &kids, main) {
                sections[s.span].push((s.start_us - t0, s.end_us - t0));
                critical_us += s.end_us - s.start_us;
            }
        }
        let mut rows = Vec::with_capacity(trace.spans.len());
        let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&r| (r, 0)).collect();
        while let Some((i, depth)) = stack.pop() {
            let s = &trace.spans[i];
            let mut secs = std::mem::take(&mut sections[i]);
            secs.sort_unstable();
            rows.push(Row {
                index: i,
                depth,
                offset_us: s.start_us - t0,
                duration_us: s.duration_us,
                critical: !secs.is_empty(),
                sections: secs,
            });
            for &c in kids[i].iter().rev() {
                stack.push((c, depth + 1));
            }
        }
        let total_us = rows
            .iter()
            .map(|r| r.offset_us + r.duration_us.max(0))
            .max()
            .unwrap_or(0);
        Waterfall {
            trace,
            rows,
            total_us,
            critical_us,
        }
    }

    /// The title line: id (shortened below 100 columns), spans, total
    /// time and the critical path's length.
    pub fn title<'a>(&self, theme: &Theme, width: usize) -> Line<'a> {
        let mut id = self.trace.id_hex();
        if width < 100 && id.len() > 16 {
            id = format!("{}…", &id[..12]);
        }
        Line::styled(
            format!(
                "trace {id}  {} spans  {:.1} ms  (━ critical path {:.1} ms)",
                self.trace.spans.len(),
                self.total_us as f64 / 1000.0,
                self.critical_us as f64 / 1000.0
            ),
            theme.title,
        )
    }

    /// Rows `from..from + count` as lines `width` columns wide (a label
    /// column, then the time axis); only those rows are formatted.
    pub fn row_lines<'a>(
        &self,
        theme: &Theme,
        width: usize,
        from: usize,
        count: usize,
    ) -> Vec<Line<'a>> {
        let label_w = (width / 3).clamp(12, 48);
        let bar_w = width.saturating_sub(label_w + 12).max(10);
        let total = self.total_us.max(1);
        let col = |us: i64| (us.max(0) as f64 / total as f64 * bar_w as f64) as usize;
        let end = from.saturating_add(count).min(self.rows.len());
        let rows = self.rows.get(from..end).unwrap_or(&[]);
        rows.iter()
            .map(|r| {
                let s = &self.trace.spans[r.index];
                let label = truncate(
                    &format!(
                        "{}{}: {}",
                        "  ".repeat(r.depth.min(12)),
                        s.service.as_deref().unwrap_or("?"),
                        s.name
                    ),
                    label_w,
                );
                let from = col(r.offset_us).min(bar_w.saturating_sub(1));
                let len = ((r.duration_us.max(0) as f64 / total as f64 * bar_w as f64).round()
                    as usize)
                    .clamp(1, bar_w - from);
                // One glyph per column: ━ where the column meets a critical stretch.
                let on = |k: usize| {
                    let a = (from + k) as f64 * total as f64 / bar_w as f64;
                    let b = (from + k + 1) as f64 * total as f64 / bar_w as f64;
                    r.sections
                        .iter()
                        .any(|&(x, y)| (x as f64) < b && (y as f64) > a)
                };
                let bar: String = (0..len)
                    .map(|k| if r.critical && on(k) { '━' } else { '─' })
                    .collect();
                let style = if s.error {
                    theme.edge_failing
                } else if r.critical {
                    theme.title
                } else {
                    theme.muted
                };
                Line::from(vec![
                    Span::styled(format!("{label:<label_w$} "), theme.text),
                    Span::raw(" ".repeat(from)),
                    Span::styled(bar, style),
                    Span::styled(
                        format!(" {:.1} ms", r.duration_us as f64 / 1000.0),
                        theme.muted,
                    ),
                ])
            })
            .collect()
    }
}

/// `s` cut to `w` characters, ending in `…` when cut.
fn truncate(s: &str, w: usize) -> String {
    if s.chars().count() <= w {
        return s.to_string();
    }
    s.chars().take(w.saturating_sub(1)).collect::<String>() + "…"
}

/// The rows of a trace in tree order (roots by start, children under
/// their parent), with the critical path of the longest root marked.
pub fn rows(trace: &Trace) -> Vec<Row> {
    Waterfall::new(trace.clone()).rows
}

/// The whole waterfall as lines `width` columns wide: the title, then one
/// line per span.
pub fn lines<'a>(trace: &Trace, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let w = Waterfall::new(trace.clone());
    let mut out = vec![w.title(theme, width)];
    out.extend(w.row_lines(theme, width, 0, w.rows.len()));
    out
}

/// The sample traces of an edge (failing ones first, then the slowest):
/// id, duration, HTTP status and root, failing ones marked ✗; the
/// `selected` one (the one `enter` opens) marked ▶.
pub fn sample_lines<'a>(
    theme: &Theme,
    samples: &[TraceExemplar],
    selected: Option<usize>,
) -> Vec<Line<'a>> {
    samples
        .iter()
        .enumerate()
        .map(|(i, x)| {
            let (mark, mut style) = if x.error {
                ("✗", theme.edge_failing)
            } else {
                ("·", theme.text)
            };
            let pick = if selected == Some(i) {
                style = style.patch(theme.selected);
                "▶"
            } else {
                " "
            };
            let status = x.status.map_or(String::new(), |c| format!("  HTTP {c}"));
            let mut spans = vec![
                Span::styled(format!(" {pick}{mark} "), style),
                Span::styled(format!("{:<32}", x.trace_id), style),
                Span::styled(format!("  {:>9.1} ms{status}", x.duration_ms), theme.text),
            ];
            if let Some(r) = &x.root {
                spans.push(Span::styled(format!("  root {r}"), theme.muted));
            }
            Line::from(spans)
        })
        .collect()
}
