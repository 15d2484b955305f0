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

/// The process's CPU time so far (user + system, seconds), from
/// `/proc/self/stat` (clock ticks of 10 ms); `None` off Linux.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command (which may hold spaces) in parentheses.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after `state`.
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// Print `what` with the time since the first mark and the process's CPU
/// time so far, when timings are on.
pub fn mark(what: impl FnOnce() -> String) {
    if enabled() {
        let t = origin().elapsed().as_secs_f64();
        let cpu = cpu_seconds().map_or_else(String::new, |c| format!(" cpu {c:6.2} s"));
        eprintln!("meshscope timings: {t:7.3} s{cpu}  {}", what());
    }
}
