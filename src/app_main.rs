//! What `main` runs: parse the command line, dispatch, map errors to the
//! exit codes of CONTRACT.md (0 ok, 1 findings, 3 bad usage or input, 4 a
//! required source unreachable).

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, ClusterArgs, Command, DemoArgs, MeshChoice, SnapshotArgs};
use crate::collect::bundle::read_bundle_as;
use crate::collect::kube::{ConnectError, KubeOptions};
use crate::collect::live::ScrapeOptions;
use crate::collect::session::{LiveOptions, live_snapshot_traced};
use crate::model::build::{BuildContext, build_snapshot};
use crate::model::snapshot::{ClusterInfo, Snapshot};

/// An error with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error("{0}")]
    BadInput(String),
    #[error("{0}")]
    Unreachable(String),
    #[error("{0}")]
    Internal(String),
}

impl Failure {
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::BadInput(_) => 3,
            Failure::Unreachable(_) => 4,
            Failure::Internal(_) => 1,
        }
    }
}

/// Entry point used by the binary.
pub fn main_with_args(args: Vec<std::ffi::OsString>) -> ExitCode {
    crate::collect::timings::mark(|| "main".into());
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            let code = match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => 0,
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 3,
                _ => 3,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let res = run(cli);
    crate::collect::timings::mark(|| "exit".into());
    match res {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("meshscope: {f}");
            ExitCode::from(f.exit_code())
        }
    }
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        None | Some(Command::Tui) => tui(&cli.cluster, &cli.theme),
        Some(Command::Snapshot(args)) => snapshot(args, &cli.cluster),
        Some(Command::Demo(args)) => demo(args, &cli.cluster, &cli.theme),
        Some(Command::Triage(args)) => {
            crate::triage::cmd::triage_cmd(args, &cli.cluster, &cli.theme)
        }
        Some(Command::Diff(args)) => crate::diff::diff_cmd(&args),
        Some(Command::Record(args)) => crate::record::record_cmd(&args, &cli.cluster),
        Some(Command::Completions { shell }) => {
            let mut cmd = Cli::command();
            clap_complete::generate(shell, &mut cmd, "meshscope", &mut std::io::stdout());
            Ok(0)
        }
    }
}

/// Load `--declared PATH`, if given.
pub fn declared(
    path: Option<&std::path::Path>,
) -> Result<Option<crate::analyze::Declared>, Failure> {
    path.map(|p| crate::analyze::load_declared(p).map_err(|e| Failure::BadInput(e.to_string())))
        .transpose()
}

/// Build a snapshot from a bundle folder (analysed, nothing extra declared).
pub fn snapshot_from_bundle(
    dir: &std::path::Path,
    namespace: Option<String>,
) -> Result<Snapshot, Failure> {
    snapshot_from_bundle_with(dir, namespace, None)
}

/// Build and analyse a snapshot from a bundle folder.
pub fn snapshot_from_bundle_with(
    dir: &std::path::Path,
    namespace: Option<String>,
    declared: Option<&crate::analyze::Declared>,
) -> Result<Snapshot, Failure> {
    snapshot_from_bundle_traced(dir, namespace, declared, None, None)
}

/// [`snapshot_from_bundle_with`], plus spans fetched from a tracing
/// backend (`--traces` beside `--from`), merged before the analysis, and
/// `--mesh` (only that mesh's dialect reads the scrapes; `mesh.kind` set).
pub fn snapshot_from_bundle_traced(
    dir: &std::path::Path,
    namespace: Option<String>,
    declared: Option<&crate::analyze::Declared>,
    fetched: Option<crate::collect::traces::TraceInput>,
    mesh: Option<crate::model::snapshot::MeshKind>,
) -> Result<Snapshot, Failure> {
    let bundle = read_bundle_as(dir, mesh).map_err(|e| Failure::BadInput(e.to_string()))?;
    let cluster = bundle.meta.context.as_ref().map(|c| ClusterInfo {
        context: Some(c.clone()),
        server: bundle.meta.server.clone(),
    });
    let ctx = BuildContext {
        sources: bundle.sources,
        cluster,
        namespaces: namespace.map(|n| vec![n]),
    };
    let mut snap = build_snapshot(&bundle.inventory, &bundle.rounds, ctx);
    if let Some(m) = mesh {
        snap.mesh.kind = m;
    }
    for traces in bundle.traces.into_iter().chain(fetched) {
        crate::collect::traces::merge::merge(&mut snap, &bundle.inventory, traces);
    }
    crate::analyze::analyze(
        &mut snap,
        &bundle.inventory,
        declared,
        &crate::analyze::AnalyzeConfig::default(),
    );
    Ok(snap)
}

/// The live-collection options of the cluster flags.
pub fn live_options(c: &ClusterArgs) -> LiveOptions {
    LiveOptions {
        kube: KubeOptions {
            kubeconfig: c.kubeconfig.clone(),
            context: c.context.clone(),
            namespace: c.namespace.clone(),
            all_namespaces: c.all_namespaces,
            timeout: None,
        },
        window: c.window(),
        scrape: ScrapeOptions {
            concurrency: usize::from(c.concurrency),
            timeout: c.scrape_timeout,
            mesh: c.mesh.forced(),
            ..ScrapeOptions::default()
        },
        progress: true,
        declared: None,
    }
}

/// A tokio runtime for the async commands.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Internal(format!("cannot start the async runtime: {e}")))
}

impl From<crate::collect::prom_api::PromError> for Failure {
    fn from(e: crate::collect::prom_api::PromError) -> Self {
        match e.exit_code() {
            4 => Failure::Unreachable(e.to_string()),
            _ => Failure::BadInput(e.to_string()),
        }
    }
}

impl From<ConnectError> for Failure {
    fn from(e: ConnectError) -> Self {
        match e.exit_code() {
            4 => Failure::Unreachable(e.to_string()),
            _ => Failure::BadInput(e.to_string()),
        }
    }
}

fn snapshot(args: SnapshotArgs, cluster: &ClusterArgs) -> Result<u8, Failure> {
    let declared = declared(cluster.declared.as_deref())?;
    let traces = cluster
        .traces
        .as_ref()
        .map(crate::collect::traces::TraceSource::new);
    let snap = match &args.from {
        Some(dir) => {
            let ns = (!cluster.all_namespaces)
                .then(|| cluster.namespace.clone())
                .flatten();
            let fetched = match &traces {
                Some(t) => Some(runtime()?.block_on(t.fetch(None))),
                None => None,
            };
            let mesh = live_options(cluster).scrape.mesh;
            snapshot_from_bundle_traced(dir, ns, declared.as_ref(), fetched, mesh)?
        }
        None => {
            let mut opts = live_options(cluster);
            opts.declared = declared;
            match &cluster.prometheus {
                Some(auto) if auto == "auto" => runtime()?.block_on(
                    crate::collect::session::prometheus_in_cluster_snapshot(&opts, traces.as_ref()),
                )?,
                Some(url) => runtime()?.block_on(
                    crate::collect::session::prometheus_live_snapshot_traced(
                        &opts,
                        url,
                        traces.as_ref(),
                    ),
                )?,
                None => runtime()?.block_on(live_snapshot_traced(&opts, traces.as_ref()))?,
            }
        }
    };
    let failing = args.fail_on.is_some_and(|f| {
        snap.gaps.iter().any(|g| match f {
            crate::cli::FailOn::Critical => {
                g.severity == crate::model::snapshot::Severity::Critical
            }
            crate::cli::FailOn::Warning => g.severity != crate::model::snapshot::Severity::Info,
        })
    });
    let text =
        crate::output::render(&snap, args.output).map_err(|e| Failure::Internal(e.to_string()))?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .map_err(|e| Failure::Internal(format!("cannot write to stdout: {e}")))?;
    Ok(u8::from(failing))
}

/// The simulated scenario a demo runs.
pub fn demo_scenario(
    args: &DemoArgs,
    mesh: MeshChoice,
) -> Result<crate::sim::scenario::Scenario, Failure> {
    let scenario = crate::sim::scenario::load(&args.scenario)
        .map_err(|e| Failure::BadInput(format!("--scenario: {e}")))?;
    Ok(match mesh {
        MeshChoice::Auto => scenario,
        MeshChoice::Istio => scenario.with_mesh(crate::sim::scenario::MeshKind::Istio),
        MeshChoice::Linkerd => scenario.with_mesh(crate::sim::scenario::MeshKind::Linkerd),
        MeshChoice::Envoy => {
            return Err(Failure::BadInput(
                "--mesh envoy: the demo renders its proxies as istio or linkerd (a live cluster can be read with --mesh envoy)".into(),
            ));
        }
    })
}

/// Run the TUI over a connected cluster until the user quits.
pub async fn run_tui(
    conn: crate::collect::kube::Connected,
    feed_opts: crate::collect::feed::FeedOptions,
    mut opts: crate::tui::TuiOptions,
) -> Result<(), Failure> {
    use std::sync::Arc;
    use tokio::sync::{mpsc, watch};
    let empty = Snapshot::empty(
        crate::model::build::rfc3339(crate::collect::live::now_ms()),
        0.0,
    );
    let (snap_tx, snap_rx) = watch::channel(Arc::new(empty));
    let (prog_tx, prog_rx) = watch::channel(crate::tui::Progress::default());
    let (cmd_tx, cmd_rx) = mpsc::channel(16);
    opts.context = conn.context.clone();
    opts.namespace = match &conn.scope {
        crate::collect::kube::Scope::All => None,
        crate::collect::kube::Scope::Namespace(ns) => Some(ns.clone()),
    };
    // The waterfall fetches sample traces from the backend the feed searches.
    if opts.traces.is_none() {
        opts.traces = feed_opts.traces.as_ref().map(|t| {
            crate::collect::traces::lookup::TraceLookup::for_source(t, &conn.client, &conn.scope)
        });
    }
    let collector = tokio::spawn(crate::collect::feed::run(
        conn, feed_opts, snap_tx, prog_tx, cmd_rx,
    ));
    let feed = crate::tui::Feed {
        snapshots: snap_rx,
        progress: prog_rx,
        commands: cmd_tx,
    };
    let res = crate::tui::run(feed, opts).await;
    collector.abort();
    res.map_err(|e| Failure::Internal(format!("{e:#}")))
}

pub fn tui_options(theme: &str) -> Result<crate::tui::TuiOptions, Failure> {
    crate::tui::TuiOptions::from_user_config(theme).map_err(|e| Failure::BadInput(format!("{e:#}")))
}

/// What the TUI's feed collects, from the command line.
pub fn feed_options(cluster: &ClusterArgs) -> Result<crate::collect::feed::FeedOptions, Failure> {
    let live = live_options(cluster);
    Ok(crate::collect::feed::FeedOptions {
        interval: live.window.min(std::time::Duration::from_secs(10)),
        scrape: live.scrape,
        declared: declared(cluster.declared.as_deref())?,
        traces: cluster
            .traces
            .clone()
            .map(crate::collect::traces::TraceSource::new),
    })
}

fn tui(cluster: &ClusterArgs, theme: &str) -> Result<u8, Failure> {
    let opts = tui_options(theme)?;
    let live = live_options(cluster);
    let feed = feed_options(cluster)?;
    runtime()?.block_on(async {
        // Connect (and run exec credential plugins) before raw mode.
        let conn = crate::collect::kube::connect(&live.kube).await?;
        run_tui(conn, feed, opts).await?;
        Ok(0)
    })
}

/// The trace source of a headless demo: `--traces URL` when given, else
/// the simulated Jaeger started here (on the scenario's clock).
async fn demo_traces(
    demo: &crate::sim::demo::Demo,
    url: Option<String>,
) -> (
    Option<crate::sim::jaeger::JaegerServer>,
    Option<crate::collect::traces::TraceSource>,
) {
    use crate::collect::traces::TraceSource;
    if let Some(u) = url {
        let source = TraceSource::new(u);
        // `--traces auto`: the demo cluster exposes its tracing service.
        if source.is_auto() {
            return match demo.serve_tracing().await {
                Ok(j) => (Some(j), Some(source)),
                Err(e) => {
                    eprintln!("meshscope demo: the tracing service did not start ({e})");
                    (None, Some(source))
                }
            };
        }
        return (None, Some(source));
    }
    let now = crate::collect::live::now_ms();
    match demo.start_jaeger().await {
        Ok(j) => {
            let mut t = TraceSource::new(j.url());
            t.options.clock_offset_ms =
                (demo.scenario.epoch_ms + crate::sim::demo::WARM_UP_MS) as i64 - now;
            (Some(j), Some(t))
        }
        Err(e) => {
            eprintln!("meshscope demo: the simulated Jaeger did not start ({e}); no traces");
            (None, None)
        }
    }
}

fn demo(args: DemoArgs, cluster: &ClusterArgs, theme: &str) -> Result<u8, Failure> {
    let mesh = cluster.mesh;
    let traces_url = cluster.traces.clone();
    let declared = declared(cluster.declared.as_deref())?;
    use crate::collect::timings::mark;
    use crate::sim::apiserver::ApiServerConfig;
    use crate::sim::demo::Demo;
    mark(|| "demo: start".into());
    let scenario = demo_scenario(&args, mesh)?;
    mark(|| "demo: scenario built".into());
    let rt = runtime()?;
    let triage = args.triage.is_some();
    let res = rt.block_on(async {
        let demo = Demo::start(scenario, args.kubeconfig_out.as_deref(), ApiServerConfig::default())
            .await
            .map_err(|e| Failure::Internal(format!("cannot start the simulated cluster: {e}")))?;
        mark(|| "demo: simulated cluster up".into());
        if args.serve_only {
            // The cluster's tracing service (istio-system/tracing), for --traces auto.
            let tracing = match demo.serve_tracing().await {
                Ok(j) => Some(j),
                Err(e) => {
                    eprintln!("meshscope demo: the tracing service did not start ({e})");
                    None
                }
            };
            eprintln!(
                "meshscope demo: scenario '{}' served at {}\nkubeconfig: {}\ntry: kubectl --kubeconfig {} get pods -A\n     meshscope snapshot --kubeconfig {} --traces auto\nCtrl-C stops it.",
                demo.scenario.name,
                demo.url(),
                demo.kubeconfig.display(),
                demo.kubeconfig.display(),
                demo.kubeconfig.display()
            );
            let _ = tokio::signal::ctrl_c().await;
            if let Some(j) = tracing {
                j.shutdown().await;
            }
            demo.shutdown().await;
            return Ok(0);
        }
        let opts = LiveOptions {
            progress: args.headless,
            declared,
            ..demo.live_options(args.interval)
        };
        if let Some(service) = &args.triage {
            let res = crate::triage::cmd::demo_triage(&args, service, cluster, &opts).await;
            mark(|| "demo: report printed".into());
            // Dropping the demo removes its kubeconfig; the simulated
            // cluster is not torn down (see below).
            drop(demo);
            return res;
        }
        // The demo's own Jaeger (unless --traces names another backend).
        let (jaeger, traces) = demo_traces(&demo, traces_url).await;
        if !args.headless {
            let feed = crate::collect::feed::FeedOptions {
                interval: opts.window,
                scrape: opts.scrape,
                declared: opts.declared,
                traces,
            };
            let res = match tui_options(theme) {
                Ok(tui_opts) => match crate::collect::kube::connect(&opts.kube).await {
                    Ok(conn) => run_tui(conn, feed, tui_opts).await,
                    Err(e) => Err(Failure::from(e)),
                },
                Err(e) => Err(e),
            };
            if let Some(j) = jaeger {
                j.shutdown().await;
            }
            demo.shutdown().await;
            return res.map(|()| 0);
        }
        let result = tokio::select! {
            r = live_snapshot_traced(&opts, traces.as_ref()) => r.map_err(Failure::from),
            _ = tokio::signal::ctrl_c() => Err(Failure::Internal("interrupted".into())),
        };
        if let Some(j) = jaeger {
            j.shutdown().await;
        }
        demo.shutdown().await;
        let snap = result?;
        let format = args.output.unwrap_or(crate::cli::OutputFormat::Json);
        let text = crate::output::render(&snap, format).map_err(|e| Failure::Internal(e.to_string()))?;
        std::io::stdout()
            .lock()
            .write_all(text.as_bytes())
            .map_err(|e| Failure::Internal(format!("cannot write to stdout: {e}")))?;
        Ok(0)
    });
    if triage {
        // The report is printed: the simulated cluster's runtime is left to
        // the process's exit rather than stopped and freed object by object
        // (tens of milliseconds of a triage that must answer in seconds).
        std::mem::forget(rt);
    }
    res
}
