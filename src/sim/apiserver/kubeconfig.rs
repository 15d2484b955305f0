//! A kubeconfig pointing at the simulated server (plain http, dummy token).

use std::path::Path;

/// The kubeconfig text for `server` with one context named `context_name`.
pub(crate) fn render(server: &str, context_name: &str) -> String {
    // JSON strings are valid YAML scalars: quote every value that way.
    let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: meshscope-sim\n\
         \x20 cluster:\n\
         \x20   server: {server}\n\
         contexts:\n\
         - name: {ctx}\n\
         \x20 context:\n\
         \x20   cluster: meshscope-sim\n\
         \x20   user: meshscope-sim\n\
         current-context: {ctx}\n\
         preferences: {{}}\n\
         users:\n\
         - name: meshscope-sim\n\
         \x20 user:\n\
         \x20   token: meshscope-sim-token\n",
        server = q(server),
        ctx = q(context_name),
    )
}

/// Write the kubeconfig to `path`.
/// The context names no namespace: the simulated mesh spans several, and
/// meshscope then looks at all of them (kubectl still defaults to `default`).
pub(crate) fn write(path: &Path, server: &str, context_name: &str) -> std::io::Result<()> {
    std::fs::write(path, render(server, context_name))
}
