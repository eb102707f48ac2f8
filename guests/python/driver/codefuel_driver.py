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


# Builtins a test's expression may apply, in the trusted session, to values the code's
# session computed: pure functions and types (no I/O, no names looked up by string, no code
# execution). Any other name in a test is the code's.
_TEMPLATE_BUILTINS = frozenset([
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr",
    "complex", "dict", "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash",
    "hex", "int", "isinstance", "issubclass", "iter", "len", "list", "map", "max", "min", "next",
    "oct", "ord", "pow", "range", "repr", "reversed", "round", "set", "slice", "sorted", "str",
    "sum", "tuple", "type", "zip",
])
# The name a template reads the values of its holes from.
_HOLES = "__cf_h"


class _Whole(Exception):
    """An operand that cannot be split: the code's session evaluates all of it."""


def _source(node, source_text):
    """The expression's own text (cheap), else the AST written back out; compiles alone."""
    source = ast.get_source_segment(source_text, node) or ast.unparse(node)
    if "\n" in source:
        source = "(" + source + ")"
    compile(source, "<test>", "eval")
    return source


def _code_chain(node):
    """A name of the code's, or attributes and subscripts of one, without calls: `f`,
    `obj.method`, `table[0]`."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return isinstance(node, ast.Name) and node.id not in _TEMPLATE_BUILTINS


def _is_hole(node):
    """Whether the code's session must evaluate `node` itself: a chain of the code's, or a
    call of one (`f(x)`, `obj.method(x)`; arguments included)."""
    return _code_chain(node) or (isinstance(node, ast.Call) and _code_chain(node.func))


def _template(node, holes, source_text):
    """`node` with each hole replaced by `__cf_h[i]` (its source appended to `holes`), for the
    trusted session to evaluate on the holes' values. Raises _Whole for what it must not
    evaluate: short-circuits and conditionals (a hole there may not run natively),
    comprehensions and lambdas (their names are bound inside), private attributes."""
    if _is_hole(node):
        holes.append(_source(node, source_text))
        return ast.Subscript(ast.Name(_HOLES, ast.Load()), ast.Constant(len(holes) - 1), ast.Load())

    def t(child):
        return None if child is None else _template(child, holes, source_text)

    if isinstance(node, (ast.Constant, ast.Name)):
        return node
    if isinstance(node, ast.Call):
        return ast.Call(t(node.func), [t(a) for a in node.args],
                        [ast.keyword(k.arg, t(k.value)) for k in node.keywords])
    if isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise _Whole()
        return ast.Attribute(t(node.value), node.attr, ast.Load())
    if isinstance(node, ast.Subscript):
        return ast.Subscript(t(node.value), t(node.slice), ast.Load())
    if isinstance(node, ast.Slice):
        return ast.Slice(t(node.lower), t(node.upper), t(node.step))
    if isinstance(node, ast.Starred):
        return ast.Starred(t(node.value), ast.Load())
    if isinstance(node, ast.BinOp):
        return ast.BinOp(t(node.left), node.op, t(node.right))
    if isinstance(node, ast.UnaryOp):
        return ast.UnaryOp(node.op, t(node.operand))
    if isinstance(node, ast.Compare):
        return ast.Compare(t(node.left), node.ops, [t(c) for c in node.comparators])
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return type(node)(*([[t(e) for e in node.elts]] + ([ast.Load()] if not isinstance(node, ast.Set) else [])))
    if isinstance(node, ast.Dict):
        # Key, value, key, value: the order Python evaluates a display in (holes run in order).
        pairs = [(t(k), t(v)) for k, v in zip(node.keys, node.values)]
        return ast.Dict([k for k, _ in pairs], [v for _, v in pairs])
    if isinstance(node, ast.JoinedStr):
        return ast.JoinedStr([t(v) for v in node.values])
    if isinstance(node, ast.FormattedValue):
        return ast.FormattedValue(t(node.value), node.conversion, t(node.format_spec))
    raise _Whole()


def _operand(node, literals, source_text):
    """One side of a check:
    - {"lit": index into literals}: a literal, evaluated here;
    - {"expr": source}: a call into the code (`f(x)`) or a value of the code's, evaluated in
      the code's session, its value handed back as data;
    - {"calc": {"template", "holes", "whole"}}: builtins applied to such values
      (`len(f(x))`, `sorted(f(x))[0]`): the code's session evaluates the holes, this session
      the template on their values, out of the code's reach. When a hole's value cannot cross
      as data, the code's session evaluates `whole` instead and the cell says so;
    - {"code": source}: an operand that cannot be split (a comprehension, a lambda, `and`/`or`,
      a conditional, a private attribute, a builtin outside _TEMPLATE_BUILTINS applied to the
      code's values): the code's session evaluates all of it, and the cell says so.
    """
    try:
        value = ast.literal_eval(node)
    except Exception:
        source = _source(node, source_text)
        if _is_hole(node):
            return {"expr": source}
        holes = []
        try:
            template = ast.unparse(_template(node, holes, source_text))
            compile(template, "<test>", "eval")
        except _Whole:
            return {"code": source}
        return {"calc": {"template": template, "holes": holes, "whole": source}}
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


def evaluate_check(spec_json, values):
    """A check with templates (`plan_tests`' "calc" operands), on the decoded values of its
    operands, left's then right's: spec {"op", "left", "right", "split"}, where a side is its
    template over `__cf_h` (its values) or null for a single value, and `split` is how many of
    `values` are left's. Returns whether the comparison holds."""
    spec = json.loads(spec_json)
    split = spec["split"]
    sides = [(spec["left"], values[:split]), (spec.get("right"), values[split:])]
    operands = []
    for template, holes in sides:
        if template is None:
            operands.append(holes[0] if holes else None)
        else:
            # Only the builtins a template may name: the test wrote it, and tests are untrusted.
            scope = {"__builtins__": _TEMPLATE_SCOPE, _HOLES: holes}
            operands.append(eval(compile(template, "<test>", "eval"), scope))
    return compare(spec["op"], operands[0], operands[1])


_TEMPLATE_SCOPE = {name: getattr(builtins, name) for name in _TEMPLATE_BUILTINS}


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


# ====================================================================================== #
# Plain runs: an in-memory working directory (`/run_code`'s `files` and `fetch_files`)    #
# ====================================================================================== #
#
# The guest has no file system (the host gives it no directory). A run that comes with
# files gets an in-memory working directory `/` instead: `workspace_install` puts the files
# in it and replaces the functions programs reach files through (`open`, `io.open`,
# `os.stat`, `os.lstat`, `os.listdir`, `os.scandir`, `os.remove`, `os.unlink`, `os.mkdir`,
# `os.rmdir`, `os.rename`, `os.replace`, `os.getcwd`, `os.chdir`, `os.chmod`, `os.utime`;
# `os.path`, `os.makedirs`, `os.walk`, `shutil` and `pathlib` go through those). File
# descriptors (`os.open`, `fileno()`) are not emulated. Everything lives in the guest's
# memory, under the run's memory cap and fuel; the program may do anything to it, it only
# changes its own files.
# `workspace_collect` returns the files the request asked for once the program is over.


class _Workspace:
    """Files (absolute path -> bytes) and directories of the in-memory working directory."""

    def __init__(self, os_module):
        self.os = os_module
        self.files = {}
        self.dirs = {"/"}
        self.open_files = []
        self.cwd = "/"

    def path(self, name):
        """The absolute, normalized path of `name` (str, bytes or path-like), or None."""
        try:
            name = self.os.fspath(name)
        except TypeError:
            return None
        if isinstance(name, bytes):
            name = name.decode("utf-8", "surrogateescape")
        if not isinstance(name, str):
            return None
        import posixpath

        return posixpath.normpath(posixpath.join(self.cwd, name)).replace("//", "/")

    def parent_exists(self, path):
        import posixpath

        return posixpath.dirname(path) in self.dirs

    def add_file(self, path, data):
        import posixpath

        parent = posixpath.dirname(path)
        while parent not in self.dirs:
            self.dirs.add(parent)
            parent = posixpath.dirname(parent)
        self.files[path] = bytes(data)

    def sync(self):
        for handle in self.open_files:
            handle._store()

    def children(self, path):
        import posixpath

        names = [posixpath.basename(p) for p in list(self.files) + list(self.dirs)
                 if p != "/" and posixpath.dirname(p) == path]
        return sorted(names)


# CPython's messages for the errors the workspace raises (the guest's `os.strerror` follows
# WASI's numbering, where these codes mean other things).
_ERRNO_NAMES = {2: "ENOENT", 17: "EEXIST", 20: "ENOTDIR", 21: "EISDIR", 39: "ENOTEMPTY"}
_ERRNO_MESSAGES = {2: "No such file or directory", 17: "File exists", 20: "Not a directory",
                   21: "Is a directory", 39: "Directory not empty"}


def _errno_error(cls, code, name):
    """`cls` for errno `code` (given as Linux's number) on path `name`, with the guest's own
    errno value, as its real file functions would raise it."""
    import errno

    return cls(getattr(errno, _ERRNO_NAMES[code], code), _ERRNO_MESSAGES[code], name)


class _WorkspaceFile(io.BytesIO):
    """A binary file of the workspace: its contents are stored back on flush and close."""

    def __init__(self, workspace, path, name, mode, data, readable, writable, append):
        super().__init__(data)
        self._workspace = workspace
        self._path = path
        self._readable = readable
        self._writable = writable
        self._append = append
        self.name = name
        self.mode = mode
        if append:
            self.seek(0, 2)
        if writable:
            workspace.open_files.append(self)
            self._store()

    def _store(self):
        if self._writable and not self.closed and self._path is not None:
            self._workspace.files[self._path] = self.getvalue()

    def readable(self):
        self._check_open()
        return self._readable

    def writable(self):
        self._check_open()
        return self._writable

    def _check_open(self):
        if self.closed:
            raise ValueError("I/O operation on closed file.")

    def _check_readable(self):
        self._check_open()
        if not self._readable:
            raise io.UnsupportedOperation("read")

    def _check_writable(self):
        self._check_open()
        if not self._writable:
            raise io.UnsupportedOperation("write")

    def read(self, size=-1):
        self._check_readable()
        return super().read(size)

    def read1(self, size=-1):
        self._check_readable()
        return super().read1(size)

    def readinto(self, buffer):
        self._check_readable()
        return super().readinto(buffer)

    def readline(self, size=-1):
        self._check_readable()
        return super().readline(size)

    def readlines(self, hint=-1):
        self._check_readable()
        return super().readlines(hint)

    def write(self, data):
        self._check_writable()
        if self._append:
            self.seek(0, 2)
        return super().write(data)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def truncate(self, size=None):
        self._check_writable()
        return super().truncate(size)

    def flush(self):
        self._store()
        return super().flush()

    def close(self):
        if not self.closed:
            self._store()
            if self in self._workspace.open_files:
                self._workspace.open_files.remove(self)
        super().close()

    def fileno(self):
        raise io.UnsupportedOperation("fileno")

    def __repr__(self):
        return "<_io.BufferedReader name=%r>" % (self.name,)


class _StatResult(tuple):
    """What `os.stat` gives for a workspace entry (the fields programs read)."""

    st_mode = property(lambda self: self[0])
    st_ino = property(lambda self: self[1])
    st_dev = property(lambda self: self[2])
    st_nlink = property(lambda self: self[3])
    st_uid = property(lambda self: self[4])
    st_gid = property(lambda self: self[5])
    st_size = property(lambda self: self[6])
    st_atime = property(lambda self: self[7])
    st_mtime = property(lambda self: self[8])
    st_ctime = property(lambda self: self[9])


class _DirEntry:
    """What `os.scandir` yields for a workspace entry."""

    def __init__(self, workspace, directory, name, given):
        import posixpath

        self._workspace = workspace
        self._full = posixpath.join(directory, name)
        self.name = name
        self.path = name if given in (None, "", ".") else posixpath.join(given, name)

    def is_dir(self, follow_symlinks=True):
        return self._full in self._workspace.dirs

    def is_file(self, follow_symlinks=True):
        return self._full in self._workspace.files

    def is_symlink(self):
        return False

    def stat(self, follow_symlinks=True):
        import os

        return os.stat(self._full)

    def __fspath__(self):
        return self.path

    def __repr__(self):
        return "<DirEntry %r>" % (self.name,)


class _ScandirIterator:
    def __init__(self, entries):
        self._entries = iter(entries)

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._entries)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._entries = iter(())


def workspace_install(header):
    """Creates the working directory from the run's header (JSON: `files`, path -> base64;
    `fetch`, the paths `workspace_collect` returns; empty: neither) and replaces the file
    functions with the workspace's."""
    import os

    # An empty header is an empty workspace (most runs: it saves parsing JSON).
    request = json.loads(header) if header else {}
    workspace = _Workspace(os)
    workspace.original_open, workspace.original_stat = io.open, os.stat
    workspace.original_listdir = os.listdir
    # Resolved now: a program that changes directory does not move what is handed back.
    workspace.fetch = [(str(name), workspace.path(str(name)))
                       for name in request.get("fetch", [])]
    for name, data in request.get("files", {}).items():
        path = workspace.path(name)
        if path is not None and path != "/":
            # Imported only when there are files: binascii is not in the snapshot, and
            # importing it costs about 1 M fuel, more than the rest of the install.
            import binascii

            workspace.add_file(path, binascii.a2b_base64(data))
    global _WORKSPACE
    _WORKSPACE = workspace
    builtins.open = _ws_open
    io.open = _ws_open
    # One update, not a setattr per function: about 80 K fuel less on every run.
    os.__dict__.update(_WORKSPACE_FUNCTIONS)


# The replacements, defined once (in the snapshot), not per run: they read the run's
# workspace from `_WORKSPACE`.


def _ws_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None,
             closefd=True, opener=None):
    path = None if isinstance(file, int) or opener is not None else _WORKSPACE.path(file)
    if path is None:
        return _WORKSPACE.original_open(file, mode, buffering, encoding, errors, newline, closefd,
                             opener)
    if (not isinstance(mode, str) or not set(mode) <= set("rwxabt+")
            or len(set(mode)) != len(mode)):
        raise ValueError("invalid mode: %r" % (mode,))
    kinds = [c for c in mode if c in "rwxa"]
    if len(kinds) != 1 or ("b" in mode and "t" in mode):
        raise ValueError("must have exactly one of create/read/write/append mode")
    kind, plus, binary = kinds[0], "+" in mode, "b" in mode
    if binary and (encoding is not None or errors is not None or newline is not None):
        raise ValueError("binary mode doesn't take an encoding, errors or newline argument")
    if path in _WORKSPACE.dirs:
        raise _errno_error(IsADirectoryError, 21, file)
    exists = path in _WORKSPACE.files
    if kind == "r" and not exists:
        raise _errno_error(FileNotFoundError, 2, file)
    if kind == "x" and exists:
        raise _errno_error(FileExistsError, 17, file)
    if not exists and not _WORKSPACE.parent_exists(path):
        raise _errno_error(FileNotFoundError, 2, file)
    data = _WORKSPACE.files.get(path, b"") if kind in "ra" else b""
    if kind in "wx":
        _WORKSPACE.files[path] = b""
    raw_mode = {"r": "rb", "w": "wb", "x": "xb", "a": "ab"}[kind] + ("+" if plus else "")
    handle = _WorkspaceFile(_WORKSPACE, path, file, raw_mode, data,
                            readable=kind == "r" or plus, writable=kind != "r" or plus,
                            append=kind == "a")
    if binary:
        return handle
    text = io.TextIOWrapper(handle, encoding or "utf-8", errors, newline,
                            line_buffering=False, write_through=True)
    text.mode = mode
    return text


def _ws_stat(path, *, dir_fd=None, follow_symlinks=True):
    full = _WORKSPACE.path(path) if not isinstance(path, int) else None
    if full in _WORKSPACE.files:
        return _StatResult((0o100644, 0, 0, 1, 0, 0, len(_WORKSPACE.files[full]), 0, 0, 0))
    if full in _WORKSPACE.dirs:
        return _StatResult((0o040755, 0, 0, 2, 0, 0, 4096, 0, 0, 0))
    if full is not None:
        raise _errno_error(FileNotFoundError, 2, path)
    return _WORKSPACE.original_stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)


def _ws_lstat(path, *, dir_fd=None):
    return _ws_stat(path, dir_fd=dir_fd)


def _ws_listdir(path="."):
    full = _WORKSPACE.path(path) if not isinstance(path, int) else None
    if full in _WORKSPACE.dirs:
        names = _WORKSPACE.children(full)
        return [n.encode() for n in names] if isinstance(path, bytes) else names
    if full in _WORKSPACE.files:
        raise _errno_error(NotADirectoryError, 20, path)
    if full is not None:
        raise _errno_error(FileNotFoundError, 2, path)
    return _WORKSPACE.original_listdir(path)


def _ws_scandir(path="."):
    full = _WORKSPACE.path(path)
    if full in _WORKSPACE.dirs:
        given = _WORKSPACE.os.fspath(path)
        return _ScandirIterator([_DirEntry(_WORKSPACE, full, n, given)
                                 for n in _WORKSPACE.children(full)])
    if full in _WORKSPACE.files:
        raise _errno_error(NotADirectoryError, 20, path)
    raise _errno_error(FileNotFoundError, 2, path)


def _ws_remove(path, *, dir_fd=None):
    full = _WORKSPACE.path(path)
    if full in _WORKSPACE.dirs:
        raise _errno_error(IsADirectoryError, 21, path)
    if full not in _WORKSPACE.files:
        raise _errno_error(FileNotFoundError, 2, path)
    del _WORKSPACE.files[full]


def _ws_mkdir(path, mode=0o777, *, dir_fd=None):
    full = _WORKSPACE.path(path)
    if full in _WORKSPACE.dirs or full in _WORKSPACE.files:
        raise _errno_error(FileExistsError, 17, path)
    if not _WORKSPACE.parent_exists(full):
        raise _errno_error(FileNotFoundError, 2, path)
    _WORKSPACE.dirs.add(full)


def _ws_rmdir(path, *, dir_fd=None):
    full = _WORKSPACE.path(path)
    if full in _WORKSPACE.files:
        raise _errno_error(NotADirectoryError, 20, path)
    if full not in _WORKSPACE.dirs or full == "/":
        raise _errno_error(FileNotFoundError, 2, path)
    if _WORKSPACE.children(full):
        raise _errno_error(OSError, 39, path)
    _WORKSPACE.dirs.discard(full)


def _ws_rename(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
    source, target = _WORKSPACE.path(src), _WORKSPACE.path(dst)
    if source in _WORKSPACE.files:
        if target in _WORKSPACE.dirs:
            raise _errno_error(IsADirectoryError, 21, dst)
        if not _WORKSPACE.parent_exists(target):
            raise _errno_error(FileNotFoundError, 2, dst)
        _WORKSPACE.sync()
        _WORKSPACE.files[target] = _WORKSPACE.files.pop(source)
        return
    if source in _WORKSPACE.dirs and source != "/":
        if target in _WORKSPACE.files or target in _WORKSPACE.dirs:
            raise _errno_error(FileExistsError, 17, dst)
        if not _WORKSPACE.parent_exists(target) or target.startswith(source + "/"):
            raise _errno_error(FileNotFoundError, 2, dst)
        prefix = source + "/"
        _WORKSPACE.sync()
        _WORKSPACE.dirs = {target + d[len(source):] if d == source or d.startswith(prefix)
                           else d for d in _WORKSPACE.dirs}
        _WORKSPACE.files = {target + f[len(source):] if f.startswith(prefix) else f: v
                            for f, v in _WORKSPACE.files.items()}
        return
    raise _errno_error(FileNotFoundError, 2, src)


def _ws_getcwd():
    return _WORKSPACE.cwd


def _ws_chdir(path):
    full = _WORKSPACE.path(path)
    if full in _WORKSPACE.files:
        raise _errno_error(NotADirectoryError, 20, path)
    if full not in _WORKSPACE.dirs:
        raise _errno_error(FileNotFoundError, 2, path)
    _WORKSPACE.cwd = full


def _ws_chmod(path, mode, *, dir_fd=None, follow_symlinks=True):
    _ws_stat(path)  # permissions are not kept; a missing path is still an error


def _ws_utime(path, times=None, *, ns=None, dir_fd=None, follow_symlinks=True):
    _ws_stat(path)  # times are not kept


_WORKSPACE_FUNCTIONS = {"stat": _ws_stat, "lstat": _ws_lstat, "listdir": _ws_listdir,
                        "scandir": _ws_scandir, "remove": _ws_remove, "unlink": _ws_remove,
                        "mkdir": _ws_mkdir, "rmdir": _ws_rmdir, "rename": _ws_rename,
                        "replace": _ws_rename, "getcwd": _ws_getcwd, "chdir": _ws_chdir,
                        "chmod": _ws_chmod, "utime": _ws_utime}
# Named as the functions they stand in for (`open.__name__` is "open", as in CPython).
_ws_open.__name__ = _ws_open.__qualname__ = "open"
for _name, _function in _WORKSPACE_FUNCTIONS.items():
    if _name not in ("unlink", "replace"):  # aliases of remove and rename
        _function.__name__ = _function.__qualname__ = _name
del _name, _function

_WORKSPACE = None


def workspace_collect():
    """The contents of each file the header's `fetch` names that exists once the program is
    over, as a list of (name, bytes); files still open are included as last written."""
    workspace = _WORKSPACE
    if workspace is None:
        return []
    workspace.sync()
    found = []
    for name, path in workspace.fetch:
        if path in workspace.files:
            found.append((name, bytes(workspace.files[path])))
    return found
