//! `pods/{name}/portforward` over WebSocket, as the real API server serves
//! it to kubectl and kube-rs: subprotocol `v4.channel.k8s.io`, one data and
//! one error channel per port (`2i`, `2i+1`), each opened by a frame holding
//! the port number (little endian), then every message prefixed by its
//! channel byte. The simulated pod's port is a loopback address given in
//! [`super::ApiServerConfig::port_forwards`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{Method, Uri};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::status::{self, Denied};
use super::{Ctx, LoggedRequest};

/// The subprotocols served.
const PROTOCOLS: [&str; 1] = ["v4.channel.k8s.io"];

/// `GET /api/v1/namespaces/{ns}/pods/{pod}/portforward?ports=N` with an upgrade.
pub(crate) async fn handle(
    State(ctx): State<Arc<Ctx>>,
    Path((ns, pod)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    upgrade: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    ctx.log(LoggedRequest {
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().unwrap_or_default().to_string(),
    });
    let denied = Denied {
        user: &ctx.config.user,
        verb: "get",
        group: "",
        resource: "pods/portforward",
        namespace: Some(&ns),
        name: Some(&pod),
    };
    if ctx
        .config
        .forbidden
        .iter()
        .any(|r| r.matches("pods/portforward", Some(&ns), "get"))
    {
        return status::forbidden(&denied);
    }
    let exists = ctx.store.objects().iter().any(|o| {
        o["kind"] == "Pod" && o["metadata"]["namespace"] == *ns && o["metadata"]["name"] == *pod
    });
    if !exists {
        return status::not_found_object("", "pods", &pod);
    }
    let pairs = axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|q| q.0)
        .unwrap_or_default();
    let ports: Vec<u16> = pairs
        .iter()
        .filter(|(k, _)| k == "ports")
        .flat_map(|(_, v)| v.split(','))
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let [port] = ports.as_slice() else {
        return status::bad_request(&format!(
            "the simulated API server forwards exactly one port; got {ports:?}"
        ));
    };
    let target = ctx
        .port_forwards
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(ns.clone(), pod.clone(), *port))
        .copied();
    let Ok(upgrade) = upgrade else {
        return status::bad_request("Upgrade request required");
    };
    let port = *port;
    upgrade
        .protocols(PROTOCOLS)
        .on_upgrade(move |socket| forward(socket, port, target))
        .into_response()
}

/// Pump bytes between the WebSocket and the pod's port.
async fn forward(socket: WebSocket, port: u16, target: Option<SocketAddr>) {
    let (mut tx, mut rx) = socket.split();
    let [lo, hi] = port.to_le_bytes();
    for ch in [0u8, 1] {
        if tx
            .send(Message::Binary(vec![ch, lo, hi].into()))
            .await
            .is_err()
        {
            return;
        }
    }
    let conn = match target {
        Some(addr) => tokio::net::TcpStream::connect(addr).await.ok(),
        None => None,
    };
    let Some(conn) = conn else {
        let msg = format!(
            "error forwarding port {port} to pod: dial tcp 127.0.0.1:{port}: connect: connection refused"
        );
        let mut frame = vec![1u8];
        frame.extend(msg.as_bytes());
        let _ = tx.send(Message::Binary(frame.into())).await;
        let _ = tx.send(Message::Close(None)).await;
        return;
    };
    let (mut from_pod, mut to_pod) = conn.into_split();
    let up = async {
        while let Some(Ok(msg)) = rx.next().await {
            match msg {
                Message::Binary(b) if b.len() > 1 && b[0] == 0 => {
                    let written = to_pod.write_all(&b[1..]).await;
                    if written.is_err() {
                        break;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = to_pod.shutdown().await;
    };
    let down = async {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match from_pod.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let mut frame = Vec::with_capacity(n + 1);
                    frame.push(0u8);
                    frame.extend_from_slice(&buf[..n]);
                    if tx.send(Message::Binary(frame.into())).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = tx.send(Message::Close(None)).await;
    };
    // The pod closing its side ends the forward; the client closing its
    // side is only a half-close (v4 has no close signal per stream).
    tokio::select! {
        () = down => {}
        () = async { up.await; std::future::pending::<()>().await } => {}
    }
}
