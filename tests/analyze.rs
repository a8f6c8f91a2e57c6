//! End-to-end tests of `faustperf analyze` with the real libfaust and the real worker process:
//! the ranking of option sets and its numbers, OpenMP and fast-math sets, long blocks, option
//! sets refused or unsupported, compile errors, crashes and hangs contained in the worker,
//! snippets and imports, double precision, code on stdin and the table output, adaptive
//! measuring, and an interrupt that leaves no worker behind.
//!
//! The tests are serialised with one lock (`common::serial`, one per test binary): each run
//! pins its measuring thread to the same core with real-time priority, and two at once would
//! measure each other; and the crash, hang and interrupt tests check that no worker process is
//! left, which another test's workers would contradict.

mod common;

use common::{analyze_json, faustperf, fixture, live_workers, serial, stdout_json};
use serde_json::Value;
use std::path::Path;

#[test]
fn missing_libfaust_is_a_clear_error() {
    let _guard = serial();
    faustperf()
        .env("FAUST_LIB", "/nonexistent/libfaust.so")
        .args(["analyze", fixture("osc.dsp").to_str().unwrap()])
        .assert()
        .code(5)
        .stderr(predicates::str::contains("FAUST_LIB"))
        .stderr(predicates::str::contains("apt-get install faust"))
        .stderr(predicates::str::contains("/nonexistent/libfaust.so"));
}

#[test]
fn ranks_presets_of_an_oscillator_with_consistent_numbers() {
    let _guard = serial();
    let (code, report, _) = analyze_json(&[fixture("osc.dsp").to_str().unwrap()]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["inputs"], 0);
    assert_eq!(report["outputs"], 1);
    let results = report["results"].as_array().unwrap();
    // 8 presets; -vec -omp is not supported by LLVM and is listed as such, not as a failure.
    assert_eq!(results.len(), 7);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["compiler_options"], "-vec -omp");
    assert_eq!(errors[0]["status"], "unsupported");
    assert!(errors[0]["message"].as_str().unwrap().contains("OpenMP"));

    let conditions = &report["conditions"];
    assert!(conditions["libfaust_version"]
        .as_str()
        .unwrap()
        .starts_with("2."));
    assert_eq!(conditions["buffer_size"], 512);
    assert_eq!(conditions["sample_rate"], 44100);
    assert_eq!(conditions["isolation"], "worker");
    assert!(conditions["core"].is_u64());
    // The machine's fingerprint: a short stable id and what it is made of.
    let machine = &conditions["machine"];
    assert_eq!(machine["id"].as_str().unwrap().len(), 12, "{machine}");
    assert!(machine["cores"].as_u64().unwrap() >= 1, "{machine}");

    let mut previous = f64::INFINITY;
    for (i, r) in results.iter().enumerate() {
        assert_eq!(r["rank"], i + 1);
        let mbps = r["throughput_mbps"].as_f64().unwrap();
        // Ranks follow throughput (one precision here).
        assert!(mbps <= previous);
        previous = mbps;
        // CPU % and MB/s come from the same estimate: 1 output × 4 bytes per frame.
        let cpu = r["cpu_percent"].as_f64().unwrap();
        let expected_cpu = 100.0 * 4.0 * 44100.0 / (mbps * 1048576.0);
        assert!(
            (cpu - expected_cpu).abs() < 1e-6 * expected_cpu,
            "{cpu} vs {expected_cpu}"
        );
        let ci = r["throughput_ci95_mbps"].as_array().unwrap();
        assert!(ci[0].as_f64().unwrap() <= ci[1].as_f64().unwrap());
        assert!(r["memory_bytes"].as_u64().unwrap() > 0);
        assert!(r["compile_seconds"].as_f64().unwrap() > 0.0);
        assert!(r["blocks_measured"].as_u64().unwrap() >= 10);
        // The headline is the fastest blocks; a host sees the median and the mean block.
        let f = |k: &str| r[k].as_f64().unwrap();
        assert!(f("throughput_mbps") >= f("throughput_median_mbps"));
        assert!(f("throughput_median_mbps") >= f("throughput_p5_mbps"));
        assert!(f("cpu_percent") <= f("cpu_percent_median_block"));
        assert!((f("headroom_percent") - (100.0 - f("cpu_percent_mean_block"))).abs() < 1e-9);
        // Interleaved: every set ran in the same passes (a fixed duration: none left early).
        assert_eq!(r["timing"]["rounds"], results[0]["timing"]["rounds"]);
    }
    // -vec -fun and -vec -fun -vs 32 are the same machine code (32 is the default size): tied
    // whatever the numbers say.
    let set = |o: &str| results.iter().find(|r| r["compiler_options"] == o).unwrap();
    assert_eq!(
        set("-vec -fun")["code_digest"],
        set("-vec -fun -vs 32")["code_digest"]
    );
    assert_ne!(
        set("-vec -fun")["code_digest"],
        set("-vec -fun -vs 64")["code_digest"]
    );
    assert_eq!(
        set("-vec -fun")["tied_with_best"],
        set("-vec -fun -vs 32")["tied_with_best"]
    );
    // The category is judged on the mean block, as a host runs it.
    let recommended = results
        .iter()
        .find(|r| r["is_recommended"] == true)
        .unwrap();
    assert!(recommended["cpu_percent_mean_block"].as_f64().unwrap() < 10.0);
    assert_eq!(report["category"], "excellent");
    let baseline = results.iter().find(|r| r["is_baseline"] == true).unwrap();
    assert_eq!(baseline["compiler_options"], "");
    assert!((baseline["speedup_vs_baseline"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    let recommended: Vec<&Value> = results
        .iter()
        .filter(|r| r["is_recommended"] == true)
        .collect();
    assert_eq!(recommended.len(), 1);
    assert_eq!(recommended[0]["tied_with_best"], true);
    assert_eq!(
        report["recommended_options"],
        recommended[0]["compiler_options"]
    );

    // The design's report blocks, beside the fields above.
    let osc = fixture("osc.dsp");
    assert_eq!(report["dsp_analyzed"], report["dsp"]);
    assert_eq!(report["test_config"]["sample_rate"], 44100);
    assert_eq!(report["test_config"]["backend"], "llvm");
    assert!(report["test_config"]["duration_seconds"].as_f64().unwrap() > 0.0);
    let chosen = &report["recommended"];
    assert_eq!(chosen["options"], report["recommended_options"]);
    assert_eq!(chosen["rationale"], report["recommendation_rationale"]);
    assert_eq!(chosen["speedup"], recommended[0]["speedup_vs_baseline"]);
    // The command that applies it names the file and the options.
    let options = recommended[0]["compiler_options"].as_str().unwrap();
    let command = &report["recommended_command"];
    assert_eq!(
        command["architecture"],
        format!("faust2<arch> {options} {}", osc.display()).replace("  ", " ")
    );
    assert!(command["faust"]
        .as_str()
        .unwrap()
        .starts_with("faust -lang cpp "));
    assert!(report["conclusion"]
        .as_str()
        .unwrap()
        .contains(command["architecture"].as_str().unwrap()));
    // Vectorisation's benefit is the best -vec set over scalar code; OpenMP was refused by
    // LLVM, so its benefit is unknown and the advice says where it can be measured.
    let best_vector = results
        .iter()
        .find(|r| r["compiler_options"].as_str().unwrap().contains("-vec"))
        .unwrap();
    let benefit = report["vectorization_benefit"].as_f64().unwrap();
    let expected = best_vector["throughput_mbps"].as_f64().unwrap()
        / baseline["throughput_mbps"].as_f64().unwrap();
    assert!((benefit - expected).abs() < 1e-9 * expected);
    assert!(report["openmp_benefit"].is_null());
    assert!(report["recommendations"].to_string().contains(
        "OpenMP was not measured: llvm refuses -vec -omp; measure it with --backend cpp"
    ));
    // Samples per second × channels × 4 bytes is the throughput.
    for r in results {
        assert_eq!(r["channels_processed"], 1);
        let bytes = r["samples_per_second"].as_f64().unwrap() * 4.0 / 1048576.0;
        let mbps = r["throughput_mbps"].as_f64().unwrap();
        assert!((bytes - mbps).abs() < 1e-9 * mbps, "{bytes} vs {mbps}");
    }
    // Every set's output was checked against the scalar -double reference: the oscillator
    // computes the same in every set (its single-precision phase drifts from the reference's,
    // so even the scalar code's SNR is modest: the float floor), and sets of the same code
    // render the same samples.
    for r in results {
        assert_eq!(r["accuracy"]["verdict"], "same", "{r}");
    }
    assert_eq!(
        set("-vec -fun")["accuracy"]["output_digest"],
        set("-vec -fun -vs 32")["accuracy"]["output_digest"]
    );
    // Cycles per frame are the same blocks at the core's clock: over ns per frame, a clock
    // within the range the run saw (the rounds' clocks weigh in unevenly, hence the margin).
    // Without the TSC the core's clock is unknown and so are the cycles.
    let clock = &conditions["core_clock_ghz"];
    for r in results {
        let cycles = &r["cycles_per_frame"];
        if clock.is_null() {
            assert!(cycles.is_null(), "{r}");
            continue;
        }
        let cycles = cycles.as_f64().unwrap();
        let ci = r["cycles_per_frame_ci95"].as_array().unwrap();
        assert!(ci[0].as_f64().unwrap() <= cycles && cycles <= ci[1].as_f64().unwrap());
        let ghz = cycles * r["samples_per_second"].as_f64().unwrap() / 1e9;
        let (slow, fast) = (clock[0].as_f64().unwrap(), clock[1].as_f64().unwrap());
        assert!(
            0.85 * slow <= ghz && ghz <= 1.15 * fast,
            "{ghz} GHz from the cycles, {slow}-{fast} GHz seen: {r}"
        );
    }
}

/// The design's OpenMP rule where OpenMP runs (Faust's C++ built with OpenMP): the benefit is
/// the best -omp set over the best without, and the advice follows the 2× rule either way.
#[test]
fn openmp_is_measured_on_cpp_and_judged_by_the_design_rule() {
    let _guard = serial();
    let (code, report, stderr) = analyze_json(&[
        fixture("freeverb.dsp").to_str().unwrap(),
        "--backend",
        "cpp",
        "--options",
        "-vec",
        "--options",
        "-vec -omp",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let results = report["results"].as_array().unwrap();
    let mbps = |o: &str| {
        (results.iter().find(|r| r["compiler_options"] == o))
            .and_then(|r| r["throughput_mbps"].as_f64())
            .unwrap_or_else(|| panic!("{o}: {report}"))
    };
    let single = mbps("").max(mbps("-vec"));
    let benefit = report["openmp_benefit"].as_f64().unwrap();
    assert!((benefit - mbps("-vec -omp") / single).abs() < 1e-9 * benefit);
    let advice = report["recommendations"].to_string();
    if benefit > 2.0 {
        assert!(
            advice.contains("OpenMP pays for multi-threaded hosts"),
            "{advice}"
        );
    } else {
        assert!(advice.contains("OpenMP does not pay here"), "{advice}");
    }
    assert_eq!(report["test_config"]["backend"], "cpp");
    // The command for a C++ build names the compiler and flags that were measured.
    assert!(report["recommended_command"]["cxx"]
        .as_str()
        .unwrap()
        .contains("-O3"));
}

#[test]
fn fast_math_is_other_code_though_libfaust_names_the_same_options() {
    let _guard = serial();
    // libfaust's option string and key leave -fm out: only the machine code tells the sets apart.
    let out = faustperf()
        .args(["analyze", "--format", "json", "--duration", "0.3", "--code"])
        .arg("process = _ <: par(i, 3, pow(abs(_) + 1, hslider(\"e%i\", 1.5, 1, 3, 0.01))) :> _;")
        .args(["--options", "-scal", "--options", "-scal -fm def"])
        .output()
        .unwrap();
    let report = stdout_json(&out);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(
        results[0]["normalized_options"],
        results[1]["normalized_options"]
    );
    assert_ne!(results[0]["code_digest"], results[1]["code_digest"]);
    // A tie, if any, comes from the pass-by-pass comparison (12 passes), whose interval is
    // reported.
    let slower = &results[1];
    let low = slower["time_vs_fastest"]["ci95"][0].as_f64().unwrap();
    assert_eq!(slower["tied_with_best"], low <= 1.01, "{slower}");
}

#[test]
fn blocks_longer_than_10_us_are_timed_one_by_one() {
    let _guard = serial();
    // 4096 frames of freeverb take far more than 10 µs on any machine.
    let (code, report, _) = analyze_json(&[
        fixture("freeverb.dsp").to_str().unwrap(),
        "--bs",
        "4096",
        "--options",
        "-vec",
    ]);
    assert_eq!(code, 0, "{report}");
    for r in report["results"].as_array().unwrap() {
        assert_eq!(r["timing"]["batch"], 1, "{r}");
        assert!(r["timing"]["best_mean_ns"].as_f64().unwrap() > 10_000.0);
    }
    assert!(report["conditions"]["clock_overhead_ns"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_snippet_without_the_standard_library_import_gets_it_with_a_note() {
    let _guard = serial();
    let (code, report, _) =
        analyze_json(&["--code", "process = os.osc(440);", "--options", "-vec"]);
    assert_eq!(code, 0, "{report}");
    assert!(report["warnings"]
        .to_string()
        .contains("without importing it"));
    // The same one-liner saved as a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("osc.dsp");
    std::fs::write(&file, "process = os.osc(440);\n").unwrap();
    let (code, report, _) = analyze_json(&[file.to_str().unwrap(), "--options", "-vec"]);
    assert_eq!(code, 0, "{report}");
    assert!(report["warnings"]
        .to_string()
        .contains("without importing it"));
    // An undefined name of its own is still an error, on the user's line.
    let (code, report, _) = analyze_json(&[
        "--code",
        "process = os.osc(440)\n  : foo;",
        "--options",
        "-vec",
    ]);
    assert_eq!(code, 3, "{report}");
    assert_eq!(report["errors"][0]["line"], 2, "{report}");
    assert!(report["errors"][0]["message"].to_string().contains("foo"));
    // Code that imports a library itself is left alone.
    let (code, report, _) = analyze_json(&[
        "--code",
        "import(\"maths.lib\"); process = os.osc(440);",
        "--options",
        "-vec",
    ]);
    assert_eq!(code, 3, "{report}");
    assert!(report["errors"][0]["message"]
        .to_string()
        .contains("undefined symbol : os"));
}

#[test]
fn compile_error_names_the_line() {
    let _guard = serial();
    let (code, report, _) = analyze_json(&[
        fixture("compile_error.dsp").to_str().unwrap(),
        "--options",
        "-vec",
    ]);
    assert_eq!(code, 3);
    assert_eq!(report["success"], false);
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    for e in errors {
        assert_eq!(e["status"], "failed");
        assert_eq!(e["line"], 4);
        assert!(
            e["message"].as_str().unwrap().contains("undefined_thing"),
            "{e}"
        );
    }
}

#[test]
fn refuses_options_that_touch_files_or_are_unknown() {
    let _guard = serial();
    for (option, expected) in [
        ("-o /tmp/out.ll", "writes the generated code"),
        ("-O /tmp", "directory for generated files"),
        ("-svg", "SVG"),
        ("-json", "JSON"),
        ("-xml", "XML"),
        ("-mdoc", "math documentation"),
        ("-I /etc", "read libraries"),
        ("-A /etc", "architectures"),
        ("-bogus", "not a code-generation option"),
        ("-vs x", "whole number"),
        ("-fm /etc/passwd", "def"),
    ] {
        faustperf()
            .args([
                "analyze",
                fixture("osc.dsp").to_str().unwrap(),
                "--options",
                option,
            ])
            .assert()
            .code(2)
            .stderr(predicates::str::contains(expected));
    }
    assert!(!Path::new("/tmp/out.ll").exists());
}

#[test]
fn crash_is_contained_and_named() {
    let _guard = serial();
    let (code, report, _) =
        analyze_json(&["--code", "process = seq(i, 20000, _);", "--options", "-vec"]);
    assert_eq!(code, 3);
    for e in report["errors"].as_array().unwrap() {
        let message = e["message"].as_str().unwrap();
        assert!(
            message.contains("crashed while compiling") && message.contains("SIG"),
            "{message}"
        );
        assert_eq!(e["cause"]["kind"], "crashed");
    }
    assert_eq!(report["errors"].as_array().unwrap().len(), 2);
    assert!(live_workers().is_empty(), "{:?}", live_workers());
}

#[test]
fn hang_times_out_and_leaves_no_worker() {
    let _guard = serial();
    let (code, report, _) = analyze_json(&[
        "--code",
        "process = _ <: par(i, 2000, _);",
        "--compile-timeout",
        "2",
    ]);
    assert_eq!(code, 3);
    let errors = report["errors"].as_array().unwrap();
    let timed_out = errors
        .iter()
        .filter(|e| e["cause"]["kind"] == "timed_out")
        .count();
    // Every preset times out except -vec -omp, which may fail at once or time out too.
    assert!(timed_out >= 7, "{errors:?}");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("timed out after 2 s"));
    assert!(live_workers().is_empty(), "{:?}", live_workers());
}

#[test]
fn a_set_the_backend_cannot_run_does_not_stop_the_others() {
    let _guard = serial();
    // -vec -sch produces an invalid LLVM function in libfaust 2.54.9: it is refused before
    // compiling, with that reason; the other sets still run.
    let (code, report, _) = analyze_json(&[
        fixture("stereo_gain.dsp").to_str().unwrap(),
        "--options",
        "-vec -sch",
        "--options",
        "-vec",
    ]);
    assert_eq!(code, 0, "{report}");
    let measured: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["compiler_options"].as_str().unwrap())
        .collect();
    assert!(measured.contains(&"") && measured.contains(&"-vec"));
    let error = &report["errors"][0];
    assert_eq!(error["compiler_options"], "-vec -sch");
    assert_eq!(error["status"], "unsupported");
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("Broken function found"));
}

#[test]
fn zero_outputs_is_refused_by_faust_with_its_reason() {
    let _guard = serial();
    let (code, report, _) =
        analyze_json(&[fixture("meter.dsp").to_str().unwrap(), "--options", ""]);
    assert_eq!(code, 3);
    assert!(report["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("no output signal"));
}

#[test]
fn double_precision_counts_eight_bytes() {
    let _guard = serial();
    let (code, report, _) = analyze_json(&[
        fixture("resonator_double.dsp").to_str().unwrap(),
        "--double",
        "--options",
        "-vec",
    ]);
    assert_eq!(code, 0, "{report}");
    for r in report["results"].as_array().unwrap() {
        assert!(r["compiler_options"].as_str().unwrap().ends_with("-double"));
        assert!(r["normalized_options"]
            .as_str()
            .unwrap()
            .contains("-double"));
        assert_eq!(
            r["warnings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|w| w.as_str().unwrap().contains("NaN"))
                .count(),
            0
        );
        let (mbps, cpu) = (
            r["throughput_mbps"].as_f64().unwrap(),
            r["cpu_percent"].as_f64().unwrap(),
        );
        // 1 in + 1 out, 8 bytes per sample.
        let expected_cpu = 100.0 * 16.0 * 44100.0 / (mbps * 1048576.0);
        assert!((cpu - expected_cpu).abs() < 1e-6 * expected_cpu);
    }
}

#[test]
fn imports_resolve_next_to_the_file_from_any_directory() {
    let _guard = serial();
    let out = faustperf()
        .current_dir(std::env::temp_dir())
        .args([
            "analyze",
            "--duration",
            "0.1",
            "--format",
            "csv",
            "--options",
            "-vec",
        ])
        .arg(fixture("imports/uses_local_lib.dsp"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    // Scalar and -vec measured; the report's warnings, if any, follow as `warning` rows.
    assert_eq!(
        csv.lines().filter(|l| l.contains(",ok,")).count(),
        2,
        "{csv}"
    );
    assert!(csv.lines().skip(3).all(|l| l.contains(",warning,")));
}

#[test]
fn fast_math_works_in_the_worker() {
    let _guard = serial();
    let (code, report, _) = analyze_json(&[
        fixture("fastmath.dsp").to_str().unwrap(),
        "--options",
        "-fm def",
        "--options",
        "-vec -fm def",
    ]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["results"].as_array().unwrap().len(), 2);
}

#[test]
fn code_on_stdin_and_table_output() {
    let _guard = serial();
    let out = faustperf()
        .args([
            "analyze",
            "--duration",
            "0.1",
            "--options",
            "-vec",
            "--control",
            "--no-realtime",
        ])
        .write_stdin(
            "import(\"stdfaust.lib\");\nprocess = os.osc(hslider(\"freq\", 440, 20, 2000, 1));\n",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(
        table.starts_with("stdin: 0 in, 1 out, bs 512, 44100 Hz"),
        "{table}"
    );
    assert!(table.contains("baseline") && table.contains("recommended"));
    assert!(table.contains("Conclusion: Use "));
    // Progress goes to stderr, one line per set when stderr is not a terminal.
    let progress = String::from_utf8(out.stderr).unwrap();
    assert!(
        progress.contains("(scalar): ") && progress.contains("-vec: "),
        "{progress}"
    );
}

#[test]
fn a_debian_example_with_sibling_imports() {
    let _guard = serial();
    let example = Path::new("/usr/share/doc/faust-common/examples/filtering/multibandFilter.dsp");
    assert!(
        example.exists(),
        "the faust package's examples are part of the set-up"
    );
    let (code, report, _) =
        analyze_json(&[example.to_str().unwrap(), "--options", "-vec -fun -vs 64"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["results"].as_array().unwrap().len(), 2);
}

#[test]
fn adaptive_measuring_says_why_it_stopped() {
    let _guard = serial();
    let out = faustperf()
        .args([
            "analyze",
            "--format",
            "json",
            "--no-cache",
            "--jobs",
            "2",
            "--max-time",
            "1",
        ])
        .arg(fixture("freeverb.dsp"))
        .args(["--options", "-vec", "--options", "-vec -fun -vs 4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["conditions"]["budget"]["kind"], "adaptive");
    for r in report["results"].as_array().unwrap() {
        let stop = r["stop_reason"].as_str().unwrap();
        let rounds = r["timing"]["rounds"].as_u64().unwrap();
        match stop {
            "precision_reached" => {
                assert!(rounds >= 10);
                // Within ±1 %, or as wide as the core's clock wandered, which measuring longer
                // cannot narrow.
                let clock = &report["conditions"]["core_clock_ghz"];
                let wander = clock[0]
                    .as_f64()
                    .zip(clock[1].as_f64())
                    .map_or(0.0, |(slow, fast)| 1.0 - slow / fast);
                let ci = r["throughput_ci95_mbps"].as_array().unwrap();
                let half = (ci[1].as_f64().unwrap() - ci[0].as_f64().unwrap()) / 2.0;
                let mbps = r["throughput_mbps"].as_f64().unwrap();
                assert!(half <= 0.0101f64.max(wander * 1.01) * mbps, "{r}");
            }
            "time_cap" => assert!(r["measure_seconds"].as_f64().unwrap() >= 0.9),
            "out_of_race" => assert!(rounds >= 10 && r["rank"].as_u64().unwrap() > 1),
            other => panic!("unexpected stop reason {other}"),
        }
    }
    let (_, fixed, _) = analyze_json(&[fixture("osc.dsp").to_str().unwrap(), "--options", "-vec"]);
    for r in fixed["results"].as_array().unwrap() {
        assert_eq!(r["stop_reason"], "fixed_duration");
        // 0.1 s in rounds of 25 ms.
        assert_eq!(r["timing"]["rounds"], 4);
    }
}

#[test]
fn interrupt_leaves_no_worker_and_no_partial_entry() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("faustperf"))
        .arg("analyze")
        .arg(fixture("freeverb.dsp"))
        .args(["--format", "json", "--cache-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while live_workers().len() < 2 && start.elapsed() < std::time::Duration::from_secs(10) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(700));
    // SAFETY: kill on our own child's pid with SIGINT.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    child.wait().unwrap();
    let start = std::time::Instant::now();
    while !live_workers().is_empty() && start.elapsed() < std::time::Duration::from_secs(2) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(live_workers().is_empty(), "{:?}", live_workers());
    // Every entry present is whole: a warm run takes each from the cache without a warning.
    let (code, report, _) = analyze_json(&[
        fixture("freeverb.dsp").to_str().unwrap(),
        "--cache-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(!report["warnings"].to_string().contains("discarded"));
}

/// Each set is compiled in a process that compiled nothing before, so its code is the same
/// whatever was compiled before it (libfaust's code depends on what its process compiled:
/// freeverb's scalar code differed when it came after seven other sets in one process), and a
/// warm run, from the cache, times the same code as the cold run.
#[test]
fn a_sets_code_is_the_same_compiled_first_or_last_and_cold_or_warm() {
    let _guard = serial();
    let freeverb = fixture("freeverb.dsp");
    let cache = tempfile::tempdir().unwrap();
    let digests = |sets: &[&str]| {
        let mut args = vec![freeverb.to_str().unwrap(), "--jobs", "1", "--cache-dir"];
        args.push(cache.path().to_str().unwrap());
        for set in sets {
            args.extend(["--options", set]);
        }
        let (code, report, stderr) = analyze_json(&args);
        assert_eq!(code, 0, "{stderr}");
        let results = report["results"].as_array().unwrap().clone();
        let digest = |o: &str| {
            let set = results.iter().find(|r| r["compiler_options"] == o).unwrap();
            (set["code_digest"].clone(), set["cached"].clone())
        };
        sets.iter().map(|s| digest(s)).collect::<Vec<_>>()
    };
    let alone = digests(&[""]);
    std::fs::remove_dir_all(cache.path()).unwrap();
    let sets = [
        "-vec -fun",
        "-vec",
        "-vec -vs 64",
        "-vec -fun -vs 128",
        "-vec -lv 1",
        "-scal -mcd 4",
        "-vec -dfs",
        "",
    ];
    let cold = digests(&sets);
    assert_eq!(
        cold[7], alone[0],
        "scalar code compiled last differs from compiled first"
    );
    let warm = digests(&sets);
    for (c, w) in cold.iter().zip(&warm) {
        assert_eq!((&c.0, &c.1, &w.1), (&w.0, &false.into(), &true.into()));
    }
}

/// A set whose output is `different` (here `-fm def`'s approximated `pow`, far from the
/// reference) is reported so and never recommended under the default guard; `--accuracy
/// report` reports it and ranks by speed alone; `off` checks nothing.
#[test]
fn a_set_that_computes_something_else_is_reported_and_never_recommended() {
    let _guard = serial();
    let code = "process = _ <: par(i, 3, pow(abs(_) + 1, hslider(\"e%i\", 1.5, 1, 3, 0.01))) :> _;";
    let run = |extra: &[&str]| {
        let out = faustperf()
            .args([
                "analyze",
                "--format",
                "json",
                "--duration",
                "0.3",
                "--code",
                code,
            ])
            .args(["--options", "-scal", "--options", "-scal -fm def"])
            .args(extra)
            .output()
            .unwrap();
        (out.status.code(), stdout_json(&out))
    };
    let accuracy = |report: &Value, set: &str| {
        let results = report["results"].as_array().unwrap();
        results
            .iter()
            .find(|r| r["compiler_options"] == set)
            .unwrap()
            .clone()
    };
    let (status, report) = run(&[]);
    assert_eq!(status, Some(0), "{report}");
    let fast = accuracy(&report, "-scal -fm def");
    assert_eq!(fast["accuracy"]["verdict"], "different", "{fast}");
    assert!(
        fast["accuracy"]["snr_db"].as_f64().unwrap() < 60.0,
        "{fast}"
    );
    assert_eq!(fast["is_recommended"], false);
    assert_eq!(accuracy(&report, "-scal")["accuracy"]["verdict"], "same");
    assert_eq!(report["recommended_options"], "-scal");
    let advice = report["recommendations"].to_string();
    assert!(
        advice.contains("1 different") && advice.contains("-scal -fm def: different (SNR"),
        "{advice}"
    );
    if fast["rank"] == 1 {
        assert!(advice.contains("computes something else"), "{advice}");
    }
    // Reported, not guarded: the same verdict; a tolerance below its SNR makes it `close`.
    let (_, report) = run(&["--accuracy", "report"]);
    assert_eq!(
        accuracy(&report, "-scal -fm def")["accuracy"]["verdict"],
        "different"
    );
    let (_, report) = run(&["--accuracy-tolerance", "1"]);
    assert_eq!(
        accuracy(&report, "-scal -fm def")["accuracy"]["verdict"],
        "close"
    );
    let (_, report) = run(&["--accuracy", "off"]);
    assert!(report["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r.get("accuracy").is_none()));
    // Every input channel reads the same samples in single and double precision: a stereo
    // gain's float code is within rounding of the reference (its second channel once read
    // other noise: -3 dB).
    let (_, report, _) = analyze_json(&[
        fixture("stereo_gain.dsp").to_str().unwrap(),
        "--options",
        "",
    ]);
    let snr = report["results"][0]["accuracy"]["snr_db"].as_f64().unwrap();
    assert!(snr > 60.0, "{report}");
    // Freeverb's single-precision code strays from the double reference (all its float sets
    // read about -1 dB against it): -vec is judged against the scalar set's output, and is
    // the same computation in another order.
    let (_, report, _) = analyze_json(&[
        fixture("freeverb.dsp").to_str().unwrap(),
        "--options",
        "",
        "--options",
        "-vec",
    ]);
    let results = report["results"].as_array().unwrap();
    let of = |o: &str| &results.iter().find(|r| r["compiler_options"] == o).unwrap()["accuracy"];
    assert_eq!(of("-vec")["verdict"], "same", "{report}");
    if of("")["snr_db"].as_f64().is_some_and(|floor| floor < 60.0) {
        assert!(
            of("-vec")["vs_scalar"]["snr_db"]
                .as_f64()
                .unwrap_or(f64::INFINITY)
                >= 100.0,
            "{report}"
        );
    }
    // A tolerance that is no SNR is refused.
    faustperf()
        .args(["analyze", "--code", code, "--accuracy-tolerance=-3"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("accuracy tolerance -3"));
}

#[test]
fn the_sweeps_run_faust_2_54_and_2_83_stages() {
    let _guard = serial();
    let osc = fixture("osc.dsp");
    let labels = |report: &Value| -> Vec<String> {
        (report["results"].as_array().unwrap().iter())
            .chain(report["errors"].as_array().unwrap())
            .map(|r| r["compiler_options"].as_str().unwrap().to_string())
            .collect()
    };
    // Blocks of 8 frames: vector sizes 4 and 8, -mcd up to 8 (2.83) or 256 (2.54.9).
    let run = |sweep: &str| {
        let args = [osc.to_str().unwrap(), "--sweep", sweep, "--bs", "8"];
        let (code, report, _) = analyze_json(&args);
        assert_eq!(code, 0, "{report}");
        labels(&report)
    };
    let old = run("faustbench");
    assert!(old.contains(&"-scal".to_string()), "{old:?}");
    assert!(old.iter().any(|l| l.ends_with("-mcd 256")), "{old:?}");
    assert!(!old.iter().any(|l| l.contains("-ct 0")), "{old:?}");
    let new = run("faustbench-2.83");
    for set in [
        "-scal -exp10",
        "-scal -mcd 0",
        "-scal -mcd 8",
        "-vec -fun -lv 1 -vs 8",
    ] {
        assert!(new.contains(&set.to_string()), "{set} in {new:?}");
    }
    // The best vector set refined up to the block size, then -ct 0 on the faster kind.
    assert!(
        new.iter()
            .any(|l| l.starts_with("-vec") && l.ends_with("-mcd 8")),
        "{new:?}"
    );
    assert!(!new.iter().any(|l| l.ends_with("-mcd 16")), "{new:?}");
    assert!(new.iter().any(|l| l.ends_with("-ct 0")), "{new:?}");
}

#[test]
fn the_wide_search_races_and_answers_within_a_budget() {
    let _guard = serial();
    let osc = fixture("osc.dsp");
    let osc = osc.to_str().unwrap();
    // The whole search: the grid, around the leader, switches; what it did, and why it won.
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("search.svg");
    let svg_arg = svg.to_str().unwrap();
    let (code, report, stderr) =
        analyze_json(&[osc, "--sweep", "wide", "--bs", "64", "--svg", svg_arg]);
    assert_eq!(code, 0, "{report}");
    let chart = std::fs::read_to_string(&svg).unwrap();
    assert!(
        chart.contains("wide search, faded: left the race early"),
        "{chart}"
    );
    let search = &report["search"];
    assert_eq!(search["strategy"], "wide", "{report}");
    let labels: Vec<&str> = (report["results"].as_array().unwrap().iter())
        .map(|r| r["compiler_options"].as_str().unwrap())
        .collect();
    for set in ["", "-mcd 0", "-vec -fun -lv 1 -vs 32"] {
        assert!(labels.contains(&set), "{set} in {labels:?}");
    }
    assert!(labels.iter().any(|l| l.ends_with("-fm def")), "{labels:?}");
    assert_eq!(search["measured"].as_u64().unwrap() as usize, labels.len());
    assert!(
        search["considered"].as_u64() >= search["measured"].as_u64(),
        "{search}"
    );
    assert!(
        search["not_tried"].as_array().unwrap().is_empty(),
        "{search}"
    );
    assert!(
        search["why"].as_str().unwrap().contains(" is the "),
        "{search}"
    );
    assert!(stderr.contains("leader: "), "{stderr}");
    // The guard holds in a search too: the recommendation computes what the scalar code does.
    let recommended = (report["results"].as_array().unwrap().iter())
        .find(|r| r["compiler_options"] == report["recommended"]["options"])
        .unwrap();
    assert_ne!(
        recommended["accuracy"]["verdict"], "different",
        "{recommended}"
    );

    // Half a second cannot hold the whole search: an answer anyway, with what was not tried.
    let (code, report, _) =
        analyze_json(&[osc, "--sweep", "wide", "--budget", "0.5", "--no-cache"]);
    assert_eq!(code, 0, "{report}");
    assert!(report["recommended"]["options"].is_string(), "{report}");
    let search = &report["search"];
    assert_eq!(search["budget_seconds"], 0.5, "{search}");
    assert!(
        !search["not_tried"].as_array().unwrap().is_empty(),
        "{search}"
    );

    // A budget is for a search, and a positive time.
    for args in [
        &[osc, "--budget", "5"][..],
        &[osc, "--sweep", "wide", "--budget", "0"],
    ] {
        let out = faustperf().arg("analyze").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}
