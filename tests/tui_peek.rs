//! Prints every view of the fixture (run with --nocapture to look at them).
#![allow(clippy::unwrap_used)]
mod tui_support;

use meshscope::app::action::Action;
use tui_support::*;

#[test]
#[ignore = "for looking at screens by eye"]
fn peek() {
    for (w, h) in [(80, 24), (160, 48)] {
        for a in [
            Action::ShowGraph,
            Action::ShowWorkloads,
            Action::ShowEdges,
            Action::ShowGaps,
            Action::ShowRules,
        ] {
            let mut app = app(bookinfo());
            app.update(a);
            println!("{}", render(&app, w, h).backend());
        }
        let mut app = app(bookinfo());
        app.update(Action::Select);
        println!("{}", render(&app, w, h).backend());
        let mut app = tui_support::app(bookinfo());
        app.update(Action::ShowEdges);
        app.update(Action::Bottom);
        app.update(Action::Select);
        println!("{}", render(&app, w, h).backend());
        let mut app = tui_support::app(bookinfo());
        app.update(Action::Help);
        println!("{}", render(&app, w, h).backend());
    }
}
