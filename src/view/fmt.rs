//! Health classification and number formatting shared by the views.

use crate::model::snapshot::{MtlsStatus, Signals};

/// Health of a node or edge, with Kiali's default thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Health {
    /// No traffic, or nothing known.
    Neutral,
    Healthy,
    /// Some 5xx (failure share above 0 and under 10 %).
    Degraded,
    /// 10 % or more of requests failed.
    Failing,
}

/// Failure share at or above which a node or edge is failing (Kiali default).
pub const FAILURE_THRESHOLD: f64 = 0.10;

/// The health the signals show.
pub fn health(s: &Signals) -> Health {
    match (s.rps, s.success_rate) {
        (Some(rps), Some(ok)) if rps > 0.0 => {
            let failure = 1.0 - ok;
            if failure >= FAILURE_THRESHOLD - 1e-12 {
                Health::Failing
            } else if failure > 1e-9 {
                Health::Degraded
            } else {
                Health::Healthy
            }
        }
        _ => Health::Neutral,
    }
}

/// `12.3`, `845`, `1.2k`, or `-` when unknown.
pub fn rps(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 10_000.0 => format!("{:.0}k", v / 1000.0),
        Some(v) if v >= 1000.0 => format!("{:.1}k", v / 1000.0),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) if v >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// A compact rate for graph labels: `0.25`, `6.7`, `20`, `1.2k`, or `-`.
pub fn rps_short(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 10_000.0 => format!("{:.0}k", v / 1000.0),
        Some(v) if v >= 1000.0 => format!("{:.1}k", v / 1000.0),
        Some(v) if v >= 10.0 => format!("{v:.0}"),
        Some(v) if v >= 1.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

/// `99.5%`, `100%`, or `-`.
pub fn pct(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 0.99995 => "100%".into(),
        Some(v) => format!("{:.1}%", v * 100.0),
    }
}

/// `12ms`, `1.25s`, `0.4ms`, or `-`.
pub fn ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 10_000.0 => format!("{:.0}s", v / 1000.0),
        Some(v) if v >= 1000.0 => format!("{:.2}s", v / 1000.0),
        Some(v) if v >= 10.0 => format!("{v:.0}ms"),
        Some(v) => format!("{v:.1}ms"),
    }
}

/// Bytes per second: `512B/s`, `1.2KB/s`, `3.4MB/s`, or `-`.
pub fn bytes(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v >= 1e6 => format!("{:.1}MB/s", v / 1e6),
        Some(v) if v >= 1e3 => format!("{:.1}KB/s", v / 1e3),
        Some(v) => format!("{v:.0}B/s"),
    }
}

/// A count such as open connections: `12`, or `-`.
pub fn count(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.0}"))
}

/// The word for an mTLS status.
pub fn mtls(status: MtlsStatus) -> &'static str {
    match status {
        MtlsStatus::Full => "full",
        MtlsStatus::Partial => "partial",
        MtlsStatus::None => "none",
        MtlsStatus::Unknown => "unknown",
    }
}

/// Truncates to `max` display columns with an ellipsis.
pub fn truncate(s: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let total: usize = s.chars().map(|c| c.width().unwrap_or(0)).sum();
    if total <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut w = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if w + cw + 1 > max {
            break;
        }
        out.push(c);
        w += cw;
    }
    out.push('…');
    out
}

/// Display width of a string.
pub fn width(s: &str) -> usize {
    unicode_width::UnicodeWidthStr::width(s)
}

/// Fits an id (`namespace/name`) in `max` columns, shortening the namespace
/// before the name: `istio-sy…/istio-ingressgateway`.
pub fn shorten_id(id: &str, max: usize) -> String {
    if width(id) <= max {
        return id.to_string();
    }
    match id.rsplit_once('/') {
        Some((ns, name)) if width(name) + 3 <= max => {
            let room = max - width(name) - 1;
            format!("{}/{name}", truncate(ns, room))
        }
        _ => truncate(id, max),
    }
}
