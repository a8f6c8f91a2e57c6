//! End-to-end tests of the compile cache: entries written cold and read warm, a damaged entry
//! discarded and recompiled, `faustperf cache stats` and `cache clear`, a cache directory that
//! cannot be used, and C++ and WebAssembly code cached per compiler and flags.
//!
//! The tests are serialised with one lock (`common::serial`, one per test binary): each run
//! measures, pinning its measuring thread to the same core with real-time priority, and two at
//! once would measure each other.

mod common;

use common::{analyze_json, faustperf, fixture, serial};
use serde_json::Value;

#[test]
fn compile_cache_cold_warm_corrupt_and_clear() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_str().unwrap();
    let osc = fixture("osc.dsp");
    let args = [
        osc.to_str().unwrap(),
        "--cache-dir",
        cache,
        "--options",
        "-vec",
        // The cache then holds the two sets alone (the output check adds its reference).
        "--accuracy",
        "off",
    ];
    let (code, cold, _) = analyze_json(&args);
    assert_eq!(code, 0);
    assert!(cold["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["cached"] == false));
    let (code, warm, _) = analyze_json(&args);
    assert_eq!(code, 0);
    assert!(
        warm["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["cached"] == true),
        "{warm}"
    );

    let stats = faustperf()
        .args(["cache", "stats", "--cache-dir", cache])
        .output()
        .unwrap();
    let stats: Value = serde_json::from_slice(&stats.stdout).unwrap();
    assert_eq!(stats["entries"], 2);

    // Damage one entry: it is detected, discarded with a warning, and that set recompiled.
    let entry = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "entry"))
        .unwrap();
    let bytes = std::fs::read(&entry).unwrap();
    std::fs::write(&entry, &bytes[..bytes.len() / 2]).unwrap();
    let (code, again, _) = analyze_json(&args);
    assert_eq!(code, 0);
    let cached = again["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["cached"] == true)
        .count();
    assert_eq!(cached, 1);
    let warnings = again["warnings"].to_string();
    assert!(
        warnings.contains("discarded") && warnings.contains("recompiling"),
        "{warnings}"
    );

    faustperf()
        .args(["cache", "clear", "--cache-dir", cache])
        .assert()
        .code(0);
    let stats = faustperf()
        .args(["cache", "stats", "--cache-dir", cache])
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&stats.stdout).unwrap()["entries"],
        0
    );
}

#[test]
fn unusable_cache_directory_warns_and_runs() {
    let _guard = serial();
    let file = tempfile::NamedTempFile::new().unwrap();
    let (code, report, stderr) = analyze_json(&[
        fixture("osc.dsp").to_str().unwrap(),
        "--cache-dir",
        file.path().to_str().unwrap(),
        "--options",
        "-vec",
    ]);
    assert_eq!(code, 0);
    assert!(
        stderr.contains("running without the compile cache"),
        "{stderr}"
    );
    assert_eq!(report["results"].as_array().unwrap().len(), 2);
}

#[test]
fn cpp_and_wasm_code_is_cached_per_compiler_and_flags() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let osc = fixture("osc.dsp");
    let run = |flags: &str| {
        analyze_json(&[
            osc.to_str().unwrap(),
            "--cache-dir",
            dir.path().to_str().unwrap(),
            "--backend",
            "cpp,wasm",
            "--options",
            "",
            "--cxxflags",
            flags,
        ])
        .1
    };
    let cached = |report: &Value, backend: &str| {
        report["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["backend"] == backend)
            .unwrap()["cached"]
            .clone()
    };
    let cold = run("-O2");
    assert_eq!(
        (cached(&cold, "cpp"), cached(&cold, "wasm")),
        (false.into(), false.into())
    );
    let warm = run("-O2");
    assert_eq!(
        (cached(&warm, "cpp"), cached(&warm, "wasm")),
        (true.into(), true.into())
    );
    // Other flags are other code: the C++ is built again, the wasm module is not.
    let other = run("-O1");
    assert_eq!(
        (cached(&other, "cpp"), cached(&other, "wasm")),
        (false.into(), true.into())
    );
}
