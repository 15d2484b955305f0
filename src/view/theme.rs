//! Themes as data: semantic style names loaded from TOML (`themes/*.toml`,
//! embedded), overridable field by field from a user file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// Built-in themes: name and embedded TOML.
const BUILTIN: &[(&str, &str)] = &[
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../themes/mono.toml")),
];

/// Errors while loading a theme; every message names the bad value and its origin.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    #[error("unknown theme '{name}'; known themes: {known}")]
    Unknown { name: String, known: String },
    #[error("cannot read theme file '{path}': {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid theme TOML in {origin}: {source}")]
    Toml {
        origin: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("unknown {section} field '{field}' in {origin}")]
    UnknownField {
        section: &'static str,
        field: String,
        origin: String,
    },
    #[error("bad style '{value}' for '{field}' in {origin}: {reason}")]
    BadStyle {
        field: String,
        value: String,
        origin: String,
        reason: String,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    /// For a user theme with a new name: the built-in theme it starts from.
    inherits: Option<String>,
    #[serde(default)]
    styles: BTreeMap<String, String>,
    #[serde(default)]
    glyphs: BTreeMap<String, String>,
}

macro_rules! theme_struct {
    (styles { $($s:ident),* $(,)? } glyphs { $($g:ident),* $(,)? }) => {
        /// Semantic styles and glyphs used by every view. Views never write colours inline.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Theme {
            /// The theme's name (`default`, `light`, a user theme…).
            pub name: String,
            $(#[doc = concat!("Style `", stringify!($s), "`.")] pub $s: Style,)*
            $(#[doc = concat!("Glyph `", stringify!($g), "`.")] pub $g: String,)*
        }

        impl Theme {
            /// Every style field name, as written in theme files.
            pub const STYLE_FIELDS: &'static [&'static str] = &[$(stringify!($s)),*];
            /// Every glyph field name.
            pub const GLYPH_FIELDS: &'static [&'static str] = &[$(stringify!($g)),*];

            fn blank(name: &str) -> Theme {
                Theme {
                    name: name.to_string(),
                    $($s: Style::default(),)*
                    $($g: String::new(),)*
                }
            }

            fn style_mut(&mut self, field: &str) -> Option<&mut Style> {
                match field {
                    $(stringify!($s) => Some(&mut self.$s),)*
                    _ => None,
                }
            }

            fn glyph_mut(&mut self, field: &str) -> Option<&mut String> {
                match field {
                    $(stringify!($g) => Some(&mut self.$g),)*
                    _ => None,
                }
            }
        }
    };
}

theme_struct! {
    styles {
        text, muted, title, border, border_focused, selected, header, tab_active, tab_inactive,
        node_healthy, node_degraded, node_failing, node_neutral, node_focused,
        edge_healthy, edge_degraded, edge_failing, edge_idle, edge_label, edge_focused,
        mtls_full, mtls_partial, mtls_off, mtls_unknown,
        severity_critical, severity_warning, severity_info,
        diff_added, diff_removed, diff_modified,
        status_bar, status_ok, status_degraded, status_unavailable, paused, input,
        sparkline, error, key,
    }
    glyphs { lock, warn, healthy, degraded, failing, neutral }
}

impl Default for Theme {
    fn default() -> Self {
        // The embedded default is checked by tests; fall back to blank styles if it ever broke.
        Theme::builtin("default").unwrap_or_else(|_| Theme::blank("default"))
    }
}

impl Theme {
    /// Names of the built-in themes.
    pub fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in theme by name.
    pub fn builtin(name: &str) -> Result<Theme, ThemeError> {
        let (_, text) = BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| unknown(name, None))?;
        let file = parse(text, &format!("built-in theme '{name}'"))?;
        let mut theme = Theme::blank(name);
        theme.apply(&file, &format!("built-in theme '{name}'"))?;
        Ok(theme)
    }

    /// Loads a theme by name, looking for user files in the default user theme
    /// folder (`$XDG_CONFIG_HOME/meshscope/themes`), and honouring `NO_COLOR`.
    pub fn load(name: &str) -> Result<Theme, ThemeError> {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let dir = user_theme_dir();
        Theme::load_from(name, dir.as_deref(), no_color)
    }

    /// Loads a theme: `NAME.toml` in `user_dir` (if present) overrides only the
    /// fields it sets on the built-in theme of the same name (or on the theme it
    /// `inherits`, `default` when absent). With `no_color` the result is `mono`.
    pub fn load_from(
        name: &str,
        user_dir: Option<&Path>,
        no_color: bool,
    ) -> Result<Theme, ThemeError> {
        if no_color {
            return Theme::builtin("mono");
        }
        let user_path = user_dir.map(|d| d.join(format!("{name}.toml")));
        let user_file = match &user_path {
            Some(p) if p.is_file() => {
                let text = std::fs::read_to_string(p).map_err(|source| ThemeError::Read {
                    path: p.clone(),
                    source,
                })?;
                Some((
                    parse(&text, &p.display().to_string())?,
                    p.display().to_string(),
                ))
            }
            _ => None,
        };
        let is_builtin = BUILTIN.iter().any(|(n, _)| *n == name);
        match user_file {
            None if is_builtin => Theme::builtin(name),
            None => Err(unknown(name, user_dir)),
            Some((file, origin)) => {
                let base = if is_builtin {
                    name.to_string()
                } else {
                    file.inherits.clone().unwrap_or_else(|| "default".into())
                };
                let mut theme = Theme::builtin(&base)?;
                theme.name = name.to_string();
                theme.apply(&file, &origin)?;
                Ok(theme)
            }
        }
    }

    fn apply(&mut self, file: &ThemeFile, origin: &str) -> Result<(), ThemeError> {
        for (field, value) in &file.styles {
            let style = parse_style(value).map_err(|reason| ThemeError::BadStyle {
                field: field.clone(),
                value: value.clone(),
                origin: origin.to_string(),
                reason,
            })?;
            let slot = self
                .style_mut(field)
                .ok_or_else(|| ThemeError::UnknownField {
                    section: "styles",
                    field: field.clone(),
                    origin: origin.to_string(),
                })?;
            *slot = style;
        }
        for (field, value) in &file.glyphs {
            let slot = self
                .glyph_mut(field)
                .ok_or_else(|| ThemeError::UnknownField {
                    section: "glyphs",
                    field: field.clone(),
                    origin: origin.to_string(),
                })?;
            slot.clone_from(value);
        }
        Ok(())
    }
}

/// `$XDG_CONFIG_HOME/meshscope/themes` (or `~/.config/meshscope/themes`).
pub fn user_theme_dir() -> Option<PathBuf> {
    crate::app::keymap::config_dir().map(|d| d.join("themes"))
}

fn parse(text: &str, origin: &str) -> Result<ThemeFile, ThemeError> {
    toml::from_str(text).map_err(|source| ThemeError::Toml {
        origin: origin.to_string(),
        source,
    })
}

fn unknown(name: &str, user_dir: Option<&Path>) -> ThemeError {
    let mut known: Vec<String> = BUILTIN.iter().map(|(n, _)| (*n).to_string()).collect();
    if let Some(dir) = user_dir
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "toml")
                && let Some(stem) = p.file_stem()
            {
                let stem = stem.to_string_lossy().to_string();
                if !known.contains(&stem) {
                    known.push(stem);
                }
            }
        }
    }
    ThemeError::Unknown {
        name: name.to_string(),
        known: known.join(", "),
    }
}

/// Parses `"FG [on BG] [modifiers…]"`; an empty string is the terminal default.
pub fn parse_style(spec: &str) -> Result<Style, String> {
    let mut style = Style::default();
    let mut words = spec.split_whitespace().peekable();
    let mut fg_set = false;
    while let Some(w) = words.next() {
        let lower = w.to_ascii_lowercase();
        let modifier = match lower.as_str() {
            "bold" => Some(Modifier::BOLD),
            "dim" => Some(Modifier::DIM),
            "italic" => Some(Modifier::ITALIC),
            "underlined" | "underline" => Some(Modifier::UNDERLINED),
            "reversed" | "reverse" => Some(Modifier::REVERSED),
            "crossed" | "crossed_out" => Some(Modifier::CROSSED_OUT),
            _ => None,
        };
        if let Some(m) = modifier {
            style = style.add_modifier(m);
        } else if lower == "on" {
            let bg = words.next().ok_or("'on' must be followed by a colour")?;
            style = style.bg(color(bg)?);
        } else if !fg_set {
            style = style.fg(color(w)?);
            fg_set = true;
        } else {
            return Err(format!("unexpected word '{w}'"));
        }
    }
    Ok(style)
}

fn color(s: &str) -> Result<Color, String> {
    s.parse::<Color>()
        .map_err(|_| format!("'{s}' is not a colour name, #rrggbb or 0-255 index"))
}
