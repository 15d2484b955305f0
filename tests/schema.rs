#![allow(clippy::unwrap_used, clippy::expect_used)]
//! docs/snapshot.schema.json stays in step with the Snapshot struct, and the
//! snapshots the tests produce validate against it.

mod common;

use std::path::PathBuf;

use meshscope::model::snapshot::snapshot_schema;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/snapshot.schema.json")
}

#[test]
fn committed_schema_matches_the_struct() {
    let generated = serde_json::to_string_pretty(&snapshot_schema()).unwrap() + "\n";
    if std::env::var_os("MESHSCOPE_UPDATE_FIXTURES").is_some() {
        std::fs::write(schema_path(), &generated).unwrap();
    }
    let committed = std::fs::read_to_string(schema_path()).unwrap_or_default();
    assert_eq!(
        committed, generated,
        "docs/snapshot.schema.json is stale: run MESHSCOPE_UPDATE_FIXTURES=1 cargo test --test schema"
    );
}

#[test]
fn bundle_snapshots_validate() {
    for b in ["istio-mini", "linkerd-mini"] {
        let snap = meshscope::app_main::snapshot_from_bundle(
            &common::fixtures().join("bundles").join(b),
            None,
        )
        .unwrap();
        common::assert_valid_snapshot(&serde_json::to_value(&snap).unwrap());
    }
}

#[test]
fn schema_rejects_a_broken_snapshot() {
    let schema = snapshot_schema();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let bad = serde_json::json!({"schema": "meshscope.snapshot/v1", "nodes": "nope"});
    assert!(!validator.is_valid(&bad));
}
