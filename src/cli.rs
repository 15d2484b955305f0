//! The command line (CONTRACT.md). Commands appear here as they become real:
//! `--help` shows only what works.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "meshscope",
    version,
    about = "A terminal observatory for service meshes: what talks to what, how healthy each hop is, whether it is encrypted.",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// TUI theme: default, light, high-contrast, mono, or a theme file's name
    /// in the config directory (NO_COLOR selects mono).
    #[arg(long, value_name = "NAME", default_value = "default", global = true)]
    pub theme: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The interactive TUI against the current kubeconfig context (the default).
    Tui,
    /// One collection, printed as a snapshot (JSON by default).
    Snapshot(SnapshotArgs),
    /// The embedded simulated mesh: no cluster needed.
    Demo(DemoArgs),
    /// On-call report for one service: verdict, signals vs baseline, culprits,
    /// blast radius (exit 0 healthy, 1 degraded, 2 critical).
    Triage(TriageArgs),
    /// What changed between two snapshots (JSON files).
    Diff(DiffArgs),
    /// One collection written as a bundle folder (for `--from DIR`).
    Record(RecordArgs),
    /// Print shell completions.
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Json,
    Yaml,
    Dot,
    /// Plain-text tables of workloads and edges.
    Text,
    /// A Mermaid flowchart of the graph, coloured by health.
    Mermaid,
}

/// `--mesh`: which mesh's telemetry to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum MeshChoice {
    /// Detect from the proxies and control planes (the default).
    #[default]
    Auto,
    /// Istio: only istio-proxy sidecars, Istio's standard metrics.
    Istio,
    /// Linkerd: only linkerd-proxy sidecars, Linkerd's proxy metrics.
    Linkerd,
    /// Any Envoy sidecar (Istio's included), read through Envoy's own
    /// cluster stats: for meshes without standard metrics, or an Istio
    /// whose telemetry is turned off.
    Envoy,
}

impl MeshChoice {
    /// The forced mesh, `None` for auto.
    pub fn forced(self) -> Option<crate::model::snapshot::MeshKind> {
        use crate::model::snapshot::MeshKind;
        match self {
            MeshChoice::Auto => None,
            MeshChoice::Istio => Some(MeshKind::Istio),
            MeshChoice::Linkerd => Some(MeshKind::Linkerd),
            MeshChoice::Envoy => Some(MeshKind::Envoy),
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// bookinfo, emojivoto, boutique or scale:N
    #[arg(long, default_value = "bookinfo", value_name = "NAME")]
    pub scenario: String,
    /// One collection over the simulated mesh; the snapshot on stdout.
    #[arg(long)]
    pub headless: bool,
    /// Time between the two scrape rounds of a headless run.
    #[arg(long, default_value = "1s", value_name = "DURATION", value_parser = parse_duration)]
    pub interval: std::time::Duration,
    /// Only run the simulated cluster until interrupted (with --kubeconfig-out).
    #[arg(long, requires = "kubeconfig_out")]
    pub serve_only: bool,
    /// Where to write a kubeconfig for the simulated cluster (kubectl and
    /// `meshscope --kubeconfig FILE` can use it).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig_out: Option<PathBuf>,
    /// Output format of a headless run (default json; text for --triage).
    #[arg(short = 'o', long, value_enum)]
    pub output: Option<OutputFormat>,
    /// Triage this service over the simulated mesh (three rounds
    /// --interval apart) and print the report; exit as `triage` does.
    #[arg(long, value_name = "SERVICE", conflicts_with_all = ["serve_only", "headless"])]
    pub triage: Option<String>,
    /// SLO file for --triage.
    #[arg(long, value_name = "FILE", requires = "triage")]
    pub slo: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TriageArgs {
    /// A Service or workload: `name`, `namespace/name`, or `name -n NS`.
    pub service: String,
    /// Read a bundle folder instead of a cluster (3+ scrape rounds give a baseline).
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: crate::triage::run::TriageFormat,
    /// SLO file (TOML; default: $XDG_CONFIG_HOME/meshscope/slo.toml when it exists).
    #[arg(long, value_name = "FILE")]
    pub slo: Option<PathBuf>,
    /// Open the TUI focused on the service after the report.
    #[arg(long)]
    pub tui: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier snapshot (JSON).
    pub before: PathBuf,
    /// The later snapshot (JSON).
    pub after: PathBuf,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "text")]
    pub output: crate::triage::run::TriageFormat,
    /// A success rate that moves by more than this many percentage points is reported.
    #[arg(long, value_name = "POINTS", default_value_t = 1.0)]
    pub success_points: f64,
    /// Rps and latencies that move by more than this share (0.25 = 25%) are reported.
    #[arg(long, value_name = "SHARE", default_value_t = 0.25)]
    pub relative: f64,
}

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// The folder to write (created; must be empty if it exists).
    pub dir: PathBuf,
    /// Replace IPs, pod-name hashes and principals with stable tokens.
    #[arg(long)]
    pub redact: bool,
}

/// Flags of every command that reads a cluster.
#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use (default: its current context).
    #[arg(long, value_name = "NAME", global = true)]
    pub context: Option<String>,
    /// Only this namespace (edges that cross into it are kept). Default: the
    /// context's namespace, or all namespaces when the context names none.
    #[arg(short = 'n', long, value_name = "NS", global = true)]
    pub namespace: Option<String>,
    /// All namespaces.
    #[arg(short = 'A', long, conflicts_with = "namespace", global = true)]
    pub all_namespaces: bool,
    /// The span rates cover: the PromQL range with --prometheus (default 1m),
    /// else the time between the two scrape rounds (default 10s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, global = true)]
    pub window: Option<std::time::Duration>,
    /// The declared topology: an intent file (docs/intent.md) or a folder of
    /// manifests (a GitOps repository); it wins over the cluster's copies.
    #[arg(long, value_name = "PATH", global = true)]
    pub declared: Option<PathBuf>,
    /// Read the mesh's metrics from this Prometheus instead of scraping the
    /// proxies (the cluster, when reachable, still gives the workloads).
    /// `auto`: the mesh's own Prometheus (istio-system/prometheus,
    /// linkerd-viz/prometheus, or a service labelled
    /// app.kubernetes.io/name=prometheus) through a port-forward.
    #[arg(long, value_name = "URL", global = true)]
    pub prometheus: Option<String>,
    /// Which mesh's telemetry to read (default: detected). With `demo`:
    /// render the scenario's proxies as istio or linkerd.
    #[arg(long, value_enum, value_name = "MESH", default_value_t = MeshChoice::Auto, global = true)]
    pub mesh: MeshChoice,
    /// Read trace spans from this Jaeger, Zipkin or Tempo query API
    /// (detected) and merge the calls they show into the graph. `auto`:
    /// find it in the cluster (istio-system/tracing, then jaeger-query,
    /// tracing, zipkin or tempo services) through a port-forward.
    #[arg(long, value_name = "URL", global = true)]
    pub traces: Option<String>,
    /// Per-scrape timeout.
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_duration, global = true)]
    pub scrape_timeout: std::time::Duration,
    /// Concurrent proxy scrapes.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..), global = true)]
    pub concurrency: u16,
}

/// `10s`, `1m`, `500ms` (humantime), never zero.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("'{s}' is not a duration ({e}); use forms like 10s, 1m, 500ms"))?;
    if d.is_zero() {
        return Err(format!("'{s}' is zero; a duration must be positive"));
    }
    Ok(d)
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Read a bundle folder (meta.json, manifests/, scrapes/) instead of a cluster.
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,
    /// Exit 1 when gaps of this severity (or worse) exist.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Critical,
    Warning,
}

impl ClusterArgs {
    /// `--window`, or its default for the source in use.
    pub fn window(&self) -> std::time::Duration {
        self.window.unwrap_or(if self.prometheus.is_some() {
            std::time::Duration::from_secs(60)
        } else {
            std::time::Duration::from_secs(10)
        })
    }
}
