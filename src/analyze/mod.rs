//! `analyze`: every option set compiled, then measured interleaved and ranked, with a verdict
//! and advice.

pub mod advice;
pub mod counted;
pub mod faustbench;
pub mod inspected;
pub mod rank;
pub mod result;
pub mod side_by_side;
pub mod wide;

use crate::accuracy::{self, Accuracy};
use crate::backends::{Code, Cxx};
use crate::cache::Cache;
use crate::jobs::{CompileJob, Compiled};
use crate::libfaust::DspSource;
use crate::measure::warnings::{texts, Warning};
use crate::measure::{
    max_passes, Budget, MeasureConfig, RawMeasurement, RequestError, StopReason, Stretch,
    MIN_INTERVAL_SECONDS,
};
use crate::options::{self, Backend, OptionSet};
use crate::pipeline::{check_outputs, compile_all, measure_sets, CompileEvent, Workers};
use crate::worker::RunError;
use rank::Measured;
use result::{
    AnalyzeReport, BaselineComparison, Category, Conditions, Recommended, SearchSummary, SetError,
    TestConfig,
};
use std::time::Instant;

/// Which option sets to try.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionSets {
    /// The built-in presets ([`options::PRESETS`]).
    Presets,
    /// The given sets; the scalar baseline is added first when none of them is scalar.
    Custom(Vec<OptionSet>),
    /// A staged search of the option space.
    Search(Search),
}

/// The staged searches of the option space.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
pub enum Search {
    /// faustbench-llvm's staged search, as libfaust 2.54.9 (Debian 12's faust) runs it: -scal,
    /// -exp10, -vec × -lv 0/1 × plain/-fun × -vs 4..bs, then -mcd on the best, then -g/-dfs.
    #[serde(rename = "faustbench")]
    #[value(name = "faustbench")]
    Faustbench,
    /// faustbench-llvm's staged search, as Faust 2.83 runs it: also scalar -mcd 0..bs, -mcd
    /// 0..bs on the best vector set, the faster of scalar and vector, then -ct 0 and -g/-dfs.
    #[serde(rename = "faustbench-2.83")]
    #[value(name = "faustbench-2.83")]
    Faustbench2_83,
    /// A wider space than faustbench's (-mcd on scalar code, -ct 0, -exp10, -ftz 2, -fm def),
    /// searched around the leader, with clearly slower sets leaving the race early.
    #[serde(rename = "wide")]
    #[value(name = "wide")]
    Wide,
}

impl Search {
    /// Its name on the command line and in reports.
    pub fn name(self) -> String {
        use clap::ValueEnum;
        (self.to_possible_value()).map_or_else(String::new, |v| v.get_name().to_string())
    }
}

/// Sets (and implementations) slower than the fastest by less than this are tied with it, %,
/// unless asked otherwise: instances of identical code measured side by side differ by up to
/// about 1 % (their places in memory).
pub const DEFAULT_TIE_THRESHOLD_PERCENT: f64 = 1.0;

/// What to analyse and how. Build it with [`AnalyzeRequest::for_code`] or
/// [`AnalyzeRequest::for_file`], change a default with [`Self::options`] or a field, then
/// [`Self::run`]:
///
/// ```no_run
/// # use faustperf::analyze::{AnalyzeRequest, Silent};
/// # use faustperf::pipeline::Workers;
/// let report = AnalyzeRequest::for_code("lp", "import(\"stdfaust.lib\"); process = fi.lowpass(2, 1000);")
///     .options(["-vec", "-vec -fun -vs 64"])?
///     .run(&mut Workers::in_process(), None, &mut Silent)?;
/// # Ok::<(), faustperf::measure::RequestError>(())
/// ```
#[derive(Debug, Clone)]
pub struct AnalyzeRequest {
    pub source: DspSource,
    /// How the DSP is named in reports.
    pub name: String,
    /// Default: the presets.
    pub option_sets: OptionSets,
    /// Default: [`MeasureConfig::default`].
    pub measure: MeasureConfig,
    /// Sets slower than the fastest by less than this are reported as tied with it, %.
    /// Default: [`DEFAULT_TIE_THRESHOLD_PERCENT`].
    pub tie_threshold_percent: f64,
    /// Every set runs on each of these backends; the search runs on the first. Default: LLVM.
    pub backends: Vec<Backend>,
    /// The C++ compiler, for sets on the `cpp` backend (default: g++ with faustperf's flags,
    /// found when `cpp` is among the backends).
    pub cxx: Option<Cxx>,
    /// Also read each measured LLVM set's generated code (`results[].inspection`).
    pub inspect: bool,
    /// Also count each LLVM set's instructions under callgrind (`results[].counts`) and read
    /// the hardware counters where the kernel gives them.
    pub counters: bool,
    /// Check every measured set's output against the scalar `-double` reference
    /// (`results[].accuracy`) and, by default, never recommend one that computes something
    /// else. Default: [`accuracy::Mode::Guard`].
    pub accuracy: accuracy::Mode,
    /// Below this SNR against the reference, dB, a set's output is `different`. Default:
    /// [`accuracy::DEFAULT_TOLERANCE_DB`].
    pub accuracy_tolerance_db: f64,
    /// Compile sets with options their backend refuses, rather than listing them as
    /// unsupported (see [`OptionSet::forced`]). Default: false.
    pub force_refused: bool,
    /// A search's time budget, seconds: a stage that no longer fits is not tried (the report
    /// lists its sets), and each stage's measuring is cut to the time left, so that the
    /// answer is the best found in that time. Default: none.
    pub budget_seconds: Option<f64>,
}

impl AnalyzeRequest {
    /// An analysis of `source`, named `name` in reports, with every default.
    pub fn new(source: DspSource, name: impl Into<String>) -> AnalyzeRequest {
        AnalyzeRequest {
            source,
            name: name.into(),
            option_sets: OptionSets::Presets,
            measure: MeasureConfig::default(),
            tie_threshold_percent: DEFAULT_TIE_THRESHOLD_PERCENT,
            backends: vec![Backend::Llvm],
            cxx: None,
            inspect: false,
            counters: false,
            accuracy: accuracy::Mode::default(),
            accuracy_tolerance_db: accuracy::DEFAULT_TOLERANCE_DB,
            force_refused: false,
            budget_seconds: None,
        }
    }

    /// Faust code given inline, named `name`.
    pub fn for_code(name: &str, code: &str) -> AnalyzeRequest {
        let source = DspSource::Code {
            name: name.into(),
            code: code.into(),
        };
        AnalyzeRequest::new(source, name)
    }

    /// A `.dsp` file (its imports resolve next to it).
    pub fn for_file(path: impl Into<std::path::PathBuf>) -> AnalyzeRequest {
        let path = path.into();
        let name = path.display().to_string();
        AnalyzeRequest::new(DspSource::File { path }, name)
    }

    /// These option sets, each as on the faust command line, instead of the presets.
    pub fn options<S: AsRef<str>>(
        mut self,
        sets: impl IntoIterator<Item = S>,
    ) -> Result<AnalyzeRequest, RequestError> {
        let texts: Vec<String> = sets.into_iter().map(|s| s.as_ref().to_string()).collect();
        self.option_sets = OptionSets::Custom(options::parse_option_sets("options", &texts)?);
        Ok(self)
    }

    /// Every set compiled with `-double` (the presets too, and the baseline).
    pub fn double(mut self) -> Result<AnalyzeRequest, RequestError> {
        let mut sets = match self.option_sets {
            OptionSets::Presets => options::presets(),
            OptionSets::Custom(sets) => sets,
            OptionSets::Search(_) => {
                return Err(RequestError(
                    "the searches run single precision: drop -double".into(),
                ))
            }
        };
        if !sets.iter().any(OptionSet::is_scalar) {
            sets.insert(0, OptionSet::scalar());
        }
        self.option_sets = OptionSets::Custom(sets.iter().map(|s| s.with(&["-double"])).collect());
        Ok(self)
    }

    /// The request as it will run, or what is wrong with it: the measuring configuration
    /// (durations up to `max_seconds` per set), a tie threshold below 100 %, at least one
    /// backend and one search backend; the default C++ compiler is found here when `cpp` is
    /// asked for without one.
    pub fn validate(mut self, max_seconds: f64) -> Result<AnalyzeRequest, RequestError> {
        self.measure.check(max_seconds)?;
        check_tie_threshold(self.tie_threshold_percent)?;
        if self.backends.is_empty() {
            return Err(RequestError("give at least one backend".into()));
        }
        accuracy::check_tolerance(self.accuracy_tolerance_db)?;
        if let Some(budget) = self.budget_seconds {
            if !matches!(self.option_sets, OptionSets::Search(_)) {
                return Err(RequestError(
                    "a time budget is for a search: give --sweep with it".into(),
                ));
            }
            if !(budget.is_finite() && budget > 0.0) {
                return Err(RequestError(format!(
                    "budget {budget}: give a positive number of seconds"
                )));
            }
        }
        if matches!(self.option_sets, OptionSets::Search(_)) && self.backends.len() > 1 {
            return Err(RequestError(
                "a search runs on one backend at a time: give one".into(),
            ));
        }
        // Counting reads the hardware counters around the timed rounds too.
        self.measure.hardware_counters |= self.counters;
        self.cxx = Cxx::when_needed(self.backends.contains(&Backend::Cpp), self.cxx)
            .map_err(|e| RequestError(format!("cpp: {e}")))?;
        Ok(self)
    }

    /// Validates the request (see [`Self::validate`], with no cap on durations) and runs it.
    pub fn run(
        self,
        workers: &mut Workers,
        cache: Option<&Cache>,
        progress: &mut dyn Progress,
    ) -> Result<AnalyzeReport, RequestError> {
        let request = self.validate(f64::INFINITY)?;
        Ok(analyze(&request, workers, cache, progress))
    }
}

/// A tie threshold, % of 0 or more and below 100, or what is wrong with it.
pub fn check_tie_threshold(percent: f64) -> Result<(), RequestError> {
    if (0.0..100.0).contains(&percent) {
        return Ok(());
    }
    Err(RequestError(format!(
        "tie threshold {percent} must be a percentage of 0 or more, below 100"
    )))
}

/// Where an option set is in the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum SetState {
    Queued,
    Compiling,
    /// Its compiled code came from the cache.
    Cached,
    /// Measured; the phrase says how fast (e.g. `412.3 MB/s`).
    Done(String),
    /// Failed or not supported; the phrase says which.
    Failed(String),
}

/// Told about each option set as it moves through the pipeline, and about each pass over the
/// sets while they are measured (for progress bars and MCP notifications). `index` is 0-based
/// among at least `total` sets (a search adds stages).
pub trait Progress {
    fn update(&mut self, _set: &OptionSet, _index: usize, _total: usize, _state: &SetState) {}
    /// Pass `pass` (1-based) over `sets` sets has begun; there are at most `max_passes`.
    fn pass(&mut self, _pass: usize, _max_passes: usize, _sets: usize) {}
    /// A later step has begun (e.g. counting instructions), in words.
    fn step(&mut self, _what: &str) {}
}

/// What a pass over the sets says in progress reports.
pub fn pass_message(pass: usize, max_passes: usize, sets: usize) -> String {
    format!("measuring {sets} sets interleaved: pass {pass} (at most {max_passes})")
}

/// Progress that goes nowhere.
pub struct Silent;
impl Progress for Silent {}

/// Runs the analysis: compiles every option set on `workers`' compile lanes (or takes it from
/// `cache`), then, with nothing compiling, measures them interleaved on the measuring worker.
/// faustbench-llvm's search does this per stage, each later stage measuring its sets beside
/// the best so far and the baseline; then the add-ons asked for (inspection, counts). Never
/// fails as a whole: failures of option sets are in `errors`.
pub fn analyze(
    request: &AnalyzeRequest,
    workers: &mut Workers,
    cache: Option<&Cache>,
    progress: &mut dyn Progress,
) -> AnalyzeReport {
    let mut report = measure(request, workers, cache, progress);
    if request.inspect && report.success {
        progress.step(&format!(
            "inspecting the generated code of {} option set(s)",
            report.results.len()
        ));
        inspected::add_inspections(
            &mut report,
            &request.source,
            request.measure.sample_rate,
            workers,
        );
    }
    if request.counters && report.success {
        progress.step("counting instructions under valgrind (about 10 s and more per set)");
        counted::add_counts(&mut report, request, workers, cache);
    }
    report
}

/// The measuring part of [`analyze`].
fn measure(
    request: &AnalyzeRequest,
    workers: &mut Workers,
    cache: Option<&Cache>,
    progress: &mut dyn Progress,
) -> AnalyzeReport {
    let started = Instant::now();
    let mut state = State {
        request,
        cache,
        measured: Vec::new(),
        codes: Vec::new(),
        errors: Vec::new(),
        warnings: Vec::new(),
        raw_conditions: None,
        done: 0,
        measurements: 0,
        started,
        considered: Vec::new(),
        not_tried: Vec::new(),
        leader: None,
    };
    let bs = request.measure.frames;
    // Each set on each backend, backend after backend (the baseline is the first's scalar set).
    let on_backends = |sets: Vec<OptionSet>| -> Vec<OptionSet> {
        (request.backends.iter())
            .flat_map(|&b| sets.iter().map(move |s| s.on(b)))
            .collect()
    };
    match &request.option_sets {
        OptionSets::Presets => state.run_stage(on_backends(options::presets()), workers, progress),
        OptionSets::Custom(sets) => {
            let mut sets = sets.clone();
            if !sets.iter().any(OptionSet::is_scalar) {
                sets.insert(0, OptionSet::scalar());
            }
            state.run_stage(on_backends(sets), workers, progress)
        }
        OptionSets::Search(Search::Faustbench) => {
            state.run_stage(on_backends(faustbench::first_stage(bs)), workers, progress);
            if let Some(best) = state.fastest(|_| true) {
                state.run_stage(faustbench::mcd_stage(&best), workers, progress);
            }
            if let Some(best) = state.fastest(|_| true) {
                state.run_stage(faustbench::scheduling_stage(&best), workers, progress);
            }
        }
        OptionSets::Search(Search::Faustbench2_83) => {
            state.run_stage(on_backends(faustbench::tables_2_83(bs)), workers, progress);
            if let Some(best) = state.fastest(|s| !s.is_scalar()) {
                let refined = faustbench::vector_mcd_stage(&best, bs);
                state.run_stage(refined, workers, progress);
            }
            // Faust weighs its best scalar set against the refined vector sets only.
            let mcd = |s: &OptionSet| s.args.iter().any(|a| a == "-mcd");
            if let Some(best) = state.fastest(|s| s.is_scalar() || mcd(s)) {
                state.run_stage(faustbench::last_stage_2_83(&best), workers, progress);
            }
        }
        OptionSets::Search(Search::Wide) => {
            state.run_stage(on_backends(wide::grid(bs)), workers, progress);
            // Around the leader while it changes (the coarse -mcd values with the first
            // step); every step is a finite set of new sizes.
            let mut leader = state.fastest(|_| true);
            let mut first = true;
            while let Some(set) = leader.clone() {
                let mut sets = wide::vector_sizes(&set, bs);
                if std::mem::take(&mut first) {
                    sets.extend(wide::mcd_coarse(&set));
                }
                state.run_stage(sets, workers, progress);
                let now = state.fastest(|_| true);
                if now == leader {
                    break;
                }
                leader = now;
            }
            let steps: [fn(&OptionSet) -> Vec<OptionSet>; 3] =
                [wide::mcd_coarse, wide::mcd_around, wide::switches];
            for step in steps {
                if let Some(leader) = state.fastest(|_| true) {
                    state.run_stage(step(&leader), workers, progress);
                }
            }
        }
    }
    let wide = request.option_sets == OptionSets::Search(Search::Wide);
    if wide || request.budget_seconds.is_some() {
        state.final_heat(workers, progress);
    }
    if request.accuracy != accuracy::Mode::Off {
        progress.step("checking every set's output against the scalar -double reference");
        state.check_outputs(workers);
    }
    state.report(workers.measurer.isolation())
}

/// A set about to be measured in a stage.
struct ToMeasure {
    set: OptionSet,
    /// Its index among the stage's new sets; `None` for a set of an earlier stage.
    index: Option<usize>,
    code: Compiled,
    /// Its code came from the cache.
    cached: bool,
}

struct State<'a> {
    request: &'a AnalyzeRequest,
    cache: Option<&'a Cache>,
    measured: Vec<Measured>,
    /// The compiled code of every measured set, to measure it again beside a later stage.
    codes: Vec<(OptionSet, Compiled)>,
    errors: Vec<SetError>,
    /// Problems of the run as a whole (e.g. with the cache).
    warnings: Vec<String>,
    /// The measurement conditions of the first set measured.
    raw_conditions: Option<RawMeasurement>,
    done: usize,
    /// Interleaved measurements run so far.
    measurements: usize,
    started: Instant,
    /// Every set the stages proposed, and those left out for want of time.
    considered: Vec<OptionSet>,
    not_tried: Vec<String>,
    /// The fastest set so far, as last told.
    leader: Option<OptionSet>,
}

/// The share of a search's budget kept for the output check after it.
const OUTPUT_CHECK_SHARE: f64 = 0.1;
/// The share of a search's budget kept for its final heat, and how many sets race in it.
const FINAL_HEAT_SHARE: f64 = 0.25;
const FINAL_HEAT_SETS: usize = 6;
/// The precision (%) and time cap (s) of the wide search's stages: they only pick the
/// leader to search around and drop the clearly slower; the final heat measures the
/// contenders to the precision asked for.
const GUIDE_PRECISION_PERCENT: f64 = 3.0;
const GUIDE_MAX_SECONDS: f64 = 1.0;

/// Which measurement of a search: a stage, or the final heat of the contenders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heat {
    Stage,
    Final,
}

impl State<'_> {
    /// Seconds left of the search's budget (`None`: no budget).
    fn seconds_left(&self) -> Option<f64> {
        let budget = self.request.budget_seconds?;
        Some(budget * (1.0 - OUTPUT_CHECK_SHARE) - self.started.elapsed().as_secs_f64())
    }

    /// The measuring of `sets` sets in `heat`: a stage of the wide search only guides it, to
    /// [`GUIDE_PRECISION_PERCENT`] in at most [`GUIDE_MAX_SECONDS`]; with a budget, each set
    /// gets its part of half the time left in a stage, of all of it in the final heat.
    fn stage_config(&self, sets: usize, heat: Heat) -> MeasureConfig {
        let mut m = self.request.measure.clone();
        let wide = self.request.option_sets == OptionSets::Search(Search::Wide);
        if let (
            Heat::Stage,
            true,
            Budget::Adaptive {
                precision_percent,
                max_seconds,
            },
        ) = (heat, wide, m.budget)
        {
            m.budget = Budget::Adaptive {
                precision_percent: precision_percent.max(GUIDE_PRECISION_PERCENT),
                max_seconds: max_seconds.min(GUIDE_MAX_SECONDS),
            };
        }
        if let Some(left) = self.seconds_left() {
            let share = match heat {
                Heat::Stage => 0.5,
                Heat::Final => 1.0,
            };
            let each = (left * share / sets.max(1) as f64).max(MIN_INTERVAL_SECONDS);
            m.budget = match m.budget {
                Budget::Fixed { seconds } => Budget::Fixed {
                    seconds: seconds.min(each),
                },
                Budget::Adaptive {
                    precision_percent,
                    max_seconds,
                } => Budget::Adaptive {
                    precision_percent,
                    max_seconds: max_seconds.min(each),
                },
            };
        }
        m
    }

    /// Every measured set's output against the reference (see [`crate::accuracy`]), with its
    /// verdict beside the scalar single-precision set of the first backend (the baseline); a
    /// set that cannot be rendered gets a warning, and the run goes on.
    fn check_outputs(&mut self, workers: &mut Workers) {
        let request = self.request;
        let codes: Vec<(Code, OptionSet)> = (self.measured.iter())
            .filter_map(|m| {
                let (_, code) = self.codes.iter().find(|(s, _)| *s == m.set)?;
                Some((code.code.clone(), m.set.clone()))
            })
            .collect();
        // The scalar single-precision set of the first backend (the baseline): the float floor.
        let first = request.backends.first().copied().unwrap_or_default();
        let scalar = codes.iter().position(|(_, set)| {
            set.is_scalar() && set.backend == first && !set.args.iter().any(|a| a == "-double")
        });
        let (checked, warnings) = check_outputs(
            workers,
            self.cache,
            &request.source,
            &codes,
            scalar,
            (&request.measure).into(),
        );
        self.warnings.extend(warnings);
        let floor = scalar
            .and_then(|i| checked[i].as_ref().ok())
            .and_then(|d| d.first().cloned());
        for ((_, set), result) in codes.iter().zip(checked) {
            let Some(m) = self.measured.iter_mut().find(|m| m.set == *set) else {
                continue;
            };
            match result {
                Ok(mut differences) => {
                    let vs_scalar = differences.get(1).cloned();
                    let difference = differences.swap_remove(0);
                    let verdict = accuracy::verdict(
                        &difference,
                        vs_scalar.as_ref(),
                        floor.as_ref(),
                        request.accuracy_tolerance_db,
                    );
                    m.accuracy = Some(Accuracy {
                        difference,
                        vs_scalar,
                        verdict,
                    });
                }
                Err(e) => self.warnings.push(format!(
                    "{}: its output could not be checked: {e}",
                    set.display()
                )),
            }
        }
    }

    /// Compiles the sets not tried yet, then measures them interleaved, beside the fastest set
    /// so far and the baseline when earlier stages measured them (their earlier results are
    /// replaced, so that the stage's comparisons with them are paired).
    fn run_stage(
        &mut self,
        sets: Vec<OptionSet>,
        workers: &mut Workers,
        progress: &mut dyn Progress,
    ) {
        let mut new: Vec<OptionSet> = Vec::new();
        for set in sets {
            let set = OptionSet {
                forced: self.request.force_refused,
                ..set
            };
            if !self.considered.contains(&set) {
                self.considered.push(set.clone());
            }
            let seen = self.codes.iter().any(|(s, _)| *s == set)
                || self.errors.iter().any(|e| e.compiler_options == set.label);
            if !seen && !new.contains(&set) {
                new.push(set);
            }
        }
        if new.is_empty() {
            return;
        }
        // What is left of a budget beyond this is the final heat's.
        let reserve = self.request.budget_seconds.unwrap_or(0.0) * FINAL_HEAT_SHARE;
        if self.seconds_left().is_some_and(|left| left <= reserve) {
            self.not_tried.extend(new.iter().map(|s| s.label.clone()));
            return;
        }
        let (base, total) = (self.done, self.done + new.len());
        for (i, set) in new.iter().enumerate() {
            progress.update(set, base + i, total, &SetState::Queued);
        }
        let jobs: Vec<CompileJob> = new
            .iter()
            .map(|set| CompileJob {
                source: self.request.source.clone(),
                options: set.clone(),
                sample_rate: self.request.measure.sample_rate,
                cxx: self.request.cxx.clone(),
                target: crate::libfaust::Target::Host,
            })
            .collect();
        let (compiled, warnings) = compile_all(workers, self.cache, &jobs, &mut |i, event| {
            let state = match event {
                CompileEvent::Cached => SetState::Cached,
                CompileEvent::Started => SetState::Compiling,
            };
            progress.update(&new[i], base + i, total, &state);
        });
        for warning in warnings {
            if !self.warnings.contains(&warning) {
                self.warnings.push(warning);
            }
        }

        // What is measured: the fastest and the baseline of earlier stages, then the new sets.
        let mut to_measure = self.measured_again(self.anchors());
        for (i, (set, outcome)) in new.iter().zip(compiled).enumerate() {
            match outcome {
                Ok((code, cached)) => to_measure.push(ToMeasure {
                    set: set.clone(),
                    index: Some(i),
                    code,
                    cached,
                }),
                Err(cause) => {
                    let state = self.fail(set, cause);
                    progress.update(set, base + i, total, &state);
                }
            }
        }
        if to_measure.iter().all(|t| t.index.is_none()) {
            self.done = total;
            return;
        }
        self.measure_stage(to_measure, (base, total), Heat::Stage, workers, progress);
        self.done = total;
        if matches!(self.request.option_sets, OptionSets::Search(_)) {
            self.tell_leader(progress);
        }
    }

    /// Sets measured before, to be measured again.
    fn measured_again(&self, sets: Vec<OptionSet>) -> Vec<ToMeasure> {
        (sets.into_iter())
            .filter_map(|set| {
                let (_, code) = self.codes.iter().find(|(s, _)| *s == set)?;
                let cached = self.measured.iter().any(|m| m.set == set && m.cached);
                Some(ToMeasure {
                    set,
                    index: None,
                    code: code.clone(),
                    cached,
                })
            })
            .collect()
    }

    /// Measures the contenders again, together, in what is left of the budget: the sets whose
    /// interval reaches the leader's, so that the answer rests on one paired measurement of
    /// them rather than on stages cut short.
    fn final_heat(&mut self, workers: &mut Workers, progress: &mut dyn Progress) {
        let Some(leader) = (self.measured.iter())
            .min_by(|a, b| a.timing.best_mean_ns.total_cmp(&b.timing.best_mean_ns))
        else {
            return;
        };
        let slow_end = leader.timing.best_mean_ci95_ns[1];
        let mut contenders: Vec<&Measured> = (self.measured.iter())
            .filter(|m| m.timing.best_mean_ci95_ns[0] <= slow_end)
            .collect();
        contenders.sort_by(|a, b| a.timing.best_mean_ns.total_cmp(&b.timing.best_mean_ns));
        contenders.truncate(FINAL_HEAT_SETS);
        let sets = contenders.into_iter().map(|m| m.set.clone()).collect();
        let to_measure = self.measured_again(sets);
        if to_measure.len() > 1 {
            progress.step(&format!(
                "measuring the {} contenders together in the time left",
                to_measure.len()
            ));
            let done = (self.done, self.done);
            self.measure_stage(to_measure, done, Heat::Final, workers, progress);
            self.tell_leader(progress);
        }
    }

    /// Measures `to_measure` in one interleaved run (see [`State::stage_config`]) and records
    /// the results; `(base, total)` numbers the new sets for `progress`.
    fn measure_stage(
        &mut self,
        to_measure: Vec<ToMeasure>,
        (base, total): (usize, usize),
        heat: Heat,
        workers: &mut Workers,
        progress: &mut dyn Progress,
    ) {
        // Sets that compiled to the same machine code are measured once: the same code runs
        // at the same speed, and a search holds many (e.g. -mcd values that change nothing).
        // `unique`: the first set of each code, by index into `to_measure`; `twin[i]`: which
        // of them set `i` is measured as.
        let mut unique: Vec<usize> = Vec::new();
        let mut twin: Vec<usize> = Vec::new();
        for (i, t) in to_measure.iter().enumerate() {
            let digest = &t.code.info.code_digest;
            match unique
                .iter()
                .position(|&u| to_measure[u].code.info.code_digest == *digest)
            {
                Some(k) => twin.push(k),
                None => {
                    twin.push(unique.len());
                    unique.push(i);
                }
            }
        }
        let m = &self.stage_config(unique.len(), heat);
        let codes: Vec<(Code, OptionSet)> = unique
            .iter()
            .map(|&u| (to_measure[u].code.code.clone(), to_measure[u].set.clone()))
            .collect();
        let (max, sets) = (max_passes(&m.budget), codes.len());
        let mut last_pass = 0;
        let raws = measure_sets(workers.measurer.as_mut(), &codes, m, &mut |s: Stretch| {
            if s.pass > last_pass {
                last_pass = s.pass;
                progress.pass(s.pass, max, sets);
            }
        });
        let measurement = self.measurements;
        self.measurements += 1;
        for (t, k) in to_measure.into_iter().zip(twin) {
            let state = match raws[k].clone() {
                Ok(raw) => self.add(t.set.clone(), t.code, t.cached, measurement, raw),
                Err(cause) => self.fail(&t.set, cause),
            };
            if let Some(i) = t.index {
                progress.update(&t.set, base + i, total, &state);
            }
        }
    }

    /// The sets earlier stages found fastest and took as the baseline.
    fn anchors(&self) -> Vec<OptionSet> {
        let fastest = self.fastest(|_| true);
        let baseline = (self.measured.iter())
            .find(|m| m.set.is_scalar())
            .map(|m| m.set.clone());
        let mut anchors: Vec<OptionSet> = fastest.into_iter().chain(baseline).collect();
        anchors.dedup();
        anchors
    }

    /// Records a measured set (replacing an earlier measurement of it).
    fn add(
        &mut self,
        set: OptionSet,
        code: Compiled,
        cached: bool,
        measurement: usize,
        mut raw: RawMeasurement,
    ) -> SetState {
        let measured = Measured {
            set: set.clone(),
            compile: code.info.clone(),
            timing: raw.timing.clone(),
            measurement,
            round_best_ns: std::mem::take(&mut raw.round_best_ns),
            cached,
            stop: raw.stop,
            measure_seconds: raw.timed_seconds,
            non_finite_outputs: raw.non_finite_outputs,
            hardware: raw.hardware.take(),
            accuracy: None,
        };
        let throughput = measured.mbps(self.request.measure.frames);
        match self.measured.iter().position(|m| m.set == set) {
            Some(i) => self.measured[i] = measured,
            None => {
                self.measured.push(measured);
                self.codes.push((set, code));
            }
        }
        self.raw_conditions.get_or_insert(raw);
        SetState::Done(format!("{throughput:.1} MB/s"))
    }

    /// Records a set that could not be compiled or measured.
    fn fail(&mut self, set: &OptionSet, cause: RunError) -> SetState {
        let error = SetError::new(set, cause);
        let state = SetState::Failed(error.status.words().into());
        self.errors.push(error);
        self.measured.retain(|m| m.set != *set);
        state
    }

    /// The fastest set measured so far.
    /// Tells `progress` the fastest set when it is not the one last told.
    fn tell_leader(&mut self, progress: &mut dyn Progress) {
        let frames = self.request.measure.frames;
        let fastest = (self.measured.iter())
            .min_by(|a, b| a.timing.best_mean_ns.total_cmp(&b.timing.best_mean_ns));
        if let Some(m) = fastest.filter(|m| self.leader.as_ref() != Some(&m.set)) {
            progress.step(&format!(
                "leader: {} at {:.1} MB/s",
                options::display_on(&m.set.label, m.set.backend),
                m.mbps(frames)
            ));
            self.leader = Some(m.set.clone());
        }
    }

    /// The fastest set measured of those `which` takes.
    fn fastest(&self, which: impl Fn(&OptionSet) -> bool) -> Option<OptionSet> {
        (self.measured.iter())
            .filter(|m| which(&m.set))
            .min_by(|a, b| a.timing.best_mean_ns.total_cmp(&b.timing.best_mean_ns))
            .map(|m| m.set.clone())
    }

    fn report(self, isolation: &str) -> AnalyzeReport {
        let request = self.request;
        let started = self.started;
        let search = match request.option_sets {
            OptionSets::Search(search) => Some(SearchSummary {
                strategy: search.name(),
                budget_seconds: request.budget_seconds,
                considered: self.considered.len(),
                compiled: (self.measured.iter()).filter(|m| !m.cached).count(),
                measured: self.measured.len(),
                left_race_early: (self.measured.iter())
                    .filter(|m| m.stop == StopReason::OutOfRace)
                    .count(),
                not_tried: self.not_tried.clone(),
                why: String::new(),
            }),
            _ => None,
        };
        let m = &request.measure;
        let channels = self
            .measured
            .first()
            .map(|x| (x.compile.inputs, x.compile.outputs));
        let mut results = rank::rank(
            self.measured,
            m.frames,
            m.sample_rate,
            request.tie_threshold_percent,
        );
        if request.accuracy == accuracy::Mode::Guard {
            rank::guard(&mut results);
        }
        let recommended = results.iter().find(|r| r.is_recommended);
        let baseline = results.iter().find(|r| r.is_baseline);
        let baseline_comparison = recommended.zip(baseline).and_then(|(r, b)| {
            let speedup = r.speedup_vs_baseline?;
            Some(BaselineComparison {
                speedup,
                description: if r.is_baseline {
                    "the scalar baseline is the recommended set: no option set beat it beyond noise"
                        .into()
                } else {
                    format!(
                        "{} runs {:.2}× the scalar baseline ({:.1} vs {:.1} MB/s)",
                        r.name(),
                        speedup,
                        r.throughput_mbps,
                        b.throughput_mbps
                    )
                },
            })
        });
        let conditions = conditions(request, self.raw_conditions.as_ref(), isolation);
        let recommendations = advice::recommendations(&results, &self.errors, m.sample_rate);
        let rationale = advice::rationale(&results);
        let test_config = TestConfig {
            sample_rate: m.sample_rate,
            duration_seconds: match m.budget {
                crate::measure::Budget::Fixed { seconds } => seconds,
                crate::measure::Budget::Adaptive { .. } => {
                    (results.iter()).fold(0.0, |longest, r| r.measure_seconds.max(longest))
                }
            },
            backend: (request.backends.iter())
                .map(|b| b.name())
                .collect::<Vec<_>>()
                .join(","),
        };
        let cxx = request.cxx.as_ref().map(|c| c.command_line());
        let command = advice::command(&results, &request.name, cxx.as_deref());
        let mut warnings = texts(warnings(&conditions, channels, m, &results));
        warnings.extend(self.warnings);
        let search = search.map(|s| {
            Box::new(SearchSummary {
                why: advice::why_it_won(&results),
                ..s
            })
        });
        AnalyzeReport {
            dsp: request.name.clone(),
            success: !results.is_empty(),
            inputs: channels.map(|c| c.0),
            outputs: channels.map(|c| c.1),
            recommended_options: recommended.map(|r| r.compiler_options.clone()),
            recommended_backend: recommended.map(|r| r.backend),
            side_by_side: side_by_side::side_by_side(
                &results,
                &request.backends,
                request.tie_threshold_percent,
            ),
            baseline_comparison,
            category: recommended.map(|r| Category::of(r.cpu_percent_mean_block)),
            recommended: recommended.map(|r| Recommended {
                options: r.compiler_options.clone(),
                backend: r.backend,
                rationale: rationale.clone().unwrap_or_default(),
                speedup: r.speedup_vs_baseline,
            }),
            recommendations,
            recommendation_rationale: rationale,
            conclusion: advice::conclusion(&results, m.sample_rate, command.as_ref()),
            recommended_command: command,
            vectorization_benefit: advice::vectorization_benefit(&results),
            openmp_benefit: advice::openmp_benefit(&results),
            dsp_analyzed: request.name.clone(),
            test_config,
            results,
            warnings,
            errors: self.errors,
            conditions,
            counting: None,
            wall_seconds: started.elapsed().as_secs_f64(),
            search,
        }
    }
}

fn conditions(
    request: &AnalyzeRequest,
    raw: Option<&crate::measure::RawMeasurement>,
    isolation: &str,
) -> Conditions {
    let m = &request.measure;
    Conditions {
        faustperf_version: env!("CARGO_PKG_VERSION").into(),
        common: crate::measure::Conditions::here(m.frames, m.sample_rate),
        core: raw.and_then(|r| r.thread.core),
        governor: raw.and_then(|r| r.thread.governor.clone()),
        realtime_priority: raw.is_some_and(|r| r.thread.realtime_priority),
        flush_denormals: raw.is_some_and(|r| r.thread.flush_denormals),
        clock: raw.map(|r| r.clock),
        clock_overhead_ns: raw.map(|r| r.clock_overhead_ns),
        core_clock_ghz: raw.and_then(|r| r.core_clock_ghz),
        buffer_blocks: raw.map(|r| r.buffer_blocks),
        buffer_bytes: raw.map(|r| r.buffer_bytes),
        budget: m.budget,
        best_n: m.best_n,
        random_controls: m.random_controls,
        seed: m.seed,
        tie_threshold_percent: request.tie_threshold_percent,
        cxx: (request.cxx.as_ref()).map(|c| format!("{} ({})", c.command_line(), c.version)),
        wasm_runtime: (request.backends.contains(&Backend::Wasm))
            .then(crate::backends::wasm::runtime),
        isolation: isolation.into(),
    }
}

/// The warnings of an analysis: where it measured, then what its backends and its DSP make
/// less trustworthy.
fn warnings(
    c: &Conditions,
    channels: Option<(usize, usize)>,
    m: &MeasureConfig,
    results: &[result::SetResult],
) -> Vec<Warning> {
    let mut out = c.environment().warnings(m.into());
    if c.wasm_runtime.is_some() {
        out.push(Warning::WasmDenormals);
    }
    if matches!(channels, Some((_, 0))) {
        out.push(Warning::NoOutputs);
    }
    out.extend(batch_note(results));
    out
}

/// One warning for the sets whose blocks were too short to time one by one.
fn batch_note(results: &[result::SetResult]) -> Option<Warning> {
    let batched: Vec<_> = results.iter().filter(|r| r.timing.batch > 1).collect();
    let smallest = batched.iter().map(|r| r.timing.batch).min()?;
    let largest = batched.iter().map(|r| r.timing.batch).max()?;
    let batches = if smallest == largest {
        smallest.to_string()
    } else {
        format!("{smallest}–{largest}")
    };
    Some(Warning::Batched {
        sets: batched.len(),
        of: results.len(),
        batches,
    })
}
