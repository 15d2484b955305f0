//! The pod proxy subresource:
//! `GET /api/v1/namespaces/{ns}/pods/{[scheme:]name[:port]}/proxy/{path}`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::status;
use super::store::{ObjKey, ObjectStore};

/// What the simulated pod answers to a proxied GET.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PodProxyResponse {
    /// 200 with this content type and body.
    Ok {
        /// E.g. `text/plain; version=0.0.4; charset=utf-8`.
        content_type: String,
        /// The response body.
        body: Bytes,
    },
    /// The pod answers with this HTTP status and plain-text body; the API
    /// server passes it through unchanged, as the real proxy does.
    Status(u16, String),
    /// The pod cannot be reached: 503 `Status` object
    /// (`error trying to reach service: <reason>`), as the real server answers.
    /// Note: kube-rs's default client retries 503/504/429 with backoff
    /// (`Config::default_retry`).
    Unreachable(String),
    /// The pod never answers: the request stays open until the client gives
    /// up (bounded by `ApiServerConfig::proxy_hang`, then 504 `Status`,
    /// as the real server's request-timeout filter answers).
    Timeout,
    /// 200 `text/plain; version=0.0.4` carrying these bytes (not a valid exposition).
    Garbage(Bytes),
    /// 200 with this content type; sends the first half of the body, then
    /// breaks the connection mid-body.
    Truncated {
        /// Declared content type.
        content_type: String,
        /// The full body, of which only the first half is sent.
        body: Bytes,
    },
}

/// The simulated pods behind the API server's pod proxy.
pub trait PodProxy: Send + Sync + 'static {
    /// Answer `GET /api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy/{path}`.
    /// `path` has no leading slash and carries the query, if any
    /// (`stats/prometheus?usedonly`). Called only for pods in the store.
    fn get(&self, namespace: &str, pod: &str, port: u16, path: &str) -> PodProxyResponse;
}

/// Split `[scheme:]name[:port]`.
fn split_target(target: &str) -> (&str, Option<&str>) {
    let parts: Vec<&str> = target.split(':').collect();
    match parts.as_slice() {
        [name] => (name, None),
        [scheme, name] if matches!(*scheme, "http" | "https") => (name, None),
        [name, port] => (name, Some(port)),
        [_, name, port] => (name, Some(port)),
        _ => (target, None),
    }
}

/// Resolve the port: a number, a named container port, or the first container port (80 if none).
fn resolve_port(pod: &Value, port: Option<&str>) -> Result<u16, String> {
    let ports: Vec<&Value> = pod
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .flat_map(|c| {
            c.get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .collect();
    let number = |p: &Value| {
        p.get("containerPort")
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
    };
    match port {
        None | Some("") => Ok(ports.first().and_then(|p| number(p)).unwrap_or(80)),
        Some(p) => match p.parse::<u16>() {
            Ok(n) => Ok(n),
            Err(_) => ports
                .iter()
                .find(|c| c.get("name").and_then(Value::as_str) == Some(p))
                .and_then(|c| number(c))
                .ok_or_else(|| format!("no port named {p:?} in the pod's containers")),
        },
    }
}

fn unavailable(reason: &str) -> Response {
    status::status_response(
        503,
        "ServiceUnavailable",
        &format!("error trying to reach service: {reason}"),
        json!({}),
    )
}

fn with_body(code: u16, content_type: &str, body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
    let ct = HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("text/plain"));
    resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    resp
}

/// Serve one pod proxy request.
pub(crate) async fn serve(
    store: &ObjectStore,
    proxy: Arc<dyn PodProxy>,
    hang: Duration,
    cancel: CancellationToken,
    namespace: &str,
    target: &str,
    path: String,
) -> Response {
    let (name, port) = split_target(target);
    let key = ObjKey {
        group: String::new(),
        kind: "Pod".into(),
        namespace: namespace.to_string(),
        name: name.to_string(),
    };
    let Some(pod) = store.lock().objects.get(&key).cloned() else {
        return status::not_found_object("", "pods", name);
    };
    let port = match resolve_port(&pod, port) {
        Ok(p) => p,
        Err(reason) => return unavailable(&reason),
    };
    let (ns, pod_name) = (namespace.to_string(), name.to_string());
    let answer = tokio::task::spawn_blocking(move || proxy.get(&ns, &pod_name, port, &path)).await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => return unavailable(&format!("the simulated pod failed: {e}")),
    };
    match answer {
        PodProxyResponse::Ok { content_type, body } => {
            with_body(200, &content_type, Body::from(body))
        }
        PodProxyResponse::Status(code, body) => {
            with_body(code, "text/plain; charset=utf-8", Body::from(body))
        }
        PodProxyResponse::Unreachable(reason) => unavailable(&reason),
        PodProxyResponse::Garbage(body) => {
            with_body(200, "text/plain; version=0.0.4", Body::from(body))
        }
        PodProxyResponse::Timeout => {
            tokio::select! {
                _ = tokio::time::sleep(hang) => {}
                _ = cancel.cancelled() => {}
            }
            // What the real server's request-timeout filter answers.
            status::status_response(
                504,
                "Timeout",
                "Timeout: request did not complete within the allotted timeout",
                json!({}),
            )
        }
        PodProxyResponse::Truncated { content_type, body } => {
            // Send the first half, let it reach the client, then fail the body
            // so the connection is cut mid-response.
            let half = body.slice(..body.len() / 2);
            let stream = futures::stream::unfold(Some(Some(half)), |state| async move {
                match state? {
                    Some(chunk) => Some((Ok(chunk), Some(None))),
                    None => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        let cut = std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "simulated pod connection reset",
                        );
                        Some((Err::<Bytes, _>(cut), None))
                    }
                }
            });
            with_body(200, &content_type, Body::from_stream(stream))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_and_ports() {
        assert_eq!(split_target("p:15090"), ("p", Some("15090")));
        assert_eq!(split_target("https:p:443"), ("p", Some("443")));
        assert_eq!(split_target("p"), ("p", None));
        let pod = json!({"spec": {"containers": [{"ports": [{"name": "http-envoy-prom", "containerPort": 15090}]}]}});
        assert_eq!(resolve_port(&pod, None), Ok(15090));
        assert_eq!(resolve_port(&pod, Some("http-envoy-prom")), Ok(15090));
        assert_eq!(resolve_port(&pod, Some("9090")), Ok(9090));
        assert!(resolve_port(&pod, Some("nope")).is_err_and(|e| e.contains("nope")));
        assert_eq!(resolve_port(&json!({}), None), Ok(80));
    }
}
