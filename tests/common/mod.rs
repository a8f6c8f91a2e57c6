//! Helpers shared by the end-to-end tests.

// Each test binary includes this module with `mod common;` and uses only some of its helpers;
// the others would be dead code in that binary.
#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, MutexGuard};

/// The lock that serialises the tests of one test binary: each binary compiles its own copy of
/// this module, so the lock is per binary, which is enough since cargo runs test binaries one
/// after another.
static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The binary, with a compile cache private to this test run (each test binary has its own).
pub fn faustperf() -> Command {
    static CACHE: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    let cache = CACHE.get_or_init(|| tempfile::tempdir().unwrap());
    let mut command = Command::cargo_bin("faustperf").unwrap();
    command.env("FAUSTPERF_CACHE_DIR", cache.path());
    command
}

/// Runs analyze with a short measurement and JSON output; returns (exit code, report, stderr).
pub fn analyze_json(args: &[&str]) -> (i32, Value, String) {
    let out = faustperf()
        .arg("analyze")
        .args(["--duration", "0.1", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let report = stdout_json(&out);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// Runs `faustperf profile` with JSON output; returns (exit code, report, stderr).
pub fn profile_json(args: &[&str]) -> (i32, Value, String) {
    let out = faustperf()
        .arg("profile")
        .args(["--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report, stderr)
}

pub fn compare_json(args: &[&str]) -> (i32, Value) {
    let out = faustperf()
        .args(["compare", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), report)
}

/// Runs inspect with JSON output; returns (exit code, report).
pub fn inspect_json(args: &[&str]) -> (i32, Value) {
    let out = faustperf()
        .args(["inspect", "--format", "json"])
        .args(args)
        .output()
        .unwrap();
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), report)
}

/// The bars of an `analyze` chart: rectangles in the bar colours (the background and frame
/// are in others).
pub fn bars(svg: &str) -> usize {
    let fills: Vec<String> = (faustperf::chart::BAR_COLOURS.iter())
        .map(|c| format!("fill=\"#{:02X}{:02X}{:02X}\"", c.0, c.1, c.2))
        .collect();
    (svg.split("<rect").skip(1))
        .filter(|r| fills.iter().any(|f| r.contains(f.as_str())))
        .count()
}

/// Worker processes of the faustperf binary still alive (none may survive a run).
pub fn live_workers() -> Vec<String> {
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_faustperf")).unwrap();
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| std::fs::read_link(e.path().join("exe")).is_ok_and(|p| p == exe))
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains("__worker"))
        .collect()
}

/// The JSON a program printed on stdout; a panic showing both streams when it is not JSON.
pub fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Writes 0.1 s of a mono 48000 Hz sine to `path`, as a 16-bit WAV file.
pub fn write_wav(path: &std::path::Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 48000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for i in 0..4800 {
        writer
            .write_sample(((i as f64 * 0.05).sin() * 10000.0) as i16)
            .unwrap();
    }
    writer.finalize().unwrap();
}
