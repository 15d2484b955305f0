//! Proxy exposition text → samples.
//!
//! Every scrape goes through an [`ExpositionParser`] behind a family prefilter
//! ([`FamilyFilter`]): lines of families no dialect needs (the `envoy_*` noise
//! that makes up most of a sidecar's dump) are skipped before any per-sample
//! structure is built. The production parser is [`parser::StreamParser`]; the
//! `prometheus-parse` crate is kept as [`baseline::PromParseBaseline`] for the
//! benchmark and as a differential-test oracle (see docs/parser.md for why).

pub mod baseline;
pub mod parser;

use std::borrow::Cow;

/// One label of a sample, with its value unescaped.
#[derive(Debug, Clone, PartialEq)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: Cow<'a, str>,
}

/// One sample of a kept family, borrowed from the parser's buffers.
#[derive(Debug, Clone)]
pub struct Sample<'a> {
    /// The sample's metric name, e.g. `istio_request_duration_milliseconds_bucket`.
    pub name: &'a str,
    /// The labels in exposition order, values unescaped.
    pub labels: &'a [Label<'a>],
    /// The raw bytes of the series (name and label block, as written) — a
    /// cheap, stable identity for the series within one target's scrapes.
    pub series: &'a [u8],
    /// The value (`NaN`, `+Inf`, `-Inf` included).
    pub value: f64,
    /// The timestamp in milliseconds, when the exposition gave one.
    pub timestamp_ms: Option<i64>,
}

impl Sample<'_> {
    /// The value of a label, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.value.as_ref())
    }
}

/// The declared type of a metric family (`# TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricType {
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
    Untyped,
}

/// Something wrong in the input, with the 1-based line number it was found on.
/// Issues never stop a parse: the offending line is skipped, the rest is used.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseIssue {
    pub line: usize,
    pub message: String,
}

/// What a parse saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParseStats {
    /// Lines read (comments and blank lines included).
    pub lines: usize,
    /// Samples handed to the sink.
    pub samples_kept: usize,
    /// Sample lines skipped by the family filter.
    pub samples_skipped: usize,
    /// Malformed lines and other defects, at most [`MAX_ISSUES`] kept.
    pub issues: Vec<ParseIssue>,
    /// Total number of issues seen (may exceed `issues.len()`).
    pub issue_count: usize,
    /// Whether the input ended in the middle of a line (a truncated scrape).
    pub truncated: bool,
    /// Whether an OpenMetrics `# EOF` marker was seen.
    pub saw_eof: bool,
}

/// At most this many issues are kept per parse (all are counted).
pub const MAX_ISSUES: usize = 64;

impl ParseStats {
    pub fn push_issue(&mut self, line: usize, message: impl Into<String>) {
        self.issue_count += 1;
        if self.issues.len() < MAX_ISSUES {
            self.issues.push(ParseIssue {
                line,
                message: message.into(),
            });
        }
    }
}

/// Decides, from a sample's metric name alone, whether its line is parsed.
pub trait FamilyFilter {
    fn keep(&self, name: &[u8]) -> bool;
}

/// Keeps every family.
pub struct KeepAll;

impl FamilyFilter for KeepAll {
    fn keep(&self, _name: &[u8]) -> bool {
        true
    }
}

impl<F: Fn(&[u8]) -> bool> FamilyFilter for F {
    fn keep(&self, name: &[u8]) -> bool {
        self(name)
    }
}

/// Receives the samples of kept families.
pub trait SampleSink {
    fn sample(&mut self, sample: &Sample<'_>);
    /// A `# TYPE` line (kept or not); default: ignored.
    fn family_type(&mut self, _family: &str, _kind: MetricType) {}
}

impl<F: FnMut(&Sample<'_>)> SampleSink for F {
    fn sample(&mut self, sample: &Sample<'_>) {
        self(sample)
    }
}

/// A parser of the Prometheus text format (0.0.4) and OpenMetrics text, fed
/// in chunks of any size so a scrape can be streamed from the network.
pub trait ExpositionParser {
    /// Feed the next chunk of input; complete lines are parsed at once.
    fn feed(&mut self, chunk: &[u8], filter: &dyn FamilyFilter, sink: &mut dyn SampleSink);
    /// End of input: parse what is left and return the statistics.
    fn finish(&mut self, filter: &dyn FamilyFilter, sink: &mut dyn SampleSink) -> ParseStats;
}

/// Parse a whole buffer with the production parser.
pub fn parse_bytes(
    input: &[u8],
    filter: &dyn FamilyFilter,
    sink: &mut dyn SampleSink,
) -> ParseStats {
    let mut p = parser::StreamParser::new();
    p.feed(input, filter, sink);
    p.finish(filter, sink)
}
