//! Mesh dialects: Istio, Linkerd and plain Envoy name the same facts
//! differently. One module per dialect maps the samples of one proxy scrape
//! to canonical [`EdgeSample`]s keyed by (edge, reporter). Adding a mesh is
//! one new file implementing [`Dialect`].

pub mod envoy;
pub mod envoy_names;
pub mod istio;
pub mod linkerd;

use crate::collect::scrape::{FamilyFilter, ParseStats, Sample, SampleSink};
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
/// which must not be counted twice).
pub struct ScrapeProcessor<'a> {
    target: ScrapeTarget<'a>,
    dialects: [(Box<dyn Dialect>, ScrapeAcc); 3],
}

/// A filter keeping exactly the families some dialect uses.
pub fn dialect_filter(name: &[u8]) -> bool {
    istio::wants(name) || linkerd::wants(name) || envoy::wants(name)
}

struct Dispatch<'p, 'a> {
    target: &'p ScrapeTarget<'a>,
    dialects: &'p mut [(Box<dyn Dialect>, ScrapeAcc); 3],
    /// Series already seen in this scrape: a duplicate is dropped (first
    /// wins, as Prometheus's ingestion does) instead of counted twice.
    seen: rustc_hash::FxHashSet<u64>,
    duplicates: usize,
}

impl SampleSink for Dispatch<'_, '_> {
    fn sample(&mut self, sample: &Sample<'_>) {
        use std::hash::{BuildHasher, BuildHasherDefault};
        let h = BuildHasherDefault::<rustc_hash::FxHasher>::default().hash_one(sample.series);
        if !self.seen.insert(h) {
            self.duplicates += 1;
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
                (Box::new(istio::Istio), ScrapeAcc::default()),
                (Box::new(linkerd::Linkerd), ScrapeAcc::default()),
                (Box::new(envoy::Envoy::default()), ScrapeAcc::default()),
            ],
        }
    }

    /// Parse a whole scrape held in memory.
    pub fn process_bytes(self, input: &[u8]) -> ScrapeResult {
        let mut parser = crate::collect::scrape::parser::StreamParser::new();
        self.process_with(|filter, sink| {
            use crate::collect::scrape::ExpositionParser;
            parser.feed(input, filter, sink);
            parser.finish(filter, sink)
        })
    }

    /// Stream a scrape from a reader through the parser.
    pub fn process_reader<R: std::io::Read>(self, reader: R) -> std::io::Result<ScrapeResult> {
        let mut err = None;
        let res = self.process_with(|filter, sink| {
            match crate::collect::scrape::parser::parse_reader(reader, filter, sink) {
                Ok(stats) => stats,
                Err(e) => {
                    err = Some(e);
                    ParseStats::default()
                }
            }
        });
        match err {
            Some(e) => Err(e),
            None => Ok(res),
        }
    }

    /// Run a parse (given as a closure over the filter and sink) and choose
    /// the dialect result.
    pub fn process_with(
        mut self,
        parse: impl FnOnce(&dyn FamilyFilter, &mut dyn SampleSink) -> ParseStats,
    ) -> ScrapeResult {
        let mut stats = {
            let mut sink = Dispatch {
                target: &self.target,
                dialects: &mut self.dialects,
                seen: rustc_hash::FxHashSet::default(),
                duplicates: 0,
            };
            let mut stats = parse(&dialect_filter, &mut sink);
            stats.samples_kept -= sink.duplicates.min(stats.samples_kept);
            (stats, sink.duplicates)
        };
        if stats.1 > 0 {
            stats
                .0
                .push_issue(0, format!("{} duplicate series dropped (the first of each kept)", stats.1));
        }
        let stats = stats.0;
        for (d, acc) in self.dialects.iter_mut() {
            d.finish(&self.target, acc);
        }
        let chosen = self.dialects.into_iter().find(|(_, acc)| !acc.is_empty());
        match chosen {
            Some((d, acc)) => ScrapeResult {
                mesh: Some(d.mesh()),
                acc,
                stats,
            },
            None => ScrapeResult {
                mesh: None,
                acc: ScrapeAcc::default(),
                stats,
            },
        }
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
