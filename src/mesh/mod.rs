//! Mesh dialects: Istio, Linkerd and plain Envoy name the same facts
//! differently; one module per dialect maps raw samples to canonical edge
//! observations.
