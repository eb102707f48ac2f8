//! A small ordered parallel map over worker threads, with a progress bar.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The number of worker threads to use by default: all cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A progress bar on stderr with rate and ETA; hidden when stderr is not a terminal.
pub fn progress_bar(len: usize, message: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, ETA {eta})")
            .unwrap()
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

/// Applies `f` to every item on `jobs` threads (runner threads, see
/// [`codefuel_runtime::spawn_runner`]); results come back in item order.
pub fn map<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    bar: &ProgressBar,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            // Runner threads: the sandbox runs of `f` happen in place, on this thread.
            codefuel_runtime::spawn_runner(scope, || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let result = f(item);
                    results.lock().unwrap()[i] = Some(result);
                    bar.inc(1);
                }
            })
            .expect("spawning a worker thread");
        }
    });
    results
        .into_inner()
        .unwrap()
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
        let out = map(&items, 4, &ProgressBar::hidden(), |x| x * 2);
        assert_eq!(out, items.iter().map(|x| x * 2).collect::<Vec<_>>());
    }
}
