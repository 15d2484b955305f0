//! The critical path of a trace: the chain of spans (and the parts of them)
//! that determined its end-to-end time. Jaeger's rule: walking back from a
//! span's end, the child that finished last before the cursor is on the
//! path; the parent is critical between that child's end and the cursor,
//! the walk descends into the child, and the cursor moves to the child's
//! start. Children overlapping a critical child are not on the path; a
//! child that outlives its parent (async work, clock skew) is clipped to
//! the parent, one wholly outside it is ignored. Pure and iterative.

use crate::collect::traces::Span;

/// A stretch of time a span spent on the critical path (µs, absolute).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Section {
    pub span: usize,
    pub start_us: i64,
    pub end_us: i64,
}

fn end(s: &Span) -> i64 {
    s.start_us.saturating_add(s.duration_us.max(0))
}

/// The critical sections under `root`, given each span's children. The
/// sections never overlap and cover the root's duration exactly.
pub fn critical_path(spans: &[Span], kids: &[Vec<usize>], root: usize) -> Vec<Section> {
    let mut out = Vec::new();
    let Some(r) = spans.get(root) else {
        return out;
    };
    let mut visited = vec![false; spans.len()];
    let mut stack = vec![(root, r.start_us, end(r))];
    let mut cands: Vec<(i64, i64, usize)> = Vec::new();
    while let Some((s, lo, hi)) = stack.pop() {
        if std::mem::replace(&mut visited[s], true) {
            continue;
        }
        cands.clear();
        for &c in kids.get(s).map_or(&[][..], Vec::as_slice) {
            let Some(cs) = spans.get(c) else { continue };
            let (a, b) = (cs.start_us.max(lo), end(cs).min(hi));
            if b > a {
                cands.push((a, b, c));
            }
        }
        // Latest end first; among equal ends the longer child.
        cands.sort_unstable_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let mut cursor = hi;
        for &(a, b, c) in &cands {
            if b <= cursor && !visited[c] {
                if cursor > b {
                    out.push(Section {
                        span: s,
                        start_us: b,
                        end_us: cursor,
                    });
                }
                stack.push((c, a, b));
                cursor = a;
            }
        }
        if cursor > lo {
            out.push(Section {
                span: s,
                start_us: lo,
                end_us: cursor,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(start: i64, dur: i64) -> Span {
        Span {
            start_us: start,
            duration_us: dur,
            ..Span::default()
        }
    }

    fn total(secs: &[Section]) -> i64 {
        secs.iter().map(|s| s.end_us - s.start_us).sum()
    }

    fn on_path(secs: &[Section], n: usize) -> Vec<bool> {
        let mut v = vec![false; n];
        for s in secs {
            v[s.span] = true;
        }
        v
    }

    #[test]
    fn sequential_children_are_all_critical() {
        // root [0,100]: a [10,40], b [50,90].
        let spans = vec![span(0, 100), span(10, 30), span(50, 40)];
        let kids = vec![vec![1, 2], vec![], vec![]];
        let secs = critical_path(&spans, &kids, 0);
        assert_eq!(total(&secs), 100);
        assert_eq!(on_path(&secs, 3), vec![true, true, true]);
        let root: Vec<(i64, i64)> = secs
            .iter()
            .filter(|s| s.span == 0)
            .map(|s| (s.start_us, s.end_us))
            .collect();
        assert_eq!(root, vec![(90, 100), (40, 50), (0, 10)]);
    }

    #[test]
    fn a_parallel_child_that_finishes_first_is_not_critical() {
        // root [0,100]: a [10,60] and b [10,90] run in parallel.
        let spans = vec![span(0, 100), span(10, 50), span(10, 80)];
        let kids = vec![vec![1, 2], vec![], vec![]];
        let secs = critical_path(&spans, &kids, 0);
        assert_eq!(on_path(&secs, 3), vec![true, false, true]);
        assert_eq!(total(&secs), 100);
    }

    #[test]
    fn a_child_outliving_its_parent_is_clipped() {
        // root [0,100]: a [20,150] (async), nested a1 [30,140].
        let spans = vec![span(0, 100), span(20, 130), span(30, 110)];
        let kids = vec![vec![1], vec![2], vec![]];
        let secs = critical_path(&spans, &kids, 0);
        assert_eq!(total(&secs), 100);
        assert!(secs.iter().all(|s| s.end_us <= 100));
        assert_eq!(on_path(&secs, 3), vec![true, true, true]);
        // A child wholly after its parent is ignored.
        let spans = vec![span(0, 100), span(120, 10)];
        let secs = critical_path(&spans, &[vec![1], vec![]], 0);
        assert_eq!(on_path(&secs, 2), vec![true, false]);
    }

    #[test]
    fn a_deep_chain_does_not_overflow_and_cycles_end() {
        let n = 200_000;
        let spans: Vec<Span> = (0..n)
            .map(|i| span(i as i64, (2 * n - 2 * i) as i64))
            .collect();
        let mut kids: Vec<Vec<usize>> = (1..=n).map(|i| vec![i]).collect();
        kids[n - 1].clear();
        let secs = critical_path(&spans, &kids, 0);
        assert_eq!(total(&secs), 2 * n as i64);
        // A cycle in the children lists (never produced by link::resolve).
        let spans = vec![span(0, 10), span(1, 5)];
        let secs = critical_path(&spans, &[vec![1], vec![0]], 0);
        assert_eq!(total(&secs), 10);
    }
}
