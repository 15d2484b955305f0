//! Real published Kubernetes objects (shared corpus, `kube-api/`) served by
//! the simulated API server and read back through kube-rs typed APIs.

mod apiserver_common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use apiserver_common::{FakePods, TEST_BOUND, install_crypto};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::api::{Api, ListParams};
use kube::{Client, Config};
use meshscope::sim::apiserver::{ApiServer, ApiServerConfig, ObjectStore};
use serde_json::Value;

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn corpus_dir() -> Option<PathBuf> {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/kube-api");
    [local, PathBuf::from("/work/shared/corpus/kube-api")]
        .into_iter()
        .find(|p| p.is_dir())
}

/// Every object in the k9s JSON fixtures and kdash YAML lists (flattening `items`).
fn load(dir: &PathBuf) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name.contains("kubeconfig") {
            continue;
        }
        let text = std::fs::read_to_string(&path)?;
        let doc: Value = if name.ends_with(".json") {
            serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?
        } else {
            serde_saphyr::from_str(&text).map_err(|e| format!("{name}: {e}"))?
        };
        match doc.get("items").and_then(Value::as_array) {
            Some(items) => out.extend(items.iter().cloned()),
            None => out.push(doc),
        }
    }
    Ok(out)
}

fn names(objs: &[Value], api_version: &str, kind: &str) -> BTreeSet<(String, String)> {
    objs.iter()
        .filter(|o| o["apiVersion"] == api_version && o["kind"] == kind)
        .map(|o| {
            let ns = o["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (
                ns,
                o["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

fn listed<K: kube::Resource>(items: &[K]) -> BTreeSet<(String, String)> {
    items
        .iter()
        .map(|o| {
            (
                o.meta().namespace.clone().unwrap_or_default(),
                o.meta().name.clone().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn corpus_objects_round_trip_through_kube_rs() -> TestResult {
    let Some(dir) = corpus_dir() else {
        println!("skipped: corpus not found");
        return Ok(());
    };
    tokio::time::timeout(TEST_BOUND, async {
        let objects = load(&dir)?;
        assert!(objects.len() >= 20, "only {} corpus objects", objects.len());
        let server = ApiServer::start(
            ObjectStore::new(objects.clone())?,
            Arc::new(FakePods),
            ApiServerConfig::default(),
        )
        .await?;
        install_crypto();
        let client = Client::try_from(Config::new(server.url().parse()?))?;

        let lp = ListParams::default();
        let pods = Api::<Pod>::all(client.clone()).list(&lp).await?;
        assert_eq!(listed(&pods.items), names(&objects, "v1", "Pod"));
        let deploys = Api::<Deployment>::all(client.clone()).list(&lp).await?;
        assert_eq!(
            listed(&deploys.items),
            names(&objects, "apps/v1", "Deployment")
        );
        let svcs = Api::<Service>::all(client.clone()).list(&lp).await?;
        assert_eq!(listed(&svcs.items), names(&objects, "v1", "Service"));
        let slices = Api::<EndpointSlice>::all(client.clone()).list(&lp).await?;
        assert_eq!(
            listed(&slices.items),
            names(&objects, "discovery.k8s.io/v1", "EndpointSlice")
        );
        println!(
            "corpus: {} objects, {} pods, {} deployments, {} services, {} endpointslices",
            objects.len(),
            pods.items.len(),
            deploys.items.len(),
            svcs.items.len(),
            slices.items.len()
        );
        server.shutdown().await;
        Ok(())
    })
    .await?
}
