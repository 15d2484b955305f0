#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `meshscope demo` in a real pseudo-terminal (tmux): wait for the graph,
//! press `?`, `tab`, `/reviews`, `q`, read the screens, check it exits 0.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

struct Session(String);
impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.0])
            .output();
    }
}

fn wait_for(session: &str, needle: &str, within: Duration) -> String {
    let start = Instant::now();
    loop {
        let screen = tmux(&["capture-pane", "-p", "-t", session]);
        if screen.contains(needle) {
            return screen;
        }
        assert!(
            start.elapsed() < within,
            "'{needle}' never appeared; screen:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn demo_in_a_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("skipped: tmux not installed");
        return;
    }
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_meshscope"));
    let tmp = tempfile::tempdir().unwrap();
    let exit_file = tmp.path().join("exit");
    let session = format!("meshscope-e2e-{}", std::process::id());
    let cmd = format!("{} demo; echo $? > {}", bin.display(), exit_file.display());
    let status = Command::new("tmux")
        .args([
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "36",
            "-s",
            &session,
            &cmd,
        ])
        .env_remove("NO_COLOR")
        .status()
        .unwrap();
    assert!(status.success());
    let _guard = Session(session.clone());
    // The graph with live numbers and locks.
    let screen = wait_for(&session, "/s", Duration::from_secs(30));
    assert!(screen.contains("productpage-v1"), "{screen}");
    assert!(screen.contains("🔒"), "{screen}");
    tmux(&["send-keys", "-t", &session, "?"]);
    wait_for(&session, "Keys in the graph view", Duration::from_secs(5));
    tmux(&["send-keys", "-t", &session, "Escape"]);
    tmux(&["send-keys", "-t", &session, "Tab"]);
    wait_for(&session, "MESHED", Duration::from_secs(5));
    tmux(&["send-keys", "-t", &session, "/"]);
    tmux(&["send-keys", "-t", &session, "-l", "reviews"]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    let screen = wait_for(&session, "filter: reviews", Duration::from_secs(5));
    assert!(
        screen.contains("reviews-v3") && !screen.contains("details-v1"),
        "{screen}"
    );
    tmux(&["send-keys", "-t", &session, "q"]);
    let start = Instant::now();
    while !exit_file.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "meshscope did not exit after q"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(std::fs::read_to_string(&exit_file).unwrap().trim(), "0");
}
