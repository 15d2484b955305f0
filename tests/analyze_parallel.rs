//! The analysis of a large graph runs on two threads (`meshscope::par`):
//! its result must be the one a single thread gives, byte for byte. The
//! input is the simulator's `scale:500` (more edges than the threshold) with
//! hundreds of generated policies and routes added (more objects than the
//! declared model's threshold). The split itself (two halves read apart,
//! then appended) happens at every size, so every other analysis test
//! checks its result; this one checks the threads.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use meshscope::analyze::{AnalyzeConfig, analyze};
use meshscope::collect::bundle::read_bundle;
use meshscope::model::build::{BuildContext, build_snapshot};
use meshscope::sim::bundle::write_bundle;
use meshscope::sim::proxy::Noise;
use meshscope::sim::scenario;
use serde_json::{Value, json};

/// ALLOW policies (each letting one other workload's service account in)
/// and 80/20 VirtualServices over the scenario's workloads.
fn rules(workloads: &[(String, String)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, (ns, name)) in workloads.iter().enumerate() {
        let (caller_ns, caller) = &workloads[(i * 7 + 3) % workloads.len()];
        out.push(json!({
            "apiVersion": "security.istio.io/v1",
            "kind": "AuthorizationPolicy",
            "metadata": {"namespace": ns, "name": format!("allow-{name}")},
            "spec": {
                "selector": {"matchLabels": {"app": name}},
                "action": if i % 5 == 0 { "DENY" } else { "ALLOW" },
                "rules": [{"from": [{"source": {"principals": [
                    format!("cluster.local/ns/{caller_ns}/sa/{caller}")
                ]}}]}]
            }
        }));
        if i % 3 == 0 {
            out.push(json!({
                "apiVersion": "networking.istio.io/v1",
                "kind": "VirtualService",
                "metadata": {"namespace": ns, "name": format!("split-{name}")},
                "spec": {
                    "hosts": [name],
                    "http": [{"route": [
                        {"destination": {"host": name, "subset": "v1"}, "weight": 80},
                        {"destination": {"host": name, "subset": "v2"}, "weight": 20}
                    ]}]
                }
            }));
        }
    }
    out
}

#[test]
fn two_threads_give_what_one_gives() {
    let s = scenario::load("scale:500").unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_bundle(dir.path(), &s, &[0, 60_000], Noise::None).unwrap();
    let mut b = read_bundle(dir.path()).unwrap();
    let workloads: Vec<(String, String)> = b
        .inventory
        .workloads
        .values()
        .map(|w| (w.namespace.clone(), w.app.clone().unwrap_or(w.name.clone())))
        .collect();
    b.inventory.other_objects.extend(rules(&workloads));
    let snap = build_snapshot(&b.inventory, &b.rounds, BuildContext::default());
    // Above both thresholds, or the test would compare one path with itself.
    assert!(snap.edges.len() > 2_000, "{} edges", snap.edges.len());
    assert!(
        b.inventory.other_objects.len() > 512,
        "{} objects",
        b.inventory.other_objects.len()
    );
    let cfg = AnalyzeConfig::default();
    let mut parallel = snap.clone();
    analyze(&mut parallel, &b.inventory, None, &cfg);
    let mut serial = snap;
    meshscope::par::serial(|| analyze(&mut serial, &b.inventory, None, &cfg));
    assert!(!parallel.gaps.is_empty() && !parallel.declared.policies.is_empty());
    assert_eq!(
        serde_json::to_string(&parallel).unwrap(),
        serde_json::to_string(&serial).unwrap()
    );
}
