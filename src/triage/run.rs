//! The I/O of `meshscope triage`: collect consecutive windows (a bundle's
//! rounds, three live rounds, or the simulated demo), resolve the service,
//! print the report, map the verdict to the exit code.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::app_main::Failure;
use crate::collect::session::LiveOptions;
use crate::model::build::{BuildContext, Round, build_snapshot_refs};
use crate::model::inventory::Inventory;
use crate::model::snapshot::{ClusterInfo, SourceStatus};
use crate::triage::slo::SloConfig;
use crate::triage::{TriageReport, Windows, resolve, triage};

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TriageFormat {
    Text,
    Json,
}

/// What a triage needs besides the windows.
#[derive(Debug, Clone)]
pub struct Request {
    pub service: String,
    pub namespace: Option<String>,
    pub slo: Option<PathBuf>,
    pub format: TriageFormat,
}

/// The inputs of a build, shared by the windows.
pub struct Material {
    pub inventory: Inventory,
    pub rounds: Vec<Round>,
    pub sources: Vec<SourceStatus>,
    pub cluster: Option<ClusterInfo>,
    pub namespaces: Option<Vec<String>>,
    pub declared: Option<crate::analyze::Declared>,
}

/// Windows from rounds: with three or more, the first, middle and last
/// round give the baseline window, the last window and the long window;
/// with two, one window and no baseline.
pub fn windows(m: &Material) -> Windows {
    let ctx = || BuildContext {
        sources: m.sources.clone(),
        cluster: m.cluster.clone(),
        namespaces: m.namespaces.clone(),
    };
    let build = |rounds: &[&Round]| build_snapshot_refs(&m.inventory, rounds, ctx());
    let analyzed = |rounds: &[&Round]| {
        let mut now = build(rounds);
        crate::analyze::analyze(
            &mut now,
            &m.inventory,
            m.declared.as_ref(),
            &crate::analyze::AnalyzeConfig::default(),
        );
        now
    };
    let n = m.rounds.len();
    if n < 3 {
        let now = analyzed(&m.rounds.iter().collect::<Vec<_>>());
        return Windows {
            now,
            baseline: None,
            long: None,
        };
    }
    let (first, mid, last) = (&m.rounds[0], &m.rounds[n / 2], &m.rounds[n - 1]);
    // The three builds are independent: the two older windows on other
    // threads while this one builds and analyses the last.
    let (now, (baseline, long)) = crate::par::join(
        true,
        || analyzed(&[mid, last]),
        || crate::par::join(true, || build(&[first, mid]), || build(&[first, last])),
    );
    Windows {
        now,
        baseline: Some(baseline),
        long: Some(long),
    }
}

/// A bundle's rounds as material.
pub fn bundle_material(
    dir: &Path,
    namespace: Option<String>,
    declared: Option<crate::analyze::Declared>,
) -> Result<Material, Failure> {
    let b =
        crate::collect::bundle::read_bundle(dir).map_err(|e| Failure::BadInput(e.to_string()))?;
    let cluster = b.meta.context.as_ref().map(|c| ClusterInfo {
        context: Some(c.clone()),
        server: b.meta.server.clone(),
    });
    Ok(Material {
        inventory: b.inventory,
        rounds: b.rounds,
        sources: b.sources,
        cluster,
        namespaces: namespace.map(|n| vec![n]),
        declared,
    })
}

/// Three live rounds a window apart as material. `req`'s service is
/// resolved against the listed objects first, so an unknown name fails
/// before any scrape.
pub async fn live_material(opts: &LiveOptions, req: &Request) -> Result<Material, Failure> {
    let listing = crate::collect::session::live_listing(opts, false).await?;
    let empty = crate::model::snapshot::Snapshot::empty(String::new(), 0.0);
    if !listing.inventory.workloads.is_empty() {
        resolve(
            &req.service,
            req.namespace.as_deref(),
            &empty,
            &listing.inventory,
        )
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    }
    let r = crate::collect::session::scrape_rounds(listing, opts, 3, false).await;
    Ok(Material {
        inventory: r.inventory,
        rounds: r.rounds,
        sources: r.sources,
        cluster: Some(r.cluster),
        namespaces: r.namespaces,
        declared: opts.declared.clone(),
    })
}

/// Resolve and triage over `m`.
pub fn report(m: &Material, req: &Request) -> Result<TriageReport, Failure> {
    crate::collect::timings::mark(|| "material read".into());
    let slo_cfg =
        SloConfig::load(req.slo.as_deref()).map_err(|e| Failure::BadInput(e.to_string()))?;
    let w = windows(m);
    let target = resolve(&req.service, req.namespace.as_deref(), &w.now, &m.inventory)
        .map_err(|e| Failure::BadInput(e.to_string()))?;
    let slo = slo_cfg.for_service(&format!("{}/{}", target.namespace, target.name));
    let r = triage(&w, &target, &slo);
    crate::collect::timings::mark(|| "report built".into());
    Ok(r)
}

/// Print the report; the verdict's exit code.
pub fn print(r: &TriageReport, format: TriageFormat) -> Result<u8, Failure> {
    let text = match format {
        TriageFormat::Text => crate::triage::text::render(r),
        TriageFormat::Json => serde_json::to_string_pretty(r)
            .map(|s| s + "\n")
            .map_err(|e| Failure::Internal(format!("cannot serialise the report: {e}")))?,
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| Failure::Internal(format!("cannot write to stdout: {e}")))?;
    Ok(r.verdict.exit_code())
}

/// The node to select when the TUI opens on the report's subject.
pub fn focus_of(r: &TriageReport) -> String {
    match r.subject.workloads.as_slice() {
        [first, ..] if r.subject.kind == "service" => first.clone(),
        _ => r.subject.id.clone(),
    }
}
