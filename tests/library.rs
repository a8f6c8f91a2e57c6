//! The library API that audio hosts call, in process (trusted code).
//!
//! Serialised: libfaust compiles are process-wide and the measurements share a core.

use faustperf::analyze::options::parse_option_set;
use faustperf::analyze::{analyze, AnalyzeRequest, OptionSets, Silent};
use faustperf::libfaust::{DspSource, FaustError, LibFaust};
use faustperf::measure::MeasureConfig;
use faustperf::worker::{InProcess, Phase, RunError};
use std::sync::Mutex;

static SERIAL: Mutex<()> = Mutex::new(());

fn request(code: &str, sets: &[&str]) -> AnalyzeRequest {
    AnalyzeRequest {
        source: DspSource::Code {
            name: "lib-test".into(),
            code: code.into(),
        },
        name: "lib-test".into(),
        option_sets: OptionSets::Custom(
            sets.iter().map(|s| parse_option_set(s).unwrap()).collect(),
        ),
        measure: MeasureConfig {
            frames: 256,
            sample_rate: 48000,
            duration_seconds: 0.05,
            best_n: 10,
            seed: 7,
            random_controls: true,
            flush_denormals: true,
            realtime: false,
            core: None,
        },
        tie_threshold_percent: 1.0,
    }
}

#[test]
fn in_process_analysis() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    assert!(LibFaust::get().unwrap().version().starts_with("2."));
    let code = "import(\"stdfaust.lib\"); process = _ : fi.lowpass(2, hslider(\"f\", 1000, 100, 5000, 1));";
    let report = analyze(&request(code, &["-vec"]), &mut InProcess, &mut Silent);
    assert!(report.success, "{:?}", report.errors);
    assert_eq!(report.conditions.isolation, "in_process");
    assert_eq!(report.conditions.sample_rate, 48000);
    assert_eq!(report.results.len(), 2);
    assert_eq!((report.inputs, report.outputs), (Some(1), Some(1)));
    assert!(report.results.iter().all(|r| r.timing.samples >= 10));
}

#[test]
fn fast_math_is_refused_in_a_process_that_lacks_it() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // This test binary links fastmath.cpp but does not export it: -fm would crash the JIT here.
    let report = analyze(
        &request("process = exp;", &["", "-fm def"]),
        &mut InProcess,
        &mut Silent,
    );
    let fm = report
        .errors
        .iter()
        .find(|e| e.compiler_options == "-fm def")
        .unwrap();
    assert_eq!(
        fm.cause,
        RunError::Faust {
            phase: Phase::Compile,
            error: FaustError::FastMathUnavailable
        }
    );
    // The other set still ran.
    assert_eq!(report.results.len(), 1);
}
