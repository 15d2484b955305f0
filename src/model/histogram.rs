//! Bucket quantiles exactly as Prometheus's `histogram_quantile` computes them
//! for classic histograms (promql/quantile.go `BucketQuantile`): sort by upper
//! bound, require a `+Inf` bucket, coalesce equal bounds, force monotonic
//! counts, then interpolate linearly inside the bucket holding the rank; a
//! rank in the `+Inf` bucket returns the second-highest upper bound.

/// `(upper bound, cumulative count)` pairs in any order. Returns `None` where
/// Prometheus returns NaN (no `+Inf` bucket, fewer than two buckets, no
/// observations, or a NaN quantile).
pub fn histogram_quantile(q: f64, buckets: &[(f64, f64)]) -> Option<f64> {
    quantiles([q], buckets)[0]
}

/// Several quantiles of one histogram, preparing the buckets once.
pub fn quantiles<const N: usize>(qs: [f64; N], buckets: &[(f64, f64)]) -> [Option<f64>; N] {
    quantiles_of(qs, buckets.iter().copied())
}

/// [`quantiles`] of `(upper bound, cumulative count)` pairs from an iterator.
///
/// Up to 64 buckets are prepared in a buffer on the stack (no allocation:
/// this runs for every edge and node of a graph build).
pub fn quantiles_of<const N: usize>(
    qs: [f64; N],
    buckets: impl Iterator<Item = (f64, f64)>,
) -> [Option<f64>; N] {
    let mut stack = [(0.0, 0.0); 64];
    let mut heap: Vec<(f64, f64)> = Vec::new();
    let mut n = 0;
    for b in buckets.filter(|(le, _)| !le.is_nan()) {
        if n < stack.len() {
            stack[n] = b;
            n += 1;
        } else {
            if heap.is_empty() {
                heap.extend_from_slice(&stack);
            }
            heap.push(b);
        }
    }
    let buf: &mut [(f64, f64)] = if heap.is_empty() {
        &mut stack[..n]
    } else {
        &mut heap
    };
    let prepared = prepare(buf);
    let mut out = [None; N];
    // The bucket holding each rank; a higher rank's is never before a
    // lower one's (the counts are monotonic), so the search goes on from it.
    let mut from = (0, f64::NEG_INFINITY);
    for (q, out) in qs.into_iter().zip(&mut out) {
        *out = match prepared {
            _ if q.is_nan() => None,
            _ if q < 0.0 => Some(f64::NEG_INFINITY),
            _ if q > 1.0 => Some(f64::INFINITY),
            Some(b) => quantile_of(q, b, &mut from),
            None => None,
        };
    }
    out
}

/// Sort, coalesce and make monotonic the buckets in `b` (NaN bounds
/// already dropped), in place; `None` where Prometheus gives NaN whatever
/// the quantile (no `+Inf`, fewer than two buckets).
fn prepare(b: &mut [(f64, f64)]) -> Option<&[(f64, f64)]> {
    // Bounds already strictly increasing (a proxy's histogram, as exposed)
    // need neither the sort nor the coalescing: both would leave them as
    // they are.
    let ordered = b.windows(2).all(|w| w[0].0 < w[1].0);
    if !ordered {
        // Stable, as before: equal bounds are summed in their original order.
        b.sort_by(|x, y| x.0.total_cmp(&y.0));
    }
    match b.last() {
        Some((le, _)) if *le == f64::INFINITY => {}
        _ => return None,
    }
    let merged = if ordered { b } else { coalesce(b) };
    ensure_monotonic(merged);
    if merged.len() < 2 {
        return None;
    }
    Some(merged)
}

/// Sum buckets with the same upper bound, in place (as `Vec::dedup_by`:
/// each bucket is compared with the last one kept); the buckets kept.
fn coalesce(b: &mut [(f64, f64)]) -> &mut [(f64, f64)] {
    let mut kept = 0;
    for i in 1..b.len() {
        if b[i].0 == b[kept].0 {
            b[kept].1 += b[i].1;
        } else {
            kept += 1;
            b[kept] = b[i];
        }
    }
    &mut b[..kept + 1]
}

/// The `q` quantile of prepared buckets. `from` is the bucket found for a
/// lower rank by an earlier call on the same buckets, and that rank (the
/// search starts there when `q`'s rank is not lower); it is updated.
fn quantile_of(q: f64, merged: &[(f64, f64)], from: &mut (usize, f64)) -> Option<f64> {
    let observations = merged[merged.len() - 1].1;
    if observations == 0.0 || observations.is_nan() {
        return None;
    }
    let mut rank = q * observations;
    let searched = merged.len() - 1;
    // Every bucket before `from.0` holds less than `from.1` (or NaN), so
    // less than any rank at least as high.
    let start = if rank >= from.1 { from.0 } else { 0 };
    let idx = (start..searched)
        .find(|&i| merged[i].1 >= rank)
        .unwrap_or(searched);
    *from = (idx, rank);
    if idx == searched {
        return Some(merged[merged.len() - 2].0);
    }
    if idx == 0 && merged[0].0 <= 0.0 {
        return Some(merged[0].0);
    }
    let bucket_end = merged[idx].0;
    let mut count = merged[idx].1;
    let mut bucket_start = 0.0;
    if idx > 0 {
        bucket_start = merged[idx - 1].0;
        count -= merged[idx - 1].1;
        rank -= merged[idx - 1].1;
    }
    Some(bucket_start + (bucket_end - bucket_start) * (rank / count))
}

/// Prometheus's `ensureMonotonicAndIgnoreSmallDeltas`: a bucket whose count is
/// below the previous one is raised to it (float precision or a scrape taken
/// between bucket updates).
fn ensure_monotonic(buckets: &mut [(f64, f64)]) {
    let mut prev = f64::NEG_INFINITY;
    for b in buckets.iter_mut() {
        if b.1.is_nan() {
            continue;
        }
        if b.1 < prev {
            b.1 = prev;
        }
        prev = b.1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    fn approx(a: Option<f64>, b: f64) {
        let a = a.unwrap_or(f64::NAN);
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    /// Several quantiles at once (one search going on from the last) give
    /// exactly what each gives alone, in any order of the quantiles, on
    /// ordered and unordered bounds, NaN and non-monotonic counts.
    #[test]
    fn several_quantiles_equal_each_alone() {
        let hists: Vec<Vec<(f64, f64)>> = vec![
            vec![(1.0, 2.0), (5.0, 10.0), (10.0, 10.0), (INF, 40.0)],
            vec![(INF, 40.0), (10.0, 10.0), (1.0, 2.0), (5.0, 10.0)],
            vec![(1.0, 2.0), (1.0, 3.0), (5.0, 4.0), (INF, 9.0)],
            vec![(1.0, 5.0), (5.0, f64::NAN), (10.0, 3.0), (INF, 8.0)],
            vec![(0.0, 1.0), (2.0, 1.0), (INF, 1.0)],
            vec![(1.0, 0.0), (INF, 0.0)],
            vec![(1.0, 1.0), (INF, INF)],
            vec![(-0.0, 1.0), (0.0, 2.0), (INF, 4.0)],
        ];
        let qs = [0.5, 0.95, 0.99, 0.0, 1.0, 0.25, f64::NAN, 0.99, 0.1];
        for h in &hists {
            let alone: Vec<Option<f64>> = qs.iter().map(|&q| histogram_quantile(q, h)).collect();
            let together = quantiles(qs, h);
            let bits = |v: &[Option<f64>]| -> Vec<Option<u64>> {
                v.iter().map(|x| x.map(f64::to_bits)).collect()
            };
            assert_eq!(bits(&together), bits(&alone), "{h:?}");
        }
    }

    #[test]
    fn interpolates_inside_the_bucket() {
        // 100 observations: 50 ≤ 10, 90 ≤ 50, 100 ≤ 100.
        let b = [(10.0, 50.0), (50.0, 90.0), (100.0, 100.0), (INF, 100.0)];
        // rank 50 → first bucket, 0 + 10 * 50/50
        approx(histogram_quantile(0.5, &b), 10.0);
        // rank 95 → bucket (50,100], 50 + 50 * (95-90)/10
        approx(histogram_quantile(0.95, &b), 75.0);
        // rank 99 → 50 + 50 * 9/10
        approx(histogram_quantile(0.99, &b), 95.0);
        // rank 25 → 0 + 10 * 25/50
        approx(histogram_quantile(0.25, &b), 5.0);
    }

    #[test]
    fn rank_in_inf_bucket_returns_second_highest_bound() {
        let b = [(10.0, 1.0), (100.0, 2.0), (INF, 10.0)];
        approx(histogram_quantile(0.9, &b), 100.0);
    }

    #[test]
    fn order_and_duplicates_do_not_matter() {
        let b = [
            (INF, 100.0),
            (50.0, 40.0),
            (10.0, 50.0),
            (50.0, 50.0),
            (100.0, 100.0),
        ];
        // coalesced: 10→50, 50→90, 100→100
        approx(histogram_quantile(0.95, &b), 75.0);
    }

    #[test]
    fn non_monotonic_counts_are_raised() {
        let b = [(10.0, 50.0), (50.0, 40.0), (100.0, 100.0), (INF, 100.0)];
        // 50-bucket raised to 50: rank 75 → (50,100]: 50 + 50*(25/50)
        approx(histogram_quantile(0.75, &b), 75.0);
    }

    #[test]
    fn nan_cases() {
        assert_eq!(histogram_quantile(0.5, &[(10.0, 5.0), (20.0, 6.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[(INF, 5.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[(10.0, 0.0), (INF, 0.0)]), None);
        assert_eq!(histogram_quantile(0.5, &[]), None);
        assert_eq!(
            histogram_quantile(f64::NAN, &[(1.0, 1.0), (INF, 1.0)]),
            None
        );
        assert_eq!(
            histogram_quantile(-1.0, &[(1.0, 1.0), (INF, 1.0)]),
            Some(f64::NEG_INFINITY)
        );
        assert_eq!(
            histogram_quantile(2.0, &[(1.0, 1.0), (INF, 1.0)]),
            Some(f64::INFINITY)
        );
    }

    #[test]
    fn non_positive_first_bound() {
        let b = [(-5.0, 10.0), (0.0, 10.0), (INF, 10.0)];
        approx(histogram_quantile(0.5, &b), -5.0);
    }
}
