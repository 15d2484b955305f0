//! A focused collection: the proxies a triage of one service reads, found
//! in waves, so a triage at scale scrapes (or reads from a bundle) a few
//! hundred pods instead of the whole mesh. docs/triage.md says why the
//! report built over them equals the one built over every pod.
//!
//! Wave 1 scrapes the target's own pods. Their inbound reports (Istio's
//! `reporter="destination"`, Linkerd's `direction="inbound"`) name every
//! caller whose requests reached them; their outbound reports name the
//! callees. Each later wave scrapes what the report reads and is not
//! scraped yet ([`needed`]): the callers (the caller's side of each inbound
//! edge, counted once as Kiali does), the callees downstream to the culprit
//! depth and one level more (the other side of the edges whose failures
//! the culprit ranking weighs), and the nodes the upstream walk of the entry
//! points looks through. It stops when a wave adds nothing.
//!
//! Pure: the caller scrapes (live or from a bundle) and feeds the rounds in.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::model::build::{BuildContext, Round, build_snapshot_refs};
use crate::model::inventory::Inventory;
use crate::model::snapshot::{MeshKind, Snapshot};
use crate::triage::culprit::{MAX_DEPTH, upstream};
use crate::triage::resolve::{Target, resolve};

/// More waves than any walk of the report can need ([`MAX_DEPTH`] up and
/// down, plus the target and one level below the culprits).
const MAX_WAVES: usize = 2 * MAX_DEPTH + 4;

/// Why a focused collection is not possible: collect everything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Fallback(pub String);

/// The workload ids whose proxies the report reads, given the snapshot of
/// what was scraped so far.
pub fn needed(snap: &Snapshot, t: &Target) -> BTreeSet<String> {
    let mut want: BTreeSet<String> = t.workloads.clone();
    // Callers: the caller's side of each inbound edge.
    for e in &snap.edges {
        if crate::triage::verdict::is_inbound(e, t) {
            want.insert(e.source.clone());
        }
    }
    // Downstream: the culprit walk expands nodes to MAX_DEPTH; the failures
    // of the edges out of the last level weigh too, so one level more.
    let mut out_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for e in &snap.edges {
        out_of
            .entry(e.source.as_str())
            .or_default()
            .push(e.target.as_str());
    }
    let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
    let mut queue: VecDeque<(&str, usize)> = VecDeque::new();
    for s in t
        .workloads
        .iter()
        .map(String::as_str)
        .chain([t.id.as_str()])
    {
        depth.insert(s, 0);
        queue.push_back((s, 0));
    }
    while let Some((n, d)) = queue.pop_front() {
        if d > MAX_DEPTH {
            continue;
        }
        for next in out_of.get(n).map(Vec::as_slice).unwrap_or(&[]) {
            if !depth.contains_key(next) {
                depth.insert(next, d + 1);
                queue.push_back((next, d + 1));
                want.insert((*next).to_string());
            }
        }
    }
    // Upstream: the nodes whose callers the entry-point walk looks up.
    want.extend(upstream(snap, t).expanded);
    want
}

/// The scrape keys (`namespace/pod`) of each workload's pods.
pub type PodsOf = BTreeMap<String, Vec<String>>;

/// Discovery in waves over one round. Call [`Discovery::next_wave`], scrape
/// the pods it returns, [`Discovery::add`] the result; repeat until it
/// returns no pod.
pub struct Discovery<'a> {
    inv: &'a Inventory,
    asked: String,
    namespace: Option<String>,
    pods_of: PodsOf,
    round: Round,
    asked_pods: BTreeSet<String>,
    waves: usize,
    /// The target's proxies are Linkerd's: callers come by identity.
    linkerd: bool,
    /// Pod → the workloads its inbound identities name (Linkerd).
    id_callers: BTreeMap<String, BTreeSet<String>>,
}

impl<'a> Discovery<'a> {
    /// Start with `pods_of` the scrapable pods by workload. Falls back when
    /// the service does not resolve from the inventory alone or has no
    /// scrapable pod.
    pub fn new(
        inv: &'a Inventory,
        asked: &str,
        namespace: Option<&str>,
        pods_of: PodsOf,
        at_ms: i64,
    ) -> Result<Self, Fallback> {
        let empty = Snapshot::empty(String::new(), 0.0);
        let t = resolve(asked, namespace, &empty, inv)
            .map_err(|e| Fallback(format!("the service resolves only from traffic ({e})")))?;
        if !t.workloads.iter().any(|w| pods_of.contains_key(w)) {
            return Err(Fallback(format!(
                "{} has no scrapable pod: its callers are known only from their own side",
                t.id
            )));
        }
        Ok(Discovery {
            inv,
            asked: asked.to_string(),
            namespace: namespace.map(String::from),
            pods_of,
            round: Round {
                at_ms,
                ..Round::default()
            },
            asked_pods: BTreeSet::new(),
            waves: 0,
            linkerd: false,
            id_callers: BTreeMap::new(),
        })
    }

    fn snapshot(&self) -> Snapshot {
        build_snapshot_refs(self.inv, &[&self.round], BuildContext::default())
    }

    fn target(&self, snap: &Snapshot) -> Result<Target, Fallback> {
        resolve(&self.asked, self.namespace.as_deref(), snap, self.inv)
            .map_err(|e| Fallback(e.to_string()))
    }

    /// The pods to scrape next (empty: done).
    pub fn next_wave(&mut self) -> Result<Vec<String>, Fallback> {
        let snap = self.snapshot();
        let t = self.target(&snap)?;
        if self.waves == 1 {
            self.linkerd = check_target_proxies(&self.round, &t, &self.pods_of)?;
        }
        if self.waves >= MAX_WAVES {
            return Ok(Vec::new());
        }
        self.waves += 1;
        let mut want = if self.waves == 1 {
            t.workloads.clone()
        } else {
            needed(&snap, &t)
        };
        if self.linkerd {
            // The callers of the target and of the nodes the entry-point
            // walk expands, by identity.
            let mut looked_up = t.workloads.clone();
            looked_up.extend(upstream(&snap, &t).expanded);
            for w in &looked_up {
                for p in self.pods_of.get(w).map(Vec::as_slice).unwrap_or(&[]) {
                    want.extend(self.id_callers.get(p).into_iter().flatten().cloned());
                }
            }
        }
        let pods: Vec<String> = want
            .iter()
            .filter_map(|w| self.pods_of.get(w))
            .flatten()
            .filter(|p| !self.asked_pods.contains(*p))
            .cloned()
            .collect();
        self.asked_pods.extend(pods.iter().cloned());
        Ok(pods)
    }

    /// Whether the wave just returned needs its scrape bodies given to
    /// [`Discovery::add_bodies`] (wave 1, and every wave on Linkerd).
    pub fn wants_bodies(&self) -> bool {
        self.waves <= 1 || self.linkerd
    }

    /// Add a wave's scrapes.
    pub fn add(&mut self, wave: Round) {
        self.round.scrapes.extend(wave.scrapes);
    }

    /// Add a wave's scrape bodies (`namespace/pod` → body as served): the
    /// Linkerd identities of their inbound callers.
    pub fn add_bodies<'b>(&mut self, bodies: impl IntoIterator<Item = (&'b String, &'b [u8])>) {
        for (pod, body) in bodies {
            let callers: BTreeSet<String> = crate::triage::identity::inbound_client_ids(body)
                .iter()
                .flat_map(|id| crate::triage::identity::workloads_of_identity(self.inv, id))
                .collect();
            self.id_callers.insert(pod.clone(), callers);
        }
    }

    /// The round gathered and every pod asked for (the focus).
    pub fn finish(self) -> (Round, BTreeSet<String>) {
        (self.round, self.asked_pods)
    }
}

/// After wave 1: the target's own proxies must answer in a dialect whose
/// inbound reports name the callers: Istio by workload, Linkerd by identity
/// (`true`: read the bodies for identities). Plain Envoy stats and
/// unanswered scrapes show only the callers' side: then only a full
/// collection finds the callers.
fn check_target_proxies(round: &Round, t: &Target, pods_of: &PodsOf) -> Result<bool, Fallback> {
    let mut any = false;
    let mut linkerd = false;
    for p in t.workloads.iter().filter_map(|w| pods_of.get(w)).flatten() {
        if let Some(s) = round.scrapes.get(p) {
            any = true;
            match s.mesh {
                Some(MeshKind::Istio) => {}
                Some(MeshKind::Linkerd) => linkerd = true,
                other => {
                    return Err(Fallback(format!(
                        "{p} reports no inbound traffic ({}): its callers are known only from their own side",
                        other.map_or("no mesh metrics".into(), |m| format!("{m:?}"))
                    )));
                }
            }
        }
    }
    if any {
        Ok(linkerd)
    } else {
        Err(Fallback(format!(
            "no proxy of {} could be scraped: its callers are known only from their own side",
            t.id
        )))
    }
}
