#!/usr/bin/env bash
# Install the Debian 12 (bookworm) packages that guests/cpython/build.sh needs:
# the wasm32-wasi C toolchain (clang-16, lld-16, llvm-16, wasi-libc,
# libclang-rt-16-dev-wasm32), the usual build tools, and python3.11 as the build python
# when no CPython 3.11.x is on PATH. Idempotent: exits 0 at once when all are installed.
#
#   sudo bash guests/cpython/install-deps.sh
set -euo pipefail

PKGS=(clang-16 lld-16 llvm-16 wasi-libc libclang-rt-16-dev-wasm32 make patch curl ca-certificates)

say() { printf 'install-deps: %s\n' "$*" >&2; }

command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 \
    || { say "error: needs a Debian 12 (bookworm) system with apt-get"; exit 1; }

have_py311() {
    local c
    for c in $(type -ap python3.11 python3 2>/dev/null || true); do
        "$c" -I -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null && return 0
    done
    return 1
}
have_py311 || PKGS+=(python3.11)

missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    say "all installed: ${PKGS[*]}"
    exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { say "error: run as root to install: ${missing[*]}"; exit 1; }
    SUDO=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive

# Refresh the package lists first only if apt does not know one of the packages yet.
for p in "${missing[@]}"; do
    candidate=$(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ { print $2 }')
    if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
        say "apt-get update ($p not found in the package lists)"
        "${SUDO[@]}" apt-get update -q
        break
    fi
done

say "installing: ${missing[*]}"
"${SUDO[@]}" apt-get install -y -q "${missing[@]}"
say "done"
