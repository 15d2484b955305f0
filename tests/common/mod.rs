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
