//! `orphan_route`: a route, DestinationRule subset, split backend or Server
//! that selects no pods (warning when traffic is routed to it, else info).

use crate::analyze::gaps::{Ctx, gap};
use crate::model::snapshot::{Gap, Severity};

/// Report every orphan the declaration readers found.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    ctx.model
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
        .collect()
}
