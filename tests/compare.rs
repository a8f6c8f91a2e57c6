//! End-to-end tests of `faustperf compare`: a tie between two ways of writing the same filter,
//! a slower implementation and the design's example, comparison by time per frame when the
//! channels differ, a broken implementation, and the environment warnings.
//!
//! The tests are serialised with one lock (`common::serial`, one per test binary): each run pins its measuring thread to the same core with real-time priority, and two at once would measure each other.

mod common;

use common::{compare_json, faustperf, fixture, serial};

#[test]
fn compare_identical_implementations_is_a_tie() {
    let _guard = serial();
    // The same filter, written two ways: different sources (not the same SHA key), the same work.
    let (status, r) = compare_json(&[
        "--impl",
        r#"a=import("stdfaust.lib"); process = fi.lowpass(4, 1000);"#,
        "--impl",
        r#"b=import("stdfaust.lib"); process = fi.lowpass(4, 1000) : *(1.0);"#,
    ]);
    assert_eq!(status, 0, "{r}");
    // The winner is the one measured fastest; the tie is declared beside it and in words.
    let winner = r["winner"].as_str().unwrap();
    assert_eq!(winner, r["comparison"][0]["name"], "{r}");
    let other = if winner == "a" { "b" } else { "a" };
    assert_eq!(r["tied_with"], serde_json::json!([other]), "{r}");
    assert!(r["verdict"].as_str().unwrap().contains("tied within noise"));
    assert!(r["recommendations"]
        .as_str()
        .unwrap()
        .contains(&format!("tied within noise with {other}")));
    assert_eq!(r["success"], true);
    // And they compute the same samples (× 1.0 changes no float), against the first given.
    for x in r["comparison"].as_array().unwrap() {
        assert!(x["output_vs_first"].is_object(), "{x}");
        assert!(x["output_vs_first"]["snr_db"].is_null(), "{x}");
    }
    assert!(r["recommendations"]
        .as_str()
        .unwrap()
        .contains("b: the same samples"));
}

#[test]
fn compare_finds_a_slower_implementation_and_the_design_example() {
    let _guard = serial();
    // A filter, and the same filter followed by two libm calls per sample: over twice the
    // time (a second filter in cascade is not enough: scalar code overlaps the two, ~2 %).
    let plain = r#"import("stdfaust.lib"); process = fi.lowpass(4, 1000);"#;
    let shaped = r#"import("stdfaust.lib"); process = fi.lowpass(4, 1000) : sin : cos;"#;
    let (status, r) = compare_json(&[
        "--impl",
        &format!("plain={plain}"),
        "--impl",
        &format!("shaped={shaped}"),
    ]);
    assert_eq!(status, 0);
    assert_eq!(r["winner"], "plain");
    assert_eq!(r["tied_with"], serde_json::json!([]));
    assert!(r["recommendations"]
        .as_str()
        .unwrap()
        .starts_with("Use plain"));
    let slow = &r["comparison"][1];
    assert_eq!(slow["name"], "shaped");
    assert!(slow["fastest_speedup_ci95"][0].as_f64().unwrap() > 1.0);
    assert!(r["comparison"][0]["relative_performance"]
        .as_str()
        .unwrap()
        .contains("faster than shaped"));

    // The design's example: three filters with -vec.
    let (status, r) = compare_json(&[
        "--options",
        "-vec",
        "--impl",
        r#"resonlp=import("stdfaust.lib"); process = fi.resonlp(1000, 1, 1);"#,
        "--impl",
        r#"lowpass6e=import("stdfaust.lib"); process = fi.lowpass6e(1000);"#,
        "--impl",
        r#"butterworth=import("stdfaust.lib"); process = fi.lowpass(4, 1000);"#,
    ]);
    assert_eq!(status, 0, "{r}");
    let c = r["comparison"].as_array().unwrap();
    assert_eq!(c.len(), 3);
    assert!(c.iter().all(|x| x["compiler_options"] == "-vec"));
    assert_eq!(c[2]["relative_performance"], "slowest");
    assert_eq!(r["compared_by"], "throughput");
    // Three different filters: each differs from the first given (resonlp) by its figure.
    for x in c.iter().filter(|x| x["name"] != "resonlp") {
        let snr = x["output_vs_first"]["snr_db"].as_f64().unwrap();
        assert!(snr < 60.0, "{x}");
    }
    assert!(r["recommendations"]
        .as_str()
        .unwrap()
        .contains("against resonlp"));
}

#[test]
fn compare_by_time_per_frame_when_channels_differ() {
    let _guard = serial();
    let (status, r) = compare_json(&[
        fixture("stereo_gain.dsp").to_str().unwrap(),
        fixture("osc.dsp").to_str().unwrap(),
        "--duration",
        "0.3",
    ]);
    assert_eq!(status, 0, "{r}");
    assert_eq!(r["compared_by"], "time per frame");
    assert!(r["warnings"]
        .to_string()
        .contains("differ in inputs/outputs"));
    let names: Vec<&str> = r["comparison"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"stereo_gain") && names.contains(&"osc"));
}

#[test]
fn compare_reports_a_broken_implementation() {
    let _guard = serial();
    let (status, r) = compare_json(&[
        fixture("osc.dsp").to_str().unwrap(),
        fixture("stereo_gain.dsp").to_str().unwrap(),
        fixture("compile_error.dsp").to_str().unwrap(),
        "--duration",
        "0.2",
    ]);
    assert_eq!(status, 4);
    assert_eq!(r["errors"][0]["name"], "compile_error");
    assert_eq!(r["errors"][0]["line"], 4);
    faustperf()
        .args(["compare", fixture("osc.dsp").to_str().unwrap()])
        .assert()
        .code(2);
}

/// compare measures through analyze's engine and carries the same environment warnings: run
/// without CAP_SYS_NICE (dropped with util-linux's setpriv, so root cannot get real-time
/// priority), its report says real-time priority was not granted, in JSON and in the table.
#[test]
fn compare_carries_the_environment_warnings() {
    let _guard = serial();
    let exe = env!("CARGO_BIN_EXE_faustperf");
    let run = |format: &str| {
        std::process::Command::new("setpriv")
            .args(["--bounding-set=-sys_nice", "--inh-caps=-sys_nice", exe])
            .args([
                "compare",
                "--duration",
                "0.1",
                "--format",
                format,
                "--no-cache",
            ])
            .args([
                "--impl",
                "a=process = _;",
                "--impl",
                "b=process = _ : *(0.5);",
            ])
            .output()
            .unwrap()
    };
    let out = run("json");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = common::stdout_json(&out);
    let warnings = report["warnings"].to_string();
    assert!(
        warnings.contains("real-time priority was not granted"),
        "{warnings}"
    );
    let table = String::from_utf8_lossy(&run("table").stdout).into_owned();
    assert!(
        table.contains("Warnings:\n") && table.contains("real-time priority was not granted"),
        "{table}"
    );
}
