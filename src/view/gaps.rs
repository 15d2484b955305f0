//! The Gaps view: findings from `snapshot.gaps`, severity-coloured.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, StatefulWidget, Widget};

use super::Ctx;
use super::fmt::truncate;
use super::text::severity_style;
use crate::app::state::Subject;
use crate::model::snapshot::Snapshot;

/// Finds the node or edge a gap's subject names: an exact node id, an edge
/// written `a -> b` / `a → b` / `a => b`, or else the first node id it mentions.
pub fn resolve_subject(snap: &Snapshot, subject: &str) -> Option<Subject> {
    let s = subject.trim();
    if snap.node(s).is_some() {
        return Some(Subject::Node(s.to_string()));
    }
    for sep in ["->", "→", "=>"] {
        if let Some((a, b)) = s.split_once(sep) {
            let (a, b) = (a.trim(), b.trim());
            if snap.edge(a, b).is_some() || (snap.node(a).is_some() && snap.node(b).is_some()) {
                return Some(Subject::Edge(a.to_string(), b.to_string()));
            }
        }
    }
    // The earliest (then longest) node id mentioned anywhere in the subject.
    snap.nodes
        .iter()
        .filter_map(|n| {
            s.find(n.id.as_str())
                .map(|pos| (pos, std::cmp::Reverse(n.id.len()), &n.id))
        })
        .min()
        .map(|(_, _, id)| Subject::Node(id.clone()))
}

/// The Gaps list.
pub struct GapsView<'a> {
    pub ctx: &'a Ctx<'a>,
}

impl Widget for &GapsView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let ctx = self.ctx;
        let t = ctx.theme;
        let gaps = &ctx.snap.gaps;
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(t.border)
            .title(format!(" gaps ({}) · enter: show in graph ", gaps.len()))
            .title_style(t.title);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        if gaps.is_empty() {
            buf.set_stringn(
                inner.x + 1,
                inner.y,
                "No gaps known yet: nothing differs between what is declared and what is observed.",
                usize::from(inner.width.saturating_sub(1)),
                t.muted,
            );
            return;
        }
        let w = usize::from(inner.width).saturating_sub(4);
        let items: Vec<ListItem> = gaps
            .iter()
            .map(|g| {
                let sev = format!("{:?}", g.severity).to_uppercase();
                let head = Line::from(vec![
                    Span::styled(format!("{sev:<8} "), severity_style(t, g.severity)),
                    Span::styled(format!("{} ", g.kind), t.header),
                    Span::styled(
                        truncate(&g.subject, w.saturating_sub(10 + g.kind.len())),
                        t.text,
                    ),
                ]);
                let msg = Line::styled(
                    format!("         {}", truncate(&g.message, w.saturating_sub(8))),
                    t.muted,
                );
                ListItem::new(vec![head, msg])
            })
            .collect();
        let list = List::new(items)
            .highlight_style(t.selected)
            .highlight_symbol("▌");
        let mut state =
            ListState::default().with_selected(Some(ctx.ui.gaps_selected.min(gaps.len() - 1)));
        StatefulWidget::render(list, inner, buf, &mut state);
    }
}
