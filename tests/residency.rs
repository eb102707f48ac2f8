//! Resetting a pool slot copies back only the pages runs wrote (`runtime/src/residency.rs`).
//!
//! A test binary of its own: it reads this process's memory map, which must hold no other
//! sandbox's memory.

use codefuel_runtime::{Limits, Program, Sandbox, SandboxConfig, Verdict};

/// Bytes of the guest's snapshot image, in every slot of this process, that are private
/// copies (pages written since they were mapped) rather than the cached file's pages.
fn private_image_bytes() -> u64 {
    let smaps = std::fs::read_to_string("/proc/self/smaps").expect("reading /proc/self/smaps");
    let mut in_image = false;
    let mut total = 0;
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields
            .first()
            .is_some_and(|f| f.contains('-') && !f.ends_with(':'))
        {
            in_image = fields.get(1) == Some(&"rw-p")
                && fields.last().is_some_and(|path| path.ends_with(".cwasm"));
        } else if in_image && fields.first() == Some(&"Anonymous:") {
            total += fields[1].parse::<u64>().unwrap() * 1024;
        }
    }
    total
}

/// PAGEMAP_SCAN, which wasmtime uses to find the written pages, came with Linux 6.7.
fn kernel_has_pagemap_scan() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut parts = release
        .trim()
        .split(['.', '-'])
        .map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0)) >= (6, 7)
}

#[test]
fn a_slot_keeps_only_the_pages_runs_wrote() {
    if !cfg!(target_os = "linux") || !kernel_has_pagemap_scan() {
        eprintln!("skipped: needs Linux 6.7 or later (PAGEMAP_SCAN)");
        return;
    }
    let sandbox = Sandbox::with_config(&SandboxConfig {
        max_concurrent_runs: 1,
        ..SandboxConfig::default()
    })
    .unwrap();
    let run = |source: &str| {
        let outcome = sandbox
            .run(Program::new(source), &Limits::default())
            .unwrap();
        assert!(
            matches!(outcome.verdict, Verdict::Completed { exit_code: 0 }),
            "{:?}",
            outcome.verdict
        );
        String::from_utf8(outcome.stdout).unwrap()
    };
    let short = "import sys\nprint(hasattr(sys, 'leak'), 1 + 2)";
    for _ in 0..5 {
        assert_eq!(run(short), "False 3\n");
    }
    // A short program writes ~140 pages (0.6 MiB) of the 30 MiB image. Without the fix,
    // every page the scan reported as written (holes included) became private: 16 MiB.
    let after_short = private_image_bytes();
    assert!(after_short < 4 << 20, "{after_short} bytes private");

    // A run that writes and grows a lot; the slot is refreshed before the next one, which
    // sees a fresh interpreter and leaves the slot as small as before.
    assert_eq!(
        run("import sys\nsys.leak = [7] * 5_000_000\nprint(len(sys.leak))"),
        "5000000\n"
    );
    assert_eq!(run(short), "False 3\n");
    let after_refresh = private_image_bytes();
    assert!(after_refresh < 4 << 20, "{after_refresh} bytes private");
}
