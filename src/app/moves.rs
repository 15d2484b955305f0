//! Cursor movement: along edges in the graph, by rows in tables and lists.

use super::App;
use super::action::{Action, View};

impl App {
    /// Keeps the graph focus on a drawn node (following collapse changes) and
    /// the neighbourhood centred on it.
    pub(crate) fn fix_focus(&mut self) {
        let g = &self.graph.full.graph;
        let focus = match self.ui.focus.take() {
            Some(f) if g.index.contains_key(&f) => Some(f),
            Some(f) => g
                .nodes
                .iter()
                .find(|n| n.members.contains(&f))
                .or_else(|| {
                    // Leaving a collapsed group: its first member that is drawn.
                    let prefix = f.split_once(':').map(|(_, rest)| rest.to_string());
                    prefix.and_then(|p| g.nodes.iter().find(|n| n.id.starts_with(&p)))
                })
                .map(|n| n.id.clone()),
            None => None,
        };
        self.ui.focus = focus.or_else(|| self.graph.default_focus());
        if self.hood_active()
            && let Some(f) = self.ui.focus.clone()
        {
            self.graph.set_hood(&f);
        }
    }

    pub(crate) fn movement(&mut self, action: Action) {
        let page = usize::from(self.ui.page_rows / 2).max(1);
        match self.ui.active_view() {
            View::Graph => self.graph_move(action),
            View::Workloads | View::Edges => {
                let n = crate::view::table::rows(&self.snapshot, self.ui.view, self.table_state())
                    .len();
                if let Some(t) = self.ui.table_mut() {
                    t.selected = step(t.selected, n, action, page);
                }
            }
            View::Gaps => {
                let n = self.snapshot.gaps.len();
                self.ui.gaps_selected = step(self.ui.gaps_selected, n, action, page);
            }
            View::Waterfall => self.scroll_waterfall(action),
            View::Detail if self.pick_sample(action) => {}
            View::Rules | View::Detail | View::Help => {
                let view = self.ui.active_view();
                let lines = self.screen().text_lines(view);
                let max = lines.saturating_sub(usize::from(self.ui.page_rows));
                let offset = match view {
                    View::Rules => &mut self.ui.rules_scroll,
                    View::Detail => &mut self.ui.detail_scroll,
                    _ => &mut self.ui.help_scroll,
                };
                scroll(offset, action, page, max);
            }
        }
    }

    fn graph_move(&mut self, action: Action) {
        let laid = self.laid();
        let (g, l) = (&laid.graph, &laid.layout);
        let Some(cur) = self
            .ui
            .focus
            .as_ref()
            .and_then(|f| g.index.get(f))
            .copied()
            .filter(|&c| c < l.node_elem.len())
        else {
            self.fix_focus();
            return;
        };
        let cur_elem = &l.elems[l.node_elem[cur]];
        let cur_mid = cur_elem.y + cur_elem.h / 2;
        let nearest = |cands: Vec<usize>| {
            cands.into_iter().min_by_key(|&n| {
                let e = &l.elems[l.node_elem[n]];
                ((e.y + e.h / 2).abs_diff(cur_mid), n)
            })
        };
        let layer: Vec<usize> = l.layers[cur_elem.layer]
            .iter()
            .filter_map(|&e| l.elems[e].node)
            .collect();
        let pos = layer.iter().position(|&n| n == cur).unwrap_or(0);
        let page = usize::from(self.ui.page_rows / 8).max(1);
        let target = match action {
            Action::Right => nearest(
                g.edges
                    .iter()
                    .filter(|e| e.source == cur && e.target != cur)
                    .map(|e| e.target)
                    .collect(),
            ),
            Action::Left => nearest(
                g.edges
                    .iter()
                    .filter(|e| e.target == cur && e.source != cur)
                    .map(|e| e.source)
                    .collect(),
            ),
            Action::Up => pos.checked_sub(1).map(|p| layer[p]),
            Action::Down => layer.get(pos + 1).copied(),
            Action::Top => layer.first().copied(),
            Action::Bottom => layer.last().copied(),
            Action::PageDown => layer
                .get((pos + page).min(layer.len().saturating_sub(1)))
                .copied(),
            Action::PageUp => layer.get(pos.saturating_sub(page)).copied(),
            _ => None,
        };
        if let Some(t) = target {
            self.ui.focus = Some(g.nodes[t].id.clone());
            self.ui.focus_edge = None;
            self.fix_focus();
        }
    }
}

fn step(cur: usize, n: usize, action: Action, page: usize) -> usize {
    if n == 0 {
        return 0;
    }
    let last = n - 1;
    match action {
        Action::Up => cur.saturating_sub(1),
        Action::Down => (cur + 1).min(last),
        Action::Top => 0,
        Action::Bottom => last,
        Action::PageDown => (cur + page).min(last),
        Action::PageUp => cur.saturating_sub(page),
        _ => cur,
    }
    .min(last)
}

fn scroll(offset: &mut usize, action: Action, page: usize, max: usize) {
    *offset = match action {
        Action::Up => offset.saturating_sub(1),
        Action::Down => *offset + 1,
        Action::Top => 0,
        Action::Bottom => max,
        Action::PageDown => *offset + page,
        Action::PageUp => offset.saturating_sub(page),
        _ => *offset,
    }
    .min(max);
}
