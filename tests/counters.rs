//! End-to-end tests of `--counters` (instructions counted under Valgrind's callgrind) in
//! analyze, inspect and profile, counters without Valgrind, a baseline of instruction counts,
//! and `--perf-map`.
//!
//! The tests are serialised with one lock (`common::serial`, one per test binary): beside the
//! counts most runs measure time, pinning the measuring thread to the same core with real-time
//! priority, and two at once would measure each other.

mod common;

use common::{analyze_json, faustperf, fixture, serial, stdout_json};
use serde_json::Value;
use std::path::Path;

/// `--counters` runs of `args` (analyze, inspect, profile) in JSON.
fn counted_json(args: &[&str]) -> Value {
    let out = faustperf()
        .args(args)
        .args(["--counters", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout_json(&out)
}

#[test]
fn counters_count_the_same_instructions_every_run() {
    let _guard = serial();
    let osc = fixture("osc.dsp");
    let osc = osc.to_str().unwrap();
    let analyze = [
        "analyze",
        osc,
        "--options",
        "",
        "--options",
        "-vec",
        "--duration",
        "0.1",
    ];
    let runs: Vec<Value> = (0..2).map(|_| counted_json(&analyze)).collect();
    let counts = |report: &Value, options: &str| -> Value {
        let set = (report["results"].as_array().unwrap().iter())
            .find(|r| r["compiler_options"] == options)
            .unwrap();
        set["counts"].clone()
    };
    for options in ["", "-vec"] {
        // Deterministic: the same figures, to the last digit, in two runs.
        assert_eq!(
            counts(&runs[0], options),
            counts(&runs[1], options),
            "{options}"
        );
    }
    let instructions = |options| {
        counts(&runs[0], options)["instructions_per_frame"]
            .as_f64()
            .unwrap()
    };
    assert!(instructions("-vec") < instructions(""), "{}", runs[0]);
    // The generated function is named from the object code and does nearly all the work.
    let top = &counts(&runs[0], "")["functions"][0];
    assert_eq!(top["generated"], true, "{top}");
    assert!(top["name"].as_str().unwrap().contains("compute"), "{top}");
    let counting = &runs[0]["counting"];
    assert!(counting["conditions"]["target"]
        .as_str()
        .unwrap()
        .ends_with(":x86-64-v3"));
    assert!(!counting["hardware_counters"].as_str().unwrap().is_empty());
    // inspect puts the count beside the IR's estimate; profile counts its one set.
    let inspection = counted_json(&["inspect", osc, "--options", "-vec"]);
    let measured = &inspection["sets"][0]["measured"];
    assert_eq!(
        measured["counts"]["instructions_per_frame"],
        counts(&runs[0], "-vec")["instructions_per_frame"]
    );
    assert!(
        measured["measured_over_estimate"].as_f64().unwrap() > 0.0,
        "{measured}"
    );
    let profile = counted_json(&["profile", osc, "--duration", "0.3"]);
    assert!(
        profile["counted"]["counts"]["instructions_per_frame"]
            .as_f64()
            .unwrap()
            > 0.0
    );
}

#[test]
fn counters_without_valgrind_say_why_and_the_run_goes_on() {
    let _guard = serial();
    // A PATH with the shell and `which` libfaust runs, and no valgrind.
    let bin = tempfile::tempdir().unwrap();
    for tool in ["/bin/sh", "/usr/bin/which"] {
        let name = Path::new(tool).file_name().unwrap();
        std::os::unix::fs::symlink(tool, bin.path().join(name)).unwrap();
    }
    let out = faustperf()
        .env("PATH", bin.path())
        .args([
            "analyze",
            fixture("osc.dsp").to_str().unwrap(),
            "--options",
            "-vec",
        ])
        .args(["--duration", "0.1", "--counters", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = stdout_json(&out);
    assert!(report["results"].as_array().unwrap().len() == 2);
    assert!(
        report["warnings"]
            .to_string()
            .contains("install it (Debian: apt-get install valgrind)"),
        "{}",
        report["warnings"]
    );
}

#[test]
fn a_baseline_of_instructions_passes_unchanged_and_fails_on_one_more_multiply() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let dsp = dir.path().join("filter.dsp");
    std::fs::write(
        &dsp,
        "import(\"stdfaust.lib\");\nprocess = fi.lowpass(2, 1000);\n",
    )
    .unwrap();
    let baseline = |args: &[&str]| {
        faustperf()
            .current_dir(dir.path())
            .arg("baseline")
            .args(args)
            .output()
            .unwrap()
    };
    let saved = baseline(&["save", "ci", "filter.dsp", "--metric", "instructions"]);
    assert_eq!(
        saved.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&saved.stderr)
    );
    let check = || baseline(&["check", "ci", "--format", "json"]);
    let unchanged = check();
    assert_eq!(unchanged.status.code(), Some(0));
    let report = stdout_json(&unchanged);
    assert_eq!(report["metric"], "instructions");
    for row in report["rows"].as_array().unwrap() {
        assert_eq!(row["status"], "OK", "{row}");
        assert_eq!(row["change_percent"], 0.0, "{row}");
    }
    // One multiply per sample more (by a control at 1, so that nothing folds it away and the
    // output stays the same): SLOWER, exit 7. (A multiply of a table read, as
    // `os.osc(440) * g`, may cost no instruction on x86: the load folds into the multiply.)
    std::fs::write(
        &dsp,
        "import(\"stdfaust.lib\");\nprocess = fi.lowpass(2, 1000) * hslider(\"g\", 1, 0, 1, 0.01);\n",
    )
    .unwrap();
    let changed = check();
    assert_eq!(changed.status.code(), Some(7));
    let report = stdout_json(&changed);
    assert!(
        report["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["status"] == "SLOWER"),
        "{report}"
    );
    // A baseline of counts is not checked as times.
    let wrong = baseline(&["check", "ci", "--metric", "time"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("--metric"));
}

#[test]
fn perf_map_names_the_generated_functions_of_each_set() {
    let _guard = serial();
    let started = std::time::SystemTime::now();
    let (code, _, stderr) = analyze_json(&[
        fixture("osc.dsp").to_str().unwrap(),
        "--options",
        "-vec",
        "--perf-map",
    ]);
    assert_eq!(code, 0, "{stderr}");
    // The measuring worker's map: START SIZE name [set], in hex, per generated function.
    let maps: Vec<String> = (std::fs::read_dir("/tmp").unwrap().flatten())
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.starts_with("perf-") && name.ends_with(".map")
        })
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= started)
        })
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    let map = maps
        .iter()
        .find(|m| m.contains("[-vec]"))
        .expect("a perf map of this run");
    for set in ["[-vec]", "[(scalar)]"] {
        let line = (map.lines())
            .find(|l| l.contains("compute") && l.ends_with(set))
            .unwrap_or_else(|| panic!("no compute of {set} in {map}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(u64::from_str_radix(fields[0], 16).unwrap() > 0, "{line}");
        assert!(u64::from_str_radix(fields[1], 16).unwrap() > 0, "{line}");
    }
}
