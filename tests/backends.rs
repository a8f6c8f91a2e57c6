//! End-to-end tests of `--backend`: every set on every backend (LLVM, C++, WebAssembly, the
//! interpreter) side by side, the sets each backend refuses before compiling, a broken C++
//! build, compare and profile on one backend, and a crash or trap in generated code on each.
//!
//! The tests are serialised with one lock (`common::serial`, one per test binary): each run pins its measuring thread to the same core with real-time priority, and two at once would measure each other.

mod common;

use common::{analyze_json, bars, compare_json, faustperf, fixture, profile_json, serial};

#[test]
fn backend_all_runs_every_set_on_every_backend_that_supports_it() {
    let _guard = serial();
    let osc = fixture("osc.dsp");
    let args = [
        osc.to_str().unwrap(),
        "--backend",
        "all",
        "--options",
        "",
        "--options",
        "-vec -lv 1",
    ];
    let (code, report, stderr) = analyze_json(&args);
    assert_eq!(code, 0, "{stderr}");
    let results = report["results"].as_array().unwrap();
    let on = |backend: &str| results.iter().filter(|r| r["backend"] == backend).count();
    assert_eq!(
        (on("llvm"), on("cpp"), on("wasm"), on("interp")),
        (2, 2, 1, 2)
    );
    // The one set a backend cannot run is refused before any compile, with the reason.
    let errors = report["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["backend"], "wasm");
    assert_eq!(errors[0]["status"], "unsupported");
    assert!(errors[0]["message"]
        .as_str()
        .unwrap()
        .contains("wrong addresses"));
    // Side by side: each set's MB/s per backend, its fastest backend, and whether LLVM's winner
    // also wins or ties on C++.
    let side = &report["side_by_side"];
    assert_eq!(
        side["backends"],
        serde_json::json!(["llvm", "cpp", "wasm", "interp"])
    );
    for row in side["sets"].as_array().unwrap() {
        let mbps = row["throughput_mbps"].as_array().unwrap();
        assert_eq!(mbps.len(), 4);
        assert!(mbps[0].as_f64().unwrap() > 0.0 && mbps[1].as_f64().unwrap() > 0.0);
        assert!(row["fastest"].is_string());
    }
    assert!(side["llvm_winner_on_cpp"]
        .as_str()
        .unwrap()
        .contains("on cpp"));
    // The interpreter is the slowest way to run it.
    let slowest = results.last().unwrap();
    assert_eq!(slowest["backend"], "interp", "{results:?}");
    // The table says the backend of each set and shows them side by side; CSV has its column.
    let table = faustperf()
        .arg("analyze")
        .args(["--duration", "0.1"])
        .args(args)
        .output()
        .unwrap();
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(
        table.contains("on cpp") && table.contains("Backends side by side"),
        "{table}"
    );
    let csv = faustperf()
        .arg("analyze")
        .args(["--duration", "0.1", "--format", "csv"])
        .args(args)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(
        csv.starts_with("dsp,compiler_options,backend,status"),
        "{csv}"
    );
    assert!(csv.lines().any(|l| l.contains(",interp,ok,")), "{csv}");
    // The chart groups the bars by option set, a colour per backend: one bar per result.
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("all.svg");
    let (_, report, _) = analyze_json(&[&args[..], &["--svg", chart.to_str().unwrap()]].concat());
    let svg = std::fs::read_to_string(&chart).unwrap();
    assert!(svg.contains("per option set and backend"), "{svg}");
    assert_eq!(bars(&svg), report["results"].as_array().unwrap().len());
}

#[test]
fn each_backend_refuses_what_it_cannot_run_before_compiling() {
    let _guard = serial();
    let osc = fixture("osc.dsp");
    let (code, report, _) = analyze_json(&[
        osc.to_str().unwrap(),
        "--backend",
        "interp",
        "--options",
        "-vec -lv 1 -fun",
        "--options",
        "-vec",
    ]);
    // The scalar baseline is measured; both sets are unsupported, not failed.
    assert_eq!(code, 0);
    let messages: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .inspect(|e| assert_eq!(e["status"], "unsupported"))
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert!(messages[0].contains("`-fun` is not supported by the interp backend"));
    assert!(messages[1].contains("try `-vec -lv 1`"));
}

#[test]
fn a_forced_refusal_of_wrong_code_is_caught_by_the_output_check_alone() {
    let _guard = serial();
    // libfaust 2.54.9's WebAssembly vector code reads input sample 2i for i: refused, and
    // when forced, compiled, measured and found `different` by the output check, which keeps
    // it from the recommendation however fast it runs.
    let gain = fixture("stereo_gain.dsp");
    let args = [
        gain.to_str().unwrap(),
        "--backend",
        "wasm",
        "--options",
        "-vec -lv 1",
    ];
    let (code, report, _) = analyze_json(&args);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["errors"][0]["status"], "unsupported", "{report}");
    let (code, report, _) = analyze_json(&[&args[..], &["--force-refused"]].concat());
    assert_eq!(code, 0, "{report}");
    let of = |label: &str| {
        (report["results"].as_array().unwrap().iter())
            .find(|r| r["compiler_options"] == label)
            .unwrap_or_else(|| panic!("{label} in {report}"))
            .clone()
    };
    let (vector, scalar) = (of("-vec -lv 1"), of(""));
    assert_eq!(vector["accuracy"]["verdict"], "different", "{vector}");
    assert!(
        vector["accuracy"]["snr_db"].as_f64().unwrap() < 20.0,
        "{vector}"
    );
    assert_eq!(scalar["accuracy"]["verdict"], "same", "{scalar}");
    assert_eq!(report["recommended"]["options"], "", "{report}");
}

#[test]
fn a_broken_cpp_build_costs_only_the_cpp_sets_and_says_why() {
    let _guard = serial();
    let osc = fixture("osc.dsp");
    let (code, report, _) = analyze_json(&[
        osc.to_str().unwrap(),
        "--backend",
        "llvm,cpp",
        "--options",
        "",
        "--cxxflags",
        "-O2 -include /nonexistent/header.h",
    ]);
    assert_eq!(code, 4, "{report}");
    assert_eq!(report["results"][0]["backend"], "llvm");
    let error = &report["errors"][0];
    assert_eq!(
        (&error["backend"], &error["status"]),
        (&"cpp".into(), &"failed".into())
    );
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("C++ compiler failed") && message.contains("nonexistent/header.h"),
        "{message}"
    );
    // A compiler that cannot be run is said at once.
    faustperf()
        .args([
            "analyze",
            osc.to_str().unwrap(),
            "--backend",
            "cpp",
            "--cxx",
            "no-such-c++",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--cxx"))
        .stderr(predicates::str::contains("no-such-c++"));
}

#[test]
fn compare_and_profile_run_on_the_backend_asked_for() {
    let _guard = serial();
    let osc = fixture("osc.dsp");
    let stereo = fixture("stereo_gain.dsp");
    let (status, r) = compare_json(&[
        osc.to_str().unwrap(),
        stereo.to_str().unwrap(),
        "--backend",
        "cpp",
        "--duration",
        "0.1",
    ]);
    assert_eq!(status, 0, "{r}");
    for i in r["comparison"].as_array().unwrap() {
        assert_eq!(i["backend"], "cpp");
    }
    let (status, p, stderr) = profile_json(&[
        osc.to_str().unwrap(),
        "--backend",
        "wasm",
        "--duration",
        "0.3",
    ]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(p["backend"], "wasm");
    assert!(p["metrics"]["avg_cpu_percent"].as_f64().unwrap() > 0.0);
    // Several backends make no sense for one comparison.
    let (status, _) = compare_json(&[
        osc.to_str().unwrap(),
        stereo.to_str().unwrap(),
        "--backend",
        "all",
    ]);
    assert_eq!(status, 2);
}

#[test]
fn a_crash_or_trap_in_generated_code_fails_that_set_on_each_backend() {
    let _guard = serial();
    // An integer remainder by a control that starts at 0: native code dies of SIGFPE,
    // WebAssembly traps.
    let code =
        r#"d = int(hslider("divisor", 0, 0, 4, 1)); process = _ : *(100) : int : %(d) : float;"#;
    let (code, report, _) = analyze_json(&[
        "--code",
        code,
        "--backend",
        "llvm,cpp,wasm",
        "--options",
        "",
    ]);
    assert_eq!(code, 3, "{report}");
    let errors = report["errors"].as_array().unwrap();
    let message = |backend: &str| {
        errors.iter().find(|e| e["backend"] == backend).unwrap()["message"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(message("llvm").contains("SIGFPE"), "{errors:?}");
    assert!(message("cpp").contains("SIGFPE"), "{errors:?}");
    let wasm = message("wasm");
    assert!(
        wasm.contains("WebAssembly") && wasm.contains("integer divide by zero"),
        "{wasm}"
    );
}
