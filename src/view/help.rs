//! The help screen, generated from the keymap.

use ratatui::text::{Line, Span};

use super::Ctx;
use super::text::heading;
use crate::app::action::View;

/// The lines of the help for `view`.
pub fn lines<'a>(ctx: &Ctx<'a>, view: View) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let mut out = vec![heading(t, &format!("Keys in the {} view", view.name()))];
    for (keys, action) in ctx.keymap.bindings_for(view) {
        out.push(Line::from(vec![
            Span::styled(format!("  {keys:<18}"), t.key),
            Span::styled(action.describe(), t.text),
        ]));
    }
    match view {
        View::Detail => {
            out.push(heading(t, "Sample traces (an edge's detail)"));
            for line in [
                "  j/k ↑/↓ pick one of the edge's sample traces (▶)",
                "  enter   open its waterfall (spans fetched from the trace source)",
                "  ctrl-d/ctrl-u scroll the detail",
            ] {
                out.push(Line::styled(line, t.text));
            }
        }
        View::Waterfall => {
            out.push(heading(t, "Waterfall"));
            for line in [
                "  one span per row, indented under its parent, bars on the trace's time axis",
                "  ━ the critical path: the stretches that set the end-to-end time",
                "  j/k scroll · ctrl-d/u half a page · g/G top/bottom · esc back to the edge",
            ] {
                out.push(Line::styled(line, t.text));
            }
        }
        _ => {}
    }
    out.push(heading(t, "Command line (:)"));
    for (cmd, what) in [
        (
            ":ns NAME",
            "watch namespace NAME (:ns all for every namespace)",
        ),
        (":ctx NAME", "switch to kube context NAME"),
        (":graph :workloads :edges", "go to a view"),
        (":gaps :rules :help", "go to a view"),
        (":q", "quit"),
    ] {
        out.push(Line::from(vec![
            Span::styled(format!("  {cmd:<26}"), t.key),
            Span::styled(what, t.text),
        ]));
    }
    out.push(heading(t, "Filter (/)"));
    out.push(Line::styled(
        "  /text keeps rows containing text; /!text hides them; esc clears",
        t.text,
    ));
    out.push(heading(t, "Health"));
    out.push(Line::from(vec![
        Span::styled(format!("  {} healthy  ", t.healthy), t.node_healthy),
        Span::styled(
            format!("{} degraded (some 5xx)  ", t.degraded),
            t.node_degraded,
        ),
        Span::styled(
            format!("{} failing (≥ 10% errors)  ", t.failing),
            t.node_failing,
        ),
        Span::styled(format!("{} no traffic", t.neutral), t.node_neutral),
    ]));
    out.push(Line::from(vec![
        Span::styled(format!("  {} mTLS full  ", t.lock), t.mtls_full),
        Span::styled(format!("{} mTLS partial or off", t.warn), t.mtls_off),
    ]));
    out
}
