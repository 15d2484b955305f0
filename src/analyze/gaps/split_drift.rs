//! `split_drift` (warning): the observed shares across a route's backends
//! differ from the declared weights by more than chance allows for the
//! number of requests seen (Pearson chi-square at `split_confidence`).

use std::collections::BTreeMap;

use crate::analyze::gaps::{Ctx, edge_count, gap, pct};
use crate::analyze::stats::chi_square;
use crate::model::snapshot::{Gap, Severity};

/// Fewest requests a route needs before its shares are judged.
pub const MIN_REQUESTS: f64 = 20.0;

/// Check every comparable route.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    let mut out = Vec::new();
    for route in ctx.model.routes.iter().filter(|r| r.comparable) {
        let Some(svc) = &route.service else { continue };
        let key = format!("svc:{svc}");
        let mut counts = vec![0.0; route.backends.len()];
        let mut unrouted: BTreeMap<String, f64> = BTreeMap::new();
        let mut known = true;
        for e in ctx.edges_via(&key).iter().map(|&i| &ctx.snap.edges[i]) {
            let Some(n) = edge_count(e, ctx.snap.window_seconds) else {
                known = false;
                continue;
            };
            match route
                .backends
                .iter()
                .position(|b| b.workloads.contains(&e.target))
            {
                Some(i) => counts[i] += n,
                None => *unrouted.entry(e.target.clone()).or_default() += n,
            }
        }
        let total: f64 = counts.iter().sum::<f64>() + unrouted.values().sum::<f64>();
        let wsum: f64 = route.backends.iter().map(|b| b.weight).sum();
        if !known || total < MIN_REQUESTS || wsum <= 0.0 {
            continue;
        }
        let stray: f64 = unrouted.values().sum::<f64>()
            + route
                .backends
                .iter()
                .zip(&counts)
                .filter(|(b, _)| b.weight <= 0.0)
                .map(|(_, c)| c)
                .sum::<f64>();
        let (obs, shares): (Vec<f64>, Vec<f64>) = route
            .backends
            .iter()
            .zip(&counts)
            .filter(|(b, _)| b.weight > 0.0)
            .map(|(b, c)| (*c, b.weight / wsum))
            .unzip();
        let (stat, p) = if stray > 0.0 {
            (f64::INFINITY, 0.0)
        } else {
            chi_square(&obs, &shares)
        };
        if p >= 1.0 - ctx.cfg.split_confidence {
            continue;
        }
        let declared: Vec<String> = route
            .backends
            .iter()
            .map(|b| format!("{} {}", b.name, pct(b.weight / wsum)))
            .collect();
        let mut observed: Vec<String> = route
            .backends
            .iter()
            .zip(&counts)
            .map(|(b, c)| format!("{} {}", b.name, pct(c / total)))
            .collect();
        observed.extend(
            unrouted
                .iter()
                .map(|(w, c)| format!("unrouted {w} {}", pct(c / total))),
        );
        let test = if stat.is_finite() {
            format!("chi-square {stat:.1}, p = {p:.2e}")
        } else {
            "traffic reached backends the route does not name".to_string()
        };
        out.push(gap("split_drift", Severity::Warning, route.resource.clone(), format!(
            "{} declares {} for {svc} but {total:.0} requests went {} ({test}; beyond chance at {} confidence).",
            route.resource, declared.join(", "), observed.join(", "), pct(ctx.cfg.split_confidence))));
    }
    out
}
