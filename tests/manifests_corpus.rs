#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Every manifest in the corpus loads: YAML or JSON, multi-document, lists.

mod common;

use meshscope::collect::k8s::ObjectSet;
use meshscope::collect::manifests::{manifest_files, read_objects};

#[test]
fn every_corpus_manifest_loads() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut total = 0;
    let mut files = 0;
    for kind in [
        "manifests-apps",
        "manifests-istio",
        "manifests-linkerd",
        "manifests-smi",
        "manifests-gateway-api",
        "kube-api",
    ] {
        for f in manifest_files(&corpus.join(kind)) {
            if f.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("utf16"))
            {
                continue; // kubeconfigs in UTF-16, not manifests
            }
            let parsed = read_objects(&f).unwrap_or_else(|e| panic!("{e}"));
            let docs = parsed.objects;
            // Linkerd's ipfamilies test file holds `{IPv6}` template
            // placeholders: its other documents must still load.
            for p in &parsed.problems {
                assert!(f.to_string_lossy().contains("ipfamilies"), "{p}");
            }
            assert!(
                !docs.is_empty() || f.to_string_lossy().contains("kubeconfig"),
                "{} yielded nothing",
                f.display()
            );
            total += docs.len();
            files += 1;
        }
    }
    assert!(files > 90, "only {files} files");
    assert!(total > 150, "only {total} objects");
}

#[test]
fn bookinfo_manifest_gives_deployments_and_services() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let docs = read_objects(&corpus.join("manifests-apps/istio__bookinfo.yaml"))
        .map(|p| p.objects)
        .unwrap_or_default();
    let mut set = ObjectSet::default();
    for d in docs {
        set.add(d);
    }
    let (inv, problems) = set.into_inventory();
    assert!(problems.is_empty(), "{problems:?}");
    let ids: Vec<&str> = inv.workloads.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        vec![
            "default/details-v1",
            "default/productpage-v1",
            "default/ratings-v1",
            "default/reviews-v1",
            "default/reviews-v2",
            "default/reviews-v3"
        ]
    );
    let reviews = inv
        .service("default", "reviews")
        .map(|s| inv.service_workloads(s).len());
    assert_eq!(reviews, Some(3));
    assert_eq!(
        inv.sole_workload_of_service("default", "ratings")
            .map(|r| r.id()),
        Some("default/ratings-v1".to_string())
    );
}
