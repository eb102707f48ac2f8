//! How long operations tell their caller what is happening, without a terminal.
//!
//! The library never draws or prints. An entry point that takes a while (evaluate, matrix,
//! speedup, profile) takes a `&dyn Progress`: the CLI implements it with progress bars and
//! warning lines on stderr, a server or the Python bindings with nothing or a log.

/// Receives progress and notes from a long operation. Every method has a no-op default, and
/// calls may come from several worker threads at once.
pub trait Progress: Sync {
    /// A stage of `total` items begins (for example "evaluating", 328 splits).
    fn begin(&self, _stage: &str, _total: u64) {}
    /// `n` more items of the current stage are done.
    fn advance(&self, _n: u64) {}
    /// The current stage is over.
    fn end(&self) {}
    /// Something the user should know that is not an error: a warning or a step taken
    /// (for example "downloading HumanEval+"). One line, no trailing newline.
    fn note(&self, _message: &str) {}
}

/// A [`Progress`] that ignores everything.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {}

/// A [`Progress`] that keeps every note (and counts items), for tests and embedders that
/// want the warnings as data.
#[derive(Debug, Default)]
pub struct Recorder {
    notes: std::sync::Mutex<Vec<String>>,
    items: std::sync::atomic::AtomicU64,
}

impl Recorder {
    /// The notes received so far, in order.
    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Items advanced so far, over all stages.
    pub fn items(&self) -> u64 {
        self.items.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Progress for Recorder {
    fn advance(&self, n: u64) {
        self.items
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }

    fn note(&self, message: &str) {
        self.notes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(message.to_owned());
    }
}

/// Runs `f` as one stage of `progress`: `begin` before, `end` after (also on error).
pub fn stage<T>(progress: &dyn Progress, name: &str, total: usize, f: impl FnOnce() -> T) -> T {
    progress.begin(name, total as u64);
    let out = f();
    progress.end();
    out
}
