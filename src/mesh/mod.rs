//! Mesh dialects: Istio, Linkerd and plain Envoy name the same facts
//! differently. One module per dialect maps the samples of one proxy scrape
//! to canonical [`EdgeSample`]s keyed by (edge, reporter). Adding a mesh is
//! one new file implementing [`Dialect`].

pub mod envoy;
pub mod envoy_names;
pub mod istio;
pub mod linkerd;
pub mod stat_filter;

use crate::collect::scrape::{ParseStats, Sample, SampleSink};
use crate::model::ids::NodeRef;
use crate::model::inventory::Inventory;
use crate::model::snapshot::MeshKind;

/// The pod whose proxy was scraped.
pub struct ScrapeTarget<'a> {
    pub namespace: &'a str,
    pub pod: &'a str,
    /// The pod's workload (from the inventory, or guessed from its name).
    pub workload: NodeRef,
    pub inventory: &'a Inventory,
}

impl<'a> ScrapeTarget<'a> {
    pub fn new(namespace: &'a str, pod: &'a str, inventory: &'a Inventory) -> Self {
        ScrapeTarget {
            namespace,
            pod,
            workload: inventory.workload_of_pod(namespace, pod),
            inventory,
        }
    }
}

pub use crate::model::sample::{NodeHint, ScrapeData as ScrapeAcc};

/// One mesh's way of naming traffic.
pub trait Dialect {
    fn mesh(&self) -> MeshKind;
    /// Whether a sample name belongs to this dialect (the family prefilter).
    fn wants(&self, name: &[u8]) -> bool;
    fn sample(&mut self, target: &ScrapeTarget<'_>, sample: &Sample<'_>, acc: &mut ScrapeAcc);
    /// End of the scrape (for dialects that need all samples first).
    fn finish(&mut self, _target: &ScrapeTarget<'_>, _acc: &mut ScrapeAcc) {}
}

/// The result of one proxy scrape.
#[derive(Debug, Clone, Default)]
pub struct ScrapeResult {
    /// The dialect whose metrics were used (the richest present).
    pub mesh: Option<MeshKind>,
    pub acc: ScrapeAcc,
    pub stats: ParseStats,
}

/// Runs every dialect over one scrape and keeps the result of the most
/// specific one present: Istio's standard metrics, then Linkerd's, then plain
/// Envoy cluster stats (Istio sidecars also expose some `envoy_cluster_*`,
/// which must not be counted twice). Fed in chunks, so a scrape is streamed
/// from the network into the parser, never held whole in memory.
pub struct ScrapeProcessor<'a> {
    target: ScrapeTarget<'a>,
    dialects: [(Box<dyn Dialect + Send>, ScrapeAcc); 3],
    parser: crate::collect::scrape::parser::StreamParser,
    /// Series already seen in this scrape: a duplicate is dropped (first
    /// wins, as Prometheus's ingestion does) instead of counted twice.
    seen: rustc_hash::FxHashSet<u64>,
    duplicates: usize,
    /// `--mesh`: only this dialect's result is used.
    only: Option<MeshKind>,
}

/// A filter keeping exactly the families some dialect uses.
pub fn dialect_filter(name: &[u8]) -> bool {
    istio::wants(name) || linkerd::wants(name) || envoy::wants(name)
}

struct Dispatch<'p, 'a> {
    target: &'p ScrapeTarget<'a>,
    dialects: &'p mut [(Box<dyn Dialect + Send>, ScrapeAcc); 3],
    seen: &'p mut rustc_hash::FxHashSet<u64>,
    duplicates: &'p mut usize,
}

impl SampleSink for Dispatch<'_, '_> {
    fn sample(&mut self, sample: &Sample<'_>) {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(sample.series);
        if !self.seen.insert(h) {
            *self.duplicates += 1;
            return;
        }
        let name = sample.name.as_bytes();
        if let Some((d, acc)) = self.dialects.iter_mut().find(|(d, _)| d.wants(name)) {
            d.sample(self.target, sample, acc);
        }
    }
}

impl<'a> ScrapeProcessor<'a> {
    pub fn new(target: ScrapeTarget<'a>) -> Self {
        ScrapeProcessor {
            target,
            dialects: [
                (Box::new(istio::Istio::default()), ScrapeAcc::default()),
                (Box::new(linkerd::Linkerd), ScrapeAcc::default()),
                (Box::new(envoy::Envoy::default()), ScrapeAcc::default()),
            ],
            parser: crate::collect::scrape::parser::StreamParser::new(),
            seen: rustc_hash::FxHashSet::default(),
            duplicates: 0,
            only: None,
        }
    }

    /// Use only this mesh's dialect (`--mesh`); `None` picks the richest
    /// present.
    pub fn only(mut self, mesh: Option<MeshKind>) -> Self {
        self.only = mesh;
        self
    }

    fn sink(
        &mut self,
    ) -> (
        &mut crate::collect::scrape::parser::StreamParser,
        Dispatch<'_, 'a>,
    ) {
        (
            &mut self.parser,
            Dispatch {
                target: &self.target,
                dialects: &mut self.dialects,
                seen: &mut self.seen,
                duplicates: &mut self.duplicates,
            },
        )
    }

    /// Feed one already-parsed sample (from the Prometheus HTTP API, say).
    pub fn feed_sample(&mut self, sample: &Sample<'_>) {
        let (_, mut sink) = self.sink();
        sink.sample(sample);
    }

    /// Feed the next chunk of the scrape.
    pub fn feed(&mut self, chunk: &[u8]) {
        use crate::collect::scrape::ExpositionParser;
        let (parser, mut sink) = self.sink();
        parser.feed(chunk, &dialect_filter, &mut sink);
    }

    /// End of the scrape: choose the dialect result.
    pub fn finish(mut self) -> ScrapeResult {
        use crate::collect::scrape::ExpositionParser;
        let mut stats = {
            let (parser, mut sink) = self.sink();
            parser.finish(&dialect_filter, &mut sink)
        };
        if self.duplicates > 0 {
            stats.samples_kept -= self.duplicates.min(stats.samples_kept);
            stats.push_issue(
                0,
                format!(
                    "{} duplicate series dropped (the first of each kept)",
                    self.duplicates
                ),
            );
        }
        // The dialects are in order of preference: the first allowed one
        // with a result wins, so the later ones are not finished at all
        // (the Envoy dialect's finish resolves every cluster of a sidecar
        // whose Istio metrics already gave the edges).
        let only = self.only;
        let target = &self.target;
        let chosen = self.dialects.into_iter().find_map(|(mut d, mut acc)| {
            if only.is_some_and(|m| d.mesh() != m) {
                return None;
            }
            d.finish(target, &mut acc);
            (!acc.is_empty()).then_some((d, acc))
        });
        match chosen {
            Some((d, mut acc)) => {
                acc.shrink_to_fit();
                ScrapeResult {
                    mesh: Some(d.mesh()),
                    acc,
                    stats,
                }
            }
            None => ScrapeResult {
                mesh: None,
                acc: ScrapeAcc::default(),
                stats,
            },
        }
    }

    /// Parse a whole scrape held in memory.
    pub fn process_bytes(mut self, input: &[u8]) -> ScrapeResult {
        self.feed(input);
        self.finish()
    }

    /// Stream a scrape from a reader through the parser.
    pub fn process_reader<R: std::io::Read>(
        mut self,
        mut reader: R,
    ) -> std::io::Result<ScrapeResult> {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            self.feed(&buf[..n]);
        }
        Ok(self.finish())
    }
}

/// Helpers shared by the dialects.
pub(crate) fn non_empty(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.is_empty() && *s != "unknown")
}

/// `host:port` → `host`.
pub(crate) fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.is_empty() => h,
        _ => host,
    }
}

/// `reviews.default.svc.cluster.local[:9080]` → `("default", "reviews")`.
pub(crate) fn service_from_host(host: &str) -> Option<(&str, &str)> {
    let host = strip_port(host);
    let mut parts = host.split('.');
    let name = parts.next()?;
    let ns = parts.next()?;
    if parts.next() == Some("svc") && !name.is_empty() && !ns.is_empty() {
        Some((ns, name))
    } else {
        None
    }
}

/// Where a call to a Service lands: the Service's sole workload when the
/// inventory knows exactly one, else the Service node.
pub(crate) fn resolve_service(inv: &Inventory, namespace: &str, name: &str) -> NodeRef {
    inv.sole_workload_of_service(namespace, name)
        .unwrap_or_else(|| NodeRef::service(namespace, name))
}

/// A bucket bound: `0.5`, `+Inf`, `1e+06`.
pub(crate) fn parse_le(le: &str) -> Option<f64> {
    match le {
        "+Inf" | "Inf" | "inf" | "+inf" => Some(f64::INFINITY),
        _ => le.parse::<f64>().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::inventory::Inventory;

    /// An Istio sidecar's scrape: Istio's standard metrics and Envoy's
    /// cluster stats under Istio's tag name (`cluster_name`).
    const SCRAPE: &[u8] = b"# TYPE envoy_cluster_upstream_rq_total counter
envoy_cluster_upstream_rq_total{cluster_name=\"outbound|9080||reviews.default.svc.cluster.local\"} 100
# TYPE istio_requests_total counter
istio_requests_total{reporter=\"source\",source_workload=\"productpage-v1\",source_workload_namespace=\"default\",destination_workload=\"reviews-v1\",destination_workload_namespace=\"default\",destination_service=\"reviews.default.svc.cluster.local\",destination_service_name=\"reviews\",destination_service_namespace=\"default\",response_code=\"200\",request_protocol=\"http\",connection_security_policy=\"unknown\"} 100
";

    fn run(only: Option<MeshKind>) -> ScrapeResult {
        let inv = Inventory::default();
        ScrapeProcessor::new(ScrapeTarget::new(
            "default",
            "productpage-v1-abc-12345",
            &inv,
        ))
        .only(only)
        .process_bytes(SCRAPE)
    }

    /// Consecutive bucket lines of different series (here: the same labels
    /// but the destination, or values that only differ in where a label
    /// boundary falls) each land on their own edge.
    #[test]
    fn consecutive_bucket_series_stay_apart() {
        let line = |dst: &str, ver: &str, le: &str, v: u32| {
            format!(
                "istio_request_duration_milliseconds_bucket{{reporter=\"source\",source_workload=\"productpage-v1\",source_workload_namespace=\"default\",source_version=\"{ver}\",destination_workload=\"{dst}\",destination_workload_namespace=\"default\",le=\"{le}\"}} {v}\n"
            )
        };
        let mut text = String::from("# TYPE istio_request_duration_milliseconds histogram\n");
        for (dst, ver, base) in [
            ("reviews-v1", "v1", 10),
            ("reviews-v2", "v1", 20),
            ("reviews-v2", "v", 40),
            ("reviews-v1", "v2", 80),
        ] {
            for (le, k) in [("5", 1), ("10", 2), ("+Inf", 3)] {
                text.push_str(&line(dst, ver, le, base * k));
            }
        }
        let inv = Inventory::default();
        let r = ScrapeProcessor::new(ScrapeTarget::new(
            "default",
            "productpage-v1-abc-12345",
            &inv,
        ))
        .process_bytes(text.as_bytes());
        let mut got: Vec<(String, Vec<f64>)> = r
            .acc
            .edges
            .iter()
            .map(|((k, _), e)| (k.target.id(), e.latency.counts().to_vec()))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        // reviews-v1: two series (10 and 80); reviews-v2: 20 and 40.
        assert_eq!(
            got,
            vec![
                ("default/reviews-v1".to_string(), vec![90.0, 180.0, 270.0]),
                ("default/reviews-v2".to_string(), vec![60.0, 120.0, 180.0]),
            ]
        );
    }

    #[test]
    fn only_picks_the_forced_dialect() {
        let auto = run(None);
        assert_eq!(auto.mesh, Some(MeshKind::Istio));
        let envoy = run(Some(MeshKind::Envoy));
        assert_eq!(envoy.mesh, Some(MeshKind::Envoy));
        assert!(
            envoy
                .acc
                .edges
                .keys()
                .any(|(k, _)| k.target.id().contains("reviews")),
            "{:?}",
            envoy.acc.edges.keys().collect::<Vec<_>>()
        );
        let linkerd = run(Some(MeshKind::Linkerd));
        assert_eq!(linkerd.mesh, None);
        assert!(linkerd.acc.is_empty());
    }

    /// Istio's sidecars tag response classes `response_code_class="2xx"`
    /// (Envoy's own tag is `envoy_response_code_class="2"`): both count.
    #[test]
    fn envoy_classes_under_istio_and_envoy_tag_names() {
        for (label, ok, bad) in [
            ("response_code_class", "2xx", "5xx"),
            ("envoy_response_code_class", "2", "5"),
        ] {
            let text = format!(
                "# TYPE envoy_cluster_upstream_rq_xx counter
envoy_cluster_upstream_rq_xx{{{label}=\"{ok}\",cluster_name=\"outbound|9080||reviews.default.svc.cluster.local\"}} 90
envoy_cluster_upstream_rq_xx{{{label}=\"{bad}\",cluster_name=\"outbound|9080||reviews.default.svc.cluster.local\"}} 10
"
            );
            let inv = Inventory::default();
            let r = ScrapeProcessor::new(ScrapeTarget::new(
                "default",
                "productpage-v1-abc-12345",
                &inv,
            ))
            .only(Some(MeshKind::Envoy))
            .process_bytes(text.as_bytes());
            let codes: Vec<(u16, bool)> = r
                .acc
                .edges
                .values()
                .flat_map(|e| e.requests.iter().map(|(rk, _)| (rk.code, rk.failed)))
                .collect();
            assert!(codes.contains(&(500, true)), "{label}: {codes:?}");
            assert!(codes.contains(&(200, false)), "{label}: {codes:?}");
        }
    }
}
