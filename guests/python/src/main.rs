//! The codefuel Python guest: RustPython 0.6 compiled to wasm32-wasip1.
//!
//! Lifecycle (driven by `codefuel-runtime`):
//! 1. At snapshot time the host calls `wizer-initialize`: it builds the interpreter with fixed,
//!    deterministic settings and imports the stdlib modules most solutions use, so that state
//!    is frozen into the snapshot and a fresh sandbox pays nothing for it.
//! 2. Per run, the host instantiates the snapshot and calls `_start`: `main` fetches the job
//!    (the Python source, after a workspace header when the run has files) through the
//!    `codefuel` imports, runs it as `__main__`, flushes the standard streams and reports a
//!    one-line JSON outcome back to the host (with the files it asked for).
//!
//! The guest never sees a host file, socket or environment variable: the host gives it none.

mod fast_sum;
mod session;
mod value;

use std::cell::RefCell;

use rustpython::{InterpreterBuilder, InterpreterBuilderExt};
use rustpython_vm::{
    AsObject, Interpreter, PyObjectRef, PyResult, Settings, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyBytes, PyStr},
    compiler::Mode,
};

/// Host functions, implemented by `codefuel-runtime` (module `codefuel`). None of them is
/// reachable from Python except through the narrow `_codefuel` functions below.
mod host {
    #[link(wasm_import_module = "codefuel")]
    unsafe extern "C" {
        /// Length in bytes of the job: the Python source of a run, or a session's request.
        pub fn input_len() -> u32;
        /// Copies the job into guest memory at `ptr` (which holds `input_len()` bytes).
        pub fn input_read(ptr: *mut u8);
        /// Hands the host the run's outcome (a JSON object) or a session call's response.
        pub fn report(ptr: *const u8, len: u32);
        /// Fuel consumed by this run so far.
        pub fn fuel_consumed() -> u64;
        /// Moves the virtual clock forward; never blocks.
        pub fn sleep(nanos: u64);
        /// Takes `amount` fuel from the run, as if the guest had executed that much work.
        pub fn charge_fuel(amount: u64);
    }
}

/// Modules imported at snapshot time so user `import`s of them are cache hits.
const PRELOADED_MODULES: &[&str] = &[
    "typing",
    "math",
    "cmath",
    "collections",
    "collections.abc",
    "itertools",
    "functools",
    "operator",
    "re",
    "heapq",
    "bisect",
    "string",
    "hashlib",
    "json",
    "copy",
    "random",
    "statistics",
    "fractions",
    "decimal",
    "datetime",
    "time",
    "sys",
    "os",
    "io",
    "array",
    "struct",
    "enum",
    "dataclasses",
    "traceback",
    "linecache",
    // The driver's reliability guard imports these in every evaluation run, as evalplus's
    // does (~70 M fuel, ~35 ms, when not preloaded); pickle is its fallback encoding.
    "shutil",
    "subprocess",
    "pickle",
];

/// Snapshot-time set-up for CPython 3.11 compatibility (evalplus runs 3.11; docs/fidelity.md):
/// - `time`: sleeping moves the virtual clock, and the time zone is UTC (`time.tzname` and
///   friends exist, so `_strptime`, hence `datetime.strptime`, works);
/// - `sys.version_info` / `sys.hexversion` say 3.11.7 (the CPython of the reference verdicts),
///   so code that branches on the version takes its 3.11 path. `sys.version` still names
///   RustPython.
const COMPAT_SETUP: &str = "import time, sys, _codefuel
time.sleep = _codefuel.sleep
time.tzname = ('UTC', 'UTC')
time.timezone = 0
time.altzone = 0
time.daylight = 0
sys.version_info = sys.version_info.__replace__(minor=11, micro=7, releaselevel='final', serial=0)
sys.hexversion = 0x030B07F0
del time, sys, _codefuel
";

/// The evaluation driver, loaded into the snapshot (not importable by programs).
const DRIVER_SOURCE: &str = include_str!("../driver/codefuel_driver.py");

/// The Python file name user code runs under (as `python main.py` would).
const MAIN_FILE: &str = "main.py";

thread_local! {
    static INTERPRETER: RefCell<Option<Interpreter>> = const { RefCell::new(None) };
}

/// The `_codefuel` module: what a Python program inside the sandbox may ask the host.
#[rustpython_vm::pymodule]
mod _codefuel {
    /// Fuel this run has consumed so far (deterministic instruction count).
    #[pyfunction]
    fn fuel() -> u64 {
        // SAFETY: a host import with no memory arguments.
        unsafe { super::host::fuel_consumed() }
    }

    /// Return the sum of a 'start' value (default: 0) plus an iterable of numbers
    ///
    /// When the iterable is empty, return the start value.
    /// This function is intended specifically for use with numeric values and may
    /// reject non-numeric types.
    //
    // (`builtins.sum` in the guest: exact-int fast paths, else the original builtin; see
    // fast_sum.rs. The doc comment is CPython's docstring, which Python sees as `sum.__doc__`.)
    #[pyfunction]
    fn sum(
        args: rustpython_vm::function::FuncArgs,
        vm: &rustpython_vm::VirtualMachine,
    ) -> rustpython_vm::PyResult {
        if let Some(total) = super::fast_sum::try_sum(&args, vm) {
            return Ok(total);
        }
        super::fast_sum::builtin_sum(vm).call(args, vm)
    }

    /// `time.sleep` replacement: advances the virtual clock instead of blocking.
    #[pyfunction]
    fn sleep(
        secs: rustpython_vm::function::ArgIntoFloat,
        vm: &rustpython_vm::VirtualMachine,
    ) -> rustpython_vm::PyResult<()> {
        let secs = secs.into_float();
        if !secs.is_finite() || secs < 0.0 {
            return Err(vm.new_value_error("sleep length must be non-negative"));
        }
        // SAFETY: a host import with no memory arguments.
        unsafe { super::host::sleep((secs * 1e9) as u64) };
        Ok(())
    }
}

/// Interpreter settings: fixed so that every run is reproducible.
fn settings() -> Settings {
    let mut settings = Settings::default();
    settings.hash_seed = Some(0);
    settings.argv = vec![MAIN_FILE.to_owned()];
    settings.import_site = false;
    settings.ignore_environment = true;
    settings.isolated = true;
    settings.safe_path = true;
    settings.user_site_directory = false;
    settings.write_bytecode = false;
    settings.install_signal_handlers = false;
    // Unbuffered stdio: output written before a fuel or memory kill is not lost.
    settings.buffered_stdio = false;
    settings
}

fn build_interpreter() -> Interpreter {
    let builder = InterpreterBuilder::new().settings(settings()).init_stdlib();
    let codefuel_module = _codefuel::module_def(&builder.ctx);
    let interpreter = builder.add_native_module(codefuel_module).interpreter();
    interpreter.enter(|vm| {
        for module in PRELOADED_MODULES {
            if let Err(exc) = vm.import(*module, 0) {
                // Not fatal: the module stays importable (or not) at run time.
                vm.print_exception(&exc);
            }
        }
        if let Err(exc) = vm.run_simple_string(COMPAT_SETUP) {
            vm.print_exception(&exc);
        }
        if let Err(exc) = fast_sum::install(vm) {
            vm.print_exception(&exc);
        }
        if let Err(exc) = load_driver(vm) {
            vm.print_exception(&exc);
        }
        let _ = flush_stdio(vm);
    });
    // From here on (the programs under test), CPython 3.11 mode: annotations are evaluated
    // when their `def`, class body or module statement runs instead of lazily (PEP 649,
    // 3.14), and syntax newer than 3.11 is a SyntaxError. The frozen standard library was
    // compiled without it: it relies on lazy annotations (vendor/rustpython-codegen/ and
    // vendor/rustpython-compiler/CODEFUEL-PATCH.md).
    rustpython_vm::compiler::codegen::set_eager_annotations(true);
    interpreter
}

/// Compiles the evaluation driver and keeps its globals for [`session`] (it is not in
/// `sys.modules`: programs cannot import it), with a copy of the builtins as they are now.
fn load_driver(vm: &VirtualMachine) -> PyResult<()> {
    // The items, not a dict: a dict here would be an object `gc.get_objects()` lists, and a
    // program could rewrite what every test expression's builtins are copied from.
    let pristine = vm.builtins.dict().items_vec();
    session::PRISTINE_BUILTINS.with(|cell| *cell.borrow_mut() = Some(pristine));
    let scope = vm.new_scope_with_builtins();
    scope
        .globals
        .set_item("__name__", vm.ctx.new_str("codefuel_driver").into(), vm)?;
    vm.run_string(scope.clone(), DRIVER_SOURCE, "codefuel_driver.py")?;
    session::DRIVER.with(|cell| *cell.borrow_mut() = Some(scope.globals));
    Ok(())
}

/// Session entry point: the host calls it once per request (see [`session`]), measuring and
/// limiting its fuel from outside.
#[unsafe(export_name = "codefuel_call")]
pub extern "C" fn codefuel_call() {
    let request = read_job_bytes();
    let response = INTERPRETER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let interpreter = slot.get_or_insert_with(build_interpreter);
        interpreter.enter(|vm| session::handle(&request, vm))
    });
    // SAFETY: pointer and length describe a live, initialized buffer.
    unsafe { host::report(response.as_ptr(), response.len() as u32) };
}

/// Snapshot entry point: build the interpreter and keep it for every later run.
#[unsafe(export_name = "wizer-initialize")]
pub extern "C" fn wizer_initialize() {
    INTERPRETER.with(|cell| *cell.borrow_mut() = Some(build_interpreter()));
}

fn read_job_bytes() -> Vec<u8> {
    // SAFETY: the host writes exactly `input_len()` bytes at the pointer we give it.
    unsafe {
        let len = host::input_len() as usize;
        let mut buf = vec![0u8; len];
        host::input_read(buf.as_mut_ptr());
        buf
    }
}

/// Starts a job whose run has an in-memory working directory: the magic, the header (JSON,
/// no NUL byte: `files`, path -> base64, and `fetch`, the paths to hand back; empty when
/// there are neither), a NUL, then the source. Written by `codefuel-runtime` (`Workspace`).
const WORKSPACE_MAGIC: &[u8] = b"\0codefuel-workspace\0";

/// The job's workspace header, if any, and its source.
fn split_job(job: &[u8]) -> (Option<String>, String) {
    if let Some(rest) = job.strip_prefix(WORKSPACE_MAGIC)
        && let Some(end) = rest.iter().position(|&b| b == 0)
    {
        let header = String::from_utf8_lossy(&rest[..end]).into_owned();
        let source = String::from_utf8_lossy(&rest[end + 1..]).into_owned();
        return (Some(header), source);
    }
    (None, String::from_utf8_lossy(job).into_owned())
}

fn flush_stdio(vm: &VirtualMachine) -> PyResult<()> {
    for name in ["stdout", "stderr"] {
        if let Ok(stream) = vm.sys_module.get_attr(name, vm)
            && !vm.is_none(&stream)
        {
            vm.call_method(&stream, "flush", ())?;
        }
    }
    Ok(())
}

/// Outcome of running the user program, as reported to the host, with the workspace files
/// it asked for.
struct Report {
    outcome: Outcome,
    files: Option<Vec<(String, Vec<u8>)>>,
}

/// How the user program ended.
enum Outcome {
    Exited(u32),
    Exception {
        type_name: String,
        message: String,
        traceback: String,
    },
}

fn run_main(vm: &VirtualMachine, header: Option<&str>, source: &str) -> Report {
    let result = (|| -> PyResult<()> {
        if let Some(header) = header {
            session::driver("workspace_install", vm)?.call((vm.ctx.new_str(header),), vm)?;
        }
        let scope = vm.new_scope_with_main()?;
        scope
            .globals
            .set_item("__file__", vm.ctx.new_str(MAIN_FILE).into(), vm)?;
        let code = vm
            .compile(source, Mode::Exec, MAIN_FILE)
            .map_err(|err| err.into_pyexception(vm, Some(source)))?;
        let _ = vm.register_code_in_linecache(&code, source);
        vm.run_code_obj(code, scope)?;
        Ok(())
    })();
    rustpython_vm::stdlib::atexit::_run_exitfuncs(vm);
    let outcome = match result {
        Ok(()) => Outcome::Exited(0),
        Err(exc) => classify_exception(vm, exc),
    };
    let files = header.map(|_| workspace_files(vm));
    let _ = flush_stdio(vm);
    Report { outcome, files }
}

/// The workspace files the job asked for, as the driver hands them over. The program can
/// reach the driver's functions, so what comes back is checked: anything but a list of
/// (str, bytes) pairs, or an exception, gives no files (the program only spoils its own).
fn workspace_files(vm: &VirtualMachine) -> Vec<(String, Vec<u8>)> {
    let collected = (|| -> PyResult<Vec<(String, Vec<u8>)>> {
        let list = session::driver("workspace_collect", vm)?.call((), vm)?;
        let items: Vec<PyObjectRef> = list.try_to_value(vm)?;
        let mut files = Vec::with_capacity(items.len());
        for item in items {
            let pair: Vec<PyObjectRef> = item.try_to_value(vm)?;
            let [name, data] = <[PyObjectRef; 2]>::try_from(pair)
                .map_err(|_| vm.new_type_error("workspace_collect gives (name, bytes) pairs"))?;
            let name = name
                .downcast::<PyStr>()
                .map_err(|_| vm.new_type_error("a file name is a str"))?;
            let data = data
                .downcast::<PyBytes>()
                .map_err(|_| vm.new_type_error("a file's contents are bytes"))?;
            files.push((
                name.to_string_lossy().into_owned(),
                data.as_bytes().to_vec(),
            ));
        }
        Ok(files)
    })();
    collected.unwrap_or_default()
}

/// Standard base64 with padding (RFC 4648), for file contents in the JSON report.
fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn classify_exception(vm: &VirtualMachine, exc: PyBaseExceptionRef) -> Outcome {
    if exc.fast_isinstance(vm.ctx.exceptions.system_exit) {
        // Prints a non-integer exit message to stderr, as CPython does.
        return Outcome::Exited(vm.handle_exit_exception(exc));
    }
    let type_name = exc.class().name().to_string();
    let message = exc
        .as_object()
        .str(vm)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let traceback = format_traceback(vm, &exc);
    vm.print_exception(&exc);
    Outcome::Exception {
        type_name,
        message,
        traceback,
    }
}

/// The traceback as CPython renders it, and as the excepthook prints it on stderr:
/// `traceback.format_exception`, whose last line is `str(exc)` (`[Errno 2] ...: 'f'` for an
/// `OSError`, a class's own `__str__`). RustPython's `write_exception` renders the last line
/// from the exception's args instead; it is the fallback when the module fails.
fn format_traceback(vm: &VirtualMachine, exc: &PyBaseExceptionRef) -> String {
    let formatted = (|| -> PyResult<String> {
        let lines = vm
            .import("traceback", 0)?
            .get_attr("format_exception", vm)?
            .call((exc.clone(),), vm)?;
        let empty = vm.ctx.new_str("");
        let text = vm.call_method(empty.as_object(), "join", (lines,))?;
        let text = text
            .downcast::<PyStr>()
            .map_err(|_| vm.new_type_error("format_exception gives lines"))?;
        Ok(text.to_string_lossy().into_owned())
    })();
    formatted.unwrap_or_else(|_| {
        let mut traceback = String::new();
        let _ = vm.write_exception(&mut traceback, exc);
        traceback
    })
}

fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn report(report: &Report) {
    let mut json = String::new();
    match &report.outcome {
        Outcome::Exited(code) => {
            json.push_str(&format!("{{\"kind\":\"exited\",\"code\":{code}"));
        }
        Outcome::Exception {
            type_name,
            message,
            traceback,
        } => {
            json.push_str("{\"kind\":\"exception\",\"type\":");
            json_string(&mut json, type_name);
            json.push_str(",\"message\":");
            json_string(&mut json, message);
            json.push_str(",\"traceback\":");
            json_string(&mut json, traceback);
        }
    }
    if let Some(files) = &report.files {
        json.push_str(",\"files\":{");
        for (i, (name, data)) in files.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json_string(&mut json, name);
            json.push(':');
            json.push('"');
            json.push_str(&base64(data));
            json.push('"');
        }
        json.push('}');
    }
    json.push('}');
    // SAFETY: pointer and length describe a live, initialized buffer.
    unsafe { host::report(json.as_ptr(), json.len() as u32) };
}

fn main() {
    let (header, source) = split_job(&read_job_bytes());
    let outcome = INTERPRETER.with(|cell| {
        let mut slot = cell.borrow_mut();
        // Without a snapshot (the raw module) the interpreter is built here instead.
        let interpreter = slot.get_or_insert_with(build_interpreter);
        interpreter.enter(|vm| run_main(vm, header.as_deref(), &source))
    });
    report(&outcome);
}
