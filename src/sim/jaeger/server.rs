//! The simulated Jaeger query service on loopback: api_v3 (OTLP JSON),
//! the UI-model `/api/traces/{id}` and `/api/dependencies`. The v1 search
//! endpoints Jaeger removed (`/api/services`, `/api/traces?service=`…)
//! answer 404 like a current Jaeger.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::handlers;
use super::traces::Tracer;
use crate::sim::scenario::Scenario;

/// Sunset announced for the deprecated snake_case api_v3 parameters.
const SUNSET: &str = "Mon, 01 Nov 2026 00:00:00 GMT";
const MIGRATION: &str = "<https://github.com/jaegertracing/jaeger/blob/main/docs/apis/api_v3_http.md>; rel=\"deprecation\"";

/// State shared by the handlers.
pub(crate) struct Ctx {
    pub(crate) tracer: Tracer,
    clock: Box<dyn Fn() -> u64 + Send + Sync>,
}

impl Ctx {
    /// Milliseconds since the scenario epoch, now.
    pub(crate) fn now_ms(&self) -> u64 {
        (self.clock)()
    }
}

/// A handler's answer before it becomes an HTTP response.
pub(crate) enum Reply {
    /// 200 with a JSON body (already serialized, fields in declaration order).
    Json(String),
    /// An api_v3 gateway error: `{"error":{"httpCode","message"}}`.
    V3Error(StatusCode, String),
    /// A v1 envelope error: `{"data":null,…,"errors":[{"code","msg"}]}`.
    V1Error(StatusCode, String),
}

/// A reply plus the deprecated parameter names the request used.
pub(crate) struct Answer {
    pub(crate) reply: Reply,
    pub(crate) deprecated: Vec<String>,
}

impl From<Reply> for Answer {
    fn from(reply: Reply) -> Self {
        Answer {
            reply,
            deprecated: Vec::new(),
        }
    }
}

/// Serialize to JSON text (never fails for our plain data types).
pub(crate) fn to_json(v: &impl Serialize) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|e| format!("{{\"error\":{{\"message\":{:?}}}}}", e.to_string()))
}

/// Go's `http.Error`: text/plain, nosniff, body plus a newline.
fn go_error(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("{body}\n"),
    )
        .into_response()
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut resp = match self.reply {
            Reply::Json(v) => {
                ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
            }
            Reply::V3Error(status, message) => {
                let body = json!({"error": {"httpCode": status.as_u16(), "message": message}});
                go_error(status, body.to_string())
            }
            Reply::V1Error(status, message) => {
                let body = to_json(&super::uimodel::error_envelope(status.as_u16(), &message));
                go_error(status, body)
            }
        };
        if !self.deprecated.is_empty() {
            let h = resp.headers_mut();
            h.insert("deprecation", HeaderValue::from_static("true"));
            h.insert("sunset", HeaderValue::from_static(SUNSET));
            h.insert(header::LINK, HeaderValue::from_static(MIGRATION));
            if let Ok(v) = HeaderValue::from_str(&self.deprecated.join(",")) {
                h.insert("deprecated-params", v);
            }
        }
        resp
    }
}

type Pairs = Query<Vec<(String, String)>>;
type St = State<Arc<Ctx>>;

/// Run a handler on the blocking pool (trace generation is CPU work).
async fn blocking(ctx: Arc<Ctx>, f: impl FnOnce(&Ctx) -> Answer + Send + 'static) -> Answer {
    match tokio::task::spawn_blocking(move || f(&ctx)).await {
        Ok(a) => a,
        Err(e) => Reply::V3Error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into(),
    }
}

async fn services(State(ctx): St) -> Answer {
    handlers::services(&ctx)
}

async fn operations(State(ctx): St, Query(q): Pairs) -> Answer {
    handlers::operations(&ctx, q)
}

async fn find_traces(State(ctx): St, Query(q): Pairs) -> Answer {
    blocking(ctx, move |c| handlers::find_traces(c, q)).await
}

async fn get_trace_v3(State(ctx): St, Path(id): Path<String>, Query(q): Pairs) -> Answer {
    blocking(ctx, move |c| handlers::get_trace_v3(c, &id, q)).await
}

async fn get_trace_ui(State(ctx): St, Path(id): Path<String>, Query(q): Pairs) -> Answer {
    blocking(ctx, move |c| handlers::get_trace_ui(c, &id, q)).await
}

async fn dependencies(State(ctx): St, Query(q): Pairs) -> Answer {
    blocking(ctx, move |c| handlers::dependencies(c, q)).await
}

async fn not_found() -> Response {
    go_error(StatusCode::NOT_FOUND, "404 page not found".to_string())
}

/// A running simulated Jaeger query service. Dropping it stops serving;
/// prefer [`JaegerServer::shutdown`] to wait for that.
pub struct JaegerServer {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl JaegerServer {
    /// Bind a free port on 127.0.0.1 and serve `scenario`'s traces;
    /// `clock` gives the current time in ms since the scenario epoch
    /// (traces exist up to that time).
    pub async fn start(
        scenario: Arc<Scenario>,
        clock: impl Fn() -> u64 + Send + Sync + 'static,
    ) -> std::io::Result<JaegerServer> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let ctx = Arc::new(Ctx {
            tracer: Tracer::new(scenario),
            clock: Box::new(clock),
        });
        let app = Router::new()
            .route("/api/v3/services", get(services))
            .route("/api/v3/operations", get(operations))
            .route("/api/v3/traces", get(find_traces))
            .route("/api/v3/traces/{trace_id}", get(get_trace_v3))
            .route("/api/traces/{trace_id}", get(get_trace_ui))
            .route("/api/dependencies", get(dependencies))
            .fallback(not_found)
            .with_state(ctx);
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(token.cancelled_owned())
                .await
        });
        Ok(JaegerServer {
            addr,
            shutdown,
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop serving and wait (at most 5 s) for the server task.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
        {
            task.abort();
        }
    }
}

impl Drop for JaegerServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[cfg(test)]
pub(crate) fn test_ctx(scenario: Arc<Scenario>, now_ms: u64) -> Ctx {
    Ctx {
        tracer: Tracer::new(scenario),
        clock: Box::new(move || now_ms),
    }
}
