#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `meshscope demo` as a user runs it: bad input, `--serve-only` with
//! kubectl and `meshscope snapshot --kubeconfig`, Ctrl-C.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt;

fn bin() -> Command {
    Command::cargo_bin("meshscope").unwrap()
}

#[test]
fn bad_demo_input_exits_3_naming_the_value() {
    for (args, needle) in [
        (vec!["demo", "--headless", "--scenario", "nope"], "nope"),
        (
            vec!["demo", "--headless", "--scenario", "scale:0"],
            "scale:0",
        ),
        (
            vec!["demo", "--headless", "--scenario", "scale:abc"],
            "scale:abc",
        ),
        (vec!["demo", "--headless", "--interval", "0"], "'0'"),
        (vec!["demo", "--headless", "--interval", "soon"], "soon"),
    ] {
        let out = bin()
            .args(&args)
            .timeout(Duration::from_secs(30))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            err.contains("bookinfo") || err.contains("duration"),
            "accepted forms named: {err}"
        );
    }
}

/// Kill the child on drop so a failing test never leaves a server behind.
struct Guard(Child);
impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn sigint(child: &Child) {
    let _ = StdCommand::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < within {
        if let Ok(Some(status)) = child.try_wait() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn wait_for_file(p: &Path) {
    let start = Instant::now();
    while !p.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} never appeared",
            p.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The edges the metrics show (a headless demo adds its own Jaeger's
/// trace-only edges).
fn edges(json: &[u8]) -> BTreeSet<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(json).unwrap();
    common::assert_valid_snapshot(&v);
    v["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["evidence"]
                .as_array()
                .unwrap()
                .contains(&"metrics".into())
        })
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_string(),
                e["target"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn serve_only_works_with_kubectl_and_meshscope_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let kc = tmp.path().join("demo.kubeconfig");
    let child = StdCommand::cargo_bin("meshscope")
        .unwrap()
        .args(["demo", "--serve-only", "--kubeconfig-out"])
        .arg(&kc)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut guard = Guard(child);
    wait_for_file(&kc);

    // meshscope against it gives the graph `demo --headless` gives.
    let out = bin()
        .args(["snapshot", "--window", "1s", "--kubeconfig"])
        .arg(&kc)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = edges(&out.stdout);
    let out = bin()
        .args(["demo", "--headless"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let headless = edges(&out.stdout);
    assert_eq!(live, headless);
    assert!(live.len() >= 8);

    let kubectl = Path::new("/usr/bin/kubectl");
    if kubectl.exists() {
        let run = |args: &[&str]| {
            let out = StdCommand::new(kubectl)
                .arg("--kubeconfig")
                .arg(&kc)
                .args(["--request-timeout", "10s"])
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "kubectl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).to_string()
        };
        let pods = run(&["get", "pods", "-A"]);
        assert!(pods.contains("productpage-v1-"), "{pods}");
        let vs = run(&["get", "virtualservices", "-A"]);
        assert!(vs.contains("reviews"), "{vs}");
        let pod = pods
            .lines()
            .find_map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .filter(|p| p.starts_with("productpage-v1-"))
            })
            .unwrap()
            .to_string();
        let raw = run(&[
            "get",
            "--raw",
            &format!("/api/v1/namespaces/default/pods/{pod}:15090/proxy/stats/prometheus"),
        ]);
        assert!(
            raw.contains("istio_requests_total{"),
            "{}",
            &raw[..raw.len().min(300)]
        );
    } else {
        println!("skipped kubectl checks: /usr/bin/kubectl not found");
    }

    // Ctrl-C: a clean exit.
    sigint(&guard.0);
    assert_eq!(wait_exit(&mut guard.0, Duration::from_secs(10)), Some(0));
}

#[test]
fn ctrl_c_during_a_headless_demo_removes_the_temporary_kubeconfig() {
    let mut guard = Guard(
        StdCommand::cargo_bin("meshscope")
            .unwrap()
            .args(["demo", "--headless", "--interval", "60s"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let pattern = format!("meshscope-demo-{}-", guard.0.id());
    let tmp = std::env::temp_dir();
    let find = || {
        std::fs::read_dir(&tmp)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(&pattern))
    };
    let start = Instant::now();
    while !find() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "kubeconfig never written"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    sigint(&guard.0);
    let code = wait_exit(&mut guard.0, Duration::from_secs(10));
    assert!(code.is_some(), "did not exit after Ctrl-C");
    assert!(!find(), "temporary kubeconfig left behind");
}
