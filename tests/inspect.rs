//! End-to-end tests of `faustperf inspect` (what the generated code does per frame, read from
//! its LLVM IR): tables, delay lines and memory, vector code, math calls and advice, the table
//! output, bad input, crashes and hangs contained in the worker; and `analyze --inspect`.
//!
//! The tests are serialised with one lock (`common::serial`, one per test binary): `analyze
//! --inspect` measures, pinning its measuring thread to a core that other tests' compiles
//! would disturb, and the crash and hang test checks that no worker process is left, which
//! another test's workers would contradict.

mod common;

use common::{analyze_json, faustperf, fixture, inspect_json, live_workers, serial};
use serde_json::Value;

fn per_frame(set: &Value, kind: &str) -> f64 {
    set["work"]["per_frame"][kind].as_f64().unwrap()
}

#[test]
fn inspect_oscillator_reads_its_sine_table_every_frame() {
    let _guard = serial();
    let (code, report) = inspect_json(&[fixture("osc.dsp").to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["ir_reader_llvm"].as_str().unwrap().get(..7),
        Some("LLVM 14")
    );
    let sets = report["sets"].as_array().unwrap();
    assert_eq!(sets.len(), 2, "scalar and -vec by default");
    for set in sets {
        // os.osc computes sines once, into a shared table, and reads it every frame.
        let reads = set["table_reads"].as_array().unwrap();
        assert_eq!(reads.len(), 1, "{set}");
        assert!(reads[0]["table"].as_str().unwrap().starts_with("ftbl"));
        assert!(reads[0]["per_frame"].as_f64().unwrap() >= 1.0);
        let table = &set["memory"]["shared_tables"][0];
        assert_eq!(table["bytes"], 65536 * 4);
        // The struct is tiny; the heap growth of an instance is at least the struct.
        let memory = &set["memory"];
        assert!(memory["struct_bytes"].as_u64().unwrap() < 64);
        assert!(
            memory["instance_heap_bytes"].as_u64().unwrap()
                >= memory["struct_bytes"].as_u64().unwrap()
        );
    }
    // Scalar code runs a frame per iteration unless LLVM vectorises or unrolls the loop for
    // this CPU (2 frames on rocketlake, 8 on znver3): whatever the target, fewer than -vec's
    // vector of 32.
    let scalar = sets[0]["work"]["frames_per_iteration"].as_f64().unwrap();
    assert!((1.0..32.0).contains(&scalar), "{scalar}");
    assert_eq!(sets[1]["work"]["frames_per_iteration"], 32.0);
}

#[test]
fn inspect_freeverb_struct_and_delay_lines() {
    let _guard = serial();
    let (code, report) = inspect_json(&[
        fixture("freeverb.dsp").to_str().unwrap(),
        "--options",
        "-scal",
        "--options",
        "-vec -vs 32",
    ]);
    assert_eq!(code, 0, "{report}");
    for set in report["sets"].as_array().unwrap() {
        let m = &set["memory"];
        let total = m["struct_bytes"].as_u64().unwrap();
        // Stereo freeverb: 2 × (8 combs + 4 allpasses) = 24 delay lines, rounded up to 8192,
        // 2048 and 1024 floats.
        assert_eq!(m["delay_lines"], 24);
        let largest = m["largest_members"].as_array().unwrap();
        assert_eq!(largest[0]["llvm_type"], "[8192 x float]");
        assert_eq!(largest[0]["bytes"], 8192 * 4);
        assert_eq!(largest[0]["kind"], "delay_line");
        let listed: u64 = largest.iter().map(|x| x["bytes"].as_u64().unwrap()).sum();
        assert_eq!(listed + m["other_members_bytes"].as_u64().unwrap(), total);
        assert_eq!(
            m["delay_line_bytes"],
            (16 * 8192 + 6 * 2048 + 2 * 1024) * 4,
            "{m}"
        );
        assert!(total > m["delay_line_bytes"].as_u64().unwrap() && total < 600_000);
        assert!(m["instance_heap_bytes"].as_u64().unwrap() >= total);
        assert!(set["recursion"]["recurrent_loops"].as_u64().unwrap() > 0);
        assert!(per_frame(set, "float_arith") >= 100.0);
    }
}

#[test]
fn inspect_ten_long_delays_hold_their_memory() {
    let _guard = serial();
    let (code, report) = inspect_json(&[
        "--code",
        "process = par(i, 10, @(hslider(\"d%i\", 100, 0, 48000, 1)));",
        "--options",
        "-scal",
    ]);
    assert_eq!(code, 0, "{report}");
    let m = &report["sets"][0]["memory"];
    assert_eq!(m["delay_lines"], 10);
    assert!(
        m["delay_line_bytes"].as_u64().unwrap() >= 10 * 48000 * 4,
        "{m}"
    );
    let advice = report["sets"][0]["advice"].to_string();
    assert!(advice.contains("10 delay line(s) hold"), "{advice}");
}

#[test]
fn inspect_vector_code_of_a_gain() {
    let _guard = serial();
    // A plain gain: -vec with a vector size the inner loop keeps (LLVM fully unrolls a loop of
    // 32 into scalar code) is vectorised; a smoothed gain's feedback keeps -scal scalar.
    let (code, report) = inspect_json(&[
        "--code",
        "process = *(hslider(\"gain\", 0.5, 0, 1, 0.01));",
        "--options",
        "-vec -vs 128",
    ]);
    assert_eq!(code, 0, "{report}");
    let v = &report["sets"][0]["vectorization"];
    assert!(v["vector_per_frame"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["vector_share_percent"].as_f64().unwrap() > 25.0, "{v}");
    assert!(v["widths"][0]["lanes"].as_u64().unwrap() >= 4);

    let (code, report) = inspect_json(&[
        fixture("stereo_gain.dsp").to_str().unwrap(),
        "--options",
        "-scal",
    ]);
    assert_eq!(code, 0, "{report}");
    let set = &report["sets"][0];
    assert_eq!(set["vectorization"]["vector_per_frame"], 0.0);
    assert_eq!(set["vectorization"]["vector_share_percent"], 0.0);
    assert!(set["recursion"]["carried_values"].as_u64().unwrap() >= 2);
}

#[test]
fn inspect_counts_pow_calls_and_advises() {
    let _guard = serial();
    let (code, report) = inspect_json(&[
        "--code",
        "process = _ <: par(i, 7, pow(abs(_) + 1, hslider(\"e%i\", 1.5, 1, 3, 0.01))) :> _;",
        "--options",
        "-scal",
    ]);
    assert_eq!(code, 0, "{report}");
    let set = &report["sets"][0];
    assert_eq!(set["math_calls"][0]["function"], "powf");
    assert_eq!(set["math_calls"][0]["per_frame"], 7.0);
    assert!(per_frame(set, "calls") >= 7.0);
    let advice = set["advice"].to_string();
    assert!(advice.contains("7 call(s) to powf per frame"), "{advice}");
}

#[test]
fn inspect_table_output_and_bad_input() {
    let _guard = serial();
    let out = faustperf()
        .args([
            "inspect",
            fixture("freeverb.dsp").to_str().unwrap(),
            "--options",
            "-vec -vs 32",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("work/frame"), "{table}");
    assert!(
        table.contains("-vec produced no vector code per frame"),
        "{table}"
    );

    // A compile error names its line, as in analyze; no set inspected → 3.
    let (code, report) = inspect_json(&[fixture("compile_error.dsp").to_str().unwrap()]);
    assert_eq!(code, 3);
    assert_eq!(report["errors"][0]["line"], 4);
    // Refused options are bad usage.
    faustperf()
        .args([
            "inspect",
            fixture("osc.dsp").to_str().unwrap(),
            "--options",
            "-o /tmp/x.ll",
        ])
        .assert()
        .code(2);
}

#[test]
fn inspect_contains_crashes_and_hangs() {
    let _guard = serial();
    let (code, report) = inspect_json(&[
        "--code",
        "process = seq(i, 20000, _);",
        "--options",
        "-scal",
    ]);
    assert_eq!(code, 3);
    assert_eq!(report["errors"][0]["cause"]["kind"], "crashed", "{report}");
    let (code, report) = inspect_json(&[
        "--code",
        "process = _ <: par(i, 2000, _);",
        "--options",
        "-vec",
        "--compile-timeout",
        "2",
    ]);
    assert_eq!(code, 3);
    assert_eq!(
        report["errors"][0]["cause"]["kind"], "timed_out",
        "{report}"
    );
    assert!(live_workers().is_empty(), "{:?}", live_workers());
}

#[test]
fn analyze_inspect_adds_key_facts() {
    let _guard = serial();
    let (code, report, _) = analyze_json(&[
        fixture("osc.dsp").to_str().unwrap(),
        "--options",
        "-vec",
        "--inspect",
    ]);
    assert_eq!(code, 0, "{report}");
    for r in report["results"].as_array().unwrap() {
        let i = &r["inspection"];
        assert_eq!(i["compiler_options"], r["compiler_options"]);
        assert!(i["memory"]["instance_heap_bytes"].as_u64().unwrap() > 0);
        assert!(i["table_reads"][0]["per_frame"].as_f64().unwrap() >= 1.0);
    }
}
