#!/usr/bin/env bash
# Builds codefuel with the CPython guest and runs the tests that use it: the whole sandbox
# suite (tests/all, sessions and attack tests included) on the CPython guest, the checks that
# both guests answer alike (tests/all/cpython.rs), the CLI tests and the attacks on the
# verdicts (harness/cli/tests/adversarial.rs) on the CPython guest, with clippy over the
# code the `cpython` feature adds. Installs the guest's Debian
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
CODEFUEL_TEST_GUEST=cpython cargo test -p codefuel-tests --features cpython --test all
cargo test -p codefuel-cli --features cpython --test cli
CODEFUEL_TEST_GUEST=cpython cargo test -p codefuel-cli --features cpython --test adversarial
