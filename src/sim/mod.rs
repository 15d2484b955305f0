//! The embedded simulated mesh: scenario data, deterministic traffic, what each
//! proxy would serve on its metrics port, the Kubernetes objects a live cluster
//! would return, and a bundle writer.
//!
//! Nothing here reads the filesystem or the OS clock or randomness: every value
//! is derived from the scenario's fixed seed, so two runs are byte-identical.

pub mod bundle;
pub mod cluster;
pub mod proxy;
pub mod rng;
pub mod scenario;
pub mod scenarios;
pub mod traffic;
