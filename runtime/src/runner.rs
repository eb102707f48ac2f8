//! Runners: code running on a native stack deep enough for the guest.
//!
//! The guest's wasm stack (up to [`MAX_WASM_STACK`]) lives on the native stack of the thread
//! that calls into wasmtime, and an ordinary thread has far less (8 MiB for `main`, 2 MiB for
//! a spawned thread). Runs and sessions therefore happen *on a runner*, with
//! [`RUN_STACK`] of stack:
//! - a thread from [`spawn_runner`] is a runner for its whole life (a worker thread);
//! - [`on_runner`] (and [`Sandbox::run`](crate::Sandbox::run), through it) switches the
//!   calling thread onto a deep stack of its own for the length of one closure, and back. The
//!   stack is mapped the first time a thread needs it and reused by every later call on that
//!   thread, so repeated runs from an ordinary thread start no thread and map nothing; it is
//!   unmapped when the thread exits.
//!
//! On a runner already, both run the work in place.

use std::cell::{Cell, OnceCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;

use crate::error::{Error, Result};

/// Largest wasm call stack a run may use. Python's recursion limit (1000) is reached well
/// before it, so unbounded recursion ends in `RecursionError`.
pub(crate) const MAX_WASM_STACK: usize = 64 << 20;
/// Native stack of a runner: the wasm stack plus host headroom.
const RUN_STACK: usize = MAX_WASM_STACK + (16 << 20);
/// Inaccessible bytes at the low end of a deep stack, so that overflowing it faults instead
/// of writing over whatever is mapped below (Rust's stack probes touch every page, and 64 KiB
/// is a whole number of pages for every page size Linux uses).
const GUARD: usize = 64 << 10;
/// Bytes at the top of a deep stack that stay resident between calls; the deeper pages a call
/// touched are handed back to the kernel after it, as the exit of a thread would.
const STACK_KEEP_RESIDENT: usize = 1 << 20;

thread_local! {
    /// Whether this thread is on a runner now: a thread from [`spawn_runner`], or inside
    /// [`on_runner`] on its deep stack.
    static ON_RUNNER: Cell<bool> = const { Cell::new(false) };
    /// This thread's deep stack, once it has needed one.
    static DEEP_STACK: OnceCell<DeepStack> = const { OnceCell::new() };
}

/// Whether the current thread is on a runner.
pub(crate) fn is_runner() -> bool {
    ON_RUNNER.get()
}

/// Runs `f` on a native stack deep enough for sandbox runs and sessions: in place on a runner,
/// else on this thread's deep stack of 80 MiB, mapped the first time the thread needs it and
/// reused by every later call (its deep pages are handed back after each call; it is unmapped
/// when the thread exits). No thread is started.
///
/// `f` may borrow from the caller. `f` and `T` must be `Send`, as if `f` ran on another
/// thread: that keeps a [`Lease`](crate::Lease) (or its sessions, which need the deep stack)
/// from being taken into `f` or handed back out of it.
///
/// # Errors
///
/// [`Error::Panicked`] when `f` panics (on a runner already, the panic propagates instead),
/// and [`Error::RunnerStack`] when this thread's deep stack cannot be mapped.
pub fn on_runner<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    if is_runner() {
        return Ok(f());
    }
    on_deep_stack(f)
}

/// [`on_runner`] that also contains a panic of `f` on a runner: every panic becomes
/// [`Error::Panicked`].
pub(crate) fn on_runner_contained<T: Send>(f: impl FnOnce() -> T + Send) -> Result<T> {
    if is_runner() {
        return catch_unwind(AssertUnwindSafe(f)).map_err(|payload| Error::panicked(&*payload));
    }
    on_deep_stack(f)
}

/// Spawns a scoped thread with a native stack deep enough for sandbox runs: a runner for its
/// whole life, on which [`Sandbox::run`](crate::Sandbox::run) runs in place and sessions can
/// be opened. Worker threads that make many runs or hold a lease should be such threads.
///
/// # Errors
///
/// The I/O error of [`std::thread::Builder::spawn_scoped`] when the thread cannot be started.
pub fn spawn_runner<'scope, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, '_>,
    f: impl FnOnce() -> T + Send + 'scope,
) -> std::io::Result<std::thread::ScopedJoinHandle<'scope, T>> {
    std::thread::Builder::new()
        .name("codefuel-run".into())
        .stack_size(RUN_STACK)
        .spawn_scoped(scope, || {
            ON_RUNNER.set(true);
            f()
        })
}

/// Runs `f` on this thread's deep stack (mapping it first if needed), as a runner, and
/// contains its panics. The caller is not on a runner, so the deep stack is not in use.
fn on_deep_stack<T>(f: impl FnOnce() -> T) -> Result<T> {
    DEEP_STACK
        .try_with(|cell| {
            if cell.get().is_none() {
                // Only this thread fills its cell, and it is empty.
                let _ = cell.set(DeepStack::map()?);
            }
            cell.get().expect("filled above").run(f)
        })
        .unwrap_or_else(|std::thread::AccessError { .. }| {
            Err(Error::RunnerStack {
                source: std::io::Error::other("the thread is exiting"),
            })
        })
}

/// A thread's deep stack: an anonymous mapping of [`RUN_STACK`] bytes whose low end is a
/// [`GUARD`] (stacks grow down on every target codefuel builds for). Unmapped on drop (when
/// its thread exits).
struct DeepStack {
    base: NonNull<u8>,
    len: usize,
}

impl DeepStack {
    /// Maps a new deep stack. Its pages are committed only as the stack grows into them.
    fn map() -> Result<DeepStack> {
        if psm::StackDirection::new() != psm::StackDirection::Descending {
            return Err(Error::RunnerStack {
                source: std::io::Error::other("this target's stack does not grow down"),
            });
        }
        let len = RUN_STACK;
        // SAFETY: an anonymous private mapping at an address of the kernel's choosing touches
        // no existing memory; the result is checked for `MAP_FAILED` before it is used.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_STACK,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Error::RunnerStack {
                source: std::io::Error::last_os_error(),
            });
        }
        let stack = DeepStack {
            base: NonNull::new(base.cast()).expect("mmap does not map address 0"),
            len,
        };
        // SAFETY: the first `GUARD` bytes are a page-aligned part of the mapping just made,
        // which nothing references yet.
        if unsafe { libc::mprotect(base, GUARD, libc::PROT_NONE) } != 0 {
            // Dropping `stack` unmaps it.
            return Err(Error::RunnerStack {
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(stack)
    }

    /// Runs `f` on this stack, as a runner, and contains its panics; then trims the stack.
    /// The caller must not be on a runner (so nothing else is on this stack).
    fn run<T>(&self, f: impl FnOnce() -> T) -> Result<T> {
        let contained = || {
            ON_RUNNER.set(true);
            let result = catch_unwind(AssertUnwindSafe(f));
            ON_RUNNER.set(false);
            result
        };
        // SAFETY: `psm::on_stack` needs a valid stack region that is suitably aligned, whose
        // size is a multiple of the alignment and fits `isize`, that nothing else uses while
        // the callback runs, and a callback that does not unwind. The region passed is the
        // read-write part of this mapping of `RUN_STACK` bytes above its guard, page-aligned
        // (`mmap` returns page-aligned memory; `GUARD` and `RUN_STACK` are multiples of
        // 64 KiB), with the guard below it as psm asks of a stack that grows down. The mapping belongs to this thread's `DEEP_STACK` and lives until the
        // thread exits, which cannot happen during the call; nothing else is on it: other
        // threads have their own, the caller is not on a runner (so not on this stack), and
        // a call made inside finds `ON_RUNNER` set and runs in place. `contained` catches
        // every unwinding panic of `f`.
        let result = unsafe {
            psm::on_stack(
                self.base.as_ptr().wrapping_add(GUARD),
                self.len - GUARD,
                contained,
            )
        };
        // A failed trim leaves the pages resident, nothing worse.
        let _ = self.trim();
        result.map_err(|payload| Error::panicked(&*payload))
    }

    /// Hands back to the kernel the pages of the stack below its top [`STACK_KEEP_RESIDENT`]
    /// bytes, which a deep call may have touched; they read as zero if touched again.
    fn trim(&self) -> std::io::Result<()> {
        let start = self.base.as_ptr().wrapping_add(GUARD);
        let len = self.len - GUARD - STACK_KEEP_RESIDENT;
        // SAFETY: the range lies inside the read-write part of this mapping, and no frame
        // lives on the stack: the call that used it has returned and the thread is back on
        // its own stack. `MADV_DONTNEED` on private anonymous memory only drops its contents.
        match unsafe { libc::madvise(start.cast(), len, libc::MADV_DONTNEED) } {
            0 => Ok(()),
            _ => Err(std::io::Error::last_os_error()),
        }
    }
}

impl Drop for DeepStack {
    fn drop(&mut self) {
        // SAFETY: the mapping is this value's alone, and the thread is exiting (or the
        // mapping was never used), so no frame lives on it.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

#[cfg(test)]
mod tests {
    use std::thread::{self, ThreadId};

    use super::*;

    fn here() -> (ThreadId, bool) {
        (thread::current().id(), is_runner())
    }

    fn boom() -> u32 {
        panic!("boom")
    }

    /// Recurses `depth` frames of about 64 KiB each.
    #[inline(never)]
    fn deep(depth: usize) -> usize {
        let frame = std::hint::black_box([depth as u8; 64 << 10]);
        if depth == 0 {
            return frame[0] as usize;
        }
        deep(depth - 1) + std::hint::black_box(frame[1]) as usize
    }

    #[test]
    fn on_runner_runs_on_this_thread_on_a_deep_stack() {
        let caller = thread::current().id();
        assert!(!is_runner());
        assert_eq!(on_runner(here).unwrap(), (caller, true));
        assert!(!is_runner(), "back off the runner");
        // 12 MiB of frames or more: far more than the test thread's own stack.
        let expected: usize = (0..=200).map(|d| d as u8 as usize).sum();
        assert_eq!(on_runner(|| deep(200)).unwrap(), expected);
        // Nested calls run in place.
        assert_eq!(
            on_runner(|| on_runner(here).unwrap()).unwrap(),
            (caller, true)
        );
    }

    #[test]
    fn the_deep_stack_is_mapped_once_and_trimmed_after_a_call() {
        on_runner(|| deep(100)).unwrap();
        let first = DEEP_STACK.with(|cell| cell.get().map(|stack| stack.base));
        on_runner(|| deep(100)).unwrap();
        DEEP_STACK.with(|cell| {
            let stack = cell.get().expect("mapped by the first call");
            assert_eq!(Some(stack.base), first, "the same stack, reused");
            stack.trim().expect("the trimmed range is valid");
        });
    }

    #[test]
    fn a_panic_becomes_an_error_and_the_stack_stays_usable() {
        let error = on_runner(boom).unwrap_err();
        assert!(
            matches!(&error, Error::Panicked { message } if message == "boom"),
            "{error:?}"
        );
        assert!(!is_runner());
        assert_eq!(on_runner(|| 7).unwrap(), 7);
        // On a runner already, `on_runner` lets a panic through; the contained form does not.
        let inner = on_runner(|| catch_unwind(|| on_runner(boom)).is_err()).unwrap();
        assert!(inner);
        let contained = on_runner(|| on_runner_contained(boom).is_err()).unwrap();
        assert!(contained);
    }

    #[test]
    fn a_spawned_runner_runs_in_place() {
        let outer = thread::scope(|scope| {
            spawn_runner(scope, || (here(), on_runner(here).unwrap()))
                .unwrap()
                .join()
                .unwrap()
        });
        assert_eq!(outer.0, outer.1);
        assert!(outer.0.1);
    }
}
