//! The simulator's planted imperfections are each reported exactly once,
//! with the right kind and subject, and no healthy edge gets a critical gap.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;

use meshscope::analyze::{AnalyzeConfig, analyze};
use meshscope::collect::bundle::read_bundle;
use meshscope::model::build::{BuildContext, build_snapshot};
use meshscope::model::snapshot::{MtlsStatus, Severity, Snapshot};
use meshscope::sim::bundle::write_bundle;
use meshscope::sim::proxy::Noise;
use meshscope::sim::scenario::{self, Scenario};

/// Write the scenario as a bundle (rounds 0 and 60 s), read it back, analyse.
pub fn analysed(s: &Scenario, dir: &Path) -> Snapshot {
    write_bundle(dir, s, &[0, 60_000], Noise::None).unwrap();
    let b = read_bundle(dir).unwrap();
    let mut snap = build_snapshot(&b.inventory, &b.rounds, BuildContext::default());
    analyze(&mut snap, &b.inventory, None, &AnalyzeConfig::default());
    snap
}

fn check(name: &str) {
    let s = scenario::load(name).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snap = analysed(&s, dir.path());
    for g in &snap.gaps {
        eprintln!(
            "{name}: {:?} {} [{}] {}",
            g.severity, g.kind, g.subject, g.message
        );
    }
    assert!(!s.imperfections.is_empty());
    for imp in &s.imperfections {
        let n = snap
            .gaps
            .iter()
            .filter(|g| g.kind == imp.kind && g.subject == imp.subject)
            .count();
        assert_eq!(
            n, 1,
            "{name}: planted {} on {} reported {n} times",
            imp.kind, imp.subject
        );
    }
    let planted: Vec<&str> = s.imperfections.iter().map(|i| i.subject.as_str()).collect();
    for e in &snap.edges {
        let healthy = e.signals.success_rate.is_none_or(|r| r >= 1.0)
            && e.mtls.status == MtlsStatus::Full
            && e.declared != Some(false);
        let subj = format!("{} -> {}", e.source, e.target);
        if healthy && !planted.contains(&subj.as_str()) {
            let crit: Vec<_> = snap
                .gaps
                .iter()
                .filter(|g| g.severity == Severity::Critical && g.subject == subj)
                .collect();
            assert!(
                crit.is_empty(),
                "{name}: critical gap on healthy edge {subj}: {crit:?}"
            );
        }
    }
    assert!(!snap.declared.policies.is_empty() || !snap.declared.routes.is_empty());
    common::assert_valid_snapshot(&serde_json::to_value(&snap).unwrap());
}

#[test]
fn bookinfo_planted() {
    check("bookinfo");
}

#[test]
fn emojivoto_planted() {
    check("emojivoto");
}

#[test]
fn boutique_planted() {
    check("boutique");
}
