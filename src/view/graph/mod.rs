//! The workload graph: model (collapse, aggregation), layout, drawing.

pub mod layout;
pub mod model;
mod render;
pub mod synthetic;

pub use render::{GraphView, edge_label, health_glyph, health_style, mtls_mark};

use crate::model::snapshot::MtlsStatus;
use crate::view::theme::Theme;

/// The mTLS mark alone, as text.
pub fn mtls_mark_text(t: &Theme, s: MtlsStatus) -> String {
    mtls_mark(t, s).0.to_string()
}
