//! Isolation: running user code in worker processes that a supervisor can time out, kill and
//! restart. libfaust crashes and hangs on some programs and cannot be interrupted, so a bad
//! program must cost one option set, never the whole run.
//!
//! This is transport only: a worker runs [`Job`]s (requests with a reply, notes and a time
//! limit) from the table it is handed, without knowing what they do. The jobs themselves are in
//! `crate::jobs`; how work is spread over workers, in `crate::pipeline`.

pub mod confine;
mod job;
mod process;
mod supervisor;

pub use job::{serve, Job, Jobs, Limit, Serve, Task};
pub use process::{protocol_stdout, worker_main, WORKER_SUBCOMMAND};
pub use supervisor::{Cancel, Supervisor, WorkerConfig};

use crate::dsp::FaustError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The step during which an option set failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Compile,
    Measure,
    /// Counting instructions under valgrind.
    Count,
    /// Rendering output to compare it with the reference's.
    Output,
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Phase::Compile => "compiling",
            Phase::Measure => "measuring",
            Phase::Count => "counting instructions",
            Phase::Output => "rendering output",
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

    /// What libfaust's error becomes while `phase` (for `map_err`).
    pub fn in_phase(phase: Phase) -> impl Fn(FaustError) -> RunError {
        move |error| RunError::Faust { phase, error }
    }

    /// The source line of a compile error, when Faust names one.
    pub fn line(&self) -> Option<u32> {
        match self {
            RunError::Faust {
                error: FaustError::Compile { line, .. },
                ..
            } => *line,
            _ => None,
        }
    }
}

fn timeout_hint(phase: &Phase) -> &'static str {
    match phase {
        Phase::Compile => " (raise --compile-timeout if the program is just large)",
        Phase::Measure => " (one block of the program ran for longer than that)",
        Phase::Count => " (valgrind runs code 50 to 100 times slower than the processor)",
        Phase::Output => " (a second of its audio took longer than that)",
    }
}

fn stderr_suffix(tail: &str) -> String {
    if tail.trim().is_empty() {
        String::new()
    } else {
        format!(" (worker stderr: {})", tail.trim())
    }
}

/// Something that runs jobs: a supervised worker process or this process.
pub trait Runner: Send {
    /// Runs one job, handing its notes to `on_note` as they come. `Err` when the job failed
    /// or the worker died, hung or was cancelled while it ran.
    fn run_task(&mut self, task: &Task, on_note: &mut dyn FnMut(Value)) -> Result<Value, RunError>;
    /// How jobs are isolated: `worker` or `in_process`, recorded with the results.
    fn isolation(&self) -> &'static str;
    /// Ends the worker, so that the next job starts in a fresh process (this process: no-op).
    fn restart(&mut self) {}
}

impl dyn Runner + '_ {
    /// Runs `job`, its notes to `on_note`.
    pub fn run<J: Job>(
        &mut self,
        job: &J,
        on_note: &mut dyn FnMut(J::Note),
    ) -> Result<J::Reply, RunError> {
        let task = Task::of(job).map_err(RunError::in_phase(J::PHASE))?;
        let reply = self.run_task(&task, &mut |note| {
            if let Ok(note) = serde_json::from_value(note) {
                on_note(note)
            }
        })?;
        serde_json::from_value(reply)
            .map_err(|e| RunError::worker(format!("unreadable {} reply: {e}", J::NAME)))
    }
}

/// Runs jobs in this process. Faster to start, but gives up what the worker gives: a program
/// that crashes libfaust crashes the host, one that hangs the compiler hangs it (there is no
/// compile timeout), and there is no memory cap. `-fm` works only if the host exports Faust's
/// `fast_*` functions. Compiles still go through the process-wide compiler lock.
#[derive(Debug, Clone, Copy)]
pub struct InProcess {
    jobs: Jobs,
}

impl InProcess {
    /// Runs the jobs of `jobs` (`crate::jobs::JOBS`).
    pub fn new(jobs: Jobs) -> InProcess {
        InProcess { jobs }
    }
}

impl Runner for InProcess {
    fn run_task(&mut self, task: &Task, on_note: &mut dyn FnMut(Value)) -> Result<Value, RunError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let note = |note: Value| {
            let _ = tx.lock().unwrap_or_else(|p| p.into_inner()).send(note);
        };
        // The job runs on its own thread while its notes are handed to `on_note` on this one.
        std::thread::scope(|scope| {
            let running = scope.spawn(|| job::dispatch(self.jobs, task.name, &task.body, &note));
            while !running.is_finished() {
                if let Ok(note) = rx.recv_timeout(std::time::Duration::from_millis(50)) {
                    on_note(note);
                }
            }
            while let Ok(note) = rx.try_recv() {
                on_note(note);
            }
            running
                .join()
                .unwrap_or_else(|_| Err(FaustError::internal("the job's thread panicked")))
        })
        .map_err(RunError::in_phase(task.phase))
    }

    fn isolation(&self) -> &'static str {
        "in_process"
    }
}
