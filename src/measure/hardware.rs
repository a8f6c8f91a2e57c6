//! Hardware counters (`perf_event_open`) read around the timed rounds, where the kernel gives them: cycles, instructions,
//! cache references and misses, branch misses. Many virtual machines expose no performance
//! monitoring unit, and `kernel.perf_event_paranoid` above 2 forbids them: [`available`] says
//! why, and what to change, so that a run says it once and counts with callgrind instead.

use perf_event::events::Hardware;
use perf_event::{Builder, Counter, Group};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Whether this process can count hardware events on itself; `Err` says why not and what to
/// change.
pub fn available() -> Result<(), String> {
    static CHECKED: OnceLock<Result<(), String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| HardwareCounters::new().map(|_| ()))
        .clone()
}

/// Hardware events counted over some blocks, per frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct HardwareCounts {
    pub cycles_per_frame: f64,
    pub instructions_per_frame: f64,
    pub cache_references_per_frame: f64,
    pub cache_misses_per_frame: f64,
    pub branch_misses_per_frame: f64,
    /// Instructions per cycle.
    pub ipc: f64,
}

/// A group of the five counters on this thread, enabled only around the blocks they count.
pub struct HardwareCounters {
    group: Group,
    counters: [Counter; 5],
}

impl HardwareCounters {
    /// The counters, or why the kernel refused them (in words, with what to change).
    pub fn new() -> Result<HardwareCounters, String> {
        let mut group = Group::new().map_err(|e| refusal(&e))?;
        let mut add = |event| group.add(&Builder::new(event)).map_err(|e| refusal(&e));
        let counters = [
            add(Hardware::CPU_CYCLES)?,
            add(Hardware::INSTRUCTIONS)?,
            add(Hardware::CACHE_REFERENCES)?,
            add(Hardware::CACHE_MISSES)?,
            add(Hardware::BRANCH_MISSES)?,
        ];
        Ok(HardwareCounters { group, counters })
    }

    /// Starts counting (again), adding to what was counted.
    pub fn enable(&mut self) -> std::io::Result<()> {
        self.group.enable()
    }

    /// Stops counting.
    pub fn disable(&mut self) -> std::io::Result<()> {
        self.group.disable()
    }

    /// What was counted so far, divided by `frames`.
    pub fn per_frame(&mut self, frames: u64) -> std::io::Result<HardwareCounts> {
        let data = self.group.read()?;
        let value = |i: usize| data.get(&self.counters[i]).map_or(0, |e| e.value()) as f64;
        let per = |i: usize| value(i) / frames.max(1) as f64;
        Ok(HardwareCounts {
            cycles_per_frame: per(0),
            instructions_per_frame: per(1),
            cache_references_per_frame: per(2),
            cache_misses_per_frame: per(3),
            branch_misses_per_frame: per(4),
            ipc: value(1) / value(0).max(1.0),
        })
    }
}

/// Why `perf_event_open` failed, and what to do.
fn refusal(error: &std::io::Error) -> String {
    let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    match error.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::EOPNOTSUPP) | Some(libc::ENODEV) => format!(
            "no hardware counters: the kernel has no CPU performance-monitoring unit to count with ({error}); \
             virtual machines often expose none (on KVM, give the guest the host's PMU, e.g. `-cpu host` with vPMU enabled)"
        ),
        Some(libc::EACCES) | Some(libc::EPERM) => format!(
            "hardware counters not allowed: kernel.perf_event_paranoid is {paranoid} ({error}); \
             `sudo sysctl kernel.perf_event_paranoid=2` (or lower) allows a process to count itself"
        ),
        _ => format!("hardware counters unavailable: perf_event_open failed ({error})"),
    }
}
