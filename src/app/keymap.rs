//! Keys → actions. Defaults are built in; the `[keys]` table of
//! `$XDG_CONFIG_HOME/meshscope/config.toml` replaces the keys of any action.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;

use super::action::{Action, View};

/// Key overrides: action name → key specs (`"q"`, `"ctrl-c"`, `"tab"`…).
pub type KeyOverrides = BTreeMap<String, Vec<String>>;

/// Errors in key configuration; messages name the bad value and its origin.
#[derive(Debug, thiserror::Error)]
pub enum KeymapError {
    #[error("unknown action '{action}' in {origin}; known actions: {known}")]
    UnknownAction {
        action: String,
        origin: String,
        known: String,
    },
    #[error("bad key '{key}' for action '{action}' in {origin}: {reason}")]
    BadKey {
        key: String,
        action: String,
        origin: String,
        reason: String,
    },
    #[error("cannot read config file '{path}': {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid TOML in '{path}': {source}")]
    Toml {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
}

/// One key chord: a code plus ctrl/alt (shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    /// Normalises a crossterm key event.
    pub fn from_event(ev: &KeyEvent) -> Key {
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// Parses `"q"`, `"G"`, `"ctrl-d"`, `"alt-x"`, `"tab"`, `"shift-tab"`, `"enter"`, `"esc"`,
    /// `"up"`, `"pgdn"`, `"f1"`, `"space"`…
    pub fn parse(spec: &str) -> Result<Key, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = spec;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && (lower.starts_with("ctrl-") || lower.starts_with("ctrl+")) {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.len() > 1 && (lower.starts_with("alt-") || lower.starts_with("alt+")) {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let lower = rest.to_ascii_lowercase();
        let code = match lower.as_str() {
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "space" => KeyCode::Char(' '),
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
                    _ => match lower.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
                        Some(n) if (1..=12).contains(&n) => KeyCode::F(n),
                        _ => return Err("not a known key name".into()),
                    },
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }

    /// The key written as in the config file.
    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Tab => "tab".to_string(),
            KeyCode::BackTab => "shift-tab".to_string(),
            KeyCode::Enter => "enter".to_string(),
            KeyCode::Esc => "esc".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::Home => "home".to_string(),
            KeyCode::End => "end".to_string(),
            KeyCode::PageUp => "pgup".to_string(),
            KeyCode::PageDown => "pgdn".to_string(),
            KeyCode::Backspace => "backspace".to_string(),
            KeyCode::Delete => "del".to_string(),
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("f{n}"),
            other => format!("{other:?}"),
        };
        let mut s = String::new();
        if self.ctrl {
            s.push_str("ctrl-");
        }
        if self.alt {
            s.push_str("alt-");
        }
        s.push_str(&base);
        s
    }
}

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Every view.
    Global,
    /// Only these views.
    Views(&'static [View]),
}

impl Scope {
    fn covers(self, view: View) -> bool {
        match self {
            Scope::Global => true,
            Scope::Views(vs) => vs.contains(&view),
        }
    }
}

/// One action, its keys and where it applies.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub action: Action,
    pub keys: Vec<Key>,
    pub scope: Scope,
}

/// The key table. Lookups try view-specific bindings before global ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: Vec<Binding>,
}

const TABLES: &[View] = &[View::Workloads, View::Edges];
const GRAPH: &[View] = &[View::Graph];

fn defaults() -> Vec<(Action, &'static [&'static str], Scope)> {
    use Action::*;
    vec![
        (Quit, &["q", "ctrl-c"], Scope::Global),
        (NextView, &["tab"], Scope::Global),
        (PrevView, &["shift-tab"], Scope::Global),
        (Back, &["esc"], Scope::Global),
        (Help, &["?"], Scope::Global),
        (CommandLine, &[":"], Scope::Global),
        (Filter, &["/"], Scope::Views(TABLES)),
        (Up, &["k", "up"], Scope::Global),
        (Down, &["j", "down"], Scope::Global),
        (Left, &["h", "left"], Scope::Views(GRAPH)),
        (Right, &["l", "right"], Scope::Views(GRAPH)),
        (Top, &["g", "home"], Scope::Global),
        (Bottom, &["G", "end"], Scope::Global),
        (PageDown, &["ctrl-d", "pgdn"], Scope::Global),
        (PageUp, &["ctrl-u", "pgup"], Scope::Global),
        (Select, &["enter"], Scope::Global),
        (Refresh, &["r", "ctrl-r"], Scope::Global),
        (Pause, &["p"], Scope::Global),
        (SortNext, &["s"], Scope::Views(TABLES)),
        (SortReverse, &["S"], Scope::Views(TABLES)),
        (ToggleLabel, &["t"], Scope::Views(GRAPH)),
        (Collapse, &["c"], Scope::Views(GRAPH)),
        (Neighbourhood, &["n"], Scope::Views(GRAPH)),
        (ShowGraph, &["1"], Scope::Global),
        (ShowWorkloads, &["2"], Scope::Global),
        (ShowEdges, &["3"], Scope::Global),
        (ShowGaps, &["4"], Scope::Global),
        (ShowRules, &["5"], Scope::Global),
    ]
}

impl Default for Keymap {
    fn default() -> Self {
        let bindings = defaults()
            .into_iter()
            .map(|(action, keys, scope)| Binding {
                action,
                keys: keys.iter().filter_map(|k| Key::parse(k).ok()).collect(),
                scope,
            })
            .collect();
        Keymap { bindings }
    }
}

impl Keymap {
    /// The defaults with `overrides` applied (each listed action gets exactly the listed keys).
    pub fn with_overrides(overrides: &KeyOverrides, origin: &str) -> Result<Keymap, KeymapError> {
        let mut map = Keymap::default();
        for (name, specs) in overrides {
            let action = Action::from_name(name).ok_or_else(|| KeymapError::UnknownAction {
                action: name.clone(),
                origin: origin.to_string(),
                known: Action::ALL
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
            let keys = specs
                .iter()
                .map(|s| {
                    Key::parse(s).map_err(|reason| KeymapError::BadKey {
                        key: s.clone(),
                        action: name.clone(),
                        origin: origin.to_string(),
                        reason,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            // A key rebound here is taken away from any other action.
            for b in &mut map.bindings {
                b.keys.retain(|k| !keys.contains(k));
            }
            if let Some(b) = map.bindings.iter_mut().find(|b| b.action == action) {
                b.keys = keys;
            }
        }
        Ok(map)
    }

    /// The action bound to `key` in `view`, if any.
    pub fn lookup(&self, view: View, key: &Key) -> Option<Action> {
        let specific = self.bindings.iter().find(|b| {
            matches!(b.scope, Scope::Views(_)) && b.scope.covers(view) && b.keys.contains(key)
        });
        specific
            .or_else(|| {
                self.bindings
                    .iter()
                    .find(|b| b.scope == Scope::Global && b.keys.contains(key))
            })
            .map(|b| b.action)
    }

    /// The bindings that apply in `view`: (keys, action), view-specific ones first.
    pub fn bindings_for(&self, view: View) -> Vec<(String, Action)> {
        let mut specific = Vec::new();
        let mut global = Vec::new();
        for b in &self.bindings {
            if b.keys.is_empty() || !b.scope.covers(view) {
                continue;
            }
            let keys = b.keys.iter().map(Key::label).collect::<Vec<_>>().join(" ");
            match b.scope {
                Scope::Global => global.push((keys, b.action)),
                Scope::Views(_) => specific.push((keys, b.action)),
            }
        }
        specific.extend(global);
        specific
    }

    /// The first key bound to `action`, for hints (`? help`).
    pub fn first_key(&self, action: Action) -> Option<String> {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .and_then(|b| b.keys.first())
            .map(Key::label)
    }
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    keys: BTreeMap<String, OneOrMany>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// `$XDG_CONFIG_HOME/meshscope` (or `~/.config/meshscope`).
pub fn config_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("meshscope"))
}

/// Reads the `[keys]` table of a config file; a missing file means no overrides.
pub fn load_key_overrides(path: &Path) -> Result<KeyOverrides, KeymapError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(KeyOverrides::new()),
        Err(source) => {
            return Err(KeymapError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let file: ConfigFile = toml::from_str(&text).map_err(|source| KeymapError::Toml {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(file
        .keys
        .into_iter()
        .map(|(k, v)| {
            let keys = match v {
                OneOrMany::One(s) => vec![s],
                OneOrMany::Many(v) => v,
            };
            (k, keys)
        })
        .collect())
}

/// The `[keys]` overrides of the user's config file, if it exists.
pub fn load_user_key_overrides() -> Result<KeyOverrides, KeymapError> {
    match config_dir() {
        Some(dir) => load_key_overrides(&dir.join("config.toml")),
        None => Ok(KeyOverrides::new()),
    }
}
