//! The library API that audio hosts call, in process (trusted code).
//!
//! Serialised: libfaust compiles are process-wide and the measurements share a core.

use faustperf::analyze::options::parse_option_set;
use faustperf::analyze::{analyze, AnalyzeRequest, OptionSets, Silent};
use faustperf::cache::Cache;
use faustperf::inspect::{inspect, InspectRequest};
use faustperf::libfaust::{DspSource, FaustError, LibFaust};
use faustperf::measure::{Budget, MeasureConfig};
use faustperf::worker::{Phase, RunError, Workers};
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
            budget: Budget::Fixed { seconds: 0.1 },
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
    let report = analyze(
        &request(code, &["-vec"]),
        &mut Workers::in_process(),
        None,
        &mut Silent,
    );
    assert!(report.success, "{:?}", report.errors);
    assert_eq!(report.conditions.isolation, "in_process");
    assert_eq!(report.conditions.sample_rate, 48000);
    assert_eq!(report.results.len(), 2);
    assert_eq!((report.inputs, report.outputs), (Some(1), Some(1)));
    assert!(report
        .results
        .iter()
        .all(|r| r.timing.samples >= 10 && r.timing.rounds == 2));
    assert!(report.results.iter().all(|r| !r.cached));
}

#[test]
fn cached_code_skips_the_compiler_and_measures_the_same_program() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(dir.path(), 1 << 30).unwrap();
    let request = request(
        "import(\"stdfaust.lib\"); process = os.osc(440);",
        &["-vec"],
    );
    let cold = analyze(
        &request,
        &mut Workers::in_process(),
        Some(&cache),
        &mut Silent,
    );
    assert!(cold.results.iter().all(|r| !r.cached));
    assert_eq!(cache.stats().entries, 2);
    let warm = analyze(
        &request,
        &mut Workers::in_process(),
        Some(&cache),
        &mut Silent,
    );
    assert!(warm.results.iter().all(|r| r.cached), "{:?}", warm.warnings);
    for c in &cold.results {
        let w = warm
            .results
            .iter()
            .find(|w| w.compiler_options == c.compiler_options)
            .unwrap();
        // The facts of the compile are carried over with the cached code.
        assert_eq!(c.normalized_options, w.normalized_options);
        assert_eq!(c.memory_bytes, w.memory_bytes);
        assert_eq!(c.compile_seconds, w.compile_seconds);
    }
}

#[test]
fn fast_math_is_refused_in_a_process_that_lacks_it() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    // This test binary links fastmath.cpp but does not export it: -fm would crash the JIT here.
    let report = analyze(
        &request("process = exp;", &["", "-fm def"]),
        &mut Workers::in_process(),
        None,
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

/// inkwell (the IR reader) and libfaust in one process: both must use the one dynamic
/// libLLVM-14.so. A static LLVM beside libfaust's aborts at load ("Option ... registered more
/// than once"), so this test would not even start.
#[test]
fn inkwell_and_libfaust_share_one_llvm_in_one_process() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let request = InspectRequest {
        source: DspSource::Code {
            name: "osc".into(),
            code: "import(\"stdfaust.lib\"); process = os.osc(440);".into(),
        },
        name: "osc".into(),
        option_sets: vec![parse_option_set("-vec").unwrap()],
        sample_rate: 48000,
    };
    let report = inspect(&request, &mut Workers::in_process());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let set = &report.sets[0];
    assert_eq!(set.compiler_options, "-vec");
    assert!(set.normalized_options.contains("-vec"));
    assert_eq!(set.table_reads.len(), 1);
    assert_eq!(set.work.frames_per_iteration, Some(32.0));
}
