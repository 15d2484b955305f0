//! Linkerd callers by identity, for the focused collection: a Linkerd
//! proxy's inbound series name a meshed caller only by its mTLS identity
//! (`client_id="SA.NS.serviceaccount.identity.linkerd.cluster.local"`), and
//! the dialect counts that traffic from the caller's outbound side. So the
//! focus reads the identities from the scrape body and maps each to the
//! workloads whose pods run as that service account.

use std::collections::BTreeSet;

use crate::model::inventory::Inventory;

/// The `client_id` values of a Linkerd scrape's inbound request series.
pub fn inbound_client_ids(body: &[u8]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in body.split(|b| *b == b'\n') {
        if !(line.starts_with(b"request_total{") || line.starts_with(b"response_total{")) {
            continue;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            continue;
        };
        if !text.contains("direction=\"inbound\"") {
            continue;
        }
        if let Some(rest) = text.split("client_id=\"").nth(1)
            && let Some((id, _)) = rest.split_once('"')
            && !id.is_empty()
        {
            out.insert(id.to_string());
        }
    }
    out
}

/// The workloads (`ns/name`) whose pods run as the service account a
/// Linkerd identity names (`SA.NS.serviceaccount.identity…`).
pub fn workloads_of_identity(inv: &Inventory, id: &str) -> BTreeSet<String> {
    let mut parts = id.split('.');
    let (Some(sa), Some(ns), Some("serviceaccount")) = (parts.next(), parts.next(), parts.next())
    else {
        return BTreeSet::new();
    };
    inv.pods
        .iter()
        .filter(|p| p.namespace == ns && p.service_account.as_deref() == Some(sa))
        .map(|p| p.workload.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inbound_client_ids_only() {
        let body = b"# TYPE request_total counter\n\
request_total{direction=\"inbound\",tls=\"true\",client_id=\"web.emojivoto.serviceaccount.identity.linkerd.cluster.local\"} 3\n\
request_total{direction=\"outbound\",tls=\"true\",client_id=\"x.y.serviceaccount.identity.linkerd.cluster.local\"} 3\n\
response_total{direction=\"inbound\",tls=\"no_identity\",client_id=\"\"} 1\n\
route_request_total{direction=\"inbound\",client_id=\"z.y.serviceaccount.identity.linkerd.cluster.local\"} 1\n";
        let ids = inbound_client_ids(body);
        assert_eq!(
            ids.into_iter().collect::<Vec<_>>(),
            vec!["web.emojivoto.serviceaccount.identity.linkerd.cluster.local".to_string()]
        );
    }
}
