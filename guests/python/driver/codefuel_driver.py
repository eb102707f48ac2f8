"""codefuel's in-guest test driver: evalplus 0.3.1 semantics, run inside the sandbox.

Loaded into the guest snapshot as the module `codefuel_driver`. A run's program is one line,
`import codefuel_driver; codefuel_driver.main()`; everything else comes in the payload:

    payload = u32 little-endian header length | JSON header | blobs

The header names the mode ("ground_truth", "check" or "matrix") and its parameters; blobs
are slices of the payload given as [offset, length] pairs relative to the end of the header.
Large per-input data (inputs, expected outputs) comes from the run's tables, one item at a
time. Results go back through `_codefuel.emit(kind, bytes)`, one record at a time, so the host
keeps everything up to a trap. Per-input fuel is measured (and, in "check" and "matrix",
limited) by the host around each call with `_codefuel.deadline_begin(index, fuel)` /
`_codefuel.deadline_end()`.

EVERY evalplus compatibility rule lives in the section "evalplus 0.3.1 quirks" below, each with
the evalplus source it mirrors.
"""

import builtins
import copy
import io
import json
import marshal
import math
import sys

import _codefuel

# ====================================================================================== #
# evalplus 0.3.1 quirks (the one place they live)                                        #
# ====================================================================================== #

# eval/_special_oracle.py: outputs that are only checked for "is not None".
MBPP_OUTPUT_NOT_NONE_TASKS = ["check_str", "text_match_three", "text_starta_endb"]

# eval/_special_oracle.py: outputs compared as sets.
MBPP_OUTPUT_SET_EQ_TASKS = [
    "similar_elements",  # Mbpp/2
    "find_char_long",  # Mbpp/7
    "common_in_nested_lists",  # Mbpp/111
    "extract_singly",  # Mbpp/140
    "larg_nnum",  # Mbpp/232
    "intersection_array",  # Mbpp/249
    "find_dissimilar",  # Mbpp/579
    "Diff",  # Mbpp/769
]


def _surface_Area(base_edge, height):
    """eval/_special_oracle.py: the oracle for Mbpp/581."""
    slant_height = math.sqrt((base_edge / 2) ** 2 + height**2)
    base_area = base_edge**2
    lateral_area = 4 * (base_edge * slant_height) / 2
    total_surface_area = base_area + lateral_area
    return round(total_surface_area)


def _digit_distance_nums(num1, num2):
    """eval/_special_oracle.py: the oracle for Mbpp/558."""
    str_num1, str_num2 = str(num1), str(num2)
    max_length = max(len(str_num1), len(str_num2))
    str_num1, str_num2 = str_num1.zfill(max_length), str_num2.zfill(max_length)
    total_difference = 0
    for digit1, digit2 in zip(str_num1, str_num2):
        total_difference += abs(int(digit1) - int(digit2))
    return total_difference


def _poly(xs, x):
    """eval/_special_oracle.py: the polynomial that checks HumanEval/32 (find_zero)."""
    return sum([coeff * math.pow(x, i) for i, coeff in enumerate(xs)])


def special_oracle(dataset, entry_point, inp, out, exp, exact_match, atol):
    """eval/__init__.py unsafe_execute: the special oracles, keyed by entry point.

    Returns (exact_match, skip_rest). skip_rest means the input is decided here: True only for
    HumanEval find_zero, whose result is the polynomial check alone.

    Deliberate deviations for HumanEval/32 (find_zero): evalplus 0.3.1 checks the polynomial
    and then `continue`s past the code that records a passing input, so it fails every sample,
    canonical solution included; codefuel records the input as passed. And an output equal to
    the canonical solution's also passes: on inputs with huge coefficients a one-ulp change in
    the root (RustPython's libm `pow` versus glibc's) moves the polynomial's value far past atol.
    """
    if dataset == "mbpp":
        if entry_point == "are_equivalent":  # Mbpp/164
            exact_match = exact_match or True
        elif entry_point == "sum_div":  # Mbpp/295
            exact_match = exact_match or out == 0
        elif entry_point == "surface_Area":  # Mbpp/581
            exact_match = exact_match or abs(out - _surface_Area(*inp)) <= atol
        elif entry_point == "digit_distance_nums":  # Mbpp/558
            exact_match = exact_match or out == _digit_distance_nums(*inp)
        elif entry_point in MBPP_OUTPUT_SET_EQ_TASKS:
            exact_match = set(out) == set(exp)
        elif entry_point in MBPP_OUTPUT_NOT_NONE_TASKS:
            if isinstance(out, bool):
                exact_match = out == exp
            else:
                exact_match = exp == (out is not None)
    if dataset == "humaneval" and entry_point == "find_zero":
        assert exact_match or abs(_poly(*inp, out)) <= atol
        return exact_match, True
    return exact_match, False


def is_floats(x):
    """eval/__init__.py is_floats: a float, or a non-empty list/tuple of floats."""
    if isinstance(x, float):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, float) for i in x)
    return False


def _np_shape_and_flat(x):
    """What numpy.asarray makes of x for allclose: (shape, flat numbers). Raises like numpy."""
    if isinstance(x, (list, tuple)):
        parts = [_np_shape_and_flat(item) for item in x]
        shapes = {shape for shape, _ in parts}
        if len(shapes) > 1:
            raise ValueError("inhomogeneous shape")
        inner = shapes.pop() if shapes else ()
        flat = [v for _, values in parts for v in values]
        return (len(x),) + inner, flat
    if isinstance(x, (bool, int, float, complex)):
        return (), [x]
    raise TypeError("ufunc 'isfinite' not supported for the input types")


def np_allclose(a, b, rtol, atol):
    """numpy.allclose(a, b, rtol, atol) for the values outputs are made of."""
    shape_a, flat_a = _np_shape_and_flat(a)
    shape_b, flat_b = _np_shape_and_flat(b)
    if shape_a != shape_b:
        if shape_a == ():
            flat_a = flat_a * len(flat_b)
        elif shape_b == ():
            flat_b = flat_b * len(flat_a)
        else:
            raise ValueError("operands could not be broadcast together")
    for x, y in zip(flat_a, flat_b):
        if isinstance(x, complex) or isinstance(y, complex):
            x, y = complex(x), complex(y)
            if x == y:
                continue
            if not (abs(x - y) <= atol + rtol * abs(y)):
                return False
            continue
        x, y = float(x), float(y)
        if math.isinf(x) or math.isinf(y):
            if x != y:
                return False
            continue
        if not (abs(x - y) <= atol + rtol * abs(y)):
            return False
    return True


def mbpp_deserialize_inputs(task_id, inputs):
    """data/mbpp.py mbpp_deserialize_inputs: per-task JSON → Python input conversion."""
    task_id = int(task_id.split("/")[-1])
    if task_id in [2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579,
                   596, 616, 630, 726, 740, 744, 809]:
        return [[tuple(lst) for lst in inp] for inp in inputs]
    if task_id in [63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780]:
        return [[[tuple(lst) for lst in lst_lst] for lst_lst in inp] for inp in inputs]
    if task_id in [75, 413, 444, 753]:
        return [[[tuple(lst) for lst in inp[0]]] + [inp[1]] for inp in inputs]
    if task_id == 106 or task_id == 750:
        return [[inp[0]] + [tuple(inp[1])] for inp in inputs]
    if task_id == 115:
        return [
            [[set(item) if isinstance(item, list) and len(item) else {} for item in inp[0]]]
            for inp in inputs
        ]
    if task_id == 124:
        return [(float(inp[0]), complex(inp[1])) for inp in inputs]
    if task_id in [250, 405, 446, 617, 720, 763, 808]:
        return [[tuple(inp[0])] + [inp[1]] for inp in inputs]
    if task_id in [259, 401, 445]:
        modified = [[[tuple(lst) for lst in lst_lst] for lst_lst in inp] for inp in inputs]
        return [[tuple(lst) for lst in inp] for inp in modified]
    if task_id == 278:
        modified = [
            [[tuple(item) if isinstance(item, list) else item for item in inp[0]]]
            for inp in inputs
        ]
        return [[tuple(lst) for lst in inp] for inp in modified]
    if task_id == 307:
        return [[tuple(inp[0])] + [inp[1], inp[2]] for inp in inputs]
    if task_id == 722:
        return [[{key: tuple(value) for key, value in inp[0].items()}] + inp[1:] for inp in inputs]
    if task_id == 252:
        return [[complex(inp[0])] for inp in inputs]
    if task_id in [580, 615, 791]:

        def turn_all_list_into_tuple(inp):
            if isinstance(inp, list):
                return tuple([turn_all_list_into_tuple(item) for item in inp])
            return inp

        return [turn_all_list_into_tuple(inp) for inp in inputs]
    return inputs


class WriteOnlyStringIO(io.StringIO):
    """eval/utils.py: stdout/stderr/stdin of the code under test; reading raises IOError."""

    def read(self, *args, **kwargs):
        raise IOError

    def readline(self, *args, **kwargs):
        raise IOError

    def readlines(self, *args, **kwargs):
        raise IOError

    def readable(self, *args, **kwargs):
        return False


def swallow_io():
    """eval/utils.py swallow_io: a fresh write-only stream for stdout, stderr and stdin."""
    stream = WriteOnlyStringIO()
    sys.stdout = stream
    sys.stderr = stream
    sys.stdin = stream


def reliability_guard():
    """eval/utils.py reliability_guard: the functions evalplus disables before running code.

    The memory cap is the sandbox's; faulthandler does not exist here. Only functions this
    platform has are replaced: evalplus runs on Linux, where all of them exist, and creating
    `os.fork` here would make `asyncio` (imported by `doctest`) believe it can fork.
    """
    import os

    builtins.exit = None
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ["kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir",
                 "setuid", "fork", "forkpty", "killpg", "rename", "renames", "truncate",
                 "replace", "unlink", "fchmod", "fchown", "chmod", "chown", "chroot", "fchdir",
                 "lchflags", "lchmod", "lchown", "getcwd", "chdir"]:
        if hasattr(os, name):
            setattr(os, name, None)
    builtins.open = None
    try:
        import shutil

        shutil.rmtree = None
        shutil.move = None
        shutil.chown = None
    except ImportError:
        pass
    try:
        import subprocess

        subprocess.Popen = None
    except ImportError:
        pass
    builtins.help = None
    for name in ["ipdb", "joblib", "resource", "psutil", "tkinter"]:
        sys.modules[name] = None


# ====================================================================================== #
# Driver                                                                                 #
# ====================================================================================== #

# Encoding of inputs and outputs between runs: marshal for builtin value types (None, bool,
# int, float, complex, str, bytes, tuple, list, dict, set, frozenset); pickle for the rest
# (Counter, deque, ...), as evalplus itself pickles expected outputs to its workers.


def _dumps(value):
    try:
        return b"M" + marshal.dumps(value)
    except ValueError:
        import pickle

        return b"P" + pickle.dumps(value)


def _loads(data):
    if data[:1] == b"M":
        return marshal.loads(data[1:])
    import pickle

    return pickle.loads(data[1:])


def _read_payload():
    payload = _codefuel.payload()
    header_len = int.from_bytes(payload[:4], "little")
    header = json.loads(payload[4 : 4 + header_len].decode())
    blobs = payload[4 + header_len :]

    def blob(name):
        offset, length = header["blobs"][name]
        return blobs[offset : offset + length]

    return header, blob


def _emit_json(kind, value):
    _codefuel.emit(kind, json.dumps(value, default=repr).encode())


def ground_truth(header, blob):
    """evalplus gen/util trusted_exec: run the canonical solution on every input.

    Emits, per input, "input" (the deserialized input) and "output" (its output), both
    marshalled, then "fuel" (JSON list: the fuel of each call).
    """
    inputs = json.loads(blob("inputs_json").decode())
    if header["dataset"] == "mbpp":
        inputs = mbpp_deserialize_inputs(header["task_id"], inputs)
    for inp in inputs:
        _codefuel.emit("input", _dumps(inp))
    exec_globals = {}
    exec(header["code"], exec_globals)
    fn = exec_globals[header["entry_point"]]
    # evaluate.py get_groundtruth: these tasks' outputs are reduced to "is not None".
    output_not_none = (
        header["dataset"] == "mbpp" and header["entry_point"] in MBPP_OUTPUT_NOT_NONE_TASKS
    )
    fuels = []
    for index, inp in enumerate(inputs):
        inp = copy.deepcopy(inp)
        _codefuel.deadline_begin(index, 0)
        out = fn(*inp)
        fuels.append(_codefuel.deadline_end())
        if output_not_none:
            out = out is not None
        _codefuel.emit("output", _dumps(out))
    _emit_json("fuel", fuels)


# The deadline tag of the module-level code (input indices are the other tags).
EXEC_DEADLINE_TAG = 2**63


def check(header, blob):
    """evalplus eval unsafe_execute: run a sample on one split's inputs and judge each.

    Reads input i from table 0 and its expected output from table 1 (marshalled). Records:
    "exec_error" (JSON: the exception type; the code did not load) or "loaded", then per judged
    input "result" = b"<index> <passed 0|1> <fuel> <reason or empty>".
    """
    dataset = header["dataset"]
    entry_point = header["entry_point"]
    atol = header["atol"]
    fast_check = header["fast_check"]
    limits = header["limits"]
    # The inputs to judge, in the order to judge them (evalplus order is 0, 1, 2, ...).
    order = header["order"]
    table_item = _codefuel.table_item

    reliability_guard()
    exec_globals = {}
    try:
        swallow_io()
        # Module-level code has its own budget; running over it is evalplus's "timeout".
        _codefuel.deadline_begin(EXEC_DEADLINE_TAG, header["exec_budget"])
        try:
            exec(header["code"], exec_globals)
        finally:
            _codefuel.deadline_end()
        fn = exec_globals[entry_point]
    except BaseException as e:
        _emit_json("exec_error", type(e).__name__)
        return
    _codefuel.emit("loaded", b"")

    for i in order:
        # Inputs (table 0) and expected outputs (table 1) are fetched one at a time.
        inp = _loads(table_item(0, i))
        fuel = 0
        reason = None
        try:
            swallow_io()
            _codefuel.deadline_begin(i, limits[i])
            try:
                out = fn(*inp)
            finally:
                fuel = _codefuel.deadline_end()
            exp = _loads(table_item(1, i))
            exact_match = out == exp
            exact_match, decided = special_oracle(
                dataset, entry_point, inp, out, exp, exact_match, atol
            )
            if not decided:
                # evalplus mutates atol here, and the change sticks for later inputs.
                if atol == 0 and is_floats(exp):
                    atol = 1e-6
                if not exact_match and atol != 0:
                    assert type(out) == type(exp)
                    if isinstance(exp, (list, tuple)):
                        assert len(out) == len(exp)
                    assert np_allclose(out, exp, rtol=1e-07, atol=atol)
                else:
                    assert exact_match
        except AssertionError:
            reason = "wrong_answer"
        except BaseException as e:
            reason = "exception:" + type(e).__name__
        _codefuel.emit("result", b"%d %d %d %s" % (i, reason is None, fuel, (reason or "").encode()))
        if reason is not None and fast_check:
            return


def matrix(header, blob):
    """codefuel matrix: one generated code against generated tests (no evalplus rules).

    The code is compiled once and executed in a fresh globals dict (so `__name__` is not
    "__main__") under the load budget; then each test in `order` runs under its own fuel
    limit in a fresh namespace: the module body is executed again (under the load budget,
    not counted in the test's fuel) before every test but the first, so no test sees the
    module-level objects another test touched. Records: "load" (JSON {"status", "error"?,
    "fuel"}), then per test "cell" = b"<index> <status> <fuel> <exception type or empty>",
    status pass|fail|error|syntax_error.
    """
    limit = header["test_fuel"]
    tests = header["tests"]
    swallow_io()
    try:
        code = compile(header["code"], "<code>", "exec")
    except BaseException as e:
        _emit_json("load", {"status": "syntax_error", "error": type(e).__name__, "fuel": 0})
        return
    namespace = {}
    error, fuel = _exec_module(code, namespace, header["load_budget"])
    _emit_json("load", {"status": "error" if error else "pass", "error": error, "fuel": fuel})
    if error:
        return
    first = True
    for i in header["order"]:
        fuel, status, error = 0, "pass", ""
        if not first:
            namespace = {}
            error = _exec_module(code, namespace, header["load_budget"])[0] or ""
            if error:
                status = "error"
        first = False
        if not error:
            try:
                test = compile(tests[i], "<test>", "exec")
            except BaseException as e:
                status, error = "syntax_error", type(e).__name__
            else:
                swallow_io()
                _codefuel.deadline_begin(i, limit)
                try:
                    exec(test, namespace)
                except AssertionError:
                    status = "fail"
                except BaseException as e:
                    status, error = "error", type(e).__name__
                finally:
                    fuel = _codefuel.deadline_end()
        _codefuel.emit("cell", b"%d %s %d %s" % (i, status.encode(), fuel, error.encode()))


def _exec_module(code, namespace, budget):
    """Runs a module body under `budget`: (the exception's type name or None, fuel used)."""
    swallow_io()
    error = None
    _codefuel.deadline_begin(EXEC_DEADLINE_TAG, budget)
    try:
        exec(code, namespace)
    except BaseException as e:
        error = type(e).__name__
    finally:
        fuel = _codefuel.deadline_end()
    return error, fuel


def main():
    header, blob = _read_payload()
    mode = header["mode"]
    if mode == "ground_truth":
        ground_truth(header, blob)
    elif mode == "check":
        check(header, blob)
    elif mode == "matrix":
        matrix(header, blob)
    else:
        raise ValueError("unknown driver mode: " + repr(mode))
    # The run reached its end: anything else (os._exit, a trap) means the process "died".
    _codefuel.emit("done", b"")
