//! The service's golden signals in a window, and the verdict: error-budget
//! burn rates over the short window (the last one) and the long window
//! (both together), as in the SRE workbook's multi-window burn-rate alerts
//! (a 14.4× burn over both windows pages; 6× is serious), plus the p99
//! latency objective.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::model::snapshot::{Edge, Snapshot};
use crate::triage::resolve::Target;
use crate::triage::slo::Slo;

/// Inbound golden signals of a service over one window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Golden {
    /// Length of the window, seconds.
    pub window_seconds: f64,
    /// Requests per second served (completed responses); `null` when unknown.
    pub rps: Option<f64>,
    /// Share (0–1) of successful responses; `null` without requests.
    pub success_rate: Option<f64>,
    /// Failed responses per second.
    pub error_rps: Option<f64>,
    /// Latency quantiles, ms. For a single workload the server-side
    /// quantiles; for a Service over several workloads, the request-weighted
    /// mean of its inbound edges' quantiles (an approximation).
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
}

/// `10s`, `1.5s`, `0.4s`: a window length for humans.
pub fn fmt_secs(s: f64) -> String {
    if s >= 10.0 || (s - s.round()).abs() < 0.05 {
        format!("{s:.0}s")
    } else {
        format!("{s:.1}s")
    }
}

/// Whether the edge brings requests into the target.
pub fn is_inbound(e: &Edge, t: &Target) -> bool {
    if t.contains(&e.source) {
        return false;
    }
    if e.target == t.id {
        return true;
    }
    if t.kind == "service" {
        match &e.service {
            Some(s) => s == &t.id,
            None => t.workloads.contains(&e.target),
        }
    } else {
        e.target == t.id
    }
}

fn weighted(edges: &[&Edge], f: fn(&Edge) -> Option<f64>) -> Option<f64> {
    let mut num = 0.0;
    let mut den = 0.0;
    for e in edges {
        if let (Some(v), Some(r)) = (f(e), e.signals.rps)
            && r > 0.0
        {
            num += v * r;
            den += r;
        }
    }
    (den > 0.0).then(|| num / den)
}

/// The target's inbound signals in `snap`.
pub fn signals_of(snap: &Snapshot, t: &Target) -> Golden {
    let edges: Vec<&Edge> = snap.edges.iter().filter(|e| is_inbound(e, t)).collect();
    let rps: Option<f64> = edges
        .iter()
        .filter_map(|e| e.signals.rps)
        .reduce(|a, b| a + b);
    let err: Option<f64> = edges
        .iter()
        .filter_map(|e| e.signals.error_rate)
        .reduce(|a, b| a + b);
    let known_success_rps: f64 = edges
        .iter()
        .filter(|e| e.signals.success_rate.is_some())
        .filter_map(|e| e.signals.rps)
        .sum();
    let success_rate = match err {
        Some(er) if known_success_rps > 0.0 => Some((1.0 - er / known_success_rps).clamp(0.0, 1.0)),
        _ => None,
    };
    let mut g = Golden {
        window_seconds: snap.window_seconds,
        rps,
        success_rate,
        error_rps: err,
        p50_ms: weighted(&edges, |e| e.signals.p50_ms),
        p95_ms: weighted(&edges, |e| e.signals.p95_ms),
        p99_ms: weighted(&edges, |e| e.signals.p99_ms),
    };
    // A single workload: its own (server-side) quantiles are exact.
    if t.kind == "workload"
        && let Some(s) = snap.node(&t.id).and_then(|n| n.signals.as_ref())
    {
        g.p50_ms = s.p50_ms.or(g.p50_ms);
        g.p95_ms = s.p95_ms.or(g.p95_ms);
        g.p99_ms = s.p99_ms.or(g.p99_ms);
    }
    g
}

/// One threshold check behind the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Check {
    /// `burn_rate_short`, `burn_rate_long`, `latency_p99`, `traffic`.
    pub name: String,
    /// What was observed (`null` when unknown).
    pub observed: Option<f64>,
    /// The threshold it was held against.
    pub threshold: Option<f64>,
    /// `ok`, `degraded`, `critical` or `unknown`.
    pub outcome: String,
    /// One sentence a human reads.
    pub detail: String,
}

/// The verdict and the checks that decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    pub verdict: crate::triage::report::Verdict,
    pub checks: Vec<Check>,
    pub burn_short: Option<f64>,
    pub burn_long: Option<f64>,
    pub no_traffic: bool,
}

/// Error-budget burn rate: the error share over the budget (1 − objective).
pub fn burn_rate(success_rate: Option<f64>, objective_pct: f64) -> Option<f64> {
    let budget = 1.0 - objective_pct / 100.0;
    success_rate
        .filter(|_| budget > 0.0)
        .map(|s| (1.0 - s) / budget)
}

fn level(burn: Option<f64>, slo: &Slo) -> &'static str {
    match burn {
        None => "unknown",
        Some(b) if b >= slo.critical_burn => "critical",
        Some(b) if b >= slo.degraded_burn => "degraded",
        Some(_) => "ok",
    }
}

fn rank(outcome: &str) -> u8 {
    match outcome {
        "critical" => 2,
        "degraded" => 1,
        _ => 0,
    }
}

/// Judge `now` (and `long`, when known) against `slo`.
pub fn judge(now: &Golden, long: Option<&Golden>, slo: &Slo) -> Judged {
    use crate::triage::report::Verdict;
    let no_traffic = now.rps.is_none_or(|r| r <= 0.0);
    let burn_short = burn_rate(now.success_rate, slo.success_rate);
    let burn_long = long.and_then(|l| burn_rate(l.success_rate, slo.success_rate));
    let mut checks = Vec::new();
    if no_traffic {
        checks.push(Check {
            name: "traffic".into(),
            observed: now.rps,
            threshold: None,
            outcome: "unknown".into(),
            detail: format!(
                "no requests in the last {} window: the objectives cannot be judged",
                fmt_secs(now.window_seconds)
            ),
        });
    }
    let short = level(burn_short, slo);
    checks.push(Check {
        name: "burn_rate_short".into(),
        observed: burn_short,
        threshold: Some(slo.critical_burn),
        outcome: short.into(),
        detail: match burn_short {
            Some(b) => format!(
                "error budget burning {b:.1}× over the last {} (success {:.2}% vs objective {}%; critical at {}×, degraded at {}×)",
                fmt_secs(now.window_seconds),
                now.success_rate.unwrap_or(0.0) * 100.0,
                slo.success_rate,
                slo.critical_burn,
                slo.degraded_burn
            ),
            None => "no success rate in the last window".into(),
        },
    });
    let long_level = level(burn_long, slo);
    checks.push(Check {
        name: "burn_rate_long".into(),
        observed: burn_long,
        threshold: Some(slo.critical_burn),
        outcome: long_level.into(),
        detail: match (burn_long, long) {
            (Some(b), Some(l)) => format!(
                "error budget burning {b:.1}× over the longer {} window",
                fmt_secs(l.window_seconds)
            ),
            _ => "no longer window (no baseline): the short window decides alone".into(),
        },
    });
    // Both windows must agree (the long one guards against a blip); with no
    // long window the short one decides.
    let burn_outcome = match burn_long {
        Some(_) => rank(short).min(rank(long_level)),
        None => rank(short),
    };
    let mut worst = burn_outcome;
    if let Some(obj) = slo.latency_p99_ms {
        let outcome = match now.p99_ms {
            None => "unknown",
            Some(p) if p > obj => "degraded",
            Some(_) => "ok",
        };
        worst = worst.max(rank(outcome));
        checks.push(Check {
            name: "latency_p99".into(),
            observed: now.p99_ms,
            threshold: Some(obj),
            outcome: outcome.into(),
            detail: match now.p99_ms {
                Some(p) => format!("p99 {p:.0} ms vs objective {obj:.0} ms"),
                None => "p99 unknown in the last window".into(),
            },
        });
    }
    let verdict = match worst {
        2 => Verdict::Critical,
        1 => Verdict::Degraded,
        _ => Verdict::Healthy,
    };
    Judged {
        verdict,
        checks,
        burn_short,
        burn_long,
        no_traffic,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::report::Verdict;

    fn g(success: f64, p99: f64) -> Golden {
        Golden {
            window_seconds: 10.0,
            rps: Some(100.0),
            success_rate: Some(success),
            error_rps: Some(100.0 * (1.0 - success)),
            p50_ms: None,
            p95_ms: None,
            p99_ms: Some(p99),
        }
    }

    #[test]
    fn multi_window_burn() {
        let slo = Slo::default();
        // 2% errors vs a 0.1% budget: 20× in both windows → critical.
        let j = judge(&g(0.98, 10.0), Some(&g(0.98, 10.0)), &slo);
        assert_eq!(j.verdict, Verdict::Critical);
        assert!((j.burn_short.unwrap() - 20.0).abs() < 1e-6);
        // A blip: 20× now but 3× over the long window → healthy on burn.
        let j = judge(&g(0.98, 10.0), Some(&g(0.997, 10.0)), &slo);
        assert_eq!(j.verdict, Verdict::Healthy);
        // 1% errors (10×) over both → degraded.
        let j = judge(&g(0.99, 10.0), Some(&g(0.99, 10.0)), &slo);
        assert_eq!(j.verdict, Verdict::Degraded);
        // Latency alone degrades.
        let j = judge(&g(1.0, 1500.0), None, &slo);
        assert_eq!(j.verdict, Verdict::Degraded);
        assert!(
            j.checks
                .iter()
                .any(|c| c.name == "latency_p99" && c.outcome == "degraded")
        );
        // No long window: the short one decides.
        let j = judge(&g(0.9, 10.0), None, &slo);
        assert_eq!(j.verdict, Verdict::Critical);
    }

    #[test]
    fn no_traffic_says_so() {
        let none = Golden {
            window_seconds: 10.0,
            ..Golden::default()
        };
        let j = judge(&none, None, &Slo::default());
        assert!(j.no_traffic);
        assert_eq!(j.verdict, Verdict::Healthy);
        assert!(j.checks[0].detail.contains("no requests"));
    }
}
