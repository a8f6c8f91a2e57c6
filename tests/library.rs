//! The library API that audio hosts call, in process (trusted code).
//!
//! Serialised: libfaust compiles are process-wide and the measurements share a core.

use faustperf::analyze::{analyze, AnalyzeRequest, OptionSets, Search, Silent};
use faustperf::backends::{self, Cxx};
use faustperf::cache::Cache;
use faustperf::dsp::AudioBuffers;
use faustperf::dsp::FaustError;
use faustperf::inspect::{inspect, InspectRequest};
use faustperf::jobs::JOBS;
use faustperf::libfaust::{code_digest, DspSource, Factory, LibFaust, Target};
use faustperf::measure::rng::SplitMix64;
use faustperf::measure::{Budget, MeasureConfig};
use faustperf::options::{parse_option_set, Backend};
use faustperf::pipeline::Workers;
use faustperf::worker::{InProcess, Phase, RunError, Runner, Task};
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Instant;

static SERIAL: Mutex<()> = Mutex::new(());

/// A request as a library user writes it: the defaults, changed where the test needs it.
fn request(code: &str, sets: &[&str]) -> AnalyzeRequest {
    AnalyzeRequest {
        measure: MeasureConfig {
            frames: 256,
            sample_rate: 48000,
            budget: Budget::Fixed { seconds: 0.1 },
            seed: 7,
            random_controls: true,
            realtime: false,
            core: None,
            ..MeasureConfig::default()
        },
        ..AnalyzeRequest::for_code("lib-test", code)
            .options(sets)
            .unwrap()
    }
}

/// A request's defaults are the command line's, and `run` validates before it measures.
#[test]
fn requests_own_their_defaults_and_validation() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let defaults = AnalyzeRequest::for_code("lp", "process = _;");
    assert_eq!(defaults.option_sets, OptionSets::Presets);
    assert_eq!(defaults.measure, MeasureConfig::default());
    assert_eq!(defaults.measure.frames, 512);
    assert_eq!(defaults.measure.sample_rate, 44100);
    assert_eq!(defaults.tie_threshold_percent, 1.0);
    assert_eq!(defaults.backends, vec![Backend::Llvm]);
    // Bad values are refused before anything runs, saying what is wrong.
    let refused = |r: AnalyzeRequest| {
        r.run(&mut Workers::in_process(), None, &mut Silent)
            .unwrap_err()
            .to_string()
    };
    let too_fast = MeasureConfig {
        sample_rate: 0,
        ..MeasureConfig::default()
    };
    let with = |measure, tie_threshold_percent| AnalyzeRequest {
        measure,
        tie_threshold_percent,
        ..defaults.clone()
    };
    assert!(refused(with(too_fast, 1.0)).contains("sample rate 0"));
    assert!(refused(with(MeasureConfig::default(), 100.0)).contains("tie threshold"));
    let search = AnalyzeRequest {
        option_sets: OptionSets::Search(Search::Faustbench),
        ..defaults.clone()
    };
    let two = AnalyzeRequest {
        backends: vec![Backend::Llvm, Backend::Wasm],
        ..search.clone()
    };
    assert!(refused(two).contains("one backend"));
    assert!(search
        .double()
        .unwrap_err()
        .to_string()
        .contains("single precision"));
    assert!(defaults.options(["-o x.ll"]).is_err());
    // A valid request runs.
    let report = request("process = _ : *(0.5);", &["-vec"])
        .run(&mut Workers::in_process(), None, &mut Silent)
        .unwrap();
    assert!(report.success, "{:?}", report.errors);
    assert_eq!(report.test_config.sample_rate, 48000);
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
    assert_eq!(report.conditions.common.sample_rate, 48000);
    assert_eq!(report.results.len(), 2);
    assert_eq!((report.inputs, report.outputs), (Some(1), Some(1)));
    assert!(report
        .results
        .iter()
        .all(|r| r.timing.samples >= 10 && r.timing.rounds == 4));
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
    // The two sets and the output check's reference (scalar -double).
    assert_eq!(cache.stats().entries, 3);
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
    let source = DspSource::Code {
        name: "osc".into(),
        code: "import(\"stdfaust.lib\"); process = os.osc(440);".into(),
    };
    let request = InspectRequest {
        option_sets: vec![parse_option_set("-vec").unwrap()],
        ..InspectRequest::new(source, "osc")
    };
    let report = inspect(&request, &mut Workers::in_process());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let set = &report.sets[0];
    assert_eq!(set.compiler_options, "-vec");
    assert!(set.normalized_options.contains("-vec"));
    assert_eq!(set.table_reads.len(), 1);
    assert_eq!(set.work.frames_per_iteration, Some(32.0));
}

/// What a [`Recorder`] saw: which call, when it started and ended.
type Calls = Arc<Mutex<Vec<(&'static str, Instant, Instant)>>>;

/// Runs jobs in this process and notes when each compile and measurement ran.
struct Recorder(InProcess, Calls);

fn note<T>(calls: &Calls, what: &'static str, run: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = run();
    calls
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push((what, start, Instant::now()));
    out
}

impl Runner for Recorder {
    fn run_task(&mut self, task: &Task, on_note: &mut dyn FnMut(Value)) -> Result<Value, RunError> {
        note(&self.1, task.name, || self.0.run_task(task, on_note))
    }
    fn isolation(&self) -> &'static str {
        "in_process"
    }
}

/// Nothing compiles while anything is measured, in each stage of faustbench-llvm's search:
/// measuring beside a compile read up to 40 % low.
#[test]
fn every_stage_compiles_before_it_measures() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let calls: Calls = Arc::default();
    let mut workers = Workers {
        compilers: (0..2)
            .map(|_| Box::new(Recorder(InProcess::new(JOBS), calls.clone())) as Box<dyn Runner>)
            .collect(),
        measurer: Box::new(Recorder(InProcess::new(JOBS), calls.clone())),
        counters: Vec::new(),
    };
    let mut request = request(
        "import(\"stdfaust.lib\"); process = fi.lowpass(2, 1000);",
        &[],
    );
    request.option_sets = OptionSets::Search(Search::Faustbench);
    request.measure.frames = 64;
    request.measure.budget = Budget::Fixed { seconds: 0.05 };
    let report = analyze(&request, &mut workers, None, &mut Silent);
    assert!(report.success, "{:?}", report.errors);
    let calls = calls.lock().unwrap().clone();
    let measures: Vec<_> = calls.iter().filter(|c| c.0 == "measure").collect();
    let compiles: Vec<_> = calls.iter().filter(|c| c.0 == "compile").collect();
    // Three stages: the first search, -mcd on the best, then -g/-dfs on the best vector set
    // (or none when scalar code won).
    assert!((2..=3).contains(&measures.len()), "{calls:?}");
    // At 64 frames: -scal, -scal -exp10 and 2 × 2 × 5 vector sets (-vs 4 to 64), then 9 -mcd.
    assert!(compiles.len() >= 22 + 9, "{}", compiles.len());
    for m in &measures {
        for c in &compiles {
            assert!(
                c.2 <= m.1 || c.1 >= m.2,
                "a compile overlapped a measurement"
            );
        }
    }
    // Later stages measure their sets beside the best so far and the baseline, so those
    // comparisons are paired pass by pass.
    let last_stage_sets = report
        .results
        .iter()
        .filter(|r| r.compiler_options.contains("-mcd"))
        .count();
    assert!(last_stage_sets >= 1);
    let baseline = report.results.iter().find(|r| r.is_baseline).unwrap();
    assert_eq!(baseline.speedup_vs_baseline, Some(1.0));
}

/// Two option sets are the same code when libfaust generated the same machine code, whatever
/// the options said (`-fm`, which libfaust's option string leaves out, is checked end to end
/// in tests/analyze.rs, since this process cannot run it).
#[test]
fn the_same_code_is_told_by_the_machine_code() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let digest = |options: &[&str]| {
        let options = parse_option_set(&options.join(" ")).unwrap();
        let source = DspSource::Code {
            name: "digest".into(),
            code: "import(\"stdfaust.lib\"); process = os.osc(440);".into(),
        };
        code_digest(
            &Factory::compile(&source, &options, Target::Host)
                .unwrap()
                .machine_code(),
        )
    };
    // -vs 32 is the default vector size; -lv 0 the default loop variant.
    assert_eq!(
        digest(&["-vec", "-fun"]),
        digest(&["-vec", "-fun", "-vs", "32"])
    );
    assert_eq!(digest(&["-vec"]), digest(&["-vec", "-lv", "0"]));
    assert_ne!(
        digest(&["-vec", "-fun"]),
        digest(&["-vec", "-fun", "-vs", "64"])
    );
    assert_ne!(digest(&["-vec"]), digest(&[]));
}

/// The output of `blocks` blocks of 256 frames of `set` on `source`, interleaved, with seeded
/// noise in and every control at its initial value; `None` when the backend does not support
/// the set.
fn output(source: &DspSource, set: &faustperf::options::OptionSet, cxx: &Cxx) -> Option<Vec<f32>> {
    let (compiled, _) = match backends::compile(source, set, Some(cxx), Target::Host) {
        Err(FaustError::Unsupported { .. }) => return None,
        other => other.unwrap_or_else(|e| panic!("{set:?}: {e}")),
    };
    let mut instance = compiled.factory.instance(48000).unwrap();
    let (inputs, outputs) = (instance.inputs(), instance.outputs());
    let mut rng = SplitMix64::new(3);
    let blocks = 8;
    let mut buffers = AudioBuffers::new(set.precision(), inputs, outputs, 256, blocks, |_, _| {
        rng.noise()
    });
    let mut bound = instance.bind(&mut buffers).unwrap();
    for block in 0..blocks {
        bound.compute(block);
    }
    let mut out = vec![0.0f32; 256 * outputs * blocks];
    for (block, chunk) in out.chunks_mut(256 * outputs).enumerate() {
        buffers.write_interleaved(block, chunk, outputs);
    }
    Some(out)
}

/// No backend reports speed for code that does not compute the DSP: for the same input noise
/// and controls, each backend's output matches LLVM's on every fixture, scalar and vector,
/// within what fast math and other math libraries change.
#[test]
fn every_backend_computes_what_llvm_computes() {
    let _guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let cxx = Cxx::default_compiler().expect("g++ (setup.sh installs it)");
    let mut fixtures: Vec<_> = std::fs::read_dir("fixtures")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "dsp"))
        // Faust refuses both: one has an error, the other no output.
        .filter(|p| !p.ends_with("compile_error.dsp") && !p.ends_with("meter.dsp"))
        .collect();
    fixtures.sort();
    let mut compared = 0;
    for path in fixtures {
        let source = DspSource::File { path: path.clone() };
        let precision = if path.ends_with("resonator_double.dsp") {
            " -double"
        } else {
            ""
        };
        for options in ["", "-vec -lv 1"] {
            let set = parse_option_set(&format!("{options}{precision}")).unwrap();
            let reference = output(&source, &set, &cxx).unwrap();
            let peak = reference.iter().fold(1f32, |m, x| m.max(x.abs()));
            for backend in [Backend::Cpp, Backend::Wasm, Backend::Interp] {
                let Some(out) = output(&source, &set.on(backend), &cxx) else {
                    continue;
                };
                assert_eq!(
                    out.len(),
                    reference.len(),
                    "{} on {backend}",
                    path.display()
                );
                let worst = (out.iter().zip(&reference))
                    .map(|(a, b)| (a - b).abs())
                    .fold(0f32, f32::max);
                assert!(
                    worst <= 1e-3 * peak,
                    "{} {options} on {backend}: output differs from llvm's by {worst} (peak {peak})",
                    path.display()
                );
                compared += 1;
            }
        }
    }
    // 8 fixtures: scalar on cpp, wasm and interp, vector on cpp and interp (wasm's vector code
    // is refused), but for the interpreter's missing -double.
    assert_eq!(compared, 8 * 5 - 2);
}

#[test]
fn the_generated_functions_are_found_in_memory_by_name() {
    let source = DspSource::File {
        path: "fixtures/freeverb.dsp".into(),
    };
    let options = faustperf::options::parse_option_set("-vec -fun").unwrap();
    for target in [Target::Host, Target::Portable] {
        let factory = Factory::compile(&source, &options, target).unwrap();
        let machine_code = factory.machine_code();
        let loaded = Factory::from_machine_code(&machine_code, &options).unwrap();
        let _instance = faustperf::libfaust::DspFactory::instance(&loaded, 48000).unwrap();
        let functions = faustperf::callgrind::symbols::jit_functions(&machine_code);
        let names: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        assert!(
            names.iter().any(|n| n.contains("compute")),
            "{target:?}: {names:?}"
        );
        assert!(
            functions.iter().all(|f| f.address > 0 && f.size > 0),
            "{functions:?}"
        );
    }
}
