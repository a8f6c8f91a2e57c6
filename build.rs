//! Builds Faust's fast math functions (`faust/dsp/fastmath.cpp`, installed by the `faust` package)
//! into the `faustperf` binary and exports them, so that code compiled with `-fm def` finds its
//! `fast_*` functions when the JIT links it. Without the file (faust not installed at build time),
//! nothing is built and faustperf refuses `-fm` with a message instead of crashing.

use std::path::PathBuf;

fn main() {
    wasmtime_version();
    println!("cargo:rerun-if-env-changed=FAUST_INCLUDE_DIR");
    let include = std::env::var_os("FAUST_INCLUDE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/include"));
    let source = include.join("faust/dsp/fastmath.cpp");
    println!("cargo:rerun-if-changed={}", source.display());
    if !source.exists() {
        println!(
            "cargo:warning={} not found: `-fm def` will be refused (install the `faust` package or set FAUST_INCLUDE_DIR)",
            source.display()
        );
        return;
    }
    cc::Build::new()
        .cpp(true)
        .file(&source)
        .flag_if_supported("-w")
        .opt_level(3)
        .link_lib_modifier("+whole-archive")
        .compile("faustfastmath");

    // Export the fast_* functions from the executable so that the JIT's symbol lookup sees them.
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let list = out.join("fastmath.dynamic-list");
    std::fs::write(&list, "{\n  fast_*;\n};\n").expect("OUT_DIR is writable");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--dynamic-list={}",
            list.display()
        );
    }
}

/// The wasmtime version in Cargo.lock, for reports (`FAUSTPERF_WASMTIME_VERSION`).
fn wasmtime_version() {
    println!("cargo:rerun-if-changed=Cargo.lock");
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"wasmtime\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=FAUSTPERF_WASMTIME_VERSION={version}");
}
