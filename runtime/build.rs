//! Builds the Python guest (`guests/python`) for wasm32-wasip1 and hands it to the runtime.
//!
//! The guest is a separate cargo workspace with its own lock file and target directory
//! (`guests/python/target`), so host debug and release builds share one guest build. Set
//! `CODEFUEL_GUEST_WASM=/path/to/guest.wasm` to embed a prebuilt guest instead.
//!
//! With the `cpython` feature it also embeds the CPython 3.11 guest (`guests/cpython`), built
//! by `guests/cpython/build.sh` or taken from `CODEFUEL_CPYTHON_WASM`.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    let guest_dir = manifest_dir.join("../guests/python");
    println!("cargo:rerun-if-env-changed=CODEFUEL_GUEST_WASM");

    let wasm_path = match env::var_os("CODEFUEL_GUEST_WASM") {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => build_guest(&guest_dir),
    };
    let wasm = std::fs::read(&wasm_path)
        .unwrap_or_else(|e| panic!("cannot read guest module {}: {e}", wasm_path.display()));
    let embedded = out_dir.join("guest.wasm");
    std::fs::write(&embedded, &wasm).expect("write guest.wasm into OUT_DIR");
    let hash = hex::encode(Sha256::digest(&wasm));
    println!("cargo:rustc-env=CODEFUEL_GUEST_SHA256={hash}");

    if env::var_os("CARGO_FEATURE_CPYTHON").is_some() {
        embed_cpython(&manifest_dir.join("../guests/cpython"), &out_dir);
    }
}

/// The `cpython` feature: builds the CPython 3.11 guest (`guests/cpython/build.sh`, which
/// pins and checks its inputs), or takes `CODEFUEL_CPYTHON_WASM`, into `guest-cpython.wasm`.
fn embed_cpython(guest_dir: &Path, out_dir: &Path) {
    println!("cargo:rerun-if-env-changed=CODEFUEL_CPYTHON_WASM");
    let wasm_path = match env::var_os("CODEFUEL_CPYTHON_WASM").filter(|path| !path.is_empty()) {
        Some(prebuilt) => PathBuf::from(prebuilt),
        None => {
            for entry in [
                "build.sh",
                "src",
                "gen_frozen.py",
                "patches",
                "../python/driver",
            ] {
                println!("cargo:rerun-if-changed={}", guest_dir.join(entry).display());
            }
            let build_dir = out_dir.join("cpython");
            let status = Command::new("bash")
                .arg(guest_dir.join("build.sh"))
                .arg(&build_dir)
                .status()
                .expect("failed to run bash for guests/cpython/build.sh");
            assert!(
                status.success(),
                "building the CPython guest (guests/cpython/build.sh) failed; its toolchain \
                 comes from `bash guests/cpython/install-deps.sh` (see guests/cpython/README.md)"
            );
            build_dir.join("guest-cpython.wasm")
        }
    };
    let wasm = std::fs::read(&wasm_path).unwrap_or_else(|e| {
        panic!(
            "cannot read CPython guest module {}: {e}",
            wasm_path.display()
        )
    });
    std::fs::write(out_dir.join("guest-cpython.wasm"), &wasm)
        .expect("write guest-cpython.wasm into OUT_DIR");
    let hash = hex::encode(Sha256::digest(&wasm));
    println!("cargo:rustc-env=CODEFUEL_CPYTHON_SHA256={hash}");
}

fn build_guest(guest_dir: &Path) -> PathBuf {
    for entry in [
        "src",
        "driver",
        "vendor",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", guest_dir.join(entry).display());
    }
    // The guest's own target dir: shared by host debug/release builds and by a manual
    // `cargo build` in guests/python.
    let target_dir = guest_dir.join("target");
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(guest_dir)
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip1",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The guest's own .cargo/config.toml sets its flags; nothing of the host build leaks in.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_MAKEFLAGS",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo to build the Python guest");
    assert!(
        status.success(),
        "building the Python guest (guests/python) for wasm32-wasip1 failed; \
         is the target installed? run `rustup toolchain install` in the repository root"
    );
    target_dir.join("wasm32-wasip1/release/codefuel-guest-python.wasm")
}
