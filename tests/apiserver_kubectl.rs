//! kubectl against the simulated API server, with the kubeconfig it writes.

mod apiserver_common;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use apiserver_common::{METRICS_LINE, TEST_BOUND, start};
use meshscope::sim::apiserver::ApiServerConfig;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const KUBECTL: &str = "/usr/bin/kubectl";

async fn kubectl(
    kubeconfig: &Path,
    cache: &Path,
    args: &[&str],
) -> Result<Output, Box<dyn std::error::Error>> {
    let mut cmd = tokio::process::Command::new(KUBECTL);
    cmd.arg("--kubeconfig")
        .arg(kubeconfig)
        .arg("--cache-dir")
        .arg(cache)
        .arg("--request-timeout=10s")
        .args(args)
        .env_remove("KUBECONFIG")
        .kill_on_drop(true);
    Ok(tokio::time::timeout(Duration::from_secs(30), cmd.output()).await??)
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn kubectl_get_pods_virtualservices_and_raw_proxy() -> TestResult {
    if !Path::new(KUBECTL).exists() {
        println!("skipped: {KUBECTL} not found");
        return Ok(());
    }
    tokio::time::timeout(TEST_BOUND, async {
        let server = start(ApiServerConfig::default()).await?;
        let dir = tempfile::tempdir()?;
        let kc = dir.path().join("kubeconfig");
        let cache = dir.path().join("cache");
        server.write_kubeconfig(&kc, "meshscope-demo")?;

        let out = kubectl(&kc, &cache, &["get", "pods", "-A"]).await?;
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
        for name in [
            "reviews-v1-5d4c-x7k2p",
            "productpage-v1-6b7f-q9z8w",
            "istiod-7c9d-abcde",
        ] {
            assert!(stdout.contains(name), "{name} missing from:\n{stdout}");
        }

        for resource in [
            "virtualservices",
            "vs",
            "virtualservices.networking.istio.io",
        ] {
            let out = kubectl(&kc, &cache, &["get", resource, "-A"]).await?;
            let (stdout, stderr) = text(&out);
            assert!(
                out.status.success(),
                "get {resource}: stdout: {stdout}\nstderr: {stderr}"
            );
            assert!(
                stdout.contains("reviews-route") && stdout.contains("bookinfo"),
                "get {resource}:\n{stdout}"
            );
        }

        // Default namespace from the context, then -o json of one object.
        let out = kubectl(
            &kc,
            &cache,
            &[
                "get",
                "deploy",
                "-n",
                "bookinfo",
                "reviews-v1",
                "-o",
                "json",
            ],
        )
        .await?;
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
        let deploy: serde_json::Value = serde_json::from_str(&stdout)?;
        assert_eq!(deploy["metadata"]["name"], "reviews-v1");

        let raw =
            "/api/v1/namespaces/bookinfo/pods/reviews-v1-5d4c-x7k2p:15090/proxy/stats/prometheus";
        let out = kubectl(&kc, &cache, &["get", "--raw", raw]).await?;
        let (stdout, stderr) = text(&out);
        assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
        assert!(stdout.contains(METRICS_LINE), "{stdout}");

        // Errors surface with the real server's wording.
        let out = kubectl(&kc, &cache, &["get", "secrets", "-A"]).await?;
        let (_, stderr) = text(&out);
        assert!(!out.status.success());
        assert!(
            stderr.contains("forbidden")
                || stderr.contains("the server doesn't have a resource type"),
            "{stderr}"
        );
        let out = kubectl(&kc, &cache, &["get", "pod", "-n", "bookinfo", "ghost"]).await?;
        let (_, stderr) = text(&out);
        assert!(!out.status.success());
        assert!(stderr.contains("pods \"ghost\" not found"), "{stderr}");

        // kubectl never wrote anything.
        assert!(
            server.request_log().iter().all(|r| r.method == "GET"),
            "{:?}",
            server.request_log()
        );
        server.shutdown().await;
        Ok(())
    })
    .await?
}
