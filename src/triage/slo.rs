//! Service level objectives from a TOML file (`--slo FILE`, else
//! `$XDG_CONFIG_HOME/meshscope/slo.toml` when it exists, else defaults):
//!
//! ```toml
//! [default]
//! success_rate = 99.9     # percent of requests that must succeed
//! latency_p99_ms = 1000   # p99 objective
//! critical_burn = 14.4    # burn rate (both windows) that makes it critical
//! degraded_burn = 6.0     # burn rate (both windows) that makes it degraded
//!
//! [services."default/productpage"]   # a Service or workload, ns/name
//! success_rate = 99.5
//! latency_p99_ms = 300
//! ```
//!
//! Every field is optional; a service's table overrides the defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Objectives for one service, as applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Slo {
    /// Success-rate objective, percent (99.9 = 99.9% of requests succeed).
    pub success_rate: f64,
    /// p99 latency objective, milliseconds; `null` = no latency objective.
    pub latency_p99_ms: Option<f64>,
    /// Error-budget burn rate that, over both windows, makes it critical.
    pub critical_burn: f64,
    /// Error-budget burn rate that, over both windows, makes it degraded.
    pub degraded_burn: f64,
    /// Where the objectives came from (`built-in defaults`, a file).
    pub source: String,
}

impl Default for Slo {
    fn default() -> Self {
        Slo {
            success_rate: 99.9,
            latency_p99_ms: Some(1000.0),
            critical_burn: 14.4,
            degraded_burn: 6.0,
            source: "built-in defaults".into(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Partial {
    success_rate: Option<f64>,
    latency_p99_ms: Option<f64>,
    critical_burn: Option<f64>,
    degraded_burn: Option<f64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    default: Partial,
    #[serde(default)]
    services: BTreeMap<String, Partial>,
}

/// The objectives of a file, per service.
#[derive(Debug, Clone)]
pub struct SloConfig {
    file: File,
    path: Option<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum SloError {
    #[error("SLO file '{path}': cannot be read: {message}")]
    Read { path: PathBuf, message: String },
    #[error("SLO file '{path}': {message}")]
    Parse { path: PathBuf, message: String },
    #[error("SLO file '{path}': field '{field}' = {value}: {why}")]
    Field {
        path: PathBuf,
        field: String,
        value: f64,
        why: &'static str,
    },
}

/// The dotted key (`default.success_rate`, `services."a/b".success_rate`)
/// of the `key = value` line holding byte `at`, and its line number; `None`
/// when that line is not one (a syntax error elsewhere).
fn key_at(text: &str, at: usize) -> Option<(String, usize)> {
    let start = text.get(..at)?.rfind('\n').map_or(0, |i| i + 1);
    let line = text[start..].lines().next()?;
    let key = line.split_once('=')?.0.trim();
    if key.is_empty() || key.starts_with(['#', '[']) {
        return None;
    }
    let table = text[..start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim());
    let number = text[..start].lines().count() + 1;
    Some((
        table.map_or_else(|| key.to_string(), |t| format!("{t}.{key}")),
        number,
    ))
}

impl SloConfig {
    /// Built-in defaults only.
    pub fn defaults() -> Self {
        SloConfig {
            file: File::default(),
            path: None,
        }
    }

    /// Parse `text` (read from `path`) and check every value.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SloError> {
        let file: File = toml::from_str(text).map_err(|e| SloError::Parse {
            path: path.to_path_buf(),
            message: match e.span().and_then(|at| key_at(text, at.start)) {
                Some((field, line)) => {
                    format!("field '{field}' (line {line}): {}", e.message().trim_end())
                }
                None => e.to_string().trim_end().replace('\n', " "),
            },
        })?;
        let tables = std::iter::once(("default".to_string(), &file.default)).chain(
            file.services
                .iter()
                .map(|(k, v)| (format!("services.\"{k}\""), v)),
        );
        for (table, p) in tables {
            let bad = |field: &str, value: f64, why| SloError::Field {
                path: path.to_path_buf(),
                field: format!("{table}.{field}"),
                value,
                why,
            };
            if let Some(v) = p.success_rate
                && !(v > 0.0 && v < 100.0)
            {
                return Err(bad(
                    "success_rate",
                    v,
                    "must be a percentage between 0 and 100 (exclusive), e.g. 99.9",
                ));
            }
            if let Some(v) = p.latency_p99_ms
                && !(v > 0.0 && v.is_finite())
            {
                return Err(bad(
                    "latency_p99_ms",
                    v,
                    "must be a positive number of milliseconds",
                ));
            }
            for (field, v) in [
                ("critical_burn", p.critical_burn),
                ("degraded_burn", p.degraded_burn),
            ] {
                if let Some(v) = v
                    && !(v > 0.0 && v.is_finite())
                {
                    return Err(bad(field, v, "must be a positive burn rate, e.g. 14.4"));
                }
            }
        }
        Ok(SloConfig {
            file,
            path: Some(path.to_path_buf()),
        })
    }

    /// Load `path`, or the config-dir file when it exists, or the defaults.
    pub fn load(path: Option<&Path>) -> Result<Self, SloError> {
        let path = match path {
            Some(p) => p.to_path_buf(),
            None => match crate::app::keymap::config_dir().map(|d| d.join("slo.toml")) {
                Some(p) if p.is_file() => p,
                _ => return Ok(Self::defaults()),
            },
        };
        let text = std::fs::read_to_string(&path).map_err(|e| SloError::Read {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Self::parse(&text, &path)
    }

    /// The objectives of `id` (`ns/name`): its table over the defaults.
    pub fn for_service(&self, id: &str) -> Slo {
        let base = Slo::default();
        let d = &self.file.default;
        let s = self.file.services.get(id);
        let pick = |f: fn(&Partial) -> Option<f64>, dflt: f64| {
            s.and_then(f).or_else(|| f(d)).unwrap_or(dflt)
        };
        let source = match (&self.path, s) {
            (Some(p), Some(_)) => format!("{} [services.\"{id}\"]", p.display()),
            (Some(p), None) => format!("{} [default]", p.display()),
            (None, _) => base.source.clone(),
        };
        Slo {
            success_rate: pick(|p| p.success_rate, base.success_rate),
            latency_p99_ms: s
                .and_then(|p| p.latency_p99_ms)
                .or(d.latency_p99_ms)
                .or(base.latency_p99_ms),
            critical_burn: pick(|p| p.critical_burn, base.critical_burn),
            degraded_burn: pick(|p| p.degraded_burn, base.degraded_burn),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_table_overrides_defaults() {
        let c = SloConfig::parse(
            "[default]\nsuccess_rate = 99.0\n[services.\"shop/checkout\"]\nlatency_p99_ms = 250\n",
            Path::new("slo.toml"),
        )
        .unwrap();
        let s = c.for_service("shop/checkout");
        assert_eq!(s.success_rate, 99.0);
        assert_eq!(s.latency_p99_ms, Some(250.0));
        assert_eq!(s.critical_burn, 14.4);
        assert!(s.source.contains("shop/checkout"));
        assert_eq!(c.for_service("shop/other").latency_p99_ms, Some(1000.0));
    }

    #[test]
    fn bad_values_name_file_and_field() {
        let e = SloConfig::parse(
            "[services.\"a/b\"]\nsuccess_rate = 120\n",
            Path::new("/x/slo.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("/x/slo.toml") && e.contains("services.\"a/b\".success_rate"),
            "{e}"
        );
        let e = SloConfig::parse("[default]\nsucess_rate = 99\n", Path::new("/x/slo.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("/x/slo.toml") && e.contains("sucess_rate"),
            "{e}"
        );
        let e = SloConfig::parse("[default]\nsuccess_rate = \"high\"\n", Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("s.toml") && e.contains("field 'default.success_rate' (line 2)"),
            "{e}"
        );
        let e = SloConfig::parse(
            "# objectives\n[default]\nsuccess_rate = 99.9\n\n[services.\"shop/cart\"]\nlatency_p99_ms = \"fast\"\n",
            Path::new("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("field 'services.\"shop/cart\".latency_p99_ms' (line 6)"),
            "{e}"
        );
        // A syntax error is not on a `key = value` line: toml's own message.
        let e = SloConfig::parse("[default\n", Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("s.toml") && e.contains("line 1"), "{e}");
    }
}
