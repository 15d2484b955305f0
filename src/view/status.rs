//! The tab bar, the status bar and the input line.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::Ctx;
use crate::app::action::{Action, View};
use crate::app::state::InputMode;
use crate::model::snapshot::SourceState;

/// `3s`, `2m10s`, `1h05m`.
pub fn age(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Draws the tab bar on one row.
pub fn tabs(ctx: &Ctx<'_>, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    let active = ctx.ui.view;
    let mut spans = vec![Span::styled(" meshscope ", t.title)];
    for (i, v) in View::TABS.iter().enumerate() {
        let mut label = format!(" {} {} ", i + 1, v.name());
        if *v == View::Gaps && !ctx.snap.gaps.is_empty() {
            label = format!(" {} {} {} ", i + 1, v.name(), ctx.snap.gaps.len());
        }
        let style = if *v == active && ctx.ui.overlay.is_none() {
            t.tab_active
        } else {
            t.tab_inactive
        };
        spans.push(Span::styled(label, style));
    }
    let help = ctx
        .keymap
        .first_key(Action::Help)
        .unwrap_or_else(|| "?".into());
    let line = Line::from(spans);
    let hint = format!(" {help} help ");
    line.render(area, buf);
    let hw = hint.chars().count() as u16;
    let used = ctx_width(ctx);
    if area.width >= used + hw {
        buf.set_string(area.x + area.width - hw, area.y, hint, t.muted);
    }
}

fn ctx_width(ctx: &Ctx<'_>) -> u16 {
    let mut w = 11u16;
    for (i, v) in View::TABS.iter().enumerate() {
        w += format!(" {} {} ", i + 1, v.name()).chars().count() as u16;
        if *v == View::Gaps && !ctx.snap.gaps.is_empty() {
            w += ctx.snap.gaps.len().to_string().len() as u16 + 1;
        }
    }
    w
}

/// Draws the status bar on one row.
pub fn status(ctx: &Ctx<'_>, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    buf.set_style(area, t.status_bar);
    let sep = || Span::styled(" │ ", t.status_bar);
    let mut spans = Vec::new();
    if ctx.ui.progress.paused {
        spans.push(Span::styled(" PAUSED ", t.paused));
    }
    let context = ctx
        .ui
        .context
        .clone()
        .or_else(|| ctx.snap.cluster.as_ref().and_then(|c| c.context.clone()))
        .unwrap_or_else(|| "-".into());
    spans.push(Span::styled(format!(" ctx {context}"), t.status_bar));
    spans.push(sep());
    spans.push(Span::styled(
        format!("ns {}", ctx.ui.namespace.as_deref().unwrap_or("all")),
        t.status_bar,
    ));
    spans.push(sep());
    let mesh = ctx.snap.mesh.kind.as_str();
    let mesh = match &ctx.snap.mesh.version {
        Some(v) => format!("{mesh} {v}"),
        None => mesh.to_string(),
    };
    spans.push(Span::styled(mesh, t.status_bar));
    spans.push(sep());
    match ctx.ui.refresh_age {
        Some(d) => spans.push(Span::styled(format!("↻ {} ago", age(d)), t.status_bar)),
        None => spans.push(Span::styled("↻ -", t.status_bar)),
    }
    let p = &ctx.ui.progress;
    if p.total > 0 {
        spans.push(sep());
        spans.push(Span::styled(
            format!("scraped {}/{}", p.scraped, p.total),
            t.status_bar,
        ));
    }
    if let Some(note) = &p.note {
        spans.push(sep());
        spans.push(Span::styled(note.clone(), t.status_bar));
    }
    // Sources: problems first and highlighted, healthy ones compact.
    let mut bad: Vec<Span> = Vec::new();
    let mut ok = Vec::new();
    for s in &ctx.snap.sources {
        match s.status {
            SourceState::Ok => ok.push(s.name.clone()),
            SourceState::Degraded => bad.push(Span::styled(
                format!(" {} degraded ", s.name),
                t.status_degraded,
            )),
            SourceState::Unavailable => bad.push(Span::styled(
                format!(" {} unavailable ", s.name),
                t.status_unavailable,
            )),
        }
    }
    if !bad.is_empty() || !ok.is_empty() {
        spans.push(sep());
        spans.extend(bad);
        if !ok.is_empty() {
            spans.push(Span::styled(format!(" {} ok", ok.join(" ")), t.status_ok));
        }
    }
    Line::from(spans).render(area, buf);
}

/// Draws the command line, the filter being typed, or a message.
pub fn input(ctx: &Ctx<'_>, area: Rect, buf: &mut Buffer) {
    let t = ctx.theme;
    match &ctx.ui.mode {
        InputMode::Command(s) => {
            buf.set_style(area, t.input);
            Line::styled(format!(":{s}▏"), t.input).render(area, buf);
        }
        InputMode::Filter(s) => {
            buf.set_style(area, t.input);
            Line::styled(format!("/{s}▏"), t.input).render(area, buf);
        }
        InputMode::Normal => {
            if let Some(f) = &ctx.ui.flash {
                let style = if f.error { t.error } else { t.muted };
                Line::styled(format!(" {}", f.text), style).render(area, buf);
            }
        }
    }
}
