//! Linkerd's emojivoto demo (names, service accounts, labels and ports as in
//! `run.linkerd.io/emojivoto.yml`), with a web canary, the demo's real bug
//! (voting for :doughnut: fails with gRPC Unknown, web answers 500) and the
//! planted imperfections.

use serde_json::{Value, json};

use super::{Builder, grpc_err, http_err};
use crate::sim::scenario::{MeshKind, Protocol, Scenario};

const IMG: &str = "ghcr.io/buoyantio/emojivoto";
const NS: &str = "emojivoto";

/// Build the `emojivoto` scenario.
pub fn build() -> Scenario {
    let mut b = Builder::new(MeshKind::Linkerd);
    b.namespace("linkerd", false);
    b.namespace(NS, true);
    for (name, comp) in [
        ("linkerd-destination", "destination"),
        ("linkerd-identity", "identity"),
        ("linkerd-proxy-injector", "proxy-injector"),
    ] {
        b.control_plane(
            "linkerd",
            name,
            name,
            "cr.l5d.io/linkerd/controller:edge-25.1.1",
            &[
                ("linkerd.io/control-plane-component", comp),
                ("linkerd.io/control-plane-ns", "linkerd"),
            ],
        );
    }
    let part_of = |b: &mut Builder, i: usize, name: &str, version: &str| {
        let w = b.w(i);
        w.controller_labels = vec![
            ("app.kubernetes.io/name".into(), name.into()),
            ("app.kubernetes.io/part-of".into(), "emojivoto".into()),
            ("app.kubernetes.io/version".into(), version.into()),
        ];
    };
    let grpc_ports: &[(&str, u16)] = &[("grpc", 8080), ("prom", 8801)];
    let emoji = b.workload(
        NS,
        "emoji",
        "emoji-svc",
        Some("v11"),
        "emoji",
        1,
        grpc_ports,
        &format!("{IMG}-emoji-svc:v11"),
    );
    part_of(&mut b, emoji, "emoji", "v11");
    let bot = b.workload(
        NS,
        "vote-bot",
        "vote-bot",
        Some("v11"),
        "default",
        1,
        &[],
        &format!("{IMG}-web:v11"),
    );
    part_of(&mut b, bot, "vote-bot", "v11");
    let voting = b.workload(
        NS,
        "voting",
        "voting-svc",
        Some("v11"),
        "voting",
        1,
        grpc_ports,
        &format!("{IMG}-voting-svc:v11"),
    );
    part_of(&mut b, voting, "voting", "v11");
    let web = b.workload(
        NS,
        "web",
        "web-svc",
        Some("v11"),
        "web",
        1,
        &[("http", 8080)],
        &format!("{IMG}-web:v11"),
    );
    part_of(&mut b, web, "web", "v11");
    let canary = b.workload(
        NS,
        "web-canary",
        "web-svc",
        Some("v12"),
        "web",
        1,
        &[("http", 8080)],
        &format!("{IMG}-web:v12"),
    );
    part_of(&mut b, canary, "web", "v12");
    let legacy = b.workload(
        NS,
        "legacy-client",
        "legacy-client",
        None,
        "default",
        1,
        &[],
        "docker.io/fullstorydev/grpcurl:v1.9.1",
    );
    b.unmesh(legacy);

    let grpc_svc: &[(&str, u16, u16, Option<&str>)] =
        &[("grpc", 8080, 8080, None), ("prom", 8801, 8801, None)];
    let s_emoji = b.service(NS, "emoji-svc", &[("app", "emoji-svc")], grpc_svc);
    let s_voting = b.service(NS, "voting-svc", &[("app", "voting-svc")], grpc_svc);
    let s_web = b.service(
        NS,
        "web-svc",
        &[("app", "web-svc")],
        &[("http", 80, 8080, None)],
    );
    b.service(
        NS,
        "web-stable",
        &[("app", "web-svc"), ("version", "v11")],
        &[("http", 80, 8080, None)],
    );
    b.service(
        NS,
        "web-canary",
        &[("app", "web-svc"), ("version", "v12")],
        &[("http", 80, 8080, None)],
    );

    // vote-bot: /api/list then /api/vote, 2 req/s each; the TrafficSplit is
    // not honoured (no SMI extension installed), so web-svc spreads evenly.
    let to_web = b.edge(bot, s_web, Protocol::Http, 4.0, 6.0);
    b.fail(to_web, http_err(0.08, 500, "-"));
    b.policy(to_web, "web-http", "authorizationpolicy", "web-public");
    for w in [web, canary] {
        let e = b.edge(w, s_emoji, Protocol::Grpc, 2.0, 0.9);
        b.policy(e, "emoji-grpc", "authorizationpolicy", "emoji-grpc");
        let v = b.edge(w, s_voting, Protocol::Grpc, 1.0, 1.4);
        // Unknown (2): voting for :doughnut: always fails.
        b.fail(v, grpc_err(0.16, 2));
        b.policy(v, "voting-grpc", "authorizationpolicy", "voting-grpc");
    }
    let undeclared = b.edge(voting, s_emoji, Protocol::Grpc, 0.3, 0.9);
    b.policy(undeclared, "emoji-grpc", "default", "audit");
    let plain = b.edge(legacy, s_voting, Protocol::Grpc, 0.5, 1.3);
    b.policy(plain, "voting-grpc", "default", "audit");

    for obj in declared() {
        b.declare(obj);
    }
    b.plant("split_drift", "TrafficSplit/emojivoto/web-split",
        "the web-split TrafficSplit declares 900/100 for web-stable/web-canary, but traffic spreads 50/50 over web and web-canary");
    b.plant("undeclared_edge", "emojivoto/voting -> emojivoto/emoji",
        "voting calls emoji; the emoji-grpc AuthorizationPolicy only authenticates web (the Server is in audit mode, so it is let through)");
    b.plant("unobserved_edge", "emojivoto/vote-bot -> emojivoto/voting",
        "voting-clients authorizes the default service account (vote-bot) to call voting-grpc, but vote-bot never calls voting");
    b.plant("mtls_gap", "emojivoto/legacy-client -> emojivoto/voting",
        "legacy-client has no proxy and reaches voting-grpc in plaintext, although its AuthorizationPolicy requires mesh TLS");
    b.plant("failing_edge", "emojivoto/web -> emojivoto/voting",
        "16% of Vote calls fail with gRPC Unknown (voting for :doughnut:), and web answers 500 to 8% of vote-bot's requests");
    b.scale_rates(80.0);
    b.finish("emojivoto")
}

fn server(name: &str, app: &str, port: &str, proto: &str, access: &str) -> Value {
    json!({
        "apiVersion": "policy.linkerd.io/v1beta3", "kind": "Server",
        "metadata": {"name": name, "namespace": NS, "labels": {"app.kubernetes.io/part-of": "emojivoto"}},
        "spec": {"podSelector": {"matchLabels": {"app": app}}, "port": port,
                 "proxyProtocol": proto, "accessPolicy": access}
    })
}

fn authz(name: &str, server: &str, auth_kind: &str, auth_name: &str) -> Value {
    json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "AuthorizationPolicy",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"targetRef": {"group": "policy.linkerd.io", "kind": "Server", "name": server},
                 "requiredAuthenticationRefs": [{"group": "policy.linkerd.io", "kind": auth_kind, "name": auth_name}]}
    })
}

fn mtls_auth(name: &str, sas: &[&str]) -> Value {
    let refs: Vec<Value> = sas
        .iter()
        .map(|s| json!({"kind": "ServiceAccount", "name": s}))
        .collect();
    json!({
        "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "MeshTLSAuthentication",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"identityRefs": refs}
    })
}

fn declared() -> Vec<Value> {
    vec![
        server("emoji-grpc", "emoji-svc", "grpc", "gRPC", "audit"),
        server("voting-grpc", "voting-svc", "grpc", "gRPC", "audit"),
        server("web-http", "web-svc", "http", "HTTP/1", "deny"),
        mtls_auth("emoji-clients", &["web"]),
        mtls_auth("voting-clients", &["web", "default"]),
        json!({
            "apiVersion": "policy.linkerd.io/v1alpha1", "kind": "NetworkAuthentication",
            "metadata": {"name": "all-networks", "namespace": NS},
            "spec": {"networks": [{"cidr": "0.0.0.0/0"}, {"cidr": "::/0"}]}
        }),
        authz(
            "emoji-grpc",
            "emoji-grpc",
            "MeshTLSAuthentication",
            "emoji-clients",
        ),
        authz(
            "voting-grpc",
            "voting-grpc",
            "MeshTLSAuthentication",
            "voting-clients",
        ),
        authz(
            "web-public",
            "web-http",
            "NetworkAuthentication",
            "all-networks",
        ),
        json!({
            "apiVersion": "policy.linkerd.io/v1beta3", "kind": "HTTPRoute",
            "metadata": {"name": "web-api", "namespace": NS},
            "spec": {"parentRefs": [{"group": "policy.linkerd.io", "kind": "Server", "name": "web-http"}],
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/api"}}]},
                               {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}]}]}
        }),
        json!({
            "apiVersion": "split.smi-spec.io/v1alpha2", "kind": "TrafficSplit",
            "metadata": {"name": "web-split", "namespace": NS},
            "spec": {"service": "web-svc",
                     "backends": [{"service": "web-stable", "weight": 900}, {"service": "web-canary", "weight": 100}]}
        }),
    ]
}
