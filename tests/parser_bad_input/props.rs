//! Property tests: any bytes, any chunking; valid generated inputs round-trip.

use proptest::prelude::*;

use super::*;

/// Bytes drawn mostly from the format's own alphabet, to reach deep states.
fn formatish() -> impl Strategy<Value = Vec<u8>> {
    let alphabet: &[u8] = b"{}\"=,\\ \t\n\r#aZ_:.019eE+-NaInf TYPEOF";
    prop::collection::vec(prop::sample::select(alphabet.to_vec()), 0..400)
}

/// One generated series: name, labels (raw values), value text, timestamp.
type Line = (String, Vec<(String, String)>, String, Option<i64>);

fn line() -> impl Strategy<Value = Line> {
    (
        "[a-z_][a-z0-9_:]{0,12}",
        prop::collection::vec(("[a-z_][a-z0-9_]{0,8}", "[ -~é\n]{0,12}"), 0..5),
        prop::sample::select(vec![
            "0",
            "1",
            "-3",
            "2.5",
            "1e9",
            "NaN",
            "+Inf",
            "-Inf",
            "123456789012345678",
        ]),
        prop::option::of(-2_000_000_000_000i64..2_000_000_000_000),
    )
        .prop_map(|(n, l, v, t)| (n, l, v.to_owned(), t))
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn render(lines: &[Line], braces_when_empty: bool) -> String {
    let mut out = String::new();
    for (name, labels, value, ts) in lines {
        out.push_str(name);
        if !labels.is_empty() || braces_when_empty {
            out.push('{');
            let items: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            out.push_str(&items.join(","));
            out.push('}');
        }
        out.push(' ');
        out.push_str(value);
        if let Some(ts) = ts {
            out.push_str(&format!(" {ts}"));
        }
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_and_chunking_is_invisible(
        bytes in prop::collection::vec(any::<u8>(), 0..600),
        sizes in prop::collection::vec(1usize..50, 1..6),
    ) {
        let whole = parse(&bytes);
        let split = parse_chunked(&bytes, &sizes, &KeepAll);
        prop_assert_eq!(&whole, &split);
        prop_assert!(whole.1.issues.len() <= whole.1.issue_count);
    }

    #[test]
    fn format_like_bytes_never_panic_and_chunking_is_invisible(
        bytes in formatish(),
        sizes in prop::collection::vec(1usize..20, 1..6),
    ) {
        let whole = parse(&bytes);
        let split = parse_chunked(&bytes, &sizes, &KeepAll);
        prop_assert_eq!(&whole, &split);
        // A filter only removes samples, never changes the others.
        let (some, st) = parse_chunked(&bytes, &sizes, &|n: &[u8]| n.first() == Some(&b'a'));
        prop_assert!(some.samples.iter().all(|s| s.name.starts_with('a')));
        prop_assert!(st.samples_kept <= whole.1.samples_kept);
    }

    #[test]
    fn valid_inputs_round_trip_under_any_split(
        lines in prop::collection::vec(line(), 0..30),
        braces in any::<bool>(),
        sizes in prop::collection::vec(1usize..100, 1..6),
    ) {
        let text = render(&lines, braces);
        let (whole, st) = parse(text.as_bytes());
        prop_assert_eq!(&st.issues, &vec![]);
        prop_assert_eq!(whole.samples.len(), lines.len());
        for (s, (name, labels, value, ts)) in whole.samples.iter().zip(&lines) {
            prop_assert_eq!(&s.name, name);
            prop_assert_eq!(&s.labels, labels);
            prop_assert_eq!(&s.ts, ts);
            let expect: f64 = if value == "NaN" { f64::NAN } else { value.parse().unwrap() };
            prop_assert_eq!(&s.value, &format!("{expect:?}"));
        }
        let split = parse_chunked(text.as_bytes(), &sizes, &KeepAll);
        prop_assert_eq!((&whole, &st), (&split.0, &split.1));
    }
}

#[test]
fn corpus_files_under_random_splits() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    let root = if root.is_dir() {
        root
    } else {
        PathBuf::from("/work/shared/corpus")
    };
    if !root.is_dir() {
        println!("skipped: corpus not found");
        return;
    }
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 24,
        ..ProptestConfig::default()
    });
    for dir in ["envoy-istio-metrics", "linkerd-metrics"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let whole = parse(&bytes);
            runner
                .run(&prop::collection::vec(1usize..5000, 1..8), |sizes| {
                    prop_assert_eq!(&whole, &parse_chunked(&bytes, &sizes, &KeepAll));
                    Ok(())
                })
                .unwrap();
        }
    }
}
