//! `#` lines: `# HELP`, `# TYPE`, `# UNIT`, `# EOF`; anything else is a comment.

use super::text::{LineError, quoted, skip_blanks, token_end};
use crate::collect::scrape::MetricType;

/// What a `#` line means to the parser.
#[derive(Debug, PartialEq)]
pub(crate) enum Comment<'a> {
    /// `# TYPE family kind`.
    Type { family: &'a str, kind: MetricType },
    /// `# EOF` (OpenMetrics end marker).
    Eof,
    /// `# HELP`, `# UNIT`, a bare `#` or any other comment.
    Other,
}

/// Parses a line starting with `#` (no line terminator).
pub(crate) fn parse_comment(line: &[u8]) -> Result<Comment<'_>, LineError> {
    let k0 = skip_blanks(line, 1);
    let k1 = token_end(line, k0);
    match &line[k0..k1] {
        b"TYPE" => parse_type(line, k1),
        b"EOF" => Ok(Comment::Eof),
        _ => Ok(Comment::Other),
    }
}

fn parse_type(line: &[u8], from: usize) -> Result<Comment<'_>, LineError> {
    let s = std::str::from_utf8(line)
        .map_err(|e| LineError::malformed(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    let bytes = s.as_bytes();
    let n0 = skip_blanks(bytes, from);
    if n0 >= bytes.len() {
        return Err(LineError::incomplete("`# TYPE` without a family name"));
    }
    let (family, n1) = if bytes[n0] == b'"' {
        let (name, end) = quoted(s, n0)?;
        let std::borrow::Cow::Borrowed(name) = name else {
            return Err(LineError::malformed(
                "escape sequences in a quoted family name are not supported",
            ));
        };
        (name, end)
    } else {
        let end = token_end(bytes, n0);
        (s.get(n0..end).unwrap_or_default(), end)
    };
    let t0 = skip_blanks(bytes, n1);
    if t0 >= bytes.len() {
        return Err(LineError::incomplete(format!(
            "`# TYPE {family}` without a type"
        )));
    }
    let t1 = token_end(bytes, t0);
    let word = s.get(t0..t1).unwrap_or_default();
    let kind = match word {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "gaugehistogram" => MetricType::GaugeHistogram,
        "summary" => MetricType::Summary,
        "info" => MetricType::Info,
        "stateset" => MetricType::StateSet,
        "untyped" | "unknown" => MetricType::Untyped,
        _ => {
            return Err(LineError::malformed(format!(
                "unknown metric type `{word}` for family `{family}`"
            )));
        }
    };
    Ok(Comment::Type { family, kind })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn comments() {
        assert_eq!(
            parse_comment(b"# TYPE foo counter"),
            Ok(Comment::Type {
                family: "foo",
                kind: MetricType::Counter
            })
        );
        assert_eq!(
            parse_comment(b"#\tTYPE  \"a.b\"  unknown"),
            Ok(Comment::Type {
                family: "a.b",
                kind: MetricType::Untyped
            })
        );
        assert_eq!(parse_comment(b"# EOF"), Ok(Comment::Eof));
        assert_eq!(parse_comment(b"#"), Ok(Comment::Other));
        assert_eq!(parse_comment(b"# HELP x y"), Ok(Comment::Other));
        assert_eq!(parse_comment(b"# UNIT x bytes"), Ok(Comment::Other));
        assert!(parse_comment(b"# TYPE foo").unwrap_err().incomplete);
        assert!(!parse_comment(b"# TYPE foo bogus").unwrap_err().incomplete);
    }
}
