//! The interactive TUI: the public entry points, the feed from collection and
//! the event loop. The loop never blocks on data: input, snapshots, progress
//! and a render tick are selected together; redraws are throttled and happen
//! only when something changed.

use std::sync::Arc;
use std::time::Duration;

use crossterm::event::{Event, KeyEventKind};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior};

use crate::app::keymap::{KeyOverrides, Keymap};
use crate::app::{App, Effect};
use crate::model::snapshot::Snapshot;
use crate::view::theme::Theme;

/// Collection progress, published by the collectors.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    /// Proxies scraped in the current round.
    pub scraped: usize,
    /// Proxies to scrape in the current round (0: not scraping).
    pub total: usize,
    /// When the last snapshot was published.
    pub last_refresh: Option<Instant>,
    /// Whether collection is paused.
    pub paused: bool,
    /// A short note for the status bar ("waiting for the second round"…).
    pub note: Option<String>,
}

/// Requests from the TUI to the collectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Collect now.
    Refresh,
    /// Pause (`true`) or resume collection.
    Pause(bool),
    /// Watch one namespace, or all (`None`).
    SetNamespace(Option<String>),
    /// Switch kube context.
    SetContext(String),
    /// The user left the TUI.
    Quit,
}

/// What the TUI consumes and where it sends commands.
#[derive(Debug)]
pub struct Feed {
    /// The latest snapshot (latest wins).
    pub snapshots: watch::Receiver<Arc<Snapshot>>,
    pub progress: watch::Receiver<Progress>,
    /// Bounded; the TUI uses `try_send` and never waits on it.
    pub commands: mpsc::Sender<Command>,
}

/// Options of a TUI session.
#[derive(Debug, Clone, Default)]
pub struct TuiOptions {
    pub theme: Theme,
    /// A node id to select at start.
    pub focus: Option<String>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// Action name → keys, from the `[keys]` table of the config file.
    pub keymap_overrides: KeyOverrides,
    /// Where the waterfall fetches a sample trace's spans (the feed's
    /// `--traces` backend, a bundle's `traces/`); `None`: it says so.
    pub traces: Option<crate::collect::traces::lookup::TraceLookup>,
}

impl TuiOptions {
    /// Options from the user's environment: theme `theme` (user theme files and
    /// `NO_COLOR` honoured) and the `[keys]` table of
    /// `$XDG_CONFIG_HOME/meshscope/config.toml`.
    pub fn from_user_config(theme: &str) -> anyhow::Result<TuiOptions> {
        Ok(TuiOptions {
            theme: Theme::load(theme)?,
            keymap_overrides: crate::app::keymap::load_user_key_overrides()?,
            ..TuiOptions::default()
        })
    }
}

/// Redraws happen at most this often.
pub const FRAME: Duration = Duration::from_millis(50);

/// Runs the TUI on the real terminal (restored on exit and on panic).
pub async fn run(feed: Feed, opts: TuiOptions) -> anyhow::Result<()> {
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            ratatui::restore();
            return Err(anyhow::anyhow!("cannot set up the terminal: {e}"));
        }
    };
    let events = crossterm::event::EventStream::new().filter_map(|r| std::future::ready(r.ok()));
    let result = run_loop(&mut terminal, events, feed, opts).await;
    ratatui::restore();
    result
}

/// The event loop, generic over the backend so tests drive keys in and read screens out.
/// Ends on `quit`, or when `events` ends (after a last draw).
pub async fn run_loop<B: Backend>(
    terminal: &mut Terminal<B>,
    events: impl Stream<Item = Event>,
    feed: Feed,
    opts: TuiOptions,
) -> anyhow::Result<()> {
    let Feed {
        mut snapshots,
        mut progress,
        commands,
    } = feed;
    let keymap = Keymap::with_overrides(
        &opts.keymap_overrides,
        "the [keys] table of the config file",
    )?;
    let first = snapshots.borrow_and_update().clone();
    let mut app = App::new(first, opts.theme, keymap, opts.focus);
    app.ui.context = opts.context;
    app.ui.namespace = opts.namespace;
    app.ui.progress = progress.borrow_and_update().clone();
    let (trace_tx, mut trace_rx) = mpsc::channel::<(String, TraceResult)>(4);
    let lookup = opts.traces;
    let mut events = std::pin::pin!(events);
    let mut tick = tokio::time::interval(FRAME);
    tick.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let (mut snaps_open, mut progress_open) = (true, true);
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    loop {
        if dirty && last_draw.is_none_or(|t| t.elapsed() >= FRAME) {
            draw(terminal, &mut app)?;
            dirty = false;
            last_draw = Some(Instant::now());
        }
        tokio::select! {
            biased;
            ev = events.next() => match ev {
                None => {
                    draw(terminal, &mut app)?;
                    let _ = commands.try_send(Command::Quit);
                    return Ok(());
                }
                Some(Event::Key(k)) if k.kind != KeyEventKind::Release => {
                    let delivered = match app.handle_key(&k) {
                        Some(Effect::Quit) => {
                            let _ = commands.try_send(Command::Quit);
                            return Ok(());
                        }
                        Some(Effect::Send(c)) => commands.try_send(c).is_ok(),
                        Some(Effect::FetchTrace(id)) => {
                            fetch_trace(lookup.clone(), id, trace_tx.clone(), &mut app);
                            true
                        }
                        None => true,
                    };
                    if !delivered {
                        app.ui.flash = Some(crate::app::state::Flash {
                            text: "collector busy or gone: command dropped".into(),
                            error: true,
                        });
                    }
                    dirty = true;
                }
                Some(_) => dirty = true,
            },
            r = snapshots.changed(), if snaps_open => match r {
                Ok(()) => {
                    let s = snapshots.borrow_and_update().clone();
                    app.set_snapshot(s);
                    dirty = true;
                }
                Err(_) => snaps_open = false,
            },
            Some((id, r)) = trace_rx.recv() => {
                app.trace_arrived(&id, r);
                dirty = true;
            }
            r = progress.changed(), if progress_open => match r {
                Ok(()) => {
                    app.ui.progress = progress.borrow_and_update().clone();
                    dirty = true;
                }
                Err(_) => progress_open = false,
            },
            _ = tick.tick() => {
                let age = app.ui.progress.last_refresh.map(|t| t.elapsed());
                let secs = |a: Option<Duration>| a.map(|d| d.as_secs());
                if secs(age) != secs(app.ui.refresh_age) {
                    dirty = true;
                }
                app.ui.refresh_age = age;
            }
        }
    }
}

type TraceResult = Result<Arc<crate::view::waterfall::Waterfall>, String>;

/// Fetch and lay out trace `id` on a task of its own (the UI keeps
/// drawing); the answer comes back on `tx`.
fn fetch_trace(
    lookup: Option<crate::collect::traces::lookup::TraceLookup>,
    id: String,
    tx: mpsc::Sender<(String, TraceResult)>,
    app: &mut App,
) {
    let Some(lookup) = lookup else {
        app.trace_arrived(
            &id,
            Err("no trace source: the spans of sample traces are read from the --traces backend or a bundle's traces/ folder".into()),
        );
        return;
    };
    tokio::spawn(async move {
        let r = match lookup.fetch(&id).await {
            Ok(t) => tokio::task::spawn_blocking(move || {
                Arc::new(crate::view::waterfall::Waterfall::new(t))
            })
            .await
            .map_err(|e| format!("laying out trace {id} failed: {e}")),
            Err(e) => Err(e.to_string()),
        };
        let _ = tx.send((id, r)).await;
    });
}

fn draw<B: Backend>(terminal: &mut Terminal<B>, app: &mut App) -> anyhow::Result<()> {
    let (mut body_rows, mut body_cols) = (0, 0);
    terminal
        .draw(|f| {
            let area = f.area();
            body_rows = area.height.saturating_sub(4);
            body_cols = area.width.saturating_sub(2);
            f.render_widget(&app.screen(), area);
        })
        .map_err(|e| anyhow::anyhow!("drawing the screen failed: {e}"))?;
    app.ui.page_rows = body_rows;
    app.ui.page_cols = body_cols;
    Ok(())
}
