# Calls and returns through the guest's fast paths (data-stack frames, the trampoline, frame
# release): what they must keep exactly as CPython does. Expected output: native CPython 3.11.
import gc
import sys
import traceback


def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)


def recursion_limit():
    # Far past any data-stack chunk boundary, again and again.
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(4000)
    try:
        out = [depth(3000) for _ in range(3)]
        try:
            depth(10**6)
        except RecursionError:
            out.append("RecursionError")
        out.append(depth(2500))  # and it still works after the error
    finally:
        sys.setrecursionlimit(old)
    return out


def lowered_limit():
    old = sys.getrecursionlimit()

    def inner(n):
        if n == 20:
            sys.setrecursionlimit(60)
        return inner(n + 1)

    try:
        inner(0)
    except RecursionError:
        result = "RecursionError"
    finally:
        sys.setrecursionlimit(old)
    return result


def level3(x):
    return 10 // x


def level2(x):
    return level3(x - 1) + 1


def level1(x):
    return level2(x) * 2


def tracebacks():
    try:
        level1(1)
    except ZeroDivisionError:
        tb = traceback.extract_tb(sys.exc_info()[2])
        return [(frame.name, frame.lineno) for frame in tb]


def caught_in_caller():
    out = []
    for i in range(3):
        try:
            out.append(level1(i))
        except ZeroDivisionError as e:
            out.append(type(e).__name__)
    try:
        try:
            level1(1)
        except ZeroDivisionError:
            level1("x")
    except TypeError as e:
        out.append((type(e).__name__, type(e.__context__).__name__))
    return out


def frames(n):
    if n == 0:
        names = []
        for k in range(7):  # not a comprehension: those are frames only before 3.12
            names.append(sys._getframe(k).f_code.co_name)
        return names + [sys._getframe(1).f_locals["n"], sys._getframe(2).f_lineno]
    return frames(n - 1)


def escaping():
    def inner(a, b):
        c = a + b
        return sys._getframe()

    f = inner(2, 3)
    return f.f_code.co_name, f.f_back.f_code.co_name, sorted(f.f_locals.items())


def with_locals(a, b=5):
    c = a * b
    return sorted(locals().items())


def closures():
    def make(k):
        def add(x):
            return x + k

        return add

    adders = [make(k) for k in range(5)]
    return [f(10) for f in adders]


class Point:
    def __init__(self, x, y):
        self.x = x
        self.y = y

    def norm1(self):
        return abs(self.x) + abs(self.y)

    def scaled(self, k):
        return Point(self.x * k, self.y * k)


def methods():
    p = Point(3, -4)
    return [p.scaled(k).norm1() for k in range(4)]


def handles_inside():
    try:
        raise KeyError("inner")
    except KeyError:
        return "handled"


def exc_info_after_call():
    try:
        raise ValueError("outer")
    except ValueError:
        handles_inside()
        return repr(sys.exc_info()[1])


def gen(n):
    for i in range(n):
        yield i * i


def delegate(n):
    yield from gen(n)
    yield -1


def generators():
    def consume(n):
        return sum(gen(n))

    return consume(10), list(delegate(4))


class Noisy:
    log = []

    def __del__(self):
        Noisy.log.append(sys._getframe().f_back is not None)


def drop_noisy():
    n = Noisy()
    return 1


def destructors():
    total = sum(drop_noisy() for _ in range(3))
    gc.collect()
    return total, Noisy.log


def tracing():
    events = []

    def tracer(frame, event, arg):
        if frame.f_code.co_name in ("traced", "depth"):
            events.append((event, frame.f_code.co_name))
        return tracer

    def traced(n):
        return depth(n) + 1

    sys.settrace(tracer)
    try:
        traced(2)
    finally:
        sys.settrace(None)
    return events


def keywords_and_defaults():
    def f(a, b=2, *args, c=3, **kw):
        return a, b, args, c, sorted(kw.items())

    return [f(1), f(1, 5), f(1, 5, 6, 7), f(1, c=9, z=0)]


for name, fn in [
    ("recursion_limit", recursion_limit),
    ("lowered_limit", lowered_limit),
    ("tracebacks", tracebacks),
    ("caught_in_caller", caught_in_caller),
    ("frames", lambda: frames(5)),
    ("escaping", escaping),
    ("with_locals", lambda: with_locals(3)),
    ("closures", closures),
    ("methods", methods),
    ("exc_info_after_call", exc_info_after_call),
    ("generators", generators),
    ("destructors", destructors),
    ("tracing", tracing),
    ("keywords_and_defaults", keywords_and_defaults),
]:
    print(name, fn())
