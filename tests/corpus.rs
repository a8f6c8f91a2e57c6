//! End-to-end test of `faustperf corpus`: a folder with a broken, a crashing and a library file
//! beside one that is measured, the JSON lines written as it goes, and the chart.
//!
//! Its test takes the lock of this binary (`common::serial`) as every measuring test does: runs
//! pin their measuring thread to the same core with real-time priority, and two at once would
//! measure each other.

mod common;

use common::{faustperf, fixture, live_workers, serial};
use serde_json::Value;

#[test]
fn corpus_reports_broken_crashing_and_library_files_and_measures_the_rest() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixture("osc.dsp"), dir.path().join("osc.dsp")).unwrap();
    std::fs::copy(fixture("compile_error.dsp"), dir.path().join("broken.dsp")).unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/crash.dsp"),
        "process = seq(i, 20000, _);\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("sub/helper.dsp"), "helper(g) = *(g);\n").unwrap();
    let out_file = dir.path().join("results.jsonl");
    let chart = dir.path().join("corpus.svg");
    let out = faustperf()
        .args(["corpus", "--format", "json", "--duration", "0.2", "--out"])
        .arg(&out_file)
        .arg("--svg")
        .arg(&chart)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    // One point per measured DSP (only osc.dsp).
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert_eq!(svg.matches("<circle").count(), 1, "{svg}");
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let status = |dsp: &str| {
        r["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["dsp"] == dsp)
            .unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(status("osc.dsp"), "measured");
    assert_eq!(status("broken.dsp"), "failed");
    assert_eq!(status("sub/crash.dsp"), "failed");
    assert_eq!(status("sub/helper.dsp"), "skipped");
    let a = &r["aggregates"];
    assert_eq!(
        (
            a["measured"].as_u64(),
            a["failed"].as_u64(),
            a["skipped"].as_u64()
        ),
        (Some(1), Some(2), Some(1))
    );
    assert!(a["geomean_speedup_vs_scalar"]["-vec"].as_f64().unwrap() > 0.0);
    assert!(a["reasons"].to_string().contains("SIGSEGV"));
    // Written one line per DSP as it went.
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap().lines().count(),
        4
    );
    assert!(live_workers().is_empty());
}
