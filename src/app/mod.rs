//! Application state and the one `update` that changes it. No I/O here: the
//! loop in `crate::tui` feeds keys and snapshots in and carries effects out.

pub mod action;
pub mod command;
pub mod graph_cache;
pub mod history;
pub mod keymap;
mod moves;
pub mod state;
mod traces;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent};

use crate::model::snapshot::Snapshot;
use crate::tui::Command;
use crate::view::theme::Theme;
use action::{Action, View};
use command::LineCommand;
use graph_cache::{GraphCache, Laid};
use history::History;
use keymap::{Key, Keymap};
use state::{Flash, InputMode, LabelMode, Overlay, Subject, UiState};

/// What the loop must do after an update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Leave the TUI.
    Quit,
    /// Send this to the collectors (never blocking).
    Send(Command),
    /// Fetch the spans of this trace (hex id) off the UI thread and hand
    /// them to [`App::trace_arrived`].
    FetchTrace(String),
}

/// The whole application: UI state plus what it derives from the snapshots.
#[derive(Debug, Clone)]
pub struct App {
    pub ui: UiState,
    pub snapshot: Arc<Snapshot>,
    pub history: History,
    pub graph: GraphCache,
    pub keymap: Keymap,
    pub theme: Theme,
}

impl App {
    /// A new app showing `snapshot`; `focus` selects a node at start.
    pub fn new(
        snapshot: Arc<Snapshot>,
        theme: Theme,
        keymap: Keymap,
        focus: Option<String>,
    ) -> App {
        let mut app = App {
            ui: UiState {
                focus,
                page_rows: 20,
                ..UiState::default()
            },
            snapshot: snapshot.clone(),
            history: History::default(),
            graph: GraphCache::default(),
            keymap,
            theme,
        };
        app.set_snapshot(snapshot);
        app
    }

    /// Takes a new snapshot: records history, refreshes the graph, keeps selections valid.
    pub fn set_snapshot(&mut self, snapshot: Arc<Snapshot>) {
        self.history.record(&snapshot);
        self.snapshot = snapshot;
        self.graph.update(&self.snapshot, self.ui.collapse);
        self.fix_focus();
        self.clamp_selections();
    }

    /// The graph being drawn: the focused neighbourhood, or the whole graph.
    pub fn laid(&self) -> &Laid {
        match &self.graph.hood {
            Some((_, laid)) if self.hood_active() => laid,
            _ => &self.graph.full,
        }
    }

    /// Whether the graph shows only the focused node's neighbourhood.
    pub fn hood_active(&self) -> bool {
        self.ui.neighbourhood || self.graph.too_large()
    }

    /// Maps a key to an action (or text editing in the command line and filter).
    pub fn handle_key(&mut self, key: &KeyEvent) -> Option<Effect> {
        if self.ui.mode != InputMode::Normal {
            return self.edit_input(key);
        }
        let action = self
            .keymap
            .lookup(self.ui.active_view(), &Key::from_event(key))?;
        self.update(action)
    }

    /// The one place UI state changes in response to the user.
    pub fn update(&mut self, action: Action) -> Option<Effect> {
        self.ui.flash = None;
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::NextView | Action::PrevView => {
                let tabs = View::TABS;
                let i = tabs.iter().position(|v| *v == self.ui.view).unwrap_or(0);
                let next = if action == Action::NextView {
                    (i + 1) % tabs.len()
                } else {
                    (i + tabs.len() - 1) % tabs.len()
                };
                self.show(tabs[next]);
            }
            Action::ShowGraph => self.show(View::Graph),
            Action::ShowWorkloads => self.show(View::Workloads),
            Action::ShowEdges => self.show(View::Edges),
            Action::ShowGaps => self.show(View::Gaps),
            Action::ShowRules => self.show(View::Rules),
            Action::Back => self.back(),
            Action::Help => {
                self.ui.help_scroll = 0;
                self.ui.overlay = match self.ui.overlay.take() {
                    Some(Overlay::Help) => self.ui.under_help.take(),
                    other => {
                        self.ui.under_help = other;
                        Some(Overlay::Help)
                    }
                };
            }
            Action::CommandLine => self.ui.mode = InputMode::Command(String::new()),
            Action::Filter => {
                if let Some(t) = self.ui.table_mut() {
                    let current = t.filter.clone();
                    self.ui.mode = InputMode::Filter(current);
                }
            }
            Action::Refresh => {
                self.flash("refresh requested", false);
                return Some(Effect::Send(Command::Refresh));
            }
            Action::Pause => {
                self.ui.progress.paused = !self.ui.progress.paused;
                return Some(Effect::Send(Command::Pause(self.ui.progress.paused)));
            }
            Action::ToggleLabel => {
                self.ui.label_mode = match self.ui.label_mode {
                    LabelMode::RpsSuccess => LabelMode::P95,
                    LabelMode::P95 => LabelMode::RpsSuccess,
                };
            }
            Action::Collapse => {
                self.ui.collapse = self.ui.collapse.next();
                self.graph.update(&self.snapshot, self.ui.collapse);
                self.fix_focus();
            }
            Action::Neighbourhood => {
                self.ui.neighbourhood = !self.ui.neighbourhood;
                self.fix_focus();
            }
            Action::SortNext | Action::SortReverse => {
                let ncols = crate::view::table::column_count(self.ui.view);
                if let Some(t) = self.ui.table_mut() {
                    if action == Action::SortNext {
                        t.sort_column = (t.sort_column + 1) % ncols.max(1);
                    } else {
                        t.descending = !t.descending;
                    }
                }
            }
            Action::Select => return self.select(),
            Action::Up
            | Action::Down
            | Action::Left
            | Action::Right
            | Action::Top
            | Action::Bottom
            | Action::PageDown
            | Action::PageUp => self.movement(action),
        }
        None
    }

    fn show(&mut self, view: View) {
        self.ui.view = view;
        self.ui.overlay = None;
        self.ui.under_help = None;
        self.ui.trace_pane = None;
    }

    fn back(&mut self) {
        if self.close_waterfall() {
            return;
        }
        if let Some(o) = self.ui.overlay.take() {
            if o == Overlay::Help {
                self.ui.overlay = self.ui.under_help.take();
            }
            return;
        }
        if let Some(t) = self.ui.table_mut()
            && !t.filter.is_empty()
        {
            t.filter.clear();
            t.selected = 0;
            return;
        }
        self.ui.focus_edge = None;
    }

    fn select(&mut self) -> Option<Effect> {
        match self.ui.active_view() {
            View::Graph => {
                if let Some(f) = &self.ui.focus {
                    self.open_detail(Subject::Node(f.clone()));
                }
            }
            View::Workloads | View::Edges => {
                let rows =
                    crate::view::table::rows(&self.snapshot, self.ui.view, self.table_state());
                let sel = self.table_state().selected;
                if let Some(r) = rows.get(sel) {
                    self.open_detail(r.subject.clone());
                }
            }
            View::Gaps => self.jump_to_gap(),
            View::Detail => return self.open_waterfall(),
            View::Rules | View::Help | View::Waterfall => {}
        }
        None
    }

    fn open_detail(&mut self, subject: Subject) {
        self.ui.detail_scroll = 0;
        self.ui.sample_selected = 0;
        self.ui.overlay = Some(Overlay::Detail(subject));
    }

    fn table_state(&self) -> &state::TableState {
        match self.ui.view {
            View::Edges => &self.ui.edges,
            _ => &self.ui.workloads,
        }
    }

    fn jump_to_gap(&mut self) {
        let Some(gap) = self.snapshot.gaps.get(self.ui.gaps_selected) else {
            return;
        };
        match crate::view::gaps::resolve_subject(&self.snapshot, &gap.subject) {
            Some(Subject::Edge(s, t)) => {
                self.ui.focus = Some(s.clone());
                self.ui.focus_edge = Some((s, t));
            }
            Some(Subject::Node(n)) => {
                self.ui.focus = Some(n);
                self.ui.focus_edge = None;
            }
            None => {
                let text = format!("'{}' is not a node or edge of the graph", gap.subject);
                self.flash(&text, true);
                return;
            }
        }
        self.fix_focus();
        self.show(View::Graph);
    }

    fn flash(&mut self, text: &str, error: bool) {
        self.ui.flash = Some(Flash {
            text: text.to_string(),
            error,
        });
    }

    fn edit_input(&mut self, key: &KeyEvent) -> Option<Effect> {
        let mode = std::mem::take(&mut self.ui.mode);
        let (mut text, is_cmd) = match mode {
            InputMode::Command(t) => (t, true),
            InputMode::Filter(t) => (t, false),
            InputMode::Normal => return None,
        };
        match key.code {
            KeyCode::Esc => {
                if !is_cmd && let Some(t) = self.ui.table_mut() {
                    t.filter.clear();
                }
                return None;
            }
            KeyCode::Enter => {
                return if is_cmd { self.run_line(&text) } else { None };
            }
            KeyCode::Backspace => {
                text.pop();
            }
            KeyCode::Char(c) => text.push(c),
            _ => {}
        }
        if !is_cmd && let Some(t) = self.ui.table_mut() {
            t.filter.clone_from(&text);
            t.selected = 0;
        }
        self.ui.mode = if is_cmd {
            InputMode::Command(text)
        } else {
            InputMode::Filter(text)
        };
        None
    }

    fn run_line(&mut self, line: &str) -> Option<Effect> {
        match command::parse(line) {
            Ok(LineCommand::Quit) => Some(Effect::Quit),
            Ok(LineCommand::Show(View::Help)) => {
                if self.ui.overlay != Some(Overlay::Help) {
                    self.ui.under_help = self.ui.overlay.take();
                }
                self.ui.overlay = Some(Overlay::Help);
                None
            }
            Ok(LineCommand::Show(v)) => {
                self.show(v);
                None
            }
            Ok(LineCommand::Namespace(ns)) => {
                self.ui.namespace.clone_from(&ns);
                let text = format!("namespace: {}", ns.as_deref().unwrap_or("all"));
                self.flash(&text, false);
                Some(Effect::Send(Command::SetNamespace(ns)))
            }
            Ok(LineCommand::Context(ctx)) => {
                self.ui.context = Some(ctx.clone());
                self.flash(&format!("context: {ctx}"), false);
                Some(Effect::Send(Command::SetContext(ctx)))
            }
            Err(e) => {
                self.flash(&e, true);
                None
            }
        }
    }

    fn clamp_selections(&mut self) {
        for view in [View::Workloads, View::Edges] {
            let st = if view == View::Edges {
                &self.ui.edges
            } else {
                &self.ui.workloads
            };
            let n = crate::view::table::rows(&self.snapshot, view, st).len();
            let st = if view == View::Edges {
                &mut self.ui.edges
            } else {
                &mut self.ui.workloads
            };
            st.selected = st.selected.min(n.saturating_sub(1));
        }
        self.ui.gaps_selected = self
            .ui
            .gaps_selected
            .min(self.snapshot.gaps.len().saturating_sub(1));
        self.ui.sample_selected = self
            .ui
            .sample_selected
            .min(self.edge_samples().len().saturating_sub(1));
    }
}
