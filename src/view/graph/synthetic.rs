//! A generated mesh of any size (deterministic), for benchmarks and layout tests.

use crate::model::snapshot::{
    Edge, Evidence, Mtls, MtlsStatus, Node, NodeKind, Protocol, Signals, Snapshot,
};

/// `n` workloads in `n / 100 + 1` namespaces and eight tiers (gateways →
/// front ends → … → data stores, as real meshes are built), about two calls
/// per workload into the next one or two tiers, one in fifty back to one of
/// its callers (a cycle), with varied health and mTLS.
pub fn snapshot(n: usize) -> Snapshot {
    let mut s = Snapshot::empty("2026-11-21T00:00:00Z".into(), 60.0);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |m: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % m.max(1) as u64) as usize
    };
    let namespaces = n / 100 + 1;
    for i in 0..n {
        let ns = format!("ns-{}", i % namespaces);
        let app = format!("svc-{}", i / 3);
        let name = format!("{app}-v{}", i % 3 + 1);
        s.nodes.push(Node {
            id: format!("{ns}/{name}"),
            kind: NodeKind::Workload,
            namespace: Some(ns),
            name,
            app: Some(app),
            version: Some(format!("v{}", i % 3 + 1)),
            meshed: i % 17 != 0,
            signals: Some(signals(i, &mut rand)),
        });
    }
    const TIERS: usize = 8;
    let tier_of = |i: usize| i * TIERS / n.max(1);
    let tier_start = |t: usize| (t * n).div_ceil(TIERS);
    let mut callers: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        for _ in 0..2 {
            let t = tier_of(i);
            let j = if rand(50) == 0 && !callers[i].is_empty() {
                // A call back to one of its callers: a real cycle.
                callers[i][rand(callers[i].len())]
            } else {
                let target_tier = (t + 1 + rand(2)).min(TIERS - 1);
                let lo = tier_start(target_tier).min(n - 1);
                let hi = tier_start(target_tier + 1).clamp(lo + 1, n);
                lo + rand(hi - lo)
            };
            if j == i
                || s.edges
                    .iter()
                    .rev()
                    .take(4)
                    .any(|e| e.source == s.nodes[i].id && e.target == s.nodes[j].id)
            {
                continue;
            }
            let status = match rand(20) {
                0 => MtlsStatus::None,
                1 => MtlsStatus::Partial,
                _ => MtlsStatus::Full,
            };
            callers[j].push(i);
            s.edges.push(Edge {
                source: s.nodes[i].id.clone(),
                target: s.nodes[j].id.clone(),
                service: Some(format!("svc:{}", s.nodes[j].id)),
                protocol: Protocol::Http,
                signals: signals(i * 7 + j, &mut rand),
                mtls: Mtls {
                    status,
                    fraction: Some(match status {
                        MtlsStatus::Full => 1.0,
                        MtlsStatus::Partial => 0.5,
                        _ => 0.0,
                    }),
                    declared: None,
                    verdict: None,
                },
                evidence: vec![Evidence::Metrics],
                declared: None,
                responses: Vec::new(),
                identities: None,
                traces: Vec::new(),
            });
        }
    }
    s
}

fn signals(i: usize, rand: &mut impl FnMut(usize) -> usize) -> Signals {
    let rps = 1.0 + rand(500) as f64 / 10.0;
    let ok = match rand(30) {
        0 => 0.7,
        1 | 2 => 0.995,
        _ => 1.0,
    };
    Signals {
        rps: Some(rps),
        success_rate: Some(ok),
        error_rate: Some(rps * (1.0 - ok)),
        p50_ms: Some(2.0 + (i % 40) as f64),
        p95_ms: Some(10.0 + (i % 90) as f64),
        p99_ms: Some(20.0 + (i % 200) as f64),
        ..Signals::default()
    }
}
