//! Sessions: the host calls the exported `codefuel_call` once per step (load a program, call
//! its function on one input, judge one output, ...) and measures and limits each call's fuel
//! itself.
//!
//! Nothing here is reachable from Python: the request comes from the host (`input_read`), the
//! response goes back through `report`, and the state between calls (the loaded function, the
//! namespace, a pristine copy of the builtins) lives in Rust. Python code under test can
//! change its own interpreter, but it cannot start, stop or move a fuel measurement, write a
//! record, or see an expected output: expected outputs only ever enter *trusted* sessions,
//! which never run untrusted code. Every value crosses as data in the typed encoding of
//! [`crate::value`].
//!
//! Requests are one op byte and its data; responses are one status byte and its data:
//! `O` ok, `R` a result, `E` + exception type name, `S` + syntax error type name, `U` + why
//! a value cannot be encoded. The ops and their data are listed at [`handle`].

use std::cell::RefCell;

use rustpython_vm::builtins::{PyBaseExceptionRef, PyCode, PyDict, PyDictRef};
use rustpython_vm::compiler::Mode;
use rustpython_vm::scope::Scope;
use rustpython_vm::{AsObject, PyObjectRef, PyRef, PyResult, VirtualMachine};

use crate::value::{self, EncodeError};

/// No cap on what trusted sessions encode (their values come from trusted code).
const NO_CAP: usize = usize::MAX;

/// What a session keeps between calls.
#[derive(Default)]
struct SessionState {
    /// `check`, `trusted` or `matrix` (set by the load request).
    mode: String,
    /// The function under test (check, trusted).
    function: Option<PyObjectRef>,
    /// The compiled module of the code under test (matrix).
    module_code: Option<PyObjectRef>,
    /// The namespace the code's module body last ran in (matrix).
    namespace: Option<PyObjectRef>,
    /// The expressions of the assert-shaped tests, compiled natively (matrix, `P`).
    expressions: Vec<PyRef<PyCode>>,
    /// A fresh copy of the pristine builtins for the next expression (matrix, `B`).
    builtins: Option<PyObjectRef>,
    /// Return the arguments after the call too (special oracles that read the input).
    return_args: bool,
    /// The dataset and task (ground truth input deserialization, judging).
    dataset: String,
    task_id: String,
}

thread_local! {
    static STATE: RefCell<SessionState> = RefCell::new(SessionState::default());
    /// The driver module's globals (set at snapshot time; never in `sys.modules`).
    pub(crate) static DRIVER: RefCell<Option<PyDictRef>> = const { RefCell::new(None) };
    /// The items of `builtins.__dict__` at snapshot time, before any program ran: kept in
    /// Rust, out of reach of `gc.get_objects()`, and copied into a new dict for each `B`.
    pub(crate) static PRISTINE_BUILTINS: RefCell<Option<Vec<(PyObjectRef, PyObjectRef)>>> =
        const { RefCell::new(None) };
}

/// A driver function by name.
pub(crate) fn driver(name: &str, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    let globals = DRIVER
        .with(|d| d.borrow().clone())
        .ok_or_else(|| vm.new_runtime_error("the driver is not loaded"))?;
    globals.get_item(name, vm)
}

/// `E` and the exception's class name; for a `ModuleNotFoundError`, `:` and the module's
/// name after it (`EModuleNotFoundError:numpy`), so results can say which module is missing.
fn exception_name(exc: &PyBaseExceptionRef, vm: &VirtualMachine) -> Vec<u8> {
    let mut out = b"E".to_vec();
    let class = exc.class().name().to_string();
    out.extend_from_slice(class.as_bytes());
    if class == "ModuleNotFoundError"
        && let Ok(name) = exc.as_object().get_attr("name", vm)
        && let Some(name) = name.downcast_ref::<rustpython_vm::builtins::PyStr>()
    {
        out.push(b':');
        out.extend_from_slice(name.to_string_lossy().as_bytes());
    }
    out
}

fn unjudgeable(error: EncodeError) -> Vec<u8> {
    let mut out = b"U".to_vec();
    out.extend_from_slice(error.describe().as_bytes());
    out
}

/// Appends `bytes` with a u32 length in front.
fn put_blob(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

/// Splits a little-endian u32 off the front of `data`.
fn take_u32(data: &mut &[u8], vm: &VirtualMachine) -> PyResult<usize> {
    let Some((head, rest)) = data.split_first_chunk::<4>() else {
        return Err(vm.new_value_error("truncated request"));
    };
    *data = rest;
    Ok(u32::from_le_bytes(*head) as usize)
}

/// Splits a u32-length-prefixed blob off the front of `data`.
fn take_blob<'d>(data: &mut &'d [u8], vm: &VirtualMachine) -> PyResult<&'d [u8]> {
    let n = take_u32(data, vm)?;
    if data.len() < n {
        return Err(vm.new_value_error("truncated request"));
    }
    let (blob, rest) = data.split_at(n);
    *data = rest;
    Ok(blob)
}

/// A blob as a Python object: `V` + encoded value, or `P` + pickle (trusted data only).
fn load_blob(blob: &[u8], vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    match blob.split_first() {
        Some((b'V', rest)) => value::decode_all(rest, vm),
        Some((b'P', rest)) => {
            let loads = vm.import("pickle", 0)?.get_attr("loads", vm)?;
            loads.call((vm.ctx.new_bytes(rest.to_vec()),), vm)
        }
        _ => Err(vm.new_value_error("unknown blob kind")),
    }
}

/// Appends `obj` to `out` as a length-framed blob: encoded when it can be (`V`), in trusted
/// sessions pickled otherwise (`P`). `Err` holds the response that replaces the whole answer.
fn put_value(
    out: &mut Vec<u8>,
    obj: &PyObjectRef,
    max_bytes: usize,
    trusted: bool,
    vm: &VirtualMachine,
) -> Result<(), Vec<u8>> {
    let frame = out.len();
    out.extend_from_slice(&[0, 0, 0, 0, b'V']);
    match value::encode_into(out, obj, max_bytes, vm) {
        Ok(()) => {}
        Err(EncodeError::Unsupported(_)) if trusted => {
            out.truncate(frame + 4);
            let pickled = vm
                .import("pickle", 0)
                .and_then(|m| m.get_attr("dumps", vm))
                .and_then(|dumps| dumps.call((obj.clone(),), vm))
                .map_err(|e| exception_name(&e, vm))?;
            let bytes = pickled
                .downcast_ref::<rustpython_vm::builtins::PyBytes>()
                .ok_or_else(|| b"Epickle".to_vec())?;
            out.push(b'P');
            out.extend_from_slice(bytes.as_bytes());
        }
        Err(error) => return Err(unjudgeable(error)),
    }
    let len =
        u32::try_from(out.len() - frame - 4).map_err(|_| unjudgeable(EncodeError::TooLarge))?;
    out[frame..frame + 4].copy_from_slice(&len.to_le_bytes());
    Ok(())
}

fn str_arg(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Handles one request; returns the response.
///
/// | op | data | response |
/// |----|------|----------|
/// | `L` | JSON `{mode, code, entry_point, dataset, task_id, return_args}` | `O`, `E`, `S` |
/// | `C` | u32 max output bytes, args blob | `R` blob(out) [blob(args after)], `E`, `U` |
/// | `I` | inputs JSON (trusted) | `R` u32 n, n blobs |
/// | `J` | blob(JSON {dataset, entry_point, atol}), blob(inp), blob(out), blob(exp) (trusted) | `R` JSON {reason, atol} |
/// | `M` | — | re-runs the module body in a fresh namespace (matrix): `O`, `E` |
/// | `P` | u32 n, n length-framed expression sources | compiles them natively: `O`, `S` (matrix) |
/// | `B` | — | prepares a fresh copy of the pristine builtins for the next `X`: `O` (matrix) |
/// | `X` | u32 max bytes, u32 expression index | `R` value, `E`, `U` (matrix) |
/// | `T` | test source | `R` status text (matrix, in process) |
/// | `A` | JSON list of tests (trusted) | `R` blob(JSON plans), u32 n, n literal blobs |
/// | `K` | blob(op), blob(a), blob(b) (trusted) | `R` `1`/`0`, `E` |
/// | `Q` | blob(JSON check spec), u32 n, n blobs (trusted) | `R` `1`/`0`, `E` |
pub(crate) fn handle(request: &[u8], vm: &VirtualMachine) -> Vec<u8> {
    let Some((&op, data)) = request.split_first() else {
        return b"Eempty request".to_vec();
    };
    let result = match op {
        b'L' => load(data, vm),
        b'C' => call(data, vm),
        b'I' => inputs(data, vm),
        b'J' => judge(data, vm),
        b'M' => reset_module(vm),
        b'P' => prepare(data, vm),
        b'B' => fresh_builtins(vm),
        b'X' => eval_expr(data, vm),
        b'T' => run_test(data, vm),
        b'A' => plan(data, vm),
        b'K' => compare(data, vm),
        b'Q' => evaluate_check(data, vm),
        _ => Ok(b"Eunknown op".to_vec()),
    };
    result.unwrap_or_else(|exc| exception_name(&exc, vm))
}

fn load(data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let loads = vm.import("json", 0)?.get_attr("loads", vm)?;
    let header = loads.call((vm.ctx.new_str(str_arg(data)),), vm)?;
    // Absent keys read as empty / false.
    let get = |key: &str| header.get_item(key, vm).ok().filter(|v| !vm.is_none(v));
    let text = |key: &str| -> PyResult<String> {
        Ok(match get(key) {
            Some(v) => v.str(vm)?.to_string(),
            None => String::new(),
        })
    };
    let flag = |key: &str| -> PyResult<bool> {
        match get(key) {
            Some(v) => v.try_to_bool(vm),
            None => Ok(false),
        }
    };
    let mode = text("mode")?;
    let code = text("code")?;
    let entry_point = text("entry_point")?;
    let dataset = text("dataset")?;
    let task_id = text("task_id")?;
    let return_args = flag("return_args")?;
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        *s = SessionState::default();
        s.mode = mode.clone();
        s.dataset = dataset;
        s.task_id = task_id;
        s.return_args = return_args;
    });
    match mode.as_str() {
        "check" | "trusted" => {
            if code.is_empty() {
                return Ok(b"O".to_vec());
            }
            let loader = driver(
                if mode == "check" {
                    "load_check"
                } else {
                    "load_trusted"
                },
                vm,
            )?;
            let dataset = STATE.with(|s| s.borrow().dataset.clone());
            let args = (
                vm.ctx.new_str(code),
                vm.ctx.new_str(entry_point),
                vm.ctx.new_str(dataset),
            );
            match loader.call(args, vm) {
                Ok(function) => {
                    STATE.with(|s| s.borrow_mut().function = Some(function));
                    Ok(b"O".to_vec())
                }
                Err(exc) => Ok(exception_name(&exc, vm)),
            }
        }
        "matrix" => {
            let compile = driver("matrix_compile", vm)?;
            let module_code = match compile.call((vm.ctx.new_str(code),), vm) {
                Ok(c) => c,
                Err(exc) => {
                    let mut out = exception_name(&exc, vm);
                    out[0] = b'S';
                    return Ok(out);
                }
            };
            STATE.with(|s| s.borrow_mut().module_code = Some(module_code));
            reset_module(vm)
        }
        _ => Ok(b"Eunknown mode".to_vec()),
    }
}

fn reset_module(vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let module_code = STATE
        .with(|s| s.borrow().module_code.clone())
        .ok_or_else(|| vm.new_runtime_error("no module loaded"))?;
    // The previous namespace is dropped before the module body runs again.
    STATE.with(|s| s.borrow_mut().namespace = None);
    match driver("matrix_exec", vm)?.call((module_code,), vm) {
        Ok(namespace) => {
            STATE.with(|s| s.borrow_mut().namespace = Some(namespace));
            Ok(b"O".to_vec())
        }
        Err(exc) => Ok(exception_name(&exc, vm)),
    }
}

fn call(mut data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let max_bytes = take_u32(&mut data, vm)?;
    let args = load_blob(data, vm)?;
    let (function, mode, return_args) = STATE.with(|s| {
        let s = s.borrow();
        (s.function.clone(), s.mode.clone(), s.return_args)
    });
    let function = function.ok_or_else(|| vm.new_runtime_error("no function loaded"))?;
    let trusted = mode == "trusted";
    let caller = driver(
        if trusted {
            "call_trusted"
        } else {
            "call_check"
        },
        vm,
    )?;
    let out = match caller.call((function, args.clone()), vm) {
        Ok(out) => out,
        Err(exc) => return Ok(exception_name(&exc, vm)),
    };
    let cap = if trusted { NO_CAP } else { max_bytes };
    let mut response = b"R".to_vec();
    if let Err(err) = put_value(&mut response, &out, cap, trusted, vm) {
        return Ok(err);
    }
    if return_args && let Err(err) = put_value(&mut response, &args, cap, trusted, vm) {
        return Ok(err);
    }
    Ok(response)
}

fn inputs(data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let (dataset, task_id) = STATE.with(|s| {
        let s = s.borrow();
        (s.dataset.clone(), s.task_id.clone())
    });
    let list = driver("gt_inputs", vm)?.call(
        (
            vm.ctx.new_str(dataset),
            vm.ctx.new_str(task_id),
            vm.ctx.new_str(str_arg(data)),
        ),
        vm,
    )?;
    let items: Vec<PyObjectRef> = list.try_to_value(vm)?;
    let mut response = b"R".to_vec();
    put_values(&mut response, &items, true, "an input", vm)?;
    Ok(response)
}

/// Appends a u32 count, then each of `items` as a blob (values of trusted code: no cap).
fn put_values(
    out: &mut Vec<u8>,
    items: &[PyObjectRef],
    trusted: bool,
    what: &str,
    vm: &VirtualMachine,
) -> PyResult<()> {
    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for item in items {
        put_value(out, item, NO_CAP, trusted, vm).map_err(|e| {
            let why = String::from_utf8_lossy(&e);
            vm.new_value_error(format!("cannot encode {what}: {why}"))
        })?;
    }
    Ok(())
}

fn judge(mut data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let header = take_blob(&mut data, vm)?;
    let inp = load_blob(take_blob(&mut data, vm)?, vm)?;
    let out = load_blob(take_blob(&mut data, vm)?, vm)?;
    let exp = load_blob(take_blob(&mut data, vm)?, vm)?;
    let verdict =
        driver("judge", vm)?.call((vm.ctx.new_str(str_arg(header)), inp, out, exp), vm)?;
    let mut response = b"R".to_vec();
    response.extend_from_slice(verdict.str(vm)?.as_bytes());
    Ok(response)
}

fn namespace(vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    STATE
        .with(|s| s.borrow().namespace.clone())
        .ok_or_else(|| vm.new_runtime_error("no namespace"))
}

fn prepare(mut data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let n = take_u32(&mut data, vm)?;
    let mut expressions = Vec::new();
    for _ in 0..n {
        let source = str_arg(take_blob(&mut data, vm)?);
        // Compiled here, natively: the code under test may have replaced `builtins.compile`.
        match vm.compile(&source, Mode::Eval, "<test>") {
            Ok(code) => expressions.push(code),
            Err(err) => {
                let exc = err.into_pyexception(vm, Some(&source));
                let mut out = exception_name(&exc, vm);
                out[0] = b'S';
                return Ok(out);
            }
        }
    }
    STATE.with(|s| s.borrow_mut().expressions = expressions);
    Ok(b"O".to_vec())
}

fn fresh_builtins(vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let pristine = PRISTINE_BUILTINS
        .with(|b| b.borrow().clone())
        .ok_or_else(|| vm.new_runtime_error("no pristine builtins"))?;
    let copy = vm.ctx.new_dict();
    for (key, value) in pristine {
        copy.set_item(&*key, value, vm)?;
    }
    STATE.with(|s| s.borrow_mut().builtins = Some(copy.into()));
    Ok(b"O".to_vec())
}

/// Evaluates one prepared expression natively, in a copy of the code's namespace whose
/// builtins are the copy `B` prepared (a fresh one of the builtins as they were before any
/// program ran): the code cannot swap `eval`, `compile` or the builtins a test reads.
fn eval_expr(mut data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let max_bytes = take_u32(&mut data, vm)?;
    let index = take_u32(&mut data, vm)?;
    let (code, builtins) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        (s.expressions.get(index).cloned(), s.builtins.take())
    });
    let code = code.ok_or_else(|| vm.new_index_error("no such prepared expression"))?;
    let builtins = match builtins {
        Some(b) => b,
        None => {
            fresh_builtins(vm)?;
            STATE
                .with(|s| s.borrow_mut().builtins.take())
                .expect("prepared above")
        }
    };
    let namespace = namespace(vm)?;
    let namespace = namespace
        .downcast_ref::<PyDict>()
        .ok_or_else(|| vm.new_type_error("the namespace is not a dict"))?;
    let globals = vm.ctx.new_dict();
    for (key, value) in namespace.items_vec() {
        globals.set_item(&*key, value, vm)?;
    }
    globals.set_item("__builtins__", builtins, vm)?;
    if let Ok(swallow) = driver("swallow_io", vm) {
        // Only where the expression's prints go; a code that replaced it changes nothing else.
        let _ = swallow.call((), vm);
    }
    let out = match vm.run_code_obj(code, Scope::with_builtins(None, globals, vm)) {
        Ok(out) => out,
        Err(exc) => return Ok(exception_name(&exc, vm)),
    };
    let mut response = b"R".to_vec();
    if let Err(err) = put_value(&mut response, &out, max_bytes, false, vm) {
        return Ok(err);
    }
    Ok(response)
}

fn run_test(data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let namespace = namespace(vm)?;
    let status = driver("matrix_test", vm)?.call((vm.ctx.new_str(str_arg(data)), namespace), vm)?;
    let mut response = b"R".to_vec();
    response.extend_from_slice(status.str(vm)?.as_bytes());
    Ok(response)
}

fn plan(data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let result = driver("plan_tests", vm)?.call((vm.ctx.new_str(str_arg(data)),), vm)?;
    let parts: Vec<PyObjectRef> = result.try_to_value(vm)?;
    let [plans, literals] = <[PyObjectRef; 2]>::try_from(parts)
        .map_err(|_| vm.new_type_error("plan_tests returns (plans, literals)"))?;
    let literals: Vec<PyObjectRef> = literals.try_to_value(vm)?;
    let mut response = b"R".to_vec();
    put_blob(&mut response, plans.str(vm)?.as_bytes());
    put_values(&mut response, &literals, false, "a literal", vm)?;
    Ok(response)
}

fn compare(mut data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let op = str_arg(take_blob(&mut data, vm)?);
    let a = load_blob(take_blob(&mut data, vm)?, vm)?;
    let b = load_blob(take_blob(&mut data, vm)?, vm)?;
    truth(
        driver("compare", vm)?.call((vm.ctx.new_str(op), a, b), vm),
        vm,
    )
}

/// The answer of a comparison: `R1`/`R0` by the result's truth, `E` + the exception it raised.
fn truth(result: PyResult, vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    match result {
        Ok(result) => Ok(if result.try_to_bool(vm)? {
            b"R1".to_vec()
        } else {
            b"R0".to_vec()
        }),
        Err(exc) => Ok(exception_name(&exc, vm)),
    }
}

/// A check whose operands have templates (the driver's `evaluate_check`), on decoded values.
fn evaluate_check(mut data: &[u8], vm: &VirtualMachine) -> PyResult<Vec<u8>> {
    let spec = str_arg(take_blob(&mut data, vm)?);
    let n = take_u32(&mut data, vm)?;
    let mut values = Vec::new();
    for _ in 0..n {
        values.push(load_blob(take_blob(&mut data, vm)?, vm)?);
    }
    let check = driver("evaluate_check", vm)?;
    truth(
        check.call((vm.ctx.new_str(spec), vm.ctx.new_list(values)), vm),
        vm,
    )
}
