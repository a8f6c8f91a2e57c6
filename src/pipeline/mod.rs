//! How work reaches the workers: option sets compile on the compile lanes (several workers,
//! since libfaust compiles one program at a time per process), taking what they can from the
//! compile cache; then compiled sets are measured or profiled on the one measuring worker, kept
//! on its own core. Nothing is measured while anything compiles.

use crate::accuracy::Difference;
use crate::backends::Code;
use crate::cache::Cache;
use crate::callgrind::{CountConfig, Counts};
use crate::dsp::FaustError;
use crate::jobs::{CompileJob, Compiled, CountJob, MeasureJob, OutputJob, Render, JOBS};
use crate::libfaust::{DspSource, Target};
use crate::measure::thread::all_cores;
use crate::measure::{MeasureConfig, RawMeasurement, Stretch};
use crate::options::{display_on, Backend, OptionSet};
use crate::worker::{InProcess, Job, Phase, RunError, Runner, Supervisor, WorkerConfig};
use serde::{Deserialize, Serialize};

/// Whether a set failed or is not supported by the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SetStatus {
    Failed,
    /// The backend refuses an option of this set (e.g. `-omp` on LLVM); not counted as failure.
    Unsupported,
}

impl SetStatus {
    /// In words, for people.
    pub fn words(self) -> &'static str {
        match self {
            SetStatus::Failed => "failed",
            SetStatus::Unsupported => "not supported by this backend",
        }
    }
}

/// An option set that produced no measurement.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SetError {
    pub compiler_options: String,
    pub backend: Backend,
    pub status: SetStatus,
    /// The message to show.
    pub message: String,
    /// Source line of a compile error, when Faust names one.
    pub line: Option<u32>,
    /// The full cause.
    pub cause: RunError,
}

impl SetError {
    /// How the set is named to people (see [`display_on`]).
    pub fn name(&self) -> String {
        display_on(&self.compiler_options, self.backend)
    }

    /// Why `set` failed; a set its backend does not support ([`OptionSet::unsupported`]) is
    /// [`SetStatus::Unsupported`], not a failure.
    pub(crate) fn new(set: &OptionSet, cause: RunError) -> SetError {
        let status = match cause {
            RunError::Faust {
                error: FaustError::Unsupported { .. },
                ..
            } => SetStatus::Unsupported,
            _ => SetStatus::Failed,
        };
        SetError {
            compiler_options: set.label.clone(),
            backend: set.backend,
            status,
            message: cause.to_string(),
            line: cause.line(),
            cause,
        }
    }
}

/// The compile lanes, the measuring runner and the counting lanes of an analysis.
pub struct Workers {
    pub compilers: Vec<Box<dyn Runner>>,
    pub measurer: Box<dyn Runner>,
    /// Where compiled code runs under valgrind (see [`count_all`]): confined like the others,
    /// but allowed to read `/proc`, since valgrind reads its own entries there and its process
    /// id is not known when the worker is confined. No Faust source is compiled there (so no
    /// `import` can reach `/proc`): only compiled code runs.
    pub counters: Vec<Box<dyn Runner>>,
}

impl Workers {
    /// `jobs` compile workers on every core, and one measuring worker on `measure_core`.
    /// Compiles use the measuring core too: nothing is measured while anything compiles.
    pub fn isolated(config: WorkerConfig, jobs: usize, measure_core: Option<usize>) -> Workers {
        let lanes = |config: &WorkerConfig| -> Vec<Box<dyn Runner>> {
            (0..jobs.max(1))
                .map(|_| Box::new(Supervisor::new(config.clone(), all_cores())) as Box<dyn Runner>)
                .collect()
        };
        let mut counting = config.clone();
        if let Some(roots) = &mut counting.confine_to {
            roots.push("/proc".into());
        }
        Workers {
            compilers: lanes(&config),
            counters: lanes(&counting),
            measurer: Box::new(Supervisor::new(config, measure_core.into_iter().collect())),
        }
    }

    /// Everything in this process, one compile at a time (see [`InProcess`]).
    pub fn in_process() -> Workers {
        Workers {
            compilers: vec![Box::new(InProcess::new(JOBS))],
            counters: vec![Box::new(InProcess::new(JOBS))],
            measurer: Box::new(InProcess::new(JOBS)),
        }
    }

    /// The default number of compile workers: one per core.
    pub fn default_jobs() -> usize {
        all_cores().len().max(1)
    }
}

/// Runs `job(lane, i)` for each of `indices` on the lanes in parallel, each lane taking the next
/// index when it is free, in the order given; `on_start(i)` is told on this thread as each
/// starts. Returns `(i, result)` in the order of `indices`.
pub fn on_lanes<T: Send>(
    lanes: &mut [Box<dyn Runner>],
    indices: &[usize],
    job: impl Fn(&mut dyn Runner, usize) -> T + Sync,
    on_start: &mut dyn FnMut(usize),
) -> Vec<(usize, T)> {
    let queue = std::sync::Mutex::new(indices.iter().rev().copied().collect::<Vec<usize>>());
    let mut done = Vec::with_capacity(indices.len());
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel();
        for lane in lanes.iter_mut() {
            let (queue, job, tx) = (&queue, &job, tx.clone());
            scope.spawn(move || loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some(i) = next else { break };
                let _ = tx.send((i, None));
                let _ = tx.send((i, Some(job(lane.as_mut(), i))));
            });
        }
        drop(tx);
        for (i, result) in rx {
            match result {
                None => on_start(i),
                Some(result) => done.push((i, result)),
            }
        }
    });
    done.sort_by_key(|(i, _)| indices.iter().position(|j| j == i));
    done
}

/// Compiled code and whether it came from the cache, or why compiling failed.
pub type CompileOutcome = Result<(Compiled, bool), RunError>;

/// What [`compile_all`] tells about a job as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompileEvent {
    /// Its code is in the cache: no compile.
    Cached,
    /// A compile lane took it.
    Started,
}

/// Compiles `jobs` on the compile lanes in parallel, each in a worker process that compiled
/// nothing before (libfaust's code for a program depends on what its process compiled before:
/// zitaRev's scalar code differs when compiled after three other sets), taking what it can
/// from `cache` and storing what it compiles there; `on_event(i, …)` hears of job `i`.
/// Returns, per job in order, the code and whether it came from the cache, and warnings: the
/// cache's, and a note when code was compiled with the standard library's import added.
pub fn compile_all(
    workers: &mut Workers,
    cache: Option<&Cache>,
    jobs: &[CompileJob],
    on_event: &mut dyn FnMut(usize, CompileEvent),
) -> (Vec<CompileOutcome>, Vec<String>) {
    let mut warnings = Vec::new();
    let lib = crate::libfaust::LibFaust::get().ok();
    // Each source (and every file it imports) is read and hashed once, however many sets.
    let mut digests: Vec<(&DspSource, Option<String>)> = Vec::new();
    let keys: Vec<Option<String>> = jobs
        .iter()
        .map(|job| {
            cache?;
            let lib = lib?;
            let digest = match digests.iter().find(|(source, _)| **source == job.source) {
                Some((_, digest)) => digest.clone(),
                None => {
                    let digest = Cache::source_digest(&job.source)
                        .map_err(|why| warnings.push(format!("compiled without the cache: {why}")))
                        .ok();
                    digests.push((&job.source, digest.clone()));
                    digest
                }
            }?;
            Some(Cache::key(
                &digest,
                &job.options,
                job.cxx.as_ref(),
                job.target,
                lib,
            ))
        })
        .collect();
    let mut results: Vec<Option<CompileOutcome>> = keys
        .iter()
        .map(|key| {
            let (cache, key) = cache.zip(key.as_deref())?;
            let hit = cache
                .load(key)
                .map_err(|why| warnings.push(why.to_string()));
            Some(Ok((hit.ok()??, true)))
        })
        .collect();
    for (i, r) in results.iter().enumerate() {
        if r.is_some() {
            on_event(i, CompileEvent::Cached);
        }
    }
    let missing: Vec<usize> = (0..jobs.len()).filter(|&i| results[i].is_none()).collect();
    let compiled = on_lanes(
        &mut workers.compilers,
        &missing,
        |lane, i| {
            lane.restart();
            lane.run(&jobs[i], &mut |()| {})
        },
        &mut |i| on_event(i, CompileEvent::Started),
    );
    for (i, result) in compiled {
        if let (Ok(code), Some(cache), Some(key)) = (&result, cache, &keys[i]) {
            if let Err(e) = cache.store(key, code) {
                warnings.push(format!(
                    "could not write to the compile cache ({e}); the run continues without storing"
                ));
            }
        }
        results[i] = Some(result.map(|code| (code, false)));
    }
    if (results.iter()).any(|r| matches!(r, Some(Ok((code, _))) if code.info.stdlib_imported)) {
        warnings.push(crate::libfaust::stdlib::NOTE.into());
    }
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(RunError::worker("the compile lanes stopped"))))
        .collect();
    warnings.dedup();
    (results, warnings)
}

/// Counts the instructions per frame of `source` with each of `sets` (LLVM; see
/// [`crate::callgrind`]): compiles them for [`Target::Portable`] (through `cache`) on the
/// compile lanes, each in a worker that compiled nothing before, since the code libfaust
/// generates for a program can depend on what the process compiled before (after other
/// compiles, zitaRev's `-vec -fun -vs 32` counted 573.0 and 585.7 instructions per frame, its
/// scalar code 555.2 instead of 522.2), then counts them under valgrind, the sets shared among
/// the counting lanes (counting times nothing, so the lanes may run together). Returns per set
/// its counts or why not, and the compiles' warnings.
pub fn count_all(
    workers: &mut Workers,
    cache: Option<&Cache>,
    source: &DspSource,
    sets: &[OptionSet],
    config: &CountConfig,
) -> (Vec<Result<Counts, RunError>>, Vec<String>) {
    let portable: Vec<CompileJob> = (sets.iter())
        .map(|options| CompileJob {
            source: source.clone(),
            options: options.clone(),
            sample_rate: config.sample_rate,
            cxx: None,
            target: Target::Portable,
        })
        .collect();
    let (compiled, warnings) = compile_all(workers, cache, &portable, &mut |_, _| {});
    let mut results: Vec<Option<Result<Counts, RunError>>> = vec![None; sets.len()];
    let mut ready: Vec<usize> = Vec::new();
    for (i, outcome) in compiled.iter().enumerate() {
        match outcome {
            Ok(_) => ready.push(i),
            Err(e) => results[i] = Some(Err(e.clone())),
        }
    }
    // One share of the sets per lane, each counted in one valgrind run.
    let lanes = workers.counters.len().min(ready.len()).max(1);
    let shares: Vec<Vec<usize>> = (0..lanes)
        .map(|l| ready.iter().copied().skip(l).step_by(lanes).collect())
        .collect();
    let counted = on_lanes(
        &mut workers.counters,
        &(0..lanes).collect::<Vec<_>>(),
        |lane, l| {
            let codes: Vec<(Code, OptionSet)> = (shares[l].iter())
                .filter_map(|&i| {
                    let (code, _) = compiled[i].as_ref().ok()?;
                    Some((code.code.clone(), portable[i].options.clone()))
                })
                .collect();
            let job = CountJob {
                codes,
                config: *config,
            };
            lane.run(&job, &mut |_| {})
        },
        &mut |_| {},
    );
    for (l, result) in counted {
        for (k, &i) in shares[l].iter().enumerate() {
            results[i] = Some(match &result {
                Ok(counts) => counts
                    .get(k)
                    .cloned()
                    .unwrap_or_else(|| Err(FaustError::internal("the count lost a set")))
                    .map_err(RunError::in_phase(Phase::Count)),
                Err(e) => Err(e.clone()),
            });
        }
    }
    let results = (results.into_iter())
        .map(|r| r.unwrap_or_else(|| Err(RunError::worker("the compile lanes stopped"))))
        .collect();
    (results, warnings)
}

/// Checks what each of `codes` computes (see [`crate::accuracy`]): compiles the reference,
/// `source` scalar with `-double` on LLVM (through `cache`, in a worker that compiled nothing
/// before), then renders each set beside it, and beside `codes[scalar]` (the scalar
/// single-precision set) when given, on the compile lanes, one set a job so that a set that
/// crashes fails alone. Run after measuring: nothing is timed meanwhile. Returns per set its
/// differences (from the reference, then from the scalar set) or why not, and the compile's
/// warnings.
pub fn check_outputs(
    workers: &mut Workers,
    cache: Option<&Cache>,
    source: &DspSource,
    codes: &[(Code, OptionSet)],
    scalar: Option<usize>,
    render: Render,
) -> (Vec<Result<Vec<Difference>, RunError>>, Vec<String>) {
    let reference = CompileJob {
        source: source.clone(),
        options: OptionSet::scalar().with(&["-double"]),
        sample_rate: render.sample_rate,
        cxx: None,
        target: Target::Host,
    };
    let (mut compiled, warnings) = compile_all(
        workers,
        cache,
        std::slice::from_ref(&reference),
        &mut |_, _| {},
    );
    let references: Vec<(Code, OptionSet)> = match compiled.pop() {
        Some(Ok((code, _))) => std::iter::once((code.code, reference.options))
            .chain(scalar.map(|i| codes[i].clone()))
            .collect(),
        Some(Err(e)) => return (vec![Err(e); codes.len()], warnings),
        None => {
            let stopped = RunError::worker("the compile lanes stopped");
            return (vec![Err(stopped); codes.len()], warnings);
        }
    };
    (
        render_against(workers, &references, codes, render),
        warnings,
    )
}

/// Renders each of `codes` beside each of `references`, one set a job, and returns per set its
/// differences from the references, in order, or why not.
pub fn render_against(
    workers: &mut Workers,
    references: &[(Code, OptionSet)],
    codes: &[(Code, OptionSet)],
    render: Render,
) -> Vec<Result<Vec<Difference>, RunError>> {
    let jobs: Vec<OutputJob> = (codes.iter())
        .map(|code| OutputJob {
            references: references.to_vec(),
            code: code.clone(),
            render,
        })
        .collect();
    on_compile_lanes(workers, &jobs)
}

/// Runs `jobs` on the compile lanes, each lane taking the next when it is free (so that one
/// that crashes fails alone), and returns their replies in order. Run after measuring:
/// nothing is timed meanwhile.
pub fn on_compile_lanes<J: Job + Sync>(
    workers: &mut Workers,
    jobs: &[J],
) -> Vec<Result<J::Reply, RunError>>
where
    J::Reply: Send,
{
    let done = on_lanes(
        &mut workers.compilers,
        &(0..jobs.len()).collect::<Vec<_>>(),
        |lane, i| lane.run(&jobs[i], &mut |_| {}),
        &mut |_| {},
    );
    done.into_iter().map(|(_, r)| r).collect()
}

/// Measures compiled sets (machine code and options each) in one interleaved run on
/// `measurer`. When the worker dies or hangs, the set whose stretch was running is named: it
/// fails with that cause, and the others are measured again without it, from the start so
/// that their passes stay paired. `on_stretch` hears each stretch with the set's index in
/// `codes`.
pub fn measure_sets(
    measurer: &mut dyn Runner,
    codes: &[(Code, OptionSet)],
    config: &MeasureConfig,
    on_stretch: &mut dyn FnMut(Stretch),
) -> Vec<Result<RawMeasurement, RunError>> {
    let mut results: Vec<Option<Result<RawMeasurement, RunError>>> = vec![None; codes.len()];
    let mut remaining: Vec<usize> = (0..codes.len()).collect();
    while !remaining.is_empty() {
        let job = MeasureJob {
            codes: remaining.iter().map(|&i| codes[i].clone()).collect(),
            measure: config.clone(),
        };
        let mut running = None;
        let outcome = measurer.run(&job, &mut |s: Stretch| {
            running = remaining.get(s.set).copied();
            on_stretch(Stretch {
                set: running.unwrap_or(s.set),
                ..s
            });
        });
        match (outcome, running) {
            (Ok(measured), _) => {
                for (&i, m) in remaining.iter().zip(measured) {
                    results[i] = Some(m.map_err(RunError::in_phase(Phase::Measure)));
                }
                break;
            }
            (Err(e @ (RunError::Crashed { .. } | RunError::TimedOut { .. })), Some(culprit)) => {
                results[culprit] = Some(Err(e));
                remaining.retain(|&i| i != culprit);
            }
            (Err(e), _) => {
                for &i in &remaining {
                    results[i] = Some(Err(e.clone()));
                }
                break;
            }
        }
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(RunError::worker("the measurement lost a set"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::FaustError;
    use crate::worker::Task;
    use serde_json::Value;

    /// A measuring runner whose worker dies while set `crash` runs (when it is in the job),
    /// and otherwise measures every set as `stop`-ped rounds of its index.
    struct Dies {
        crash: usize,
        jobs: Vec<Vec<String>>,
    }

    fn machine_code(code: &Code) -> String {
        code.parts.join(" ")
    }

    impl Runner for Dies {
        fn run_task(
            &mut self,
            task: &Task,
            on_note: &mut dyn FnMut(Value),
        ) -> Result<Value, RunError> {
            let job: MeasureJob = serde_json::from_value(task.body.clone()).unwrap();
            self.jobs
                .push(job.codes.iter().map(|c| machine_code(&c.0)).collect());
            for (set, (code, _)) in job.codes.iter().enumerate() {
                on_note(serde_json::to_value(Stretch { pass: 1, set }).unwrap());
                if machine_code(code) == format!("code {}", self.crash) {
                    return Err(RunError::Crashed {
                        phase: Phase::Measure,
                        cause: "killed by SIGSEGV".into(),
                        stderr_tail: String::new(),
                    });
                }
            }
            let measured: Vec<Result<RawMeasurement, FaustError>> = job
                .codes
                .iter()
                .map(|_| Err(FaustError::invalid_input("measured")))
                .collect();
            Ok(serde_json::to_value(measured).unwrap())
        }
        fn isolation(&self) -> &'static str {
            "test"
        }
    }

    #[test]
    fn a_set_that_kills_the_worker_fails_alone_and_the_others_are_measured_again() {
        let codes: Vec<(Code, OptionSet)> = (0..3)
            .map(|i| {
                let code = Code {
                    backend: crate::options::Backend::Llvm,
                    parts: vec![format!("code {i}")],
                };
                (code, OptionSet::scalar())
            })
            .collect();
        // The stand-in runner measures nothing: any configuration will do.
        let config = MeasureConfig::default();
        let mut runner = Dies {
            crash: 1,
            jobs: Vec::new(),
        };
        let mut heard = Vec::new();
        let results = measure_sets(&mut runner, &codes, &config, &mut |s| heard.push(s.set));
        assert!(matches!(results[1], Err(RunError::Crashed { .. })));
        // The others ran to the end in a second job without the culprit (the stand-in
        // runner answers every set it finishes with an error that says so).
        for i in [0, 2] {
            assert!(
                matches!(&results[i], Err(RunError::Faust { error, .. }) if error.to_string() == "measured"),
                "{:?}",
                results[i]
            );
        }
        assert_eq!(
            runner.jobs,
            [vec!["code 0", "code 1", "code 2"], vec!["code 0", "code 2"]]
        );
        // Stretches are told by the set's index among all the sets.
        assert_eq!(heard, [0, 1, 0, 2]);
    }
}
