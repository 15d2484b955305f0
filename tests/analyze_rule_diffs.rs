#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Declared (`--declared DIR`) vs live rule diffs, on
//! fixtures/analyze/rule-diffs: one rule modified, one added by hand, one
//! removed, one differing only in server-set fields (no diff).

mod common;

use std::path::PathBuf;

use meshscope::analyze::diffs::declared_vs_live;
use meshscope::analyze::load_declared;
use meshscope::app_main::snapshot_from_bundle_with;
use meshscope::collect::manifests::read_objects;
use meshscope::model::snapshot::{Change, DiffSource, RuleDiff};

fn dir() -> PathBuf {
    common::fixtures().join("analyze").join("rule-diffs")
}

fn summary(d: &[RuleDiff]) -> Vec<(&str, Change)> {
    d.iter().map(|r| (r.resource.as_str(), r.change)).collect()
}

#[test]
fn added_removed_modified_and_server_fields_ignored() {
    let declared = load_declared(&dir().join("declared")).unwrap();
    let live = read_objects(&dir().join("live.yaml")).unwrap().objects;
    let scope = ["default".to_string()].into();
    let d = declared_vs_live(&declared.objects, &live, Some(&scope));
    assert_eq!(
        summary(&d),
        vec![
            (
                "AuthorizationPolicy/default/allow-everything",
                Change::Added
            ),
            ("PeerAuthentication/default/default", Change::Removed),
            ("VirtualService/default/reviews", Change::Modified),
        ]
    );
    let modified = &d[2].diff;
    assert!(
        modified.starts_with("--- declared\n+++ live\n@@ "),
        "{modified}"
    );
    for want in [
        "-      weight: 80\n",
        "+      weight: 50\n",
        "-      weight: 20\n",
    ] {
        assert!(modified.contains(want), "{want:?} not in\n{modified}");
    }
    for noise in [
        "uid",
        "resourceVersion",
        "managedFields",
        "status",
        "last-applied",
        "apiVersion",
    ] {
        assert!(!modified.contains(noise), "{noise} in\n{modified}");
    }
    // Whole-object diffs: every line added (live only) or removed (declared only).
    let body = |s: &str| s.lines().skip(3).map(str::to_string).collect::<Vec<_>>();
    assert!(
        body(&d[0].diff).iter().all(|l| l.starts_with('+')),
        "{}",
        d[0].diff
    );
    assert!(d[0].diff.contains("+  action: ALLOW"), "{}", d[0].diff);
    assert!(
        body(&d[1].diff).iter().all(|l| l.starts_with('-')),
        "{}",
        d[1].diff
    );
    assert!(
        d.iter()
            .all(|r| r.source == Some(DiffSource::Declared) && r.at.is_none())
    );
}

#[test]
fn only_server_set_differences_is_no_diff() {
    let declared = load_declared(&dir().join("declared").join("routing.yaml")).unwrap();
    let live = read_objects(&dir().join("live.yaml")).unwrap().objects;
    let dr: Vec<_> = declared
        .objects
        .into_iter()
        .filter(|o| o["kind"] == "DestinationRule")
        .collect();
    let live_dr: Vec<_> = live
        .into_iter()
        .filter(|o| o["kind"] == "DestinationRule")
        .collect();
    assert_eq!(dr.len(), 1);
    assert!(declared_vs_live(&dr, &live_dr, None).is_empty());
    // And a real change in the same pair is seen.
    let mut changed = live_dr.clone();
    changed[0]["spec"]["subsets"][1]["labels"]["version"] = "v3".into();
    let d = declared_vs_live(&dr, &changed, None);
    assert_eq!(
        summary(&d),
        vec![("DestinationRule/default/reviews", Change::Modified)]
    );
    assert!(
        d[0].diff
            .contains("-      version: v2\n+      version: v3\n"),
        "{}",
        d[0].diff
    );
}

/// Through the whole path: a bundle whose manifests hold the live rules,
/// and `--declared DIR`; the policy entries carry their managedFields time.
#[test]
fn bundle_with_declared_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let src = common::fixtures().join("bundles").join("istio-mini");
    copy_dir(&src, tmp.path());
    std::fs::copy(
        dir().join("live.yaml"),
        tmp.path().join("manifests").join("rules.yaml"),
    )
    .unwrap();
    let declared = load_declared(&dir().join("declared")).unwrap();
    let snap = snapshot_from_bundle_with(tmp.path(), None, Some(&declared)).unwrap();
    assert_eq!(
        summary(&snap.rule_diffs),
        vec![
            (
                "AuthorizationPolicy/default/allow-everything",
                Change::Added
            ),
            ("PeerAuthentication/default/default", Change::Removed),
            ("VirtualService/default/reviews", Change::Modified),
        ]
    );
    let vs = snap
        .declared
        .routes
        .iter()
        .find(|r| r["resource"] == "VirtualService/default/reviews")
        .expect("the VirtualService entry");
    assert_eq!(vs["last_changed"], "2024-05-03T14:25:07Z");
    assert_eq!(vs["changed_by"], "kubectl-edit");
    // The status update of the DestinationRule is not its last change.
    let dr = snap
        .declared
        .routes
        .iter()
        .find(|r| r["resource"] == "DestinationRule/default/reviews")
        .expect("the DestinationRule entry");
    assert_eq!(dr["last_changed"], "2024-05-02T09:00:00Z");
    let json = serde_json::to_value(&snap).unwrap();
    common::assert_valid_snapshot(&json);

    // Without --declared, or without live rules, no declared diffs.
    let snap = snapshot_from_bundle_with(tmp.path(), None, None).unwrap();
    assert!(snap.rule_diffs.is_empty());
    let snap = snapshot_from_bundle_with(&src, None, Some(&declared)).unwrap();
    assert!(snap.rule_diffs.is_empty(), "{:?}", snap.rule_diffs);
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// Every mesh rule of the corpus: a live copy with server-set fields is no
/// diff, and the rendered YAML reads back as the same normalized object.
#[test]
fn corpus_rules_round_trip() {
    use meshscope::analyze::diffs::{RuleKey, is_mesh_rule, normalize, to_yaml};
    let Some(corpus) = common::corpus() else {
        return;
    };
    let mut rules = 0;
    for dir in std::fs::read_dir(&corpus).unwrap() {
        let dir = dir.unwrap().path();
        if !dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("manifests-")
        {
            continue;
        }
        let declared = load_declared(&dir).unwrap();
        let objects: Vec<_> = declared.objects.into_iter().filter(is_mesh_rule).collect();
        rules += objects.len();
        let live: Vec<_> = objects
            .iter()
            .map(|o| {
                let mut l = o.clone();
                let m = &mut l["metadata"];
                m["uid"] = "0000-1111".into();
                m["resourceVersion"] = "42".into();
                m["generation"] = 2.into();
                m["creationTimestamp"] = "2024-01-01T00:00:00Z".into();
                m["managedFields"] =
                    serde_json::json!([{"manager": "kubectl", "time": "2024-01-01T00:00:00Z"}]);
                m["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
                    serde_json::to_string(o).unwrap().into();
                l["status"] = serde_json::json!({"conditions": []});
                l
            })
            .collect();
        let d = declared_vs_live(&objects, &live, None);
        assert!(d.is_empty(), "{}: {:?}", dir.display(), d.first());
        for o in &objects {
            let n = normalize(o, &RuleKey::of(o).namespace);
            let back: serde_json::Value = serde_saphyr::from_str(&to_yaml(&n)).unwrap();
            assert_eq!(back, n, "{}: {}", dir.display(), RuleKey::of(o).resource());
        }
    }
    assert!(rules > 50, "only {rules} mesh rules in the corpus");
    println!("{rules} corpus mesh rules round-trip");
}
