//! The production parser on hand-made defective and edge-case inputs
//! (`fixtures/metrics/*.prom`), plus property tests: no panic on any bytes,
//! and the same result however the input is split into chunks.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use meshscope::collect::scrape::parser::{Dialect, StreamParser};
use meshscope::collect::scrape::{
    ExpositionParser, FamilyFilter, KeepAll, MetricType, ParseStats, Sample, SampleSink,
};

#[derive(Debug, Clone, PartialEq)]
struct Owned {
    name: String,
    labels: Vec<(String, String)>,
    series: String,
    /// `{:?}` of the value, so NaN compares equal to NaN.
    value: String,
    ts: Option<i64>,
}

#[derive(Default, Debug, PartialEq)]
struct Collect {
    samples: Vec<Owned>,
    types: Vec<(String, MetricType)>,
}

impl SampleSink for Collect {
    fn sample(&mut self, s: &Sample<'_>) {
        self.samples.push(Owned {
            name: s.name.to_owned(),
            labels: s
                .labels
                .iter()
                .map(|l| (l.name.to_owned(), l.value.to_string()))
                .collect(),
            series: String::from_utf8_lossy(s.series).into_owned(),
            value: format!("{:?}", s.value),
            ts: s.timestamp_ms,
        });
    }
    fn family_type(&mut self, family: &str, kind: MetricType) {
        self.types.push((family.to_owned(), kind));
    }
}

/// Parses `input` fed in the given chunk sizes (cycled).
fn parse_chunked(
    input: &[u8],
    sizes: &[usize],
    filter: &dyn FamilyFilter,
) -> (Collect, ParseStats) {
    let mut c = Collect::default();
    let mut p = StreamParser::new();
    let mut rest = input;
    let mut k = 0;
    while !rest.is_empty() {
        let n = sizes
            .get(k % sizes.len().max(1))
            .copied()
            .unwrap_or(rest.len())
            .clamp(1, rest.len());
        p.feed(&rest[..n], filter, &mut c);
        rest = &rest[n..];
        k += 1;
    }
    let st = p.finish(filter, &mut c);
    (c, st)
}

fn parse(input: &[u8]) -> (Collect, ParseStats) {
    parse_chunked(input, &[input.len()], &KeepAll)
}

fn fixture(name: &str) -> (Collect, ParseStats) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/metrics")
        .join(name);
    let bytes = std::fs::read(&path).unwrap();
    // Every fixture must also parse identically byte by byte.
    let (c, st) = parse(&bytes);
    let (c1, st1) = parse_chunked(&bytes, &[1], &KeepAll);
    assert_eq!(
        (&c, &st),
        (&c1, &st1),
        "{name}: chunking changed the result"
    );
    (c, st)
}

fn label<'a>(s: &'a Owned, k: &str) -> Option<&'a str> {
    s.labels.iter().find(|l| l.0 == k).map(|l| l.1.as_str())
}

#[test]
fn malformed_lines_are_reported_with_line_numbers_and_skipped() {
    let (c, st) = fixture("malformed.prom");
    let good: Vec<_> = c.samples.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(good, ["1.0", "2.0", "3.0", "4.0"]);
    let lines: Vec<usize> = st.issues.iter().map(|i| i.line).collect();
    assert_eq!(lines, [3, 5, 6, 7, 9, 10, 11]);
    assert_eq!(st.issue_count, 7);
    let msg = |line: usize| &st.issues.iter().find(|i| i.line == line).unwrap().message;
    assert!(msg(3).contains("invalid value `one`"), "{}", msg(3));
    assert!(
        msg(3).contains("bad_value{a=\"1\"} one"),
        "quotes the line: {}",
        msg(3)
    );
    assert!(
        msg(5).contains("label `a`: value must be quoted"),
        "{}",
        msg(5)
    );
    assert!(msg(6).contains("quoted metric name"), "{}", msg(6));
    assert!(msg(7).contains("invalid timestamp `noon`"), "{}", msg(7));
    assert!(
        msg(9).contains("unexpected text after the timestamp"),
        "{}",
        msg(9)
    );
    assert!(
        msg(10).contains("`.` after metric name `bad_name`"),
        "{}",
        msg(10)
    );
    assert!(
        msg(11).contains("unknown metric type `frobnicator`"),
        "{}",
        msg(11)
    );
    assert!(!st.truncated);
}

#[test]
fn special_values() {
    let (c, st) = fixture("special_values.prom");
    assert_eq!(st.issues, vec![]);
    let v = |k: &str| {
        let s = c.samples.iter().find(|s| label(s, "k") == Some(k)).unwrap();
        (s.value.clone(), s.ts)
    };
    assert_eq!(v("nan").0, "NaN");
    assert_eq!(v("pinf").0, "inf");
    assert_eq!(v("ninf").0, "-inf");
    assert_eq!(v("inf").0, "inf");
    assert_eq!(v("linf").0, "inf");
    assert_eq!(v("exp").0, "1500.0");
    assert_eq!(v("nexp").0, "-0.02");
    assert_eq!(v("big").0, "1.8446744073709552e19");
    assert_eq!(v("ts"), ("1.0".to_owned(), Some(-1000)));
    assert_eq!(v("dot").0, "0.5");
}

#[test]
fn escaped_label_values_are_unescaped() {
    let (c, st) = fixture("escapes.prom");
    assert_eq!(st.issues, vec![]);
    let s = &c.samples[0];
    assert_eq!(label(s, "quote"), Some("say \"hi\""));
    assert_eq!(label(s, "backslash"), Some("C:\\dir"));
    assert_eq!(label(s, "newline"), Some("a\nb"));
    assert_eq!(label(s, "other"), Some("\\d"));
    assert_eq!(label(s, "utf8"), Some("é→✓"));
    // The series keeps the bytes as written (escaped).
    assert!(s.series.contains(r#"quote="say \"hi\"""#));
    assert_eq!(label(&c.samples[1], "plain"), Some("no escapes"));
}

#[test]
fn empty_label_sets() {
    let (c, st) = fixture("empty_labels.prom");
    assert_eq!(st.issues, vec![]);
    assert_eq!(c.samples.len(), 3);
    assert!(c.samples.iter().all(|s| s.labels.is_empty()));
    let series: Vec<_> = c.samples.iter().map(|s| s.series.as_str()).collect();
    assert_eq!(
        series,
        [
            "envoy_server_live{}",
            "envoy_server_uptime {}",
            "envoy_server_state\t{}"
        ]
    );
    assert_eq!(
        c.types,
        vec![("envoy_server_live".to_owned(), MetricType::Gauge)]
    );
}

#[test]
fn duplicate_series_pass_through() {
    let (c, st) = fixture("duplicates.prom");
    assert_eq!(st.issues, vec![]);
    let got: Vec<_> = c
        .samples
        .iter()
        .map(|s| (s.series.as_str(), s.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("d{a=\"1\"}", "1.0"),
            ("d{a=\"1\"}", "2.0"),
            ("d", "3.0"),
            ("d", "4.0")
        ]
    );
}

#[test]
fn truncated_input_is_flagged() {
    let (c, st) = fixture("truncated.prom");
    assert_eq!(c.samples.len(), 2);
    assert!(st.truncated);
    assert_eq!(st.issues.len(), 1);
    assert_eq!(st.issues[0].line, 4);
    assert!(
        st.issues[0].message.contains("input ends mid-line"),
        "{}",
        st.issues[0].message
    );
    assert!(st.issues[0].message.contains("t{a=\"3\",b=\"unfini"));
    assert_eq!(st.lines, 4);
}

#[test]
fn family_declared_twice_with_different_types() {
    let (c, st) = fixture("double_type.prom");
    assert_eq!(c.samples.len(), 3);
    assert_eq!(
        st.issue_count, 1,
        "same type again is not an issue: {:?}",
        st.issues
    );
    assert_eq!(st.issues[0].line, 3);
    assert!(
        st.issues[0]
            .message
            .contains("`x` declared again with type Counter (was Gauge)")
    );
    assert_eq!(c.types.len(), 3);
}

#[test]
fn histogram_without_inf_bucket_is_just_samples() {
    let (c, st) = fixture("histogram_no_inf.prom");
    assert_eq!(st.issues, vec![]);
    let names: Vec<_> = c.samples.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "h_seconds_bucket",
            "h_seconds_bucket",
            "h_seconds_sum",
            "h_seconds_count"
        ]
    );
    assert_eq!(label(&c.samples[1], "le"), Some("1"));
}

#[test]
fn crlf_line_ends() {
    let (c, st) = fixture("crlf.prom");
    assert_eq!(st.issues, vec![]);
    assert_eq!(st.lines, 5);
    let got: Vec<_> = c
        .samples
        .iter()
        .map(|s| (s.series.as_str(), s.value.as_str(), s.ts))
        .collect();
    assert_eq!(
        got,
        [
            ("c{a=\"1\"}", "1.0", None),
            ("c{a=\"2\"}", "2.0", Some(1_700_000_000_000)),
            ("c", "3.0", None)
        ]
    );
    assert_eq!(c.types, vec![("c".to_owned(), MetricType::Counter)]);
}

#[test]
fn openmetrics_unit_created_exemplars_eof() {
    let (c, st) = fixture("openmetrics.prom");
    assert_eq!(st.issues, vec![]);
    assert!(st.saw_eof);
    let names: Vec<_> = c.samples.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "req_total",
            "req_created",
            "lat_bucket",
            "lat_bucket",
            "lat_sum",
            "lat_count",
            "st",
            "st",
            "inf_info"
        ]
    );
    let req = &c.samples[0];
    assert_eq!(
        (req.value.as_str(), req.ts),
        ("10.0", Some(1_520_879_607_789))
    );
    assert_eq!(req.labels, vec![("path".to_owned(), "/".to_owned())]);
    assert_eq!(c.samples[1].value, "1520879600.5");
    assert_eq!(
        (c.samples[2].value.as_str(), c.samples[2].ts),
        ("2.0", None)
    );
    assert!(c.types.contains(&("st".to_owned(), MetricType::StateSet)));
    assert!(c.types.contains(&("inf".to_owned(), MetricType::Info)));
}

#[test]
fn openmetrics_dialect_integer_timestamps_are_seconds() {
    let mut c = Collect::default();
    let mut p = StreamParser::with_dialect(Dialect::OpenMetrics);
    p.feed(b"a 1 1520879607\nb 1 1.5\n# EOF\n", &KeepAll, &mut c);
    let st = p.finish(&KeepAll, &mut c);
    assert!(st.saw_eof);
    let ts: Vec<_> = c.samples.iter().map(|s| s.ts).collect();
    assert_eq!(ts, [Some(1_520_879_607_000), Some(1500)]);
}

#[test]
fn content_after_eof_is_an_issue() {
    let (c, st) = fixture("after_eof.prom");
    assert!(st.saw_eof);
    assert_eq!(st.issues.len(), 1);
    assert_eq!(st.issues[0].line, 3);
    assert!(st.issues[0].message.contains("after `# EOF`"));
    assert_eq!(c.samples.len(), 2, "still parsed, never lost");
}

#[test]
fn quoted_utf8_names() {
    let (c, st) = fixture("utf8_names.prom");
    assert_eq!(st.issues, vec![]);
    assert_eq!(c.types, vec![("my.metric".to_owned(), MetricType::Gauge)]);
    let got: Vec<_> = c
        .samples
        .iter()
        .map(|s| (s.name.as_str(), s.labels.clone()))
        .collect();
    let l = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        got,
        [
            ("my.metric", vec![l("a.b", "x"), l("c", "y")]),
            ("my.metric", vec![]),
            ("my.metric", vec![l("a.b", "z")]),
            ("plain", vec![l("quoted.label", "v")]),
        ]
    );
    // The filter sees the unquoted name.
    let (c, st) = parse_chunked(
        &std::fs::read(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/metrics/utf8_names.prom"),
        )
        .unwrap(),
        &[7],
        &|n: &[u8]| n == b"my.metric",
    );
    assert_eq!((c.samples.len(), st.samples_skipped), (3, 1));
}

#[test]
fn missing_final_newline_still_parses_last_line() {
    let (c, st) = parse(b"a 1\nb{x=\"y\"} 2");
    assert_eq!(c.samples.len(), 2);
    assert!(!st.truncated);
    let (c, st) = parse(b"a 1\nb{x=\"y\"}");
    assert_eq!(c.samples.len(), 1);
    assert!(st.truncated);
}

#[test]
fn prefilter_skips_without_validating() {
    // Invalid UTF-8 and garbage in a skipped family cost nothing and report nothing.
    let input = b"envoy_x{a=\"\xff\xfe\"} zzz\nistio_y 1\n";
    let (c, st) = parse_chunked(input, &[input.len()], &|n: &[u8]| n.starts_with(b"istio_"));
    assert_eq!(
        (c.samples.len(), st.samples_skipped, st.issue_count),
        (1, 1, 0)
    );
    let (c, st) = parse(input);
    assert_eq!((c.samples.len(), st.issue_count), (1, 1));
    assert!(st.issues[0].message.contains("invalid UTF-8"));
}

#[path = "parser_bad_input/props.rs"]
mod props;
