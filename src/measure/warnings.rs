//! What makes a run's numbers less trustworthy, as one type: each warning's text says what to
//! do (in the spirit of hyperfine's `src/output/warnings.rs`). Every report that measures
//! carries the warnings of its [`Environment`].

use super::clock::ClockKind;
use super::thread::ThreadConditions;
use std::fmt;

/// A change of the core's clock during a run that is warned about (×).
const CLOCK_CHANGE: f64 = 1.01;

/// A warning about a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Warning {
    /// LLVM does not recognise the CPU: libfaust's code is for a generic CPU (the target).
    GenericTarget(String),
    NotPinned,
    NoRealtimePriority,
    DenormalsNotFlushed,
    /// The CPU frequency governor is not `performance`.
    Governor(String),
    /// The core's clock moved from the first to the second, GHz.
    ClockChanged(f64, f64),
    /// No invariant TSC: blocks were timed with the monotonic clock.
    MonotonicClock,
    /// WebAssembly code was measured with denormals flushed, which browsers do not do.
    WasmDenormals,
    /// The DSP has no outputs.
    NoOutputs,
    /// `sets` of `of` sets were timed in batches of `batches` blocks.
    Batched {
        sets: usize,
        of: usize,
        batches: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::GenericTarget(target) => write!(f, "LLVM 14 in libfaust does not recognise this CPU (target {target}): it generates code for a generic CPU, which may be slower than this CPU allows; the ranking still holds for this machine"),
            Warning::NotPinned => write!(f, "the measuring thread could not be pinned to a core: the scheduler may move it, adding noise; check --core"),
            Warning::NoRealtimePriority => write!(f, "real-time priority was not granted (needs root, CAP_SYS_NICE or an rtprio limit): other processes can preempt the measurement"),
            Warning::DenormalsNotFlushed => write!(f, "denormals could not be flushed to zero on this CPU: DSPs with decaying feedback may measure slower than in a host that flushes them"),
            Warning::Governor(g) => write!(f, "the CPU governor is `{g}`: clock speed may change during the run; set `performance` (e.g. `cpupower frequency-set -g performance`) for steadier numbers"),
            Warning::ClockChanged(slow, fast) => write!(f, "the CPU's clock changed by {:.1} % while measuring ({slow:.2} to {fast:.2} GHz): the host or power management changed its speed; the intervals include that change, but a run spent at one of those clocks would read up to that much apart, so compare runs at the same clock (conditions.core_clock_ghz), or compare cycles per frame, which do not move with the clock for code bound by the core (baseline --metric cycles)", 100.0 * (fast / slow - 1.0)),
            Warning::MonotonicClock => write!(f, "no invariant TSC on this CPU: blocks were timed with the monotonic clock, which is coarser"),
            Warning::WasmDenormals => write!(f, "wasm: browsers run WebAssembly without flushing denormals, which this measuring thread flushes; a DSP with decaying feedback may run slower on the web than measured here: compile it with -ftz 2 (Faust flushes them in the code) for the web"),
            Warning::NoOutputs => write!(f, "the DSP has no outputs: nothing it computes is observable, so the compiler may remove its work; its numbers say little"),
            Warning::Batched { sets, of, batches } => write!(f, "{sets} of {of} sets run a block too quickly to time it alone: their blocks were timed in batches of {batches} and divided (timing.batch), so their percentiles are of batch means"),
        }
    }
}

/// What the measuring thread was asked for.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    pub pinned: bool,
    pub realtime: bool,
    pub flush_denormals: bool,
}

/// Where a run measured: the code's target, what the measuring thread got, and its clock.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// LLVM's target, e.g. `x86_64-pc-linux-gnu:znver3`.
    pub target: String,
    /// `None` when nothing ran on a thread of faustperf's (e.g. an audio host's callback).
    pub thread: Option<ThreadConditions>,
    pub clock: Option<ClockKind>,
    /// The slowest and fastest core clock seen, GHz.
    pub core_clock_ghz: Option<[f64; 2]>,
}

impl Environment {
    /// This one widened by `other`'s clock range (runs of one report on one machine); what it
    /// did not know yet (target, thread) taken from `other`.
    pub fn merge(&mut self, other: &Environment) {
        if self.target.is_empty() {
            self.target = other.target.clone();
        }
        if self.thread.is_none() {
            self.thread = other.thread.clone();
        }
        self.clock = self.clock.or(other.clock);
        self.core_clock_ghz = match (self.core_clock_ghz, other.core_clock_ghz) {
            (Some([a, b]), Some([c, d])) => Some([a.min(c), b.max(d)]),
            (mine, theirs) => mine.or(theirs),
        };
    }

    /// Its warnings, given what the thread was asked for.
    pub fn warnings(&self, asked: Asked) -> Vec<Warning> {
        let mut out = Vec::new();
        if self.target.ends_with(":generic") {
            out.push(Warning::GenericTarget(self.target.clone()));
        }
        if let Some(t) = &self.thread {
            if asked.pinned && t.core.is_none() {
                out.push(Warning::NotPinned);
            }
            if asked.realtime && !t.realtime_priority {
                out.push(Warning::NoRealtimePriority);
            }
            if asked.flush_denormals && !t.flush_denormals {
                out.push(Warning::DenormalsNotFlushed);
            }
            if let Some(g) = t.governor.as_deref().filter(|g| *g != "performance") {
                out.push(Warning::Governor(g.into()));
            }
        }
        if let Some([slow, fast]) = self.core_clock_ghz.filter(|[s, f]| f / s > CLOCK_CHANGE) {
            out.push(Warning::ClockChanged(slow, fast));
        }
        if self.clock == Some(ClockKind::Monotonic) {
            out.push(Warning::MonotonicClock);
        }
        out
    }
}

/// The warnings as the reports carry them: their texts, each once.
pub fn texts(warnings: impl IntoIterator<Item = Warning>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in warnings {
        let text = w.to_string();
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_warnings_say_what_the_thread_did_not_get() {
        let thread = ThreadConditions {
            core: None,
            flush_denormals: true,
            realtime_priority: false,
            governor: Some("powersave".into()),
        };
        let mut env = Environment {
            target: "x86_64-pc-linux-gnu:generic".into(),
            thread: Some(thread),
            clock: Some(ClockKind::Tsc),
            core_clock_ghz: Some([3.0, 3.01]),
        };
        let asked = Asked {
            pinned: true,
            realtime: true,
            flush_denormals: true,
        };
        assert_eq!(
            env.warnings(asked),
            [
                Warning::GenericTarget("x86_64-pc-linux-gnu:generic".into()),
                Warning::NotPinned,
                Warning::NoRealtimePriority,
                Warning::Governor("powersave".into())
            ]
        );
        // Another run of the same report at another clock widens the range.
        env.merge(&Environment {
            core_clock_ghz: Some([3.2, 3.3]),
            ..Environment::default()
        });
        assert!(env
            .warnings(asked)
            .contains(&Warning::ClockChanged(3.0, 3.3)));
        let not_asked = Asked {
            pinned: false,
            realtime: false,
            flush_denormals: false,
        };
        assert_eq!(env.warnings(not_asked).len(), 3);
        assert_eq!(texts([Warning::NoOutputs, Warning::NoOutputs]).len(), 1);
    }
}
