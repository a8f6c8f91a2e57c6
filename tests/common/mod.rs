//! Helpers shared by the end-to-end tests.

use serde_json::Value;
use std::process::Output;

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
