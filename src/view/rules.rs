//! The Rules view: the declared topology and rule diffs.

use ratatui::text::{Line, Span};

use super::Ctx;
use super::text::heading;
use crate::model::snapshot::Change;

/// A one-line summary of a declared route or policy (`Kind namespace/name`,
/// else compact JSON).
pub fn summarize(v: &serde_json::Value) -> String {
    let kind = v.get("kind").and_then(|k| k.as_str());
    let meta = v.get("metadata");
    let name = meta
        .and_then(|m| m.get("name"))
        .and_then(|n| n.as_str())
        .or_else(|| v.get("name").and_then(|n| n.as_str()));
    let ns = meta
        .and_then(|m| m.get("namespace"))
        .and_then(|n| n.as_str())
        .or_else(|| v.get("namespace").and_then(|n| n.as_str()));
    match (kind, name) {
        (Some(k), Some(n)) => {
            let mut s = format!("{k} {}{n}", ns.map(|x| format!("{x}/")).unwrap_or_default());
            let compact = serde_json::to_string(v.get("spec").unwrap_or(v)).unwrap_or_default();
            s.push_str(&format!("  {compact}"));
            s
        }
        _ => serde_json::to_string(v).unwrap_or_default(),
    }
}

/// The lines of the Rules view.
pub fn lines<'a>(ctx: &Ctx<'a>) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let d = &ctx.snap.declared;
    let mut out = Vec::new();
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
    out.push(heading(
        t,
        &format!("Rule diffs ({})", ctx.snap.rule_diffs.len()),
    ));
    if ctx.snap.rule_diffs.is_empty() {
        out.push(Line::styled("  no rule diffs yet", t.muted));
    }
    for rd in &ctx.snap.rule_diffs {
        let (word, style) = match rd.change {
            Change::Added => ("added", t.diff_added),
            Change::Removed => ("removed", t.diff_removed),
            Change::Modified => ("modified", t.diff_modified),
        };
        out.push(Line::from(vec![
            Span::styled(format!("  {word:<9}"), style),
            Span::styled(rd.resource.clone(), t.text),
        ]));
        for l in rd.diff.lines() {
            let st = if l.starts_with('+') {
                t.diff_added
            } else if l.starts_with('-') {
                t.diff_removed
            } else {
                t.muted
            };
            out.push(Line::styled(format!("      {l}"), st));
        }
    }
    out
}
