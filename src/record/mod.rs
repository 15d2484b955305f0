//! `meshscope record DIR`: one collection written as a bundle (CONTRACT.md):
//! `meta.json`, the objects listed as `manifests/objects.json` (never
//! Secrets, managedFields trimmed), and the scrape bodies as served as
//! `scrapes/<unix-millis>/<namespace>__<pod>.prom`. `--redact` replaces
//! IPs, pod-name hashes and principals with stable tokens ([`redact`]).

pub mod redact;

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::app_main::{Failure, declared, live_options, runtime};
use crate::collect::session::{LiveRounds, live_rounds};
use crate::model::snapshot::Snapshot;

/// What was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub dir: PathBuf,
    pub objects: usize,
    pub rounds: usize,
    pub scrapes: usize,
}

fn io_err(path: &Path, e: std::io::Error) -> Failure {
    Failure::Internal(format!("cannot write '{}': {e}", path.display()))
}

/// An object as recorded: `None` for a Secret; managedFields removed.
pub fn clean_object(mut v: Value) -> Option<Value> {
    if v.get("kind").and_then(Value::as_str) == Some("Secret") {
        return None;
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("managedFields");
    }
    Some(v)
}

/// The snapshot the live path builds from these rounds (what `snapshot`
/// would have printed).
pub fn live_snapshot_of(r: &LiveRounds, declared: Option<&crate::analyze::Declared>) -> Snapshot {
    let mut snap = crate::collect::session::build_live(r);
    crate::analyze::analyze(
        &mut snap,
        &r.inventory,
        declared,
        &crate::analyze::AnalyzeConfig::default(),
    );
    snap
}

/// Check that `dir` is absent or an empty folder.
pub fn check_target(dir: &Path) -> Result<(), Failure> {
    if dir.exists() {
        let empty = fs::read_dir(dir)
            .map(|mut d| d.next().is_none())
            .map_err(|e| Failure::BadInput(format!("'{}': {e}", dir.display())))?;
        if !empty {
            return Err(Failure::BadInput(format!(
                "'{}' exists and is not empty; record writes a new bundle folder",
                dir.display()
            )));
        }
    }
    Ok(())
}

/// Write `r` as a bundle in `dir`.
pub fn write(dir: &Path, r: &LiveRounds, redact: bool) -> Result<Written, Failure> {
    check_target(dir)?;
    let objects: Vec<Value> = r.objects.iter().cloned().filter_map(clean_object).collect();
    let mut red = redact.then(|| redact::Redactor::from_objects(&objects));
    let objects: Vec<Value> = match red.as_mut() {
        Some(rd) => objects.into_iter().map(|o| rd.redact_value(o)).collect(),
        None => objects,
    };
    let manifests = dir.join("manifests");
    fs::create_dir_all(&manifests).map_err(|e| io_err(&manifests, e))?;
    let last = r.rounds.iter().map(|x| x.at_ms).max().unwrap_or(0);
    let mut server = r.cluster.server.clone();
    if let (Some(rd), Some(s)) = (red.as_mut(), server.as_mut()) {
        *s = rd.redact_text(s);
    }
    let mut meta = json!({
        "schema": crate::collect::bundle::BUNDLE_SCHEMA,
        "captured_at": crate::model::build::rfc3339(last),
        "generator": "meshscope record",
        "redacted": redact,
    });
    if let Some(c) = &r.cluster.context {
        meta["context"] = json!(c);
    }
    if let Some(s) = server {
        meta["server"] = json!(s);
    }
    let pretty = |v: &Value| serde_json::to_string_pretty(v).map(|s| s + "\n");
    let meta_path = dir.join("meta.json");
    let text = pretty(&meta).map_err(|e| Failure::Internal(e.to_string()))?;
    fs::write(&meta_path, text).map_err(|e| io_err(&meta_path, e))?;
    let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": objects});
    let path = manifests.join("objects.json");
    let text = pretty(&list).map_err(|e| Failure::Internal(e.to_string()))?;
    fs::write(&path, text).map_err(|e| io_err(&path, e))?;
    let mut scrapes = 0;
    for (round, raw) in r.rounds.iter().zip(&r.raw) {
        let rdir = dir.join("scrapes").join(round.at_ms.to_string());
        fs::create_dir_all(&rdir).map_err(|e| io_err(&rdir, e))?;
        for (key, body) in raw {
            let Some((ns, pod)) = key.split_once('/') else {
                continue;
            };
            let (pod, body) = match red.as_mut() {
                Some(rd) => (
                    rd.redact_text(pod),
                    rd.redact_text(&String::from_utf8_lossy(body)).into_bytes(),
                ),
                None => (pod.to_string(), body.clone()),
            };
            let path = rdir.join(format!("{ns}__{pod}.prom"));
            fs::write(&path, body).map_err(|e| io_err(&path, e))?;
            scrapes += 1;
        }
    }
    Ok(Written {
        dir: dir.to_path_buf(),
        objects: list["items"].as_array().map_or(0, Vec::len),
        rounds: r.rounds.len(),
        scrapes,
    })
}

/// `meshscope record DIR`.
pub fn record_cmd(
    args: &crate::cli::RecordArgs,
    cluster: &crate::cli::ClusterArgs,
) -> Result<u8, Failure> {
    if cluster.prometheus.is_some() {
        return Err(Failure::BadInput(
            "--prometheus: record writes the proxies' own scrapes; drop --prometheus".into(),
        ));
    }
    check_target(&args.dir)?;
    let mut opts = live_options(cluster);
    opts.declared = declared(cluster.declared.as_deref())?;
    let r = runtime()?.block_on(live_rounds(&opts, 2, true))?;
    let w = write(&args.dir, &r, args.redact)?;
    eprintln!(
        "meshscope: wrote {} ({} objects, {} rounds, {} proxy scrapes{}); read it back with: meshscope snapshot --from {}",
        w.dir.display(),
        w.objects,
        w.rounds,
        w.scrapes,
        if args.redact { ", redacted" } else { "" },
        w.dir.display()
    );
    Ok(0)
}
