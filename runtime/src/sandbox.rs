//! The sandbox: one engine and one compiled guest, many isolated runs and sessions.
//!
//! A [`Sandbox`] is built once per process (loading the compiled guest from the disk cache)
//! and is `Send + Sync`: threads share it and call [`Sandbox::run`] concurrently. Every run
//! gets a fresh instance of the pre-initialized guest, its own fuel, memory cap, virtual
//! clock and captured output, and ends in a [`Verdict`].
//!
//! A [`Session`] keeps one instance alive across several calls of the guest's
//! `codefuel_call` export: the host hands it a request, sets the call's fuel budget itself and
//! measures what the call used, so code inside cannot hide or move its fuel. Sessions are
//! opened from a [`Lease`] on one pool slot, which holds up to [`SESSIONS_PER_LEASE`] live
//! instances (an untrusted one and a trusted judge beside it).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use wasmtime::{
    Config, Enabled, Engine, EngineWeak, InstanceAllocationStrategy, InstancePre,
    PoolingAllocationConfig, Store, Trap,
};

use crate::cache;
use crate::error::{Error, Result};
use crate::host::{self, HostSetup, HostState};
use crate::limits::Limits;
use crate::outcome::{CallOutcome, RunOutcome, Verdict};
use crate::residency::{Residency, Watch};
use crate::runner::{self, MAX_WASM_STACK};
use crate::snapshot;

/// The raw guest module (RustPython for wasm32-wasip1), embedded at build time.
pub static GUEST_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest.wasm"));
/// SHA-256 of [`GUEST_WASM`], part of every cache key.
pub const GUEST_SHA256: &str = env!("CODEFUEL_GUEST_SHA256");

/// The CPython 3.11 guest module (`guests/cpython`), embedded when the runtime is built
/// with its `cpython` feature.
#[cfg(feature = "cpython")]
static CPYTHON_WASM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/guest-cpython.wasm"));
/// SHA-256 of the CPython guest module.
#[cfg(feature = "cpython")]
const CPYTHON_SHA256: &str = env!("CODEFUEL_CPYTHON_SHA256");

/// The interpreter a [`Sandbox`] runs programs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GuestKind {
    /// RustPython 0.6 with codefuel's patches (`guests/python`): the default.
    #[default]
    RustPython,
    /// CPython 3.11 for wasm32-wasi (`guests/cpython`), with the same host interface, sessions
    /// and workspaces. Built only with the runtime's `cpython` feature.
    CPython,
}

impl GuestKind {
    /// The name on the command line and in serialized requests: `rustpython` or `cpython`.
    pub fn name(self) -> &'static str {
        match self {
            GuestKind::RustPython => "rustpython",
            GuestKind::CPython => "cpython",
        }
    }

    /// The SHA-256 of the guest's module (part of every cache key), or `None` when this
    /// build of codefuel does not embed the guest.
    pub fn sha256(self) -> Option<&'static str> {
        self.module().ok().map(|(_, sha256)| sha256)
    }

    /// The raw module and its SHA-256.
    fn module(self) -> Result<(&'static [u8], &'static str)> {
        match self {
            GuestKind::RustPython => Ok((GUEST_WASM, GUEST_SHA256)),
            #[cfg(feature = "cpython")]
            GuestKind::CPython => Ok((CPYTHON_WASM, CPYTHON_SHA256)),
            #[cfg(not(feature = "cpython"))]
            GuestKind::CPython => Err(Error::GuestNotBuilt { guest: self.name() }),
        }
    }
}

/// The default [`SandboxConfig::keep_resident_bytes`]. Measured on 2 cores (2026-12-02,
/// `codefuel evaluate` of 164 HumanEval+ samples, and `serve_load`): faster than 0 with one
/// thread (4.29 s against 4.76 s) and with two (2.45 s against 3.56 s; 1,930 against 946
/// requests/s), because copying back the few pages a run wrote is cheaper than faulting them
/// in again, and handing pages back to the kernel from one thread stalls the others.
pub const KEEP_RESIDENT: usize = 32 << 20;
/// Granularity of the wall-clock backstop.
const EPOCH_TICK: Duration = Duration::from_millis(10);
/// Instances one [`Lease`] may hold at once: the pool has this many per slot.
pub const SESSIONS_PER_LEASE: u32 = 2;

/// The default of [`SandboxConfig::max_concurrent_runs`]: twice the cores, at least 16.
pub fn default_max_concurrent_runs() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores.saturating_mul(2))
        .unwrap_or(u32::MAX)
        .max(16)
}

/// How a [`Sandbox`] is built.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// The interpreter programs run in (default RustPython).
    pub guest: GuestKind,
    /// Count fuel (the default). Off only to measure metering overhead.
    pub metering: bool,
    /// Directory of the compiled-guest cache; `None` uses [`cache::default_cache_dir`].
    pub cache_dir: Option<PathBuf>,
    /// Print a one-line notice on stderr while the guest is compiled for this machine.
    pub announce_compile: bool,
    /// The most runs (or leases) in progress at once, each holding one reused pool slot of
    /// [`SESSIONS_PER_LEASE`] instances; more wait for a slot.
    pub max_concurrent_runs: u32,
    /// Bytes of a slot's memory that a run wrote and that are copied back from the snapshot
    /// after it, instead of being handed back to the kernel (the rest is). Copying avoids
    /// page faults in the next run and the page-table updates that make concurrent runs
    /// stall each other; the pages a slot keeps are handed back from time to time (see
    /// `residency.rs`). Default [`KEEP_RESIDENT`]; 0 hands every page back after every run.
    pub keep_resident_bytes: usize,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            guest: GuestKind::default(),
            metering: true,
            cache_dir: None,
            announce_compile: true,
            max_concurrent_runs: default_max_concurrent_runs(),
            keep_resident_bytes: KEEP_RESIDENT,
        }
    }
}

/// A ready-to-run Python sandbox. Cheap to share across threads.
pub struct Sandbox {
    guest: Guest,
    slots: Slots,
}

/// The engine, the compiled and linked guest, and whether fuel is counted.
struct Guest {
    kind: GuestKind,
    engine: Engine,
    pre: InstancePre<HostState>,
    /// Bytes of linear memory the snapshot starts with: a smaller memory limit cannot run.
    initial_memory_bytes: u64,
    metering: bool,
    residency: Residency,
}

/// A Python program and its standard input.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Program {
    /// Python source, run as `__main__` from a file named `main.py`.
    pub source: String,
    /// Bytes the program reads from `sys.stdin` (empty when absent from serialized input).
    #[serde(default)]
    pub stdin: Vec<u8>,
    /// An in-memory working directory for the run; `None`: the program has no files at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<Workspace>,
}

/// An in-memory working directory (`/`) a run can read and write: it exists only in the
/// guest's memory (under the run's memory cap), nothing reaches the host's disk. The guest
/// emulates it in Python (`open`, `os`, `os.path`, `pathlib`, `shutil`; no raw file
/// descriptors): see "Plain runs" in `guests/python/driver/codefuel_driver.py`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    /// Files there when the program starts, path (relative to `/`, or absolute) -> contents;
    /// their directories are created.
    #[serde(default, with = "crate::outcome::base64_files")]
    pub files: BTreeMap<String, Vec<u8>>,
    /// Paths whose contents the run hands back in [`RunOutcome::files`], when they exist.
    #[serde(default)]
    pub fetch: Vec<String>,
}

/// Starts a job with a workspace; `guests/python/src/main.rs` reads it.
const WORKSPACE_MAGIC: &[u8] = b"\0codefuel-workspace\0";

impl Workspace {
    /// The job the guest reads: magic, header (JSON without NUL bytes; empty for an empty
    /// workspace), NUL, source.
    fn job(&self, source: &str) -> Vec<u8> {
        // The header is the workspace's own serialization (`files` as base64, `fetch`);
        // serde_json escapes control characters, so it holds no NUL byte. An empty
        // workspace (most runs) has an empty header: the guest then parses nothing.
        let header = if self.files.is_empty() && self.fetch.is_empty() {
            String::new()
        } else {
            serde_json::to_string(self).expect("a workspace serializes to JSON")
        };
        let mut job = Vec::with_capacity(WORKSPACE_MAGIC.len() + header.len() + 1 + source.len());
        job.extend_from_slice(WORKSPACE_MAGIC);
        job.extend_from_slice(header.as_bytes());
        job.push(0);
        job.extend_from_slice(source.as_bytes());
        job
    }
}

impl Program {
    /// A program with empty stdin.
    pub fn new(source: impl Into<String>) -> Self {
        Program {
            source: source.into(),
            stdin: Vec::new(),
            workspace: None,
        }
    }

    /// The same program with an in-memory working directory.
    pub fn with_workspace(mut self, workspace: Workspace) -> Self {
        self.workspace = Some(workspace);
        self
    }

    /// The same program reading `stdin` from standard input.
    pub fn with_stdin(mut self, stdin: impl Into<Vec<u8>>) -> Self {
        self.stdin = stdin.into();
        self
    }
}

impl Sandbox {
    /// A sandbox with the default configuration (fuel metering on, default cache dir).
    ///
    /// # Errors
    ///
    /// As [`Sandbox::with_config`].
    pub fn new() -> Result<Self> {
        Self::with_config(&SandboxConfig::default())
    }

    /// A sandbox built as `config` says: the compiled guest is loaded from the cache
    /// directory, or (the first time on a machine, about 30 s) snapshotted, compiled and
    /// stored there.
    ///
    /// # Errors
    ///
    /// The cache directory cannot be created, read, written or trusted ([`Error::CacheIo`]
    /// and the `Cache*` variants); the guest cannot be prepared ([`Error::Guest`]); the
    /// epoch thread cannot be started ([`Error::SpawnThread`]); the engine refuses its
    /// configuration ([`Error::Internal`]).
    pub fn with_config(config: &SandboxConfig) -> Result<Self> {
        let slots = config.max_concurrent_runs.max(1);
        let engine = Engine::new(&engine_config(
            config.metering,
            slots,
            config.keep_resident_bytes,
        ))
        .map_err(Error::internal("configuring the wasmtime engine"))?;
        let cache_dir = config
            .cache_dir
            .clone()
            .unwrap_or_else(cache::default_cache_dir);
        let (raw_guest, guest_sha256) = config.guest.module()?;
        let name = cache::artifact_name(&engine, guest_sha256);
        let module = cache::load_or_build(&engine, &cache_dir, &name, || {
            let started = Instant::now();
            if config.announce_compile {
                eprintln!(
                    "codefuel: preparing the Python sandbox for this machine \
                     (once per build, about 30 s; cached in {})",
                    cache_dir.display()
                );
            }
            let (wasm, init_stderr) = snapshot::snapshot(raw_guest)
                .map_err(Error::guest("snapshotting the initialized interpreter"))?;
            if !init_stderr.is_empty() {
                eprintln!("codefuel: guest initialization said:\n{init_stderr}");
            }
            if config.announce_compile {
                eprintln!(
                    "codefuel: snapshot ready in {:.1} s, compiling it",
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(wasm)
        })?;
        let pre = host::linker(&engine)
            .and_then(|linker| linker.instantiate_pre(&module))
            .map_err(Error::guest("linking the guest's imports"))?;
        start_epoch_ticker(&engine)?;
        let initial_memory_bytes = match module.get_export("memory") {
            Some(wasmtime::ExternType::Memory(memory)) => {
                memory.minimum().saturating_mul(memory.page_size())
            }
            _ => 0,
        };
        Ok(Sandbox {
            guest: Guest {
                kind: config.guest,
                engine,
                pre,
                initial_memory_bytes,
                metering: config.metering,
                residency: Residency::new(config.keep_resident_bytes),
            },
            slots: Slots::new(slots),
        })
    }

    /// Runs `program` in a fresh sandbox under `limits`, once a pool slot is free.
    ///
    /// Everything the program does, including crashing, is a [`Verdict`]. A run needs a
    /// deep native stack: on a runner it runs in place, elsewhere on the calling thread's
    /// own deep stack, reused from run to run (see [`on_runner`](crate::on_runner)); no
    /// thread is started either way.
    ///
    /// # Errors
    ///
    /// [`Error::MemoryBelowGuest`] when `limits` give less memory than the guest starts
    /// with; otherwise only host-side failures: the run panics ([`Error::Panicked`]; the
    /// panic is contained), the thread's deep stack cannot be mapped
    /// ([`Error::RunnerStack`]), or wasmtime refuses to set the run's fuel
    /// ([`Error::Internal`]).
    pub fn run(&self, program: Program, limits: &Limits) -> Result<RunOutcome> {
        self.guest.check_memory(limits)?;
        let _slot = self.slots.acquire();
        runner::on_runner_contained(|| self.guest.run(program, limits))?
    }

    /// The interpreter this sandbox runs programs in.
    pub fn guest(&self) -> GuestKind {
        self.guest.kind
    }

    /// Takes one pool slot (waiting for a free one), for up to [`SESSIONS_PER_LEASE`] live
    /// sessions. Hold it for one unit of work; dropping it frees the slot.
    pub fn lease(&self) -> Lease<'_> {
        Lease {
            guest: &self.guest,
            shared: std::rc::Rc::new(LeaseShared {
                _slot: self.slots.acquire(),
                live: std::cell::Cell::new(0),
            }),
        }
    }
}

impl Guest {
    /// [`Error::MemoryBelowGuest`] when `limits` cannot hold the snapshot's memory.
    fn check_memory(&self, limits: &Limits) -> Result<()> {
        if limits.memory_bytes < self.initial_memory_bytes {
            return Err(Error::MemoryBelowGuest {
                limit_mib: limits.memory_bytes >> 20,
                needed_mib: self.initial_memory_bytes.div_ceil(1 << 20),
                guest: self.kind.name(),
            });
        }
        Ok(())
    }

    /// One run of `program`, on a runner, in a pool slot the caller holds.
    fn run(&self, program: Program, limits: &Limits) -> Result<RunOutcome> {
        let started = Instant::now();
        let fuel_budget = if self.metering { limits.fuel } else { 0 };
        let job = match &program.workspace {
            Some(workspace) => workspace.job(&program.source),
            None => program.source.into_bytes(),
        };
        let mut store = self.store(job, program.stdin, limits);
        store.data_mut().fuel_budget = fuel_budget;
        if self.metering {
            store
                .set_fuel(limits.fuel)
                .map_err(Error::internal("setting the run's fuel"))?;
        }
        store.set_epoch_deadline(epoch_ticks(limits.timeout));

        let mut watch = None;
        let result = self.pre.instantiate(&mut store).and_then(|instance| {
            watch = self.residency.prepare(&mut store, &instance);
            instance
                .get_typed_func::<(), ()>(&mut store, "_start")?
                .call(&mut store, ())
        });
        self.residency.finish(watch, &store);

        let fuel = match store.get_fuel() {
            Ok(left) if self.metering => store.data().consumed(left),
            _ => 0,
        };
        let state = store.data_mut();
        let (stdout, stdout_truncated) = state.stdout.take();
        let (stderr, stderr_truncated) = state.stderr.take();
        let verdict = classify(result, state.report.as_deref(), state.limiter.hit, &stderr);
        // A run stopped at a limit hands back no files, whichever guest it ran in (RustPython
        // traps when memory runs out; CPython raises MemoryError and would still report).
        let files = match verdict {
            Verdict::Completed { .. } | Verdict::Exception { .. } => {
                reported_files(state.report.as_deref())
            }
            _ => BTreeMap::new(),
        };
        Ok(RunOutcome {
            verdict,
            stdout,
            stderr,
            stdout_truncated,
            stderr_truncated,
            fuel,
            wall: started.elapsed(),
            files,
        })
    }

    /// A store for one instance: its host state, memory cap and wall-clock trap.
    fn store(&self, job: Vec<u8>, stdin: Vec<u8>, limits: &Limits) -> Store<HostState> {
        let mut store = Store::new(
            &self.engine,
            HostState::new(HostSetup {
                job,
                stdin,
                report_cap: limits.response_bytes,
                memory_bytes: limits.memory_bytes,
                stdout_bytes: limits.stdout_bytes,
                stderr_bytes: limits.stderr_bytes,
                fuel_budget: 0,
            }),
        );
        store.limiter(|state| &mut state.limiter);
        store.epoch_deadline_trap();
        store
    }
}

/// One pool slot, taken by [`Sandbox::lease`]: sessions are opened from it. The slot stays
/// taken while the lease or any of its sessions lives. Not `Send`: it belongs to the thread
/// that took it (a worker keeps one for all its work).
pub struct Lease<'s> {
    guest: &'s Guest,
    shared: std::rc::Rc<LeaseShared<'s>>,
}

/// What a lease and its sessions share: the slot, and how many sessions are alive.
struct LeaseShared<'s> {
    _slot: Slot<'s>,
    live: std::cell::Cell<u32>,
}

impl<'s> Lease<'s> {
    /// Instantiates the guest for a session under `limits` (memory, output caps, response cap
    /// and the wall-clock backstop of each call; fuel is set per call).
    ///
    /// # Errors
    ///
    /// [`Error::MemoryBelowGuest`] when `limits` give less memory than the guest starts with;
    /// [`Error::TooManySessions`] when [`SESSIONS_PER_LEASE`] sessions of this lease are
    /// alive; [`Error::NotOnRunner`] off a runner thread (see [`on_runner`](crate::on_runner));
    /// [`Error::Instantiate`] when the instance cannot be made (a host-side failure);
    /// [`Error::Guest`] when the guest exports no `codefuel_call`.
    pub fn session(&self, limits: &Limits) -> Result<Session<'s>> {
        self.guest.check_memory(limits)?;
        let live = &self.shared.live;
        if live.get() >= SESSIONS_PER_LEASE {
            return Err(Error::TooManySessions {
                max: SESSIONS_PER_LEASE,
            });
        }
        if !runner::is_runner() {
            return Err(Error::NotOnRunner);
        }
        let guest = self.guest;
        let mut store = guest.store(Vec::new(), Vec::new(), limits);
        // Instantiating runs no guest code (the snapshot is already initialized), but give
        // it fuel in case the module has a start function.
        if guest.metering {
            store
                .set_fuel(u64::MAX / 2)
                .map_err(Error::internal("setting a session's fuel"))?;
        }
        store.set_epoch_deadline(epoch_ticks(limits.timeout));
        let instance = guest
            .pre
            .instantiate(&mut store)
            .map_err(|error| Error::Instantiate {
                source: error.into_boxed_dyn_error(),
            })?;
        let func = instance
            .get_typed_func::<(), ()>(&mut store, "codefuel_call")
            .map_err(Error::guest("finding the guest's codefuel_call export"))?;
        let watch = guest.residency.prepare(&mut store, &instance);
        let memory = instance.get_memory(&mut store, "memory");
        live.set(live.get() + 1);
        Ok(Session {
            store,
            func,
            memory,
            residency: &guest.residency,
            watch,
            metering: guest.metering,
            ticks: epoch_ticks(limits.timeout),
            ended: false,
            lease: self.shared.clone(),
        })
    }
}

/// One guest instance kept alive across calls (see the module docs). Not `Send`: it lives
/// on the thread that leased its slot.
pub struct Session<'s> {
    store: Store<HostState>,
    func: wasmtime::TypedFunc<(), ()>,
    memory: Option<wasmtime::Memory>,
    residency: &'s Residency,
    watch: Option<Watch>,
    metering: bool,
    ticks: u64,
    ended: bool,
    lease: std::rc::Rc<LeaseShared<'s>>,
}

impl Session<'_> {
    /// Calls the guest with `request`, giving the call `fuel` (without metering: unlimited).
    ///
    /// The call's fuel is counted by the host from the store's fuel before and after it:
    /// nothing the guest does moves it. A call that traps, exits or crashes ends the session;
    /// later calls return a crash verdict without running. So does a call off a runner (the
    /// guest needs its deep stack), without ending the session.
    pub fn call(&mut self, request: &[u8], fuel: u64) -> CallOutcome {
        if !runner::is_runner() {
            return CallOutcome {
                result: Err(Verdict::Crash {
                    message: "a session can only be called on a runner, like the one it was \
                              opened on"
                        .into(),
                }),
                fuel: 0,
            };
        }
        if self.ended {
            return CallOutcome {
                result: Err(Verdict::Crash {
                    message: "the session ended in an earlier call".into(),
                }),
                fuel: 0,
            };
        }
        let fuel = fuel.max(1);
        let state = self.store.data_mut();
        state.job = request.to_vec();
        state.report = None;
        state.fuel_budget = if self.metering { fuel } else { 0 };
        if self.metering
            && let Err(error) = self.store.set_fuel(fuel)
        {
            self.ended = true;
            return CallOutcome {
                result: Err(Verdict::Crash {
                    message: format!("setting the call's fuel: {error}"),
                }),
                fuel: 0,
            };
        }
        self.store.set_epoch_deadline(self.ticks);
        let result = self.func.call(&mut self.store, ());
        let used = match self.store.get_fuel() {
            Ok(left) if self.metering => fuel.saturating_sub(left),
            _ => 0,
        };
        let state = self.store.data_mut();
        let report = state.report.take();
        let result = match (result, report) {
            (Ok(()), Some(response)) => Ok(response),
            (Ok(()), None) => Err(Verdict::Crash {
                message: "the guest returned no response".into(),
            }),
            (Err(error), _) => {
                let stderr = state.stderr.take().0;
                Err(classify_error(error, state.limiter.hit, &stderr))
            }
        };
        if result.is_err() {
            self.ended = true;
        }
        CallOutcome { result, fuel: used }
    }

    /// False once a call has trapped, exited or crashed.
    pub fn is_alive(&self) -> bool {
        !self.ended
    }

    /// Caps the guest's linear memory at `bytes` (at most [`MAX_MEMORY_BYTES`]) for the calls
    /// that follow, in place of the session's `Limits`: a call that would grow it further
    /// fails as a run at its memory limit does. Memory already grown stays.
    ///
    /// [`MAX_MEMORY_BYTES`]: crate::MAX_MEMORY_BYTES
    pub fn set_memory_limit(&mut self, bytes: u64) {
        let bytes = bytes.min(crate::limits::MAX_MEMORY_BYTES);
        self.store.data_mut().limiter.max_bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    }

    /// Bytes of linear memory the guest has now (a wasm memory never shrinks).
    pub fn memory_bytes(&self) -> u64 {
        self.memory
            .map_or(0, |memory| memory.data_size(&self.store) as u64)
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.residency.finish(self.watch.take(), &self.store);
        self.lease.live.set(self.lease.live.get() - 1);
    }
}

/// The epoch deadline (in ticks from now) of a wall-clock `timeout`.
fn epoch_ticks(timeout: Duration) -> u64 {
    (timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos()) as u64).max(1)
}

/// Unmapped bytes after each linear memory's 4 GiB reservation: 256 MiB, against wasmtime's
/// default of 32 MiB. Cranelift drops the bounds check of a load or store only when its
/// constant offset fits in the guard. The RustPython guest links its 64 MiB shadow stack
/// first (Rust's `--stack-first`, `-zstack-size` in guests/python/.cargo/config.toml), so
/// every static lies above 64 MiB, and each read of a static table at a computed index (the
/// interpreter's per-instruction tables among them) paid a compare and a conditional move.
/// Address space only: nothing is mapped there.
const MEMORY_GUARD_BYTES: u64 = 256 << 20;

fn engine_config(metering: bool, slots: u32, keep_resident: usize) -> Config {
    let mut config = Config::new();
    config.consume_fuel(metering);
    config.epoch_interruption(true);
    config.memory_guard_size(MEMORY_GUARD_BYTES);
    config.max_wasm_stack(MAX_WASM_STACK);
    // wasmtime-wasi enables async support, whose stacks must hold the wasm stack.
    config.async_stack_size(MAX_WASM_STACK + (1 << 20));
    // Backtraces of a 64 MiB stack overflow are expensive and never shown.
    config.wasm_backtrace_max_frames(None);
    // Instances come from a pool of reused slots: a slot keeps the snapshot's memory image
    // mapped, and after a run the pages written are copied back (found with PAGEMAP_SCAN,
    // where the kernel has it), up to `keep_resident`. Mapping and unmapping memory for every
    // run instead makes concurrent runs stall each other on TLB shootdowns. `Residency`
    // keeps the slots free of the page-table holes that scan would report as written.
    let mut pool = PoolingAllocationConfig::default();
    let instances = slots.saturating_mul(SESSIONS_PER_LEASE);
    pool.total_memories(instances)
        .total_tables(instances)
        .total_core_instances(instances)
        .max_memory_size(crate::limits::MAX_MEMORY_BYTES as usize)
        .table_elements(1 << 16)
        .linear_memory_keep_resident(keep_resident)
        .table_keep_resident(1 << 20)
        .pagemap_scan(Enabled::Auto);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    config
}

/// The JSON line the guest reports at the end of a run.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum GuestReport {
    Exited {
        code: u32,
    },
    Exception {
        #[serde(rename = "type")]
        type_name: String,
        message: String,
        traceback: String,
    },
}

/// The workspace files in the guest's report. The program could have tampered with what the
/// guest collected, so a report that does not parse gives no files (its verdict says why).
fn reported_files(report: Option<&[u8]>) -> BTreeMap<String, Vec<u8>> {
    #[derive(Deserialize)]
    struct Files {
        #[serde(default, with = "crate::outcome::base64_files")]
        files: BTreeMap<String, Vec<u8>>,
    }
    report
        .and_then(|bytes| serde_json::from_slice::<Files>(bytes).ok())
        .map(|report| report.files)
        .unwrap_or_default()
}

/// Turns the result of `_start` and what the guest reported into a verdict.
fn classify(
    result: wasmtime::Result<()>,
    report: Option<&[u8]>,
    memory_limit_hit: bool,
    stderr: &[u8],
) -> Verdict {
    match result {
        Ok(()) => match report.map(serde_json::from_slice::<GuestReport>) {
            Some(Ok(GuestReport::Exited { code })) => Verdict::Completed {
                exit_code: code as i32,
            },
            Some(Ok(GuestReport::Exception {
                type_name,
                message,
                traceback,
            })) => {
                if type_name == "MemoryError" && memory_limit_hit {
                    Verdict::MemoryLimit
                } else {
                    Verdict::Exception {
                        type_name,
                        message,
                        traceback,
                    }
                }
            }
            Some(Err(e)) => Verdict::Crash {
                message: format!("unreadable guest report: {e}"),
            },
            None => Verdict::Crash {
                message: "the guest ended without reporting".into(),
            },
        },
        Err(error) => classify_error(error, memory_limit_hit, stderr),
    }
}

/// The verdict of a run or call that ended in an error: an exit, a trap or a crash.
fn classify_error(error: wasmtime::Error, memory_limit_hit: bool, stderr: &[u8]) -> Verdict {
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return Verdict::Completed { exit_code: exit.0 };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => Verdict::FuelExhausted,
        Some(Trap::Interrupt) => Verdict::Timeout,
        Some(Trap::StackOverflow) => Verdict::StackOverflow,
        _ if memory_limit_hit => Verdict::MemoryLimit,
        _ => Verdict::Crash {
            message: crash_message(&error, stderr),
        },
    }
}

/// The trap, plus the guest's last stderr line (a Rust panic message, typically).
fn crash_message(error: &wasmtime::Error, stderr: &[u8]) -> String {
    let trap = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{error:#}"),
    };
    let stderr = String::from_utf8_lossy(stderr);
    match stderr.lines().rev().find(|line| !line.trim().is_empty()) {
        Some(last) => format!("{trap} (guest stderr: {})", last.trim()),
        None => trap,
    }
}

/// A counting semaphore over the pool's instance slots.
struct Slots {
    free: std::sync::Mutex<u32>,
    freed: std::sync::Condvar,
}

/// One slot, given back when dropped.
struct Slot<'a>(&'a Slots);

impl Slots {
    fn new(count: u32) -> Self {
        Slots {
            free: std::sync::Mutex::new(count),
            freed: std::sync::Condvar::new(),
        }
    }

    /// Waits for a free slot.
    fn acquire(&self) -> Slot<'_> {
        let free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        let mut free = self
            .freed
            .wait_while(free, |free| *free == 0)
            .unwrap_or_else(|e| e.into_inner());
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.free.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.0.freed.notify_one();
    }
}

/// Starts the thread that advances `engine`'s epoch every [`EPOCH_TICK`] (the wall-clock
/// backstop). It holds only a weak reference: it ends at its first tick after the last
/// clone of the engine (the sandbox's, its module's and every store's) is dropped.
fn start_epoch_ticker(engine: &Engine) -> Result<()> {
    let weak: EngineWeak = engine.weak();
    std::thread::Builder::new()
        .name("codefuel-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(drop)
        .map_err(|source| Error::SpawnThread {
            thread: "epoch ticker",
            source,
        })
}
