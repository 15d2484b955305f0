//! Rule history for a session: every watch event on a mesh rule, with its
//! before, after and time, so the Rules view and the snapshot can answer
//! "what changed in the last 30 minutes". Pure (no I/O, no clock: the
//! caller passes the times), bounded in memory.
//!
//! Wiring (kube-rs `watcher` on each mesh rule kind):
//! - `Event::Init`/`InitApply(obj)`/`InitDone` (the initial list, or a
//!   re-list after a watch restart): [`RuleHistory::seed`] each object;
//!   a re-list that finds a changed object records it via
//!   [`RuleHistory::apply`] instead (`apply` also works for the first
//!   sight, it records an `added` then).
//! - `Event::Apply(obj)`: [`RuleHistory::apply`] with the event time.
//! - `Event::Delete(obj)`: [`RuleHistory::delete`].
//!
//! Or, when the caller keeps its own before/after, [`RuleHistory::record`].
//! Then [`RuleHistory::changes_since`]`(now - 30 min)` gives the
//! `rule_diffs` entries (`source: watch`, `at` set), newest first.
//!
//! Changes that touch only server-set fields (status, resourceVersion,
//! managedFields…, see docs/rule-diffs.md) are not recorded.

use std::collections::VecDeque;

use jiff::Timestamp;
use rustc_hash::FxHashMap;
use serde_json::Value;

use super::diffs::{RuleKey, diff_one, is_mesh_rule, normalize};
use crate::model::snapshot::{Change, DiffSource, RuleDiff, Snapshot};

/// One recorded change (normalized before/after, already diffed).
#[derive(Debug, Clone, PartialEq)]
pub struct RuleEvent {
    pub at: Timestamp,
    pub key: RuleKey,
    pub change: Change,
    /// Unified YAML diff, `--- before` / `+++ after`.
    pub diff: String,
}

impl RuleEvent {
    /// The snapshot form.
    pub fn to_rule_diff(&self) -> RuleDiff {
        RuleDiff {
            resource: self.key.resource(),
            change: self.change,
            diff: self.diff.clone(),
            at: Some(self.at.to_string()),
            source: Some(DiffSource::Watch),
        }
    }

    fn size(&self) -> usize {
        self.diff.len() + self.key.group.len() + self.key.kind.len() + self.key.name.len() + 64
    }
}

/// Watch events on mesh rules, oldest first, bounded by a number of
/// events and a number of bytes of diff text (the oldest go first).
#[derive(Debug, Clone)]
pub struct RuleHistory {
    events: VecDeque<RuleEvent>,
    bytes: usize,
    max_events: usize,
    max_bytes: usize,
    /// The current normalized state of every rule seen (for `apply` and
    /// `delete`); as large as the cluster's mesh rules.
    current: FxHashMap<RuleKey, Value>,
}

impl Default for RuleHistory {
    /// 1,000 events or 4 MiB of diffs.
    fn default() -> Self {
        RuleHistory::new(1_000, 4 << 20)
    }
}

impl RuleHistory {
    /// A history keeping at most `max_events` events and about
    /// `max_bytes` of diff text (at least the newest event is kept).
    pub fn new(max_events: usize, max_bytes: usize) -> Self {
        RuleHistory {
            events: VecDeque::new(),
            bytes: 0,
            max_events: max_events.max(1),
            max_bytes,
            current: FxHashMap::default(),
        }
    }

    /// Record one change of a rule from `before` to `after` at `at`
    /// (`None` before = created, `None` after = deleted). Returns whether
    /// it was recorded: objects that are not mesh rules, and changes of
    /// server-set fields only, are not.
    pub fn record(&mut self, at: Timestamp, before: Option<&Value>, after: Option<&Value>) -> bool {
        if !before.or(after).is_some_and(is_mesh_rule) {
            return false;
        }
        let Some((key, change, diff)) = diff_one(before, after, ("before", "after")) else {
            return false;
        };
        let ev = RuleEvent {
            at,
            key,
            change,
            diff,
        };
        self.bytes += ev.size();
        // Keep time order even if events arrive slightly out of order.
        let pos = self.events.partition_point(|e| e.at <= at);
        self.events.insert(pos, ev);
        while self.events.len() > 1
            && (self.events.len() > self.max_events || self.bytes > self.max_bytes)
        {
            if let Some(old) = self.events.pop_front() {
                self.bytes -= old.size();
            }
        }
        true
    }

    /// Remember a rule's state without recording a change (initial list).
    pub fn seed(&mut self, obj: &Value) {
        if is_mesh_rule(obj) {
            let key = RuleKey::of(obj);
            let norm = normalize(obj, &key.namespace);
            self.current.insert(key, norm);
        }
    }

    /// A rule was created or updated (a watch `Apply`): record the change
    /// from its last known state. Returns whether a change was recorded.
    pub fn apply(&mut self, at: Timestamp, obj: &Value) -> bool {
        if !is_mesh_rule(obj) {
            return false;
        }
        let key = RuleKey::of(obj);
        let norm = normalize(obj, &key.namespace);
        let before = self.current.insert(key, norm.clone());
        self.record(at, before.as_ref(), Some(&norm))
    }

    /// A rule was deleted (a watch `Delete`). Returns whether recorded.
    pub fn delete(&mut self, at: Timestamp, obj: &Value) -> bool {
        if !is_mesh_rule(obj) {
            return false;
        }
        let key = RuleKey::of(obj);
        let before = self
            .current
            .remove(&key)
            .unwrap_or_else(|| normalize(obj, &key.namespace));
        self.record(at, Some(&before), None)
    }

    /// Every recorded event at or after `since`, newest first, as
    /// `rule_diffs` entries (`source: watch`, `at` in RFC 3339). Several
    /// changes of one rule are listed separately.
    pub fn changes_since(&self, since: Timestamp) -> Vec<RuleDiff> {
        let from = self.events.partition_point(|e| e.at < since);
        self.events
            .range(from..)
            .rev()
            .map(RuleEvent::to_rule_diff)
            .collect()
    }

    /// Replace the watch entries of `snap.rule_diffs` with the changes
    /// since `since` (after the declared-vs-live entries, which stay).
    pub fn attach(&self, snap: &mut Snapshot, since: Timestamp) {
        snap.rule_diffs
            .retain(|d| d.source != Some(DiffSource::Watch));
        snap.rule_diffs.extend(self.changes_since(since));
    }

    /// The recorded events, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &RuleEvent> {
        self.events.iter()
    }

    /// Number of recorded events.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Forget the events before `before` (the rule states are kept).
    pub fn prune_before(&mut self, before: Timestamp) {
        while self.events.front().is_some_and(|e| e.at < before) {
            if let Some(old) = self.events.pop_front() {
                self.bytes -= old.size();
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn pa(mode: &str, rv: &str) -> Value {
        json!({"apiVersion": "security.istio.io/v1", "kind": "PeerAuthentication",
            "metadata": {"name": "default", "namespace": "shop", "resourceVersion": rv},
            "spec": {"mtls": {"mode": mode}}})
    }

    #[test]
    fn watch_sequence_and_window() {
        let mut h = RuleHistory::default();
        h.seed(&pa("STRICT", "1"));
        assert!(
            !h.apply(t("2026-01-05T09:00:00Z"), &pa("STRICT", "2")),
            "server-only change"
        );
        assert!(h.apply(t("2026-01-05T09:10:00Z"), &pa("PERMISSIVE", "3")));
        assert!(h.delete(t("2026-01-05T09:40:00Z"), &pa("PERMISSIVE", "3")));
        assert!(h.apply(t("2026-01-05T09:45:00Z"), &pa("STRICT", "5")));
        assert!(!h.apply(
            t("2026-01-05T09:46:00Z"),
            &json!({"apiVersion": "v1",
            "kind": "ConfigMap", "metadata": {"name": "x"}})
        ));
        assert_eq!(h.len(), 3);
        let last30 = h.changes_since(t("2026-01-05T09:15:00Z"));
        let got: Vec<(Change, Option<&str>)> =
            last30.iter().map(|d| (d.change, d.at.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                (Change::Added, Some("2026-01-05T09:45:00Z")),
                (Change::Removed, Some("2026-01-05T09:40:00Z")),
            ]
        );
        let all = h.changes_since(t("2026-01-05T00:00:00Z"));
        assert_eq!(all[2].change, Change::Modified);
        assert!(
            all[2]
                .diff
                .contains("-    mode: STRICT\n+    mode: PERMISSIVE\n"),
            "{}",
            all[2].diff
        );
        assert!(all.iter().all(|d| d.source == Some(DiffSource::Watch)));
        assert_eq!(all[0].resource, "PeerAuthentication/shop/default");
        let mut snap = Snapshot::empty("2026-01-05T09:50:00Z".into(), 60.0);
        h.attach(&mut snap, t("2026-01-05T09:20:00Z"));
        h.attach(&mut snap, t("2026-01-05T09:20:00Z"));
        assert_eq!(
            snap.rule_diffs.len(),
            2,
            "attach replaces, never duplicates"
        );
        h.prune_before(t("2026-01-05T09:40:00Z"));
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn bounded_and_ordered() {
        let mut h = RuleHistory::new(3, usize::MAX);
        for i in 0..10u32 {
            let at = t("2026-01-05T09:00:00Z") + jiff::SignedDuration::from_secs(i64::from(10 - i));
            let before = pa(&format!("M{i}"), "1");
            let after = pa(&format!("N{i}"), "1");
            assert!(h.record(at, Some(&before), Some(&after)));
        }
        assert_eq!(h.len(), 3);
        let times: Vec<Timestamp> = h.events().map(|e| e.at).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
        let mut small = RuleHistory::new(100, 10);
        small.record(t("2026-01-05T09:00:00Z"), None, Some(&pa("STRICT", "1")));
        small.record(t("2026-01-05T09:01:00Z"), None, Some(&pa("DISABLE", "1")));
        assert_eq!(small.len(), 1, "the byte budget keeps only the newest");
        assert_eq!(
            small.events().next().map(|e| e.at),
            Some(t("2026-01-05T09:01:00Z"))
        );
    }
}
