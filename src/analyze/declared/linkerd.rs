//! Linkerd policy: `Server`, `ServerAuthorization`, `AuthorizationPolicy`,
//! `MeshTLSAuthentication`, `NetworkAuthentication`, and the
//! `config.linkerd.io/default-inbound-policy` annotation.

use serde_json::{Value, json};

use crate::analyze::index::Idx;
use crate::analyze::index::{Caller, peer_matches, select};
use crate::analyze::model::{
    AccessRule, Action, Model, MtlsMode, Orphan, Peer, PeerAuthn, SourceSpec, namespace_of,
    resource_id,
};

/// The annotation that sets a namespace's (or pod's) default inbound policy.
pub const DEFAULT_POLICY_ANNOTATION: &str = "config.linkerd.io/default-inbound-policy";

fn kind(o: &Value) -> &str {
    o["kind"].as_str().unwrap_or("")
}

fn named<'a>(objs: &'a [&'a Value], k: &str, ns: &str, name: &str) -> Option<&'a Value> {
    objs.iter().copied().find(|o| {
        kind(o) == k && namespace_of(o) == ns && o["metadata"]["name"].as_str() == Some(name)
    })
}

fn mesh_tls_peers(spec: &Value, ns: &str) -> Vec<Peer> {
    let mut peers = Vec::new();
    for id in spec["identities"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        peers.push(if id == "*" {
            Peer::Authenticated
        } else {
            Peer::Principal(id.to_string())
        });
    }
    for r in spec["identityRefs"].as_array().into_iter().flatten() {
        let rns = r["namespace"].as_str().unwrap_or(ns);
        let name = r["name"].as_str().unwrap_or("*");
        match r["kind"].as_str().unwrap_or("") {
            "ServiceAccount" => {
                peers.push(Peer::Principal(format!("cluster.local/ns/{rns}/sa/{name}")))
            }
            "Namespace" => peers.push(Peer::Namespace(name.to_string())),
            _ => peers.push(Peer::Authenticated),
        }
    }
    for sa in spec["serviceAccounts"].as_array().into_iter().flatten() {
        let rns = sa["namespace"].as_str().unwrap_or(ns);
        let name = sa["name"].as_str().unwrap_or("*");
        peers.push(Peer::Principal(format!("cluster.local/ns/{rns}/sa/{name}")));
    }
    if spec["unauthenticatedTLS"].as_bool() == Some(true) {
        peers.push(Peer::Any);
    }
    peers
}

/// The caller condition of one AuthorizationPolicy (refs are ANDed).
fn authz_policy_spec(ap: &Value, objs: &[&Value]) -> SourceSpec {
    let ns = namespace_of(ap);
    let mut spec = SourceSpec::default();
    for r in ap["spec"]["requiredAuthenticationRefs"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let rns = r["namespace"].as_str().unwrap_or(&ns);
        let name = r["name"].as_str().unwrap_or("");
        let peers = match r["kind"].as_str().unwrap_or("") {
            "MeshTLSAuthentication" => named(objs, "MeshTLSAuthentication", rns, name)
                .map(|m| mesh_tls_peers(&m["spec"], rns))
                .unwrap_or_default(),
            "NetworkAuthentication" => vec![Peer::Any],
            "ServiceAccount" => vec![Peer::Principal(format!("cluster.local/ns/{rns}/sa/{name}"))],
            _ => Vec::new(),
        };
        spec.all.push((true, peers));
    }
    spec
}

/// The caller condition of one ServerAuthorization (v1beta1).
fn server_authz_spec(sa: &Value) -> SourceSpec {
    let ns = namespace_of(sa);
    let client = &sa["spec"]["client"];
    let mut peers = Vec::new();
    if client["unauthenticated"].as_bool() == Some(true) {
        peers.push(Peer::Any);
    }
    peers.extend(mesh_tls_peers(&client["meshTLS"], &ns));
    if client["meshTLS"].is_object() && peers.is_empty() {
        peers.push(Peer::Authenticated);
    }
    SourceSpec {
        all: vec![(true, peers)],
    }
}

fn applies_to_server(target: &Value, server: &Value, objs: &[&Value]) -> bool {
    let sname = server["metadata"]["name"].as_str();
    match target["kind"].as_str().unwrap_or("") {
        "Server" => target["name"].as_str() == sname,
        "HTTPRoute" | "GRPCRoute" => {
            let ns = namespace_of(server);
            objs.iter().any(|o| {
                kind(o) == target["kind"].as_str().unwrap_or("")
                    && namespace_of(o) == ns
                    && o["metadata"]["name"] == target["name"]
                    && o["spec"]["parentRefs"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .any(|p| {
                            p["kind"].as_str() == Some("Server") && p["name"].as_str() == sname
                        })
            })
        }
        "Namespace" => true,
        _ => false,
    }
}

/// Read every Server with the authorizations that target it.
pub fn read_servers(objs: &[&Value], inv: &Idx, m: &mut Model) {
    for server in objs.iter().copied().filter(|o| kind(o) == "Server") {
        let ns = namespace_of(server);
        let id = resource_id(server);
        let targets = select(inv, Some(&ns), &server["spec"]["podSelector"]);
        let mut from = Vec::new();
        let mut by = Vec::new();
        for o in objs.iter().copied().filter(|o| namespace_of(o) == ns) {
            match kind(o) {
                "AuthorizationPolicy"
                    if o["apiVersion"].as_str().unwrap_or("").contains("linkerd")
                        && applies_to_server(&o["spec"]["targetRef"], server, objs) =>
                {
                    from.push(authz_policy_spec(o, objs));
                    by.push(resource_id(o));
                }
                "ServerAuthorization" => {
                    let s = &o["spec"]["server"];
                    let hit = s["name"].as_str() == server["metadata"]["name"].as_str()
                        || (s["selector"].is_object()
                            && crate::analyze::index::selector_matches(
                                &s["selector"],
                                &label_map(&server["metadata"]["labels"]),
                            ));
                    if hit {
                        from.push(server_authz_spec(o));
                        by.push(resource_id(o));
                    }
                }
                _ => {}
            }
        }
        let access = server["spec"]["accessPolicy"].as_str().unwrap_or("deny");
        let enforced = access != "audit";
        if from.is_empty() && access.contains("unauthenticated") {
            from.push(SourceSpec::default());
        } else if from.is_empty() && access.contains("authenticated") {
            from.push(SourceSpec {
                all: vec![(true, vec![Peer::Authenticated])],
            });
        }
        if targets.is_empty() {
            m.orphans.push(Orphan {
                resource: id.clone(),
                referenced: true,
                what: "podSelector".into(),
            });
        }
        let anon = Caller {
            id: "",
            namespace: None,
            service_account: None,
            authenticated: false,
            attributed: false,
        };
        let needs_mtls = !from.iter().any(|s| {
            s.all
                .iter()
                .all(|(pos, peers)| *pos == peers.iter().any(|p| peer_matches(p, &anon)))
        });
        if needs_mtls {
            m.peer.push(PeerAuthn {
                resource: id.clone(),
                namespace: Some(ns.clone()),
                workloads: Some(targets.clone()),
                mode: MtlsMode::Strict,
                ports: Vec::new(),
                enforced,
            });
        }
        let rule = AccessRule {
            resource: id,
            action: Action::Allow,
            enforced,
            targets,
            from,
        };
        let mut e = rule.entry();
        e["authorizations"] = json!(by);
        e["access_policy"] = json!(access);
        m.policy_entries.push(e);
        m.access.push(rule);
    }
}

fn label_map(v: &Value) -> std::collections::BTreeMap<String, String> {
    v.as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// Namespace default inbound policies (annotation) as mTLS declarations.
pub fn read_namespace_defaults(inv: &Idx, m: &mut Model) {
    for (ns, info) in &inv.namespaces {
        let Some(p) = info.annotations.get(DEFAULT_POLICY_ANNOTATION) else {
            continue;
        };
        let mode = match p.as_str() {
            "all-authenticated" | "cluster-authenticated" | "deny" => MtlsMode::Strict,
            _ => MtlsMode::Permissive,
        };
        let resource = format!("Namespace/{ns}/{ns}");
        m.peer.push(PeerAuthn {
            resource: resource.clone(),
            namespace: Some(ns.clone()),
            workloads: None,
            mode,
            ports: Vec::new(),
            enforced: p != "audit",
        });
        m.policy_entries
            .push(json!({"resource": resource, "understood": true,
            "default_inbound_policy": p, "mode": mode.as_str()}));
    }
}
