//! Keys in, screens out: the real event loop on a `TestBackend`.
#![allow(clippy::unwrap_used)]
mod tui_support;

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::StreamExt;
use meshscope::model::snapshot::Snapshot;
use meshscope::tui::{Command, Feed, Progress, TuiOptions, run_loop};
use meshscope::view::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tokio::sync::{mpsc, watch};

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn keys(s: &str) -> Vec<Event> {
    s.chars()
        .map(|c| match c {
            '\t' => key(KeyCode::Tab),
            '\n' => key(KeyCode::Enter),
            '\x1b' => key(KeyCode::Esc),
            c => key(KeyCode::Char(c)),
        })
        .collect()
}

struct Harness {
    feed: Feed,
    snap_tx: watch::Sender<Arc<Snapshot>>,
    _progress_tx: watch::Sender<Progress>,
    cmd_rx: mpsc::Receiver<Command>,
}

fn harness(cap: usize) -> Harness {
    let (snap_tx, snapshots) = watch::channel(tui_support::bookinfo());
    let (progress_tx, progress) = watch::channel(Progress::default());
    let (commands, cmd_rx) = mpsc::channel(cap);
    Harness {
        feed: Feed {
            snapshots,
            progress,
            commands,
        },
        snap_tx,
        _progress_tx: progress_tx,
        cmd_rx,
    }
}

fn opts() -> TuiOptions {
    TuiOptions {
        theme: Theme::builtin("default").unwrap(),
        ..TuiOptions::default()
    }
}

/// Runs the loop over `events` (then end of input) and returns the last screen.
async fn screen_after(events: Vec<Event>, w: u16, h: u16) -> (String, Vec<Command>) {
    let mut hx = harness(16);
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        run_loop(&mut term, futures::stream::iter(events), hx.feed, opts()),
    )
    .await
    .expect("the loop ends when input ends")
    .unwrap();
    let mut cmds = Vec::new();
    while let Ok(c) = hx.cmd_rx.try_recv() {
        cmds.push(c);
    }
    drop(hx.snap_tx);
    (term.backend().to_string(), cmds)
}

#[tokio::test]
async fn tab_changes_view() {
    let (screen, _) = screen_after(keys("\t"), 80, 24).await;
    assert!(screen.contains("workloads (8)"), "{screen}");
    let (screen, _) = screen_after(keys("\t\t"), 80, 24).await;
    assert!(screen.contains("edges (8)"), "{screen}");
}

#[tokio::test]
async fn slash_filters_the_workloads_table_and_esc_clears() {
    let (screen, _) = screen_after(keys("\t/reviews\n"), 80, 24).await;
    assert!(screen.contains("workloads (3 of 8)"), "{screen}");
    assert!(screen.contains("reviews-v3"));
    assert!(!screen.contains("details-v1"), "filtered out:\n{screen}");
    let (screen, _) = screen_after(keys("\t/reviews\n\x1b"), 80, 24).await;
    assert!(screen.contains("workloads (8)"), "{screen}");
    let (screen, _) = screen_after(keys("\t/!reviews\n"), 80, 24).await;
    assert!(
        screen.contains("workloads (5 of 8)"),
        "inverse filter:\n{screen}"
    );
}

#[tokio::test]
async fn question_mark_shows_help_generated_from_the_keymap() {
    let (screen, _) = screen_after(keys("?"), 80, 24).await;
    assert!(screen.contains("Keys in the graph view"), "{screen}");
    assert!(
        screen.contains("toggle") || screen.contains("edge labels"),
        "{screen}"
    );
    let (screen, _) = screen_after(keys("\t?"), 80, 24).await;
    assert!(screen.contains("Keys in the workloads view"), "{screen}");
    assert!(screen.contains("sort by the next column"), "{screen}");
}

#[tokio::test]
async fn q_ends_the_loop_and_tells_the_collectors() {
    let mut hx = harness(4);
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    // Input never ends by itself here: only `q` can stop the loop.
    let events = futures::stream::iter(keys("q")).chain(futures::stream::pending());
    tokio::time::timeout(
        Duration::from_secs(5),
        run_loop(&mut term, events, hx.feed, opts()),
    )
    .await
    .expect("q quits")
    .unwrap();
    assert_eq!(hx.cmd_rx.try_recv().unwrap(), Command::Quit);
}

#[tokio::test]
async fn keys_send_commands() {
    let (screen, cmds) = screen_after(keys("rp:ns default\n"), 100, 24).await;
    assert_eq!(
        cmds[..3],
        [
            Command::Refresh,
            Command::Pause(true),
            Command::SetNamespace(Some("default".into()))
        ]
    );
    assert!(screen.contains("PAUSED"), "{screen}");
    assert!(screen.contains("ns default"), "{screen}");
    let (_, cmds) = screen_after(keys(":ctx prod-eu\n:ns all\n"), 100, 24).await;
    assert_eq!(
        cmds[..2],
        [
            Command::SetContext("prod-eu".into()),
            Command::SetNamespace(None)
        ]
    );
}

#[tokio::test]
async fn unknown_command_is_reported_not_fatal() {
    let (screen, _) = screen_after(keys(":bogus\n"), 100, 24).await;
    assert!(screen.contains("unknown command ':bogus'"), "{screen}");
    let (screen, _) = screen_after(keys(":edges\n"), 100, 24).await;
    assert!(screen.contains("edges (8)"), "{screen}");
}

#[tokio::test]
async fn a_full_command_queue_never_blocks_input() {
    let hx = harness(1);
    hx.feed.commands.try_send(Command::Refresh).unwrap(); // the queue is now full
    let mut term = Terminal::new(TestBackend::new(100, 24)).unwrap();
    tokio::time::timeout(
        Duration::from_secs(5),
        run_loop(
            &mut term,
            futures::stream::iter(keys("r\t")),
            hx.feed,
            opts(),
        ),
    )
    .await
    .expect("input is never blocked by a full command queue")
    .unwrap();
    let screen = term.backend().to_string();
    assert!(
        screen.contains("workloads (8)"),
        "the tab after r still worked:\n{screen}"
    );
}

#[tokio::test]
async fn new_snapshots_replace_the_old_one_while_running() {
    let hx = harness(16);
    let (tx, rx) = futures::channel::mpsc::unbounded::<Event>();
    let mut term = Terminal::new(TestBackend::new(100, 24)).unwrap();
    let feed = hx.feed;
    let task =
        tokio::spawn(async move { run_loop(&mut term, rx, feed, opts()).await.map(|_| term) });
    for e in keys("\t") {
        tx.unbounded_send(e).unwrap();
    }
    let mut next = (*tui_support::bookinfo()).clone();
    next.collected_at = "2026-11-21T13:31:00Z".into();
    next.nodes.retain(|n| n.id != "default/details-v1");
    next.edges.retain(|e| e.target != "default/details-v1");
    hx.snap_tx.send(Arc::new(next)).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(tx);
    let term = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let screen = term.backend().to_string();
    assert!(screen.contains("workloads (7)"), "{screen}");
}

#[tokio::test]
async fn keymap_overrides_rebind_keys() {
    let mut hx = harness(4);
    let mut o = opts();
    o.keymap_overrides.insert("quit".into(), vec!["x".into()]);
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let events = futures::stream::iter(keys("qrx")).chain(futures::stream::pending());
    tokio::time::timeout(
        Duration::from_secs(5),
        run_loop(&mut term, events, hx.feed, o),
    )
    .await
    .expect("x quits after rebinding")
    .unwrap();
    // `q` no longer quits: the refresh after it was still sent.
    assert_eq!(hx.cmd_rx.try_recv().unwrap(), Command::Refresh);
    assert_eq!(hx.cmd_rx.try_recv().unwrap(), Command::Quit);

    let hx = harness(4);
    let mut o = opts();
    o.keymap_overrides
        .insert("launch_rockets".into(), vec!["x".into()]);
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let err = run_loop(&mut term, futures::stream::iter(keys("q")), hx.feed, o)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("'launch_rockets'"), "{err}");
}
