//! Detail of a node or an edge: signals with sparklines, responses, mTLS,
//! gaps that mention it, and plain placeholders for what is not known yet.

use ratatui::text::{Line, Span};

use super::Ctx;
use super::fmt::{self, health};
use super::graph::{health_glyph, mtls_mark};
use super::text::{heading, kv, severity_style};
use crate::app::history::Series;
use crate::app::state::Subject;
use crate::model::snapshot::{Edge, Evidence, Signals, TraceExemplar};
use crate::model::touch::{entry_touches, subject_touches};

const SPARK: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const SPARK_W: usize = 32;

/// A sparkline of the last `width` values as text (gaps for unknown values).
pub fn sparkline(values: &[Option<f64>], width: usize) -> String {
    let start = values.len().saturating_sub(width);
    let vals = &values[start..];
    let known = vals.iter().flatten();
    let (lo, hi) = known.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    vals.iter()
        .map(|v| match v {
            None => ' ',
            Some(v) if hi - lo < 1e-12 => {
                if *v > 0.0 {
                    SPARK[3]
                } else {
                    SPARK[0]
                }
            }
            Some(v) => SPARK[(((v - lo) / (hi - lo)) * 7.0).round().clamp(0.0, 7.0) as usize],
        })
        .collect()
}

fn history_line<'a>(
    ctx: &Ctx<'a>,
    label: &str,
    now: String,
    series: Option<&std::collections::VecDeque<Option<f64>>>,
) -> Line<'a> {
    let t = ctx.theme;
    let mut spans = vec![
        Span::styled(format!("  {label:<12}"), t.muted),
        Span::styled(format!("{now:>9}  "), t.text),
    ];
    match series {
        Some(s) if s.len() >= 2 => {
            let v: Vec<Option<f64>> = s.iter().copied().collect();
            spans.push(Span::styled(sparkline(&v, SPARK_W), t.sparkline));
        }
        _ => spans.push(Span::styled(
            "(history builds up as snapshots arrive)",
            t.muted,
        )),
    }
    Line::from(spans)
}

fn signal_lines<'a>(ctx: &Ctx<'a>, s: &Signals, series: Option<&Series>, out: &mut Vec<Line<'a>>) {
    let t = ctx.theme;
    let h = health(s);
    out.push(Line::from(vec![
        Span::styled("  health      ", t.muted),
        Span::styled(
            format!("{} {:?}", health_glyph(t, h), h).to_lowercase(),
            super::graph_health_style(t, h),
        ),
    ]));
    out.push(history_line(
        ctx,
        "rps",
        fmt::rps(s.rps),
        series.map(|x| &x.rps),
    ));
    out.push(history_line(
        ctx,
        "success",
        fmt::pct(s.success_rate),
        series.map(|x| &x.success),
    ));
    out.push(history_line(
        ctx,
        "p95",
        fmt::ms(s.p95_ms),
        series.map(|x| &x.p95),
    ));
    out.push(kv(t, "errors/s", fmt::rps(s.error_rate)));
    out.push(kv(
        t,
        "latency",
        format!(
            "p50 {} · p95 {} · p99 {}",
            fmt::ms(s.p50_ms),
            fmt::ms(s.p95_ms),
            fmt::ms(s.p99_ms)
        ),
    ));
    if s.bytes_sent_per_s.is_some()
        || s.bytes_received_per_s.is_some()
        || s.open_connections.is_some()
    {
        out.push(kv(
            t,
            "tcp",
            format!(
                "sent {} · received {} · {} open connections",
                fmt::bytes(s.bytes_sent_per_s),
                fmt::bytes(s.bytes_received_per_s),
                fmt::count(s.open_connections)
            ),
        ));
    }
}

fn edge_row<'a>(ctx: &Ctx<'a>, e: &Edge, other: &str, arrow: &str) -> Line<'a> {
    let t = ctx.theme;
    let (mark, mstyle) = mtls_mark(t, e.mtls.status);
    let h = health(&e.signals);
    Line::from(vec![
        Span::styled(format!("  {arrow} "), t.muted),
        Span::styled(format!("{other:<28} "), t.text),
        Span::styled(
            format!(
                "{:>7}/s {:>6} ",
                fmt::rps(e.signals.rps),
                fmt::pct(e.signals.success_rate)
            ),
            super::graph_health_style(t, h),
        ),
        Span::styled(format!("p95 {:>6} ", fmt::ms(e.signals.p95_ms)), t.text),
        Span::styled(format!("{mark} {}", fmt::mtls(e.mtls.status)), mstyle),
    ])
}

fn gaps_about<'a>(ctx: &Ctx<'a>, hit: impl Fn(&str) -> bool, out: &mut Vec<Line<'a>>) {
    let t = ctx.theme;
    let gaps: Vec<_> = ctx.snap.gaps.iter().filter(|g| hit(&g.subject)).collect();
    out.push(heading(t, &format!("Gaps ({})", gaps.len())));
    if gaps.is_empty() {
        out.push(Line::styled("  none found for this subject", t.muted));
    }
    for g in gaps {
        out.push(Line::from(vec![
            Span::styled(
                format!("  {:<8} ", format!("{:?}", g.severity).to_lowercase()),
                severity_style(t, g.severity),
            ),
            Span::styled(format!("{} ", g.kind), t.text),
            Span::styled(g.message.clone(), t.muted),
        ]));
    }
}

fn placeholders<'a>(
    ctx: &Ctx<'a>,
    names: &[String],
    traced: bool,
    samples: &[TraceExemplar],
    out: &mut Vec<Line<'a>>,
) {
    let t = ctx.theme;
    out.push(heading(t, "Rules"));
    let rules: Vec<String> = ctx
        .snap
        .declared
        .routes
        .iter()
        .chain(&ctx.snap.declared.policies)
        .filter(|v| entry_touches(v, names))
        .map(super::rules::summarize)
        .collect();
    if rules.is_empty() {
        out.push(Line::styled("  no rules known yet", t.muted));
    }
    for r in rules {
        out.push(Line::styled(format!("  {r}"), t.text));
    }
    out.push(heading(t, "Traces"));
    if !samples.is_empty() {
        out.extend(super::waterfall::sample_lines(
            ctx.theme,
            samples,
            Some(ctx.ui.sample_selected),
        ));
        out.push(Line::styled(
            "  j/k pick a trace · enter opens its waterfall",
            t.muted,
        ));
        return;
    }
    out.push(Line::styled(
        if traced {
            "  seen in traces (open the trace backend for spans)"
        } else {
            "  no traces yet"
        },
        t.muted,
    ));
}

/// The lines of the detail of `subject`.
pub fn lines<'a>(ctx: &Ctx<'a>, subject: &Subject) -> Vec<Line<'a>> {
    let t = ctx.theme;
    let snap = ctx.snap;
    let mut out = Vec::new();
    match subject {
        Subject::Node(id) => {
            let group = ctx
                .laid
                .graph
                .index
                .get(id)
                .map(|&i| &ctx.laid.graph.nodes[i])
                .filter(|n| n.members.len() > 1 || n.id != n.members[0]);
            let members: Vec<String> =
                group.map_or_else(|| vec![id.clone()], |g| g.members.clone());
            out.push(Line::from(vec![
                Span::styled("Node ", t.muted),
                Span::styled(id.clone(), t.title),
            ]));
            if let Some(n) = snap.node(id) {
                let mut facts = vec![format!("{:?}", n.kind).to_lowercase()];
                if let Some(ns) = &n.namespace {
                    facts.push(format!("namespace {ns}"));
                }
                if let Some(a) = &n.app {
                    facts.push(format!("app {a}"));
                }
                if let Some(v) = &n.version {
                    facts.push(format!("version {v}"));
                }
                facts.push(if n.meshed {
                    "meshed".into()
                } else {
                    "not meshed".into()
                });
                out.push(Line::styled(facts.join(" · "), t.text));
                out.push(heading(t, "Inbound signals"));
                let sig = n.signals.clone().unwrap_or_default();
                signal_lines(ctx, &sig, ctx.history.nodes.get(id), &mut out);
            } else if let Some(g) = group {
                out.push(Line::styled(
                    format!("{} members: {}", g.members.len(), g.members.join(", ")),
                    t.text,
                ));
                out.push(heading(
                    t,
                    "Inbound signals (sum of members; worst latency)",
                ));
                signal_lines(ctx, &g.signals, None, &mut out);
            } else {
                out.push(Line::styled("not in the current snapshot", t.muted));
            }
            let is_member = |x: &str| members.iter().any(|m| m == x);
            let inbound: Vec<_> = snap.edges.iter().filter(|e| is_member(&e.target)).collect();
            let outbound: Vec<_> = snap.edges.iter().filter(|e| is_member(&e.source)).collect();
            out.push(heading(t, &format!("Callers ({})", inbound.len())));
            for e in &inbound {
                out.push(edge_row(ctx, e, &e.source, "←"));
            }
            out.push(heading(t, &format!("Callees ({})", outbound.len())));
            for e in &outbound {
                out.push(edge_row(ctx, e, &e.target, "→"));
            }
            let traced = inbound
                .iter()
                .chain(&outbound)
                .any(|e| e.evidence.contains(&Evidence::Traces));
            gaps_about(ctx, |s| subject_touches(s, &members), &mut out);
            let mut names = members.clone();
            names.extend(
                inbound
                    .iter()
                    .filter_map(|e| service_id(e.service.as_deref())),
            );
            placeholders(ctx, &names, traced, &[], &mut out);
        }
        Subject::Edge(src, dst) => {
            out.push(Line::from(vec![
                Span::styled("Edge ", t.muted),
                Span::styled(format!("{src} → {dst}"), t.title),
            ]));
            let Some(e) = snap.edge(src, dst) else {
                out.push(Line::styled("not in the current snapshot", t.muted));
                return out;
            };
            let declared = match e.declared {
                Some(true) => "declared",
                Some(false) => "NOT declared",
                None => "declared: unknown",
            };
            let evidence: Vec<String> = e
                .evidence
                .iter()
                .map(|v| format!("{v:?}").to_lowercase())
                .collect();
            out.push(Line::styled(
                format!(
                    "{} · via {} · evidence {} · {declared}",
                    e.protocol.as_str(),
                    e.service.as_deref().unwrap_or("-"),
                    if evidence.is_empty() {
                        "-".into()
                    } else {
                        evidence.join(", ")
                    }
                ),
                t.text,
            ));
            out.push(heading(t, "Signals"));
            signal_lines(
                ctx,
                &e.signals,
                ctx.history.edges.get(&(src.clone(), dst.clone())),
                &mut out,
            );
            out.push(heading(t, "Responses"));
            let total: f64 = e.responses.iter().filter_map(|r| r.count).sum();
            if e.responses.is_empty() {
                out.push(Line::styled("  no response codes known", t.muted));
            }
            for r in &e.responses {
                let failed = r.code.starts_with('5')
                    || (r.code.starts_with("grpc:") && r.code != "grpc:0")
                    || r.code == "0";
                let share = r.count.filter(|_| total > 0.0).map(|c| c / total);
                let bar = share.map_or(String::new(), |s| {
                    "█".repeat(((s * 20.0).round() as usize).max(1))
                });
                out.push(Line::from(vec![
                    Span::styled(
                        format!("  {:<8}", r.code),
                        if failed { t.edge_failing } else { t.text },
                    ),
                    Span::styled(
                        format!("{:>9} ", r.count.map_or("-".into(), |c| format!("{c:.0}"))),
                        t.text,
                    ),
                    Span::styled(format!("{:>6} ", fmt::pct(share)), t.muted),
                    Span::styled(bar, if failed { t.edge_failing } else { t.sparkline }),
                ]));
            }
            out.push(heading(t, "mTLS"));
            let (mark, mstyle) = mtls_mark(t, e.mtls.status);
            out.push(Line::from(vec![
                Span::styled("  status      ", t.muted),
                Span::styled(
                    format!(
                        "{mark} {} ({} of requests over mTLS)",
                        fmt::mtls(e.mtls.status),
                        fmt::pct(e.mtls.fraction)
                    ),
                    mstyle,
                ),
            ]));
            let ids = e.identities.clone().unwrap_or_default();
            out.push(kv(
                t,
                "source id",
                ids.source.unwrap_or_else(|| "unknown".into()),
            ));
            out.push(kv(
                t,
                "target id",
                ids.target.unwrap_or_else(|| "unknown".into()),
            ));
            gaps_about(
                ctx,
                |s| s.contains(src.as_str()) && s.contains(dst.as_str()),
                &mut out,
            );
            let traced = e.evidence.contains(&Evidence::Traces);
            let mut names = vec![dst.clone()];
            names.extend(service_id(e.service.as_deref()));
            placeholders(ctx, &names, traced, &e.traces, &mut out);
        }
    }
    out
}

/// The `ns/name` of an edge's Service (`svc:ns/name` in the snapshot).
fn service_id(service: Option<&str>) -> Option<String> {
    service.map(|s| s.strip_prefix("svc:").unwrap_or(s).to_string())
}
