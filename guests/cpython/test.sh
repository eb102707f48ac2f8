#!/usr/bin/env bash
# Builds codefuel with the CPython guest and runs the tests that use it: the sandbox's
# guarantees under CPython (tests/all/cpython.rs) and `codefuel run --guest cpython` (the CLI
# tests), with clippy over the code the `cpython` feature adds. Installs the guest's Debian
# toolchain first when it is missing (install-deps.sh; needs root or sudo).
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "$(id -u)" = 0 ]; then
    bash guests/cpython/install-deps.sh
else
    sudo bash guests/cpython/install-deps.sh
fi
cargo clippy -p codefuel-tests -p codefuel-cli --all-targets \
    --features codefuel-tests/cpython,codefuel-cli/cpython -- -D warnings
cargo test -p codefuel-tests --features cpython --test all cpython
cargo test -p codefuel-cli --features cpython --test cli
