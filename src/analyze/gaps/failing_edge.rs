//! `failing_edge`: the edge's error share is above the thresholds
//! (critical above `failing_threshold`, warning above `degraded_threshold`).

use crate::analyze::gaps::{Ctx, gap, pct, subject};
use crate::model::snapshot::{Gap, Severity};

/// Check every edge.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    let mut out = Vec::new();
    for (i, e) in ctx.snap.edges.iter().enumerate() {
        let (Some(rps), Some(ok)) = (e.signals.rps, e.signals.success_rate) else {
            continue;
        };
        if rps <= 0.0 {
            continue;
        }
        let err = 1.0 - ok;
        let (sev, limit) = if err > ctx.cfg.failing_threshold {
            (Severity::Critical, ctx.cfg.failing_threshold)
        } else if err > ctx.cfg.degraded_threshold {
            (Severity::Warning, ctx.cfg.degraded_threshold)
        } else {
            continue;
        };
        let codes: Vec<&str> = e
            .responses
            .iter()
            .filter(|r| {
                r.code.starts_with('5')
                    || (r.code.starts_with("grpc:") && r.code != "grpc:0")
                    || r.code == "0"
            })
            .map(|r| r.code.as_str())
            .collect();
        out.push(gap(
            "failing_edge",
            sev,
            subject(&ctx.callers[i], e),
            format!(
                "{} of {:.1} req/s fail ({}), above the {} threshold of {} errors.",
                pct(err),
                rps,
                if codes.is_empty() {
                    "errors".to_string()
                } else {
                    codes.join(", ")
                },
                if sev == Severity::Critical {
                    "failing"
                } else {
                    "degraded"
                },
                pct(limit)
            ),
        ));
    }
    out
}
