//! `--declared PATH`: an intent file (see docs/intent.md) or a folder of
//! manifests (a GitOps repository). The only I/O of the analysis.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::collect::manifests::{ManifestError, manifest_files, read_objects};

/// The kind that marks an intent document.
pub const INTENT_KIND: &str = "MeshscopeIntent";

/// "Workloads or Services matching `to` may be called by `from`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentRule {
    /// `namespace/name` of a workload or a Service.
    pub to: String,
    /// `namespace/workload`, `namespace/*`, `*`, or an identity.
    pub from: Vec<String>,
}

/// What `--declared` supplied.
#[derive(Debug, Clone, Default)]
pub struct Declared {
    /// Manifests (any kind; the mesh ones are read).
    pub objects: Vec<Value>,
    pub intent: Vec<IntentRule>,
    /// Documents that could not be parsed (`path: message`); not fatal.
    pub problems: Vec<String>,
}

/// Why `--declared` could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum DeclaredError {
    #[error("--declared '{0}' does not exist")]
    Missing(PathBuf),
    #[error("--declared: {0}")]
    Manifest(#[from] ManifestError),
    #[error("--declared '{path}': intent document {doc}: {message}")]
    BadIntent {
        path: PathBuf,
        doc: usize,
        message: String,
    },
}

/// Read an intent file or a folder of manifests.
pub fn load_declared(path: &Path) -> Result<Declared, DeclaredError> {
    if !path.exists() {
        return Err(DeclaredError::Missing(path.to_path_buf()));
    }
    let files = if path.is_dir() {
        manifest_files(path)
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = Declared::default();
    for f in files {
        let parsed = read_objects(&f)?;
        out.problems
            .extend(parsed.problems.iter().map(ToString::to_string));
        for (i, obj) in parsed.objects.into_iter().enumerate() {
            if obj["kind"].as_str() == Some(INTENT_KIND) {
                out.intent.extend(parse_intent(&obj).map_err(|message| {
                    DeclaredError::BadIntent {
                        path: f.clone(),
                        doc: i + 1,
                        message,
                    }
                })?);
            } else if obj["kind"].as_str() == Some("List") {
                out.objects
                    .extend(obj["items"].as_array().cloned().unwrap_or_default());
            } else {
                out.objects.push(obj);
            }
        }
    }
    Ok(out)
}

/// Parse one `MeshscopeIntent` document's `services` list.
pub fn parse_intent(doc: &Value) -> Result<Vec<IntentRule>, String> {
    let services = doc["services"]
        .as_array()
        .ok_or_else(|| format!("`services` must be a list, found {}", doc["services"]))?;
    let mut out = Vec::new();
    for (i, s) in services.iter().enumerate() {
        let to = s["service"]
            .as_str()
            .filter(|t| t.contains('/'))
            .ok_or_else(|| {
                format!(
                    "services[{i}].service must be `namespace/name`, found {}",
                    s["service"]
                )
            })?;
        let callers = s["callers"].as_array().ok_or_else(|| {
            format!(
                "services[{i}].callers must be a list, found {}",
                s["callers"]
            )
        })?;
        let from = callers
            .iter()
            .map(|c| {
                c.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("services[{i}].callers: {c} is not a string"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.push(IntentRule {
            to: to.to_string(),
            from,
        });
    }
    Ok(out)
}
