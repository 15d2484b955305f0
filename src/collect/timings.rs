//! `MESHSCOPE_TIMINGS=1`: where the time of a run went, on stderr (for the
//! measurements in docs/; off by default).

use std::sync::OnceLock;
use std::time::Instant;

fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("MESHSCOPE_TIMINGS").is_some())
}

/// The process's first mark: the origin of every mark's time.
fn origin() -> Instant {
    static T0: OnceLock<Instant> = OnceLock::new();
    *T0.get_or_init(Instant::now)
}

/// Print `what` with the time since the first mark, when timings are on.
pub fn mark(what: impl FnOnce() -> String) {
    if enabled() {
        let t = origin().elapsed().as_secs_f64();
        eprintln!("meshscope timings: {t:7.3} s  {}", what());
    }
}
