//! Per-run host state and the functions the guest may import.
//!
//! The guest gets WASI preview 1 with no preopened directories, no environment, no sockets,
//! seeded randomness and virtual clocks, plus the `codefuel` module: `input_len`/`input_read`
//! (a run's source, or a session call's request), `report` (a run's outcome, or a session
//! call's response, at most [`crate::Limits::response_bytes`]), `fuel_consumed`, `charge_fuel`
//! (native fast paths pay the fuel of the work they skip) and `sleep`. Nothing here lets the
//! guest start, stop or move a fuel measurement: the host sets the fuel of every call itself.

use rand::SeedableRng;
use rand::rngs::StdRng;
use wasmtime::{Caller, Engine, Extern, Linker, ResourceLimiter};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::MemoryInputPipe;

use crate::clock::VirtualClock;
use crate::pipe::CappedPipe;

/// Seed of every guest random source: the same bytes on every run.
const RANDOM_SEED: u64 = 0x636f_6465_6675_656c; // "codefuel"
/// The guest's fixed argv.
const GUEST_ARGV: &[&str] = &["main.py"];
/// WASI errno `notsup`, returned by the disabled `poll_oneoff`.
const ERRNO_NOTSUP: i32 = 58;

/// Memory cap for one store; remembers whether the guest ran into it.
pub(crate) struct MemoryLimiter {
    pub(crate) max_bytes: usize,
    pub(crate) hit: bool,
}

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1 << 20)
    }
}

/// Everything one store owns.
pub(crate) struct HostState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) job: Vec<u8>,
    pub(crate) report: Option<Vec<u8>>,
    /// Largest report the guest may hand back; a larger one traps the guest.
    pub(crate) report_cap: usize,
    /// Fuel the store was given for the current run or call (0 when metering is off).
    pub(crate) fuel_budget: u64,
    pub(crate) clock: VirtualClock,
    pub(crate) stdout: CappedPipe,
    pub(crate) stderr: CappedPipe,
}

/// Inputs to a new [`HostState`].
pub(crate) struct HostSetup {
    pub(crate) job: Vec<u8>,
    pub(crate) stdin: Vec<u8>,
    pub(crate) report_cap: usize,
    pub(crate) memory_bytes: u64,
    pub(crate) stdout_bytes: usize,
    pub(crate) stderr_bytes: usize,
    pub(crate) fuel_budget: u64,
}

impl HostState {
    /// Fuel consumed so far, given the fuel left in the store.
    pub(crate) fn consumed(&self, left: u64) -> u64 {
        self.fuel_budget.saturating_sub(left)
    }

    pub(crate) fn new(setup: HostSetup) -> Self {
        let clock = VirtualClock::default();
        let stdout = CappedPipe::new(setup.stdout_bytes);
        let stderr = CappedPipe::new(setup.stderr_bytes);
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdin(MemoryInputPipe::new(setup.stdin))
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .args(GUEST_ARGV)
            .secure_random(StdRng::seed_from_u64(RANDOM_SEED))
            .insecure_random(StdRng::seed_from_u64(RANDOM_SEED ^ 1))
            .insecure_random_seed(u128::from(RANDOM_SEED))
            .wall_clock(clock.clone())
            .monotonic_clock(clock.clone())
            .allow_blocking_current_thread(true);
        HostState {
            wasi: builder.build_p1(),
            limiter: MemoryLimiter {
                max_bytes: usize::try_from(setup.memory_bytes).unwrap_or(usize::MAX),
                hit: false,
            },
            job: setup.job,
            report: None,
            report_cap: setup.report_cap,
            fuel_budget: setup.fuel_budget,
            clock,
            stdout,
            stderr,
        }
    }
}

fn guest_bytes(
    caller: &mut Caller<'_, HostState>,
    ptr: u32,
    len: u32,
) -> wasmtime::Result<Vec<u8>> {
    let memory = guest_memory(caller)?;
    let (start, len) = (ptr as usize, len as usize);
    memory
        .data(&*caller)
        .get(start..start + len)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| wasmtime::format_err!("guest buffer out of bounds"))
}

fn write_guest(
    caller: &mut Caller<'_, HostState>,
    ptr: u32,
    source: impl Fn(&HostState) -> &[u8],
) -> wasmtime::Result<()> {
    let memory = guest_memory(caller)?;
    let (data, state) = memory.data_and_store_mut(caller);
    let bytes = source(state);
    let start = ptr as usize;
    data.get_mut(start..start + bytes.len())
        .ok_or_else(|| wasmtime::format_err!("guest buffer out of bounds"))?
        .copy_from_slice(bytes);
    Ok(())
}

fn guest_memory(caller: &mut Caller<'_, HostState>) -> wasmtime::Result<wasmtime::Memory> {
    match caller.get_export("memory") {
        Some(Extern::Memory(memory)) => Ok(memory),
        _ => wasmtime::bail!("guest exports no memory"),
    }
}

/// A linker with WASI preview 1 and the `codefuel` host module.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |state: &mut HostState| &mut state.wasi)?;
    // Nothing may block on the host: polling (sleeps, select) is refused, and `time.sleep`
    // is routed to `codefuel.sleep`, which only moves the virtual clock.
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "poll_oneoff",
        |_: Caller<'_, HostState>, _: i32, _: i32, _: i32, _: i32| -> i32 { ERRNO_NOTSUP },
    )?;
    linker.func_wrap("codefuel", "input_len", |caller: Caller<'_, HostState>| {
        caller.data().job.len() as u32
    })?;
    linker.func_wrap(
        "codefuel",
        "input_read",
        |mut caller: Caller<'_, HostState>, ptr: u32| {
            write_guest(&mut caller, ptr, |state| &state.job)
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "report",
        |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| -> wasmtime::Result<()> {
            let cap = caller.data().report_cap;
            if len as usize > cap {
                wasmtime::bail!("the guest's response of {len} bytes is over the {cap}-byte cap");
            }
            let bytes = guest_bytes(&mut caller, ptr, len)?;
            caller.data_mut().report = Some(bytes);
            Ok(())
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "charge_fuel",
        |mut caller: Caller<'_, HostState>, amount: u64| -> wasmtime::Result<()> {
            // Without metering there is nothing to charge. Charging more than is left leaves
            // zero, and the guest's next fuel check traps as if it had run out by itself.
            if let Ok(left) = caller.get_fuel() {
                caller.set_fuel(left.saturating_sub(amount))?;
            }
            Ok(())
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "fuel_consumed",
        |caller: Caller<'_, HostState>| match caller.get_fuel() {
            Ok(left) => caller.data().consumed(left),
            Err(_) => 0,
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "sleep",
        |caller: Caller<'_, HostState>, nanos: u64| caller.data().clock.advance(nanos),
    )?;
    Ok(linker)
}
