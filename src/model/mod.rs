//! Pure, synchronous model: workloads, edges, signals, the graph, the snapshot.

pub mod snapshot;
