//! A latency histogram of one sample: the bucket upper bounds, shared
//! between every sample with the same layout (`Arc<[f64]>`), and the
//! cumulative counts.
//!
//! Bounds keep the order the buckets were first added in (as the
//! `(le, count)` pairs did). A layout grows one bound at a time through a
//! process-wide cache of "this layout plus that bound", so every sample of
//! a proxy's 20-bucket histogram ends up pointing at the same 20 bounds, and
//! two samples with the same layout line up position by position.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use rustc_hash::FxHashMap;

/// The empty layout (the root every cached layout grows from).
static EMPTY: LazyLock<Arc<[f64]>> = LazyLock::new(|| Arc::from(Vec::new()));

/// (parent layout address, new bound bits) → (parent, child). The parent is
/// held so its address cannot be reused while the entry exists.
type Children = FxHashMap<(usize, u64), (Arc<[f64]>, Arc<[f64]>)>;

static CHILDREN: LazyLock<Mutex<Children>> = LazyLock::new(|| Mutex::new(FxHashMap::default()));

/// Past this many cached layouts, new ones are allocated per sample (still
/// correct, just not shared): odd bounds cannot grow the cache forever.
const CACHE_LIMIT: usize = 4096;

fn extend(parent: &Arc<[f64]>, le: f64) -> Arc<[f64]> {
    let key = (Arc::as_ptr(parent) as *const f64 as usize, le.to_bits());
    let mut cache = CHILDREN.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, child)) = cache.get(&key) {
        return child.clone();
    }
    let child: Arc<[f64]> = parent.iter().copied().chain([le]).collect();
    if cache.len() < CACHE_LIMIT {
        cache.insert(key, (parent.clone(), child.clone()));
    }
    child
}

/// Bucket bounds (shared) and cumulative counts, position by position.
#[derive(Clone)]
pub struct Buckets {
    bounds: Arc<[f64]>,
    counts: Vec<f64>,
}

impl Default for Buckets {
    fn default() -> Self {
        Buckets {
            bounds: EMPTY.clone(),
            counts: Vec::new(),
        }
    }
}

impl Buckets {
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// `(le, cumulative count)` pairs in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.bounds.iter().copied().zip(self.counts.iter().copied())
    }

    /// The pairs as a vector.
    pub fn to_pairs(&self) -> Vec<(f64, f64)> {
        self.iter().collect()
    }

    fn position(&self, le: f64) -> Option<usize> {
        self.bounds.iter().position(|b| *b == le)
    }

    /// Add `value` to the bucket `le`, adding the bucket when new.
    pub fn add(&mut self, le: f64, value: f64) {
        match self.position(le) {
            Some(i) => self.counts[i] += value,
            None => {
                self.bounds = extend(&self.bounds, le);
                self.counts.push(value);
            }
        }
    }

    /// Whether `other` has exactly this layout, so buckets match by
    /// position (a NaN bound never equals anything, so such layouts take
    /// the bound-by-bound path).
    pub fn same_layout(&self, other: &Buckets) -> bool {
        Arc::ptr_eq(&self.bounds, &other.bounds) && !self.bounds.iter().any(|b| b.is_nan())
    }

    /// Add every bucket of `other` into `self`.
    pub fn merge(&mut self, other: &Buckets) {
        if self.counts.is_empty() {
            // Adding into nothing: the same as adding bucket by bucket (no
            // bound of a layout repeats, NaN bounds are kept apart either way).
            self.copy_from(other);
        } else if self.same_layout(other) {
            for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
                *mine += theirs;
            }
        } else {
            for (le, v) in other.iter() {
                self.add(le, v);
            }
        }
    }

    /// The count of bucket `le` in `self`, trying position `i` first; 0
    /// when absent.
    pub fn count_at(&self, i: usize, le: f64) -> f64 {
        match (self.bounds.get(i), self.counts.get(i)) {
            (Some(b), Some(v)) if *b == le => *v,
            _ => self.position(le).map_or(0.0, |j| self.counts[j]),
        }
    }

    /// Same layout as `of`, counts from `f(position, le, count)`.
    pub fn map_from(&mut self, of: &Buckets, mut f: impl FnMut(usize, f64, f64) -> f64) {
        if !Arc::ptr_eq(&self.bounds, &of.bounds) {
            self.bounds = of.bounds.clone();
        }
        self.counts.clear();
        self.counts
            .extend(of.iter().enumerate().map(|(i, (le, v))| f(i, le, v)));
    }

    /// Same layout as `last`, counts from `f(first, last)` position by
    /// position, when `first` has that layout too (see
    /// [`Buckets::same_layout`]); `false` (and `self` untouched) otherwise.
    pub fn zip_from(
        &mut self,
        first: &Buckets,
        last: &Buckets,
        f: impl Fn(f64, f64) -> f64,
    ) -> bool {
        if first.counts.len() != last.counts.len() || !first.same_layout(last) {
            return false;
        }
        if !Arc::ptr_eq(&self.bounds, &last.bounds) {
            self.bounds = last.bounds.clone();
        }
        self.counts.clear();
        self.counts.extend(
            first
                .counts
                .iter()
                .zip(&last.counts)
                .map(|(a, b)| f(*a, *b)),
        );
        true
    }

    /// Counts by position (same order as the bounds).
    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    pub fn clear(&mut self) {
        // An empty layout is left as it is: no reference count of the
        // shared empty one to touch (two threads clearing scratch samples
        // would fight over it).
        if !self.bounds.is_empty() {
            self.bounds = EMPTY.clone();
        }
        self.counts.clear();
    }

    /// Release spare capacity (into an exact allocation, see
    /// [`crate::model::sample::EdgeSample::shrink_to_fit`]).
    pub fn shrink_to_fit(&mut self) {
        crate::model::sample::exact(&mut self.counts);
    }

    /// Make `self` a copy of `other`, reusing its allocation.
    pub fn copy_from(&mut self, other: &Buckets) {
        if !Arc::ptr_eq(&self.bounds, &other.bounds) {
            self.bounds = other.bounds.clone();
        }
        self.counts.clone_from(&other.counts);
    }
}

impl PartialEq for Buckets {
    fn eq(&self, other: &Buckets) -> bool {
        self.counts.len() == other.counts.len() && self.iter().eq(other.iter())
    }
}

impl PartialEq<Vec<(f64, f64)>> for Buckets {
    fn eq(&self, other: &Vec<(f64, f64)>) -> bool {
        self.counts.len() == other.len() && self.iter().eq(other.iter().copied())
    }
}

impl std::fmt::Debug for Buckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl FromIterator<(f64, f64)> for Buckets {
    fn from_iter<I: IntoIterator<Item = (f64, f64)>>(iter: I) -> Self {
        let mut b = Buckets::default();
        for (le, v) in iter {
            b.add(le, v);
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INF: f64 = f64::INFINITY;

    #[test]
    fn same_bounds_share_one_layout() {
        let a: Buckets = [(1.0, 1.0), (10.0, 2.0), (INF, 3.0)].into_iter().collect();
        let mut b: Buckets = [(1.0, 5.0), (10.0, 6.0), (INF, 7.0)].into_iter().collect();
        assert!(a.same_layout(&b));
        b.merge(&a);
        assert_eq!(b, vec![(1.0, 6.0), (10.0, 8.0), (INF, 10.0)]);
        // Added twice: coalesced; a new bound grows the layout.
        b.add(10.0, 1.0);
        b.add(5.0, 1.0);
        assert_eq!(b, vec![(1.0, 6.0), (10.0, 9.0), (INF, 10.0), (5.0, 1.0)]);
        assert!(!a.same_layout(&b));
        assert_eq!(b.count_at(0, 10.0), 9.0);
        assert_eq!(b.count_at(7, 42.0), 0.0);
    }

    #[test]
    fn merge_of_different_layouts_matches_by_bound() {
        let mut a: Buckets = [(10.0, 1.0), (INF, 2.0)].into_iter().collect();
        let b: Buckets = [(INF, 5.0), (10.0, 4.0), (3.0, 1.0)].into_iter().collect();
        a.merge(&b);
        assert_eq!(a, vec![(10.0, 5.0), (INF, 7.0), (3.0, 1.0)]);
    }

    #[test]
    fn zip_from_matches_bound_by_bound_and_refuses_other_layouts() {
        let a: Buckets = [(10.0, 1.0), (INF, 2.0)].into_iter().collect();
        let b: Buckets = [(10.0, 4.0), (INF, 9.0)].into_iter().collect();
        let mut fast = Buckets::default();
        assert!(fast.zip_from(&a, &b, |x, y| y - x));
        let mut slow = Buckets::default();
        slow.map_from(&b, |i, le, v| v - a.count_at(i, le));
        assert_eq!(fast, slow);
        assert_eq!(fast, vec![(10.0, 3.0), (INF, 7.0)]);
        let c: Buckets = [(INF, 2.0), (10.0, 1.0)].into_iter().collect();
        let mut untouched = Buckets::default();
        assert!(!untouched.zip_from(&c, &b, |x, y| y - x));
        assert!(untouched.is_empty());
    }

    #[test]
    fn shrink_to_fit_is_exact() {
        let mut a = Buckets::default();
        for i in 0..20 {
            a.add(i as f64, 1.0);
        }
        a.shrink_to_fit();
        assert_eq!(a.counts.capacity(), 20);
        assert_eq!(a.len(), 20);
    }

    #[test]
    fn nan_bounds_never_coalesce() {
        let mut a = Buckets::default();
        a.add(f64::NAN, 1.0);
        a.add(f64::NAN, 1.0);
        assert_eq!(a.len(), 2);
        let b = a.clone();
        assert!(!a.same_layout(&b));
        a.merge(&b);
        assert_eq!(a.len(), 4);
    }
}
