//! UI state: everything the views read besides the snapshot. Changed only by `App::update`.

use std::time::Duration;

use super::action::View;
use crate::tui::Progress;
use crate::view::graph::model::Collapse;

/// What a detail view is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    /// A snapshot node id, or a collapsed group id from the graph.
    Node(String),
    /// A snapshot edge (source, target).
    Edge(String, String),
}

/// A view opened over the tabs; `esc` closes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Detail(Subject),
    Help,
    /// The waterfall of one sample trace of an edge; `esc` goes back to
    /// the edge's detail.
    Waterfall {
        subject: Subject,
        trace_id: String,
    },
}

/// The spans of the trace a waterfall shows: fetched off the UI thread.
#[derive(Debug, Clone, PartialEq)]
pub enum TracePane {
    Loading,
    /// Why the trace could not be read.
    Failed(String),
    Ready(std::sync::Arc<crate::view::waterfall::Waterfall>),
}

/// Normal keys, or typing into the command line or the filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InputMode {
    #[default]
    Normal,
    Command(String),
    Filter(String),
}

/// What edge labels show in the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LabelMode {
    #[default]
    RpsSuccess,
    P95,
}

/// Selection, sort and filter of one table.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableState {
    pub selected: usize,
    pub sort_column: usize,
    pub descending: bool,
    pub filter: String,
}

/// A one-line message under the body (an unknown command, a full command queue…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

/// All UI state.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UiState {
    /// The current tab.
    pub view: View,
    pub overlay: Option<Overlay>,
    pub mode: InputMode,
    pub workloads: TableState,
    pub edges: TableState,
    pub gaps_selected: usize,
    pub rules_scroll: usize,
    pub detail_scroll: usize,
    pub help_scroll: usize,
    /// The sample trace picked in an edge's detail (index into its samples).
    pub sample_selected: usize,
    /// The trace of the open waterfall (`None` when none is open).
    pub trace_pane: Option<TracePane>,
    /// First waterfall row shown.
    pub waterfall_scroll: usize,
    /// The view the help covers (detail, waterfall), restored when it closes.
    pub under_help: Option<Overlay>,
    /// The focused node of the graph (a drawn node id).
    pub focus: Option<String>,
    /// An edge to highlight in the graph (after jumping from a gap).
    pub focus_edge: Option<(String, String)>,
    pub label_mode: LabelMode,
    pub collapse: Collapse,
    /// Show only the focused node's neighbourhood (forced on for large graphs).
    pub neighbourhood: bool,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub progress: Progress,
    /// Time since the last refresh, computed by the loop from `progress`.
    pub refresh_age: Option<Duration>,
    pub flash: Option<Flash>,
    /// Rows of the body at the last draw (for half-page moves).
    pub page_rows: u16,
    /// Columns of the body at the last draw (for wrapped text lengths).
    pub page_cols: u16,
}

impl UiState {
    /// The view whose keys apply now (an overlay, else the tab).
    pub fn active_view(&self) -> View {
        match self.overlay {
            Some(Overlay::Detail(_)) => View::Detail,
            Some(Overlay::Help) => View::Help,
            Some(Overlay::Waterfall { .. }) => View::Waterfall,
            None => self.view,
        }
    }

    /// The view whose keys the help lists: what it covers, else the tab.
    pub fn help_view(&self) -> View {
        match &self.under_help {
            Some(Overlay::Detail(_)) => View::Detail,
            Some(Overlay::Waterfall { .. }) => View::Waterfall,
            _ => self.view,
        }
    }

    /// The table state of the current tab, if it is a table.
    pub fn table_mut(&mut self) -> Option<&mut TableState> {
        match self.view {
            View::Workloads => Some(&mut self.workloads),
            View::Edges => Some(&mut self.edges),
            _ => None,
        }
    }
}
