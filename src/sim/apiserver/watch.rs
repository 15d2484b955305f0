//! Watch streams: newline-delimited JSON events over a chunked response,
//! resumable from a resourceVersion, with bookmarks, streaming lists
//! (`sendInitialEvents`), 410 Gone after compaction and timeouts.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::list::{Query, served_as};
use super::resources::ResourceDef;
use super::selector::Filter;
use super::status;
use super::store::{EventKind, ObjectStore, StoreEvent};

/// What a watch stream needs besides the request.
pub(crate) struct WatchEnv {
    pub store: ObjectStore,
    /// Cancelled by `drop_watches()` or shutdown.
    pub cancel: CancellationToken,
    pub bookmark_interval: Duration,
    pub max_timeout: Duration,
}

fn line(kind: &str, object: &Value) -> Bytes {
    let mut s = json!({"type": kind, "object": object}).to_string();
    s.push('\n');
    Bytes::from(s)
}

fn bookmark(def: &ResourceDef, rv: u64, initial_end: bool) -> Bytes {
    let mut meta = json!({"resourceVersion": rv.to_string(), "creationTimestamp": null});
    if initial_end && let Some(m) = meta.as_object_mut() {
        m.insert(
            "annotations".into(),
            json!({"k8s.io/initial-events-end": "true"}),
        );
    }
    line(
        "BOOKMARK",
        &json!({"kind": def.kind, "apiVersion": def.api_version(), "metadata": meta}),
    )
}

/// The event a watcher of `def` filtered by `filter` sees for a store change, if any.
/// An object leaving the selection is DELETED, one entering it ADDED, as the real server does.
fn translate(ev: &StoreEvent, def: &ResourceDef, filter: &Filter) -> Option<Bytes> {
    if ev.key.group != def.group || ev.key.kind != def.kind {
        return None;
    }
    let now = filter.matches(&ev.object);
    let before = ev.prev.as_ref().is_some_and(|p| filter.matches(p));
    let kind = match ev.kind {
        EventKind::Added => now.then_some("ADDED")?,
        EventKind::Deleted => (now || before).then_some("DELETED")?,
        EventKind::Modified => match (before, now) {
            (true, true) => "MODIFIED",
            (false, true) => "ADDED",
            (true, false) => "DELETED",
            (false, false) => return None,
        },
    };
    Some(line(kind, &served_as(&ev.object, def)))
}

/// Start a watch; the response streams until timeout, client disconnect,
/// `drop_watches()` or shutdown.
pub(crate) fn watch(env: WatchEnv, def: ResourceDef, filter: Filter, q: &Query) -> Response {
    let rv_param = q.get("resourceVersion").unwrap_or_default();
    let from: Option<u64> = match rv_param {
        "" | "0" => None,
        s => match s.parse() {
            Ok(n) => Some(n),
            Err(_) => {
                return status::bad_request(&format!(
                    "invalid resourceVersion {s:?}: not a number"
                ));
            }
        },
    };
    let timeout = match q.get("timeoutSeconds").filter(|t| !t.is_empty()) {
        None => env.max_timeout,
        Some(t) => match t.parse::<u64>() {
            Ok(secs) => Duration::from_secs(secs).min(env.max_timeout),
            Err(_) => {
                return status::bad_request(&format!("invalid timeoutSeconds {t:?}: not a number"));
            }
        },
    };
    let bookmarks = q.flag("allowWatchBookmarks");
    let send_initial = q.flag("sendInitialEvents");

    // Snapshot and subscribe under one lock, so no event falls in between.
    let mut initial: Vec<Bytes> = Vec::new();
    let (mut rx, start_rv, gone) = {
        let st = env.store.lock();
        let rx = env.store.subscribe();
        match from {
            Some(asked) if asked < st.compacted => {
                initial.push(line("ERROR", &status::gone_object(asked, st.compacted)));
                (rx, st.rv, true)
            }
            Some(asked) => {
                initial.extend(
                    st.history
                        .iter()
                        .filter(|e| e.rv > asked)
                        .filter_map(|e| translate(e, &def, &filter)),
                );
                if send_initial {
                    initial.push(bookmark(&def, st.rv, true));
                }
                (rx, st.rv, false)
            }
            None => {
                initial.extend(
                    st.objects
                        .iter()
                        .filter(|(k, o)| {
                            k.group == def.group && k.kind == def.kind && filter.matches(o)
                        })
                        .map(|(_, o)| line("ADDED", &served_as(o, &def))),
                );
                if send_initial {
                    initial.push(bookmark(&def, st.rv, true));
                }
                (rx, st.rv, false)
            }
        }
    };

    let (tx, body_rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(async move {
        for chunk in initial {
            if tx.send(chunk).await.is_err() {
                return;
            }
        }
        if gone {
            return;
        }
        let mut last_rv = start_rv;
        let deadline = tokio::time::sleep(timeout);
        tokio::pin!(deadline);
        let period = env.bookmark_interval.max(Duration::from_millis(10));
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            let chunk = tokio::select! {
                biased;
                _ = env.cancel.cancelled() => break,
                _ = &mut deadline => break,
                _ = tx.closed() => break,
                ev = rx.recv() => match ev {
                    Ok(ev) => {
                        last_rv = last_rv.max(ev.rv);
                        match translate(&ev, &def, &filter) {
                            Some(chunk) => chunk,
                            None => continue,
                        }
                    }
                    // Lagging or closed: end the stream, the client resumes from its last version.
                    Err(broadcast::error::RecvError::Lagged(_) | broadcast::error::RecvError::Closed) => break,
                },
                _ = tick.tick(), if bookmarks => bookmark(&def, last_rv, false),
            };
            if tx.send(chunk).await.is_err() {
                break;
            }
        }
    });

    let stream = futures::stream::unfold(body_rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<Bytes, Infallible>(b), rx))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
