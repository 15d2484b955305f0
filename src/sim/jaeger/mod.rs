//! A simulated Jaeger query service for the simulated mesh: deterministic
//! traces sampled from the scenario's call graph (one client span in the
//! caller's proxy and one server span in the callee's proxy per call),
//! served over Jaeger's api_v3 (OTLP JSON), the UI-model
//! `/api/traces/{id}` and `/api/dependencies`.

mod attrs;
mod generate;
pub mod graph;
mod handlers;
pub mod model;
pub mod otlp;
pub mod query;
pub mod server;
pub mod traces;
pub mod uimodel;

pub use model::{AttrValue, Entry, SimSpan, SimTrace, SpanKind};
pub use server::JaegerServer;
pub use traces::{Catalog, MAX_TRACES_PER_QUERY, RETENTION_MS, SAMPLE_EVERY, Tracer};
pub use uimodel::DependencyLink;

#[cfg(test)]
mod tests;
