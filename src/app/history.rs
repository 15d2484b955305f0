//! Bounded per-node and per-edge history of signals across snapshots, for sparklines.

use std::collections::{HashMap, VecDeque};

use crate::model::snapshot::{Signals, Snapshot};

/// Samples kept per series.
pub const HISTORY_LEN: usize = 120;
/// Rounds after which a node or edge that disappeared is forgotten.
const FORGET_AFTER: u64 = 30;

/// One node's or edge's recent samples (oldest first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    pub rps: VecDeque<Option<f64>>,
    pub success: VecDeque<Option<f64>>,
    pub p95: VecDeque<Option<f64>>,
    last_seen: u64,
}

impl Series {
    fn push(&mut self, s: &Signals, round: u64) {
        for (q, v) in [
            (&mut self.rps, s.rps),
            (&mut self.success, s.success_rate),
            (&mut self.p95, s.p95_ms),
        ] {
            if q.len() == HISTORY_LEN {
                q.pop_front();
            }
            q.push_back(v);
        }
        self.last_seen = round;
    }
}

/// History of every node and edge seen this session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    pub nodes: HashMap<String, Series>,
    pub edges: HashMap<(String, String), Series>,
    round: u64,
    last_collected_at: Option<String>,
}

impl History {
    /// Records a snapshot once (a snapshot with the same `collected_at` is not recorded twice).
    pub fn record(&mut self, snap: &Snapshot) {
        if self.last_collected_at.as_deref() == Some(snap.collected_at.as_str()) {
            return;
        }
        self.last_collected_at = Some(snap.collected_at.clone());
        self.round += 1;
        let round = self.round;
        for n in &snap.nodes {
            if let Some(s) = &n.signals {
                self.nodes.entry(n.id.clone()).or_default().push(s, round);
            }
        }
        for e in &snap.edges {
            self.edges
                .entry((e.source.clone(), e.target.clone()))
                .or_default()
                .push(&e.signals, round);
        }
        self.nodes
            .retain(|_, s| round - s.last_seen <= FORGET_AFTER);
        self.edges
            .retain(|_, s| round - s.last_seen <= FORGET_AFTER);
    }

    /// Rounds recorded so far.
    pub fn rounds(&self) -> u64 {
        self.round
    }
}
