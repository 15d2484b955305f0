//! Kubernetes objects of the simulated cluster (being written).
