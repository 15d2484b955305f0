#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Envoy sidecars are asked for only the stats the dialects read
//! (`?filter=`, `mesh::stat_filter`). The filter must never drop a sample a
//! dialect uses: real pages (corpus) and simulated ones, cut down to the
//! families the regex matches, give the dialects exactly the result of the
//! whole page.

mod common;

use meshscope::mesh::stat_filter::ENVOY_STAT_FILTER;
use meshscope::mesh::{ScrapeProcessor, ScrapeResult, ScrapeTarget};
use meshscope::model::inventory::Inventory;
use meshscope::model::snapshot::MeshKind;
use meshscope::sim::proxy::{Noise, StatFilter, render_metrics_filtered, render_metrics_with};
use regex::Regex;

/// The page Envoy would serve under the filter: the families (by their
/// `# TYPE` name, as the simulator matches) the regex keeps.
fn cut(text: &str, re: &Regex) -> String {
    let mut out = String::new();
    let mut family: Option<(String, bool)> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let name = rest.split_whitespace().next().unwrap_or("").to_string();
            let keep = re.is_match(&name);
            family = Some((name, keep));
            if keep {
                out.push_str(line);
                out.push('\n');
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let name = line
            .split(|c: char| c == '{' || c.is_whitespace())
            .next()
            .unwrap_or("");
        let keep = match &family {
            Some((f, keep)) if name.starts_with(f.as_str()) => *keep,
            // A sample outside its family's block: matched on its own name.
            _ => re.is_match(name),
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The dialects' result, in a comparable order.
fn run(text: &str, only: Option<MeshKind>) -> (Option<MeshKind>, Vec<String>, Vec<String>) {
    let inv = Inventory::default();
    let mut proc = ScrapeProcessor::new(ScrapeTarget::new("default", "pod-1", &inv)).only(only);
    proc.feed(text.as_bytes());
    let ScrapeResult { mesh, acc, .. } = proc.finish();
    let mut edges: Vec<String> = acc
        .edges
        .iter()
        .map(|(k, s)| {
            let mut s = s.clone();
            s.requests
                .sort_by(|a, b| format!("{:?}", a.0).cmp(&format!("{:?}", b.0)));
            format!("{k:?} {s:?}")
        })
        .collect();
    edges.sort();
    let mut nodes: Vec<String> = acc.nodes.iter().map(|n| format!("{n:?}")).collect();
    nodes.sort();
    (mesh, edges, nodes)
}

fn same_result(whole: &str, filtered: &str, only: Option<MeshKind>, what: &str) -> usize {
    let a = run(whole, only);
    let b = run(filtered, only);
    assert_eq!(a.0, b.0, "{what}: dialect");
    assert_eq!(a.1.len(), b.1.len(), "{what}: edge count");
    for (x, y) in a.1.iter().zip(&b.1) {
        assert_eq!(x, y, "{what}: edge");
    }
    assert_eq!(a.2, b.2, "{what}: nodes");
    a.1.len()
}

#[test]
fn corpus_envoy_pages_give_the_same_edges_filtered() {
    let Some(corpus) = common::corpus() else {
        return;
    };
    let re = Regex::new(ENVOY_STAT_FILTER).unwrap();
    let dir = corpus.join("envoy-istio-metrics");
    let mut edges_seen = 0;
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let filtered = cut(&text, &re);
        let what = path.display().to_string();
        assert!(filtered.len() < text.len(), "{what}: nothing filtered");
        for only in [None, Some(MeshKind::Envoy)] {
            edges_seen += same_result(&text, &filtered, only, &what);
        }
        println!("{what}: {} -> {} bytes", text.len(), filtered.len());
        files += 1;
    }
    assert!(files >= 3, "corpus pages missing in {}", dir.display());
    assert!(
        edges_seen > 0,
        "no page gave an edge: the comparison is empty"
    );
}

#[test]
fn simulated_sidecars_give_the_same_edges_filtered() {
    let re = Regex::new(ENVOY_STAT_FILTER).unwrap();
    for spec in ["bookinfo", "boutique", "scale:60"] {
        let s = meshscope::sim::scenario::load(spec).unwrap();
        let (mut whole_bytes, mut cut_bytes, mut edges) = (0, 0, 0);
        for p in s.meshed_pods() {
            let whole = render_metrics_with(&s, p, 120_000, Noise::Realistic);
            let mut filtered = String::new();
            render_metrics_filtered(
                &s,
                p,
                120_000,
                Noise::Realistic,
                StatFilter(Some(&re)),
                &mut filtered,
            );
            // The simulator's filter is the cut of its whole page.
            assert_eq!(filtered, cut(&whole, &re), "{spec} {}", p.name);
            let what = format!("{spec} {}/{}", p.namespace, p.name);
            for only in [None, Some(MeshKind::Envoy)] {
                edges += same_result(&whole, &filtered, only, &what);
            }
            whole_bytes += whole.len();
            cut_bytes += filtered.len();
        }
        println!("{spec}: {whole_bytes} -> {cut_bytes} bytes, {edges} edges");
        assert!(edges > 0, "{spec}: no edges");
        assert!(
            cut_bytes * 2 < whole_bytes,
            "{spec}: the filter kept half or more"
        );
    }
}
