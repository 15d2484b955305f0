//! Themes: built-ins complete, user overrides, unknown names, NO_COLOR; keymap parsing.
#![allow(clippy::unwrap_used)]

use meshscope::app::action::{Action, View};
use meshscope::app::keymap::{Key, KeyOverrides, Keymap, load_key_overrides};
use meshscope::view::theme::{Theme, ThemeError, parse_style};
use ratatui::style::{Color, Modifier, Style};

#[test]
fn every_builtin_theme_sets_every_field() {
    for name in Theme::builtin_names() {
        let text =
            std::fs::read_to_string(format!("{}/themes/{name}.toml", env!("CARGO_MANIFEST_DIR")))
                .unwrap();
        let v: toml::Table = toml::from_str(&text).unwrap();
        let styles = v["styles"].as_table().unwrap();
        let glyphs = v["glyphs"].as_table().unwrap();
        for f in Theme::STYLE_FIELDS {
            assert!(styles.contains_key(*f), "theme '{name}' misses style '{f}'");
        }
        for f in Theme::GLYPH_FIELDS {
            assert!(glyphs.contains_key(*f), "theme '{name}' misses glyph '{f}'");
        }
        Theme::builtin(name).unwrap();
    }
}

#[test]
fn user_file_overrides_only_the_fields_it_sets() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("default.toml"),
        "[styles]\nedge_failing = \"magenta on black underlined\"\n",
    )
    .unwrap();
    let base = Theme::builtin("default").unwrap();
    let user = Theme::load_from("default", Some(dir.path()), false).unwrap();
    assert_eq!(
        user.edge_failing,
        Style::default()
            .fg(Color::Magenta)
            .bg(Color::Black)
            .add_modifier(Modifier::UNDERLINED)
    );
    assert_ne!(user.edge_failing, base.edge_failing);
    let mut expected = base.clone();
    expected.edge_failing = user.edge_failing;
    assert_eq!(user, expected, "nothing else changed");
}

#[test]
fn user_theme_with_a_new_name_inherits() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("solar.toml"),
        "inherits = \"light\"\n[glyphs]\nlock = \"L\"\n",
    )
    .unwrap();
    let t = Theme::load_from("solar", Some(dir.path()), false).unwrap();
    assert_eq!(t.name, "solar");
    assert_eq!(t.lock, "L");
    assert_eq!(t.text, Theme::builtin("light").unwrap().text);
}

#[test]
fn unknown_theme_names_it_and_lists_the_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("mine.toml"), "").unwrap();
    let err = Theme::load_from("solarized", Some(dir.path()), false).unwrap_err();
    assert!(matches!(err, ThemeError::Unknown { .. }));
    let msg = err.to_string();
    assert!(msg.contains("'solarized'"), "{msg}");
    for known in ["default", "light", "high-contrast", "mono", "mine"] {
        assert!(msg.contains(known), "{msg} should list {known}");
    }
}

#[test]
fn bad_fields_and_styles_are_reported_with_their_origin() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("default.toml"),
        "[styles]\nedge_flailing = \"red\"\n",
    )
    .unwrap();
    let msg = Theme::load_from("default", Some(dir.path()), false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("'edge_flailing'") && msg.contains("default.toml"),
        "{msg}"
    );
    std::fs::write(
        dir.path().join("default.toml"),
        "[styles]\ntext = \"chartreuse-ish\"\n",
    )
    .unwrap();
    let msg = Theme::load_from("default", Some(dir.path()), false)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("'chartreuse-ish'") && msg.contains("'text'"),
        "{msg}"
    );
    assert!(parse_style("red on").is_err());
    assert_eq!(parse_style("").unwrap(), Style::default());
    assert_eq!(
        parse_style("#ff0000 bold").unwrap(),
        Style::default()
            .fg(Color::Rgb(255, 0, 0))
            .add_modifier(Modifier::BOLD)
    );
}

#[test]
fn no_color_means_mono_without_any_colour() {
    let t = Theme::load_from("light", None, true).unwrap();
    assert_eq!(t.name, "mono");
    let styles = [
        t.text,
        t.muted,
        t.selected,
        t.node_healthy,
        t.node_degraded,
        t.node_failing,
        t.edge_failing,
        t.mtls_off,
        t.severity_critical,
        t.status_bar,
        t.paused,
        t.diff_added,
    ];
    for s in styles {
        assert_eq!(s.fg, None, "mono has no foreground colours");
        assert_eq!(s.bg, None, "mono has no background colours");
    }
    assert!(t.node_failing.add_modifier.contains(Modifier::REVERSED));
}

#[test]
fn keys_parse_and_label() {
    assert_eq!(Key::parse("ctrl-d").unwrap().label(), "ctrl-d");
    assert_eq!(Key::parse("G").unwrap().label(), "G");
    assert_eq!(Key::parse("shift-tab").unwrap().label(), "shift-tab");
    assert_eq!(Key::parse("f5").unwrap().label(), "f5");
    assert!(Key::parse("hyper-q").is_err());
    assert!(Key::parse("").is_err());
}

#[test]
fn keymap_defaults_and_scopes() {
    let k = Keymap::default();
    let key = |s| Key::parse(s).unwrap();
    assert_eq!(k.lookup(View::Graph, &key("l")), Some(Action::Right));
    assert_eq!(k.lookup(View::Workloads, &key("l")), None);
    assert_eq!(k.lookup(View::Workloads, &key("s")), Some(Action::SortNext));
    assert_eq!(k.lookup(View::Gaps, &key("ctrl-d")), Some(Action::PageDown));
    assert_eq!(k.lookup(View::Detail, &key("q")), Some(Action::Quit));
}

#[test]
fn config_file_keys_table() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("config.toml");
    std::fs::write(
        &p,
        "theme = \"light\"\n[keys]\nrefresh = \"F5\"\nquit = [\"x\", \"ctrl-q\"]\n",
    )
    .unwrap();
    let o = load_key_overrides(&p).unwrap();
    let k = Keymap::with_overrides(&o, "test").unwrap();
    assert_eq!(
        k.lookup(View::Graph, &Key::parse("f5").unwrap()),
        Some(Action::Refresh)
    );
    assert_eq!(
        k.lookup(View::Graph, &Key::parse("ctrl-q").unwrap()),
        Some(Action::Quit)
    );
    assert_eq!(k.lookup(View::Graph, &Key::parse("q").unwrap()), None);
    // Missing file: no overrides. Bad key: named in the error.
    assert!(
        load_key_overrides(&dir.path().join("none.toml"))
            .unwrap()
            .is_empty()
    );
    let mut bad = KeyOverrides::new();
    bad.insert("refresh".into(), vec!["ctrl-?!".into()]);
    let msg = Keymap::with_overrides(&bad, "config.toml")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("'ctrl-?!'") && msg.contains("config.toml"),
        "{msg}"
    );
}
