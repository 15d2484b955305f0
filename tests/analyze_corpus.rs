//! Every corpus manifest folder loads through `load_declared` (each file and
//! each folder), and analysing the lot never fails: mesh objects are
//! understood, anything else is listed as not understood.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use meshscope::analyze::{AnalyzeConfig, analyze, load_declared};
use meshscope::collect::k8s::ObjectSet;
use meshscope::collect::manifests::manifest_files;
use meshscope::model::snapshot::Snapshot;

const FOLDERS: [&str; 5] = [
    "manifests-apps",
    "manifests-istio",
    "manifests-linkerd",
    "manifests-smi",
    "manifests-gateway-api",
];

#[test]
fn every_corpus_manifest_loads_and_analyses() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut understood = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for folder in FOLDERS {
        let dir = corpus.join(folder);
        for f in manifest_files(&dir) {
            load_declared(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
        let declared = load_declared(&dir).unwrap_or_else(|e| panic!("{folder}: {e}"));
        assert!(!declared.objects.is_empty(), "{folder}: no objects");
        // The folder's own workloads and services become the inventory.
        let mut set = ObjectSet::default();
        for o in &declared.objects {
            set.add(o.clone());
        }
        let (inv, _) = set.into_inventory();
        let mut snap = Snapshot::empty("2026-01-05T09:00:00Z".into(), 0.0);
        analyze(&mut snap, &inv, Some(&declared), &AnalyzeConfig::default());
        for e in snap.declared.policies.iter().chain(&snap.declared.routes) {
            if e["understood"] == true {
                understood += 1;
            }
            kinds.insert(
                e["resource"]
                    .as_str()
                    .unwrap_or("")
                    .split('/')
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
        }
        println!(
            "{folder}: {} objects, {} policies, {} routes, {} gaps",
            declared.objects.len(),
            snap.declared.policies.len(),
            snap.declared.routes.len(),
            snap.gaps.len()
        );
    }
    for k in [
        "EndpointSlice",
        "CustomResourceDefinition",
        "Deployment",
        "Service",
    ] {
        assert!(!kinds.contains(k), "{k} is not a mesh rule: {kinds:?}");
    }
    for k in [
        "AuthorizationPolicy",
        "PeerAuthentication",
        "VirtualService",
        "DestinationRule",
        "ServiceEntry",
        "Server",
        "TrafficSplit",
        "TrafficTarget",
        "HTTPRoute",
    ] {
        assert!(kinds.contains(k), "no {k} read from the corpus: {kinds:?}");
    }
    assert!(understood > 50, "only {understood} understood entries");
}
