//! One sample line: `name{labels} value [timestamp] [# exemplar]`, with the
//! family prefilter applied as soon as the name is known.

use super::number::{parse_timestamp_ms, parse_value};
use super::text::{
    LineError, all_label_bytes, find2, is_blank, label_name_end, metric_name_end, quoted,
    skip_blanks, token_end,
};
use crate::collect::scrape::{FamilyFilter, Label};

/// A parsed sample line (its labels are in the caller's vector).
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    pub name: &'a str,
    pub series: &'a [u8],
    pub value: f64,
    pub timestamp_ms: Option<i64>,
}

/// The metric name of a sample line as the filter sees it, and where the
/// name ends. `line` starts at the first non-blank byte.
fn family_name(line: &[u8]) -> Result<(&[u8], usize), LineError> {
    if line.first() == Some(&b'{') {
        // UTF-8 form: `{"my.metric", ...}`.
        let open = skip_blanks(line, 1);
        if line.get(open) != Some(&b'"') {
            return Err(if open >= line.len() {
                LineError::incomplete("unclosed label set")
            } else {
                LineError::malformed("expected a quoted metric name after `{`")
            });
        }
        let Some(rel) = memchr::memchr2(b'"', b'\\', &line[open + 1..]) else {
            return Err(LineError::incomplete("unterminated quoted metric name"));
        };
        let close = open + 1 + rel;
        if line[close] == b'\\' {
            return Err(LineError::malformed(
                "escape sequences in a quoted metric name are not supported",
            ));
        }
        let after = skip_blanks(line, close + 1);
        if line.get(after) == Some(&b'=') {
            return Err(LineError::malformed("missing metric name (label set only)"));
        }
        return Ok((&line[open + 1..close], close + 1));
    }
    let end = metric_name_end(line, 0);
    if end == 0 {
        return Err(LineError::malformed("expected a metric name"));
    }
    Ok((&line[..end], end))
}

/// Parses a sample line that starts at its first non-blank byte and has no
/// line terminator. Returns `Ok(None)` when the filter skips the family;
/// otherwise the labels are pushed into `labels` (which must be empty).
pub(crate) fn parse_sample<'a>(
    line: &'a [u8],
    filter: &dyn FamilyFilter,
    int_ts_is_seconds: bool,
    labels: &mut Vec<Label<'a>>,
) -> Result<Option<Parsed<'a>>, LineError> {
    let (name_bytes, name_stop) = family_name(line)?;
    if !filter.keep(name_bytes) {
        return Ok(None);
    }
    // Only kept lines are validated; name and delimiters are ASCII, so every
    // index below falls on a char boundary.
    let s = std::str::from_utf8(line)
        .map_err(|e| LineError::malformed(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let bytes = s.as_bytes();
    let quoted_form = bytes[0] == b'{';
    let name = if quoted_form {
        s.get(name_stop - 1 - name_bytes.len()..name_stop - 1)
    } else {
        s.get(..name_stop)
    }
    .unwrap_or_default();

    let mut i = name_stop;
    let series_end;
    if quoted_form {
        i = skip_blanks(bytes, i);
        match bytes.get(i) {
            Some(b'}') => i += 1,
            Some(b',') => i = parse_labels(s, i + 1, labels)?,
            Some(c) => {
                return Err(LineError::malformed(format!(
                    "expected `,` or `}}` after the metric name, found `{}`",
                    char::from(*c)
                )));
            }
            None => return Err(LineError::incomplete("unclosed label set")),
        }
        series_end = i;
    } else {
        match bytes.get(i) {
            None => return Err(LineError::incomplete("missing value after the metric name")),
            Some(&c) if !is_blank(c) && c != b'{' => {
                return Err(LineError::malformed(format!(
                    "unexpected character `{}` after metric name `{name}`",
                    printable(s, i)
                )));
            }
            _ => {}
        }
        let j = skip_blanks(bytes, i);
        if bytes.get(j) == Some(&b'{') {
            i = parse_labels(s, j + 1, labels)?;
        }
        series_end = i;
    }
    let series = &bytes[..series_end];

    // Value.
    let v0 = skip_blanks(bytes, i);
    if v0 >= bytes.len() {
        return Err(LineError::incomplete("missing value"));
    }
    let v1 = token_end(bytes, v0);
    let value = parse_value(&bytes[v0..v1]).ok_or_else(|| {
        LineError::malformed(format!(
            "invalid value `{}`",
            s.get(v0..v1).unwrap_or_default()
        ))
    })?;

    // Optional timestamp, optional exemplar (ignored).
    let mut timestamp_ms = None;
    let t0 = skip_blanks(bytes, v1);
    if t0 < bytes.len() && bytes[t0] != b'#' {
        let t1 = token_end(bytes, t0);
        timestamp_ms = Some(
            parse_timestamp_ms(&bytes[t0..t1], int_ts_is_seconds).ok_or_else(|| {
                LineError::malformed(format!(
                    "invalid timestamp `{}`",
                    s.get(t0..t1).unwrap_or_default()
                ))
            })?,
        );
        let rest = skip_blanks(bytes, t1);
        if rest < bytes.len() && bytes[rest] != b'#' {
            return Err(LineError::malformed(format!(
                "unexpected text after the timestamp: `{}`",
                s.get(rest..).unwrap_or_default()
            )));
        }
    }
    Ok(Some(Parsed {
        name,
        series,
        value,
        timestamp_ms,
    }))
}

/// The character at byte `i` of `s` (for messages).
fn printable(s: &str, i: usize) -> char {
    s.get(i..).and_then(|t| t.chars().next()).unwrap_or('?')
}

/// Parses label items from `i` (just after `{` or a `,`) through the closing
/// `}`; returns the index after it.
fn parse_labels<'a>(
    s: &'a str,
    mut i: usize,
    labels: &mut Vec<Label<'a>>,
) -> Result<usize, LineError> {
    let bytes = s.as_bytes();
    loop {
        i = skip_blanks(bytes, i);
        let was_quoted = bytes.get(i) == Some(&b'"');
        let name: &'a str = match bytes.get(i) {
            None => return Err(LineError::incomplete("unclosed label set")),
            Some(b'}') => return Ok(i + 1),
            Some(b'"') => {
                let (n, end) = quoted(s, i)?;
                let std::borrow::Cow::Borrowed(n) = n else {
                    return Err(LineError::malformed(
                        "escape sequences in a quoted label name are not supported",
                    ));
                };
                i = end;
                n
            }
            Some(_) => {
                // Fast path: the name runs to `=` (found word-at-a-time) and
                // is all name bytes; otherwise scan precisely for the error.
                let eq = find2(b'=', b'=', &bytes[i..]).map_or(bytes.len(), |p| i + p);
                let mut end = eq;
                while end > i && is_blank(bytes[end - 1]) {
                    end -= 1;
                }
                if end == i || !all_label_bytes(&bytes[i..end]) {
                    end = label_name_end(bytes, i);
                }
                if end == i {
                    return Err(LineError::malformed(format!(
                        "expected a label name, found `{}`",
                        printable(s, i)
                    )));
                }
                let n = s.get(i..end).unwrap_or_default();
                i = end;
                n
            }
        };
        i = skip_blanks(bytes, i);
        match bytes.get(i) {
            Some(b'=') => i = skip_blanks(bytes, i + 1),
            None => return Err(LineError::incomplete("unclosed label set")),
            Some(_) if was_quoted => {
                return Err(LineError::malformed(format!(
                    "quoted name `{name}` without `=`: a metric name must come first in the label set"
                )));
            }
            Some(_) => {
                return Err(LineError::malformed(format!(
                    "expected `=` after label name `{name}`, found `{}`",
                    printable(s, i)
                )));
            }
        }
        match bytes.get(i) {
            Some(b'"') => {}
            None => return Err(LineError::incomplete("unclosed label set")),
            Some(_) => {
                return Err(LineError::malformed(format!(
                    "label `{name}`: value must be quoted, found `{}`",
                    printable(s, i)
                )));
            }
        }
        let (value, end) = quoted(s, i)?;
        labels.push(Label { name, value });
        i = skip_blanks(bytes, end);
        match bytes.get(i) {
            Some(b',') => i += 1,
            Some(b'}') => {}
            None => return Err(LineError::incomplete("unclosed label set")),
            Some(_) => {
                return Err(LineError::malformed(format!(
                    "expected `,` or `}}` after label `{name}`, found `{}`",
                    printable(s, i)
                )));
            }
        }
    }
}
