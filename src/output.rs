//! Headless output of a snapshot.

use crate::cli::OutputFormat;
use crate::model::snapshot::Snapshot;

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot serialise the snapshot as {0}: {1}")]
    Serialise(&'static str, String),
}

pub fn render(snap: &Snapshot, format: OutputFormat) -> Result<String, OutputError> {
    match format {
        OutputFormat::Json => serde_json::to_string_pretty(snap)
            .map(|mut s| {
                s.push('\n');
                s
            })
            .map_err(|e| OutputError::Serialise("JSON", e.to_string())),
        OutputFormat::Yaml => {
            serde_saphyr::to_string(snap).map_err(|e| OutputError::Serialise("YAML", e.to_string()))
        }
        OutputFormat::Dot => Ok(crate::model::graph::to_dot(snap)),
    }
}
