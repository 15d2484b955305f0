//! The Workloads and Edges tables (like `linkerd viz stat` and `linkerd viz edges`).

mod rows;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Cell, Row, StatefulWidget, Table, TableState as RtState, Widget,
};

pub use rows::{SortKey, TRow, Tone, column_count, matches, rows};
use rows::{cols, rows_with};

use super::Ctx;
use super::fmt::{self, Health};
use crate::app::action::View;
use crate::model::snapshot::MtlsStatus;

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
