//! Istio `PeerAuthentication`: STRICT / PERMISSIVE / DISABLE / UNSET at
//! mesh, namespace, workload and port level, and the effective mode of a
//! workload by inheritance.

use serde_json::{Value, json};

use crate::analyze::declared::istio_authz::ROOT_NAMESPACE;
use crate::analyze::index::Idx;
use crate::analyze::index::select;
use crate::analyze::model::{EffectiveMode, MtlsMode, PeerAuthn, namespace_of, resource_id};
use crate::model::inventory::WorkloadInfo;

/// Read one PeerAuthentication.
pub fn read(obj: &Value, inv: &Idx) -> PeerAuthn {
    let spec = &obj["spec"];
    let ns = namespace_of(obj);
    let selector = &spec["selector"];
    let mode = MtlsMode::parse(spec["mtls"]["mode"].as_str().unwrap_or("UNSET"));
    let ports = spec["portLevelMtls"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(p, v)| {
                    Some((
                        p.parse::<u64>().ok()?,
                        MtlsMode::parse(v["mode"].as_str().unwrap_or("UNSET")),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let (namespace, workloads) = if selector.is_null() {
        ((ns != ROOT_NAMESPACE).then_some(ns), None)
    } else {
        (Some(ns.clone()), Some(select(inv, Some(&ns), selector)))
    };
    PeerAuthn {
        resource: resource_id(obj),
        namespace,
        workloads,
        mode,
        ports,
        enforced: true,
    }
}

/// The JSON entry for `declared.policies`.
pub fn entry(p: &PeerAuthn) -> Value {
    let ports: Vec<Value> = p
        .ports
        .iter()
        .map(|(port, m)| json!({"port": port, "mode": m.as_str()}))
        .collect();
    json!({"resource": p.resource, "understood": true, "mode": p.mode.as_str(),
           "scope": match (&p.namespace, &p.workloads) {
               (None, _) => "mesh".to_string(),
               (Some(ns), None) => format!("namespace {ns}"),
               (Some(_), Some(_)) => "workload".to_string(),
           },
           "targets": p.workloads, "port_level": ports, "enforced": p.enforced})
}

/// The effective mode of a workload: workload-level, else namespace, else
/// mesh, else the mesh default (PERMISSIVE); UNSET inherits from the level
/// above. Linkerd requirements (workload-level, possibly not enforced) are
/// in the same list.
pub fn effective(peers: &[PeerAuthn], w: &WorkloadInfo) -> EffectiveMode {
    // `namespace/name`, compared without building it.
    let is_w = |id: &String| {
        id.strip_prefix(w.namespace.as_str())
            .and_then(|r| r.strip_prefix('/'))
            == Some(w.name.as_str())
    };
    let at_level = |p: &PeerAuthn, level: usize| match level {
        0 => p.workloads.as_ref().is_some_and(|ws| ws.iter().any(is_w)),
        1 => p.workloads.is_none() && p.namespace.as_deref() == Some(&w.namespace),
        _ => p.workloads.is_none() && p.namespace.is_none(),
    };
    for level in 0..3 {
        if let Some(p) = peers
            .iter()
            .filter(|p| at_level(p, level) && p.mode != MtlsMode::Unset)
            .max_by_key(|p| p.enforced)
        {
            return EffectiveMode {
                mode: p.mode,
                source: p.resource.clone(),
                enforced: p.enforced,
                explicit: true,
            };
        }
    }
    EffectiveMode {
        mode: MtlsMode::Permissive,
        source: "default".to_string(),
        enforced: true,
        explicit: false,
    }
}
