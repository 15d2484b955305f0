//! The offline bundle (CONTRACT.md): `meta.json`, `manifests/**`,
//! `scrapes/<unix-millis>/<namespace>__<pod>.prom`. A file that cannot be
//! read is reported in `sources` and skipped, never fatal; a folder that is
//! not a bundle is an error naming the folder and what is missing.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::collect::k8s::ObjectSet;
use crate::collect::manifests;
use crate::mesh::{ScrapeProcessor, ScrapeTarget};
use crate::model::build::{PodScrape, Round};
use crate::model::inventory::Inventory;
use crate::model::snapshot::{MeshKind, SourceState, SourceStatus};

pub const BUNDLE_SCHEMA: &str = "meshscope.bundle/v1";

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error(
        "'{dir}' is not a meshscope bundle: {missing} (a bundle holds meta.json with \"schema\": \"{BUNDLE_SCHEMA}\", manifests/ and scrapes/<unix-millis>/)"
    )]
    NotABundle { dir: PathBuf, missing: String },
    #[error("'{path}': {message}")]
    BadMeta { path: PathBuf, message: String },
}

#[derive(Debug, Clone, Default, Deserialize, serde::Serialize, PartialEq)]
pub struct BundleMeta {
    pub schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
}

/// A bundle read back.
#[derive(Debug)]
pub struct Bundle {
    pub dir: PathBuf,
    pub meta: BundleMeta,
    pub inventory: Inventory,
    pub rounds: Vec<Round>,
    pub sources: Vec<SourceStatus>,
    /// `traces/*.json`, when the bundle has a traces/ folder.
    pub traces: Option<crate::collect::traces::TraceInput>,
}

/// Read the bundle in `dir`.
pub fn read_bundle(dir: &Path) -> Result<Bundle, BundleError> {
    read_bundle_as(dir, None)
}

/// Read the bundle in `dir` with only `mesh`'s dialect (`--mesh`; `None`:
/// every dialect, as [`read_bundle`]).
pub fn read_bundle_as(dir: &Path, mesh: Option<MeshKind>) -> Result<Bundle, BundleError> {
    let mut index = open_bundle(dir)?;
    index.mesh = mesh;
    Ok(index.read(&|_| true))
}

/// A bundle with its manifests read and its scrape files listed but not
/// parsed yet: [`BundleIndex::read_round`] parses the ones asked for (a
/// focused triage reads a few hundred of a large bundle's scrapes).
#[derive(Debug)]
pub struct BundleIndex {
    pub dir: PathBuf,
    pub meta: BundleMeta,
    pub inventory: Inventory,
    /// The rounds found, oldest first.
    pub rounds: Vec<RoundFiles>,
    /// What reading the manifests found.
    pub sources: Vec<SourceStatus>,
    /// Misnamed round folders and scrape files.
    listing_sources: Vec<SourceStatus>,
    /// Misnamed scrape files (counted as problems).
    listing_problems: usize,
    /// Read the scrapes with this mesh's dialect only (`--mesh`).
    pub mesh: Option<MeshKind>,
}

/// One round folder of a bundle, listed.
#[derive(Debug, Clone)]
pub struct RoundFiles {
    pub at_ms: i64,
    pub dir: PathBuf,
    /// `namespace/pod` → its `.prom` file, sorted by file name.
    pub files: Vec<(String, PathBuf)>,
}

/// Read `meta.json` and the manifests, list the scrape files.
pub fn open_bundle(dir: &Path) -> Result<BundleIndex, BundleError> {
    if !dir.is_dir() {
        return Err(BundleError::NotABundle {
            dir: dir.to_path_buf(),
            missing: "the folder does not exist or is not a folder".into(),
        });
    }
    let meta_path = dir.join("meta.json");
    let meta_text = fs::read_to_string(&meta_path).map_err(|e| BundleError::NotABundle {
        dir: dir.to_path_buf(),
        missing: format!("meta.json cannot be read ({e})"),
    })?;
    let meta: BundleMeta = serde_json::from_str(&meta_text).map_err(|e| BundleError::BadMeta {
        path: meta_path.clone(),
        message: format!("not valid bundle metadata: {e}"),
    })?;
    if meta.schema != BUNDLE_SCHEMA {
        return Err(BundleError::BadMeta {
            path: meta_path,
            message: format!("schema is '{}', expected '{BUNDLE_SCHEMA}'", meta.schema),
        });
    }
    let manifests_dir = dir.join("manifests");
    let scrapes_dir = dir.join("scrapes");
    if !manifests_dir.is_dir() && !scrapes_dir.is_dir() {
        return Err(BundleError::NotABundle {
            dir: dir.to_path_buf(),
            missing: "it has neither manifests/ nor scrapes/".into(),
        });
    }
    let (inventory, sources) = read_manifests(dir, &manifests_dir);
    let (rounds, listing_sources, listing_problems) = list_scrapes(dir, &scrapes_dir);
    Ok(BundleIndex {
        dir: dir.to_path_buf(),
        meta,
        inventory,
        rounds,
        sources,
        listing_sources,
        listing_problems,
        mesh: None,
    })
}

impl BundleIndex {
    /// Parse round `i`'s scrapes whose `namespace/pod` `keep` accepts, with
    /// their files' bytes too when `bodies` is set (each file is read once
    /// either way).
    pub fn read_round(&self, i: usize, keep: &dyn Fn(&str) -> bool, bodies: bool) -> RoundRead {
        let mut out = RoundRead::default();
        let Some(rf) = self.rounds.get(i) else {
            return out;
        };
        out.round.at_ms = rf.at_ms;
        let chosen: Vec<&(String, PathBuf)> = rf.files.iter().filter(|(k, _)| keep(k)).collect();
        // Parsing is the cost of a large bundle: spread it over the cores.
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8)
            .min(chosen.len().max(1));
        let chunk = chosen.len().div_ceil(workers).max(1);
        let parsed: Vec<(String, Result<ScrapeRead, SourceStatus>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = chosen
                .chunks(chunk)
                .map(|part| {
                    scope.spawn(move || {
                        part.iter()
                            .map(|(key, f)| {
                                let (ns, pod) = key.split_once('/').unwrap_or((key.as_str(), ""));
                                (
                                    key.clone(),
                                    read_scrape(
                                        &self.dir,
                                        f,
                                        ScrapeTarget::new(ns, pod, &self.inventory),
                                        self.mesh,
                                        bodies,
                                    ),
                                )
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        });
        for (key, res) in parsed {
            match res {
                Ok(read) => {
                    if let Some(s) = read.issue {
                        out.problems += 1;
                        out.sources.push(s);
                    }
                    if let Some(b) = read.body {
                        out.bodies.push((key.clone(), b));
                    }
                    out.round.scrapes.insert(key, read.scrape);
                }
                Err(s) => {
                    out.problems += 1;
                    out.sources.push(s);
                }
            }
        }
        out
    }

    /// Parse the scrapes `keep` accepts from every round into a [`Bundle`].
    pub fn read(self, keep: &dyn Fn(&str) -> bool) -> Bundle {
        self.read_reusing(keep, None)
    }

    /// [`BundleIndex::read`], taking round `i` as already parsed when
    /// `parsed` is `Some((i, round))` (its problems are not reported again).
    pub fn read_reusing(
        self,
        keep: &dyn Fn(&str) -> bool,
        mut parsed: Option<(usize, Round)>,
    ) -> Bundle {
        let mut sources = self.listing_sources.clone();
        let mut problems = self.listing_problems;
        let mut rounds = Vec::new();
        let mut scraped = 0usize;
        for i in 0..self.rounds.len() {
            let read = match parsed.take_if(|(j, _)| *j == i) {
                Some((_, round)) => RoundRead {
                    round,
                    ..RoundRead::default()
                },
                None => self.read_round(i, keep, false),
            };
            problems += read.problems;
            sources.extend(read.sources);
            let round = read.round;
            if round.scrapes.is_empty() {
                sources.push(SourceStatus::new(
                    rel(&self.dir, &self.rounds[i].dir),
                    SourceState::Degraded,
                    "round folder without a readable scrape; skipped",
                ));
                continue;
            }
            scraped += round.scrapes.len();
            rounds.push(round);
        }
        sources.insert(0, scrapes_summary(&rounds, scraped, problems));
        let mut all = self.sources;
        all.extend(sources);
        let sources = all;
        let traces = crate::collect::traces::read_trace_dir(&self.dir.join("traces"), "traces");
        Bundle {
            dir: self.dir,
            meta: self.meta,
            inventory: self.inventory,
            rounds,
            sources,
            traces,
        }
    }
}

/// One round of a bundle parsed ([`BundleIndex::read_round`]).
#[derive(Debug, Default)]
pub struct RoundRead {
    pub round: Round,
    /// The problems of its files.
    pub sources: Vec<SourceStatus>,
    /// How many files had problems.
    pub problems: usize,
    /// `namespace/pod` → the file's bytes, when asked for.
    pub bodies: Vec<(String, Vec<u8>)>,
}

/// One scrape file parsed.
struct ScrapeRead {
    scrape: PodScrape,
    /// Its problems, when it had some.
    issue: Option<SourceStatus>,
    /// Its bytes, when asked for.
    body: Option<Vec<u8>>,
}

fn rel(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).unwrap_or(p).display().to_string()
}

fn read_manifests(dir: &Path, manifests_dir: &Path) -> (Inventory, Vec<SourceStatus>) {
    let mut sources = Vec::new();
    let mut set = ObjectSet::default();
    if !manifests_dir.is_dir() {
        sources.push(SourceStatus::new(
            "manifests",
            SourceState::Unavailable,
            "the bundle has no manifests/ folder",
        ));
        return (set.into_inventory().0, sources);
    }
    let files = manifests::manifest_files(manifests_dir);
    let mut bad_files = 0usize;
    let mut bad_docs = 0usize;
    for f in &files {
        match manifests::read_objects(f) {
            Ok(parsed) => {
                for d in parsed.objects {
                    set.add(d);
                }
                for p in parsed.problems {
                    bad_docs += 1;
                    sources.push(SourceStatus::new(
                        rel(dir, f),
                        SourceState::Degraded,
                        p.to_string(),
                    ));
                }
            }
            Err(e) => {
                bad_files += 1;
                sources.push(SourceStatus::new(
                    rel(dir, f),
                    SourceState::Unavailable,
                    e.to_string(),
                ));
            }
        }
    }
    let objects = set.count;
    let (inv, problems) = set.into_inventory();
    sources.extend(problems.iter().map(|p| p.to_source("manifests")));
    let state = if bad_files > 0 || bad_docs > 0 || !problems.is_empty() {
        SourceState::Degraded
    } else {
        SourceState::Ok
    };
    sources.insert(
        0,
        SourceStatus::new(
            "manifests",
            state,
            format!(
                "{objects} objects from {} files{}",
                files.len() - bad_files,
                if bad_files > 0 {
                    format!(", {bad_files} unreadable")
                } else {
                    String::new()
                }
            ),
        ),
    );
    (inv, sources)
}

/// `<namespace>__<pod>.prom` → (namespace, pod).
pub fn split_scrape_name(file_name: &str) -> Option<(String, String)> {
    let stem = file_name.strip_suffix(".prom")?;
    let (ns, pod) = stem.split_once("__")?;
    (!ns.is_empty() && !pod.is_empty()).then(|| (ns.to_string(), pod.to_string()))
}

fn list_scrapes(dir: &Path, scrapes_dir: &Path) -> (Vec<RoundFiles>, Vec<SourceStatus>, usize) {
    let mut sources = Vec::new();
    let mut problems = 0usize;
    let entries = match fs::read_dir(scrapes_dir) {
        Ok(e) => e,
        Err(e) => {
            sources.push(SourceStatus::new(
                "scrapes",
                SourceState::Unavailable,
                format!("scrapes/ cannot be read: {e}"),
            ));
            return (Vec::new(), sources, problems);
        }
    };
    let mut round_dirs: Vec<(i64, PathBuf)> = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        if !path.is_dir() {
            continue;
        }
        match name.parse::<i64>() {
            Ok(ms) => round_dirs.push((ms, path)),
            Err(_) => sources.push(SourceStatus::new(
                rel(dir, &path),
                SourceState::Degraded,
                format!("'{name}' is not a round folder (expected unix milliseconds); skipped"),
            )),
        }
    }
    round_dirs.sort();
    let mut rounds = Vec::new();
    for (ms, rdir) in round_dirs {
        let mut paths: Vec<PathBuf> = fs::read_dir(&rdir)
            .map(|rd| rd.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        paths.sort();
        let mut files = Vec::new();
        for f in paths {
            let fname = f
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if !fname.ends_with(".prom") {
                continue;
            }
            match split_scrape_name(&fname) {
                Some((ns, pod)) => files.push((format!("{ns}/{pod}"), f)),
                None => {
                    problems += 1;
                    sources.push(SourceStatus::new(
                        rel(dir, &f),
                        SourceState::Degraded,
                        format!("'{fname}' is not named <namespace>__<pod>.prom; skipped"),
                    ));
                }
            }
        }
        rounds.push(RoundFiles {
            at_ms: ms,
            dir: rdir,
            files,
        });
    }
    (rounds, sources, problems)
}

/// Parse one scrape file: the scrape, a source naming its problems when it
/// had some, and its bytes when `body` is set (then the file is read whole
/// first, else streamed); a source alone when it cannot be read.
fn read_scrape(
    dir: &Path,
    f: &Path,
    target: ScrapeTarget<'_>,
    mesh: Option<MeshKind>,
    body: bool,
) -> Result<ScrapeRead, SourceStatus> {
    let unreadable = |e: std::io::Error| {
        SourceStatus::new(
            rel(dir, f),
            SourceState::Unavailable,
            format!("cannot be read: {e}"),
        )
    };
    let processor = ScrapeProcessor::new(target).only(mesh);
    let (res, bytes) = if body {
        let bytes = fs::read(f).map_err(unreadable)?;
        (processor.process_bytes(&bytes), Some(bytes))
    } else {
        let file = fs::File::open(f).map_err(unreadable)?;
        let res = processor
            .process_reader(std::io::BufReader::new(file))
            .map_err(unreadable)?;
        (res, None)
    };
    let issue = (res.stats.issue_count > 0 || res.stats.truncated).then(|| {
        let mut detail: Vec<String> = res
            .stats
            .issues
            .iter()
            .take(3)
            .map(|i| {
                if i.line == 0 {
                    i.message.clone()
                } else {
                    format!("line {}: {}", i.line, i.message)
                }
            })
            .collect();
        if res.stats.issue_count > 3 {
            detail.push(format!("{} more", res.stats.issue_count - 3));
        }
        SourceStatus::new(rel(dir, f), SourceState::Degraded, detail.join("; "))
    });
    Ok(ScrapeRead {
        scrape: PodScrape {
            mesh: res.mesh,
            data: res.acc,
        },
        issue,
        body: bytes,
    })
}

fn scrapes_summary(rounds: &[Round], scraped: usize, problems: usize) -> SourceStatus {
    let state = if rounds.is_empty() {
        SourceState::Unavailable
    } else if problems > 0 {
        SourceState::Degraded
    } else {
        SourceState::Ok
    };
    let mut detail = format!("{} rounds, {scraped} proxy scrapes", rounds.len());
    if rounds.len() == 1 {
        detail.push_str("; one round: rates need two");
    }
    if problems > 0 {
        detail.push_str(&format!("; {problems} files with problems"));
    }
    SourceStatus::new("scrapes", state, detail)
}
