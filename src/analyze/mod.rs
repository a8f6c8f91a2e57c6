//! `analyze`: every option set compiled, measured and ranked, with a verdict and advice.

pub mod advice;
pub mod options;
pub mod rank;
pub mod result;

use crate::libfaust::{DspSource, LibFaust};
use crate::measure::stats::{BlockTimes, StatsError, TimingSummary};
use crate::measure::MeasureConfig;
use crate::worker::{Job, RunError, Runner};
use options::{faustbench, OptionSet};
use rank::Measured;
use result::{AnalyzeReport, BaselineComparison, Category, Conditions, SetError, SetStatus};
use std::time::Instant;

/// Which option sets to try.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionSets {
    /// The built-in presets ([`options::PRESETS`]).
    Presets,
    /// The given sets; the scalar baseline is added first when none of them is scalar.
    Custom(Vec<OptionSet>),
    /// faustbench-llvm's staged search (see [`options::faustbench`]).
    Faustbench,
}

/// What to analyse and how.
#[derive(Debug, Clone)]
pub struct AnalyzeRequest {
    pub source: DspSource,
    /// How the DSP is named in reports.
    pub name: String,
    pub option_sets: OptionSets,
    pub measure: MeasureConfig,
    /// Sets slower than the fastest by less than this are reported as tied with it, %.
    pub tie_threshold_percent: f64,
}

/// Told about each option set as it starts and ends (for progress bars and MCP notifications).
pub trait Progress {
    /// Set `index` (0-based) of at least `total` starts.
    fn started(&mut self, _set: &OptionSet, _index: usize, _total: usize) {}
    /// It ended; `outcome` is a short phrase such as `412.3 MB/s` or `failed`.
    fn finished(&mut self, _set: &OptionSet, _outcome: &str) {}
}

/// Progress that goes nowhere.
pub struct Silent;
impl Progress for Silent {}

/// Runs the analysis. Never fails as a whole: failures of option sets are in `errors`.
pub fn analyze(
    request: &AnalyzeRequest,
    runner: &mut dyn Runner,
    progress: &mut dyn Progress,
) -> AnalyzeReport {
    let started = Instant::now();
    let mut state = State {
        request,
        measured: Vec::new(),
        errors: Vec::new(),
        raw_conditions: None,
        done: 0,
        stats_pool: crate::measure::thread::pool_off_core(request.measure.core),
    };
    let bs = request.measure.frames;
    match &request.option_sets {
        OptionSets::Presets => state.run_stage(options::presets(), runner, progress),
        OptionSets::Custom(sets) => {
            let mut sets = sets.clone();
            if !sets.iter().any(OptionSet::is_scalar) {
                sets.insert(0, OptionSet::scalar());
            }
            state.run_stage(sets, runner, progress)
        }
        OptionSets::Faustbench => {
            state.run_stage(faustbench::first_stage(bs), runner, progress);
            if let Some(best) = state.fastest() {
                state.run_stage(faustbench::mcd_stage(&best), runner, progress);
            }
            if let Some(best) = state.fastest() {
                state.run_stage(faustbench::scheduling_stage(&best), runner, progress);
            }
        }
    }
    state.report(started, runner.isolation())
}

struct State<'a> {
    request: &'a AnalyzeRequest,
    measured: Vec<Measured>,
    errors: Vec<SetError>,
    /// The measurement conditions of the first set measured (its samples taken out).
    raw_conditions: Option<crate::measure::RawMeasurement>,
    done: usize,
    /// Threads for the statistics, kept off the measuring core.
    stats_pool: Result<rayon::ThreadPool, rayon::ThreadPoolBuildError>,
}

impl State<'_> {
    fn run_stage(
        &mut self,
        sets: Vec<OptionSet>,
        runner: &mut dyn Runner,
        progress: &mut dyn Progress,
    ) {
        let mut seen: Vec<OptionSet> = self.measured.iter().map(|m| m.set.clone()).collect();
        seen.extend(
            self.errors
                .iter()
                .filter_map(|e| options::parse_option_set(&e.compiler_options).ok()),
        );
        let sets: Vec<OptionSet> = sets.into_iter().filter(|s| !seen.contains(s)).collect();
        let total = self.done + sets.len();
        for set in sets {
            progress.started(&set, self.done, total);
            let outcome = self.run_one(&set, runner);
            progress.finished(&set, &outcome);
            self.done += 1;
        }
    }

    fn run_one(&mut self, set: &OptionSet, runner: &mut dyn Runner) -> String {
        let job = Job {
            source: self.request.source.clone(),
            options: set.args.clone(),
            measure: self.request.measure.clone(),
        };
        let failure = |cause: RunError| {
            let status = if set.backend_refuses() && matches!(cause, RunError::Faust { .. }) {
                SetStatus::Unsupported
            } else {
                SetStatus::Failed
            };
            SetError::new(set.label.clone(), status, cause)
        };
        match runner.run(&job) {
            Ok((compile, mut raw)) => {
                let m = &self.request.measure;
                let samples = std::mem::take(&mut raw.samples_ns);
                let summary = || {
                    let times = BlockTimes::new(samples, m.best_n)?;
                    Ok(TimingSummary::of(&times, raw.batch, m.best_n, m.seed))
                };
                let summary: Result<TimingSummary, StatsError> = match &self.stats_pool {
                    Ok(pool) => pool.install(summary),
                    Err(_) => summary(),
                };
                match summary {
                    Ok(timing) => {
                        let outcome = format!(
                            "{:.1} MB/s",
                            rank::mbps(
                                rank::bytes_per_block(&compile, m.frames),
                                timing.best_mean_ns
                            )
                        );
                        self.measured.push(Measured {
                            set: set.clone(),
                            compile,
                            timing,
                            measure_seconds: raw.timed_seconds,
                            non_finite_outputs: raw.non_finite_outputs,
                        });
                        self.raw_conditions.get_or_insert(raw);
                        outcome
                    }
                    Err(e) => {
                        self.errors.push(failure(RunError::Worker(format!(
                            "unusable measurement: {e}"
                        ))));
                        "failed".into()
                    }
                }
            }
            Err(cause) => {
                let error = failure(cause);
                let outcome = match error.status {
                    SetStatus::Unsupported => "not supported by this backend",
                    SetStatus::Failed => "failed",
                };
                self.errors.push(error);
                outcome.into()
            }
        }
    }

    /// The fastest set measured so far.
    fn fastest(&self) -> Option<OptionSet> {
        self.measured
            .iter()
            .min_by(|a, b| a.timing.best_mean_ns.total_cmp(&b.timing.best_mean_ns))
            .map(|m| m.set.clone())
    }

    fn report(self, started: Instant, isolation: &str) -> AnalyzeReport {
        let request = self.request;
        let m = &request.measure;
        let channels = self
            .measured
            .first()
            .map(|x| (x.compile.inputs, x.compile.outputs));
        let results = rank::rank(
            self.measured,
            m.frames,
            m.sample_rate,
            request.tie_threshold_percent,
        );
        let recommended = results.iter().find(|r| r.is_recommended);
        let baseline = results.iter().find(|r| r.is_baseline);
        let baseline_comparison = recommended.zip(baseline).map(|(r, b)| {
            let speedup = r.throughput_mbps / b.throughput_mbps;
            BaselineComparison {
                speedup,
                description: if r.is_baseline {
                    "the scalar baseline is the recommended set: no option set beat it beyond noise"
                        .into()
                } else {
                    format!(
                        "{} runs {:.2}× the scalar baseline ({:.1} vs {:.1} MB/s)",
                        advice::display(&r.compiler_options),
                        speedup,
                        r.throughput_mbps,
                        b.throughput_mbps
                    )
                },
            }
        });
        let conditions = conditions(request, self.raw_conditions.as_ref(), isolation);
        let warnings = warnings(&conditions, channels, m);
        AnalyzeReport {
            dsp: request.name.clone(),
            success: !results.is_empty(),
            inputs: channels.map(|c| c.0),
            outputs: channels.map(|c| c.1),
            recommended_options: recommended.map(|r| r.compiler_options.clone()),
            baseline_comparison,
            category: recommended.map(|r| Category::of(r.cpu_percent)),
            recommendations: advice::recommendations(&results, m.sample_rate),
            conclusion: advice::conclusion(&results, m.sample_rate),
            results,
            warnings,
            errors: self.errors,
            conditions,
            wall_seconds: started.elapsed().as_secs_f64(),
        }
    }
}

fn conditions(
    request: &AnalyzeRequest,
    raw: Option<&crate::measure::RawMeasurement>,
    isolation: &str,
) -> Conditions {
    let lib = LibFaust::get().ok();
    let m = &request.measure;
    Conditions {
        faustperf_version: env!("CARGO_PKG_VERSION").into(),
        libfaust_version: lib.map(|l| l.version().to_string()).unwrap_or_default(),
        machine_target: lib
            .map(|l| l.machine_target().to_string())
            .unwrap_or_default(),
        cpu_model: cpu_model(),
        core: raw.and_then(|r| r.thread.core),
        governor: raw.and_then(|r| r.thread.governor.clone()),
        realtime_priority: raw.is_some_and(|r| r.thread.realtime_priority),
        flush_denormals: raw.is_some_and(|r| r.thread.flush_denormals),
        clock: raw.map(|r| r.clock),
        clock_overhead_ns: raw.map(|r| r.clock_overhead_ns),
        buffer_size: m.frames,
        sample_rate: m.sample_rate,
        buffer_blocks: raw.map(|r| r.buffer_blocks),
        buffer_bytes: raw.map(|r| r.buffer_bytes),
        duration_seconds: m.duration_seconds,
        best_n: m.best_n,
        random_controls: m.random_controls,
        seed: m.seed,
        tie_threshold_percent: request.tie_threshold_percent,
        isolation: isolation.into(),
    }
}

fn warnings(c: &Conditions, channels: Option<(usize, usize)>, m: &MeasureConfig) -> Vec<String> {
    let mut out = Vec::new();
    if c.machine_target.ends_with(":generic") {
        out.push(format!(
            "LLVM 14 in libfaust does not recognise this CPU (target {}): it generates code for a generic CPU, \
             which may be slower than this CPU allows; the ranking still holds for this machine",
            c.machine_target
        ));
    }
    if c.clock.is_some() {
        if m.core.is_some() && c.core.is_none() {
            out.push("the measuring thread could not be pinned to a core: the scheduler may move it, adding noise; check --core".into());
        }
        if m.realtime && !c.realtime_priority {
            out.push("real-time priority was not granted (needs root, CAP_SYS_NICE or an rtprio limit): other processes can preempt the measurement".into());
        }
        if m.flush_denormals && !c.flush_denormals {
            out.push("denormals could not be flushed to zero on this CPU: DSPs with decaying feedback may measure slower than in a host that flushes them".into());
        }
        if let Some(g) = c.governor.as_deref().filter(|g| *g != "performance") {
            out.push(format!("the CPU governor is `{g}`: clock speed may change during the run; set `performance` (e.g. `cpupower frequency-set -g performance`) for steadier numbers"));
        }
        if c.clock == Some(crate::measure::clock::ClockKind::Monotonic) {
            out.push("no invariant TSC on this CPU: blocks were timed with the monotonic clock, which is coarser".into());
        }
    }
    if matches!(channels, Some((_, 0))) {
        out.push(
            "the DSP has no outputs: nothing it computes is observable, so the compiler may remove its work; its numbers say little".into(),
        );
    }
    out
}

fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}
