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
pub mod par;
pub mod record;
pub mod sim;
pub mod triage;
pub mod tui;
pub mod view;

/// mimalloc instead of glibc's allocator: the graph build, the scrape
/// parsers and the snapshot's many small strings spent up to a third of
/// their time in glibc's free-list consolidation (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
