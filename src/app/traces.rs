//! Picking a sample trace in an edge's detail and the waterfall it opens.
//! The spans are not in the snapshot: opening a waterfall returns
//! [`Effect::FetchTrace`], the loop fetches the trace off the UI thread and
//! hands it back through [`App::trace_arrived`].

use std::sync::Arc;

use super::action::Action;
use super::state::{Overlay, Subject, TracePane};
use super::{App, Effect};
use crate::model::snapshot::TraceExemplar;
use crate::view::waterfall::Waterfall;

impl App {
    /// The sample traces of the edge whose detail is open (empty otherwise).
    pub fn edge_samples(&self) -> &[TraceExemplar] {
        let subject = match &self.ui.overlay {
            Some(Overlay::Detail(s)) | Some(Overlay::Waterfall { subject: s, .. }) => s,
            _ => return &[],
        };
        let Subject::Edge(src, dst) = subject else {
            return &[];
        };
        self.snapshot
            .edges
            .iter()
            .find(|e| &e.source == src && &e.target == dst)
            .map_or(&[][..], |e| e.traces.as_slice())
    }

    /// j/k in an edge's detail with samples: move the pick (and keep the
    /// samples, the detail's last lines, in sight). `false` when the
    /// detail has no samples (the keys scroll instead).
    pub(crate) fn pick_sample(&mut self, action: Action) -> bool {
        let n = self.edge_samples().len();
        if n == 0
            || !matches!(
                action,
                Action::Up | Action::Down | Action::Top | Action::Bottom
            )
        {
            return false;
        }
        let cur = self.ui.sample_selected.min(n - 1);
        self.ui.sample_selected = match action {
            Action::Up => cur.saturating_sub(1),
            Action::Down => (cur + 1).min(n - 1),
            Action::Top => 0,
            _ => n - 1,
        };
        let rows = self.screen().text_lines(super::action::View::Detail);
        self.ui.detail_scroll = rows.saturating_sub(usize::from(self.ui.page_rows));
        true
    }

    /// Enter in an edge's detail: open the picked sample's waterfall.
    pub(crate) fn open_waterfall(&mut self) -> Option<Effect> {
        let Some(Overlay::Detail(subject)) = &self.ui.overlay else {
            return None;
        };
        let samples = self.edge_samples();
        let x = samples.get(self.ui.sample_selected.min(samples.len().saturating_sub(1)))?;
        let trace_id = x.trace_id.clone();
        self.ui.overlay = Some(Overlay::Waterfall {
            subject: subject.clone(),
            trace_id: trace_id.clone(),
        });
        self.ui.trace_pane = Some(TracePane::Loading);
        self.ui.waterfall_scroll = 0;
        Some(Effect::FetchTrace(trace_id))
    }

    /// Esc in a waterfall: back to the edge's detail.
    pub(crate) fn close_waterfall(&mut self) -> bool {
        if let Some(Overlay::Waterfall { subject, .. }) = &self.ui.overlay {
            self.ui.overlay = Some(Overlay::Detail(subject.clone()));
            self.ui.trace_pane = None;
            return true;
        }
        false
    }

    /// The trace `id` was fetched (or failed): shown if its waterfall is
    /// still open and waiting; a late answer for a closed one is dropped.
    pub fn trace_arrived(&mut self, id: &str, result: Result<Arc<Waterfall>, String>) {
        let open = [&self.ui.overlay, &self.ui.under_help]
            .into_iter()
            .flatten()
            .any(|o| matches!(o, Overlay::Waterfall { trace_id, .. } if trace_id == id));
        if open && self.ui.trace_pane == Some(TracePane::Loading) {
            self.ui.trace_pane = Some(match result {
                Ok(w) => TracePane::Ready(w),
                Err(e) => TracePane::Failed(e),
            });
        }
    }

    /// Scroll the waterfall's rows.
    pub(crate) fn scroll_waterfall(&mut self, action: Action) {
        let rows = match &self.ui.trace_pane {
            Some(TracePane::Ready(w)) => w.rows.len(),
            _ => 0,
        };
        // `page_rows` is inside the block; the title line takes one.
        let visible = usize::from(self.ui.page_rows.saturating_sub(1)).max(1);
        let max = rows.saturating_sub(visible);
        let page = (visible / 2).max(1);
        let s = &mut self.ui.waterfall_scroll;
        *s = match action {
            Action::Up => s.saturating_sub(1),
            Action::Down => *s + 1,
            Action::Top => 0,
            Action::Bottom => max,
            Action::PageDown => *s + page,
            Action::PageUp => s.saturating_sub(page),
            _ => *s,
        }
        .min(max);
    }
}
