"""Generate frozen_stdlib.c: every selected pure-Python stdlib module of Lib/ as marshalled
code, in a `struct _frozen` table the embedder installs as PyImport_FrozenModules.

Usage: python3.11 gen_frozen.py <Lib dir> <out.c> [<out.txt module list> [NAME=PATH ...]]
Must run under a CPython 3.11.x (same bytecode magic 3495 as the 3.11.2 guest).
"""
import marshal, os, sys

assert sys.version_info[:2] == (3, 11), sys.version
lib, out = sys.argv[1], sys.argv[2]
# Packages and modules left out: tests, GUI, things that need C modules the WASI build lacks,
# and tooling no sandboxed program needs.
SKIP_DIRS = {"test", "tests", "idle_test", "idlelib", "tkinter", "turtledemo", "ensurepip",
             "site-packages", "__pycache__", "lib2to3", "pydoc_data", "ctypes", "sqlite3",
             "curses", "dbm", "msilib", "venv", "distutils", "__phello__", "unittest/test"}
SKIP_MODULES = {"turtle", "antigravity", "this", "__hello__", "pydoc"}

entries = []
for root, dirs, files in os.walk(lib):
    rel = os.path.relpath(root, lib)
    dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS
                     and os.path.join(rel, d).lstrip("./") not in SKIP_DIRS
                     and os.path.exists(os.path.join(root, d, "__init__.py")))
    pkg = "" if rel == "." else rel.replace(os.sep, ".")
    for f in sorted(files):
        if not f.endswith(".py"):
            continue
        stem = f[:-3]
        if f == "__init__.py":
            name, is_pkg = pkg, True
        else:
            name, is_pkg = (pkg + "." + stem) if pkg else stem, False
        if not name or name in SKIP_MODULES or "-" in stem:
            continue
        path = os.path.join(root, f)
        with open(path, "rb") as fh:
            src = fh.read()
        try:
            code = compile(src, f"<frozen {name}>", "exec", dont_inherit=True, optimize=0)
        except SyntaxError as e:
            print("skip (syntax):", name, e, file=sys.stderr)
            continue
        entries.append((name, is_pkg, marshal.dumps(code)))

# Extra modules outside Lib/: NAME=PATH arguments after the outputs (e.g. the build's
# _sysconfigdata__wasi_wasm32-wasi, which sysconfig, hence zoneinfo, imports).
for arg in sys.argv[4:]:
    name, path = arg.split("=", 1)
    with open(path, "rb") as fh:
        code = compile(fh.read(), f"<frozen {name}>", "exec", dont_inherit=True)
    entries.append((name, False, marshal.dumps(code)))

entries.sort()
blob = bytearray()
rows = []
for name, is_pkg, data in entries:
    rows.append((name, is_pkg, len(blob), len(data)))
    blob += data

def c_string(data):
    # Octal escapes in a string literal compile far faster than a huge array initializer.
    out = []
    for i in range(0, len(data), 4096):
        chunk = data[i:i + 4096]
        out.append('"' + "".join(f"\\{b:03o}" for b in chunk) + '"')
    return "\n".join(out)

with open(out, "w") as fh:
    fh.write('#include "Python.h"\n\n')
    fh.write(f"/* {len(rows)} modules, {len(blob)} bytes of marshalled code */\n")
    fh.write(f"static const unsigned char blob[{len(blob) + 1}] =\n{c_string(bytes(blob))};\n\n")
    fh.write("const struct _frozen codefuel_frozen_modules[] = {\n")
    for name, is_pkg, off, size in rows:
        fh.write(f'    {{"{name}", blob + {off}, {size}, {int(is_pkg)}, NULL}},\n')
    fh.write("    {0, 0, 0, 0, NULL}\n};\n")
if len(sys.argv) > 3:
    with open(sys.argv[3], "w") as fh:
        fh.write("".join(f"{n}\n" for n, _, _, _ in rows))
print(f"{len(rows)} modules, {len(blob)} bytes", file=sys.stderr)
