//! The parent side: starts a worker, sends it requests, enforces time limits, replaces it when it
//! dies.

use super::job::{Event, Limit, Request, Task};
use super::process::WORKER_SUBCOMMAND;
use super::{Phase, RunError, Runner};
use serde_json::Value;
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How workers are started and limited.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The `faustperf` executable (it has the hidden worker subcommand).
    pub exe: PathBuf,
    /// Longest a compile may take before the worker is killed.
    pub compile_timeout: Duration,
    /// Address-space cap of the worker, MiB.
    pub memory_limit_mb: u64,
    /// When set, workers are confined with Landlock to reading these directories and the Faust
    /// libraries (see [`super::confine`]).
    pub confine_to: Option<Vec<PathBuf>>,
    /// Cancels the requests of every supervisor made with this configuration.
    pub cancel: Cancel,
}

/// A flag that stops a run: a waiting supervisor kills its worker within [`CANCEL_POLL`] and
/// answers [`RunError::Cancelled`], and no new request starts.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// How often a waiting supervisor looks at its [`Cancel`] flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// Drives one worker process at a time, restricted to some cores; a worker that crashes or
/// times out is killed and the next request starts a new one.
pub struct Supervisor {
    config: WorkerConfig,
    cores: Vec<usize>,
    worker: Option<Worker>,
}

struct Worker {
    child: Child,
    stdin: ChildStdin,
    events: Receiver<String>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
}

const STDERR_LINES_KEPT: usize = 8;

impl Supervisor {
    /// A supervisor whose workers run only on `cores` (anywhere when empty).
    pub fn new(config: WorkerConfig, cores: Vec<usize>) -> Supervisor {
        Supervisor {
            config,
            cores,
            worker: None,
        }
    }

    fn spawn(&self) -> Result<Worker, RunError> {
        let cores: Vec<String> = self.cores.iter().map(usize::to_string).collect();
        let mut command = Command::new(&self.config.exe);
        command
            .arg(WORKER_SUBCOMMAND)
            .arg("--memory-limit-mb")
            .arg(self.config.memory_limit_mb.to_string())
            .arg("--cores")
            .arg(cores.join(","));
        for root in self.config.confine_to.iter().flatten() {
            command.arg("--confine-to").arg(root);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| {
                RunError::worker(format!("cannot start {}: {e}", self.config.exe.display()))
            })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(RunError::worker("worker pipes missing"));
        };
        let (tx, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = stderr_tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
                if tail.len() == STDERR_LINES_KEPT {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        Ok(Worker {
            child,
            stdin,
            events,
            stderr_tail,
        })
    }

    /// Sends `task` to the worker, starting one when there is none.
    fn send(&mut self, task: &Task) -> Result<(), RunError> {
        if self.config.cancel.is_cancelled() {
            return Err(RunError::Cancelled { phase: task.phase });
        }
        if self.worker.is_none() {
            self.worker = Some(self.spawn()?);
        }
        let request = Request {
            job: task.name.into(),
            body: task.body.clone(),
        };
        let line = serde_json::to_string(&request).map_err(|e| RunError::worker(e.to_string()))?;
        let worker = self
            .worker
            .as_mut()
            .ok_or_else(|| RunError::worker("no worker"))?;
        if let Err(e) = writeln!(worker.stdin, "{line}").and_then(|_| worker.stdin.flush()) {
            self.kill();
            return Err(RunError::worker(format!(
                "cannot send the request to the worker: {e}"
            )));
        }
        Ok(())
    }

    /// Waits until `deadline` for the worker's next answer; kills the worker on timeout,
    /// death or cancellation. `limit` is the time limit reported on timeout.
    fn next_event(
        &mut self,
        phase: Phase,
        deadline: Instant,
        limit: Duration,
    ) -> Result<Event, RunError> {
        let worker = self
            .worker
            .as_mut()
            .ok_or_else(|| RunError::worker("no worker"))?;
        let received = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match worker.events.recv_timeout(left.min(CANCEL_POLL)) {
                Err(RecvTimeoutError::Timeout) if self.config.cancel.is_cancelled() => {
                    self.kill();
                    return Err(RunError::Cancelled { phase });
                }
                Err(RecvTimeoutError::Timeout) if !left.is_zero() => continue,
                other => break other,
            }
        };
        match received {
            Ok(line) => serde_json::from_str(&line).map_err(|e| {
                self.kill();
                RunError::worker(format!("unreadable worker answer ({e}): {line}"))
            }),
            Err(RecvTimeoutError::Timeout) => {
                self.kill();
                Err(RunError::TimedOut {
                    phase,
                    seconds: limit.as_secs_f64(),
                })
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = worker.child.wait();
                let _ = std::fs::remove_dir_all(super::process::private_dir(worker.child.id()));
                // Give the stderr reader a moment to take the last lines.
                std::thread::sleep(Duration::from_millis(50));
                let mut tail = worker.stderr_tail.lock().unwrap_or_else(|p| p.into_inner());
                let stderr_tail = tail.make_contiguous().join(" | ");
                drop(tail);
                self.worker = None;
                Err(RunError::Crashed {
                    phase,
                    cause: match status {
                        Ok(status) => describe_exit(status),
                        Err(e) => format!("unknown ({e})"),
                    },
                    stderr_tail,
                })
            }
        }
    }

    fn kill(&mut self) {
        if let Some(mut worker) = self.worker.take() {
            let _ = worker.child.kill();
            let _ = worker.child.wait();
            let _ = std::fs::remove_dir_all(super::process::private_dir(worker.child.id()));
        }
    }
}

impl Runner for Supervisor {
    fn run_task(&mut self, task: &Task, on_note: &mut dyn FnMut(Value)) -> Result<Value, RunError> {
        let (limit, silence) = match task.limit {
            Limit::CompileTimeout(factor) => (self.config.compile_timeout.mul_f64(factor), false),
            Limit::Whole(limit) => (limit, false),
            Limit::Silence(limit) => (limit, true),
        };
        self.send(task)?;
        let started = Instant::now();
        loop {
            let deadline = if silence { Instant::now() } else { started } + limit;
            match self.next_event(task.phase, deadline, limit)? {
                Event::Note(note) => on_note(note),
                Event::Reply(reply) => return Ok(reply),
                Event::Failed(error) => return Err(RunError::in_phase(task.phase)(error)),
            }
        }
    }

    fn isolation(&self) -> &'static str {
        "worker"
    }

    fn restart(&mut self) {
        self.kill();
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.kill();
    }
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                libc::SIGSEGV => {
                    "SIGSEGV (segmentation fault, e.g. a stack overflow in the compiler)"
                }
                libc::SIGABRT => "SIGABRT (aborted, e.g. a failed allocation under the memory cap)",
                libc::SIGBUS => "SIGBUS (bus error)",
                libc::SIGILL => "SIGILL (illegal instruction)",
                libc::SIGFPE => "SIGFPE (arithmetic exception)",
                libc::SIGKILL => "SIGKILL (killed)",
                _ => "",
            };
            return if name.is_empty() {
                format!("killed by signal {signal}")
            } else {
                format!("killed by {name}")
            };
        }
    }
    format!("exited with {status}")
}
