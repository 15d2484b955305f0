//! prometheus-parse 0.2.5 behind our [`ExpositionParser`] trait.
//!
//! Kept only as the benchmark baseline and as a differential-test oracle on
//! inputs it handles (see docs/parser.md for its defects). It buffers the
//! whole input, parses it on [`finish`](ExpositionParser::finish) with
//! `prometheus_parse::Scrape::parse`, flattens histograms and summaries back
//! into one sample per bucket/quantile, applies the filter to the flattened
//! names, and emits our [`Sample`]s. Consequences of the crate's design:
//! labels come out sorted by name (its label map is a `HashMap`), `series` is
//! rebuilt as `name{k="v",...}` from them (not the bytes as written), and a
//! timestamp is reported only when it differs from the parse time the crate
//! stamps on untimestamped samples.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_parse::{Scrape, Value};

use super::{ExpositionParser, FamilyFilter, Label, ParseStats, Sample, SampleSink};

/// prometheus-parse wrapped as an [`ExpositionParser`] (baseline/oracle only).
#[derive(Default)]
pub struct PromParseBaseline {
    buf: Vec<u8>,
}

impl PromParseBaseline {
    /// An empty baseline parser.
    pub fn new() -> Self {
        Self::default()
    }
}

/// One flattened sample, owned.
struct Flat {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
    timestamp_ms: Option<i64>,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Go-style rendering of a bucket bound or quantile (`+Inf`, `0.5`, `1`).
fn bound(v: f64) -> String {
    if v == f64::INFINITY {
        "+Inf".to_owned()
    } else if v == f64::NEG_INFINITY {
        "-Inf".to_owned()
    } else {
        format!("{v}")
    }
}

fn flatten(scrape: Scrape, window: (i64, i64)) -> Vec<Flat> {
    let mut out = Vec::with_capacity(scrape.samples.len());
    for s in scrape.samples {
        let ts = s.timestamp.timestamp_millis();
        let timestamp_ms = (ts < window.0 || ts > window.1).then_some(ts);
        let mut base: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        base.sort();
        let with = |extra: (&str, String)| {
            let mut l = base.clone();
            l.push((extra.0.to_owned(), extra.1));
            l.sort();
            l
        };
        match s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => out.push(Flat {
                name: s.metric,
                labels: base,
                value: v,
                timestamp_ms,
            }),
            Value::Histogram(hs) => {
                let name = format!("{}_bucket", s.metric);
                for h in hs {
                    out.push(Flat {
                        name: name.clone(),
                        labels: with(("le", bound(h.less_than))),
                        value: h.count,
                        timestamp_ms,
                    });
                }
            }
            Value::Summary(qs) => {
                for q in qs {
                    out.push(Flat {
                        name: s.metric.clone(),
                        labels: with(("quantile", bound(q.quantile))),
                        value: q.count,
                        timestamp_ms,
                    });
                }
            }
        }
    }
    out
}

impl ExpositionParser for PromParseBaseline {
    fn feed(&mut self, chunk: &[u8], _filter: &dyn FamilyFilter, _sink: &mut dyn SampleSink) {
        self.buf.extend_from_slice(chunk);
    }

    fn finish(&mut self, filter: &dyn FamilyFilter, sink: &mut dyn SampleSink) -> ParseStats {
        let buf = std::mem::take(&mut self.buf);
        let text = String::from_utf8_lossy(&buf);
        let mut stats = ParseStats {
            lines: text.lines().count(),
            ..ParseStats::default()
        };
        let before = now_ms();
        let scrape = match Scrape::parse(text.lines().map(|l| Ok(l.to_owned()))) {
            Ok(s) => s,
            Err(e) => {
                stats.push_issue(0, format!("prometheus-parse failed: {e}"));
                return stats;
            }
        };
        let window = (before, now_ms());
        let mut labels: Vec<Label<'_>> = Vec::new();
        let mut series = String::new();
        let flats = flatten(scrape, window);
        for f in &flats {
            if !filter.keep(f.name.as_bytes()) {
                stats.samples_skipped += 1;
                continue;
            }
            labels.clear();
            labels.extend(f.labels.iter().map(|(k, v)| Label {
                name: k.as_str(),
                value: Cow::Borrowed(v.as_str()),
            }));
            series.clear();
            series.push_str(&f.name);
            if !f.labels.is_empty() {
                series.push('{');
                for (i, (k, v)) in f.labels.iter().enumerate() {
                    if i > 0 {
                        series.push(',');
                    }
                    series.push_str(k);
                    series.push_str("=\"");
                    series.push_str(v);
                    series.push('"');
                }
                series.push('}');
            }
            stats.samples_kept += 1;
            sink.sample(&Sample {
                name: &f.name,
                labels: &labels,
                series: series.as_bytes(),
                value: f.value,
                timestamp_ms: f.timestamp_ms,
            });
        }
        stats
    }
}
