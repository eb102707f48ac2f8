"""How far the guests are from native CPython: the workloads of the issue "Guests at the
physical limit", each run natively (`python3`) and in each guest with fuel (`codefuel run
--guest rustpython|cpython`), printed as the guest's time over native time, with its fuel.

Native time: the program's wall time minus an empty program's (interpreter start-up).
Guest time: `codefuel run --json`'s `wall`, the run itself (a fresh sandbox from the
snapshot), minus an empty program's. Each figure is the best of `--repeat` runs. Run it on a
quiet machine: both sides are wall-clock. The CPython guest's columns show "-" when the
binary was built without it (`--features cpython`, guests/cpython/README.md).

    cargo build --release -p codefuel-cli [--features cpython]
    python benchmarks/guest_speed.py [--repeat 3] [--python python3]

Targets: no workload above 5x native for the default guest, repeated concatenation linear
(10^5 appends in well under 50 ms of guest time). Native times are the noisy side (a few
tens of ms); for ratios near a target, take `--repeat 10`.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import common  # noqa: E402

WORKLOADS = {
    "module-level loop (10^7 s += i)": "s = 0\nfor i in range(10**7):\n    s += i\nprint(s)\n",
    "same loop in a function": (
        "def f():\n    s = 0\n    for i in range(10**7):\n        s += i\n    return s\nprint(f())\n"
    ),
    "fib(25) + fib(30)": (
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\nprint(fib(25) + fib(30))\n"
    ),
    "strings: += 300k, join, f-strings": (
        "def f():\n    s = ''\n    for i in range(300000):\n        s += str(i) + ','\n"
        "    t = ','.join(str(i) for i in range(300000))\n"
        "    u = [f'{i}:{i * 2:>8}' for i in range(300000)]\n"
        "    return len(s) + len(t) + len(u)\nprint(f())\n"
    ),
    "dict/list work": (
        "def f():\n    d = {}\n    for i in range(300000):\n        d[i % 1000] = d.get(i % 1000, 0) + i\n"
        "    xs = sorted(range(300000), key=lambda x: -x)\n"
        "    ys = [x * 2 for x in xs if x % 3]\n    return sum(d.values()) + len(ys)\nprint(f())\n"
    ),
    "s += 'ab' x 10^5 in a function": (
        "def f():\n    s = ''\n    for i in range(100000):\n        s += 'ab'\n    return len(s)\nprint(f())\n"
    ),
    "b += b'ab' x 10^5 in a function": (
        "def f():\n    b = b''\n    for i in range(100000):\n        b += b'ab'\n    return len(b)\nprint(f())\n"
    ),
}


def native_seconds(python, path):
    started = time.perf_counter()
    subprocess.run([python, path], check=True, capture_output=True)
    return time.perf_counter() - started


def guest_run(codefuel, path, guest="rustpython"):
    """(wall seconds, fuel) of one run; None when the binary was built without `guest`."""
    proc = subprocess.run([codefuel, "run", "--json", "--guest", guest, "--fuel", str(10**12), path],
                          capture_output=True)
    if proc.returncode == 2 and b"built without" in proc.stderr:
        return None
    result = json.loads(proc.stdout)
    if result["verdict"] != "completed":
        raise SystemExit("%s: %s" % (path, result["verdict"]))
    return result["wall"], result["fuel"]


def main():
    parser = common.arg_parser(__doc__, paths=("codefuel",))
    parser.add_argument("--python", default="python3", help="native CPython (default python3)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        def write(name, source):
            path = os.path.join(tmp, name + ".py")
            with open(path, "w") as f:
                f.write(source)
            return path

        empty = write("empty", "pass\n")
        native_base = min(native_seconds(args.python, empty) for _ in range(args.repeat))
        guests = [g for g in ("rustpython", "cpython") if guest_run(args.codefuel, empty, g)]
        guest_base = {g: min(guest_run(args.codefuel, empty, g)[0] for _ in range(args.repeat))
                      for g in guests}
        header = "%-36s %9s" % ("workload", "native s")
        for g in ("rustpython", "cpython"):
            header += " %11s %7s %15s" % (g + " s", "ratio", g[:6] + " fuel")
        print(header)
        for i, (name, source) in enumerate(WORKLOADS.items()):
            path = write("w%d" % i, source)
            native = min(native_seconds(args.python, path) for _ in range(args.repeat)) - native_base
            line = "%-36s %9.3f" % (name, native)
            for g in ("rustpython", "cpython"):
                if g not in guests:
                    line += " %11s %7s %15s" % ("-", "-", "-")
                    continue
                runs = [guest_run(args.codefuel, path, g) for _ in range(args.repeat)]
                guest = min(wall for wall, _ in runs) - guest_base[g]
                fuel = runs[0][1]
                assert all(f == fuel for _, f in runs), "fuel differs between runs"
                # Under 10 ms, native time is lost in the start-up's noise: no ratio.
                ratio = "%6.1fx" % (guest / native) if native >= 0.01 else "%7s" % "-"
                line += " %11.3f %s %15s" % (guest, ratio, format(fuel, ","))
            print(line)


if __name__ == "__main__":
    main()
