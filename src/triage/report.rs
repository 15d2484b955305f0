//! The triage report: what `-o json` prints (docs/triage.schema.json) and
//! what the text form renders.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::snapshot::{Gap, RuleDiff, Snapshot};
use crate::triage::culprit::{Caller, Culprit};
use crate::triage::resolve::Target;
use crate::triage::slo::Slo;
use crate::triage::verdict::{Check, Golden, Judged};

pub const TRIAGE_SCHEMA: &str = "meshscope.triage/v1";

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Healthy,
    Degraded,
    Critical,
}

impl Verdict {
    /// The exit code of CONTRACT.md: 0 healthy, 1 degraded, 2 critical.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Healthy => 0,
            Verdict::Degraded => 1,
            Verdict::Critical => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Degraded => "degraded",
            Verdict::Critical => "critical",
        }
    }
}

/// The service triaged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Subject {
    /// `svc:ns/name` or `ns/name`.
    pub id: String,
    /// `service` or `workload`.
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// The workloads behind it.
    pub workloads: Vec<String>,
}

/// One golden signal now and in the baseline window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SignalChange {
    /// `rps`, `success_rate`, `error_rps`, `p50_ms`, `p95_ms`, `p99_ms`.
    pub name: String,
    pub now: Option<f64>,
    pub baseline: Option<f64>,
    /// `now - baseline` (absolute; for success_rate in share points).
    pub change: Option<f64>,
}

/// Where the errors come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Errors {
    /// The target's failed responses per second (inbound).
    pub error_rps: Option<f64>,
    /// Failed calls per second of its direct callees.
    pub from_callees_rps: f64,
    /// The part its callees cannot explain: its own errors.
    pub own_rps: Option<f64>,
    /// Failing edges downstream, the likeliest culprit first.
    pub culprits: Vec<Culprit>,
}

/// Who is hit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct BlastRadius {
    /// Callers, the most affected first.
    pub callers: Vec<Caller>,
    /// The roots upstream (what users or other systems hit first).
    pub entry_points: Vec<String>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TriageReport {
    /// Always `meshscope.triage/v1`.
    pub schema: String,
    /// The collection time of the last window (RFC 3339).
    pub collected_at: String,
    pub subject: Subject,
    pub verdict: Verdict,
    /// The checks that decided the verdict, with their thresholds.
    pub checks: Vec<Check>,
    /// The objectives applied.
    pub slo: Slo,
    /// Error-budget burn rate over the last window and over the longer one.
    pub burn_rate_short: Option<f64>,
    pub burn_rate_long: Option<f64>,
    /// No requests reached it in the window.
    pub no_traffic: bool,
    pub signals: Golden,
    /// The previous window of the same length; `null` without a baseline.
    pub baseline: Option<Golden>,
    /// Each signal now vs the baseline (empty without a baseline).
    pub changes: Vec<SignalChange>,
    pub errors: Errors,
    pub blast_radius: BlastRadius,
    /// mTLS and policy gaps touching it.
    pub gaps: Vec<Gap>,
    /// Declared routes and policies that name it.
    pub rules: Vec<String>,
    /// Changes of those rules.
    pub rule_diffs: Vec<RuleDiff>,
    /// Notes on what is missing (no baseline, no traces…).
    pub notes: Vec<String>,
}

/// Everything [`assemble`] puts together.
pub struct Parts<'a> {
    pub snap: &'a Snapshot,
    pub target: &'a Target,
    pub slo: &'a Slo,
    pub now: Golden,
    pub baseline: Option<Golden>,
    pub judged: Judged,
    pub culprits: Vec<Culprit>,
    pub callers: Vec<Caller>,
    pub entry_points: Vec<String>,
    pub touch: crate::triage::touch::Touching,
}

fn changes(now: &Golden, base: &Golden) -> Vec<SignalChange> {
    let pairs: [(&str, Option<f64>, Option<f64>); 6] = [
        ("rps", now.rps, base.rps),
        ("success_rate", now.success_rate, base.success_rate),
        ("error_rps", now.error_rps, base.error_rps),
        ("p50_ms", now.p50_ms, base.p50_ms),
        ("p95_ms", now.p95_ms, base.p95_ms),
        ("p99_ms", now.p99_ms, base.p99_ms),
    ];
    pairs
        .into_iter()
        .map(|(name, n, b)| SignalChange {
            name: name.into(),
            now: n,
            baseline: b,
            change: n.zip(b).map(|(n, b)| n - b),
        })
        .collect()
}

/// Put the report together.
pub fn assemble(p: Parts<'_>) -> TriageReport {
    let mut notes = Vec::new();
    if p.baseline.is_none() {
        notes.push(
            "no baseline: only one window was collected (a bundle needs 3 scrape rounds)".into(),
        );
    }
    if p.judged.no_traffic {
        notes.push(format!(
            "{} received no requests in the window; the verdict rests on what else is known",
            p.target.id
        ));
    }
    if !p.touch.traces {
        notes.push("no traces in this snapshot".into());
    }
    let from_callees: f64 = p
        .culprits
        .iter()
        .filter(|c| c.depth == 1)
        .fold(0.0, |acc, c| acc + c.error_rps);
    let own = p.now.error_rps.map(|e| (e - from_callees).max(0.0));
    TriageReport {
        schema: TRIAGE_SCHEMA.into(),
        collected_at: p.snap.collected_at.clone(),
        subject: Subject {
            id: p.target.id.clone(),
            kind: p.target.kind.into(),
            namespace: p.target.namespace.clone(),
            name: p.target.name.clone(),
            workloads: p.target.workloads.iter().cloned().collect(),
        },
        verdict: p.judged.verdict,
        checks: p.judged.checks,
        slo: p.slo.clone(),
        burn_rate_short: p.judged.burn_short,
        burn_rate_long: p.judged.burn_long,
        no_traffic: p.judged.no_traffic,
        changes: p
            .baseline
            .as_ref()
            .map(|b| changes(&p.now, b))
            .unwrap_or_default(),
        signals: p.now.clone(),
        baseline: p.baseline,
        errors: Errors {
            error_rps: p.now.error_rps,
            from_callees_rps: from_callees,
            own_rps: own,
            culprits: p.culprits,
        },
        blast_radius: BlastRadius {
            callers: p.callers,
            entry_points: p.entry_points,
        },
        gaps: p.touch.gaps,
        rules: p.touch.rules,
        rule_diffs: p.touch.rule_diffs,
        notes,
    }
}

/// The JSON Schema of the report (kept in docs/triage.schema.json).
pub fn triage_schema() -> serde_json::Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(TriageReport))
        .unwrap_or(serde_json::Value::Null);
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            serde_json::Value::String(format!("https://meshscope.dev/schema/{TRIAGE_SCHEMA}")),
        );
    }
    schema
}
