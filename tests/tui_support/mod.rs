//! Shared helpers for the TUI tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use meshscope::app::App;
use meshscope::app::keymap::Keymap;
use meshscope::model::snapshot::Snapshot;
use meshscope::view::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

pub fn fixture(name: &str) -> Snapshot {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/snapshots")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub fn bookinfo() -> Arc<Snapshot> {
    Arc::new(fixture("bookinfo.json"))
}

/// An app on the fixture with the default theme and a fixed refresh age.
pub fn app(snap: Arc<Snapshot>) -> App {
    let mut app = App::new(
        snap,
        Theme::builtin("default").unwrap(),
        Keymap::default(),
        None,
    );
    app.ui.refresh_age = Some(Duration::from_secs(3));
    app
}

pub fn render(app: &App, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| f.render_widget(&app.screen(), f.area()))
        .unwrap();
    term
}
