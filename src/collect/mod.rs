//! Every I/O source lives here and converts foreign types into ours at the edge.

pub mod scrape;
