//! The waterfall screen: one sample trace of an edge, opened from the
//! edge's detail. Only the rows in sight are formatted, so a trace of
//! 100,000 spans draws as fast as one of ten.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use super::Ctx;
use crate::app::state::TracePane;

/// The waterfall pane of trace `trace_id`.
pub struct TracePaneView<'a, 'b> {
    pub ctx: &'b Ctx<'a>,
    pub trace_id: &'b str,
}

impl Widget for TracePaneView<'_, '_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.ctx;
        let t = ctx.theme;
        let mut title = format!(" waterfall · trace {} ", self.trace_id);
        let help = " j/k scroll · g/G top/bottom · esc back to the edge ";
        if title.chars().count() + help.chars().count() <= usize::from(area.width) {
            title.push_str(&format!("·{help}"));
        } else {
            title = help.to_string();
        }
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border_focused)
            .title(title)
            .title_style(t.title);
        let inner = block.inner(area);
        block.render(area, buf);
        let width = usize::from(inner.width);
        let height = usize::from(inner.height);
        let (lines, wrap) = match &ctx.ui.trace_pane {
            Some(TracePane::Ready(w)) => {
                let rows = height.saturating_sub(1);
                let from = ctx
                    .ui
                    .waterfall_scroll
                    .min(w.rows.len().saturating_sub(rows));
                let mut lines = vec![w.title(t, width)];
                lines.extend(w.row_lines(t, width, from, rows));
                (lines, false)
            }
            Some(TracePane::Failed(e)) => (
                vec![
                    Line::styled(
                        format!("trace {} could not be read:", self.trace_id),
                        t.error,
                    ),
                    Line::styled(e.clone(), t.error),
                    Line::styled("esc goes back to the edge", t.muted),
                ],
                true,
            ),
            Some(TracePane::Loading) | None => (
                vec![Line::styled(
                    format!("loading trace {} from the trace source…", self.trace_id),
                    t.muted,
                )],
                true,
            ),
        };
        let p = Paragraph::new(lines).style(t.text);
        let p = if wrap {
            p.wrap(Wrap { trim: false })
        } else {
            p
        };
        p.render(inner, buf);
    }
}
