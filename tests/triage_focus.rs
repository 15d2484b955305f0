#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The focused collection of a triage (only the proxies the report reads)
//! gives the same report as reading every proxy: for every Service and
//! workload of each demo scenario (as bundles of three rounds, in the
//! scenario's mesh and re-rendered as the other mesh) and of the committed
//! fixture bundles. And it does read fewer proxies, so the comparison is not
//! between two full reads.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use meshscope::model::snapshot::SourceState;
use meshscope::sim::bundle::write_bundle;
use meshscope::sim::proxy::Noise;
use meshscope::sim::scenario;
use meshscope::sim::scenario::MeshKind;
use meshscope::triage::gather::bundle_material_focused;
use meshscope::triage::run::{Material, Request, TriageFormat, bundle_material, report};

fn request(service: &str) -> Request {
    Request {
        service: service.to_string(),
        namespace: None,
        slo: None,
        format: TriageFormat::Json,
    }
}

/// Every Service and workload, as `ns/name`.
fn subjects(m: &Material) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = m
        .inventory
        .services
        .iter()
        .map(|s| format!("{}/{}", s.namespace, s.name))
        .collect();
    s.extend(
        m.inventory
            .workloads
            .values()
            .map(|w| format!("{}/{}", w.namespace, w.name)),
    );
    s
}

/// How many proxies the focus read, when it did not fall back.
fn focused_count(m: &Material) -> Option<usize> {
    let s = m.sources.iter().find(|s| s.name == "triage focus").unwrap();
    (s.status == SourceState::Ok).then(|| {
        s.detail
            .as_deref()
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse::<usize>()
            .unwrap()
    })
}

/// Compare focused and full reports for every subject of the bundle in
/// `dir`; returns (subjects compared, subjects whose focus read fewer
/// proxies than the bundle holds).
fn compare_bundle(dir: &Path, label: &str) -> (usize, usize) {
    let full = bundle_material(dir, None, None).unwrap();
    let total = full.rounds.last().unwrap().scrapes.len();
    let mut compared = 0;
    let mut smaller = 0;
    for subject in subjects(&full) {
        let req = request(&subject);
        let Ok(want) = report(&full, &req) else {
            continue; // ambiguous Service/workload pairs resolve the same way in both
        };
        let focused = bundle_material_focused(dir, &req, None).unwrap();
        let got = report(&focused, &req).unwrap();
        let (a, b) = (
            serde_json::to_value(&want).unwrap(),
            serde_json::to_value(&got).unwrap(),
        );
        assert_eq!(
            a, b,
            "{label}: triage of {subject}: the focused report differs from the full one"
        );
        compared += 1;
        if let Some(n) = focused_count(&focused) {
            assert!(n <= total, "{label}: {subject}: focus {n} > {total}");
            if n < total {
                smaller += 1;
            }
            assert!(
                focused.rounds.iter().all(|r| r.scrapes.len() <= n),
                "{label}: {subject}: a round holds more than the focus"
            );
        }
    }
    (compared, smaller)
}

fn scenario_bundle(name: &str, mesh: Option<MeshKind>, dir: &Path) {
    let mut s = scenario::load(name).unwrap();
    if let Some(m) = mesh {
        s = s.with_mesh(m);
    }
    write_bundle(dir, &s, &[0, 10_000, 20_000], Noise::None).unwrap();
}

#[test]
fn focused_equals_full_on_every_demo_scenario() {
    let mut smaller_total = 0;
    for name in ["bookinfo", "boutique", "emojivoto"] {
        for mesh in [None, Some(MeshKind::Istio), Some(MeshKind::Linkerd)] {
            let dir = tempfile::tempdir().unwrap();
            scenario_bundle(name, mesh, dir.path());
            let label = format!("{name} ({mesh:?})");
            let (compared, smaller) = compare_bundle(dir.path(), &label);
            assert!(compared >= 4, "{label}: only {compared} subjects compared");
            smaller_total += smaller;
        }
    }
    assert!(
        smaller_total > 0,
        "the focus never read fewer proxies than the whole mesh"
    );
}

#[test]
fn focused_equals_full_on_the_fixture_bundles() {
    for name in ["bookinfo", "emojivoto", "istio-mini", "linkerd-mini"] {
        let dir = common::fixtures().join("bundles").join(name);
        let (compared, _) = compare_bundle(&dir, name);
        assert!(compared > 0, "{name}: nothing compared");
    }
}

#[test]
fn focused_entry_triage_still_names_the_planted_culprit_first() {
    for (name, entry, mesh) in [
        ("bookinfo", "productpage", None),
        ("boutique", "frontend", None),
        ("emojivoto", "emojivoto/web", None),
        ("emojivoto", "emojivoto/web", Some(MeshKind::Istio)),
    ] {
        let mut s = scenario::load(name).unwrap();
        let planted = s
            .imperfections
            .iter()
            .find(|i| i.kind == "failing_edge")
            .unwrap()
            .subject
            .clone();
        if let Some(m) = mesh {
            s = s.with_mesh(m);
        }
        let dir = tempfile::tempdir().unwrap();
        write_bundle(dir.path(), &s, &[0, 10_000, 20_000], Noise::None).unwrap();
        let req = request(entry);
        let m = bundle_material_focused(dir.path(), &req, None).unwrap();
        assert!(
            focused_count(&m).is_some(),
            "{name} ({mesh:?}): the focus fell back: {:?}",
            m.sources.last()
        );
        let r = report(&m, &req).unwrap();
        let c = &r.errors.culprits[0];
        assert_eq!(
            format!("{} -> {}", c.source, c.target),
            planted,
            "{name} ({mesh:?})"
        );
    }
}

/// A scale scenario: a hub's triage reads its callers, not the mesh.
#[test]
fn a_hub_reads_its_neighbourhood_not_the_mesh() {
    let s = scenario::load("scale:300").unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_bundle(dir.path(), &s, &[0, 10_000, 20_000], Noise::None).unwrap();
    let (compared, smaller) = {
        // Only a few subjects: the hub, a leaf-ish one and a middle one.
        let full = bundle_material(dir.path(), None, None).unwrap();
        let total = full.rounds.last().unwrap().scrapes.len();
        let mut n = 0;
        let mut smaller = 0;
        for subject in ["svc-0000", "svc-0150", "svc-0290"] {
            let req = request(subject);
            let want = serde_json::to_value(report(&full, &req).unwrap()).unwrap();
            let m = bundle_material_focused(dir.path(), &req, None).unwrap();
            let got = serde_json::to_value(report(&m, &req).unwrap()).unwrap();
            assert_eq!(want, got, "scale:300 {subject}");
            n += 1;
            if focused_count(&m).is_some_and(|c| c < total) {
                smaller += 1;
            }
        }
        (n, smaller)
    };
    assert_eq!(compared, 3);
    assert!(
        smaller >= 2,
        "the focus read the whole mesh for {smaller} of 3"
    );
}
