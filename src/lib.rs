//! meshscope: a terminal observatory for service meshes.
//!
//! The flow runs one way: `collect` (I/O at the edge) → `mesh` dialects →
//! `model` (pure) → `analyze` (pure) → [`model::snapshot::Snapshot`] → the TUI
//! or headless output. See ARCHITECTURE.md in the shared folder.

pub mod analyze;
pub mod app;
pub mod app_main;
pub mod cli;
pub mod collect;
pub mod diff;
pub mod mesh;
pub mod model;
pub mod output;
pub mod record;
pub mod sim;
pub mod triage;
pub mod tui;
pub mod view;
