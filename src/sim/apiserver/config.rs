//! Configuration of the simulated API server and the request log entry type.

use std::time::Duration;

/// A resource the simulated user may not read: requests matching it get 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForbiddenRule {
    /// Plural resource name, optionally with a subresource: `pods`, `pods/proxy`, `virtualservices`.
    pub resource: String,
    /// Only in this namespace (`None` = everywhere, cluster scope included).
    pub namespace: Option<String>,
    /// Only this verb: `get`, `list` or `watch` (`None` = every verb).
    pub verb: Option<String>,
}

impl ForbiddenRule {
    /// Forbid every verb on `resource` everywhere.
    pub fn resource(resource: &str) -> Self {
        ForbiddenRule {
            resource: resource.to_string(),
            namespace: None,
            verb: None,
        }
    }

    /// Whether a request for `verb` on `resource` in `namespace` is denied.
    pub fn matches(&self, resource: &str, namespace: Option<&str>, verb: &str) -> bool {
        self.resource == resource
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| Some(ns) == namespace)
            && self.verb.as_deref().is_none_or(|v| v == verb)
    }
}

/// Knobs of the simulated API server.
#[derive(Debug, Clone)]
pub struct ApiServerConfig {
    /// Resources answered with 403 Forbidden.
    pub forbidden: Vec<ForbiddenRule>,
    /// How often open watches with `allowWatchBookmarks=true` get a BOOKMARK.
    pub bookmark_interval: Duration,
    /// Longest a watch stays open (also the default when the client sends no `timeoutSeconds`).
    pub watch_timeout: Duration,
    /// How long a [`super::PodProxyResponse::Timeout`] keeps the request open before giving up with 504.
    pub proxy_hang: Duration,
    /// The user named in 403 messages.
    pub user: String,
    /// `gitVersion` reported by `/version`.
    pub git_version: String,
    /// Port-forward targets: `(namespace, pod, port)` → a loopback address
    /// that stands for that pod's port.
    pub port_forwards: std::collections::BTreeMap<(String, String, u16), std::net::SocketAddr>,
}

impl Default for ApiServerConfig {
    fn default() -> Self {
        ApiServerConfig {
            forbidden: Vec::new(),
            bookmark_interval: Duration::from_secs(5),
            watch_timeout: Duration::from_secs(300),
            proxy_hang: Duration::from_secs(60),
            user: "system:serviceaccount:meshscope:meshscope".to_string(),
            git_version: "v1.33.0-meshscope-sim".to_string(),
            port_forwards: std::collections::BTreeMap::new(),
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    /// HTTP method, e.g. `GET`.
    pub method: String,
    /// Path without the query, e.g. `/api/v1/pods`.
    pub path: String,
    /// Raw query string (empty when none), e.g. `limit=500`.
    pub query: String,
}
