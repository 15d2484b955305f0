//! `meshscope triage SERVICE`: the on-call report for one service. Pure
//! logic over snapshots of consecutive windows ([`Windows`]); the I/O that
//! collects them lives in [`run`].
//!
//! - [`resolve`]: SERVICE → a Service or workload (closest names, ambiguity).
//! - [`slo`]: objectives from a TOML file.
//! - [`verdict`]: golden signals, burn rates, the verdict and its reasons.
//! - [`culprit`]: callees ranked by their share of the failures, callers by
//!   how much of their traffic fails.
//! - [`report`]: the report (its JSON is docs/triage.schema.json), [`text`]
//!   its plain-text form.

pub mod cmd;
pub mod culprit;
pub mod focus;
pub mod gather;
pub mod identity;
pub mod report;
pub mod resolve;
pub mod run;
pub mod slo;
pub mod text;
pub mod touch;
pub mod verdict;

use crate::model::snapshot::Snapshot;

pub use report::{TriageReport, Verdict, triage_schema};
pub use resolve::{ResolveError, Target, resolve};

/// Snapshots of the service's recent past, all analysed.
#[derive(Debug, Clone)]
pub struct Windows {
    /// The last window (the one the verdict is about).
    pub now: Snapshot,
    /// The window before it, of the same length (the baseline).
    pub baseline: Option<Snapshot>,
    /// Both windows together (the longer burn-rate window).
    pub long: Option<Snapshot>,
}

/// Build the report for `target` (already resolved) over `windows`.
pub fn triage(windows: &Windows, target: &Target, slo: &slo::Slo) -> TriageReport {
    let now = verdict::signals_of(&windows.now, target);
    let baseline = windows
        .baseline
        .as_ref()
        .map(|s| verdict::signals_of(s, target));
    let long = windows
        .long
        .as_ref()
        .map(|s| verdict::signals_of(s, target));
    let mut judged = verdict::judge(&now, long.as_ref(), slo);
    let touch = touch::touching(&windows.now, target);
    // Without traffic the verdict rests on what else is known: a critical
    // gap touching the service degrades it.
    if judged.no_traffic
        && let Some(g) = touch
            .gaps
            .iter()
            .find(|g| g.severity == crate::model::snapshot::Severity::Critical)
    {
        judged.verdict = judged.verdict.max(Verdict::Degraded);
        judged.checks.push(verdict::Check {
            name: "gaps".into(),
            observed: None,
            threshold: None,
            outcome: "degraded".into(),
            detail: format!(
                "no traffic, and a critical gap touches it: {} {}",
                g.kind, g.subject
            ),
        });
    }
    let culprits = culprit::culprits(&windows.now, target);
    let callers = culprit::callers(&windows.now, target);
    let up = culprit::upstream(&windows.now, target);
    let entry_points = up.roots;
    let mut r = report::assemble(report::Parts {
        snap: &windows.now,
        target,
        slo,
        now,
        baseline,
        judged,
        culprits,
        callers,
        entry_points,
        touch,
    });
    if let Some(d) = up.cut_at {
        r.notes.push(format!(
            "entry points: the walk upstream stopped at depth {d}, a level of more than {} callers; its nodes are listed",
            culprit::ENTRY_WIDTH
        ));
    }
    r
}
