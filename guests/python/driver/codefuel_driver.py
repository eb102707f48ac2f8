"""codefuel's in-guest test driver: evalplus 0.3.1 semantics, run inside the sandbox.

Loaded into the guest snapshot, but not into `sys.modules`: programs cannot import it. The
guest's native session layer (`guests/python/src/session.rs`) calls these functions, one host
request at a time; the host measures and limits the fuel of every request from outside, and
every value crosses as data in the typed encoding (`guests/python/src/value.rs`).

Two kinds of sessions use it:
- *untrusted* sessions run code under test: `load_check`/`call_check` (evalplus's
  `unsafe_execute`) and the `matrix_*` functions. They never see an expected output.
- *trusted* sessions never run code under test: `load_trusted`/`call_trusted` and `gt_inputs`
  (evalplus's ground truth), `judge` (evalplus's output comparison, special oracles included),
  `plan_tests` and `compare` (the matrix's assert checks).

EVERY evalplus compatibility rule lives in the section "evalplus 0.3.1 quirks" below, each with
the evalplus source it mirrors.
"""

import ast
import builtins
import io
import json
import math
import sys

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

    HumanEval/32 (find_zero): evalplus 0.3.1 checks the polynomial and then `continue`s past
    the code that records a passing input, so it fails every sample, canonical solution
    included; the host reproduces that verdict (evalplus.rs, `oracle_never_passes`) and this
    records the input honestly. An output equal to the canonical solution's also passes here:
    on inputs with huge coefficients a one-ulp change in the root (RustPython's libm `pow`
    versus glibc's) moves the polynomial's value far past atol, and evalplus's own run of that
    solution passes the check (it lists no failing input).
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
# Untrusted sessions: the code under test                                                #
# ====================================================================================== #


def load_check(code, entry_point, _dataset):
    """evalplus eval unsafe_execute, up to the loop: guard, swallow I/O, exec, find the function.

    Raises whatever the code raises (the host reports it as the sample's load failure).
    """
    reliability_guard()
    exec_globals = {}
    swallow_io()
    exec(code, exec_globals)
    return exec_globals[entry_point]


def call_check(fn, args):
    """evalplus eval unsafe_execute, one input: fresh swallowed I/O, then the call."""
    swallow_io()
    return fn(*args)


def matrix_compile(code):
    """codefuel matrix: the code under test, compiled once (a SyntaxError is its load status)."""
    swallow_io()
    return compile(code, "<code>", "exec")


def matrix_exec(code):
    """codefuel matrix: the module body in a fresh namespace (so `__name__` is not "__main__")."""
    swallow_io()
    namespace = {}
    exec(code, namespace)
    return namespace


def matrix_test(source, namespace):
    """codefuel matrix: a test of another shape, run in process (its verdict is only as
    trustworthy as the code under test): "pass", "fail", "error <type>", "syntax_error <type>"."""
    try:
        test = compile(source, "<test>", "exec")
    except BaseException as e:
        return "syntax_error " + type(e).__name__
    swallow_io()
    try:
        exec(test, namespace)
    except AssertionError:
        return "fail"
    except BaseException as e:
        return "error " + type(e).__name__
    return "pass"


# ====================================================================================== #
# Trusted sessions: never run code under test                                            #
# ====================================================================================== #


def load_trusted(code, entry_point, dataset):
    """evalplus gen/util trusted_exec: exec the canonical solution, find the function."""
    exec_globals = {}
    exec(code, exec_globals)
    fn = exec_globals[entry_point]
    if dataset == "mbpp" and entry_point in MBPP_OUTPUT_NOT_NONE_TASKS:
        # evaluate.py get_groundtruth: these tasks' outputs are reduced to "is not None".
        return lambda *args: fn(*args) is not None
    return fn


def call_trusted(fn, args):
    """evalplus trusted_exec, one input (its deepcopy is unneeded: inputs arrive decoded
    afresh for every call). The I/O is swallowed as in `call_check`, so that a canonical
    solution run as a sample costs the fuel it cost here."""
    swallow_io()
    return fn(*args)


def gt_inputs(dataset, task_id, inputs_json):
    """The split's inputs as evalplus hands them to the function."""
    inputs = json.loads(inputs_json)
    if dataset == "mbpp":
        inputs = mbpp_deserialize_inputs(task_id, inputs)
    return inputs


def judge(header, inp, out, exp):
    """evalplus eval unsafe_execute, after the call: is `out` right for `exp`?

    `inp` is the input as the call left it (special oracles read it). Returns JSON
    {"reason": null | "wrong_answer" | "exception:<type>", "atol": the atol after this input
    (evalplus mutates it, and the change sticks for later inputs)}.
    """
    header = json.loads(header)
    dataset, entry_point, atol = header["dataset"], header["entry_point"], header["atol"]
    reason = None
    try:
        exact_match = out == exp
        exact_match, decided = special_oracle(dataset, entry_point, inp, out, exp, exact_match, atol)
        if not decided:
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
    return json.dumps({"reason": reason, "atol": atol})


# Comparison operators of assert-shaped tests, by AST node type.
_COMPARE_OPS = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}
# Literals that `is` may compare against (singletons: identity is their equality).
_SINGLETONS = (None, True, False)


class _NotTrusted(Exception):
    """A test shape that cannot be judged outside the code's instance."""


def _operand(node, literals, source_text):
    """One side of a check: {"lit": index into literals} or {"expr": source}."""
    try:
        value = ast.literal_eval(node)
    except Exception:
        # The expression's own text (cheap), else the AST written back out.
        source = ast.get_source_segment(source_text, node) or ast.unparse(node)
        if "\n" in source:
            source = "(" + source + ")"
        compile(source, "<test>", "eval")
        return {"expr": source}
    literals.append(value)
    return {"lit": len(literals) - 1}


def _checks(node, negate, literals, text):
    """The checks an asserted expression decomposes into (`text`: the test's source)."""
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And) and not negate:
        return [c for value in node.values for c in _checks(value, False, literals, text)]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return _checks(node.operand, not negate, literals, text)
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        op = _COMPARE_OPS.get(type(node.ops[0]))
        if op is None:
            raise _NotTrusted()
        left = _operand(node.left, literals, text)
        right = _operand(node.comparators[0], literals, text)
        if op in ("is", "is not"):
            literal = right.get("lit", left.get("lit"))
            if literal is None or not any(literals[literal] is s for s in _SINGLETONS):
                raise _NotTrusted()
        if "lit" in left and "lit" in right:
            raise _NotTrusted()
        return [{"op": op, "negate": negate, "left": left, "right": right}]
    if isinstance(node, ast.Compare):
        raise _NotTrusted()
    operand = _operand(node, literals, text)
    if "lit" in operand:
        raise _NotTrusted()
    return [{"op": "truthy", "negate": negate, "left": operand}]


def plan_tests(tests_json):
    """codefuel matrix: how each test can be judged outside the code's instance.

    A test whose statements are all `assert` of a supported shape (`==`, `!=`, `<`, `<=`, `>`,
    `>=`, `in`, `not in`, `is`/`is not` None/True/False, a plain or negated expression, and
    `and` of these) becomes a list of checks: expressions are evaluated in the code's instance,
    literals here (`ast.literal_eval`), and the comparison happens in a trusted instance.
    Returns (JSON list with a list of checks or null per test, the literal values).
    """
    plans, literals = [], []
    for source in json.loads(tests_json):
        mark = len(literals)
        try:
            tree = ast.parse(source)
            if not tree.body:
                raise _NotTrusted()
            checks = []
            for statement in tree.body:
                if not isinstance(statement, ast.Assert):
                    raise _NotTrusted()
                checks.extend(_checks(statement.test, False, literals, source))
            plans.append(checks)
        except Exception:
            del literals[mark:]
            plans.append(None)
    return json.dumps(plans), literals


def compare(op, a, b):
    """The comparison of a check, on decoded values (builtin types only)."""
    if op == "truthy":
        return bool(a)
    if op == "==":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    if op == "in":
        return a in b
    if op == "not in":
        return a not in b
    if op == "is":
        return a is b
    if op == "is not":
        return a is not b
    raise ValueError("unknown comparison " + repr(op))
