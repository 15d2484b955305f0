//! The `triage` command and `demo --triage`.

use crate::app_main::{Failure, declared, live_options, runtime};
use crate::cli::{ClusterArgs, DemoArgs, OutputFormat, TriageArgs};
use crate::collect::session::LiveOptions;
use crate::triage::gather::{bundle_material_focused, live_material_focused};
use crate::triage::run::{Material, Request, TriageFormat, bundle_material, print, report};

/// `meshscope triage SERVICE`.
pub fn triage_cmd(args: TriageArgs, cluster: &ClusterArgs, theme: &str) -> Result<u8, Failure> {
    let req = Request {
        service: args.service.clone(),
        namespace: cluster.namespace.clone(),
        slo: args.slo.clone(),
        format: args.output,
    };
    let declared = declared(cluster.declared.as_deref())?;
    let rt = runtime()?;
    let material: Material = match &args.from {
        Some(dir) => bundle_material_focused(dir, &req, declared.clone())?,
        None => {
            let mut opts = live_options(cluster);
            opts.declared = declared.clone();
            opts.progress = false;
            rt.block_on(live_material_focused(&opts, &req))?
        }
    };
    let r = report(&material, &req)?;
    let code = print(&r, req.format)?;
    if args.tui {
        let mut opts = crate::app_main::tui_options(theme)?;
        opts.focus = Some(crate::triage::run::focus_of(&r));
        match &args.from {
            // A bundle: the TUI over the whole last window (every scrape,
            // not only the triage's focus), no live feed.
            Some(dir) => {
                let whole = bundle_material(dir, None, declared)?;
                rt.block_on(static_tui(crate::triage::run::windows(&whole).now, opts))?
            }
            None => {
                let live = live_options(cluster);
                let feed = crate::app_main::feed_options(cluster)?;
                rt.block_on(async {
                    let conn = crate::collect::kube::connect(&live.kube).await?;
                    crate::app_main::run_tui(conn, feed, opts).await
                })?;
            }
        }
    }
    Ok(code)
}

/// `meshscope demo --triage SERVICE`: three rounds `--interval` apart over
/// the simulated mesh already running behind `opts`.
pub async fn demo_triage(
    args: &DemoArgs,
    service: &str,
    cluster: &ClusterArgs,
    opts: &LiveOptions,
) -> Result<u8, Failure> {
    let format = match args.output {
        None | Some(OutputFormat::Text) => TriageFormat::Text,
        Some(OutputFormat::Json) => TriageFormat::Json,
        Some(other) => {
            return Err(Failure::BadInput(format!(
                "-o {}: --triage prints text or json",
                format!("{other:?}").to_lowercase()
            )));
        }
    };
    let req = Request {
        service: service.to_string(),
        namespace: cluster.namespace.clone(),
        slo: args.slo.clone(),
        format,
    };
    let material = tokio::select! {
        m = live_material_focused(opts, &req) => m?,
        _ = tokio::signal::ctrl_c() => return Err(Failure::Internal("interrupted".into())),
    };
    let r = report(&material, &req)?;
    print(&r, req.format)
}

/// The TUI over one fixed snapshot (a bundle's).
async fn static_tui(
    snap: crate::model::snapshot::Snapshot,
    opts: crate::tui::TuiOptions,
) -> Result<(), Failure> {
    use std::sync::Arc;
    use tokio::sync::{mpsc, watch};
    let (_snap_tx, snapshots) = watch::channel(Arc::new(snap));
    let (_prog_tx, progress) = watch::channel(crate::tui::Progress::default());
    let (commands, _cmd_rx) = mpsc::channel(16);
    let feed = crate::tui::Feed {
        snapshots,
        progress,
        commands,
    };
    crate::tui::run(feed, opts)
        .await
        .map_err(|e| Failure::Internal(format!("{e:#}")))
}
