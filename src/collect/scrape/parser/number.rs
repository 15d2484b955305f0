//! Sample values (Go `ParseFloat` syntax) and timestamps.

/// Parses a sample value: decimal and exponent forms, `NaN`, `Inf`, `+Inf`,
/// `-Inf` (any case). Integers of up to 15 digits take an exact fast path.
pub(crate) fn parse_value(tok: &[u8]) -> Option<f64> {
    if let Some(v) = small_int(tok) {
        return Some(v);
    }
    let s = std::str::from_utf8(tok).ok()?;
    match s.parse::<f64>() {
        Ok(v) => Some(v),
        Err(_) => go_special(s),
    }
}

/// Go accepts `infinity`/`inf`/`nan` in any case; Rust's parser does too, but
/// keep an explicit fallback in case of a difference (e.g. `+nan`).
fn go_special(s: &str) -> Option<f64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if body.eq_ignore_ascii_case("inf") || body.eq_ignore_ascii_case("infinity") {
        Some(if neg {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        })
    } else if body.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else {
        None
    }
}

/// Exact fast path for short (optionally signed) decimal integers.
#[inline]
fn small_int(tok: &[u8]) -> Option<f64> {
    let (neg, digits) = match tok.first()? {
        b'-' => (true, &tok[1..]),
        b'+' => (false, &tok[1..]),
        _ => (false, tok),
    };
    if digits.is_empty() || digits.len() > 15 {
        return None;
    }
    let mut n: u64 = 0;
    for &b in digits {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        n = n * 10 + u64::from(d);
    }
    // n < 10^15 < 2^53: exact.
    #[allow(clippy::cast_precision_loss)]
    let v = n as f64;
    Some(if neg { -v } else { v })
}

/// Parses a timestamp to milliseconds. Integers are milliseconds (Prometheus
/// text format) unless `int_is_seconds` (OpenMetrics); a fractional or
/// exponent form is seconds (OpenMetrics) in either case.
pub(crate) fn parse_timestamp_ms(tok: &[u8], int_is_seconds: bool) -> Option<i64> {
    let s = std::str::from_utf8(tok).ok()?;
    if let Ok(n) = s.parse::<i64>() {
        return if int_is_seconds {
            n.checked_mul(1000)
        } else {
            Some(n)
        };
    }
    if !s.bytes().any(|b| b == b'.' || b == b'e' || b == b'E') {
        return None;
    }
    let secs: f64 = s.parse().ok()?;
    let ms = (secs * 1000.0).round();
    // i64 range check: ±9.2e18.
    if ms.is_finite() && ms.abs() < 9.0e18 {
        #[allow(clippy::cast_possible_truncation)]
        Some(ms as i64)
    } else {
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse_value(b"42"), Some(42.0));
        assert_eq!(parse_value(b"-7"), Some(-7.0));
        assert_eq!(parse_value(b"1.5e3"), Some(1500.0));
        assert_eq!(parse_value(b"1E-2"), Some(0.01));
        assert_eq!(parse_value(b".5"), Some(0.5));
        assert_eq!(parse_value(b"+Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value(b"Inf"), Some(f64::INFINITY));
        assert_eq!(parse_value(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_value(b"-Inf"), Some(f64::NEG_INFINITY));
        assert!(parse_value(b"NaN").is_some_and(f64::is_nan));
        assert!(parse_value(b"nan").is_some_and(f64::is_nan));
        assert_eq!(
            parse_value(b"18446744073709551615"),
            Some(18_446_744_073_709_551_615.0)
        );
        assert_eq!(parse_value(b"abc"), None);
        assert_eq!(parse_value(b""), None);
        assert_eq!(parse_value(b"-"), None);
        assert_eq!(parse_value(b"1,5"), None);
    }

    #[test]
    fn timestamps() {
        assert_eq!(
            parse_timestamp_ms(b"1520879607789", false),
            Some(1_520_879_607_789)
        );
        assert_eq!(parse_timestamp_ms(b"-5", false), Some(-5));
        assert_eq!(
            parse_timestamp_ms(b"1520879607.789", false),
            Some(1_520_879_607_789)
        );
        assert_eq!(
            parse_timestamp_ms(b"1520879607", true),
            Some(1_520_879_607_000)
        );
        assert_eq!(parse_timestamp_ms(b"1.5e9", false), Some(1_500_000_000_000));
        assert_eq!(parse_timestamp_ms(b"x", false), None);
        assert_eq!(parse_timestamp_ms(b"NaN", false), None);
        assert_eq!(parse_timestamp_ms(b"1e300", false), None);
    }
}
