//! The committed fixture bundles are exactly what the simulator writes.
//! Regenerate them with `MESHSCOPE_UPDATE_FIXTURES=1 cargo test --test sim_bundles`.

#![allow(clippy::unwrap_used)]
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use meshscope::sim::bundle::{FIXTURE_ROUNDS_MS, write_bundle};
use meshscope::sim::proxy::Noise;
use meshscope::sim::scenario;

fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn check(name: &str) {
    let committed: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/bundles")
        .join(name);
    let s = scenario::load(name).unwrap();
    if std::env::var("MESHSCOPE_UPDATE_FIXTURES").as_deref() == Ok("1") {
        if committed.exists() {
            fs::remove_dir_all(&committed).unwrap();
        }
        write_bundle(&committed, &s, &FIXTURE_ROUNDS_MS, Noise::Low).unwrap();
        eprintln!("rewrote {}", committed.display());
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    write_bundle(tmp.path(), &s, &FIXTURE_ROUNDS_MS, Noise::Low).unwrap();
    let fresh = files(tmp.path());
    assert!(
        committed.exists(),
        "{} missing: run with MESHSCOPE_UPDATE_FIXTURES=1",
        committed.display()
    );
    let old = files(&committed);
    let fresh_names: Vec<_> = fresh.keys().collect();
    let old_names: Vec<_> = old.keys().collect();
    assert_eq!(
        fresh_names, old_names,
        "{name}: file list differs from the committed bundle (MESHSCOPE_UPDATE_FIXTURES=1 rewrites it)"
    );
    for (k, v) in &fresh {
        assert!(
            old[k] == *v,
            "{name}: {k} differs from the committed bundle (MESHSCOPE_UPDATE_FIXTURES=1 rewrites it)"
        );
    }
    // Shape per CONTRACT.md: meta.json, manifests/, scrapes/<unix-millis>/<ns>__<pod>.prom.
    let meta: serde_json::Value = serde_json::from_slice(&fresh["meta.json"]).unwrap();
    assert_eq!(meta["schema"], "meshscope.bundle/v1");
    let rounds: std::collections::BTreeSet<_> = fresh
        .keys()
        .filter_map(|k| k.strip_prefix("scrapes/"))
        .filter_map(|k| k.split('/').next())
        .collect();
    assert_eq!(rounds.len(), 2);
    for r in rounds {
        assert!(r.parse::<u64>().unwrap() > 1_700_000_000_000);
    }
    assert!(
        fresh
            .keys()
            .any(|k| k.starts_with("manifests/") && k.ends_with(".json"))
    );
    for k in fresh.keys().filter(|k| k.starts_with("scrapes/")) {
        let file = k.rsplit('/').next().unwrap();
        assert!(file.ends_with(".prom") && file.contains("__"), "{k}");
    }
}

#[test]
fn bookinfo_fixture_is_current() {
    check("bookinfo");
}

#[test]
fn emojivoto_fixture_is_current() {
    check("emojivoto");
}

#[test]
fn bundle_writing_is_deterministic() {
    let s = scenario::load("boutique").unwrap();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    write_bundle(a.path(), &s, &[0, 5_000], Noise::Realistic).unwrap();
    write_bundle(
        b.path(),
        &scenario::load("boutique").unwrap(),
        &[0, 5_000],
        Noise::Realistic,
    )
    .unwrap();
    assert_eq!(files(a.path()), files(b.path()));
}
