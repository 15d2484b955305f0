//! Analysis of a 10,000-workload graph with 2,000 AuthorizationPolicies,
//! 1,000 VirtualServices (+ DestinationRules) and 100 PeerAuthentications;
//! target < 100 ms.

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use meshscope::analyze::{AnalyzeConfig, Declared, analyze};
use meshscope::model::inventory::{Inventory, NamespaceInfo, ServiceInfo, WorkloadInfo};
use meshscope::model::snapshot::{
    Edge, Evidence, Mtls, MtlsStatus, Node, NodeKind, Protocol, ResponseCount, Signals, Snapshot,
};
use serde_json::json;

const NS: usize = 100;
const PER_NS: usize = 100;

fn world() -> (Snapshot, Inventory) {
    let mut inv = Inventory::default();
    let mut snap = Snapshot::empty("2026-01-05T09:00:00Z".into(), 60.0);
    for n in 0..NS {
        let ns = format!("ns{n}");
        let mut info = NamespaceInfo::default();
        info.labels
            .insert("istio-injection".into(), "enabled".into());
        inv.namespaces.insert(ns.clone(), info);
        for i in 0..PER_NS {
            let app = format!("app{}", i / 2);
            let version = format!("v{}", i % 2 + 1);
            let name = format!("{app}-{version}");
            let labels = BTreeMap::from([
                ("app".to_string(), app.clone()),
                ("version".to_string(), version.clone()),
            ]);
            inv.workloads.insert(
                format!("{ns}/{name}"),
                WorkloadInfo {
                    namespace: ns.clone(),
                    name: name.clone(),
                    kind: "Deployment".into(),
                    app: Some(app.clone()),
                    version: Some(version.clone()),
                    service_account: Some(app.clone()),
                    meshed: i != 7,
                    pods: 2,
                    pod_labels: labels,
                },
            );
            snap.nodes.push(Node {
                id: format!("{ns}/{name}"),
                kind: NodeKind::Workload,
                namespace: Some(ns.clone()),
                name,
                app: Some(app),
                version: Some(version),
                meshed: i != 7,
                signals: None,
            });
        }
        for a in 0..PER_NS / 2 {
            inv.services.push(ServiceInfo {
                namespace: ns.clone(),
                name: format!("app{a}"),
                selector: BTreeMap::from([("app".to_string(), format!("app{a}"))]),
                cluster_ip: None,
                ports: vec![80],
                endpoints: None,
            });
        }
        // 2 callers per workload, same namespace: 20,000 edges.
        for i in 0..PER_NS {
            for k in [1, 3] {
                let t = (i + k) % PER_NS;
                let tgt = format!("app{}-v{}", t / 2, t % 2 + 1);
                let src = format!("app{}-v{}", i / 2, i % 2 + 1);
                let fail = if i % 13 == 0 { 30.0 } else { 0.0 };
                snap.edges.push(Edge {
                    source: format!("{ns}/{src}"),
                    target: format!("{ns}/{tgt}"),
                    service: Some(format!("svc:{ns}/app{}", t / 2)),
                    protocol: Protocol::Http,
                    signals: Signals {
                        rps: Some(10.0),
                        success_rate: Some(1.0 - fail / 600.0),
                        ..Signals::default()
                    },
                    mtls: Mtls {
                        status: if i % 17 == 0 {
                            MtlsStatus::None
                        } else {
                            MtlsStatus::Full
                        },
                        fraction: Some(1.0),
                        declared: None,
                        verdict: None,
                    },
                    evidence: vec![Evidence::Metrics],
                    declared: None,
                    responses: vec![
                        ResponseCount {
                            code: "200".into(),
                            count: Some(600.0 - fail),
                        },
                        ResponseCount {
                            code: "503".into(),
                            count: Some(fail),
                        },
                    ],
                    identities: None,
                    traces: Vec::new(),
                });
            }
        }
        inv.other_objects.push(json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": ns}, "spec": {"mtls": {"mode": if n % 2 == 0 { "STRICT" } else { "PERMISSIVE" }}}}));
        for p in 0..20 {
            inv.other_objects.push(
                json!({"apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
                "metadata": {"name": format!("allow-{p}"), "namespace": ns},
                "spec": {"selector": {"matchLabels": {"app": format!("app{p}")}}, "action": "ALLOW",
                         "rules": [{"from": [{"source": {"principals": [
                             format!("cluster.local/ns/{ns}/sa/app{}", (p + 49) % 50),
                             format!("cluster.local/ns/{ns}/sa/app{}", (p + 10) % 50)]}}]}]}}),
            );
        }
        for r in 0..10 {
            inv.other_objects.push(json!({"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
                "metadata": {"name": format!("app{r}"), "namespace": ns},
                "spec": {"hosts": [format!("app{r}")], "http": [{"route": [
                    {"destination": {"host": format!("app{r}"), "subset": "v1"}, "weight": 90},
                    {"destination": {"host": format!("app{r}"), "subset": "v2"}, "weight": 10}]}]}}));
            inv.other_objects.push(json!({"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
                "metadata": {"name": format!("app{r}"), "namespace": ns},
                "spec": {"host": format!("app{r}"), "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                                                                 {"name": "v2", "labels": {"version": "v2"}}]}}));
        }
    }
    inv.reindex();
    (snap, inv)
}

fn bench(c: &mut Criterion) {
    let (snap, inv) = world();
    let cfg = AnalyzeConfig::default();
    c.bench_function("analyze 10k workloads, 2k policies, 1k routes", |b| {
        b.iter_batched(
            || snap.clone(),
            |mut s| {
                analyze(&mut s, &inv, None, &cfg);
                black_box(s.gaps.len())
            },
            BatchSize::LargeInput,
        )
    });
    // The same with `--declared DIR` holding every rule, one VirtualService
    // in ten edited in Git: 3,100 rules diffed declared vs live.
    let mut declared = Declared {
        objects: inv.other_objects.clone(),
        ..Declared::default()
    };
    for (i, o) in declared
        .objects
        .iter_mut()
        .filter(|o| o["kind"] == "VirtualService")
        .enumerate()
    {
        if i % 10 == 0 {
            o["spec"]["http"][0]["route"][0]["weight"] = json!(80);
            o["spec"]["http"][0]["route"][1]["weight"] = json!(20);
        }
    }
    dump(&snap, &inv, &declared, &cfg);
    c.bench_function(
        "analyze 10k workloads, 2k policies, 1k routes, --declared (3.1k rules diffed)",
        |b| {
            b.iter_batched(
                || snap.clone(),
                |mut s| {
                    analyze(&mut s, &inv, Some(&declared), &cfg);
                    black_box(s.rule_diffs.len())
                },
                BatchSize::LargeInput,
            )
        },
    );
}

/// With `MESHSCOPE_BENCH_DUMP=DIR`, write the analysed bench world's
/// snapshot JSON (without and with `--declared`) to `DIR/analyze.json` and
/// `DIR/analyze-declared.json`, so that two builds can be checked to give
/// byte-identical results (`cmp`).
fn dump(snap: &Snapshot, inv: &Inventory, declared: &Declared, cfg: &AnalyzeConfig) {
    let Some(dir) = std::env::var_os("MESHSCOPE_BENCH_DUMP") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for (name, extra) in [
        ("analyze.json", None),
        ("analyze-declared.json", Some(declared)),
    ] {
        let mut s = snap.clone();
        analyze(&mut s, inv, extra, cfg);
        let json = serde_json::to_string_pretty(&s).expect("snapshot serializes");
        std::fs::write(dir.join(name), json).expect("dump written");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
