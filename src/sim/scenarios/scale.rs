//! `scale:N`: N workloads over N/100+1 namespaces, Istio, with a power-law
//! (preferential attachment) call graph of about five calls per workload.

use serde_json::json;

use super::{Builder, http_err};
use crate::sim::rng::SplitMix64;
use crate::sim::scenario::{MeshKind, Protocol, Scenario};

/// Average number of services each new workload calls.
const OUT_DEGREE: usize = 5;

fn name(i: usize, n: usize) -> String {
    let width = n.saturating_sub(1).to_string().len().max(4);
    format!("svc-{i:0width$}")
}

/// Build `scale:n` (n >= 1).
pub fn build(n: usize) -> Scenario {
    let mut rng = SplitMix64::new(0x5ca1_e000 ^ n as u64);
    let mut b = Builder::new(MeshKind::Istio);
    b.namespace("istio-system", false);
    b.control_plane(
        "istio-system",
        "istiod",
        "istiod",
        "docker.io/istio/pilot:1.24.2",
        &[("app", "istiod"), ("istio", "pilot")],
    );
    let k = n / 100 + 1;
    let nss: Vec<String> = (0..k).map(|i| format!("scale-{i:02}")).collect();
    for ns in &nss {
        b.namespace(ns, true);
    }
    let canary = (n >= 4).then(|| n - 1);
    let plain = (n >= 4).then(|| n - 2);
    let mut wl = Vec::with_capacity(n);
    let mut svcs = Vec::with_capacity(n);
    let mut protos = Vec::with_capacity(n);
    for i in 0..n {
        let r = rng.next_f64();
        let proto = if r < 0.70 {
            Protocol::Http
        } else if r < 0.95 {
            Protocol::Grpc
        } else {
            Protocol::Tcp
        };
        let (pname, port) = match proto {
            Protocol::Http => ("http", 8080),
            Protocol::Grpc => ("grpc", 9090),
            Protocol::Tcp => ("tcp", 6379),
        };
        let nm = name(i, n);
        let (ns, app, wname, version) = if Some(i) == canary {
            (
                nss[1 % k].clone(),
                name(1, n),
                format!("{}-v2", name(1, n)),
                "v2",
            )
        } else {
            (nss[i % k].clone(), nm.clone(), nm.clone(), "v1")
        };
        let idx = b.workload(
            &ns,
            &wname,
            &app,
            Some(version),
            &app,
            1,
            &[(pname, port)],
            "ghcr.io/meshscope/sim-app:1.0",
        );
        if Some(i) == plain {
            b.unmesh(idx);
        }
        wl.push(idx);
        svcs.push(
            (Some(i) != canary)
                .then(|| b.service(&ns, &nm, &[("app", &nm)], &[(pname, port, port, None)])),
        );
        protos.push(proto);
    }
    // Preferential attachment: callee j picked with probability ∝ 1 + in-degree.
    let mut urn: Vec<usize> = Vec::new();
    let mut edges_of: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    #[allow(clippy::needless_range_loop)]
    for i in 0..n {
        let mut picked: Vec<usize> = Vec::new();
        let want = OUT_DEGREE.min(i);
        let mut tries = 0;
        while picked.len() < want && tries < 50 {
            tries += 1;
            let j = urn[rng.below(urn.len() as u64) as usize];
            if j != i && !picked.contains(&j) && svcs[j].is_some() {
                picked.push(j);
            }
        }
        for &j in &picked {
            urn.push(j);
            if let Some(s) = svcs[j] {
                let u = rng.next_f64();
                let rps = 1.0 + 24.0 * u * u * u;
                let median = 1.0 + 40.0 * rng.next_f64() * rng.next_f64();
                let e = b.edge(wl[i], s, protos[j], rps, median);
                edges_of[j].push((i, e));
            }
        }
        urn.push(i);
    }
    plant(&mut b, n, &nss, canary, plain, &edges_of);
    b.finish(&format!("scale:{n}"))
}

fn plant(
    b: &mut Builder,
    n: usize,
    nss: &[String],
    canary: Option<usize>,
    plain: Option<usize>,
    callers: &[Vec<(usize, usize)>],
) {
    let k = nss.len();
    let wid = |i: usize| format!("{}/{}", nss[i % k], name(i, n));
    b.declare(json!({
        "apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
        "metadata": {"name": "default", "namespace": "istio-system"},
        "spec": {"mtls": {"mode": "PERMISSIVE"}}
    }));
    if let Some(c) = canary {
        let host = name(1, n);
        let ns = &nss[1 % k];
        b.declare(json!({
            "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": host, "namespace": ns},
            "spec": {"hosts": [host],
                     "http": [{"route": [{"destination": {"host": host, "subset": "v1"}, "weight": 90},
                                         {"destination": {"host": host, "subset": "v2"}, "weight": 10}]}]}
        }));
        b.declare(json!({
            "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
            "metadata": {"name": host, "namespace": ns},
            "spec": {"host": host, "subsets": [{"name": "v1", "labels": {"version": "v1"}}, {"name": "v2", "labels": {"version": "v2"}}]}
        }));
        let _ = c;
        b.plant("split_drift", &format!("VirtualService/{ns}/{host}"),
            &format!("the {host} VirtualService declares 90/10 to v1/v2, but traffic spreads 50/50 over {host} and {host}-v2"));
    }
    // The most called workload gets an AuthorizationPolicy that forgets its last caller.
    let top = (0..n)
        .filter(|&i| Some(i) != canary)
        .max_by_key(|&i| (callers[i].len(), usize::MAX - i));
    if let Some(t) = top.filter(|&t| callers[t].len() >= 2) {
        let list = &callers[t];
        let (forgotten, _) = list[list.len() - 1];
        let non_caller = (0..n).rev().find(|&i| {
            i != t && Some(i) != canary && Some(i) != plain && !list.iter().any(|&(c, _)| c == i)
        });
        let mut principals: Vec<String> = list[..list.len() - 1]
            .iter()
            .map(|&(c, _)| format!("cluster.local/ns/{}/sa/{}", nss[c % k], name(c, n)))
            .collect();
        if let Some(nc) = non_caller {
            principals.push(format!(
                "cluster.local/ns/{}/sa/{}",
                nss[nc % k],
                name(nc, n)
            ));
            b.plant(
                "unobserved_edge",
                &format!("{} -> {}", wid(nc), wid(t)),
                &format!(
                    "the {} AuthorizationPolicy allows {}, which never calls it",
                    name(t, n),
                    name(nc, n)
                ),
            );
        }
        b.declare(json!({
            "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": name(t, n), "namespace": nss[t % k], "annotations": {"istio.io/dry-run": "true"}},
            "spec": {"selector": {"matchLabels": {"app": name(t, n)}}, "action": "ALLOW",
                     "rules": [{"from": [{"source": {"principals": principals}}]}]}
        }));
        if Some(forgotten) != plain {
            b.plant(
                "undeclared_edge",
                &format!("{} -> {}", wid(forgotten), wid(t)),
                &format!(
                    "{} calls {} but its AuthorizationPolicy (dry-run) does not list it",
                    name(forgotten, n),
                    name(t, n)
                ),
            );
        }
    }
    if let Some(p) = plain
        && let Some(callee) = (0..n).find(|&j| callers[j].iter().any(|&(c, _)| c == p))
    {
        b.plant(
            "mtls_gap",
            &format!("{} -> {}", wid(p), wid(callee)),
            &format!(
                "{} runs without a sidecar and calls {} in plaintext (mesh-wide PERMISSIVE)",
                name(p, n),
                name(callee, n)
            ),
        );
    }
    if let Some(&(c, e)) = callers
        .iter()
        .flatten()
        .find(|&&(c, _)| Some(c) != plain && Some(c) != canary)
    {
        b.fail(e, http_err(0.25, 503, "-"));
        let callee = (0..n)
            .find(|&j| callers[j].iter().any(|&(_, x)| x == e))
            .unwrap_or(0);
        b.plant(
            "failing_edge",
            &format!("{} -> {}", wid(c), wid(callee)),
            &format!(
                "25% of {} -> {} requests fail with 503",
                name(c, n),
                name(callee, n)
            ),
        );
    }
}
