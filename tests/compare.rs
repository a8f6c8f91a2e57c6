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
    // And they compute the same samples (× 1.0 changes no float), against the first given,
    // with the same magnitude response.
    assert_eq!(r["reference"], "a");
    for x in r["comparison"].as_array().unwrap() {
        assert!(x["output_vs_reference"]["snr_db"].is_null(), "{x}");
        assert_eq!(x["output_vs_reference"]["verdict"], "same", "{x}");
        assert_eq!(x["response"]["deviation_db"], 0.0, "{x}");
    }
    assert!(r["recommendations"]
        .as_str()
        .unwrap()
        .contains("b: same (identical to the reference)"));
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

    // The design's example: three filters with -vec, against the last, with THD+N and the
    // chart of their magnitude responses.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("filters.svg");
    let (status, r) = compare_json(&[
        "--reference",
        "butterworth",
        "--thd-n",
        "1000",
        "--svg",
        svg.to_str().unwrap(),
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
    // Three different filters: each differs from the reference (butterworth) by its figure,
    // in its samples and in its magnitude response; all three are linear (THD+N: rounding).
    assert_eq!(r["reference"], "butterworth");
    for x in c {
        let (output, response) = (&x["output_vs_reference"], &x["response"]);
        let deviation = response["deviation_db"].as_f64().unwrap();
        if x["name"] == "butterworth" {
            assert_eq!(output["verdict"], "same", "{x}");
            assert_eq!(deviation, 0.0, "{x}");
        } else {
            assert!(output["snr_db"].as_f64().unwrap() < 60.0, "{x}");
            assert_eq!(output["verdict"], "different", "{x}");
            assert!(deviation > 3.0, "{x}");
            let at = response["deviation_at_hz"].as_f64().unwrap();
            assert!((20.0..=20_000.0).contains(&at), "{x}");
        }
        assert!(
            response["magnitude_db"].as_array().unwrap().len() > 100,
            "{x}"
        );
        assert!(x["thd_n_db"].as_f64().unwrap() < -80.0, "{x}");
    }
    let advice = r["recommendations"].as_str().unwrap();
    assert!(advice.contains("against butterworth"), "{advice}");
    assert!(advice.contains("magnitude response up to"), "{advice}");
    assert!(advice.contains("THD+N at 1000 Hz"), "{advice}");
    // The chart: the forest plot, then the three responses overlaid, named in the key.
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(chart.contains("magnitude responses"), "{chart}");
    for name in ["resonlp", "lowpass6e", "butterworth"] {
        assert!(chart.matches(name).count() >= 2, "{name} in {chart}");
    }
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

#[test]
fn compare_says_what_implementations_compute() {
    let _guard = serial();
    // One program under two option sets, and two copies of one file: the same (freeverb:
    // 137.6 dB between scalar and -vec code here).
    let freeverb = fixture("freeverb.dsp");
    let freeverb = freeverb.to_str().unwrap();
    let (status, r) = compare_json(&[
        "--impl",
        &format!("scalar={freeverb}:"),
        "--impl",
        &format!("vec={freeverb}:-vec -vs 32"),
        "--impl",
        &format!("copy={freeverb}:"),
        "--duration",
        "0.2",
    ]);
    assert_eq!(status, 0, "{r}");
    for x in r["comparison"].as_array().unwrap() {
        assert_eq!(x["output_vs_reference"]["verdict"], "same", "{x}");
        if x["name"] == "copy" {
            assert!(x["output_vs_reference"]["snr_db"].is_null(), "{x}");
        }
        // One input, two outputs: no channel's response to speak of.
        assert!(x["response"].is_null(), "{x}");
    }
    // A clipper against a wire, by THD+N at a sine of −6 dBFS: clipped at 0.3, about −15 dB
    // of odd harmonics; the wire, none.
    let (status, r) = compare_json(&[
        "--impl",
        "clip=process = max(-0.3) : min(0.3);",
        "--impl",
        "wire=process = _;",
        "--reference",
        "wire",
        "--thd-n",
        "1000",
        "--duration",
        "0.2",
    ]);
    assert_eq!(status, 0, "{r}");
    let of = |name: &str| {
        (r["comparison"].as_array().unwrap().iter())
            .find(|x| x["name"] == name)
            .unwrap()
            .clone()
    };
    let (clip, wire) = (of("clip"), of("wire"));
    assert!(clip["thd_n_db"].as_f64().unwrap() > -25.0, "{clip}");
    assert!(wire["thd_n_db"].as_f64().unwrap() < -100.0, "{wire}");
    assert_eq!(
        clip["output_vs_reference"]["verdict"], "different",
        "{clip}"
    );
    // A reference no implementation is named: refused, saying which there are.
    let out = faustperf()
        .args([
            "compare",
            "--impl",
            "a=process = _;",
            "--impl",
            "b=process = _;",
        ])
        .args(["--reference", "c"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("reference `c`") && err.contains("a, b"),
        "{err}"
    );
    // A band upside down, a band that is not two numbers, a sine above Nyquist: refused too.
    for (flag, value, says) in [
        ("--band", "30:20", "response band 30–20 Hz"),
        ("--band", "low", "write LOW:HIGH"),
        ("--thd-n", "30000", "THD+N at 30000 Hz"),
    ] {
        let out = faustperf()
            .args([
                "compare",
                "--impl",
                "a=process = _;",
                "--impl",
                "b=process = _;",
            ])
            .args([flag, value])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{err}");
    }
}
