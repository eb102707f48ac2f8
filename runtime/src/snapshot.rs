//! Pre-initialization of the guest with wasmtime-wizer.
//!
//! The raw guest is instantiated once, its `wizer-initialize` export builds the interpreter and
//! imports the common stdlib modules, and the resulting memory and globals are written out as
//! a new module. Every sandbox then starts from that state for a few hundred kilo-fuel instead
//! of ~200 M fuel and ~60 ms.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use wasmtime::error::Context as _;
use wasmtime::{Config, Engine, Instance, Module, Result, Store, Val};
use wasmtime_wizer::{InstanceState, SnapshotVal, ValType, Wizer};

use crate::host::{self, HostSetup, HostState};

/// Returns the pre-initialized guest module, and what the initializer printed to stderr.
pub(crate) fn snapshot(raw_guest: &[u8]) -> Result<(Vec<u8>, String)> {
    let wizer = Wizer::new();
    let (cx, instrumented) = wizer
        .instrument(raw_guest)
        .context("instrumenting the guest for snapshotting")?;
    let mut config = Config::new();
    config.max_wasm_stack(8 << 20);
    config.async_stack_size(9 << 20);
    let engine = Engine::new(&config)?;
    let module = Module::new(&engine, &instrumented).context("compiling the guest")?;
    let linker = host::linker(&engine)?;
    let mut store = Store::new(
        &engine,
        HostState::new(HostSetup {
            job: Vec::new(),
            stdin: Vec::new(),
            report_cap: 0,
            memory_bytes: u64::MAX,
            stdout_bytes: 1 << 20,
            stderr_bytes: 1 << 20,
            fuel_budget: 0,
        }),
    );
    let instance = linker.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&mut store, wizer.get_init_func())?
        .call(&mut store, ())
        .context("initializing the Python interpreter")?;
    let (stderr, _) = store.data().stderr.take();
    let snapshot = block_on(wizer.snapshot(
        &cx,
        &mut Snapshotted {
            store: &mut store,
            instance,
        },
    ))
    .context("snapshotting the initialized guest")?;
    Ok((snapshot, String::from_utf8_lossy(&stderr).into_owned()))
}

/// The initialized instance, as wizer reads it to write the snapshot.
struct Snapshotted<'a> {
    store: &'a mut Store<HostState>,
    instance: Instance,
}

impl InstanceState for Snapshotted<'_> {
    async fn global_get(&mut self, name: &str, _: ValType) -> SnapshotVal {
        let global = self.instance.get_global(&mut *self.store, name).unwrap();
        match global.get(&mut *self.store) {
            Val::I32(x) => SnapshotVal::I32(x),
            Val::I64(x) => SnapshotVal::I64(x),
            Val::F32(x) => SnapshotVal::F32(x),
            Val::F64(x) => SnapshotVal::F64(x),
            Val::V128(x) => SnapshotVal::V128(x.as_u128()),
            other => panic!("unsupported global value in guest snapshot: {other:?}"),
        }
    }

    async fn memory_contents(&mut self, name: &str, contents: impl FnOnce(&[u8]) + Send) {
        let memory = self.instance.get_memory(&mut *self.store, name).unwrap();
        contents(memory.data(&*self.store))
    }
}

/// Drives a future that never waits on anything external (wizer's snapshot is pure).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(value) = future.as_mut().poll(&mut cx) {
            return value;
        }
        std::thread::yield_now();
    }
}
