//! Rendering cost at scale. Run in release:
//! `cargo test --release --test sim_perf -- --ignored --nocapture`.

#![allow(clippy::unwrap_used)]

use std::time::Instant;

use meshscope::sim::proxy::{Noise, render_metrics_into};
use meshscope::sim::scenario;

fn render_all(spec: &str, noise: Noise) -> (usize, usize, usize, f64) {
    let s = scenario::load(spec).unwrap();
    let start = Instant::now();
    let mut bytes = 0;
    let mut lines = 0;
    let mut text = String::new();
    for p in s.meshed_pods() {
        text.clear();
        render_metrics_into(&s, p, 10_000, noise, &mut text);
        bytes += text.len();
        lines += memchr_count(&text);
    }
    (s.pods.len(), lines, bytes, start.elapsed().as_secs_f64())
}

fn memchr_count(t: &str) -> usize {
    t.bytes().filter(|&b| b == b'\n').count()
}

#[test]
#[ignore = "benchmark: run in release"]
fn scale_1000_renders_all_pods_quickly() {
    let t0 = Instant::now();
    let s = scenario::load("scale:1000").unwrap();
    println!(
        "load scale:1000: {:.3}s, {} pods, {} edges",
        t0.elapsed().as_secs_f64(),
        s.pods.len(),
        s.edges.len()
    );
    for noise in [Noise::None, Noise::Low, Noise::Realistic] {
        let (pods, lines, bytes, secs) = render_all("scale:1000", noise);
        println!(
            "{noise:?}: {pods} pods, {lines} lines, {:.1} MB in {secs:.3}s",
            bytes as f64 / 1e6
        );
        if noise != Noise::Realistic {
            assert!(secs < 1.0, "{noise:?} took {secs}s");
        }
    }
}

#[test]
fn scale_100_renders() {
    let (pods, lines, _, _) = render_all("scale:100", Noise::Low);
    assert!(pods >= 100 && lines > 1000);
}
