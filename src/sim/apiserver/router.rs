//! Request routing: logs every request, maps paths to discovery, list, get,
//! watch and pod proxy, and enforces the read-only and forbidden rules.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, Uri, header};
use axum::response::Response;
use serde_json::json;

use super::discovery;
use super::list::{self, Query};
use super::proxy;
use super::resources::Catalog;
use super::selector::{Filter, Selector};
use super::status::{self, Denied};
use super::watch::{self, WatchEnv};
use super::{Ctx, LoggedRequest};

/// The single handler behind every path.
pub(crate) async fn dispatch(
    State(ctx): State<Arc<Ctx>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    ctx.log(LoggedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
    });
    if method != Method::GET && method != Method::HEAD {
        return status::method_not_allowed();
    }
    let q = match axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri) {
        Ok(axum::extract::Query(pairs)) => Query { pairs },
        Err(e) => {
            return status::bad_request(&format!(
                "invalid query string {:?}: {e}",
                uri.query().unwrap_or_default()
            ));
        }
    };
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let aggregated = discovery::wants_aggregated(accept);
    let segs: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let catalog = || Catalog::build(&ctx.store.lock());
    let ok = |v: serde_json::Value| status::json_response(200, &v);
    let agg = |v: serde_json::Value| {
        status::json_response_typed(200, &v, discovery::AGGREGATED_CONTENT_TYPE)
    };
    match segs.as_slice() {
        [] => ok(
            json!({"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]}),
        ),
        ["version"] => ok(discovery::version_info(&ctx.config.git_version)),
        ["healthz" | "livez" | "readyz"] => {
            status::json_response_typed(200, &json!("ok"), "text/plain")
        }
        ["api"] if aggregated => agg(discovery::aggregated(&catalog(), true)),
        ["api"] => ok(discovery::api_versions()),
        ["apis"] if aggregated => agg(discovery::aggregated(&catalog(), false)),
        ["apis"] => ok(discovery::api_group_list(&catalog())),
        ["api", "v1"] => discovery::api_resource_list(&catalog(), "", "v1")
            .map_or_else(status::not_found_path, ok),
        ["apis", g] => discovery::api_group(&catalog(), g).map_or_else(status::not_found_path, ok),
        ["apis", g, v] => {
            discovery::api_resource_list(&catalog(), g, v).map_or_else(status::not_found_path, ok)
        }
        ["api", "v1", rest @ ..] => resource(&ctx, "", "v1", rest, &q, &uri).await,
        ["apis", g, v, rest @ ..] => resource(&ctx, g, v, rest, &q, &uri).await,
        _ => status::not_found_path(),
    }
}

/// Requests under a group/version: list, get, watch, pod proxy.
async fn resource(
    ctx: &Arc<Ctx>,
    group: &str,
    version: &str,
    rest: &[&str],
    q: &Query,
    uri: &Uri,
) -> Response {
    let (legacy_watch, rest) = match rest {
        ["watch", tail @ ..] => (true, tail),
        _ => (false, rest),
    };
    let (namespace, plural, tail): (Option<&str>, &str, &[&str]) = match rest {
        ["namespaces", ns, res, tail @ ..] => (Some(*ns), *res, tail),
        [res, tail @ ..] => (None, *res, tail),
        [] => return status::not_found_path(),
    };
    let name = tail.first().copied();
    let watching = legacy_watch || q.flag("watch");
    let verb = match (name, watching) {
        (_, true) => "watch",
        (Some(_), false) => "get",
        (None, false) => "list",
    };
    let sub = tail.get(1).copied();
    let resource_name = match sub {
        Some(s) => format!("{plural}/{s}"),
        None => plural.to_string(),
    };
    let denied = Denied {
        user: &ctx.config.user,
        verb,
        group,
        resource: &resource_name,
        namespace,
        name,
    };
    // Secrets are never served: the simulated user may not read them.
    if group.is_empty() && plural == "secrets" {
        return status::forbidden(&denied);
    }
    let catalog = Catalog::build(&ctx.store.lock());
    let Some(def) = catalog.find(group, version, plural).cloned() else {
        return status::not_found_path();
    };
    if (namespace.is_some() && !def.namespaced)
        || (namespace.is_none() && def.namespaced && name.is_some())
    {
        return status::not_found_path();
    }
    if ctx
        .config
        .forbidden
        .iter()
        .any(|r| r.matches(&resource_name, namespace, verb))
    {
        return status::forbidden(&denied);
    }
    match (name, sub) {
        (Some(target), Some("proxy"))
            if def.group.is_empty() && def.plural == "pods" && !watching =>
        {
            let Some(ns) = namespace else {
                return status::not_found_path();
            };
            let mut path = tail.get(2..).unwrap_or_default().join("/");
            if let Some(query) = uri.query().filter(|q| !q.is_empty()) {
                path = format!("{path}?{query}");
            }
            let cancel = ctx.shutdown.child_token();
            proxy::serve(
                &ctx.store,
                ctx.proxy.clone(),
                ctx.config.proxy_hang,
                cancel,
                ns,
                target,
                path,
            )
            .await
        }
        (Some(n), Some("status")) if !watching => list::get(&ctx.store, &def, namespace, n),
        (_, Some(_)) => status::not_found_path(),
        (_, None) => {
            let labels = Selector::labels(q.get("labelSelector").unwrap_or_default());
            let mut field_sel = q.get("fieldSelector").unwrap_or_default().to_string();
            if let (Some(n), true) = (name, watching) {
                let by_name = format!("metadata.name={n}");
                field_sel = if field_sel.is_empty() {
                    by_name
                } else {
                    format!("{field_sel},{by_name}")
                };
            }
            let fields = Selector::fields(&field_sel);
            let (labels, fields) = match (labels, fields) {
                (Ok(l), Ok(f)) => (l, f),
                (Err(e), _) | (_, Err(e)) => return status::bad_request(&e.to_string()),
            };
            let filter = Filter {
                labels,
                fields,
                namespace: namespace.map(str::to_string),
            };
            match (name, watching) {
                (_, true) => {
                    let env = WatchEnv {
                        store: ctx.store.clone(),
                        cancel: ctx.watch_token(),
                        bookmark_interval: ctx.config.bookmark_interval,
                        max_timeout: ctx.config.watch_timeout,
                    };
                    watch::watch(env, def, filter, q)
                }
                (Some(n), false) => list::get(&ctx.store, &def, namespace, n),
                (None, false) => list::list(&ctx.store, &def, &filter, q),
            }
        }
    }
}
