//! Gaps, declared rules and rule changes that touch the target.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::snapshot::{Evidence, Gap, RuleDiff, Snapshot};
use crate::model::touch::{entry_touches, subject_touches};
use crate::triage::resolve::Target;

/// What touches the target besides its traffic.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Touching {
    /// Gaps whose subject names the target or one of its workloads.
    pub gaps: Vec<Gap>,
    /// Declared routes and policies that name it (`Kind/ns/name`).
    pub rules: Vec<String>,
    /// Rule changes of those rules (or naming it).
    pub rule_diffs: Vec<RuleDiff>,
    /// Whether any edge touching it has trace evidence.
    pub traces: bool,
}

/// The `ns/name` forms that stand for the target.
fn names(t: &Target) -> Vec<String> {
    let mut v = vec![format!("{}/{}", t.namespace, t.name)];
    v.extend(t.workloads.iter().cloned());
    v.sort();
    v.dedup();
    v
}

fn resource_of(v: &serde_json::Value) -> Option<String> {
    v.get("resource").and_then(|r| r.as_str()).map(String::from)
}

/// Gaps, rules and rule diffs touching `t`.
pub fn touching(snap: &Snapshot, t: &Target) -> Touching {
    let names = names(t);
    let gaps: Vec<Gap> = snap
        .gaps
        .iter()
        .filter(|g| subject_touches(&g.subject, &names))
        .cloned()
        .collect();
    let mut rules: Vec<String> = snap
        .declared
        .routes
        .iter()
        .chain(&snap.declared.policies)
        .filter(|v| entry_touches(v, &names))
        .filter_map(resource_of)
        .collect();
    rules.sort();
    rules.dedup();
    let rule_diffs: Vec<RuleDiff> = snap
        .rule_diffs
        .iter()
        .filter(|d| rules.contains(&d.resource) || subject_touches(&d.resource, &names))
        .cloned()
        .collect();
    let traces = snap.edges.iter().any(|e| {
        (t.contains(&e.source) || t.contains(&e.target)) && e.evidence.contains(&Evidence::Traces)
    });
    Touching {
        gaps,
        rules,
        rule_diffs,
        traces,
    }
}
