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
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One collection, printed as a snapshot (JSON by default).
    Snapshot(SnapshotArgs),
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
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Read a bundle folder (meta.json, manifests/, scrapes/) instead of a cluster.
    #[arg(long, value_name = "DIR", required = true)]
    pub from: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Json)]
    pub output: OutputFormat,
    /// Only this namespace (edges that cross into it are kept).
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// All namespaces (the default for bundles).
    #[arg(short = 'A', long, conflicts_with = "namespace")]
    pub all_namespaces: bool,
}
