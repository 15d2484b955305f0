//! `Status` objects and JSON responses, shaped like the real API server's.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

/// A `Status` object (`kind: Status`, `status: Failure`).
pub(crate) fn status_object(code: u16, reason: &str, message: &str, details: Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    })
}

/// A JSON response with `Content-Type: application/json`.
pub(crate) fn json_response(code: u16, body: &Value) -> Response {
    json_response_typed(code, body, "application/json")
}

/// A JSON response with the given content type.
pub(crate) fn json_response_typed(code: u16, body: &Value, content_type: &str) -> Response {
    bytes_response(code, body.to_string().into_bytes(), content_type)
}

/// A response of JSON bytes already written.
pub(crate) fn bytes_response(code: u16, body: Vec<u8>, content_type: &str) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    let ct =
        HeaderValue::from_str(content_type).unwrap_or(HeaderValue::from_static("application/json"));
    resp.headers_mut().insert(header::CONTENT_TYPE, ct);
    resp
}

/// A `Status` failure response.
pub(crate) fn status_response(code: u16, reason: &str, message: &str, details: Value) -> Response {
    json_response(code, &status_object(code, reason, message, details))
}

/// 404 for a path that maps to no resource.
pub(crate) fn not_found_path() -> Response {
    status_response(
        404,
        "NotFound",
        "the server could not find the requested resource",
        json!({}),
    )
}

/// 404 for a missing object: `pods "x" not found`.
pub(crate) fn not_found_object(group: &str, plural: &str, name: &str) -> Response {
    let resource = qualified(group, plural);
    status_response(
        404,
        "NotFound",
        &format!("{resource} \"{name}\" not found"),
        json!({ "name": name, "group": group, "kind": plural }),
    )
}

/// 405 for any write verb.
pub(crate) fn method_not_allowed() -> Response {
    status_response(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        json!({}),
    )
}

/// 400 with a message naming the bad input.
pub(crate) fn bad_request(message: &str) -> Response {
    status_response(400, "BadRequest", message, json!({}))
}

/// 410 Gone as a `Status` object (used in watch ERROR events and responses).
pub(crate) fn gone_object(requested: u64, current: u64) -> Value {
    status_object(
        410,
        "Expired",
        &format!("too old resource version: {requested} ({current})"),
        json!({}),
    )
}

/// `pods` or `deployments.apps`, as the real server names resources in messages.
fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

/// What a forbidden request tried to do, for the 403 message.
pub(crate) struct Denied<'a> {
    pub user: &'a str,
    pub verb: &'a str,
    pub group: &'a str,
    /// Plural, possibly with a subresource (`pods/proxy`).
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

/// 403 Forbidden with the real server's message shape, e.g.
/// `pods is forbidden: User "u" cannot list resource "pods" in API group "" at the cluster scope`.
pub(crate) fn forbidden(d: &Denied<'_>) -> Response {
    let base = d.resource.split('/').next().unwrap_or(d.resource);
    let subject = match d.name {
        Some(n) => format!("{} \"{n}\"", qualified(d.group, base)),
        None => qualified(d.group, base),
    };
    let scope = match d.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    let message = format!(
        "{subject} is forbidden: User \"{}\" cannot {} resource \"{}\" in API group \"{}\" {scope}",
        d.user, d.verb, d.resource, d.group
    );
    let mut details = json!({ "group": d.group, "kind": base });
    if let (Some(name), Some(map)) = (d.name, details.as_object_mut()) {
        map.insert("name".into(), Value::String(name.to_string()));
    }
    status_response(403, "Forbidden", &message, details)
}
