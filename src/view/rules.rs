//! The Rules view: the declared topology and rule diffs.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::Ctx;
use super::fmt::pct;
use super::text::heading;
use crate::model::snapshot::{Change, DiffSource, MtlsBadge, MtlsScopeSummary, RuleDiff};

pub use super::declared_text::summarize;

/// The lines of the Rules view: the mTLS summary, the rule diffs (what
/// changed first), then the declared routes and policies.
pub fn lines<'a>(ctx: &Ctx<'a>) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let d = &ctx.snap.declared;
    let mut out = Vec::new();
    if let Some(m) = &ctx.snap.mtls_summary {
        out.push(heading(t, "mTLS (declared · observed)"));
        out.push(mtls_line(ctx, "mesh", &m.mesh));
        for ns in &m.namespaces {
            out.push(mtls_line(ctx, ns.namespace.as_deref().unwrap_or("?"), ns));
        }
    }
    out.push(heading(
        t,
        &format!("Rule diffs ({})", ctx.snap.rule_diffs.len()),
    ));
    if ctx.snap.rule_diffs.is_empty() {
        out.push(Line::styled(
            "  no rule diffs (pass --declared DIR to compare with Git; changes seen during the session show here)",
            t.muted,
        ));
    }
    for rd in &ctx.snap.rule_diffs {
        out.extend(diff_lines(ctx, rd));
    }
    out.push(heading(t, &format!("Declared routes ({})", d.routes.len())));
    if d.routes.is_empty() {
        out.push(Line::styled("  no routes known yet (pass --declared PATH, or let meshscope read the mesh's resources)", t.muted));
    }
    for r in &d.routes {
        out.push(Line::styled(format!("  {}", summarize(r)), t.text));
    }
    out.push(heading(
        t,
        &format!("Declared policies ({})", d.policies.len()),
    ));
    if d.policies.is_empty() {
        out.push(Line::styled("  no policies known yet", t.muted));
    }
    for p in &d.policies {
        out.push(Line::styled(format!("  {}", summarize(p)), t.text));
    }
    out
}

/// The words and style of an mTLS badge.
pub fn badge<'a>(ctx: &Ctx<'a>, b: MtlsBadge) -> (&'static str, Style) {
    let t = ctx.theme;
    match b {
        MtlsBadge::Enabled => ("enabled", t.mtls_full),
        MtlsBadge::Partially => ("partially", t.mtls_partial),
        MtlsBadge::NotEnabled => ("not enabled", t.mtls_off),
        MtlsBadge::Disabled => ("disabled", t.mtls_off),
    }
}

/// `  scope  <lock> badge  declared  observed N%  exceptions`.
fn mtls_line<'a>(ctx: &Ctx<'a>, scope: &str, s: &MtlsScopeSummary) -> Line<'a> {
    let t = ctx.theme;
    let (word, style) = badge(ctx, s.status);
    // Pad to the glyph's width so badges line up with and without a lock.
    let lock = match s.status {
        MtlsBadge::Enabled | MtlsBadge::Partially => t.lock.clone(),
        _ => " ".repeat(unicode_width::UnicodeWidthStr::width(t.lock.as_str()).max(1)),
    };
    let mut spans = vec![
        Span::styled(format!("  {scope:<14} "), t.text),
        Span::styled(format!("{lock} {word:<11}"), style),
        Span::styled(format!(" {}", s.declared), t.text),
        Span::styled(format!("  observed {}", pct(s.observed)), t.muted),
    ];
    if !s.exceptions.is_empty() {
        spans.push(Span::styled(
            format!("  except {}", s.exceptions.join(", ")),
            t.mtls_partial,
        ));
    }
    Line::from(spans)
}

/// A diff's heading (change, resource, time, source) and its lines.
fn diff_lines<'a>(ctx: &Ctx<'a>, rd: &RuleDiff) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let (word, style) = match rd.change {
        Change::Added => ("added", t.diff_added),
        Change::Removed => ("removed", t.diff_removed),
        Change::Modified => ("modified", t.diff_modified),
    };
    let mut head = vec![
        Span::styled(format!("  {word:<9}"), style),
        Span::styled(rd.resource.clone(), t.text),
    ];
    if let Some(at) = &rd.at {
        head.push(Span::styled(format!("  {at}"), t.muted));
    }
    match rd.source {
        Some(DiffSource::Declared) => head.push(Span::styled("  Git → live", t.muted)),
        Some(DiffSource::Watch) => head.push(Span::styled("  watch", t.muted)),
        None => {}
    }
    let mut out = vec![Line::from(head)];
    for l in rd.diff.lines() {
        let st = if l.starts_with("+++") || l.starts_with("---") {
            t.muted
        } else if l.starts_with("@@") {
            t.diff_modified
        } else if l.starts_with('+') {
            t.diff_added
        } else if l.starts_with('-') {
            t.diff_removed
        } else {
            t.text
        };
        out.push(Line::styled(format!("      {l}"), st));
    }
    out
}
