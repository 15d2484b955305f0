//! Small text helpers shared by the text views.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::theme::Theme;
use crate::model::snapshot::Severity;

/// A section heading.
pub fn heading<'a>(t: &Theme, s: &str) -> Line<'a> {
    Line::styled(s.to_string(), t.header)
}

/// `  key         value`.
pub fn kv<'a>(t: &Theme, key: &str, value: String) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!("  {key:<12}"), t.muted),
        Span::styled(value, t.text),
    ])
}

/// The style of a gap severity.
pub fn severity_style(t: &Theme, s: Severity) -> Style {
    match s {
        Severity::Critical => t.severity_critical,
        Severity::Warning => t.severity_warning,
        Severity::Info => t.severity_info,
    }
}
