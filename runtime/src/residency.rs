//! Keeps the cost of resetting a pool slot's memory proportional to what a run wrote.
//!
//! After a run, wasmtime resets a reused slot by asking the kernel (`PAGEMAP_SCAN`) for the
//! pages the run wrote and copying those back from the snapshot, up to
//! [`SandboxConfig::keep_resident_bytes`](crate::SandboxConfig::keep_resident_bytes). But
//! the kernel also reports every page that was never touched (a hole in the page tables) as
//! written when the mapping has no userfaultfd write protection, which is always the case
//! here. wasmtime 50 asks for "written and neither the zero page nor a file page", so every
//! hole in the slot's memory was copied back too, and then stayed a private page that was
//! copied again after every later run: measured on the guest, 16.4 MiB of the 30 MiB image
//! after the first run, copied after every run (about half the CPU time of a short program).
//!
//! The fix here: the first time a slot is used, the slot's memory is populated for reading
//! (`MADV_POPULATE_READ`, one system call): untouched pages of the image map the cached file
//! page and the rest the shared zero page, both of which the scan skips. From then on only
//! pages really written are copied (141 pages for a short program).
//!
//! Two things undo that, so a slot is refreshed (its private pages handed back to the
//! kernel, then populated again) after a run that grew its memory by more than half the
//! budget, and every [`REFRESH_EVERY`] uses in any case:
//! - holes come back when wasmtime hands back to the kernel the pages it could not copy
//!   within its budget;
//! - a page a run wrote stays private and is copied after every later run, so one run that
//!   wrote much would slow down every run after it in that slot.
//!
//! `scripts/pagemap_holes.py` shows the kernel behaviour on its own.

use std::collections::HashMap;
use std::sync::Mutex;

use wasmtime::{AsContext, Instance, Memory, Store};

use crate::host::HostState;

/// A slot is refreshed after this many uses. A refresh of the guest's 94 MiB costs a few
/// milliseconds: refreshing every 64 uses cost 20 % of the throughput of a short program,
/// every 256 uses about 5 % (`serve_load`, 2 cores).
const REFRESH_EVERY: u32 = 256;

/// The slots (by the address of their linear memory) whose memory was populated, with the
/// uses since.
pub(crate) struct Residency {
    /// Bytes of each slot wasmtime keeps resident; 0 turns this off (wasmtime then unmaps
    /// all of a slot's memory after each run, and populating it would be wasted).
    keep_resident: usize,
    populated: Mutex<HashMap<usize, u32>>,
}

/// A slot's linear memory as it was when its instance was made.
pub(crate) struct Watch {
    memory: Memory,
    base: usize,
    initial: usize,
}

impl Residency {
    /// Tracks slots when `keep_resident` bytes of each are kept across runs.
    pub(crate) fn new(keep_resident: usize) -> Self {
        Residency {
            keep_resident,
            populated: Mutex::default(),
        }
    }

    /// Called on a fresh instance: populates its memory if its slot may have holes.
    pub(crate) fn prepare(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> Option<Watch> {
        if self.keep_resident == 0 {
            return None;
        }
        let memory = instance.get_memory(&mut *store, "memory")?;
        let base = memory.data_ptr(&*store) as usize;
        let initial = memory.data_size(&*store);
        let mut populated = self.populated.lock().unwrap_or_else(|e| e.into_inner());
        let uses = populated.entry(base).or_insert(0);
        if *uses == 0 {
            refresh(base, initial);
        }
        *uses = (*uses + 1) % REFRESH_EVERY;
        drop(populated);
        Some(Watch {
            memory,
            base,
            initial,
        })
    }

    /// Called when the instance's run is over: a slot whose memory grew by more than half
    /// the budget is refreshed next time.
    pub(crate) fn finish(&self, watch: Option<Watch>, store: impl AsContext) {
        let Some(watch) = watch else { return };
        if watch.memory.data_size(&store).saturating_sub(watch.initial) > self.keep_resident / 2 {
            let mut populated = self.populated.lock().unwrap_or_else(|e| e.into_inner());
            populated.insert(watch.base, 0);
        }
    }
}

/// Hands the private pages of `[base, base + len)` back to the kernel, then maps every page
/// of it for reading, without faulting page by page. Called on a fresh instance, whose memory
/// holds exactly the snapshot: the first step turns its pages back into the snapshot's file
/// pages and zero pages, the same contents. Failure (a kernel older than 5.14 has no
/// MADV_POPULATE_READ) only costs speed.
fn refresh(base: usize, len: usize) {
    #[cfg(target_os = "linux")]
    // SAFETY: `[base, base + len)` is the linear memory of a live instance that has not run
    // yet, a private mapping of the snapshot image (then zeros) made by wasmtime, readable
    // and writable. MADV_DONTNEED on such a mapping reverts each page to the image or to
    // zeros, which is what it holds before the instance runs; MADV_POPULATE_READ changes no
    // contents.
    unsafe {
        libc::madvise(base as *mut libc::c_void, len, libc::MADV_DONTNEED);
        libc::madvise(base as *mut libc::c_void, len, libc::MADV_POPULATE_READ);
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (base, len);
}
