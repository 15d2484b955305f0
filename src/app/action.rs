//! Actions (what a key means) and views (where the user is).

/// A screen of the TUI. The first five are tabs; `Detail`, `Help` and
/// `Waterfall` (a sample trace, from an edge's detail) open over them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum View {
    #[default]
    Graph,
    Workloads,
    Edges,
    Gaps,
    Rules,
    Detail,
    Help,
    Waterfall,
}

impl View {
    /// The tabs, in `tab` order.
    pub const TABS: [View; 5] = [
        View::Graph,
        View::Workloads,
        View::Edges,
        View::Gaps,
        View::Rules,
    ];

    /// The name shown in the tab bar and accepted by `:NAME`.
    pub fn name(self) -> &'static str {
        match self {
            View::Graph => "graph",
            View::Workloads => "workloads",
            View::Edges => "edges",
            View::Gaps => "gaps",
            View::Rules => "rules",
            View::Detail => "detail",
            View::Help => "help",
            View::Waterfall => "waterfall",
        }
    }
}

macro_rules! actions {
    ($($variant:ident => $name:literal, $doc:literal;)*) => {
        /// Everything a key can ask for. `App::update` is the only place that acts on them.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $(#[doc = $doc] $variant,)*
        }

        impl Action {
            /// Every action, in help order.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The name used in the `[keys]` table of the config file.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// One line describing the action, for the help screen.
            pub fn describe(self) -> &'static str {
                match self { $(Action::$variant => $doc,)* }
            }

            /// The action with that config name.
            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    Quit => "quit", "quit meshscope";
    NextView => "next_view", "next view";
    PrevView => "prev_view", "previous view";
    Back => "back", "back: clear the filter, close detail or help";
    Help => "help", "show the keys of this view";
    CommandLine => "command", "command line (:ns NAME, :ctx NAME, :graph, :q…)";
    Filter => "filter", "filter rows (esc clears)";
    Up => "up", "move up";
    Down => "down", "move down";
    Left => "left", "move left (graph: to a caller)";
    Right => "right", "move right (graph: to a callee)";
    Top => "top", "go to the top";
    Bottom => "bottom", "go to the bottom";
    PageDown => "page_down", "half a page down";
    PageUp => "page_up", "half a page up";
    Select => "select", "open the detail of the selection (or a sample trace)";
    Refresh => "refresh", "refresh now";
    Pause => "pause", "pause or resume collection";
    SortNext => "sort_next", "sort by the next column";
    SortReverse => "sort_reverse", "reverse the sort order";
    ToggleLabel => "toggle_label", "edge labels: rps and success, or p95";
    Collapse => "collapse", "collapse: none, by app (versions), by namespace";
    Neighbourhood => "neighbourhood", "show only the selection's neighbourhood";
    ShowGraph => "view_graph", "go to the graph";
    ShowWorkloads => "view_workloads", "go to the workloads table";
    ShowEdges => "view_edges", "go to the edges table";
    ShowGaps => "view_gaps", "go to the gaps";
    ShowRules => "view_rules", "go to the rules";
}
