//! `analyze`: every option set compiled, measured and ranked, with a verdict and advice.

pub mod advice;
pub mod options;
pub mod rank;
pub mod result;

use crate::cache::Cache;
use crate::libfaust::{DspSource, LibFaust};
use crate::measure::stats::{BlockTimes, StatsError, TimingSummary};
use crate::measure::MeasureConfig;
use crate::worker::{Backend, CompileJob, Compiled, MeasureJob, RunError, Workers};
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

/// Where an option set is in the pipeline.
#[derive(Debug, Clone, PartialEq)]
pub enum SetState {
    Queued,
    Compiling,
    /// Its compiled code came from the cache.
    Cached,
    Measuring,
    /// Measured; the phrase says how fast (e.g. `412.3 MB/s`).
    Done(String),
    /// Failed or not supported; the phrase says which.
    Failed(String),
}

/// Told about each option set as it moves through the pipeline (for progress bars and MCP
/// notifications). `index` is 0-based among at least `total` sets (a search adds stages).
pub trait Progress {
    fn update(&mut self, _set: &OptionSet, _index: usize, _total: usize, _state: &SetState) {}
}

/// Progress that goes nowhere.
pub struct Silent;
impl Progress for Silent {}

/// Runs the analysis: compiles option sets on `workers`' compile lanes (or takes them from
/// `cache`) while the measuring backend measures them one after another, in the order given,
/// so that results do not depend on which compile finishes first. Never fails as a whole:
/// failures of option sets are in `errors`.
pub fn analyze(
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
        errors: Vec::new(),
        warnings: Vec::new(),
        raw_conditions: None,
        done: 0,
        stats_pool: crate::measure::thread::pool_off_core(request.measure.core),
    };
    let bs = request.measure.frames;
    match &request.option_sets {
        OptionSets::Presets => state.run_stage(options::presets(), workers, progress),
        OptionSets::Custom(sets) => {
            let mut sets = sets.clone();
            if !sets.iter().any(OptionSet::is_scalar) {
                sets.insert(0, OptionSet::scalar());
            }
            state.run_stage(sets, workers, progress)
        }
        OptionSets::Faustbench => {
            state.run_stage(faustbench::first_stage(bs), workers, progress);
            if let Some(best) = state.fastest() {
                state.run_stage(faustbench::mcd_stage(&best), workers, progress);
            }
            if let Some(best) = state.fastest() {
                state.run_stage(faustbench::scheduling_stage(&best), workers, progress);
            }
        }
    }
    state.report(started, workers.measurer.isolation())
}

struct State<'a> {
    request: &'a AnalyzeRequest,
    cache: Option<&'a Cache>,
    measured: Vec<Measured>,
    errors: Vec<SetError>,
    /// Problems of the run as a whole (e.g. with the cache).
    warnings: Vec<String>,
    /// The measurement conditions of the first set measured (its samples taken out).
    raw_conditions: Option<crate::measure::RawMeasurement>,
    done: usize,
    /// Threads for the statistics, kept off the measuring core.
    stats_pool: Result<rayon::ThreadPool, rayon::ThreadPoolBuildError>,
}

/// What a compile lane reports to the measuring loop.
enum LaneEvent {
    Started(usize),
    Finished(usize, Result<Compiled, RunError>),
}

impl State<'_> {
    fn run_stage(
        &mut self,
        sets: Vec<OptionSet>,
        workers: &mut Workers,
        progress: &mut dyn Progress,
    ) {
        let mut seen: Vec<OptionSet> = self.measured.iter().map(|m| m.set.clone()).collect();
        seen.extend(
            self.errors
                .iter()
                .filter_map(|e| options::parse_option_set(&e.compiler_options).ok()),
        );
        let sets: Vec<OptionSet> = sets.into_iter().filter(|s| !seen.contains(s)).collect();
        let (base, total) = (self.done, self.done + sets.len());
        let compile_job = |set: &OptionSet| CompileJob {
            source: self.request.source.clone(),
            options: set.args.clone(),
            sample_rate: self.request.measure.sample_rate,
        };

        // Cache hits are ready at once; the rest queue for the compile lanes.
        let lib = LibFaust::get().ok();
        let digest = self
            .cache
            .and_then(|_| match Cache::source_digest(&self.request.source) {
                Ok(digest) => Some(digest),
                Err(why) => {
                    self.warn_once(format!("compiled without the cache: {why}"));
                    None
                }
            });
        let mut keys: Vec<Option<String>> = Vec::new();
        let mut ready: Vec<Option<(Result<Compiled, RunError>, bool)>> = Vec::new();
        let mut queue = std::collections::VecDeque::new();
        for (i, set) in sets.iter().enumerate() {
            progress.update(set, base + i, total, &SetState::Queued);
            let key = digest
                .as_deref()
                .zip(lib)
                .map(|(d, lib)| Cache::key(d, &set.args, lib));
            match self.cached(key.as_deref()) {
                Some(compiled) => {
                    progress.update(set, base + i, total, &SetState::Cached);
                    ready.push(Some((Ok(compiled), true)));
                }
                None => {
                    ready.push(None);
                    queue.push_back((i, compile_job(set)));
                }
            }
            keys.push(key);
        }

        let queue = std::sync::Mutex::new(queue);
        let Workers {
            compilers,
            measurer,
        } = workers;
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::channel();
            for lane in compilers.iter_mut() {
                let (tx, queue) = (tx.clone(), &queue);
                scope.spawn(move || loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some((i, job)) = next else { break };
                    let _ = tx.send(LaneEvent::Started(i));
                    let _ = tx.send(LaneEvent::Finished(i, lane.compile(&job)));
                });
            }
            drop(tx);
            for i in 0..sets.len() {
                while ready[i].is_none() {
                    match rx.recv() {
                        Ok(LaneEvent::Started(j)) => {
                            progress.update(&sets[j], base + j, total, &SetState::Compiling)
                        }
                        Ok(LaneEvent::Finished(j, result)) => {
                            if let Ok(compiled) = &result {
                                self.store(keys[j].as_deref(), compiled);
                            }
                            ready[j] = Some((result, false));
                        }
                        Err(_) => {
                            ready[i] =
                                Some((Err(RunError::worker("the compile lanes stopped")), false))
                        }
                    }
                }
                if let Some((result, cached)) = ready[i].take() {
                    let outcome =
                        self.measure_one(&sets[i], result, cached, measurer.as_mut(), |state| {
                            progress.update(&sets[i], base + i, total, state)
                        });
                    progress.update(&sets[i], base + i, total, &outcome);
                }
                self.done += 1;
            }
        });
    }

    /// The cached code for `key`, if any; a damaged entry is a warning.
    fn cached(&mut self, key: Option<&str>) -> Option<Compiled> {
        let (cache, key) = self.cache.zip(key)?;
        cache.load(key).unwrap_or_else(|why| {
            self.warn_once(why);
            None
        })
    }

    /// Stores compiled code under `key`; a failure (e.g. disk full) is a warning.
    fn store(&mut self, key: Option<&str>, compiled: &Compiled) {
        if let Some((cache, key)) = self.cache.zip(key) {
            if let Err(e) = cache.store(key, compiled) {
                self.warn_once(format!(
                    "could not write to the compile cache ({e}); the run continues without storing"
                ));
            }
        }
    }

    fn warn_once(&mut self, warning: String) {
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    fn measure_one(
        &mut self,
        set: &OptionSet,
        compiled: Result<Compiled, RunError>,
        cached: bool,
        measurer: &mut dyn Backend,
        mut progress: impl FnMut(&SetState),
    ) -> SetState {
        let failure = |cause: RunError| {
            let status = if set.backend_refuses() && matches!(cause, RunError::Faust { .. }) {
                SetStatus::Unsupported
            } else {
                SetStatus::Failed
            };
            SetError::new(set.label.clone(), status, cause)
        };
        let measured = compiled.and_then(|compiled| {
            progress(&SetState::Measuring);
            let job = MeasureJob {
                machine_code: compiled.machine_code,
                options: set.args.clone(),
                measure: self.request.measure.clone(),
                leader_ns: self.leader_ns(),
            };
            measurer.measure(&job).map(|raw| (compiled.info, raw))
        });
        let (compile, mut raw) = match measured {
            Ok(v) => v,
            Err(cause) => {
                let error = failure(cause);
                let state = SetState::Failed(match error.status {
                    SetStatus::Unsupported => "not supported by this backend".into(),
                    SetStatus::Failed => "failed".into(),
                });
                self.errors.push(error);
                return state;
            }
        };
        let m = &self.request.measure;
        let samples = std::mem::take(&mut raw.samples_ns);
        let summary = || {
            let times = BlockTimes::new(samples, m.best_n)?;
            Ok(TimingSummary::of(
                &times,
                &raw.round_best_ns,
                raw.batch,
                m.best_n,
            ))
        };
        let summary: Result<TimingSummary, StatsError> = match &self.stats_pool {
            Ok(pool) => pool.install(summary),
            Err(_) => summary(),
        };
        match summary {
            Ok(timing) => {
                let mbps = rank::mbps(
                    rank::bytes_per_block(&compile, m.frames),
                    timing.best_mean_ns,
                );
                self.measured.push(Measured {
                    set: set.clone(),
                    compile,
                    timing,
                    cached,
                    stop: raw.stop,
                    measure_seconds: raw.timed_seconds,
                    non_finite_outputs: raw.non_finite_outputs,
                });
                self.raw_conditions.get_or_insert(raw);
                SetState::Done(format!("{mbps:.1} MB/s"))
            }
            Err(e) => {
                self.errors.push(failure(RunError::worker(format!(
                    "unusable measurement: {e}"
                ))));
                SetState::Failed("failed".into())
            }
        }
    }

    /// The slowest plausible time of the fastest set so far (upper end of its interval).
    fn leader_ns(&self) -> Option<f64> {
        self.measured
            .iter()
            .map(|m| m.timing.best_mean_ci95_ns[1])
            .min_by(f64::total_cmp)
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
        let mut warnings = warnings(&conditions, channels, m);
        warnings.extend(batch_note(&results));
        warnings.extend(self.warnings);
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
        budget: m.budget,
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

/// One line for the sets whose blocks were too short to time one by one.
fn batch_note(results: &[result::SetResult]) -> Option<String> {
    let batched: Vec<_> = results.iter().filter(|r| r.timing.batch > 1).collect();
    let smallest = batched.iter().map(|r| r.timing.batch).min()?;
    let largest = batched.iter().map(|r| r.timing.batch).max()?;
    let batches = if smallest == largest {
        smallest.to_string()
    } else {
        format!("{smallest}–{largest}")
    };
    Some(format!(
        "{} of {} sets run a block too quickly to time it alone: their blocks were timed in batches of {batches} and divided (timing.batch), so their percentiles are of batch means",
        batched.len(),
        results.len()
    ))
}

/// The CPU's model name from `/proc/cpuinfo`.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}
