//! Connecting like kubectl: `--kubeconfig`, `KUBECONFIG` with several files
//! (first wins; a missing file is skipped, as client-go does), `--context`,
//! the context's namespace, `-n`, `-A`, exec credential plugins, in-cluster
//! config. Read-only: only GETs are ever sent, and Secrets are never read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{KubeConfigOptions, Kubeconfig};

/// Install the one rustls crypto provider of the whole tree (ring). kube
/// and reqwest both build rustls configs; with two providers compiled in
/// they panic unless one is installed first.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

#[derive(Debug, Clone, Default)]
pub struct KubeOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    pub all_namespaces: bool,
    /// Connect and first-request timeout.
    pub timeout: Option<Duration>,
}

/// Which namespaces to look at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Namespace(String),
}

impl Scope {
    pub fn namespaces(&self) -> Option<Vec<String>> {
        match self {
            Scope::All => None,
            Scope::Namespace(n) => Some(vec![n.clone()]),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("context '{name}' does not exist in {origin}; known contexts: {}", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    UnknownContext {
        name: String,
        origin: String,
        known: Vec<String>,
    },
    #[error("kubeconfig '{path}' cannot be used: {message}")]
    BadKubeconfig { path: PathBuf, message: String },
    #[error(
        "no kubeconfig found ({tried}) and not running in a cluster; pass --kubeconfig FILE or try `meshscope demo`"
    )]
    NoConfig { tried: String },
    #[error("cannot use the kubeconfig: {0}")]
    Config(String),
    #[error("API server {server} is unreachable: {error}")]
    Unreachable { server: String, error: String },
}

impl ConnectError {
    /// Exit code per CONTRACT.md: 3 bad input, 4 unreachable.
    pub fn exit_code(&self) -> u8 {
        match self {
            ConnectError::Unreachable { .. } => 4,
            _ => 3,
        }
    }
}

/// A connected client and what it points at.
pub struct Connected {
    pub client: kube::Client,
    pub context: Option<String>,
    pub server: String,
    pub scope: Scope,
}

/// The kubeconfig files to read, in order: `--kubeconfig`, else the
/// existing files of `KUBECONFIG`, else `~/.kube/config` if it exists.
pub fn kubeconfig_paths(
    explicit: Option<&Path>,
    env: Option<&str>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    if let Some(p) = explicit {
        return vec![p.to_path_buf()];
    }
    if let Some(list) = env.filter(|s| !s.is_empty()) {
        let sep = if cfg!(windows) { ';' } else { ':' };
        let found: Vec<PathBuf> = list
            .split(sep)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_file())
            .collect();
        if !found.is_empty() {
            return found;
        }
    }
    match home.map(|h| h.join(".kube/config")) {
        Some(p) if p.is_file() => vec![p],
        _ => Vec::new(),
    }
}

/// Read and merge kubeconfig files (first wins, as kubectl merges).
pub fn load_kubeconfig(paths: &[PathBuf]) -> Result<Kubeconfig, ConnectError> {
    let mut merged: Option<Kubeconfig> = None;
    for p in paths {
        let kc = Kubeconfig::read_from(p).map_err(|e| ConnectError::BadKubeconfig {
            path: p.clone(),
            message: e.to_string(),
        })?;
        merged = Some(match merged {
            None => kc,
            Some(m) => m.merge(kc).map_err(|e| ConnectError::BadKubeconfig {
                path: p.clone(),
                message: e.to_string(),
            })?,
        });
    }
    merged.ok_or_else(|| ConnectError::NoConfig {
        tried: "none".into(),
    })
}

/// Resolve the context and namespace scope from a kubeconfig and options.
pub fn resolve_context(
    kc: &Kubeconfig,
    opts: &KubeOptions,
    origin: &str,
) -> Result<(Option<String>, Scope), ConnectError> {
    let name = opts.context.clone().or_else(|| kc.current_context.clone());
    let ctx_ns = match &name {
        Some(n) => {
            let found = kc.contexts.iter().find(|c| &c.name == n);
            match found {
                Some(c) => c.context.as_ref().and_then(|c| c.namespace.clone()),
                None => {
                    return Err(ConnectError::UnknownContext {
                        name: n.clone(),
                        origin: origin.to_string(),
                        known: kc.contexts.iter().map(|c| c.name.clone()).collect(),
                    });
                }
            }
        }
        None => None,
    };
    let scope = if opts.all_namespaces {
        Scope::All
    } else if let Some(ns) = &opts.namespace {
        Scope::Namespace(ns.clone())
    } else if let Some(ns) = ctx_ns {
        Scope::Namespace(ns)
    } else {
        // A context without a namespace: the mesh is cluster-wide, so all.
        Scope::All
    };
    Ok((name, scope))
}

/// Connect: build the client (running exec plugins now, before any
/// terminal raw mode) and check the server answers within the timeout.
pub async fn connect(opts: &KubeOptions) -> Result<Connected, ConnectError> {
    install_crypto_provider();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let env = std::env::var("KUBECONFIG").ok();
    if let Some(p) = opts.kubeconfig.as_ref().filter(|p| !p.is_file()) {
        return Err(ConnectError::BadKubeconfig {
            path: p.clone(),
            message: "no such file".into(),
        });
    }
    let paths = kubeconfig_paths(opts.kubeconfig.as_deref(), env.as_deref(), home.as_deref());
    let timeout = opts.timeout.unwrap_or(Duration::from_secs(10));
    let (mut config, context, scope) = if paths.is_empty() {
        match kube::Config::incluster() {
            Ok(c) => {
                let scope = match (&opts.namespace, opts.all_namespaces) {
                    (Some(n), false) => Scope::Namespace(n.clone()),
                    _ => Scope::All,
                };
                (c, None, scope)
            }
            Err(_) => {
                return Err(ConnectError::NoConfig {
                    tried: match env {
                        Some(e) if !e.is_empty() => format!("KUBECONFIG={e}, ~/.kube/config"),
                        _ => "~/.kube/config".into(),
                    },
                });
            }
        }
    } else {
        let kc = load_kubeconfig(&paths)?;
        let origin = paths
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let (context, scope) = resolve_context(&kc, opts, &origin)?;
        let config = kube::Config::from_custom_kubeconfig(
            kc,
            &KubeConfigOptions {
                context: context.clone(),
                ..KubeConfigOptions::default()
            },
        )
        .await
        .map_err(|e| ConnectError::Config(e.to_string()))?;
        (config, context, scope)
    };
    config.connect_timeout = Some(timeout);
    // kube retries 503/504/429 up to 15 times by default; a dead pod behind
    // the pod proxy answers 503, and every collector here already bounds and
    // reports its own failures, so fail fast instead.
    config.default_retry = false;
    config.read_timeout = Some(timeout.max(Duration::from_secs(30)));
    let server = config.cluster_url.to_string();
    let client = kube::Client::try_from(config).map_err(|e| ConnectError::Unreachable {
        server: server.clone(),
        error: e.to_string(),
    })?;
    match tokio::time::timeout(timeout, client.apiserver_version()).await {
        Ok(Ok(_)) => {}
        Ok(Err(kube::Error::Api(s))) if s.code == 404 || s.code == 403 || s.code == 401 => {
            // The server answered; /version is just not open to us.
            if s.code == 401 {
                return Err(ConnectError::Unreachable {
                    server,
                    error: format!("unauthorized: {}", s.message),
                });
            }
        }
        Ok(Err(e)) => {
            return Err(ConnectError::Unreachable {
                server,
                error: e.to_string(),
            });
        }
        Err(_) => {
            return Err(ConnectError::Unreachable {
                server,
                error: format!("no answer within {}s", timeout.as_secs()),
            });
        }
    }
    Ok(Connected {
        client,
        context,
        server,
        scope,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KC: &str = r#"
apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:6443"}
users:
- name: u
  user: {token: "t"}
contexts:
- name: a
  context: {cluster: c, user: u}
- name: b
  context: {cluster: c, user: u, namespace: shop}
"#;

    #[test]
    fn missing_files_in_kubeconfig_are_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        std::fs::write(&real, KC).unwrap();
        let env = format!(
            "{}:{}",
            tmp.path().join("missing").display(),
            real.display()
        );
        assert_eq!(kubeconfig_paths(None, Some(&env), None), vec![real.clone()]);
        let explicit = tmp.path().join("x");
        assert_eq!(
            kubeconfig_paths(Some(&explicit), Some(&env), None),
            vec![explicit]
        );
        assert!(kubeconfig_paths(None, Some("/nope"), Some(tmp.path())).is_empty());
    }

    #[test]
    fn contexts_and_scopes() {
        let kc = Kubeconfig::from_yaml(KC).unwrap();
        let opts = KubeOptions::default();
        assert_eq!(
            resolve_context(&kc, &opts, "f").unwrap(),
            (Some("a".into()), Scope::All)
        );
        let opts = KubeOptions {
            context: Some("b".into()),
            ..KubeOptions::default()
        };
        assert_eq!(
            resolve_context(&kc, &opts, "f").unwrap().1,
            Scope::Namespace("shop".into())
        );
        let opts = KubeOptions {
            context: Some("b".into()),
            all_namespaces: true,
            ..KubeOptions::default()
        };
        assert_eq!(resolve_context(&kc, &opts, "f").unwrap().1, Scope::All);
        let opts = KubeOptions {
            namespace: Some("x".into()),
            ..KubeOptions::default()
        };
        assert_eq!(
            resolve_context(&kc, &opts, "f").unwrap().1,
            Scope::Namespace("x".into())
        );
        let opts = KubeOptions {
            context: Some("zz".into()),
            ..KubeOptions::default()
        };
        let err = resolve_context(&kc, &opts, "f").unwrap_err();
        assert_eq!(err.exit_code(), 3);
        let msg = err.to_string();
        assert!(msg.contains("'zz'") && msg.contains("a, b"), "{msg}");
    }

    #[tokio::test]
    async fn https_kubeconfig_builds_a_client_with_one_crypto_provider() {
        install_crypto_provider();
        let kc = Kubeconfig::from_yaml(KC).unwrap();
        let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
            .await
            .unwrap();
        assert_eq!(config.cluster_url.scheme_str(), Some("https"));
        // Would panic with two rustls providers and none installed.
        let client = kube::Client::try_from(config);
        assert!(client.is_ok());
        // reqwest too.
        assert!(reqwest::Client::builder().build().is_ok());
    }

    #[tokio::test]
    async fn unreachable_server_exits_4_within_the_timeout() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("kc");
        // A port nothing listens on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        std::fs::write(
            &path,
            KC.replace(
                "https://127.0.0.1:6443",
                &format!("http://127.0.0.1:{port}"),
            ),
        )
        .unwrap();
        let opts = KubeOptions {
            kubeconfig: Some(path),
            timeout: Some(Duration::from_secs(2)),
            ..KubeOptions::default()
        };
        let start = std::time::Instant::now();
        let err = connect(&opts).await.err().unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(err.exit_code(), 4);
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }
}
