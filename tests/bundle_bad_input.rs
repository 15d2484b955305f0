#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bad input in bundles: never a panic, never a lost snapshot; what was
//! wrong is named in `sources` (or, for a folder that is not a bundle, in an
//! exit-3 message).

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use meshscope::app_main::snapshot_from_bundle;
use meshscope::model::snapshot::{Snapshot, SourceState};

const R1: &str = "1700000000000";
const R2: &str = "1700000010000";
const PP: &str = "default__productpage-v1-6b746f74dc-9stvs.prom";

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        let dest = to.join(e.file_name());
        if p.is_dir() {
            copy_dir(&p, &dest);
        } else {
            fs::copy(&p, &dest).unwrap();
        }
    }
}

/// A copy of the istio-mini bundle to damage.
fn mini() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    copy_dir(&common::fixtures().join("bundles/istio-mini"), &dir);
    (tmp, dir)
}

fn snap(dir: &Path) -> Snapshot {
    let s = snapshot_from_bundle(dir, None).unwrap();
    common::assert_valid_snapshot(&serde_json::to_value(&s).unwrap());
    s
}

fn source<'a>(s: &'a Snapshot, needle: &str) -> &'a meshscope::model::snapshot::SourceStatus {
    s.sources
        .iter()
        .find(|x| x.name.contains(needle))
        .unwrap_or_else(|| panic!("no source {needle}: {:#?}", s.sources))
}

#[test]
fn not_a_bundle_exits_3_naming_the_folder_and_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("meshscope")
        .unwrap()
        .args(["snapshot", "--from"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&tmp.path().display().to_string()), "{err}");
    assert!(err.contains("meta.json"), "{err}");

    let missing = tmp.path().join("nope");
    let out = Command::cargo_bin("meshscope")
        .unwrap()
        .args(["snapshot", "--from"])
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope"));

    fs::write(tmp.path().join("meta.json"), r#"{"schema":"something/v9"}"#).unwrap();
    let out = Command::cargo_bin("meshscope")
        .unwrap()
        .args(["snapshot", "--from"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("something/v9"));
}

#[test]
fn one_round_gives_topology_and_mtls_but_null_rates() {
    let (_t, dir) = mini();
    fs::remove_dir_all(dir.join("scrapes").join(R1)).unwrap();
    let s = snap(&dir);
    assert_eq!(s.window_seconds, 0.0);
    assert_eq!(s.edges.len(), 4);
    for e in &s.edges {
        assert_eq!(e.signals.rps, None, "{e:?}");
        assert_eq!(e.signals.success_rate, None);
    }
    let e = s
        .edge("default/productpage-v1", "default/reviews-v1")
        .unwrap();
    assert_eq!(e.mtls.status, meshscope::model::snapshot::MtlsStatus::Full);
    assert!(
        source(&s, "scrapes")
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("one round")
    );
}

#[test]
fn unreadable_file_is_listed_and_the_rest_used() {
    let (_t, dir) = mini();
    // A folder where a scrape file should be: opening works, reading fails.
    let bad = dir
        .join("scrapes")
        .join(R2)
        .join("default__ghost-5d9f8c7b6-aaaaa.prom");
    fs::create_dir_all(&bad).unwrap();
    let s = snap(&dir);
    let src = source(&s, "ghost");
    assert_eq!(src.status, SourceState::Unavailable);
    assert_eq!(source(&s, "scrapes").status, SourceState::Degraded);
    assert!(
        s.edge("default/productpage-v1", "default/reviews-v1")
            .is_some()
    );
    // An unreadable manifest too.
    fs::create_dir_all(dir.join("manifests/broken.yaml")).unwrap();
    fs::write(dir.join("manifests/bad.yaml"), "kind: [unclosed").unwrap();
    let s = snap(&dir);
    assert_eq!(source(&s, "bad.yaml").status, SourceState::Degraded);
    assert_eq!(source(&s, "manifests").status, SourceState::Degraded);
    assert!(
        s.node("default/mysqldb-v1").is_some(),
        "the good manifest is still used"
    );
}

#[test]
fn malformed_and_truncated_scrapes_are_reported_with_line_numbers() {
    let (_t, dir) = mini();
    let f = dir.join("scrapes").join(R2).join(PP);
    let mut text = fs::read_to_string(&f).unwrap();
    // A kept family's line with an unterminated label set (lines of
    // families no dialect uses are skipped unparsed, by design).
    text.insert_str(0, "istio_requests_total{reporter=\"source\" 12\n");
    // Cut the file inside a label set of a kept line.
    text.push_str("istio_requests_total{reporter=\"sou");
    fs::write(&f, text).unwrap();
    let s = snap(&dir);
    let src = source(&s, PP);
    assert_eq!(src.status, SourceState::Degraded);
    let detail = src.detail.clone().unwrap_or_default();
    assert!(detail.contains("line 1"), "{detail}");
    assert!(detail.contains("ends mid-line"), "{detail}");
    // The good lines still count.
    assert!(
        s.edge("default/productpage-v1", "default/reviews-v1")
            .is_some()
    );
}

#[test]
fn special_values_duplicates_and_histograms_without_inf() {
    let (_t, dir) = mini();
    let f = dir
        .join("scrapes")
        .join(R2)
        .join("default__reviews-v1-545db77b95-mffvg.prom");
    let text = fs::read_to_string(&f).unwrap();
    // Drop the +Inf buckets: quantiles become unknown, nothing panics.
    let no_inf: String = text
        .lines()
        .filter(|l| !l.contains("le=\"+Inf\""))
        .map(|l| format!("{l}\n"))
        .collect();
    // Duplicate every istio_requests_total line: counted once.
    let dup: String = no_inf
        .lines()
        .flat_map(|l| {
            if l.starts_with("istio_requests_total") {
                vec![l, l]
            } else {
                vec![l]
            }
        })
        .map(|l| format!("{l}\n"))
        .collect();
    // NaN / +Inf values are ignored by the dialects.
    let special = dup
        + "istio_requests_total{reporter=\"source\",source_workload=\"x\",source_workload_namespace=\"default\",destination_workload=\"y\",destination_workload_namespace=\"default\",response_code=\"200\"} NaN\n";
    fs::write(&f, special).unwrap();
    let s = snap(&dir);
    let e = s
        .edge("default/productpage-v1", "default/reviews-v1")
        .unwrap();
    assert_eq!(e.signals.rps, Some(10.0), "duplicates counted once");
    assert_eq!(e.signals.p50_ms, None, "no +Inf bucket: no quantile");
    assert!(
        source(&s, "reviews-v1")
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("duplicate")
    );
    assert!(s.edge("default/x", "default/y").is_none());
}

#[test]
fn scrape_files_with_bad_names_are_reported() {
    let (_t, dir) = mini();
    fs::write(dir.join("scrapes").join(R2).join("nonamespace.prom"), "").unwrap();
    fs::create_dir_all(dir.join("scrapes/latest")).unwrap();
    let s = snap(&dir);
    assert!(
        source(&s, "nonamespace.prom")
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("<namespace>__<pod>.prom")
    );
    assert!(
        source(&s, "latest")
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("unix milliseconds")
    );
    assert_eq!(s.edges.len(), 4);
}
