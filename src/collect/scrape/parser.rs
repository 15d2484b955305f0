//! The production exposition parser (placeholder until the streaming parser lands).

use super::{ExpositionParser, FamilyFilter, ParseStats, SampleSink};

#[derive(Default)]
pub struct StreamParser {
    buf: Vec<u8>,
}

impl StreamParser {
    pub fn new() -> Self {
        Self::default()
    }
}

impl ExpositionParser for StreamParser {
    fn feed(&mut self, chunk: &[u8], _filter: &dyn FamilyFilter, _sink: &mut dyn SampleSink) {
        self.buf.extend_from_slice(chunk);
    }
    fn finish(&mut self, _filter: &dyn FamilyFilter, _sink: &mut dyn SampleSink) -> ParseStats {
        ParseStats::default()
    }
}
