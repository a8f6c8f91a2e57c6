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
