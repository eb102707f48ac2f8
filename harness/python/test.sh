#!/usr/bin/env bash
# Builds the `codefuel` Python package into a venv and runs its pytest suite. Called by
# .ci/run after `cargo test --workspace` (whose build it reuses: the same target directory
# and dev profile, so only pyo3 and the bindings compile here).
#
#   bash harness/python/test.sh [pytest args...]
#
# The venv is target/python-venv (made once, from the package registry); set
# CODEFUEL_PYTHON to the interpreter that makes it (default python3, >= 3.9).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="$root/target/python-venv"
if [ ! -x "$venv/bin/python" ]; then
    "${CODEFUEL_PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q "maturin>=1.9.4,<2" "pytest>=7"
    # Ray for examples/ray (tests/test_ray.py); the suite skips it where Ray does not install.
    "$venv/bin/python" -m pip install -q "ray[data]>=2.9" \
        || echo "test.sh: Ray did not install; tests/test_ray.py will be skipped" >&2
fi
# `maturin develop` builds the extension in place and installs the package (editable: the
# pure-Python half is read from harness/python/python).
VIRTUAL_ENV="$venv" PATH="$venv/bin:$PATH" \
    maturin develop --quiet --manifest-path "$root/harness/python/Cargo.toml"
cd "$root"
exec "$venv/bin/python" -m pytest -q harness/python/tests "$@"
