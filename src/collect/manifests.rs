//! Manifest files: multi-document YAML or JSON (a `List` is fine).

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("'{path}' cannot be read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("'{path}' is not valid {format}: {message}")]
    Parse {
        path: PathBuf,
        format: &'static str,
        message: String,
    },
}

/// Every `.yaml`, `.yml` and `.json` file under `dir`, sorted.
pub fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Objects read from one file, and what could not be read in it.
#[derive(Debug, Default)]
pub struct Parsed {
    pub objects: Vec<Value>,
    /// Documents that are not valid YAML/JSON (the rest of the file is kept).
    pub problems: Vec<ManifestError>,
}

/// Parse YAML (several documents) or JSON text into objects; empty
/// documents are dropped. When the file as a whole is not valid YAML, each
/// `---` document is parsed on its own so one bad document (a template
/// placeholder, say) does not hide the others.
pub fn parse_objects(text: &str, path: &Path) -> Parsed {
    let is_json = path.extension().and_then(|x| x.to_str()) == Some("json");
    let mut out = Parsed::default();
    if is_json {
        match serde_json::from_str::<Value>(text) {
            Ok(v) => out.objects.push(v),
            Err(e) => out.problems.push(ManifestError::Parse {
                path: path.to_path_buf(),
                format: "JSON",
                message: e.to_string(),
            }),
        }
    } else {
        match serde_saphyr::from_multiple::<Value>(text) {
            Ok(docs) => out.objects = docs,
            Err(_) => {
                for (i, doc) in split_documents(text).into_iter().enumerate() {
                    match serde_saphyr::from_multiple::<Value>(doc) {
                        Ok(docs) => out.objects.extend(docs),
                        Err(e) => out.problems.push(ManifestError::Parse {
                            path: path.to_path_buf(),
                            format: "YAML",
                            message: format!("document {}: {e}", i + 1),
                        }),
                    }
                }
            }
        }
    }
    out.objects.retain(Value::is_object);
    out
}

/// Split multi-document YAML on `---` lines.
fn split_documents(text: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            docs.push(&text[start..pos]);
            start = pos + line.len();
        }
        pos += line.len();
    }
    docs.push(&text[start..]);
    docs.retain(|d| !d.trim().is_empty());
    docs
}

/// Read one manifest file.
pub fn read_objects(path: &Path) -> Result<Parsed, ManifestError> {
    let text = fs::read_to_string(path).map_err(|e| ManifestError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(parse_objects(&text, path))
}
