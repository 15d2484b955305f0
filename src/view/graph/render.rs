//! Draws a laid-out graph with box-drawing characters, centred on the focus.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Borders, Widget};

use super::layout::{Arrow, Layout};
use super::model::{GEdge, ViewGraph};
use crate::app::graph_cache::MAX_LABEL;
use crate::app::state::LabelMode;
use crate::model::snapshot::MtlsStatus;
use crate::view::Ctx;
use crate::view::fmt::{self, Health, truncate};
use crate::view::theme::Theme;

const UP: u8 = 1;
const DOWN: u8 = 2;
const LEFT: u8 = 4;
const RIGHT: u8 = 8;

/// The graph view.
pub struct GraphView<'a> {
    pub ctx: &'a Ctx<'a>,
}

/// A clipped drawing surface: layout coordinates shifted by an offset.
struct Canvas<'b> {
    buf: &'b mut Buffer,
    area: Rect,
    ox: i64,
    oy: i64,
    bits: Vec<u8>,
    styles: Vec<Style>,
}

impl Canvas<'_> {
    fn cell(&self, x: i64, y: i64) -> Option<(u16, u16, usize)> {
        let (cx, cy) = (x - self.ox, y - self.oy);
        if cx < 0 || cy < 0 || cx >= i64::from(self.area.width) || cy >= i64::from(self.area.height)
        {
            return None;
        }
        let (cx, cy) = (cx as u16, cy as u16);
        let idx = usize::from(cy) * usize::from(self.area.width) + usize::from(cx);
        Some((self.area.x + cx, self.area.y + cy, idx))
    }

    fn bit(&mut self, x: i64, y: i64, b: u8, style: Style) {
        if let Some((_, _, i)) = self.cell(x, y) {
            self.bits[i] |= b;
            self.styles[i] = style;
        }
    }

    fn hline(&mut self, y: i64, xa: i64, xb: i64, style: Style) {
        let (a, b) = (xa.min(xb), xa.max(xb));
        // Only the visible part matters.
        let lo = a.max(self.ox - 1);
        let hi = b.min(self.ox + i64::from(self.area.width));
        if y < self.oy || y >= self.oy + i64::from(self.area.height) || lo > hi {
            return;
        }
        for x in lo..=hi {
            let mut bits = 0;
            if x > a {
                bits |= LEFT;
            }
            if x < b {
                bits |= RIGHT;
            }
            self.bit(x, y, bits, style);
        }
    }

    fn vline(&mut self, x: i64, ya: i64, yb: i64, style: Style) {
        let (a, b) = (ya.min(yb), ya.max(yb));
        let lo = a.max(self.oy - 1);
        let hi = b.min(self.oy + i64::from(self.area.height));
        if x < self.ox || x >= self.ox + i64::from(self.area.width) || lo > hi {
            return;
        }
        for y in lo..=hi {
            let mut bits = 0;
            if y > a {
                bits |= UP;
            }
            if y < b {
                bits |= DOWN;
            }
            self.bit(x, y, bits, style);
        }
    }

    fn put(&mut self, x: i64, y: i64, s: &str, style: Style) {
        let mut x = x;
        for ch in s.chars() {
            let w = fmt::width(ch.encode_utf8(&mut [0; 4])) as i64;
            if let Some((bx, by, i)) = self.cell(x, y) {
                // A wide glyph that does not fit is skipped.
                if w <= 1 || self.cell(x + 1, y).is_some() {
                    let cell = &mut self.buf[(bx, by)];
                    cell.set_char(ch).set_style(style);
                    self.bits[i] = 0;
                    if w == 2
                        && let Some((bx2, by2, i2)) = self.cell(x + 1, y)
                    {
                        self.buf[(bx2, by2)].reset();
                        self.bits[i2] = 0;
                    }
                }
            }
            x += w.max(1);
        }
    }

    fn flush_lines(&mut self) {
        for (i, &b) in self.bits.iter().enumerate() {
            if b == 0 {
                continue;
            }
            let x = self.area.x + (i % usize::from(self.area.width)) as u16;
            let y = self.area.y + (i / usize::from(self.area.width)) as u16;
            let ch = match b {
                x if x == LEFT | RIGHT || x == LEFT || x == RIGHT => '─',
                x if x == UP | DOWN || x == UP || x == DOWN => '│',
                x if x == DOWN | RIGHT => '┌',
                x if x == DOWN | LEFT => '┐',
                x if x == UP | RIGHT => '└',
                x if x == UP | LEFT => '┘',
                x if x == UP | DOWN | RIGHT => '├',
                x if x == UP | DOWN | LEFT => '┤',
                x if x == LEFT | RIGHT | DOWN => '┬',
                x if x == LEFT | RIGHT | UP => '┴',
                _ => '┼',
            };
            self.buf[(x, y)].set_char(ch).set_style(self.styles[i]);
        }
    }
}

/// The node (or edge) style for a health.
pub fn health_style(t: &Theme, h: Health, node: bool) -> Style {
    match (h, node) {
        (Health::Healthy, true) => t.node_healthy,
        (Health::Degraded, true) => t.node_degraded,
        (Health::Failing, true) => t.node_failing,
        (Health::Neutral, true) => t.node_neutral,
        (Health::Healthy, false) => t.edge_healthy,
        (Health::Degraded, false) => t.edge_degraded,
        (Health::Failing, false) => t.edge_failing,
        (Health::Neutral, false) => t.edge_idle,
    }
}

/// Horizontal scroll: everything when it fits; else the focus and the layer it
/// calls fully visible, with as much of its callers as the width leaves.
fn x_offset(l: &Layout, focus: Option<usize>, width: u16) -> Option<i64> {
    let w = i64::from(width);
    if i64::from(l.width) <= w {
        // A one-column margin when there is room for it.
        return Some(if i64::from(l.width) < w { -1 } else { 0 });
    }
    let e = &l.elems[l.node_elem[focus?]];
    let right = l
        .columns
        .get(e.layer + 1)
        .map_or(i64::from(e.x + e.w), |&(x, cw)| i64::from(x + cw));
    let keep_focus = i64::from(e.x) - 1;
    let show_right = right - w + 1;
    Some(if show_right <= keep_focus {
        show_right.max(-1)
    } else {
        keep_focus
    })
}

/// The health glyph (so health reads without colour too).
pub fn health_glyph(t: &Theme, h: Health) -> &str {
    match h {
        Health::Healthy => &t.healthy,
        Health::Degraded => &t.degraded,
        Health::Failing => &t.failing,
        Health::Neutral => &t.neutral,
    }
}

/// The mTLS mark and its style: a lock when full, a warning when partial or none.
pub fn mtls_mark(t: &Theme, s: MtlsStatus) -> (&str, Style) {
    match s {
        MtlsStatus::Full => (&t.lock, t.mtls_full),
        MtlsStatus::Partial => (&t.warn, t.mtls_partial),
        MtlsStatus::None => (&t.warn, t.mtls_off),
        MtlsStatus::Unknown => ("", t.mtls_unknown),
    }
}

/// The text of an edge label (without the mTLS mark).
pub fn edge_label(e: &GEdge, mode: LabelMode) -> String {
    match mode {
        LabelMode::RpsSuccess => format!(
            "{}/s {}",
            fmt::rps_short(e.signals.rps),
            fmt::pct(e.signals.success_rate)
        ),
        LabelMode::P95 => format!("p95 {}", fmt::ms(e.signals.p95_ms)),
    }
}

impl Widget for &GraphView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.ctx;
        let t = ctx.theme;
        let laid = ctx.laid;
        let (g, l) = (&laid.graph, &laid.layout);
        let title = title(ctx, g);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(title)
            .title_style(t.title);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        if g.nodes.is_empty() {
            buf.set_stringn(
                inner.x + 1,
                inner.y,
                "No workloads seen yet: waiting for the first collection round.",
                usize::from(inner.width.saturating_sub(1)),
                t.muted,
            );
            return;
        }
        if l.node_elem.len() != g.nodes.len() {
            // Only possible if the layout is out of step with the graph; never index past it.
            buf.set_stringn(
                inner.x + 1,
                inner.y,
                "Select a node (j/k) to draw its neighbourhood.",
                usize::from(inner.width.saturating_sub(1)),
                t.muted,
            );
            return;
        }
        let focus = ctx.ui.focus.as_ref().and_then(|f| g.index.get(f)).copied();
        draw(g, l, focus, ctx, inner, buf);
    }
}

fn title(ctx: &Ctx<'_>, g: &ViewGraph) -> String {
    let mut s = format!(" graph · {} nodes", g.nodes.len());
    if ctx.hood {
        let total = ctx.full_nodes;
        s = format!(
            " graph · neighbourhood ({} of {total} nodes)",
            g.nodes.len()
        );
    }
    if ctx.ui.collapse != super::model::Collapse::None {
        s.push_str(&format!(" · {}", ctx.ui.collapse.name()));
    }
    s.push_str(match ctx.ui.label_mode {
        LabelMode::RpsSuccess => " · rps, success",
        LabelMode::P95 => " · p95",
    });
    let focus = ctx
        .ui
        .focus
        .as_ref()
        .and_then(|f| g.index.get(f))
        .map(|&i| &g.nodes[i].label);
    if let Some(f) = focus {
        s.push_str(&format!(" · selected {f} "));
    } else {
        s.push(' ');
    }
    s
}

fn draw(
    g: &ViewGraph,
    l: &Layout,
    focus: Option<usize>,
    ctx: &Ctx<'_>,
    inner: Rect,
    buf: &mut Buffer,
) {
    let t = ctx.theme;
    // Centre the focus; never scroll past the drawing.
    let (cx, cy) = focus
        .map(|f| {
            let e = &l.elems[l.node_elem[f]];
            (i64::from(e.x + e.w / 2), i64::from(e.y + e.h / 2))
        })
        .unwrap_or((0, 0));
    let fit = |c: i64, view: u16, total: u32| {
        let max = (i64::from(total) - i64::from(view) + 1).max(0);
        (c - i64::from(view) / 2).clamp(0, max)
    };
    let ox = x_offset(l, focus, inner.width).unwrap_or_else(|| fit(cx, inner.width, l.width));
    let oy = fit(cy, inner.height, l.height);
    let cells = usize::from(inner.width) * usize::from(inner.height);
    let mut c = Canvas {
        buf,
        area: inner,
        ox,
        oy,
        bits: vec![0; cells],
        styles: vec![Style::default(); cells],
    };
    let focus_edge = ctx.ui.focus_edge.as_ref();
    let edge_style = |ei: usize| {
        let e = &g.edges[ei];
        let on_focus = focus.is_some_and(|f| e.source == f || e.target == f);
        let picked =
            focus_edge.is_some_and(|(s, tg)| e.members.iter().any(|(ms, mt)| ms == s && mt == tg));
        if picked {
            t.edge_focused
        } else if on_focus {
            health_style(t, e.health, false).add_modifier(Modifier::BOLD)
        } else {
            health_style(t, e.health, false)
        }
    };
    // Lines: quiet edges first so failing and focused ones win shared cells.
    // Only hops whose bounding box meets the viewport are drawn (labels included).
    let (vx0, vy0) = (ox - 1, oy - 1);
    let (vx1, vy1) = (ox + i64::from(inner.width), oy + i64::from(inner.height));
    let mut order: Vec<usize> = (0..l.hops.len())
        .filter(|&hi| {
            let h = &l.hops[hi];
            let (from, to) = (&l.elems[h.from], &l.elems[h.to]);
            let (x0, x1) = (i64::from(from.x), i64::from(to.x + to.w));
            let y0 = i64::from(h.y_from.min(h.y_to).min(from.y).min(to.y));
            let y1 = i64::from(h.y_from.max(h.y_to).max(from.y).max(to.y));
            x1 >= vx0 && x0 <= vx1 && y1 >= vy0 && y0 <= vy1
        })
        .collect();
    let rank = |ei: usize| {
        let e = &g.edges[ei];
        let on_focus = focus.is_some_and(|f| e.source == f || e.target == f);
        (on_focus, e.health)
    };
    order.sort_by_key(|&h| rank(l.hops[h].edge));
    for &hi in &order {
        let h = &l.hops[hi];
        let st = edge_style(h.edge);
        let (from, to) = (&l.elems[h.from], &l.elems[h.to]);
        let x_out = i64::from(from.x + from.w) - 1;
        let x_in = i64::from(to.x);
        let xc = i64::from(h.xc);
        c.hline(i64::from(h.y_from), x_out, xc, st);
        c.vline(xc, i64::from(h.y_from), i64::from(h.y_to), st);
        c.hline(i64::from(h.y_to), xc, x_in, st);
        for d in [from, to] {
            if d.node.is_none() {
                c.hline(i64::from(d.y), i64::from(d.x), i64::from(d.x + d.w) - 1, st);
            }
        }
    }
    c.flush_lines();
    // Arrows and labels.
    for &hi in &order {
        let h = &l.hops[hi];
        let st = edge_style(h.edge);
        let (from, to) = (&l.elems[h.from], &l.elems[h.to]);
        match h.arrow {
            Arrow::Right => c.put(i64::from(to.x) - 1, i64::from(h.y_to), "▶", st),
            Arrow::Left => c.put(i64::from(from.x + from.w), i64::from(h.y_from), "◀", st),
            Arrow::None => {}
        }
        if let Some(lx) = h.label_x {
            let e = &g.edges[h.edge];
            let (mark, mark_style) = mtls_mark(t, e.mtls);
            let text = edge_label(e, ctx.ui.label_mode);
            let max = l.label_w as usize;
            let mut x = i64::from(lx);
            if !mark.is_empty() {
                c.put(x, i64::from(h.y_to), mark, mark_style);
                x += fmt::width(mark) as i64;
            }
            let room = max.saturating_sub(fmt::width(mark));
            let label_style = if st == t.edge_focused {
                st
            } else {
                t.edge_label
            };
            c.put(x, i64::from(h.y_to), &truncate(&text, room), label_style);
        }
    }
    // Boxes.
    for (ni, n) in g.nodes.iter().enumerate() {
        let e = &l.elems[l.node_elem[ni]];
        let (x, y, w, hgt) = (
            i64::from(e.x),
            i64::from(e.y),
            i64::from(e.w),
            i64::from(e.h),
        );
        if x > ox + i64::from(inner.width)
            || x + w < ox
            || y > oy + i64::from(inner.height)
            || y + hgt < oy
        {
            continue;
        }
        let focused = Some(ni) == focus;
        let border = if focused {
            t.border_focused
        } else {
            health_style(t, n.health, true)
        };
        let inner_w = (w - 2).max(0) as usize;
        c.put(x, y, &format!("┌{}┐", "─".repeat(inner_w)), border);
        for r in 1..hgt - 1 {
            c.put(x, y + r, "│", border);
            c.put(x + 1, y + r, &" ".repeat(inner_w), t.text);
            c.put(x + w - 1, y + r, "│", border);
        }
        c.put(
            x,
            y + hgt - 1,
            &format!("└{}┘", "─".repeat(inner_w)),
            border,
        );
        let glyph = health_glyph(t, n.health);
        let label = truncate(&n.label, MAX_LABEL.min(inner_w.saturating_sub(2)));
        let label_style = if focused { t.node_focused } else { t.text };
        c.put(x + 1, y + 1, glyph, health_style(t, n.health, true));
        c.put(x + 3, y + 1, &label, label_style);
        for &hi in &e.out_hops {
            c.put(x + w - 1, i64::from(l.hops[hi].y_from), "├", border);
        }
        for &hi in &e.in_hops {
            c.put(x, i64::from(l.hops[hi].y_to), "┤", border);
        }
    }
}
