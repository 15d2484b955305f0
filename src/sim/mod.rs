//! The embedded simulated mesh: scenario data, deterministic traffic, what each
//! proxy would serve on its metrics port, the Kubernetes objects a live cluster
//! would return, a bundle writer, and a Kubernetes API server on loopback.
//!
//! The data side never reads the filesystem, the OS clock or randomness:
//! every value is derived from the scenario's fixed seed and the time passed
//! in, so two runs are byte-identical.

pub mod apiserver;
pub mod bundle;
pub mod cluster;
pub mod demo;
pub mod jaeger;
pub mod proxy;
pub mod rng;
pub mod scenario;
pub mod scenarios;
pub mod tracing_service;
pub mod traffic;
