//! A small ordered parallel map over worker threads, reporting each finished item to a
//! [`Progress`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::progress::Progress;

/// The number of worker threads to use by default: all cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Applies `f` to every item on `jobs` threads (runner threads, see
/// [`codefuel_runtime::spawn_runner`]); results come back in item order. A panic in `f` is
/// caught and becomes that item's error: one bad item never takes the others down.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    progress: &dyn Progress,
    f: impl Fn(&T) -> anyhow::Result<R> + Sync,
) -> Vec<anyhow::Result<R>> {
    map_init(items, jobs, progress, || (), |_, item| f(item))
}

/// [`map`] with per-worker state: each worker thread makes its own with `init` (a sandbox
/// lease, a trusted session kept for all its items) and hands it to `f` for every item it
/// takes. After a panic in `f` the worker starts again from a fresh state.
pub fn map_init<T: Sync, S, R: Send>(
    items: &[T],
    jobs: usize,
    progress: &dyn Progress,
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> anyhow::Result<R> + Sync,
) -> Vec<anyhow::Result<R>> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<anyhow::Result<R>>>> =
        Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            // Runner threads: the sandbox runs of `f` happen in place, on this thread.
            codefuel_runtime::spawn_runner(scope, || {
                let mut state = None;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        f(state.get_or_insert_with(&init), item)
                    }));
                    let result = outcome.unwrap_or_else(|panic| {
                        state = None;
                        let message = panic
                            .downcast_ref::<&str>()
                            .map(|s| (*s).to_owned())
                            .or_else(|| panic.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "a panic".into());
                        Err(anyhow::anyhow!(
                            "internal error (please report it): {message}"
                        ))
                    });
                    results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                    progress.advance(1);
                }
            })
            .expect("spawning a worker thread");
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.expect("every item was processed"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_across_threads() {
        let items: Vec<u64> = (0..100).collect();
        let out = map(&items, 4, &crate::progress::Silent, |x| Ok(x * 2));
        let out: Vec<u64> = out.into_iter().map(|r| r.unwrap()).collect();
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }

    #[test]
    fn workers_keep_their_state_and_start_afresh_after_a_panic() {
        let inits = AtomicUsize::new(0);
        let items: Vec<u64> = (0..40).collect();
        let init = || {
            inits.fetch_add(1, Ordering::Relaxed);
            0u64
        };
        let out = map_init(&items, 2, &crate::progress::Silent, init, |seen, &x| {
            *seen += 1;
            Ok(x)
        });
        assert!(out.iter().all(|r| r.is_ok()));
        assert!(inits.load(Ordering::Relaxed) <= 2, "one state per worker");
        inits.store(0, Ordering::Relaxed);
        let out = map_init(&items, 1, &crate::progress::Silent, init, |_, &x| {
            assert!(x != 7, "item seven");
            Ok(x)
        });
        assert_eq!(out.iter().filter(|r| r.is_err()).count(), 1);
        assert_eq!(
            inits.load(Ordering::Relaxed),
            2,
            "a fresh state after the panic"
        );
    }

    #[test]
    fn a_panic_is_that_items_error() {
        let items: Vec<u64> = (0..10).collect();
        let out = map(&items, 2, &crate::progress::Silent, |&x| {
            assert!(x != 3, "item three");
            Ok(x)
        });
        assert!(
            out[3]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("item three")
        );
        assert_eq!(out.iter().filter(|r| r.is_ok()).count(), 9);
    }
}
