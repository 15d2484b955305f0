//! Pure, synchronous model: workloads, edges, signals, the graph, the snapshot.

pub mod assemble;
pub mod buckets;
pub mod build;
pub mod graph;
pub mod histogram;
pub mod ids;
pub mod intern;
pub mod inventory;
pub mod sample;
pub mod signals;
pub mod snapshot;
pub mod touch;
