//! Test helpers shared by the `sim_*` tests: a small exposition-text parser
//! (independent of the production parser) and corpus lookup.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// One parsed sample.
#[derive(Debug, Clone, PartialEq)]
pub struct S {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl S {
    pub fn get(&self, k: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(a, _)| a == k)
            .map(|(_, v)| v.as_str())
    }
    pub fn keys(&self) -> Vec<String> {
        self.labels.iter().map(|(k, _)| k.clone()).collect()
    }
    /// A stable identity of the series.
    pub fn id(&self) -> String {
        let l: Vec<String> = self
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v:?}"))
            .collect();
        format!("{}{{{}}}", self.name, l.join(","))
    }
}

/// Parse Prometheus text exposition (comments skipped, escapes handled).
pub fn parse(text: &str) -> Vec<S> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        let name = line[..name_end].to_string();
        let mut labels = Vec::new();
        let mut rest = &line[name_end..];
        if rest.starts_with('{') {
            let b = rest.as_bytes();
            let mut i = 1;
            while i < b.len() && b[i] != b'}' {
                if b[i] == b',' || b[i] == b' ' {
                    i += 1;
                    continue;
                }
                let eq = i + rest[i..].find('=').unwrap();
                let key = rest[i..eq].to_string();
                let mut j = eq + 2;
                let mut val = String::new();
                while b[j] != b'"' {
                    if b[j] == b'\\' {
                        j += 1;
                        val.push(match b[j] {
                            b'n' => '\n',
                            c => c as char,
                        });
                    } else {
                        val.push(b[j] as char);
                    }
                    j += 1;
                }
                labels.push((key, val));
                i = j + 1;
            }
            rest = &rest[i + 1..];
        }
        let v = rest.split_whitespace().next().unwrap_or("NaN");
        let value = match v {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            _ => v.parse().unwrap_or(f64::NAN),
        };
        out.push(S {
            name,
            labels,
            value,
        });
    }
    out
}

/// The shared corpus folder, if present.
pub fn corpus() -> Option<PathBuf> {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    for p in [local, PathBuf::from("/work/shared/corpus")] {
        if p.is_dir() {
            return Some(p);
        }
    }
    println!("skipped: corpus not found");
    None
}

/// Sum of `value` of samples matching `name` and all `(k, v)` filters, grouped by `by`.
pub fn sum_by(
    samples: &[S],
    name: &str,
    filters: &[(&str, &str)],
    by: &[&str],
) -> BTreeMap<Vec<String>, f64> {
    let mut m = BTreeMap::new();
    for s in samples.iter().filter(|s| s.name == name) {
        if filters.iter().all(|(k, v)| s.get(k) == Some(v)) {
            let key = by
                .iter()
                .map(|k| s.get(k).unwrap_or("").to_string())
                .collect();
            *m.entry(key).or_insert(0.0) += s.value;
        }
    }
    m
}
