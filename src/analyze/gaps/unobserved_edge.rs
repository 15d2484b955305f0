//! `unobserved_edge` (info): a declared permission (an exact identity in an
//! ALLOW) with no traffic from that identity's workloads over the window,
//! or a route whose Service saw no traffic at all.

use std::borrow::Cow;

use rustc_hash::FxHashSet;

use crate::analyze::gaps::{Ctx, gap};
use crate::analyze::index::{identity_workloads, parse_identity_ref};
use crate::analyze::model::{Action, Peer};
use crate::model::snapshot::{Gap, Severity};

/// Check every ALLOW rule and route.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut seen: FxHashSet<(String, &str)> = FxHashSet::default();
    let observed = |srcs: &[Cow<str>], tgts: &[String]| {
        srcs.iter().any(|s| tgts.iter().any(|t| ctx.has_edge(s, t)))
    };
    for r in ctx
        .model
        .access
        .iter()
        .filter(|r| r.action == Action::Allow && !r.targets.is_empty())
    {
        for spec in &r.from {
            for (pos, peers) in &spec.all {
                if !pos {
                    continue;
                }
                for p in peers {
                    let Peer::Principal(id) = p else { continue };
                    let Some((ns, sa)) = parse_identity_ref(id) else {
                        continue;
                    };
                    let srcs = identity_workloads(ctx.inv, ns, sa);
                    if observed(&srcs, &r.targets) {
                        continue;
                    }
                    let subject = match (srcs.as_slice(), r.targets.as_slice()) {
                        ([s], [t]) => format!("{s} -> {t}"),
                        _ => r.resource.clone(),
                    };
                    if seen.insert((subject.clone(), id.as_str())) {
                        out.push(gap(
                            "unobserved_edge",
                            Severity::Info,
                            subject,
                            format!(
                                "{} allows {id} to call {}, but no such traffic was seen.",
                                r.resource,
                                r.targets.join(", ")
                            ),
                        ));
                    }
                }
            }
        }
    }
    let targets: rustc_hash::FxHashSet<&str> =
        ctx.snap.edges.iter().map(|e| e.target.as_str()).collect();
    for route in &ctx.model.routes {
        let Some(svc) = &route.service else { continue };
        let key = format!("svc:{svc}");
        let ws: Vec<String> = route
            .backends
            .iter()
            .flat_map(|b| b.workloads.clone())
            .collect();
        let used = !ctx.edges_via(&key).is_empty()
            || ws.iter().any(|w| {
                ctx.node(w).is_some_and(|n| {
                    n.signals
                        .as_ref()
                        .and_then(|s| s.rps)
                        .is_some_and(|r| r > 0.0)
                })
            })
            || ws.iter().any(|w| targets.contains(w.as_str()));
        if !used && seen.insert((route.resource.clone(), "")) {
            out.push(gap(
                "unobserved_edge",
                Severity::Info,
                route.resource.clone(),
                format!(
                    "{} routes {svc}, but no traffic to it was seen.",
                    route.resource
                ),
            ));
        }
    }
    out
}
