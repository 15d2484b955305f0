//! Byte-level helpers shared by the line parsers: whitespace, names, quoted
//! strings and the quoting of bad input in issue messages.

use std::borrow::Cow;

/// Why a line could not be used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineError {
    /// The line ended where more was expected (a truncated input, if it is
    /// the last line of the input).
    pub incomplete: bool,
    /// What is wrong, without the line text (the caller quotes it).
    pub what: String,
}

impl LineError {
    pub fn malformed(what: impl Into<String>) -> Self {
        Self {
            incomplete: false,
            what: what.into(),
        }
    }
    pub fn incomplete(what: impl Into<String>) -> Self {
        Self {
            incomplete: true,
            what: what.into(),
        }
    }
}

/// At most this many bytes of a bad line are quoted in an issue message.
const QUOTE_MAX: usize = 80;

/// The (truncated, lossily decoded) text of a bad line, for an issue message.
pub(crate) fn quote(line: &[u8]) -> String {
    if line.len() <= QUOTE_MAX {
        format!("`{}`", String::from_utf8_lossy(line))
    } else {
        format!("`{}`…", String::from_utf8_lossy(&line[..QUOTE_MAX]))
    }
}

/// Blanks and tabs separate tokens.
#[inline]
pub(crate) fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Index of the first non-blank byte at or after `i`.
#[inline]
pub(crate) fn skip_blanks(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && is_blank(line[i]) {
        i += 1;
    }
    i
}

/// Index of the first blank byte at or after `i` (or `line.len()`).
#[inline]
pub(crate) fn token_end(line: &[u8], mut i: usize) -> usize {
    while i < line.len() && !is_blank(line[i]) {
        i += 1;
    }
    i
}

/// Byte classes: bit 0 = legacy metric-name byte `[a-zA-Z0-9_:]`, bit 1 =
/// legacy label-name byte `[a-zA-Z0-9_]`.
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c.is_ascii_alphanumeric() || c == b'_' {
            t[b] = 0b11;
        } else if c == b':' {
            t[b] = 0b01;
        }
        b += 1;
    }
    t
};

/// End of the run of legacy metric-name bytes `[a-zA-Z0-9_:]` from `i`.
#[inline]
pub(crate) fn metric_name_end(line: &[u8], i: usize) -> usize {
    class_run_end(line, i, 0b01)
}

/// End of the run of legacy label-name bytes `[a-zA-Z0-9_]` from `i`.
#[inline]
pub(crate) fn label_name_end(line: &[u8], i: usize) -> usize {
    class_run_end(line, i, 0b10)
}

#[inline(always)]
fn class_run_end(line: &[u8], i: usize, bit: u8) -> usize {
    match line.get(i..) {
        Some(rest) => {
            i + rest
                .iter()
                .position(|&b| CLASS[usize::from(b)] & bit == 0)
                .unwrap_or(rest.len())
        }
        None => i,
    }
}

/// Whether every byte is a legacy label-name byte (branch-free over bytes).
#[inline]
pub(crate) fn all_label_bytes(name: &[u8]) -> bool {
    name.iter()
        .fold(0b10, |acc, &b| acc & CLASS[usize::from(b)])
        != 0
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// High bit set in each zero byte of `v` (the lowest set bit is exact).
#[inline(always)]
fn zero_bytes(v: u64) -> u64 {
    v.wrapping_sub(LO) & !v & HI
}

/// Words scanned 8 bytes at a time before handing over to `memchr`.
const SWAR_WORDS: usize = 8;

/// Position of the first `a` or `b` in `hay`: a word-at-a-time scan (no
/// call overhead on the short label names and values that dominate) that
/// falls back to `memchr2` past 64 bytes.
#[inline]
pub(crate) fn find2(a: u8, b: u8, hay: &[u8]) -> Option<usize> {
    let (ra, rb) = (LO * u64::from(a), LO * u64::from(b));
    let mut i = 0;
    for word in hay.chunks_exact(8).take(SWAR_WORDS) {
        let mut arr = [0u8; 8];
        arr.copy_from_slice(word);
        let w = u64::from_le_bytes(arr);
        let m = zero_bytes(w ^ ra) | zero_bytes(w ^ rb);
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    let rest = &hay[i..];
    if rest.len() < 8 {
        rest.iter().position(|&c| c == a || c == b).map(|p| i + p)
    } else {
        memchr::memchr2(a, b, rest).map(|p| i + p)
    }
}

/// Reads a quoted string whose opening `"` is at `open`. Returns the
/// unescaped content (borrowed when there is no escape) and the index just
/// past the closing quote. `\\`, `\"` and `\n` are unescaped; a backslash
/// before any other character is kept with it (OpenMetrics leniency).
pub(crate) fn quoted(line: &str, open: usize) -> Result<(Cow<'_, str>, usize), LineError> {
    let bytes = line.as_bytes();
    let start = open + 1;
    let Some(rel) = find2(b'"', b'\\', bytes.get(start..).unwrap_or_default()) else {
        return Err(LineError::incomplete("unterminated quoted string"));
    };
    let mut pos = start + rel;
    if bytes[pos] == b'"' {
        let s = line.get(start..pos).unwrap_or_default();
        return Ok((Cow::Borrowed(s), pos + 1));
    }
    // Escape path: copy into an owned string.
    let mut out = String::with_capacity(pos - start + 16);
    out.push_str(line.get(start..pos).unwrap_or_default());
    loop {
        // bytes[pos] is a backslash here.
        match bytes.get(pos + 1) {
            None => return Err(LineError::incomplete("unterminated quoted string")),
            Some(b'\\') => out.push('\\'),
            Some(b'"') => out.push('"'),
            Some(b'n') => out.push('\n'),
            Some(_) => {
                // Keep the backslash; the next character is copied below.
                out.push('\\');
                pos += 1;
                let Some(rel) = find2(b'"', b'\\', &bytes[pos + 1..]) else {
                    return Err(LineError::incomplete("unterminated quoted string"));
                };
                out.push_str(line.get(pos..pos + 1 + rel).unwrap_or_default());
                pos += 1 + rel;
                if bytes[pos] == b'"' {
                    return Ok((Cow::Owned(out), pos + 1));
                }
                continue;
            }
        }
        pos += 2;
        let Some(rel) = find2(b'"', b'\\', bytes.get(pos..).unwrap_or_default()) else {
            return Err(LineError::incomplete("unterminated quoted string"));
        };
        out.push_str(line.get(pos..pos + rel).unwrap_or_default());
        pos += rel;
        if bytes[pos] == b'"' {
            return Ok((Cow::Owned(out), pos + 1));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn quoted_borrows_without_escape() {
        let (s, end) = quoted(r#""abc" x"#, 0).unwrap();
        assert!(matches!(s, Cow::Borrowed("abc")));
        assert_eq!(end, 5);
    }

    #[test]
    fn quoted_unescapes() {
        let line = r#""a\\b\"c\nd\qe" rest"#;
        let (s, end) = quoted(line, 0).unwrap();
        assert_eq!(s, "a\\b\"c\nd\\qe");
        assert_eq!(&line[end..], " rest");
    }

    #[test]
    fn quoted_multibyte_after_backslash() {
        let (s, _) = quoted("\"x\\é\"", 0).unwrap();
        assert_eq!(s, "x\\é");
    }

    #[test]
    fn quoted_unterminated_is_incomplete() {
        assert!(quoted(r#""abc"#, 0).unwrap_err().incomplete);
        assert!(quoted(r#""abc\"#, 0).unwrap_err().incomplete);
        assert!(quoted(r#""abc\""#, 0).unwrap_err().incomplete);
    }

    #[test]
    fn find2_matches_naive() {
        let hay: Vec<u8> = (0..300u32)
            .map(|i| match (i % 37, i % 53) {
                (0, _) => b'"',
                (_, 0) => b'=',
                _ => b'x',
            })
            .collect();
        for start in 0..hay.len() {
            for len in 0..(hay.len() - start).min(90) {
                let h = &hay[start..start + len];
                let naive = h.iter().position(|&c| c == b'"' || c == b'=');
                assert_eq!(find2(b'"', b'=', h), naive);
            }
        }
        let long = [vec![b'x'; 200], vec![b'"']].concat();
        assert_eq!(find2(b'"', b'\\', &long), Some(200));
        assert_eq!(find2(b'"', b'\\', &long[..200]), None);
    }

    #[test]
    fn quote_truncates() {
        let long = vec![b'a'; 200];
        let q = quote(&long);
        assert!(q.ends_with('…'));
        assert!(q.len() < 100);
    }
}
