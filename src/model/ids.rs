//! Node identities as CONTRACT.md writes them: `namespace/name` for
//! workloads, `svc:namespace/name` for Services, `ext:host` for traffic
//! leaving the mesh and `unknown` for callers the mesh cannot identify.

use std::sync::Arc;

use crate::model::snapshot::NodeKind;

/// The id of the node for callers without identity.
pub const UNKNOWN: &str = "unknown";

/// A node reference before it is rendered to its id string.
///
/// The names are shared (`Arc<str>`): keys holding a `NodeRef` are cloned
/// per sample, and a clone must not allocate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeRef {
    Workload { namespace: Arc<str>, name: Arc<str> },
    Service { namespace: Arc<str>, name: Arc<str> },
    External { host: Arc<str> },
    Unknown,
}

impl NodeRef {
    pub fn workload(namespace: &str, name: &str) -> Self {
        NodeRef::Workload {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub fn service(namespace: &str, name: &str) -> Self {
        NodeRef::Service {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    pub fn external(host: &str) -> Self {
        NodeRef::External { host: host.into() }
    }

    /// The id string used in the snapshot.
    pub fn id(&self) -> String {
        match self {
            NodeRef::Workload { namespace, name } => format!("{namespace}/{name}"),
            NodeRef::Service { namespace, name } => format!("svc:{namespace}/{name}"),
            NodeRef::External { host } => format!("ext:{host}"),
            NodeRef::Unknown => UNKNOWN.to_string(),
        }
    }

    pub fn kind(&self) -> NodeKind {
        match self {
            NodeRef::Workload { .. } => NodeKind::Workload,
            NodeRef::Service { .. } => NodeKind::Service,
            NodeRef::External { .. } => NodeKind::External,
            NodeRef::Unknown => NodeKind::Unknown,
        }
    }

    /// Parse an id string back (the inverse of [`NodeRef::id`]).
    pub fn parse(id: &str) -> Option<Self> {
        if id == UNKNOWN {
            return Some(NodeRef::Unknown);
        }
        if let Some(host) = id.strip_prefix("ext:") {
            return Some(NodeRef::external(host));
        }
        if let Some(rest) = id.strip_prefix("svc:") {
            let (ns, name) = rest.split_once('/')?;
            return Some(NodeRef::service(ns, name));
        }
        let (ns, name) = id.split_once('/')?;
        Some(NodeRef::workload(ns, name))
    }

    pub fn namespace(&self) -> Option<&str> {
        match self {
            NodeRef::Workload { namespace, .. } | NodeRef::Service { namespace, .. } => {
                Some(namespace)
            }
            _ => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            NodeRef::Workload { name, .. } | NodeRef::Service { name, .. } => name,
            NodeRef::External { host } => host,
            NodeRef::Unknown => UNKNOWN,
        }
    }
}

/// `svc:namespace/name`.
pub fn service_id(namespace: &str, name: &str) -> String {
    format!("svc:{namespace}/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for r in [
            NodeRef::workload("default", "reviews-v2"),
            NodeRef::service("default", "reviews"),
            NodeRef::external("api.example.com"),
            NodeRef::Unknown,
        ] {
            assert_eq!(NodeRef::parse(&r.id()), Some(r.clone()));
        }
        assert_eq!(NodeRef::workload("a", "b").id(), "a/b");
        assert_eq!(NodeRef::parse("nonsense"), None);
    }
}
