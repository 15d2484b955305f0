//! The declared topology, normalised across meshes: who may call whom
//! ([`AccessRule`]), which mTLS mode applies where ([`PeerAuthn`]), and
//! how traffic is meant to be split ([`Route`]).

use rustc_hash::FxHashMap;
use serde_json::{Value, json};

/// What an access rule does with the callers it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Allow,
    Deny,
    /// Istio AUDIT: logged, never blocks.
    Audit,
}

impl Action {
    /// `ALLOW`, `DENY`, `AUDIT`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Allow => "ALLOW",
            Action::Deny => "DENY",
            Action::Audit => "AUDIT",
        }
    }
}

/// One way a caller can be named by a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// Anybody, plaintext included (no `from`, a NetworkAuthentication…).
    Any,
    /// Any caller with a mesh identity.
    Authenticated,
    /// An identity pattern: Istio `cluster.local/ns/NS/sa/SA` (with `*`
    /// prefix/suffix wildcards) or Linkerd `SA.NS.serviceaccount.identity…`.
    Principal(String),
    /// Any authenticated caller from this namespace (`*` wildcards allowed).
    Namespace(String),
}

/// A conjunction of conditions on the caller (one Istio `source`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceSpec {
    /// Each entry must hold: `(true, peers)` = the caller is one of
    /// `peers`; `(false, peers)` = it is none of them.
    pub all: Vec<(bool, Vec<Peer>)>,
}

/// A declaration of who may (or may not) call a set of workloads.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRule {
    /// `Kind/namespace/name` of the declaring object.
    pub resource: String,
    pub action: Action,
    /// False for Istio `istio.io/dry-run`, Linkerd audit mode, and intent
    /// files: declared but not enforced by the mesh.
    pub enforced: bool,
    /// The workload ids (`namespace/name`) it applies to.
    pub targets: Vec<String>,
    /// Alternatives (OR); an empty list matches no caller, a spec with no
    /// conditions matches every caller.
    pub from: Vec<SourceSpec>,
}

/// An effective mTLS mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MtlsMode {
    Strict,
    Permissive,
    Disable,
    Unset,
}

impl MtlsMode {
    /// Parse a PeerAuthentication mode (case-insensitive; unknown = UNSET).
    pub fn parse(s: &str) -> MtlsMode {
        match s.to_ascii_uppercase().as_str() {
            "STRICT" => MtlsMode::Strict,
            "PERMISSIVE" => MtlsMode::Permissive,
            "DISABLE" => MtlsMode::Disable,
            _ => MtlsMode::Unset,
        }
    }
    /// `STRICT`, `PERMISSIVE`, `DISABLE`, `UNSET`.
    pub fn as_str(self) -> &'static str {
        match self {
            MtlsMode::Strict => "STRICT",
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Disable => "DISABLE",
            MtlsMode::Unset => "UNSET",
        }
    }
}

/// The mode a workload ends up with and what declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectiveMode {
    pub mode: MtlsMode,
    /// `Kind/namespace/name`, or `default` for the mesh default.
    pub source: String,
    /// False when the requirement is not enforced (Linkerd audit mode).
    pub enforced: bool,
    /// True when some object declared it (not just the mesh default).
    pub explicit: bool,
}

/// One mTLS declaration (a PeerAuthentication or a Linkerd requirement).
#[derive(Debug, Clone, PartialEq)]
pub struct PeerAuthn {
    pub resource: String,
    /// `None` = mesh-wide (root namespace); `Some(ns)` otherwise.
    pub namespace: Option<String>,
    /// Workloads it selects; `None` = the whole scope (no selector).
    pub workloads: Option<Vec<String>>,
    pub mode: MtlsMode,
    /// Port-level overrides (`port`, mode), recorded but not applied to
    /// edges, which carry no port.
    pub ports: Vec<(u64, MtlsMode)>,
    pub enforced: bool,
}

/// One weighted backend of a route.
#[derive(Debug, Clone, PartialEq)]
pub struct Backend {
    /// `subset v1`, `web-stable`, `reviews`…
    pub name: String,
    pub weight: f64,
    /// The workload ids it selects.
    pub workloads: Vec<String>,
}

/// A declared route over a Service's backends.
#[derive(Debug, Clone, PartialEq)]
pub struct Route {
    pub resource: String,
    /// The Service the route applies to, `namespace/name`, when in-cluster.
    pub service: Option<String>,
    pub backends: Vec<Backend>,
    /// Whether the weights describe all of the Service's traffic (a single
    /// catch-all rule), so observed shares can be compared with them.
    pub comparable: bool,
}

/// A problem found while reading declarations (a subset selecting no pods…).
#[derive(Debug, Clone, PartialEq)]
pub struct Orphan {
    pub resource: String,
    /// Whether a route sends traffic to it (warning) or not (info).
    pub referenced: bool,
    pub what: String,
}

/// The whole declared topology.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub access: Vec<AccessRule>,
    pub peer: Vec<PeerAuthn>,
    pub routes: Vec<Route>,
    pub orphans: Vec<Orphan>,
    /// DestinationRules that disable TLS: (resource, workload ids).
    pub tls_disabled: Vec<(String, Vec<String>)>,
    /// External hosts a ServiceEntry declares.
    pub external_hosts: Vec<String>,
    /// Entries for `snapshot.declared.policies` / `.routes`.
    pub policy_entries: Vec<Value>,
    pub route_entries: Vec<Value>,
    /// `access` indices by target workload id (see [`Model::index`]).
    pub by_target: FxHashMap<String, Vec<usize>>,
}

impl Model {
    /// Append `other`'s declarations after these (before [`Model::index`]).
    pub fn append(&mut self, other: Model) {
        let Model {
            access,
            peer,
            routes,
            orphans,
            tls_disabled,
            external_hosts,
            policy_entries,
            route_entries,
            by_target: _,
        } = other;
        self.access.extend(access);
        self.peer.extend(peer);
        self.routes.extend(routes);
        self.orphans.extend(orphans);
        self.tls_disabled.extend(tls_disabled);
        self.external_hosts.extend(external_hosts);
        self.policy_entries.extend(policy_entries);
        self.route_entries.extend(route_entries);
    }

    /// Index the access rules by target; call once `access` is complete.
    pub fn index(&mut self) {
        self.by_target.clear();
        for (i, r) in self.access.iter().enumerate() {
            for t in &r.targets {
                self.by_target.entry(t.clone()).or_default().push(i);
            }
        }
    }

    /// Indices (into `access`) of the access rules that apply to a workload.
    pub fn rule_ids(&self, target: &str) -> &[usize] {
        self.by_target.get(target).map_or(&[], Vec::as_slice)
    }

    /// The access rules that apply to a workload.
    pub fn rules_for<'a>(&'a self, target: &str) -> impl Iterator<Item = &'a AccessRule> + 'a {
        self.by_target
            .get(target)
            .into_iter()
            .flatten()
            .map(|&i| &self.access[i])
    }
}

/// `Kind/namespace/name` of a Kubernetes object.
pub fn resource_id(obj: &Value) -> String {
    format!(
        "{}/{}/{}",
        obj["kind"].as_str().unwrap_or("?"),
        obj["metadata"]["namespace"].as_str().unwrap_or("default"),
        obj["metadata"]["name"].as_str().unwrap_or("?")
    )
}

/// The object's namespace (`default` when absent).
pub fn namespace_of(obj: &Value) -> String {
    obj["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default")
        .to_string()
}

/// A human form of a peer list, for messages and the declared JSON.
pub fn peer_text(p: &Peer) -> String {
    match p {
        Peer::Any => "any caller".to_string(),
        Peer::Authenticated => "any authenticated caller".to_string(),
        Peer::Principal(s) => s.clone(),
        Peer::Namespace(n) => format!("namespace {n}"),
    }
}

impl AccessRule {
    /// The JSON entry for `declared.policies`.
    pub fn entry(&self) -> Value {
        let from: Vec<String> = self
            .from
            .iter()
            .map(|s| {
                if s.all.is_empty() {
                    return "any caller".to_string();
                }
                s.all
                    .iter()
                    .map(|(pos, peers)| {
                        let list: Vec<String> = peers.iter().map(peer_text).collect();
                        if *pos {
                            list.join(" | ")
                        } else {
                            format!("not ({})", list.join(" | "))
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" & ")
            })
            .collect();
        json!({"resource": self.resource, "understood": true, "action": self.action.as_str(),
               "enforced": self.enforced, "targets": self.targets, "from": from})
    }
}
