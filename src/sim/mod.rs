//! Simulated infrastructure for `meshscope demo` and tests.

pub mod apiserver;
