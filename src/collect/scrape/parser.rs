//! The production exposition parser: streaming, lenient, prefiltered.
//!
//! Input arrives in chunks of any size; complete lines are parsed straight
//! from the chunk and only a partial last line is copied (into `tail`). Each
//! sample line's metric name is extracted first and given to the
//! [`FamilyFilter`]; a line whose family is not kept costs a name scan and the
//! `memchr` that found its end — nothing is built or validated for it.
//! Malformed lines become [`ParseIssue`](super::ParseIssue)s and are skipped;
//! nothing stops a parse, and no input makes it panic.

mod comment;
mod number;
mod sample_line;
mod text;

use std::io::Read;

use rustc_hash::FxHashMap;

use super::{ExpositionParser, FamilyFilter, Label, MetricType, ParseStats, Sample, SampleSink};
use comment::{Comment, parse_comment};
use text::{LineError, quote, skip_blanks};

/// Chunk size used by [`parse_reader`].
pub const READ_CHUNK: usize = 64 * 1024;

/// Which text format the input is, for the one thing that differs in
/// meaning: integer timestamps (milliseconds in 0.0.4, seconds in OpenMetrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    /// Unknown (e.g. no Content-Type): integer timestamps are milliseconds,
    /// fractional ones seconds.
    #[default]
    Auto,
    /// `text/plain; version=0.0.4`.
    Prometheus,
    /// `application/openmetrics-text`: every timestamp is in seconds.
    OpenMetrics,
}

/// Streaming parser of the Prometheus text format 0.0.4 and OpenMetrics text.
#[derive(Default)]
pub struct StreamParser {
    /// The partial last line of the previous chunk.
    tail: Vec<u8>,
    state: LineState,
}

/// Everything but the pending tail, so a line can borrow the tail while the
/// state is mutated.
#[derive(Default)]
struct LineState {
    dialect: Dialect,
    stats: ParseStats,
    /// 1-based number of the line being parsed.
    line_no: usize,
    /// Always empty between lines; only its allocation is reused.
    labels: Vec<Label<'static>>,
    /// Declared type per family, to report conflicting redeclarations.
    types: FxHashMap<String, MetricType>,
}

impl StreamParser {
    /// A parser for input of unknown dialect ([`Dialect::Auto`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser for a known dialect (from the response's Content-Type).
    pub fn with_dialect(dialect: Dialect) -> Self {
        let mut p = Self::default();
        p.state.dialect = dialect;
        p
    }
}

impl ExpositionParser for StreamParser {
    fn feed(&mut self, chunk: &[u8], filter: &dyn FamilyFilter, sink: &mut dyn SampleSink) {
        let mut rest = chunk;
        if !self.tail.is_empty() {
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                self.tail.extend_from_slice(rest);
                return;
            };
            self.tail.extend_from_slice(&rest[..nl]);
            let mut line = std::mem::take(&mut self.tail);
            self.state.line(&line, false, filter, sink);
            line.clear();
            self.tail = line;
            rest = &rest[nl + 1..];
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', rest) {
            self.state.line(&rest[start..nl], false, filter, sink);
            start = nl + 1;
        }
        self.tail.extend_from_slice(&rest[start..]);
    }

    fn finish(&mut self, filter: &dyn FamilyFilter, sink: &mut dyn SampleSink) -> ParseStats {
        if !self.tail.is_empty() {
            let line = std::mem::take(&mut self.tail);
            self.state.line(&line, true, filter, sink);
        }
        let dialect = self.state.dialect;
        let state = std::mem::take(&mut self.state);
        self.state.dialect = dialect;
        self.state.labels = relabel(state.labels);
        state.stats
    }
}

/// Re-types an empty label vector to another lifetime, keeping its
/// allocation (an in-place `collect` of an empty iterator).
// `filter_map` (not `filter`) because the item type changes lifetime.
#[allow(clippy::unnecessary_filter_map)]
fn relabel<'x, 'y>(mut v: Vec<Label<'x>>) -> Vec<Label<'y>> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

impl LineState {
    /// Parses one line (without its `\n`). `last` marks an input's final,
    /// unterminated line.
    fn line(
        &mut self,
        raw: &[u8],
        last: bool,
        filter: &dyn FamilyFilter,
        sink: &mut dyn SampleSink,
    ) {
        self.line_no += 1;
        self.stats.lines += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let start = skip_blanks(raw, 0);
        let line = &raw[start..];
        let line = trim_end_blanks(line);
        if line.is_empty() {
            return;
        }
        if self.stats.saw_eof {
            self.stats.push_issue(
                self.line_no,
                format!("content after `# EOF`: {}", quote(line)),
            );
        }
        if line[0] == b'#' {
            match parse_comment(line) {
                Ok(Comment::Type { family, kind }) => self.family_type(family, kind, sink),
                Ok(Comment::Eof) => self.stats.saw_eof = true,
                Ok(Comment::Other) => {}
                Err(e) => self.error(e, line, last),
            }
            return;
        }
        let int_ts_is_seconds = self.dialect == Dialect::OpenMetrics;
        let mut labels: Vec<Label<'_>> = relabel(std::mem::take(&mut self.labels));
        match sample_line::parse_sample(line, filter, int_ts_is_seconds, &mut labels) {
            Ok(Some(p)) => {
                self.stats.samples_kept += 1;
                sink.sample(&Sample {
                    name: p.name,
                    labels: &labels,
                    series: p.series,
                    value: p.value,
                    timestamp_ms: p.timestamp_ms,
                });
            }
            Ok(None) => self.stats.samples_skipped += 1,
            Err(e) => self.error(e, line, last),
        }
        self.labels = relabel(labels);
    }

    fn family_type(&mut self, family: &str, kind: MetricType, sink: &mut dyn SampleSink) {
        // The latest declaration wins; only a change of type is reported.
        match self.types.get_mut(family) {
            Some(prev) if *prev != kind => {
                let was = std::mem::replace(prev, kind);
                self.stats.push_issue(
                    self.line_no,
                    format!("family `{family}` declared again with type {kind:?} (was {was:?})"),
                );
            }
            Some(_) => {}
            None => {
                self.types.insert(family.to_owned(), kind);
            }
        }
        sink.family_type(family, kind);
    }

    fn error(&mut self, e: LineError, line: &[u8], last: bool) {
        if last && e.incomplete {
            self.stats.truncated = true;
            self.stats.push_issue(
                self.line_no,
                format!("input ends mid-line ({}): {}", e.what, quote(line)),
            );
        } else {
            self.stats
                .push_issue(self.line_no, format!("{}: {}", e.what, quote(line)));
        }
    }
}

fn trim_end_blanks(mut line: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t' | b'\r'] = line {
        line = rest;
    }
    line
}

/// Streams a reader (a file, an HTTP body) through a [`StreamParser`] in
/// [`READ_CHUNK`]-byte chunks. Only read errors are errors; defects of the
/// input are reported in the returned [`ParseStats`].
pub fn parse_reader<R: Read>(
    mut r: R,
    filter: &dyn FamilyFilter,
    sink: &mut dyn SampleSink,
) -> std::io::Result<ParseStats> {
    let mut parser = StreamParser::new();
    let mut buf = vec![0u8; READ_CHUNK];
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        parser.feed(&buf[..n], filter, sink);
    }
    Ok(parser.finish(filter, sink))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
