//! Per-run host state and the functions the guest may import.
//!
//! The guest gets WASI preview 1 with no preopened directories, no environment, no sockets,
//! seeded randomness and virtual clocks, plus the `codefuel` module: `input_len`/`input_read`
//! (the source), `payload_len`/`payload_read` and `table_item_len`/`table_item_read` (binary
//! data for drivers), `report` (the
//! outcome), `emit` (records for the host), `fuel_consumed`, `deadline_begin`/`deadline_end`
//! (fuel measured, and optionally limited, around a piece of work), `charge_fuel` (native fast
//! paths pay the fuel of the work they skip) and `sleep`.

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
    max_bytes: usize,
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

/// One record a guest program sent with `_codefuel.emit(kind, data)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// What the record is, as the program named it.
    pub kind: String,
    /// Its bytes.
    pub data: Vec<u8>,
}

/// Indexed binary items a program can fetch one at a time with `_codefuel.table_item`.
///
/// Lets a driver read input `i` or expected output `i` without copying a whole (possibly
/// hundreds of MB) list into the guest for every run.
pub trait Table: Send + Sync {
    /// Number of items.
    fn len(&self) -> usize;
    /// Item `index`, if it exists.
    fn item(&self, index: usize) -> Option<&[u8]>;
    /// True when there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Table for Vec<Vec<u8>> {
    fn len(&self) -> usize {
        Vec::len(self)
    }

    fn item(&self, index: usize) -> Option<&[u8]> {
        self.get(index).map(Vec::as_slice)
    }
}

/// A fuel measurement in progress (`deadline_begin` .. `deadline_end`).
pub(crate) struct Deadline {
    /// The program's label for it (an input index, typically).
    pub(crate) tag: u64,
    /// Fuel set aside from the run's budget while the deadline's own budget is in force.
    pub(crate) reserve: u64,
    /// Fuel in the store when the measurement began.
    pub(crate) start: u64,
}

/// Everything one store owns.
pub(crate) struct HostState {
    pub(crate) wasi: WasiP1Ctx,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) job: Vec<u8>,
    pub(crate) payload: Vec<u8>,
    pub(crate) tables: Vec<std::sync::Arc<dyn Table>>,
    pub(crate) report: Option<Vec<u8>>,
    pub(crate) records: Vec<Record>,
    pub(crate) deadline: Option<Deadline>,
    /// Fuel the store started with (0 when metering is off).
    pub(crate) fuel_budget: u64,
    pub(crate) clock: VirtualClock,
    pub(crate) stdout: CappedPipe,
    pub(crate) stderr: CappedPipe,
}

/// Inputs to a new [`HostState`].
pub(crate) struct HostSetup<'a> {
    pub(crate) job: Vec<u8>,
    pub(crate) payload: &'a [u8],
    pub(crate) tables: &'a [std::sync::Arc<dyn Table>],
    pub(crate) stdin: &'a [u8],
    pub(crate) memory_bytes: u64,
    pub(crate) stdout_bytes: usize,
    pub(crate) stderr_bytes: usize,
    pub(crate) fuel_budget: u64,
}

impl HostState {
    /// Fuel consumed so far, given the fuel left in the store.
    pub(crate) fn consumed(&self, left: u64) -> u64 {
        let reserve = self.deadline.as_ref().map_or(0, |d| d.reserve);
        self.fuel_budget.saturating_sub(left + reserve)
    }

    pub(crate) fn new(setup: HostSetup<'_>) -> Self {
        let clock = VirtualClock::default();
        let stdout = CappedPipe::new(setup.stdout_bytes);
        let stderr = CappedPipe::new(setup.stderr_bytes);
        let mut builder = WasiCtxBuilder::new();
        builder
            .stdin(MemoryInputPipe::new(setup.stdin.to_vec()))
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
            payload: setup.payload.to_vec(),
            tables: setup.tables.to_vec(),
            report: None,
            records: Vec::new(),
            deadline: None,
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
        "payload_len",
        |caller: Caller<'_, HostState>| caller.data().payload.len() as u32,
    )?;
    linker.func_wrap(
        "codefuel",
        "payload_read",
        |mut caller: Caller<'_, HostState>, ptr: u32| {
            write_guest(&mut caller, ptr, |state| &state.payload)
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "table_item_len",
        |caller: Caller<'_, HostState>, table: u32, index: u32| -> i64 {
            caller
                .data()
                .tables
                .get(table as usize)
                .and_then(|t| t.item(index as usize))
                .map_or(-1, |item| item.len() as i64)
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "table_item_read",
        |mut caller: Caller<'_, HostState>, table: u32, index: u32, ptr: u32| {
            write_guest(&mut caller, ptr, |state| {
                state
                    .tables
                    .get(table as usize)
                    .and_then(|t| t.item(index as usize))
                    .unwrap_or(&[])
            })
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "report",
        |mut caller: Caller<'_, HostState>, ptr: u32, len: u32| -> wasmtime::Result<()> {
            let bytes = guest_bytes(&mut caller, ptr, len)?;
            caller.data_mut().report = Some(bytes);
            Ok(())
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "emit",
        |mut caller: Caller<'_, HostState>,
         kind_ptr: u32,
         kind_len: u32,
         data_ptr: u32,
         data_len: u32|
         -> wasmtime::Result<()> {
            let kind = guest_bytes(&mut caller, kind_ptr, kind_len)?;
            let data = guest_bytes(&mut caller, data_ptr, data_len)?;
            caller.data_mut().records.push(Record {
                kind: String::from_utf8_lossy(&kind).into_owned(),
                data,
            });
            Ok(())
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "deadline_begin",
        |mut caller: Caller<'_, HostState>, tag: u64, budget: u64| -> wasmtime::Result<()> {
            if caller.data().deadline.is_some() {
                wasmtime::bail!("deadline_begin while a deadline is active");
            }
            // Without metering there is nothing to measure or limit.
            let Ok(left) = caller.get_fuel() else {
                caller.data_mut().deadline = Some(Deadline {
                    tag,
                    reserve: 0,
                    start: 0,
                });
                return Ok(());
            };
            let (start, reserve) = if budget != 0 && budget < left {
                caller.set_fuel(budget)?;
                (budget, left - budget)
            } else {
                (left, 0)
            };
            caller.data_mut().deadline = Some(Deadline {
                tag,
                reserve,
                start,
            });
            Ok(())
        },
    )?;
    linker.func_wrap(
        "codefuel",
        "deadline_end",
        |mut caller: Caller<'_, HostState>| -> wasmtime::Result<u64> {
            let Some(deadline) = caller.data_mut().deadline.take() else {
                wasmtime::bail!("deadline_end without deadline_begin");
            };
            let Ok(left) = caller.get_fuel() else {
                return Ok(0);
            };
            caller.set_fuel(left + deadline.reserve)?;
            Ok(deadline.start - left)
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
