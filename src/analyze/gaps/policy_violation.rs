//! `policy_violation`: traffic an enforced DENY or the implicit deny of an
//! enforced ALLOW should block but that succeeded (critical), and denied
//! attempts — 403 responses into a workload under enforced policy (warning).

use crate::analyze::gaps::{Ctx, gap, subject};
use crate::model::snapshot::{Evidence, Gap, Severity};

/// Check every edge.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    let mut out = Vec::new();
    for (i, e) in ctx.snap.edges.iter().enumerate() {
        let c = &ctx.callers[i];
        let d = ctx.decision(i, true);
        if !d.covered {
            continue;
        }
        let denied: f64 = e
            .responses
            .iter()
            .filter(|r| r.code == "403" || r.code == "grpc:7")
            .filter_map(|r| r.count)
            .sum();
        let total: f64 = e.responses.iter().filter_map(|r| r.count).sum();
        let succeeded = if e.responses.is_empty() {
            // Trace-only edges have no rate (traces are sampled) but a
            // success share of the calls the spans show.
            e.signals.rps.unwrap_or(0.0) > 0.0
                || (e.evidence == [Evidence::Traces] && e.signals.success_rate.unwrap_or(0.0) > 0.0)
        } else {
            total - denied > 0.0
        };
        if !d.allowed && succeeded {
            out.push(gap(
                "policy_violation",
                Severity::Critical,
                subject(c, e),
                format!(
                    "{} reached {} although enforced {} should deny it.",
                    c.id,
                    e.target,
                    d.by.join(", ")
                ),
            ));
        } else if denied > 0.0 {
            out.push(gap(
                "policy_violation",
                Severity::Warning,
                subject(c, e),
                format!(
                    "{denied:.0} requests from {} to {} were denied (403) under {}.",
                    c.id,
                    e.target,
                    if d.by.is_empty() {
                        "the workload's policies".to_string()
                    } else {
                        d.by.join(", ")
                    }
                ),
            ));
        }
    }
    out
}
