#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `meshscope diff A B` and `snapshot -o mermaid` as a user runs them.

mod common;

use std::time::Duration;

use assert_cmd::Command;
use serde_json::{Value, json};

fn bin() -> Command {
    Command::cargo_bin("meshscope").unwrap()
}

fn bookinfo_snapshot() -> Value {
    let out = bin()
        .args(["snapshot", "--from"])
        .arg(common::fixtures().join("bundles/bookinfo"))
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn diff_reports_edges_signals_gaps_and_rules() {
    let a = bookinfo_snapshot();
    let mut b = a.clone();
    // Vanish productpage -> ratings, move reviews-v3 -> ratings, add an edge,
    // resolve the mtls gap, add a rule change.
    let edges = b["edges"].as_array_mut().unwrap();
    let i = edges
        .iter()
        .position(|e| {
            e["source"] == "default/productpage-v1" && e["target"] == "default/ratings-v1"
        })
        .unwrap();
    edges.remove(i);
    let e = edges
        .iter_mut()
        .find(|e| e["source"] == "default/reviews-v3")
        .unwrap();
    e["signals"]["success_rate"] = json!(0.5);
    let mut new_edge = e.clone();
    new_edge["source"] = json!("default/details-v1");
    edges.push(new_edge);
    b["gaps"]
        .as_array_mut()
        .unwrap()
        .retain(|g| g["kind"] != "mtls_gap");
    b["rule_diffs"] = json!([{"resource": "VirtualService/default/reviews", "change": "modified", "diff": "-  weight: 80\n+  weight: 50"}]);
    let dir = tempfile::tempdir().unwrap();
    let pa = dir.path().join("a.json");
    let pb = dir.path().join("b.json");
    std::fs::write(&pa, a.to_string()).unwrap();
    std::fs::write(&pb, b.to_string()).unwrap();

    let out = bin().arg("diff").arg(&pa).arg(&pb).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "changes found → 1 (as kubectl diff)"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("- edge default/productpage-v1 -> default/ratings-v1"),
        "{text}"
    );
    assert!(
        text.contains("+ edge default/details-v1 -> default/ratings-v1"),
        "{text}"
    );
    assert!(
        text.contains("~ default/reviews-v3 -> default/ratings-v1 success_rate: 79.99% -> 50.00%"),
        "{text}"
    );
    assert!(
        text.contains("- gap [warning] mtls_gap legacy/sleep"),
        "{text}"
    );
    assert!(
        text.contains("+ rule change VirtualService/default/reviews (modified)\n    -  weight: 80"),
        "{text}"
    );

    let out = bin()
        .args(["diff", "-o", "json"])
        .arg(&pa)
        .arg(&pb)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["edges_vanished"].as_array().unwrap().len(), 1);
    assert_eq!(v["edges_appeared"].as_array().unwrap().len(), 1);
    assert_eq!(v["signals_moved"][0]["signal"], "success_rate");
    assert_eq!(v["gaps_resolved"][0]["kind"], "mtls_gap");
    assert_eq!(v["rule_diffs"][0]["status"], "new");
    // A threshold above the move hides it.
    let out = bin()
        .args(["diff", "-o", "json", "--success-points", "40"])
        .arg(&pa)
        .arg(&pb)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["signals_moved"].as_array().unwrap().is_empty());
    // Same snapshot: nothing, exit 0.
    let out = bin().arg("diff").arg(&pa).arg(&pa).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("no changes"));
}

#[test]
fn diff_bad_input_exits_3_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema\": 1}").unwrap();
    let good = dir.path().join("good.json");
    std::fs::write(&good, bookinfo_snapshot().to_string()).unwrap();
    for (a, b, needle) in [
        (bad.clone(), good.clone(), "bad.json"),
        (
            good.clone(),
            dir.path().join("missing.json"),
            "missing.json",
        ),
    ] {
        let out = bin().arg("diff").arg(&a).arg(&b).output().unwrap();
        assert_eq!(out.status.code(), Some(3));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{err}");
    }
}

#[test]
fn mermaid_export_colours_by_health() {
    let out = bin()
        .args(["snapshot", "-o", "mermaid", "--from"])
        .arg(common::fixtures().join("bundles/bookinfo"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let m = String::from_utf8_lossy(&out.stdout);
    assert!(m.starts_with("flowchart LR\n"), "{m}");
    assert!(m.contains("classDef failure fill:#cc0000"));
    // ratings-v1 answers ~10% errors: failure; productpage healthy.
    assert!(
        m.lines()
            .any(|l| l.contains("\"ratings-v1<br/>default\"") && l.ends_with(":::failure")),
        "{m}"
    );
    assert!(
        m.lines()
            .any(|l| l.contains("\"productpage-v1<br/>default\"") && l.ends_with(":::healthy")),
        "{m}"
    );
    let edges = m
        .lines()
        .filter(|l| l.contains("-->") || l.contains("-.->"))
        .count();
    let styles = m
        .lines()
        .filter(|l| l.trim_start().starts_with("linkStyle"))
        .count();
    assert_eq!(edges, 9);
    assert_eq!(styles, edges);
    // The plaintext caller is dotted.
    assert!(m.contains("-.->|\"20.1 rps 100.0%\"|"), "{m}");
}
