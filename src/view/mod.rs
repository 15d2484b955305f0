//! Pure rendering of `(&Snapshot, &UiState, &Theme)`: no channels, locks or I/O.

pub mod critical;
pub mod declared_text;
pub mod detail;
pub mod fmt;
pub mod gaps;
pub mod graph;
pub mod help;
pub mod rules;
pub mod status;
pub mod table;
pub mod text;
pub mod theme;
pub mod trace_pane;
pub mod waterfall;

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use crate::app::App;
use crate::app::action::View;
use crate::app::graph_cache::Laid;
use crate::app::history::History;
use crate::app::keymap::Keymap;
use crate::app::state::{InputMode, Overlay, UiState};
use crate::model::snapshot::Snapshot;
use fmt::Health;
use theme::Theme;

/// Everything a view may read.
pub struct Ctx<'a> {
    pub snap: &'a Snapshot,
    pub ui: &'a UiState,
    pub theme: &'a Theme,
    pub history: &'a History,
    pub keymap: &'a Keymap,
    /// The graph being drawn (neighbourhood or whole).
    pub laid: &'a Laid,
    /// Whether `laid` is a neighbourhood.
    pub hood: bool,
    /// Nodes in the whole drawn graph.
    pub full_nodes: usize,
    /// The sample traces of the edge whose detail is open.
    pub samples: &'a [crate::model::snapshot::TraceExemplar],
}

/// The whole screen.
pub struct Screen<'a> {
    pub ctx: Ctx<'a>,
}

impl App {
    /// The screen for the current state (render it with `frame.render_widget(&app.screen(), area)`).
    pub fn screen(&self) -> Screen<'_> {
        Screen {
            ctx: Ctx {
                snap: &self.snapshot,
                ui: &self.ui,
                theme: &self.theme,
                history: &self.history,
                keymap: &self.keymap,
                laid: self.laid(),
                hood: self.hood_active(),
                full_nodes: self.graph.full.graph.nodes.len(),
                samples: self.edge_samples(),
            },
        }
    }
}

/// Rows taken by `lines` wrapped at `cols` columns (an estimate: word wrapping may add a few).
fn wrapped_rows(lines: &[Line<'_>], cols: u16) -> usize {
    let cols = usize::from(cols.max(1));
    lines.iter().map(|l| l.width().div_ceil(cols).max(1)).sum()
}

pub(crate) fn graph_health_style(t: &Theme, h: Health) -> Style {
    graph::health_style(t, h, true)
}

impl Screen<'_> {
    /// Rows a text view (rules, detail, help) takes once wrapped, for scrolling limits.
    pub fn text_lines(&self, view: View) -> usize {
        wrapped_rows(&self.lines(view), self.ctx.ui.page_cols)
    }

    fn lines(&self, view: View) -> Vec<Line<'_>> {
        let ctx = &self.ctx;
        match (view, &ctx.ui.overlay) {
            (View::Detail, Some(Overlay::Detail(s))) => detail::lines(ctx, s),
            (View::Help, _) => help::lines(ctx, ctx.ui.help_view()),
            (View::Rules, _) => rules::lines(ctx),
            _ => Vec::new(),
        }
    }

    fn text_view(&self, view: View, title: String, scroll: usize, area: Rect, buf: &mut Buffer) {
        let t = self.ctx.theme;
        let lines = self.lines(view);
        let max = lines
            .len()
            .saturating_sub(usize::from(area.height.saturating_sub(2)));
        let scroll = scroll.min(max).min(usize::from(u16::MAX)) as u16;
        Paragraph::new(lines)
            .style(t.text)
            .block(
                Block::default()
                    .borders(Borders::ALL)
                    .border_style(t.border_focused)
                    .title(title)
                    .title_style(t.title),
            )
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
            .render(area, buf);
    }
}

impl Widget for &Screen<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let ctx = &self.ctx;
        buf.set_style(area, ctx.theme.text);
        let input_rows = u16::from(ctx.ui.mode != InputMode::Normal || ctx.ui.flash.is_some());
        let [top, body, input, bottom] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Fill(1),
            Constraint::Length(input_rows),
            Constraint::Length(1),
        ])
        .areas(area);
        status::tabs(ctx, top, buf);
        match &ctx.ui.overlay {
            Some(Overlay::Help) => {
                let title = format!(
                    " help · {} · j/k scroll · esc closes ",
                    ctx.ui.help_view().name()
                );
                self.text_view(View::Help, title, ctx.ui.help_scroll, body, buf);
            }
            Some(Overlay::Waterfall { trace_id, .. }) => {
                trace_pane::TracePaneView { ctx, trace_id }.render(body, buf);
            }
            Some(Overlay::Detail(_)) => {
                let title = if ctx.samples.is_empty() {
                    " detail · j/k scroll · esc back "
                } else {
                    " detail · j/k pick a trace · enter waterfall · ctrl-d/u scroll · esc back "
                };
                self.text_view(View::Detail, title.into(), ctx.ui.detail_scroll, body, buf);
            }
            None => match ctx.ui.view {
                View::Graph => graph::GraphView { ctx }.render(body, buf),
                View::Workloads | View::Edges => table::TableView {
                    ctx,
                    view: ctx.ui.view,
                }
                .render(body, buf),
                View::Gaps => gaps::GapsView { ctx }.render(body, buf),
                View::Rules | View::Detail | View::Help | View::Waterfall => {
                    let mtls = ctx
                        .snap
                        .mtls_summary
                        .as_ref()
                        .map(|m| format!("· mesh mTLS {} ", rules::badge(ctx, m.mesh.status).0))
                        .unwrap_or_default();
                    let title = format!(
                        " rules ({} routes, {} policies, {} diffs) {mtls}",
                        ctx.snap.declared.routes.len(),
                        ctx.snap.declared.policies.len(),
                        ctx.snap.rule_diffs.len()
                    );
                    self.text_view(View::Rules, title, ctx.ui.rules_scroll, body, buf);
                }
            },
        }
        status::input(ctx, input, buf);
        status::status(ctx, bottom, buf);
    }
}
