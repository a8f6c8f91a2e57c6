//! Isolation: compiling and measuring user code in worker processes that a supervisor can time
//! out, kill and restart. libfaust crashes and hangs on some programs and cannot be interrupted,
//! so a bad program must cost one option set, never the whole run.
//!
//! [`Workers`] holds the compile lanes (several, since libfaust compiles one program at a time
//! per process) and the one measuring backend, kept on their own cores.

pub mod confine;
mod job;
mod process;
mod supervisor;

pub use job::{CompileInfo, CompileJob, Compiled, MeasureJob, ProfileJob};
pub use process::{protocol_stdout, worker_main, WORKER_SUBCOMMAND};
pub use supervisor::{Cancel, Supervisor, WorkerConfig};

use crate::cache::Cache;
use crate::inspect::SetInspection;
use crate::libfaust::FaustError;
use crate::measure::thread::all_cores;
use crate::measure::{MeasureConfig, RawMeasurement, Stretch};
use crate::profile::RawProfile;
use serde::{Deserialize, Serialize};

/// The step during which an option set failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Compile,
    Measure,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Compile => "compiling",
            Phase::Measure => "measuring",
        })
    }
}

/// Why one option set produced no measurement.
#[derive(
    Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RunError {
    /// libfaust refused the program or the options, or could not run it.
    #[error("{error}")]
    Faust { phase: Phase, error: FaustError },
    /// The worker process died.
    #[error(
        "the worker crashed while {phase}: {cause}{}",
        stderr_suffix(stderr_tail)
    )]
    Crashed {
        phase: Phase,
        /// e.g. `killed by SIGSEGV (segmentation fault)` or `exited with status 101`.
        cause: String,
        /// The last lines the worker wrote on stderr.
        stderr_tail: String,
    },
    /// The caller cancelled the run; the worker was killed.
    #[error("cancelled while {phase}; the worker was killed")]
    Cancelled { phase: Phase },
    /// The worker did not finish in time and was killed.
    #[error(
        "{phase} timed out after {seconds} s; the worker was killed{}",
        timeout_hint(phase)
    )]
    TimedOut { phase: Phase, seconds: f64 },
    /// The worker could not be started or spoke nonsense.
    #[error("worker failure: {message}")]
    Worker { message: String },
}

impl RunError {
    pub fn worker(message: impl Into<String>) -> RunError {
        RunError::Worker {
            message: message.into(),
        }
    }
}

fn timeout_hint(phase: &Phase) -> &'static str {
    match phase {
        Phase::Compile => " (raise --compile-timeout if the program is just large)",
        Phase::Measure => " (one block of the program ran for longer than that)",
    }
}

fn stderr_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!(" (worker stderr: {})", tail.trim())
    }
}

/// Something that compiles and measures: a supervised worker process or this process.
pub trait Backend: Send {
    fn compile(&mut self, job: &CompileJob) -> Result<Compiled, RunError>;
    /// Compiles, then reads the generated LLVM IR (see [`crate::inspect`]).
    fn inspect(&mut self, job: &CompileJob) -> Result<SetInspection, RunError>;
    /// Measures compiled sets in interleaved passes (see `measure::measure_interleaved`);
    /// `on_stretch` hears of each stretch before it runs. A set that cannot be measured fails
    /// alone; `Err` means the whole job failed (the worker died, hung or was cancelled while
    /// the last announced stretch ran).
    fn measure(
        &mut self,
        job: &MeasureJob,
        on_stretch: &mut dyn FnMut(Stretch),
    ) -> Result<Vec<Result<RawMeasurement, FaustError>>, RunError>;
    /// Profiles in real time; `on_live` gets the seconds of audio done and the recent load (%)
    /// every 250 ms while the DSP runs.
    fn profile(
        &mut self,
        job: &ProfileJob,
        on_live: &mut dyn FnMut(f64, f64),
    ) -> Result<RawProfile, RunError>;
    /// How jobs are isolated: `worker` or `in_process`, recorded with the results.
    fn isolation(&self) -> &'static str;
}

/// Runs jobs in this process. Faster to start, but gives up what the worker gives: a program
/// that crashes libfaust crashes the host, one that hangs the compiler hangs it (there is no
/// compile timeout), and there is no memory cap. `-fm` works only if the host exports Faust's
/// `fast_*` functions. Compiles still go through the process-wide compiler lock.
#[derive(Debug, Default)]
pub struct InProcess;

impl Backend for InProcess {
    fn compile(&mut self, job: &CompileJob) -> Result<Compiled, RunError> {
        job::compile(job).map_err(|error| RunError::Faust {
            phase: Phase::Compile,
            error,
        })
    }

    fn inspect(&mut self, job: &CompileJob) -> Result<SetInspection, RunError> {
        job::inspect(job).map_err(|error| RunError::Faust {
            phase: Phase::Compile,
            error,
        })
    }

    fn measure(
        &mut self,
        job: &MeasureJob,
        on_stretch: &mut dyn FnMut(Stretch),
    ) -> Result<Vec<Result<RawMeasurement, FaustError>>, RunError> {
        let (tx, rx) = std::sync::mpsc::channel();
        relay_while(
            || {
                job::measure(job, &mut |stretch| {
                    let _ = tx.send(stretch);
                })
            },
            &rx,
            on_stretch,
        )
        .map_err(|error| RunError::Faust {
            phase: Phase::Measure,
            error,
        })
    }

    fn profile(
        &mut self,
        job: &ProfileJob,
        on_live: &mut dyn FnMut(f64, f64),
    ) -> Result<RawProfile, RunError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let send = |seconds: f64, load: f64| {
            let _ = tx
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .send((seconds, load));
        };
        relay_while(
            || job::profile(job, &send),
            &rx,
            |(seconds, load)| on_live(seconds, load),
        )
        .map_err(|error| RunError::Faust {
            phase: Phase::Measure,
            error,
        })
    }

    fn isolation(&self) -> &'static str {
        "in_process"
    }
}

/// Runs `work` on its own thread while handing what it sends on `rx` to `on_report` on this
/// one, until it ends.
fn relay_while<T: Send, R>(
    work: impl FnOnce() -> Result<T, FaustError> + Send,
    rx: &std::sync::mpsc::Receiver<R>,
    mut on_report: impl FnMut(R),
) -> Result<T, FaustError> {
    std::thread::scope(|scope| {
        let running = scope.spawn(work);
        while !running.is_finished() {
            if let Ok(report) = rx.recv_timeout(std::time::Duration::from_millis(50)) {
                on_report(report);
            }
        }
        while let Ok(report) = rx.try_recv() {
            on_report(report);
        }
        running
            .join()
            .unwrap_or_else(|_| Err(FaustError::invalid_input("the measuring thread panicked")))
    })
}

/// The compile lanes and the measuring backend of an analysis.
pub struct Workers {
    pub compilers: Vec<Box<dyn Backend>>,
    pub measurer: Box<dyn Backend>,
}

impl Workers {
    /// `jobs` compile workers on every core, and one measuring worker on `measure_core`.
    /// Compiles use the measuring core too: nothing is measured while anything compiles.
    pub fn isolated(config: WorkerConfig, jobs: usize, measure_core: Option<usize>) -> Workers {
        Workers {
            compilers: (0..jobs.max(1))
                .map(|_| Box::new(Supervisor::new(config.clone(), all_cores())) as Box<dyn Backend>)
                .collect(),
            measurer: Box::new(Supervisor::new(config, measure_core.into_iter().collect())),
        }
    }

    /// Everything in this process, one compile at a time (see [`InProcess`]).
    pub fn in_process() -> Workers {
        Workers {
            compilers: vec![Box::new(InProcess)],
            measurer: Box::new(InProcess),
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
    lanes: &mut [Box<dyn Backend>],
    indices: &[usize],
    job: impl Fn(&mut dyn Backend, usize) -> T + Sync,
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

/// Compiles `jobs` on the compile lanes in parallel, taking what it can from `cache` and storing
/// what it compiles there; `on_event(i, …)` hears of job `i`. Returns, per job in order, the
/// code and whether it came from the cache, and warnings: the cache's, and a note when code
/// was compiled with the standard library's import added.
pub fn compile_all(
    workers: &mut Workers,
    cache: Option<&Cache>,
    jobs: &[CompileJob],
    on_event: &mut dyn FnMut(usize, CompileEvent),
) -> (Vec<CompileOutcome>, Vec<String>) {
    let mut warnings = Vec::new();
    let lib = crate::libfaust::LibFaust::get().ok();
    let keys: Vec<Option<String>> = jobs
        .iter()
        .map(|job| {
            cache?;
            let lib = lib?;
            match Cache::source_digest(&job.source) {
                Ok(digest) => Some(Cache::key(&digest, &job.options, lib)),
                Err(why) => {
                    warnings.push(format!("compiled without the cache: {why}"));
                    None
                }
            }
        })
        .collect();
    let mut results: Vec<Option<CompileOutcome>> = keys
        .iter()
        .map(|key| {
            let (cache, key) = cache.zip(key.as_deref())?;
            match cache.load(key) {
                Ok(hit) => hit.map(|compiled| Ok((compiled, true))),
                Err(why) => {
                    warnings.push(why);
                    None
                }
            }
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
        |lane, i| lane.compile(&jobs[i]),
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
    let stdlib_added = results
        .iter()
        .any(|r| matches!(r, Some(Ok((code, _))) if code.info.stdlib_imported));
    if stdlib_added {
        warnings.push(crate::libfaust::stdlib::NOTE.into());
    }
    let results = results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(RunError::worker("the compile lanes stopped"))))
        .collect();
    warnings.dedup();
    (results, warnings)
}

/// Measures compiled sets (machine code and options each) in one interleaved run on
/// `measurer`. When the worker dies or hangs, the set whose stretch was running is named: it
/// fails with that cause, and the others are measured again without it, from the start so
/// that their passes stay paired. `on_stretch` hears each stretch with the set's index in
/// `codes`.
pub fn measure_sets(
    measurer: &mut dyn Backend,
    codes: &[(String, Vec<String>)],
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
        let outcome = measurer.measure(&job, &mut |s: Stretch| {
            running = remaining.get(s.set).copied();
            on_stretch(Stretch {
                set: running.unwrap_or(s.set),
                ..s
            });
        });
        match (outcome, running) {
            (Ok(measured), _) => {
                for (&i, m) in remaining.iter().zip(measured) {
                    results[i] = Some(m.map_err(|error| RunError::Faust {
                        phase: Phase::Measure,
                        error,
                    }));
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

    /// A measuring backend whose worker dies while set `crash` runs (when it is in the job),
    /// and otherwise measures every set as `stop`-ped rounds of its index.
    struct Dies {
        crash: usize,
        jobs: Vec<Vec<String>>,
    }

    impl Backend for Dies {
        fn compile(&mut self, _: &CompileJob) -> Result<Compiled, RunError> {
            Err(RunError::worker("not used"))
        }
        fn inspect(&mut self, _: &CompileJob) -> Result<SetInspection, RunError> {
            Err(RunError::worker("not used"))
        }
        fn measure(
            &mut self,
            job: &MeasureJob,
            on_stretch: &mut dyn FnMut(Stretch),
        ) -> Result<Vec<Result<RawMeasurement, FaustError>>, RunError> {
            self.jobs
                .push(job.codes.iter().map(|c| c.0.clone()).collect());
            for (set, (code, _)) in job.codes.iter().enumerate() {
                on_stretch(Stretch { pass: 1, set });
                if *code == format!("code {}", self.crash) {
                    return Err(RunError::Crashed {
                        phase: Phase::Measure,
                        cause: "killed by SIGSEGV".into(),
                        stderr_tail: String::new(),
                    });
                }
            }
            Ok(job
                .codes
                .iter()
                .map(|_| Err(FaustError::invalid_input("measured")))
                .collect())
        }
        fn profile(
            &mut self,
            _: &ProfileJob,
            _: &mut dyn FnMut(f64, f64),
        ) -> Result<RawProfile, RunError> {
            Err(RunError::worker("not used"))
        }
        fn isolation(&self) -> &'static str {
            "test"
        }
    }

    #[test]
    fn a_set_that_kills_the_worker_fails_alone_and_the_others_are_measured_again() {
        let codes: Vec<(String, Vec<String>)> =
            (0..3).map(|i| (format!("code {i}"), vec![])).collect();
        let config = MeasureConfig {
            frames: 64,
            sample_rate: 48000,
            budget: crate::measure::Budget::Fixed { seconds: 0.1 },
            best_n: 10,
            seed: 1,
            random_controls: false,
            flush_denormals: true,
            realtime: false,
            core: None,
        };
        let mut backend = Dies {
            crash: 1,
            jobs: Vec::new(),
        };
        let mut heard = Vec::new();
        let results = measure_sets(&mut backend, &codes, &config, &mut |s| heard.push(s.set));
        assert!(matches!(results[1], Err(RunError::Crashed { .. })));
        // The others ran to the end in a second job without the culprit (the stand-in
        // backend answers every set it finishes with an error that says so).
        for i in [0, 2] {
            assert!(
                matches!(&results[i], Err(RunError::Faust { error, .. }) if error.to_string() == "measured"),
                "{:?}",
                results[i]
            );
        }
        assert_eq!(
            backend.jobs,
            [vec!["code 0", "code 1", "code 2"], vec!["code 0", "code 2"]]
        );
        // Stretches are told by the set's index among all the sets.
        assert_eq!(heard, [0, 1, 0, 2]);
    }
}
