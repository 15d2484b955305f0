//! A waterfall of one trace: spans in tree order, indented by depth, each
//! with a bar on a shared time axis; the critical path (the chain of spans
//! that determined the trace's end-to-end time) is highlighted. Pure:
//! `(&Trace, &Theme, width)` → lines.

use ratatui::text::{Line, Span};

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
    pub critical: bool,
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

fn end(t: &Trace, i: usize) -> i64 {
    t.spans[i].start_us + t.spans[i].duration_us
}

/// Mark the critical path under `root` (Jaeger's rule): walking back from
/// the span's end, the child that finished last before the cursor is
/// critical, its own critical path is followed, and the cursor moves to its
/// start. Iterative, so deep traces cannot overflow the stack.
fn mark_critical(t: &Trace, kids: &[Vec<usize>], root: usize, critical: &mut [bool]) {
    let mut stack = vec![root];
    while let Some(s) = stack.pop() {
        if critical[s] {
            continue;
        }
        critical[s] = true;
        let mut cursor = end(t, s);
        let mut by_end: Vec<usize> = kids[s].clone();
        by_end.sort_by_key(|&c| std::cmp::Reverse(end(t, c)));
        for c in by_end {
            if end(t, c) <= cursor && t.spans[c].start_us >= t.spans[s].start_us {
                stack.push(c);
                cursor = t.spans[c].start_us;
            }
        }
    }
}

/// The rows of a trace in tree order (roots by start, children under
/// their parent), with the critical path of the longest root marked.
pub fn rows(trace: &Trace) -> Vec<Row> {
    let mut stats = LinkStats::default();
    let tree = resolve(&trace.spans, &mut stats);
    let kids = children(trace, &tree.parent, &tree.dropped);
    let mut roots: Vec<usize> = (0..trace.spans.len())
        .filter(|&i| tree.parent[i].is_none() && !tree.dropped[i])
        .collect();
    roots.sort_by_key(|&i| trace.spans[i].start_us);
    let mut critical = vec![false; trace.spans.len()];
    if let Some(&main) = roots.iter().max_by_key(|&&i| trace.spans[i].duration_us) {
        mark_critical(trace, &kids, main, &mut critical);
    }
    let t0 = roots
        .iter()
        .map(|&i| trace.spans[i].start_us)
        .chain(trace.spans.iter().map(|s| s.start_us))
        .min()
        .unwrap_or(0);
    let mut out = Vec::with_capacity(trace.spans.len());
    let mut stack: Vec<(usize, usize)> = roots.iter().rev().map(|&r| (r, 0)).collect();
    while let Some((i, depth)) = stack.pop() {
        let s = &trace.spans[i];
        out.push(Row {
            index: i,
            depth,
            offset_us: s.start_us - t0,
            duration_us: s.duration_us,
            critical: critical[i],
        });
        for &c in kids[i].iter().rev() {
            stack.push((c, depth + 1));
        }
    }
    out
}

/// The waterfall as lines `width` columns wide (a label column, then the
/// time axis).
pub fn lines<'a>(trace: &Trace, theme: &Theme, width: usize) -> Vec<Line<'a>> {
    let rows = rows(trace);
    let label_w = (width / 3).clamp(12, 48);
    let bar_w = width.saturating_sub(label_w + 12).max(10);
    let total = rows
        .iter()
        .map(|r| r.offset_us + r.duration_us)
        .max()
        .unwrap_or(0)
        .max(1);
    let mut out = vec![Line::styled(
        format!(
            "trace {}  {} spans  {:.1} ms  (━ critical path)",
            trace.id_hex(),
            trace.spans.len(),
            total as f64 / 1000.0
        ),
        theme.title,
    )];
    for r in rows {
        let s = &trace.spans[r.index];
        let mut label = format!(
            "{}{}: {}",
            "  ".repeat(r.depth.min(12)),
            s.service.as_deref().unwrap_or("?"),
            s.name
        );
        if label.chars().count() > label_w {
            label = label.chars().take(label_w - 1).collect::<String>() + "…";
        }
        let from = (r.offset_us.max(0) as f64 / total as f64 * bar_w as f64) as usize;
        let len = ((r.duration_us.max(0) as f64 / total as f64 * bar_w as f64).round() as usize)
            .max(1)
            .min(bar_w.saturating_sub(from).max(1));
        let glyph = if r.critical { "━" } else { "─" };
        let style = if s.error {
            theme.edge_failing
        } else if r.critical {
            theme.title
        } else {
            theme.muted
        };
        out.push(Line::from(vec![
            Span::styled(format!("{label:<label_w$} "), theme.text),
            Span::raw(" ".repeat(from.min(bar_w))),
            Span::styled(glyph.repeat(len), style),
            Span::styled(
                format!(" {:.1} ms", r.duration_us as f64 / 1000.0),
                theme.muted,
            ),
        ]));
    }
    out
}

/// The sample traces of an edge (failing ones first, then the slowest):
/// id, duration, HTTP status and root, failing ones marked ✗.
pub fn sample_lines<'a>(theme: &Theme, samples: &[TraceExemplar]) -> Vec<Line<'a>> {
    samples
        .iter()
        .map(|x| {
            let (mark, style) = if x.error {
                ("✗", theme.edge_failing)
            } else {
                ("·", theme.text)
            };
            let status = x.status.map_or(String::new(), |c| format!("  HTTP {c}"));
            let mut spans = vec![
                Span::styled(format!("  {mark} "), style),
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
