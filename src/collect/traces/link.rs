//! Spans → service calls, the way Jaeger's dependency processor links them
//! (a span whose parent belongs to another service adds `parent → child`),
//! with Zipkin's rules for shared client/server spans and uninstrumented
//! peers (`remoteEndpoint`: client → server, producer → broker → consumer).
//! Bad traces are repaired and counted, never trusted: duplicate span ids
//! (the later copy is dropped), missing parents (the span becomes a root),
//! parent cycles (cut), clock skew (counted).

use rustc_hash::FxHashMap;

use super::span::{Span, SpanKind, Trace};

/// Problems found while linking, summed over traces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub traces: usize,
    pub spans: usize,
    /// Spans whose parent id is not in the trace.
    pub missing_parents: usize,
    /// Spans dropped because another span of the trace had the same id.
    pub duplicate_span_ids: usize,
    /// Parent cycles cut.
    pub cycles: usize,
    /// Spans that start before their parent.
    pub skewed_spans: usize,
    /// Spans without a service name (not linked).
    pub spans_without_service: usize,
    /// Traces above [`LARGE_TRACE`] spans.
    pub large_traces: usize,
}

/// A trace with more spans than this is reported as enormous (still linked).
pub const LARGE_TRACE: usize = 10_000;

/// One call found in a trace: `parent` called `child`.
#[derive(Debug, Clone, PartialEq)]
pub struct Call<'a> {
    pub parent: &'a str,
    pub child: &'a str,
    /// The call's duration in ms (the caller's span when it has one).
    pub duration_ms: f64,
    pub error: bool,
    pub http_status: Option<u16>,
}

#[derive(Clone, Copy)]
enum Slot {
    One(u32),
    /// A Zipkin shared id: the client half and the server half.
    Pair(u32, u32),
}

/// The resolved tree of one trace.
pub struct Tree<'a> {
    pub spans: &'a [Span],
    /// The effective parent of each span (`None`: a root, or dropped).
    pub parent: Vec<Option<u32>>,
    /// Spans dropped as duplicates.
    pub dropped: Vec<bool>,
}

fn same(a: &Option<String>, b: &Option<String>) -> bool {
    a.is_some() && a == b
}

/// Resolve parents, drop duplicates, cut cycles; counts into `stats`.
pub fn resolve<'a>(spans: &'a [Span], stats: &mut LinkStats) -> Tree<'a> {
    let n = spans.len();
    stats.spans += n;
    if n > LARGE_TRACE {
        stats.large_traces += 1;
    }
    let mut dropped = vec![false; n];
    let mut twin: Vec<Option<u32>> = vec![None; n];
    let mut slots: FxHashMap<u64, Slot> = FxHashMap::default();
    slots.reserve(n);
    for (i, s) in spans.iter().enumerate() {
        let i = i as u32;
        match slots.get(&s.span_id).copied() {
            None => {
                slots.insert(s.span_id, Slot::One(i));
            }
            Some(Slot::One(j)) => {
                let o = &spans[j as usize];
                let pair = match (o.kind, s.kind) {
                    (SpanKind::Client, SpanKind::Server) => Some((j, i)),
                    (SpanKind::Server, SpanKind::Client) => Some((i, j)),
                    _ => None,
                };
                match pair {
                    Some((c, sv)) if s.shared || o.shared || !same(&s.service, &o.service) => {
                        slots.insert(s.span_id, Slot::Pair(c, sv));
                        twin[sv as usize] = Some(c);
                    }
                    _ => {
                        dropped[i as usize] = true;
                        stats.duplicate_span_ids += 1;
                    }
                }
            }
            Some(Slot::Pair(..)) => {
                dropped[i as usize] = true;
                stats.duplicate_span_ids += 1;
            }
        }
    }
    let mut parent: Vec<Option<u32>> = vec![None; n];
    for (i, s) in spans.iter().enumerate() {
        if dropped[i] {
            continue;
        }
        if let Some(c) = twin[i] {
            parent[i] = Some(c);
            continue;
        }
        let Some(first) = s.parent_id else { continue };
        let found = std::iter::once(first)
            .chain(s.other_refs.iter().copied())
            .find_map(|id| match slots.get(&id)? {
                Slot::One(j) => Some(*j),
                Slot::Pair(c, sv) => Some(
                    if same(&spans[*c as usize].service, &s.service)
                        && !same(&spans[*sv as usize].service, &s.service)
                    {
                        *c
                    } else {
                        *sv
                    },
                ),
            })
            .filter(|&j| j as usize != i);
        match found {
            Some(j) => parent[i] = Some(j),
            None => stats.missing_parents += 1,
        }
    }
    stats.cycles += cut_cycles(&mut parent);
    for (i, p) in parent.iter().enumerate() {
        if let Some(p) = p
            && spans[i].start_us < spans[*p as usize].start_us
        {
            stats.skewed_spans += 1;
        }
    }
    Tree {
        spans,
        parent,
        dropped,
    }
}

/// Cut every cycle of parent links (the link that closes it); O(n).
fn cut_cycles(parent: &mut [Option<u32>]) -> usize {
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; parent.len()];
    let mut path: Vec<usize> = Vec::new();
    let mut cycles = 0;
    for start in 0..parent.len() {
        let mut cur = start;
        while state[cur] == 0 {
            state[cur] = 1;
            path.push(cur);
            match parent[cur] {
                Some(p) if state[p as usize] == 1 => {
                    parent[cur] = None;
                    cycles += 1;
                    break;
                }
                Some(p) => cur = p as usize,
                None => break,
            }
        }
        for i in path.drain(..) {
            state[i] = 2;
        }
    }
    cycles
}

/// Every call in one trace, passed to `emit`.
pub fn calls<'a>(tree: &Tree<'a>, stats: &mut LinkStats, mut emit: impl FnMut(Call<'a>)) {
    let spans = tree.spans;
    let mut foreign_child = vec![false; spans.len()];
    for (i, p) in tree.parent.iter().enumerate() {
        if let Some(p) = p
            && !same(&spans[i].service, &spans[*p as usize].service)
        {
            foreign_child[*p as usize] = true;
        }
    }
    let ms = |s: &Span| s.duration_us as f64 / 1000.0;
    for (i, s) in spans.iter().enumerate() {
        if tree.dropped[i] {
            continue;
        }
        let Some(svc) = s.service.as_deref() else {
            stats.spans_without_service += 1;
            continue;
        };
        let remote = s.remote_service.as_deref().filter(|r| *r != svc);
        let own = |parent, child| Call {
            parent,
            child,
            duration_ms: ms(s),
            error: s.error,
            http_status: s.http_status,
        };
        let consumer_via_broker = s.kind == SpanKind::Consumer && remote.is_some();
        match (s.kind, remote) {
            (SpanKind::Consumer, Some(r)) => emit(own(r, svc)),
            (SpanKind::Producer, Some(r)) => emit(own(svc, r)),
            (SpanKind::Client, Some(r)) if !foreign_child[i] => emit(own(svc, r)),
            (SpanKind::Server, Some(r)) if tree.parent[i].is_none() => emit(own(r, svc)),
            _ => {}
        }
        if consumer_via_broker {
            continue;
        }
        let Some(p) = tree.parent[i] else { continue };
        let ps = &spans[p as usize];
        let Some(psvc) = ps.service.as_deref() else {
            continue;
        };
        if psvc == svc {
            continue;
        }
        if ps.kind == SpanKind::Producer && ps.remote_service.is_some() {
            // Already linked through the broker.
            continue;
        }
        let caller_side = ps.kind.is_caller();
        emit(Call {
            parent: psvc,
            child: svc,
            duration_ms: if caller_side { ms(ps) } else { ms(s) },
            error: s.error || (caller_side && ps.error),
            http_status: s
                .http_status
                .or(if caller_side { ps.http_status } else { None }),
        });
    }
}

/// The calls of a trace (resolve + [`calls`]), collected.
pub fn trace_calls<'a>(t: &'a Trace, stats: &mut LinkStats) -> Vec<Call<'a>> {
    stats.traces += 1;
    let tree = resolve(&t.spans, stats);
    let mut out = Vec::new();
    calls(&tree, stats, |c| out.push(c));
    out
}
