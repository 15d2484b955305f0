//! prometheus-parse 0.2.5 behind our trait (placeholder).
