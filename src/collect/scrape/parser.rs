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

/// Stream a reader through the parser in 64 KiB chunks.
pub fn parse_reader<R: std::io::Read>(
    mut r: R,
    filter: &dyn FamilyFilter,
    sink: &mut dyn SampleSink,
) -> std::io::Result<ParseStats> {
    let mut p = StreamParser::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        p.feed(&buf[..n], filter, sink);
    }
    Ok(p.finish(filter, sink))
}
