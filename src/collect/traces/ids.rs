//! Trace and span ids: hex (Jaeger, Zipkin, OTLP JSON) or base64 (Tempo).

use std::hash::{Hash, Hasher};

/// An id read from text: the value and whether the text was a proper id.
fn hash_of(s: &str) -> u128 {
    let mut h = rustc_hash::FxHasher::default();
    s.hash(&mut h);
    let a = h.finish();
    "salt".hash(&mut h);
    (u128::from(h.finish()) << 64) | u128::from(a)
}

fn hex(s: &str) -> Option<u128> {
    if s.is_empty() || s.len() > 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

fn b64_val(c: u8) -> Option<u32> {
    match c {
        b'A'..=b'Z' => Some(u32::from(c - b'A')),
        b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
        b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
        b'+' | b'-' => Some(62),
        b'/' | b'_' => Some(63),
        _ => None,
    }
}

/// Decode standard or URL-safe base64 (padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let body = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for c in body.bytes() {
        acc = (acc << 6) | b64_val(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn b64(s: &str) -> Option<u128> {
    let bytes = base64_decode(s)?;
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    Some(bytes.iter().fold(0u128, |a, b| (a << 8) | u128::from(*b)))
}

/// Parse an id: hex of 16 or 32 digits first, then base64 (Tempo), then
/// any hex; `(id, true)` when it was a proper id, `(hash, false)` otherwise.
/// `None` for an empty id.
pub fn parse_id(s: &str, prefer_base64: bool) -> Option<(u128, bool)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let exact_hex = (s.len() == 16 || s.len() == 32).then(|| hex(s)).flatten();
    let found = if prefer_base64 {
        b64(s).or(exact_hex).or_else(|| hex(s))
    } else {
        exact_hex.or_else(|| b64_strict(s)).or_else(|| hex(s))
    };
    Some(match found {
        Some(v) => (v, true),
        None => (hash_of(s), false),
    })
}

/// Base64 only in its canonical padded lengths (12 chars for 8 bytes, 24
/// for 16), so short hex ids are not misread as base64.
fn b64_strict(s: &str) -> Option<u128> {
    if (s.len() == 12 || s.len() == 24) && s.ends_with('=') {
        b64(s)
    } else {
        None
    }
}

/// A span id folded to 64 bits (the low half of a longer id).
pub fn span_id(v: u128) -> u64 {
    (v as u64) ^ ((v >> 64) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_hex_and_base64() {
        assert_eq!(parse_id("00000000000000ff", false), Some((255, true)));
        // Tempo: base64 of 0x49cd77d1f9dcd936.
        assert_eq!(
            parse_id("Sc130fnc2TY=", true),
            Some((0x49cd_77d1_f9dc_d936, true))
        );
        assert_eq!(
            parse_id("Sc130fnc2TY=", false),
            Some((0x49cd_77d1_f9dc_d936, true))
        );
        assert_eq!(parse_id("", false), None);
        let (_, ok) = parse_id("not an id!", false).unwrap_or_default();
        assert!(!ok);
        assert_eq!(parse_id("abc", false), Some((0xabc, true)));
    }
}
