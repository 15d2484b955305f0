//! Process-wide interners for the names a scrape repeats on every series:
//! node identities ([`NodeId`]) and descriptive strings such as Service ids
//! and mTLS identities ([`Sym`]).
//!
//! Keys built from interned values hash and compare as integers, and a
//! sample stores 4 bytes per name instead of a string. The tables only
//! grow: they hold one entry per distinct node or name the process has
//! seen (workloads, Services, external hosts, identities), which a mesh
//! bounds; pod names are never interned.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::num::NonZeroU32;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use rustc_hash::FxHashMap;

use crate::model::ids::NodeRef;
use crate::model::snapshot::NodeKind;

/// An interned node identity: a copy is 4 bytes, equality and hashing are
/// integer operations. [`NodeId::node`] gives the [`NodeRef`] back.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(u32);

struct Nodes {
    /// Unambiguous key (kind, length-prefixed namespace, name) → id.
    index: FxHashMap<Box<str>, u32>,
    refs: Vec<NodeRef>,
}

static NODES: LazyLock<RwLock<Nodes>> = LazyLock::new(|| {
    RwLock::new(Nodes {
        index: FxHashMap::default(),
        refs: vec![NodeRef::Unknown],
    })
});

thread_local! {
    /// Scratch for lookup keys: a hit allocates nothing.
    static KEY: RefCell<String> = const { RefCell::new(String::new()) };
}

fn node_key(buf: &mut String, kind: char, a: &str, b: &str) {
    buf.clear();
    let _ = write!(buf, "{kind}{}:{a}{b}", a.len());
}

fn intern_node(kind: char, a: &str, b: &str, make: impl FnOnce() -> NodeRef) -> NodeId {
    KEY.with(|k| {
        let mut buf = k.borrow_mut();
        node_key(&mut buf, kind, a, b);
        {
            let t = NODES.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(&i) = t.index.get(buf.as_str()) {
                return NodeId(i);
            }
        }
        let mut t = NODES.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&i) = t.index.get(buf.as_str()) {
            return NodeId(i);
        }
        let i = t.refs.len() as u32;
        t.refs.push(make());
        t.index.insert(buf.as_str().into(), i);
        NodeId(i)
    })
}

impl NodeId {
    /// The caller without identity.
    pub const UNKNOWN: NodeId = NodeId(0);

    pub fn workload(namespace: &str, name: &str) -> Self {
        intern_node('W', namespace, name, || NodeRef::workload(namespace, name))
    }

    pub fn service(namespace: &str, name: &str) -> Self {
        intern_node('S', namespace, name, || NodeRef::service(namespace, name))
    }

    pub fn external(host: &str) -> Self {
        intern_node('E', host, "", || NodeRef::external(host))
    }

    /// The id of a node reference.
    pub fn of(node: &NodeRef) -> Self {
        match node {
            NodeRef::Workload { namespace, name } => NodeId::workload(namespace, name),
            NodeRef::Service { namespace, name } => NodeId::service(namespace, name),
            NodeRef::External { host } => NodeId::external(host),
            NodeRef::Unknown => NodeId::UNKNOWN,
        }
    }

    /// The node this id stands for (its names are shared, not copied).
    pub fn node(self) -> NodeRef {
        let t = NODES.read().unwrap_or_else(PoisonError::into_inner);
        t.refs
            .get(self.0 as usize)
            .cloned()
            .unwrap_or(NodeRef::Unknown)
    }

    pub fn is_unknown(self) -> bool {
        self == NodeId::UNKNOWN
    }

    /// The id string used in the snapshot.
    pub fn id(self) -> String {
        self.node().id()
    }

    pub fn kind(self) -> NodeKind {
        self.node().kind()
    }
}

impl From<&NodeRef> for NodeId {
    fn from(node: &NodeRef) -> Self {
        NodeId::of(node)
    }
}

impl std::fmt::Debug for NodeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeId({})", self.id())
    }
}

/// An interned string (a Service id, an identity, a response flag): 4
/// bytes, `Option<Sym>` too.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sym(NonZeroU32);

struct Syms {
    index: FxHashMap<Arc<str>, u32>,
    /// Index `i - 1` holds the string of `Sym(i)`.
    names: Vec<Arc<str>>,
}

static SYMS: LazyLock<RwLock<Syms>> = LazyLock::new(|| {
    RwLock::new(Syms {
        index: FxHashMap::default(),
        names: Vec::new(),
    })
});

impl Sym {
    /// Intern `s`.
    pub fn new(s: &str) -> Self {
        {
            let t = SYMS.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(&i) = t.index.get(s) {
                return Sym::at(i);
            }
        }
        let mut t = SYMS.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&i) = t.index.get(s) {
            return Sym::at(i);
        }
        let name: Arc<str> = s.into();
        t.names.push(name.clone());
        let i = t.names.len() as u32;
        t.index.insert(name, i);
        Sym::at(i)
    }

    fn at(i: u32) -> Self {
        Sym(NonZeroU32::MIN.saturating_add(i.saturating_sub(1)))
    }

    /// The string (shared, not copied).
    pub fn get(self) -> Arc<str> {
        let t = SYMS.read().unwrap_or_else(PoisonError::into_inner);
        t.names
            .get(self.0.get() as usize - 1)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }
}

impl From<&str> for Sym {
    fn from(s: &str) -> Self {
        Sym::new(s)
    }
}

impl From<String> for Sym {
    fn from(s: String) -> Self {
        Sym::new(&s)
    }
}

impl std::fmt::Display for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.get())
    }
}

impl std::fmt::Debug for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", &*self.get())
    }
}

impl PartialEq<&str> for Sym {
    fn eq(&self, other: &&str) -> bool {
        &*self.get() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_intern_to_one_id_and_resolve_back() {
        let a = NodeId::workload("default", "reviews-v1");
        assert_eq!(a, NodeId::workload("default", "reviews-v1"));
        assert_eq!(a, NodeId::of(&NodeRef::workload("default", "reviews-v1")));
        assert_ne!(a, NodeId::service("default", "reviews-v1"));
        // The key is unambiguous where a naive "ns/name" would collide.
        assert_ne!(NodeId::workload("a/b", "c"), NodeId::workload("a", "b/c"));
        assert_eq!(a.node(), NodeRef::workload("default", "reviews-v1"));
        assert_eq!(a.id(), "default/reviews-v1");
        assert_eq!(NodeId::of(&NodeRef::Unknown), NodeId::UNKNOWN);
        assert_eq!(NodeId::UNKNOWN.id(), "unknown");
        assert_eq!(
            NodeId::external("api.example.com").id(),
            "ext:api.example.com"
        );
    }

    #[test]
    fn syms_intern_and_resolve() {
        let s = Sym::new("svc:default/reviews");
        assert_eq!(s, Sym::from("svc:default/reviews"));
        assert_ne!(s, Sym::new("svc:default/ratings"));
        assert_eq!(s.to_string(), "svc:default/reviews");
        assert_eq!(std::mem::size_of::<Option<Sym>>(), 4);
    }
}
