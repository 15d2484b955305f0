//! The resource catalog: built-in kinds plus one entry per served version of
//! every CustomResourceDefinition found in the store.

use serde_json::Value;

use super::store::{ObjKey, State};

/// One servable resource (a group/version/plural).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ResourceDef {
    pub group: String,
    pub version: String,
    pub plural: String,
    pub singular: String,
    pub kind: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    /// Subresources advertised in discovery, e.g. `proxy` for pods.
    pub subresources: Vec<String>,
    /// Whether this version is the preferred one of its group.
    pub preferred: bool,
}

impl ResourceDef {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Verbs advertised for every resource: this server only reads.
pub(crate) const VERBS: [&str; 3] = ["get", "list", "watch"];

struct Builtin {
    group: &'static str,
    version: &'static str,
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short: &'static [&'static str],
    sub: &'static [&'static str],
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short: &["ns"],
        sub: &["status"],
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "pods",
        singular: "pod",
        kind: "Pod",
        namespaced: true,
        short: &["po"],
        sub: &["proxy", "status"],
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "services",
        singular: "service",
        kind: "Service",
        namespaced: true,
        short: &["svc"],
        sub: &["status"],
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "endpoints",
        singular: "endpoints",
        kind: "Endpoints",
        namespaced: true,
        short: &["ep"],
        sub: &[],
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "serviceaccounts",
        singular: "serviceaccount",
        kind: "ServiceAccount",
        namespaced: true,
        short: &["sa"],
        sub: &[],
    },
    Builtin {
        group: "",
        version: "v1",
        plural: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short: &["cm"],
        sub: &[],
    },
    Builtin {
        group: "apps",
        version: "v1",
        plural: "deployments",
        singular: "deployment",
        kind: "Deployment",
        namespaced: true,
        short: &["deploy"],
        sub: &["status"],
    },
    Builtin {
        group: "apps",
        version: "v1",
        plural: "replicasets",
        singular: "replicaset",
        kind: "ReplicaSet",
        namespaced: true,
        short: &["rs"],
        sub: &["status"],
    },
    Builtin {
        group: "apps",
        version: "v1",
        plural: "statefulsets",
        singular: "statefulset",
        kind: "StatefulSet",
        namespaced: true,
        short: &["sts"],
        sub: &["status"],
    },
    Builtin {
        group: "apps",
        version: "v1",
        plural: "daemonsets",
        singular: "daemonset",
        kind: "DaemonSet",
        namespaced: true,
        short: &["ds"],
        sub: &["status"],
    },
    Builtin {
        group: "discovery.k8s.io",
        version: "v1",
        plural: "endpointslices",
        singular: "endpointslice",
        kind: "EndpointSlice",
        namespaced: true,
        short: &[],
        sub: &[],
    },
    Builtin {
        group: "apiextensions.k8s.io",
        version: "v1",
        plural: "customresourcedefinitions",
        singular: "customresourcedefinition",
        kind: "CustomResourceDefinition",
        namespaced: false,
        short: &["crd", "crds"],
        sub: &["status"],
    },
];

/// Built-in groups in the order `/apis` lists them (the core group is served at `/api`).
pub(crate) const BUILTIN_GROUPS: [&str; 3] = ["apps", "discovery.k8s.io", "apiextensions.k8s.io"];

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The resources one CRD object defines (one per served version); empty
/// when the CRD is malformed.
pub(crate) fn from_crd(crd: &Value) -> Vec<ResourceDef> {
    let Some(spec) = crd.get("spec") else {
        return Vec::new();
    };
    let names = spec.get("names");
    let field = |k: &str| {
        names
            .and_then(|n| n.get(k))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let (Some(group), Some(plural), Some(kind)) = (
        spec.get("group").and_then(Value::as_str),
        field("plural"),
        field("kind"),
    ) else {
        return Vec::new();
    };
    let singular = field("singular").unwrap_or_else(|| kind.to_lowercase());
    let namespaced = spec.get("scope").and_then(Value::as_str) != Some("Cluster");
    let versions = spec
        .get("versions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let served: Vec<&Value> = versions
        .iter()
        .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(true))
        .collect();
    let storage = served
        .iter()
        .position(|v| v.get("storage").and_then(Value::as_bool) == Some(true))
        .unwrap_or(0);
    served
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let version = v.get("name")?.as_str()?.to_string();
            let has_status = v
                .get("subresources")
                .and_then(|s| s.get("status"))
                .is_some();
            Some(ResourceDef {
                group: group.to_string(),
                version,
                plural: plural.clone(),
                singular: singular.clone(),
                kind: kind.clone(),
                namespaced,
                short_names: strings(names.and_then(|n| n.get("shortNames"))),
                categories: strings(names.and_then(|n| n.get("categories"))),
                subresources: if has_status {
                    vec!["status".into()]
                } else {
                    Vec::new()
                },
                preferred: i == storage,
            })
        })
        .collect()
}

/// Every resource the server currently serves.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub defs: Vec<ResourceDef>,
}

impl Catalog {
    /// The built-ins plus the CRDs present in `state`.
    pub fn build(state: &State) -> Catalog {
        let mut defs: Vec<ResourceDef> = BUILTINS
            .iter()
            .map(|b| ResourceDef {
                group: b.group.into(),
                version: b.version.into(),
                plural: b.plural.into(),
                singular: b.singular.into(),
                kind: b.kind.into(),
                namespaced: b.namespaced,
                short_names: b.short.iter().map(|s| s.to_string()).collect(),
                categories: if [
                    "Pod",
                    "Service",
                    "Deployment",
                    "ReplicaSet",
                    "StatefulSet",
                    "DaemonSet",
                ]
                .contains(&b.kind)
                {
                    vec!["all".into()]
                } else {
                    Vec::new()
                },
                subresources: b.sub.iter().map(|s| s.to_string()).collect(),
                preferred: true,
            })
            .collect();
        // Keys sort by group and kind first: the CRDs are one range (this
        // runs for every request, pod-proxy scrapes included).
        let first = ObjKey {
            group: "apiextensions.k8s.io".into(),
            kind: "CustomResourceDefinition".into(),
            namespace: String::new(),
            name: String::new(),
        };
        let crds = state.objects.range(first..).take_while(|(key, _)| {
            key.group == "apiextensions.k8s.io" && key.kind == "CustomResourceDefinition"
        });
        for (_, obj) in crds {
            for def in from_crd(obj) {
                let clash = defs.iter().any(|d| {
                    d.group == def.group && d.version == def.version && d.plural == def.plural
                });
                if !clash {
                    defs.push(def);
                }
            }
        }
        Catalog { defs }
    }

    /// The resource served at `group/version/plural`.
    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<&ResourceDef> {
        self.defs
            .iter()
            .find(|d| d.group == group && d.version == version && d.plural == plural)
    }

    /// Resources of one group/version.
    pub fn in_group_version<'a>(
        &'a self,
        group: &'a str,
        version: &'a str,
    ) -> impl Iterator<Item = &'a ResourceDef> + 'a {
        self.defs
            .iter()
            .filter(move |d| d.group == group && d.version == version)
    }

    /// Non-core groups in discovery order, each with its versions (preferred first).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = BUILTIN_GROUPS
            .iter()
            .map(|g| (g.to_string(), Vec::new()))
            .collect();
        let mut crd_groups: Vec<String> = self
            .defs
            .iter()
            .map(|d| d.group.clone())
            .filter(|g| !g.is_empty() && !BUILTIN_GROUPS.contains(&g.as_str()))
            .collect();
        crd_groups.sort();
        crd_groups.dedup();
        out.extend(crd_groups.into_iter().map(|g| (g, Vec::new())));
        for (group, versions) in &mut out {
            let mut defs: Vec<&ResourceDef> =
                self.defs.iter().filter(|d| &d.group == group).collect();
            defs.sort_by_key(|d| !d.preferred);
            for d in defs {
                if !versions.contains(&d.version) {
                    versions.push(d.version.clone());
                }
            }
        }
        out.retain(|(_, v)| !v.is_empty());
        out
    }
}
