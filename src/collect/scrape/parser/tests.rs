//! Unit tests of the streaming parser (the corpus and fixture tests live in
//! `tests/parser_*.rs`).

use super::*;
use crate::collect::scrape::KeepAll;

#[derive(Debug, PartialEq)]
struct Owned {
    name: String,
    labels: Vec<(String, String)>,
    series: String,
    value: String,
    ts: Option<i64>,
}

fn collect(input: &[u8], chunk: usize) -> (Vec<Owned>, ParseStats) {
    let mut out = Vec::new();
    let mut sink = |s: &Sample<'_>| {
        out.push(Owned {
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
    };
    let mut p = StreamParser::new();
    for c in input.chunks(chunk.max(1)) {
        p.feed(c, &KeepAll, &mut sink);
    }
    let stats = p.finish(&KeepAll, &mut sink);
    (out, stats)
}

#[test]
fn basic_line_with_labels_and_timestamp() {
    let (s, st) = collect(b"foo{a=\"1\",b=\"x y\"} 3.5 -12\n", 1024);
    assert_eq!(st.issues, vec![]);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].name, "foo");
    assert_eq!(s[0].series, "foo{a=\"1\",b=\"x y\"}");
    assert_eq!(
        s[0].labels,
        vec![("a".into(), "1".into()), ("b".into(), "x y".into())]
    );
    assert_eq!(s[0].value, "3.5");
    assert_eq!(s[0].ts, Some(-12));
}

#[test]
fn chunking_by_one_byte_matches() {
    let input = b"# TYPE a counter\na_total{x=\"\\\"q\\\"\"} 1 # {t=\"1\"} 2 3\r\nb 2\n{\"c.d\",\"e.f\"=\"g\"} 3";
    let whole = collect(input, input.len());
    let bytes = collect(input, 1);
    assert_eq!(whole, bytes);
    assert_eq!(whole.0.len(), 3);
    assert_eq!(whole.0[2].name, "c.d");
    assert_eq!(whole.0[2].labels, vec![("e.f".into(), "g".into())]);
    assert!(!whole.1.truncated);
}

#[test]
fn label_vec_allocation_is_reused() {
    let mut p = StreamParser::new();
    let mut sink = |_: &Sample<'_>| {};
    p.feed(b"a{x=\"1\",y=\"2\",z=\"3\"} 1\n", &KeepAll, &mut sink);
    let cap = p.state.labels.capacity();
    assert!(cap >= 3);
    p.feed(b"a{x=\"1\"} 1\n", &KeepAll, &mut sink);
    assert_eq!(p.state.labels.capacity(), cap);
}

#[test]
fn truncated_inside_braces() {
    let (s, st) = collect(b"a 1\nb{x=\"1", 3);
    assert_eq!(s.len(), 1);
    assert!(st.truncated);
    assert_eq!(st.issues.len(), 1);
    assert_eq!(st.issues[0].line, 2);
    assert!(
        st.issues[0].message.contains("unclosed") || st.issues[0].message.contains("unterminated")
    );
}

#[test]
fn parser_is_reusable_after_finish() {
    let mut p = StreamParser::with_dialect(Dialect::OpenMetrics);
    let mut n = 0;
    let mut sink = |_: &Sample<'_>| n += 1;
    p.feed(b"a 1 5\n", &KeepAll, &mut sink);
    let st1 = p.finish(&KeepAll, &mut sink);
    p.feed(b"a 1\n", &KeepAll, &mut sink);
    let st2 = p.finish(&KeepAll, &mut sink);
    assert_eq!((st1.lines, st2.lines), (1, 1));
    assert_eq!(p.state.dialect, Dialect::OpenMetrics);
    assert_eq!(n, 2);
}

#[test]
fn openmetrics_integer_timestamp_is_seconds() {
    let mut ts = None;
    let mut p = StreamParser::with_dialect(Dialect::OpenMetrics);
    let mut sink = |s: &Sample<'_>| ts = s.timestamp_ms;
    p.feed(b"a 1 5\n", &KeepAll, &mut sink);
    p.finish(&KeepAll, &mut sink);
    assert_eq!(ts, Some(5000));
}

#[test]
fn parse_reader_streams() {
    let mut input = Vec::new();
    for i in 0..20_000 {
        input.extend_from_slice(format!("m{{i=\"{i}\"}} {i}\n").as_bytes());
    }
    let mut n = 0usize;
    let mut sink = |_: &Sample<'_>| n += 1;
    let st = parse_reader(&input[..], &KeepAll, &mut sink).unwrap();
    assert_eq!(st.samples_kept, 20_000);
    assert_eq!(n, 20_000);
    assert!(input.len() > READ_CHUNK * 2);
}

/// A reader that is interrupted once, yields a line, then fails.
struct Flaky {
    step: usize,
}

impl std::io::Read for Flaky {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.step += 1;
        match self.step {
            1 => Err(std::io::ErrorKind::Interrupted.into()),
            2 => {
                let line = b"a 1\n";
                buf[..line.len()].copy_from_slice(line);
                Ok(line.len())
            }
            _ => Err(std::io::Error::other("connection reset")),
        }
    }
}

#[test]
fn parse_reader_retries_interrupts_and_reports_read_errors() {
    let mut n = 0;
    let mut sink = |_: &Sample<'_>| n += 1;
    let err = parse_reader(Flaky { step: 0 }, &KeepAll, &mut sink).unwrap_err();
    assert_eq!(err.to_string(), "connection reset");
    assert_eq!(n, 1);
}
