#!/usr/bin/env bash
# Build codefuel's CPython 3.11 guest: OUT_DIR/guest-cpython.wasm.
#
#   bash guests/cpython/build.sh OUT_DIR
#
# Inputs, all from Debian 12 (bookworm) only:
#   * the toolchain: clang-16 lld-16 llvm-16 wasi-libc libclang-rt-16-dev-wasm32
#     (bash guests/cpython/install-deps.sh installs them);
#   * CPython's source: Debian's python3.11_3.11.2.orig.tar.gz (= upstream 3.11.2, no Debian
#     patches), fetched from the mirror apt uses and checked against a pinned sha256;
#   * a Python 3.11.x to run the build's generators (python3.11 or python3 on PATH; an exact
#     3.11.2, e.g. Debian 12's /usr/bin/python3.11, is preferred).
#
# Steps: unpack, apply patches/*.patch, configure for wasm32-wasi, make libpython3.11.a,
# freeze the pure-Python stdlib (gen_frozen.py), compile src/*.c (with the driver), link with an 8 MiB stack.
# Configure + make (~2-3 min) are skipped when the work directory already holds a complete
# build of the same inputs (tarball, patches, configure flags, build python, toolchain);
# the frozen stdlib is regenerated when its inputs change; src/*.c are always recompiled and
# the guest relinked (seconds).
#
# Environment:
#   CODEFUEL_CPYTHON_WORK          work directory (default: guests/cpython/target)
#   CODEFUEL_CPYTHON_JOBS          make -j (default 2)
#   CODEFUEL_CPYTHON_BUILD_PYTHON  the Python 3.11.x to build with (default: found on PATH)
#   CODEFUEL_CPYTHON_STACK         shadow-stack size in bytes (default 8 MiB)
#
# Exit status: 0 built; 2 missing Debian packages or build python; 64 usage; 1 any other error.
# Progress goes to stderr; tool output goes to logs in the work directory, and the tail of
# the failing log is printed on error. Nothing is written to stdout.
set -euo pipefail

# ---- pinned inputs ------------------------------------------------------------------------
PY_VERSION=3.11.2
TARBALL=python3.11_3.11.2.orig.tar.gz
TARBALL_SHA256=2411c74bda5bbcfcddaf4531f66d1adc73f247f529aee981b029513aefdbf849
POOL_PATH=pool/main/p/python3.11/$TARBALL
# Fallback: `apt-get source` of a Debian source package whose orig tarball is the one above.
DEBIAN_SRC_VERSION=3.11.2-6+deb12u8
DEFAULT_MIRROR=http://deb.debian.org/debian
REQUIRED_PKGS=(clang-16 lld-16 llvm-16 wasi-libc libclang-rt-16-dev-wasm32)
# Bump when the libpython recipe changes in a way the stamp below does not see.
LIB_RECIPE=1

# ---- helpers ------------------------------------------------------------------------------
log() { printf 'cpython-guest [%3ds]: %s\n' "$SECONDS" "$*" >&2; }
die() { printf 'cpython-guest: error: %s\n' "$*" >&2; exit 1; }
sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: bash guests/cpython/build.sh OUT_DIR   (writes OUT_DIR/guest-cpython.wasm)" >&2
    exit 64
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$1"
OUT_DIR=$(cd "$1" && pwd)
WORK=${CODEFUEL_CPYTHON_WORK:-$HERE/target}
JOBS=${CODEFUEL_CPYTHON_JOBS:-2}
STACK=${CODEFUEL_CPYTHON_STACK:-8388608}
case $JOBS in '' | *[!0-9]*) die "CODEFUEL_CPYTHON_JOBS must be a number, got '$JOBS'" ;; esac
case $STACK in '' | *[!0-9]*) die "CODEFUEL_CPYTHON_STACK must be a number, got '$STACK'" ;; esac

# ---- 1. toolchain -------------------------------------------------------------------------
missing=()
if command -v dpkg-query >/dev/null 2>&1; then
    for p in "${REQUIRED_PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("package $p")
    done
fi
for f in /usr/bin/clang-16 /usr/bin/wasm-ld-16 /usr/bin/llvm-ar-16 /usr/bin/llvm-ranlib-16 \
    /usr/include/wasm32-wasi/stdio.h /usr/lib/wasm32-wasi/libc.a \
    /usr/lib/llvm-16/lib/clang/16/lib/wasi/libclang_rt.builtins-wasm32.a; do
    [ -e "$f" ] || missing+=("$f")
done
for c in make patch tar gzip sha256sum; do
    command -v "$c" >/dev/null 2>&1 || missing+=("command $c")
done
if [ ${#missing[@]} -gt 0 ]; then
    {
        echo "cpython-guest: the CPython guest needs Debian 12's wasm32-wasi toolchain; missing:"
        printf '    %s\n' "${missing[@]}"
        echo "Install it with:  sudo bash guests/cpython/install-deps.sh"
        echo "(or set CODEFUEL_CPYTHON_WASM to a prebuilt guest-cpython.wasm; see guests/cpython/README.md)"
    } >&2
    exit 2
fi

# ---- 2. build python: a CPython 3.11.x, preferably exactly 3.11.2 -------------------------
if [ -n "${CODEFUEL_CPYTHON_BUILD_PYTHON:-}" ]; then
    candidates=("$CODEFUEL_CPYTHON_BUILD_PYTHON")
else
    mapfile -t candidates < <(type -ap python3.11 python3 2>/dev/null || true)
fi
BUILD_PY= BUILD_PY_VER= seen=()
for c in "${candidates[@]}"; do
    info=$(env -u PYTHONPATH -u PYTHONHOME "$c" -I -c \
        'import sys, platform; print("%d.%d.%d" % sys.version_info[:3], platform.python_implementation(), sys.executable)' \
        2>/dev/null) || { seen+=("$c (does not run)"); continue; }
    read -r ver impl exe <<<"$info"
    seen+=("$c ($impl $ver)")
    [ "$impl" = CPython ] && [ -x "$exe" ] || continue
    case $ver in
        "$PY_VERSION") BUILD_PY=$exe BUILD_PY_VER=$ver; break ;;
        3.11.*) [ -n "$BUILD_PY" ] || { BUILD_PY=$exe BUILD_PY_VER=$ver; } ;;
    esac
done
if [ -z "$BUILD_PY" ]; then
    {
        echo "cpython-guest: building needs a CPython 3.11.x (python3.11 or python3 on PATH, or"
        echo "CODEFUEL_CPYTHON_BUILD_PYTHON=/path/to/python3.11); found:"
        if [ ${#seen[@]} -gt 0 ]; then printf '    %s\n' "${seen[@]}"; else echo "    none"; fi
        echo "On Debian 12: sudo bash guests/cpython/install-deps.sh (installs python3.11)."
    } >&2
    exit 2
fi

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# One build at a time per work directory (cargo may build debug and release at once).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$WORK/.lock"
    if ! flock -n 9; then
        log "waiting for another build in $WORK"
        flock 9
    fi
fi
mkdir -p "$WORK/download" "$WORK/logs" "$WORK/guest"
log "work dir $WORK; build python $BUILD_PY ($BUILD_PY_VER)"
[ "$BUILD_PY_VER" = "$PY_VERSION" ] \
    || log "note: build python is $BUILD_PY_VER, not $PY_VERSION: works (same bytecode), but the guest's bytes differ from a $PY_VERSION-built one"

# Configure, make and the generators run in a clean environment: nothing of the caller's
# (CFLAGS, MAKEFLAGS, cargo's variables, PYTHONPATH, ...) leaks into the build.
# PYTHONHASHSEED=0: set/frozenset constants are marshalled in hash order. SOURCE_DATE_EPOCH:
# clang's __DATE__/__TIME__ (sys.version's build date) = 3.11.2's release day, not today.
FIXED_ENV=(LANG=C.UTF-8 LC_ALL=C.UTF-8 PYTHONHASHSEED=0 SOURCE_DATE_EPOCH=1675814400)
CLEAN_ENV=(env -i "PATH=$PATH" "HOME=${HOME:-/nonexistent}" "TMPDIR=${TMPDIR:-/tmp}" "${FIXED_ENV[@]}")

# Run a command with its output in $WORK/logs/NAME.log; on failure show the log's tail.
run_logged() {
    local name=$1 logf="$WORK/logs/$1.log"
    shift
    if ! "$@" >"$logf" 2>&1; then
        echo "cpython-guest: error: $name failed; last lines of $logf:" >&2
        tail -n 25 "$logf" >&2
        exit 1
    fi
}

# ---- 3. source tarball --------------------------------------------------------------------
# Candidate archive URLs: the Debian mirrors apt uses (one-line and deb822 sources), then
# deb.debian.org. The security archive is skipped (its pool path differs).
apt_mirrors() {
    local f u
    {
        for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
            [ -r "$f" ] || continue
            sed -E 's/#.*//; s/\[[^]]*\]//g' "$f" | awk '$1 == "deb" || $1 == "deb-src" { print $2 }'
        done
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -r "$f" ] || continue
            sed -E 's/#.*//' "$f" | awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }'
        done
        echo "$DEFAULT_MIRROR"
    } | while read -r u; do
        case $u in
            # apt's mirror method (Debian cloud images): the first mirror of the list file
            mirror+file:*) grep -Eo '(https?|file)://[^[:space:]]+' "${u#mirror+file:}" 2>/dev/null | head -n 1 || true ;;
            http://* | https://* | file:/*) echo "$u" ;;
        esac
    done | sed -E 's#/+$##' | awk 'NF && $0 !~ /-security$/ && !seen[$0]++'
}

fetch_from_mirrors() {
    local dest=$1 part="$1.part" mirror proxy_args=()
    command -v curl >/dev/null 2>&1 || { log "curl not found; skipping direct download"; return 1; }
    # apt's own HTTP proxy, if it has one and the environment names none.
    if [ -z "${http_proxy:-}" ] && command -v apt-config >/dev/null 2>&1; then
        local APT_PROXY=
        eval "$(apt-config shell APT_PROXY Acquire::http::Proxy 2>/dev/null)" || true
        [ -z "$APT_PROXY" ] || [ "$APT_PROXY" = DIRECT ] || proxy_args=(--proxy "$APT_PROXY")
    fi
    while read -r mirror; do
        log "downloading $mirror/$POOL_PATH"
        if curl -fsSL --retry 2 --connect-timeout 20 "${proxy_args[@]}" -o "$part" "$mirror/$POOL_PATH"; then
            mv "$part" "$dest"
            return 0
        fi
        rm -f "$part"
    done < <(apt_mirrors)
    return 1
}

fetch_with_apt_source() {
    local dest=$1 tmp v versions
    command -v apt-get >/dev/null 2>&1 || return 1
    versions=$( { echo "$DEBIAN_SRC_VERSION"
        apt-cache showsrc python3.11 2>/dev/null | awk '/^Version: 3\.11\.2-/ { print $2 }' || true
    } | awk '!seen[$0]++')
    tmp=$(mktemp -d "$WORK/download/apt.XXXXXX")
    for v in $versions; do
        log "trying: apt-get source --download-only python3.11=$v"
        if (cd "$tmp" && apt-get source --download-only "python3.11=$v") >"$WORK/logs/apt-source.log" 2>&1 \
            && [ -f "$tmp/$TARBALL" ]; then
            mv "$tmp/$TARBALL" "$dest"
            rm -rf "$tmp"
            return 0
        fi
    done
    rm -rf "$tmp"
    return 1
}

TARBALL_PATH=$WORK/download/$TARBALL
if [ -f "$TARBALL_PATH" ]; then
    log "source: cached $TARBALL_PATH"
else
    fetch_from_mirrors "$TARBALL_PATH" || fetch_with_apt_source "$TARBALL_PATH" \
        || die "could not download $TARBALL from the Debian mirrors apt uses, nor with apt-get source (needs deb-src lines); put the file (sha256 $TARBALL_SHA256) at $TARBALL_PATH"
fi
got=$(sha256_of "$TARBALL_PATH")
if [ "$got" != "$TARBALL_SHA256" ]; then
    mv -f "$TARBALL_PATH" "$TARBALL_PATH.bad"
    die "$TARBALL has sha256 $got, expected $TARBALL_SHA256 (moved to $TARBALL_PATH.bad)"
fi

# ---- 4. libpython3.11.a: configure + make, unless a complete build of the same inputs exists
SRC=$WORK/Python-$PY_VERSION
B=$SRC/builddir/wasi
SYSCONFIGDATA=$B/build/lib.wasi-wasm32-3.11/_sysconfigdata__wasi_wasm32-wasi.py
WASI_CC=(clang-16 --target=wasm32-wasi -nostdlibinc -isystem /usr/include/wasm32-wasi)
# As the prototype's configure-wasi.sh. -nostdlibinc + -isystem: Debian's clang-16
# --target=wasm32-wasi also searches /usr/include (native glibc headers), so configure would
# "find" zlib.h/lzma.h/uuid.h (and pkg-config the native .pc files) and the link would fail.
CONFIGURE_ENV=(CONFIG_SITE=../../Tools/wasm/config.site-wasm32-wasi
    "CC=${WASI_CC[*]}" "CPP=${WASI_CC[*]} -E" AR=llvm-ar-16 RANLIB=llvm-ranlib-16
    PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR=/nonexistent)
CONFIGURE_ARGS=(-C --host=wasm32-unknown-wasi
    "--with-build-python=$BUILD_PY" --with-pymalloc --disable-test-modules
    CFLAGS_NODIST=-Wno-int-conversion)
LIB_OUTPUTS=("$B/libpython3.11.a" "$B/Modules/_decimal/libmpdec/libmpdec.a"
    "$B/Modules/expat/libexpat.a" "$B/pyconfig.h" "$SYSCONFIGDATA")

toolchain_id() {
    clang-16 --version | head -n 1
    if command -v dpkg-query >/dev/null 2>&1; then
        dpkg-query -W -f='${Package} ${Version}\n' "${REQUIRED_PKGS[@]}" 2>/dev/null || true
    fi
}
LIB_STAMP=$( {
    echo "recipe $LIB_RECIPE"
    echo "tarball $TARBALL_SHA256"
    for p in "$HERE"/patches/*.patch; do echo "patch $(basename "$p") $(sha256_of "$p")"; done
    printf 'configure-env %s\n' "${CONFIGURE_ENV[@]}"
    printf 'configure-arg %s\n' "${CONFIGURE_ARGS[@]}"
    printf 'env %s\n' "${FIXED_ENV[@]}"
    echo "build-python $BUILD_PY $BUILD_PY_VER"
    toolchain_id
} | sha256sum | cut -d' ' -f1)
STAMP_FILE=$B/codefuel-build.stamp

lib_complete() {
    [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$LIB_STAMP" ] || return 1
    local f
    for f in "${LIB_OUTPUTS[@]}"; do [ -s "$f" ] || return 1; done
}

if lib_complete; then
    log "libpython3.11.a up to date (stamp ${LIB_STAMP:0:12}): skipping configure/make"
else
    [ -d "$SRC" ] && log "libpython inputs changed or build incomplete: rebuilding from scratch"
    rm -rf "$SRC"
    log "unpacking $TARBALL"
    tar -xzf "$TARBALL_PATH" -C "$WORK" --no-same-owner
    [ -f "$SRC/configure" ] || die "$TARBALL did not unpack to $SRC"
    for p in "$HERE"/patches/*.patch; do
        log "patch $(basename "$p")"
        run_logged "patch-$(basename "$p" .patch)" patch -d "$SRC" -p1 --forward --batch -i "$p"
    done
    touch "$SRC/Modules/Setup.local"
    mkdir -p "$B"
    log "configure (wasm32-wasi; ~1 min)"
    build_triplet=$("$SRC/config.guess")
    (cd "$B" && run_logged configure "${CLEAN_ENV[@]}" "${CONFIGURE_ENV[@]}" \
        ../../configure "${CONFIGURE_ARGS[@]}" "--build=$build_triplet")
    log "make -j$JOBS (libpython3.11.a; ~1-3 min)"
    (cd "$B" && run_logged make "${CLEAN_ENV[@]}" make -j"$JOBS")
    for f in "${LIB_OUTPUTS[@]}"; do [ -s "$f" ] || die "make finished but $f is missing (see $WORK/logs/make.log)"; done
    echo "$LIB_STAMP" >"$STAMP_FILE"
    log "libpython3.11.a built"
fi

# ---- 5. frozen stdlib (regenerated when its inputs change) --------------------------------
G=$WORK/guest
# The build's absolute paths are replaced by these in what goes into the module (assert
# file names in guest.o, the config vars of the frozen _sysconfigdata), so the guest's bytes
# do not depend on where the repository or the work directory is.
SRC_ALIAS=/build/Python-$PY_VERSION
HERE_ALIAS=guests/cpython
PREFIX_MAP=(-ffile-prefix-map="$SRC"="$SRC_ALIAS" -ffile-prefix-map="$HERE"="$HERE_ALIAS")
FROZEN_RECIPE=2
FROZEN_STAMP=$( {
    echo "recipe $FROZEN_RECIPE $SRC_ALIAS"
    echo "lib $LIB_STAMP"
    echo "gen_frozen $(sha256_of "$HERE/gen_frozen.py")"
    echo "sysconfigdata $(sha256_of "$SYSCONFIGDATA")"
    echo "build-python $BUILD_PY $BUILD_PY_VER"
    printf 'env %s\n' "${FIXED_ENV[@]}"
} | sha256sum | cut -d' ' -f1)
if [ -s "$G/frozen_stdlib.o" ] && [ -f "$G/frozen.stamp" ] && [ "$(cat "$G/frozen.stamp")" = "$FROZEN_STAMP" ]; then
    log "frozen stdlib up to date"
else
    rm -f "$G/frozen.stamp" "$G/frozen_stdlib.o"
    log "freezing the stdlib (gen_frozen.py)"
    run_logged sysconfigdata "${CLEAN_ENV[@]}" "$BUILD_PY" -I -c \
        'import sys; src, dst, old, new = sys.argv[1:]
open(dst, "w").write(open(src).read().replace(old, new))' \
        "$SYSCONFIGDATA" "$G/_sysconfigdata__wasi_wasm32-wasi.py" "$SRC" "$SRC_ALIAS"
    run_logged gen_frozen "${CLEAN_ENV[@]}" "$BUILD_PY" -I "$HERE/gen_frozen.py" "$SRC/Lib" \
        "$G/frozen_stdlib.c" "$G/frozen_modules.txt" \
        "_sysconfigdata__wasi_wasm32-wasi=$G/_sysconfigdata__wasi_wasm32-wasi.py"
    log "$(tail -n 1 "$WORK/logs/gen_frozen.log")"
    run_logged cc-frozen "${CLEAN_ENV[@]}" "${WASI_CC[@]}" "${PREFIX_MAP[@]}" -c -O2 "$G/frozen_stdlib.c" \
        -I"$B" -I"$SRC/Include" -o "$G/frozen_stdlib.o"
    echo "$FROZEN_STAMP" >"$G/frozen.stamp"
fi

# ---- 6. src/*.c + the driver + link (always) -----------------------------------------------
# The evaluation driver is the RustPython guest's (one file, both guests), embedded as bytes.
DRIVER=$HERE/../python/driver/codefuel_driver.py
run_logged driver-c "${CLEAN_ENV[@]}" "$BUILD_PY" -I -c 'import sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "w") as out:
    out.write("/* generated by build.sh from guests/python/driver/codefuel_driver.py */\n")
    out.write("const char codefuel_driver_source[] = {\n")
    for i in range(0, len(data), 24):
        out.write("".join("%d," % b for b in data[i:i + 24]) + "\n")
    out.write("0};\n")' "$DRIVER" "$G/driver_source.c"
log "compiling src/*.c and linking (stack $STACK bytes)"
GUEST_OBJS=()
for c in "$HERE"/src/*.c "$G/driver_source.c"; do
    o=$G/$(basename "${c%.c}").o
    run_logged "cc-$(basename "$c" .c)" "${CLEAN_ENV[@]}" "${WASI_CC[@]}" "${PREFIX_MAP[@]}" \
        -c -O2 -Wall "$c" -I"$B" -I"$SRC/Include" -o "$o"
    GUEST_OBJS+=("$o")
done
# -nostartfiles --no-entry: _start and wizer-initialize are src/guest.c's own exports.
# --stack-first: the shadow stack sits below the data, so overflowing it traps instead of
# corrupting the heap (and src/guest.c's C-stack guard raises RecursionError before that).
run_logged link "${CLEAN_ENV[@]}" "${WASI_CC[@]}" -nostartfiles -Wl,--no-entry \
    -z stack-size="$STACK" -Wl,--stack-first -Wl,--strip-debug -O2 \
    "${GUEST_OBJS[@]}" "$G/frozen_stdlib.o" "$B/libpython3.11.a" \
    "$B/Modules/_decimal/libmpdec/libmpdec.a" "$B/Modules/expat/libexpat.a" \
    -lwasi-emulated-signal -lwasi-emulated-getpid -lwasi-emulated-process-clocks -lm \
    -o "$G/guest-cpython.wasm"

tmp_out=$(mktemp "$OUT_DIR/.guest-cpython.wasm.XXXXXX")
cp "$G/guest-cpython.wasm" "$tmp_out"
chmod 644 "$tmp_out"
mv -f "$tmp_out" "$OUT_DIR/guest-cpython.wasm"
log "wrote $OUT_DIR/guest-cpython.wasm ($(stat -c %s "$OUT_DIR/guest-cpython.wasm") bytes, sha256 $(sha256_of "$OUT_DIR/guest-cpython.wasm"))"
log "done in ${SECONDS}s"
