//! Two independent computations on two threads, for the pure stages that
//! split cleanly (the analysis of a large graph, a triage's windows). Each
//! caller decides when its input is large enough to be worth a thread.

use std::cell::Cell;
use std::sync::OnceLock;

thread_local! {
    /// Set by [`serial`]: every [`join`] on this thread runs in turn.
    static SERIAL: Cell<bool> = const { Cell::new(false) };
}

/// `f()` with every [`join`] it makes on this thread run one after the
/// other (for tests: the parallel and the serial result must be equal).
pub fn serial<R>(f: impl FnOnce() -> R) -> R {
    let before = SERIAL.replace(true);
    let r = f();
    SERIAL.set(before);
    r
}

/// From this many edges on, a stage that splits its work by edge (the graph
/// build's per-edge samples, the analysis's rules) is worth a second thread.
pub const EDGES_WORTH_A_THREAD: usize = 2_000;

/// Whether this machine has more than one core to give.
fn parallel() -> bool {
    static MANY: OnceLock<bool> = OnceLock::new();
    *MANY.get_or_init(|| std::thread::available_parallelism().is_ok_and(|n| n.get() > 1))
}

/// `a()` and `b()`, with `b` on another thread when `worth_it` and the
/// machine has several cores; otherwise one after the other. A panic in
/// either is a panic of the caller.
pub fn join<A, B, RA, RB>(worth_it: bool, a: A, b: B) -> (RA, RB)
where
    A: FnOnce() -> RA,
    B: FnOnce() -> RB + Send,
    RB: Send,
{
    if !(worth_it && parallel()) || SERIAL.get() {
        let ra = a();
        return (ra, b());
    }
    std::thread::scope(|s| {
        let other = s.spawn(b);
        let ra = a();
        let rb = other
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (ra, rb)
    })
}

#[cfg(test)]
mod tests {
    use super::join;

    #[test]
    fn both_results_in_order_either_way() {
        for worth_it in [false, true] {
            let (a, b) = join(worth_it, || 1 + 1, || "two".len());
            assert_eq!((a, b), (2, 3));
        }
    }

    #[test]
    fn serial_runs_both_on_this_thread() {
        let here = std::thread::current().id();
        let (a, b) = super::serial(|| {
            join(
                true,
                || std::thread::current().id(),
                || std::thread::current().id(),
            )
        });
        assert_eq!((a, b), (here, here));
    }

    #[test]
    #[should_panic(expected = "from b")]
    fn a_panic_on_the_other_thread_reaches_the_caller() {
        let _ = join(true, || 1, || -> i32 { panic!("from b") });
    }
}
