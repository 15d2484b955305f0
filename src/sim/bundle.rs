//! Bundle writer (being written).
