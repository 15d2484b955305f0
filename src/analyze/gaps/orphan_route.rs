//! `orphan_route`: a route, DestinationRule subset, split backend or Server
//! that selects no pods (warning when traffic is routed to it, else info);
//! and a Service that traffic or a route goes to whose EndpointSlices list
//! no ready endpoint (warning: every request through it gets a 503 UH).

use rustc_hash::FxHashSet;

use crate::analyze::gaps::{Ctx, gap};
use crate::model::snapshot::{Gap, Severity};

/// Report every orphan the declaration readers found, then the used
/// Services without a ready endpoint.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    let mut out: Vec<Gap> = ctx
        .model
        .orphans
        .iter()
        .map(|o| {
            gap(
                "orphan_route",
                if o.referenced {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                o.resource.clone(),
                format!("{} selects no running pods: {}.", o.resource, o.what),
            )
        })
        .collect();
    out.extend(unready_services(ctx));
    out
}

/// Services (`namespace/name`) that observed traffic or a declared route
/// goes to, each with what uses it.
fn used_services<'a>(ctx: &'a Ctx) -> Vec<(&'a str, &'static str)> {
    let mut seen = FxHashSet::default();
    let mut out = Vec::new();
    let observed = ctx
        .snap
        .edges
        .iter()
        .filter_map(|e| e.service.as_deref()?.strip_prefix("svc:"))
        .map(|s| (s, "traffic is sent to it"));
    let routed = ctx
        .model
        .routes
        .iter()
        .filter_map(|r| r.service.as_deref())
        .map(|s| (s, "a route sends traffic to it"));
    for (s, why) in observed.chain(routed) {
        if seen.insert(s) {
            out.push((s, why));
        }
    }
    out
}

fn unready_services(ctx: &Ctx) -> Vec<Gap> {
    used_services(ctx)
        .into_iter()
        .filter_map(|(id, why)| {
            let (ns, name) = id.split_once('/')?;
            let svc = ctx.inv.svc(ns, name)?;
            let ep = svc.endpoints?;
            (ep.ready == 0).then(|| {
                let subject = format!("Service/{ns}/{name}");
                let listed = if ep.not_ready > 0 {
                    format!("{} endpoints, none ready", ep.not_ready)
                } else {
                    "no endpoints".to_string()
                };
                gap(
                    "orphan_route",
                    Severity::Warning,
                    subject.clone(),
                    format!(
                        "{subject} has no ready endpoint ({listed} in its EndpointSlices) but {why}: requests fail with 503 UH."
                    ),
                )
            })
        })
        .collect()
}
