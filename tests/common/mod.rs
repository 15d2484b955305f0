#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// `../shared/corpus` beside the crate, or `None` (the test then prints
/// "skipped: corpus not found" and returns).
pub fn corpus() -> Option<PathBuf> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let candidates = [
        here.join("../shared/corpus"),
        PathBuf::from("/work/shared/corpus"),
    ];
    let found = candidates.into_iter().find(|p| p.is_dir());
    if found.is_none() {
        println!("skipped: corpus not found");
    }
    found
}

pub fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Validate a snapshot JSON value against docs/snapshot.schema.json.
pub fn assert_valid_snapshot(v: &serde_json::Value) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/snapshot.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file"))
            .expect("schema JSON");
    let validator = jsonschema::validator_for(&schema).expect("valid schema");
    let errors: Vec<String> = validator
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "snapshot does not validate: {errors:#?}");
    assert_eq!(v["schema"], "meshscope.snapshot/v1");
}
