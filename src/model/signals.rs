//! Edge samples over a window → golden signals and mTLS share.

use std::borrow::Cow;

use crate::model::sample::{EdgeSample, Reporter, ReqKey, Tcp, Tls, any_tcp};
use crate::model::snapshot::{Mtls, MtlsStatus, ResponseCount, Signals};

/// Count each request once when both proxies reported it (as Kiali does):
/// the destination's report is preferred — it sees the connection's
/// security policy and excludes network time — and the source adds only
/// the response tuples the destination never saw (no sidecar there, or the
/// request failed before reaching it: `503 UH`, `NR`…).
pub fn dedupe(source: Option<&EdgeSample>, dest: Option<&EdgeSample>) -> EdgeSample {
    dedupe_cow(source.map(Cow::Borrowed), dest.map(Cow::Borrowed))
}

/// [`dedupe`] taking samples that may be owned already (no copy of an
/// owned destination sample).
pub fn dedupe_cow(
    source: Option<Cow<'_, EdgeSample>>,
    dest: Option<Cow<'_, EdgeSample>>,
) -> EdgeSample {
    match (source, dest) {
        (None, None) => EdgeSample::default(),
        (Some(s), None) => s.into_owned(),
        (None, Some(d)) => d.into_owned(),
        (Some(s), Some(d)) => {
            let mut out = d.into_owned();
            add_source_only(&mut out, &s);
            out
        }
    }
}

/// [`dedupe`] written into `out`, reusing its allocations.
pub fn dedupe_into(source: Option<&EdgeSample>, dest: Option<&EdgeSample>, out: &mut EdgeSample) {
    match (source, dest) {
        (None, None) => out.copy_from(&EdgeSample::default()),
        (Some(one), None) | (None, Some(one)) => out.copy_from(one),
        (Some(s), Some(d)) => {
            out.copy_from(d);
            add_source_only(out, s);
        }
    }
}

/// `out` holds the destination's sample: add what only the source saw.
fn add_source_only(out: &mut EdgeSample, s: &EdgeSample) {
    let dest_tuples = out.requests.len();
    for (k, v) in &s.requests {
        let seen = out.requests[..dest_tuples]
            .iter()
            .any(|(dk, _)| dk.code == k.code && dk.grpc == k.grpc && dk.flags == k.flags);
        if !seen {
            out.add_requests(k, *v);
        }
    }
    if out.latency.is_empty() && out.latency_count == 0.0 {
        out.latency.copy_from(&s.latency);
        out.latency_sum = s.latency_sum;
        out.latency_count = s.latency_count;
    }
    if !out.has_tcp() {
        out.tcp.clone_from(&s.tcp);
    }
    out.service = out.service.or(s.service);
    out.source_identity = out.source_identity.or(s.source_identity);
    out.target_identity = out.target_identity.or(s.target_identity);
}

/// The source's and the destination's sample in a small list by reporter.
pub fn by_reporter(v: &[(Reporter, EdgeSample)]) -> (Option<&EdgeSample>, Option<&EdgeSample>) {
    let pick = |r: Reporter| v.iter().find(|(x, _)| *x == r).map(|(_, s)| s);
    (pick(Reporter::Source), pick(Reporter::Destination))
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// Signals of an edge (or a node's inbound traffic). `window` is the
/// increase over `window_seconds`, `None` when there is no window (one
/// round); `last` the cumulative values of the last round.
pub fn signals(window: Option<(&EdgeSample, f64)>, last: &EdgeSample) -> Signals {
    signals_with(window, last.has_requests(), last.tcp_all())
}

/// [`signals`] given only what they read of the cumulative values: whether
/// they hold any requests (`EdgeSample::has_requests`), and the TCP
/// counters (`EdgeSample::tcp_all`).
pub fn signals_with(
    window: Option<(&EdgeSample, f64)>,
    has_requests: bool,
    tcp: &[Tcp],
) -> Signals {
    let mut out = Signals::default();
    let has_tcp = any_tcp(tcp);
    if let Some((w, secs)) = window.filter(|(_, secs)| *secs > 0.0) {
        let total = w.total_requests();
        let failed = w.failed_requests();
        if has_requests {
            out.rps = finite(total / secs);
            out.error_rate = finite(failed / secs);
            out.success_rate = (total > 0.0).then(|| (total - failed) / total);
            let [p50, p95, p99] =
                crate::model::histogram::quantiles_of([0.5, 0.95, 0.99], w.latency.iter());
            out.p50_ms = p50.and_then(finite);
            out.p95_ms = p95.and_then(finite);
            out.p99_ms = p99.and_then(finite);
        }
        if has_tcp {
            out.bytes_sent_per_s = finite(w.tcp_all().iter().fold(0.0, |a, t| a + t.sent) / secs);
            out.bytes_received_per_s =
                finite(w.tcp_all().iter().fold(0.0, |a, t| a + t.received) / secs);
        }
    }
    if has_tcp {
        let gauges: Vec<f64> = tcp.iter().filter_map(|t| t.open).collect();
        out.open_connections = if gauges.is_empty() {
            let opened: f64 = tcp.iter().map(|t| t.opened).sum();
            let closed: f64 = tcp.iter().map(|t| t.closed).sum();
            (opened > 0.0).then(|| (opened - closed).max(0.0))
        } else {
            Some(gauges.iter().sum())
        };
    }
    out
}

/// The mutual-TLS share of one sample: by requests with a known TLS state,
/// else by connections opened, else by bytes.
fn tls_share(s: &EdgeSample) -> Option<f64> {
    let (mut m, mut p) = (0.0, 0.0);
    for (k, v) in &s.requests {
        match k.tls {
            Tls::Mutual => m += v,
            Tls::Plain => p += v,
            Tls::Unknown => {}
        }
    }
    if m + p > 0.0 {
        return Some(m / (m + p));
    }
    let (m, p) = (s.tcp(Tls::Mutual).opened, s.tcp(Tls::Plain).opened);
    if m + p > 0.0 {
        return Some(m / (m + p));
    }
    let bytes = |t: Tls| s.tcp(t).sent + s.tcp(t).received;
    let (m, p) = (bytes(Tls::Mutual), bytes(Tls::Plain));
    if m + p > 0.0 {
        return Some(m / (m + p));
    }
    None
}

/// mTLS over the window when it saw traffic, else over the proxies' lifetime.
pub fn mtls(window: Option<&EdgeSample>, last: &EdgeSample) -> Mtls {
    let fraction = window.and_then(tls_share).or_else(|| tls_share(last));
    let status = match fraction {
        None => MtlsStatus::Unknown,
        Some(f) if f >= 1.0 => MtlsStatus::Full,
        Some(f) if f <= 0.0 => MtlsStatus::None,
        Some(_) => MtlsStatus::Partial,
    };
    Mtls {
        status,
        fraction,
        declared: None,
        verdict: None,
    }
}

/// Responses by code over the window (`count: null` without a window).
pub fn responses(window: Option<&EdgeSample>, last: &EdgeSample) -> Vec<ResponseCount> {
    let src = window.unwrap_or(last);
    // Group by the code as displayed (`grpc:N` or the HTTP status), as
    // numbers, on the stack for the usual handful of tuples; render each
    // code once.
    let n = src.requests.len();
    let mut stack = [(DisplayCode::Http(0), 0.0); 8];
    let mut heap = Vec::new();
    let buf = if n <= stack.len() {
        &mut stack[..]
    } else {
        heap.resize(n, (DisplayCode::Http(0), 0.0));
        &mut heap[..]
    };
    let mut codes = 0;
    for (k, v) in &src.requests {
        let code = DisplayCode::of(k);
        match buf[..codes].iter_mut().find(|(c, _)| *c == code) {
            Some(slot) => slot.1 += v,
            None => {
                buf[codes] = (code, *v);
                codes += 1;
            }
        }
    }
    let mut out: Vec<ResponseCount> = buf[..codes]
        .iter()
        .map(|&(code, v)| ResponseCount {
            code: code.render(),
            count: window.map(|_| v),
        })
        .collect();
    out.sort_by(|a, b| a.code.cmp(&b.code));
    out
}

/// [`ReqKey::display_code`] before it is rendered.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DisplayCode {
    Grpc(u16),
    Http(u16),
}

impl DisplayCode {
    fn of(k: &ReqKey) -> Self {
        match k.grpc {
            Some(g) if g != 0 || k.code < 400 => DisplayCode::Grpc(g),
            _ => DisplayCode::Http(k.code),
        }
    }

    /// `grpc:14` or `503`, written digit by digit rather than through the
    /// formatting machinery (this runs for every code of every edge).
    fn render(self) -> String {
        let (prefix, n) = match self {
            DisplayCode::Grpc(g) => ("grpc:", g),
            DisplayCode::Http(c) => ("", c),
        };
        let mut digits = [0u8; 5];
        let mut at = digits.len();
        let mut rest = n;
        loop {
            at -= 1;
            digits[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let mut s = String::with_capacity(prefix.len() + digits.len() - at);
        s.push_str(prefix);
        for &d in &digits[at..] {
            s.push(char::from(d));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::intern::Sym;

    fn req(code: u16, tls: Tls, flags: &str) -> ReqKey {
        ReqKey {
            code,
            grpc: None,
            flags: (!flags.is_empty()).then(|| Sym::new(flags)),
            tls,
            failed: ReqKey::failed_by_codes(code, None),
        }
    }

    #[test]
    fn both_reporters_count_once_and_source_only_tuples_are_added() {
        let mut src = EdgeSample::default();
        src.add_requests(&req(200, Tls::Unknown, ""), 100.0);
        src.add_requests(&req(503, Tls::Unknown, "UH"), 5.0);
        let mut dst = EdgeSample::default();
        dst.add_requests(&req(200, Tls::Mutual, ""), 99.0);
        let d = dedupe(Some(&src), Some(&dst));
        assert_eq!(d.total_requests(), 104.0);
        assert_eq!(d.failed_requests(), 5.0);
        let s = signals(Some((&d, 10.0)), &d);
        assert_eq!(s.rps, Some(10.4));
        assert_eq!(s.error_rate, Some(0.5));
        let sr = s.success_rate.unwrap_or(0.0);
        assert!((sr - 99.0 / 104.0).abs() < 1e-12);
        // mTLS share counts only requests with a known TLS state.
        let m = mtls(Some(&d), &d);
        assert_eq!(m.status, MtlsStatus::Full);
        assert_eq!(m.fraction, Some(1.0));
    }

    #[test]
    fn partial_and_unknown_mtls() {
        let mut s = EdgeSample::default();
        s.add_requests(&req(200, Tls::Mutual, ""), 3.0);
        s.add_requests(&req(200, Tls::Plain, ""), 1.0);
        assert_eq!(mtls(Some(&s), &s).fraction, Some(0.75));
        assert_eq!(mtls(Some(&s), &s).status, MtlsStatus::Partial);
        let mut u = EdgeSample::default();
        u.add_requests(&req(200, Tls::Unknown, ""), 3.0);
        assert_eq!(mtls(Some(&u), &u).status, MtlsStatus::Unknown);
        // No traffic in the window: fall back to lifetime values.
        assert_eq!(mtls(Some(&EdgeSample::default()), &s).fraction, Some(0.75));
    }

    #[test]
    fn no_window_means_null_rates() {
        let mut s = EdgeSample::default();
        s.add_requests(&req(200, Tls::Mutual, ""), 3.0);
        let sig = signals(None, &s);
        assert_eq!(sig.rps, None);
        assert_eq!(sig.success_rate, None);
        assert_eq!(responses(None, &s)[0].count, None);
    }

    #[test]
    fn codes_render_as_displayed() {
        for n in [0u16, 7, 10, 200, 503, 9999, 65535] {
            assert_eq!(DisplayCode::Http(n).render(), n.to_string());
            assert_eq!(DisplayCode::Grpc(n).render(), format!("grpc:{n}"));
        }
    }

    #[test]
    fn responses_group_by_displayed_code_in_code_order() {
        let mut s = EdgeSample::default();
        // More tuples than the stack buffer holds, two per code.
        for code in [503u16, 200, 404, 201, 500, 302, 204, 301, 502, 429] {
            s.add_requests(&req(code, Tls::Mutual, ""), 1.0);
            s.add_requests(&req(code, Tls::Plain, ""), 2.0);
        }
        let r = responses(Some(&s), &s);
        let codes: Vec<&str> = r.iter().map(|c| c.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "200", "201", "204", "301", "302", "404", "429", "500", "502", "503"
            ]
        );
        assert!(r.iter().all(|c| c.count == Some(3.0)));
    }
}
