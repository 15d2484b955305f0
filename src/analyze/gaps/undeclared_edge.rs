//! `undeclared_edge`: observed traffic that no declaration allows but that
//! nothing enforced blocks (dry-run / audit policies, intent files), an
//! `unknown` caller into a protected workload, or egress to a host no
//! ServiceEntry declares. Enforced denials are `policy_violation`; a
//! plaintext caller that would be allowed with its identity is `mtls_gap`.

use crate::analyze::gaps::{Ctx, decide, gap, subject};
use crate::model::snapshot::{Gap, NodeKind, Severity};

/// Check every edge.
pub fn check(ctx: &Ctx) -> Vec<Gap> {
    let mut out = Vec::new();
    for (i, e) in ctx.snap.edges.iter().enumerate() {
        let c = &ctx.callers[i];
        if let Some(host) = e.target.strip_prefix("ext:") {
            if !ctx.model.external_hosts.is_empty()
                && !ctx
                    .model
                    .external_hosts
                    .iter()
                    .any(|h| h == host || h.strip_prefix('*').is_some_and(|s| host.ends_with(s)))
            {
                out.push(gap(
                    "undeclared_edge",
                    Severity::Info,
                    subject(c, e),
                    format!(
                        "{} calls external host {host}, which no ServiceEntry declares.",
                        c.id
                    ),
                ));
            }
            continue;
        }
        if ctx
            .node(&e.target)
            .is_some_and(|n| n.kind != NodeKind::Workload)
        {
            continue;
        }
        let all = ctx.decision(i, false);
        if !all.covered || all.allowed {
            continue;
        }
        if !ctx.decision(i, true).allowed {
            continue;
        }
        if !c.authenticated {
            let mut as_meshed = *c;
            as_meshed.authenticated = true;
            if c.service_account.is_some()
                && decide(ctx.model, &as_meshed, &e.target, false).allowed
            {
                continue;
            }
        }
        let who = if c.id == "unknown" {
            "an unknown caller".to_string()
        } else {
            c.id.to_string()
        };
        out.push(gap(
            "undeclared_edge",
            Severity::Warning,
            subject(c, e),
            format!(
                "{who} calls {} but no rule of {} (declared, not enforced) allows this caller.",
                e.target,
                all.by.join(", ")
            ),
        ));
    }
    out
}
