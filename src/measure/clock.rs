//! The timer around each `compute()`: the CPU's time-stamp counter where it runs at a constant
//! rate, calibrated against the monotonic clock; the monotonic clock elsewhere.

use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Which clock timed the blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// x86-64 `rdtsc` fenced with `lfence`, on a CPU with an invariant TSC.
    Tsc,
    /// `std::time::Instant` (CLOCK_MONOTONIC on Linux).
    Monotonic,
}

/// A clock that reads raw ticks; [`Clock::calibrate`] turns ticks into nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    kind: ClockKind,
    origin: Instant,
}

impl Clock {
    /// The TSC where the CPU announces an invariant one (`constant_tsc` and `nonstop_tsc`),
    /// else the monotonic clock.
    pub fn best_available() -> Clock {
        let kind = if invariant_tsc() {
            ClockKind::Tsc
        } else {
            ClockKind::Monotonic
        };
        Clock {
            kind,
            origin: Instant::now(),
        }
    }

    pub fn kind(&self) -> ClockKind {
        self.kind
    }

    /// Current time in ticks.
    #[inline(always)]
    pub fn now(&self) -> u64 {
        match self.kind {
            #[cfg(target_arch = "x86_64")]
            ClockKind::Tsc => {
                use std::arch::x86_64::{_mm_lfence, _rdtsc};
                // SAFETY: lfence and rdtsc exist on every x86-64 CPU; the fences keep the read
                // from moving across the timed code.
                unsafe {
                    _mm_lfence();
                    let t = _rdtsc();
                    _mm_lfence();
                    t
                }
            }
            _ => self.origin.elapsed().as_nanos() as u64,
        }
    }

    /// The median cost in ticks of reading the clock twice back to back: what an empty timed
    /// region measures, subtracted from every sample.
    pub fn overhead_ticks(&self) -> u64 {
        let mut costs: Vec<u64> = (0..2001)
            .map(|_| {
                let a = self.now();
                let b = self.now();
                b.saturating_sub(a)
            })
            .collect();
        costs.sort_unstable();
        costs[costs.len() / 2]
    }

    /// Nanoseconds per tick, from a stretch of time measured on both this clock and the
    /// monotonic clock (`ticks` elapsed during `wall`).
    pub fn ns_per_tick(&self, ticks: u64, wall: std::time::Duration) -> f64 {
        match self.kind {
            ClockKind::Monotonic => 1.0,
            ClockKind::Tsc if ticks > 0 => wall.as_nanos() as f64 / ticks as f64,
            ClockKind::Tsc => 1.0,
        }
    }
}

fn invariant_tsc() -> bool {
    if !cfg!(target_arch = "x86_64") {
        return false;
    }
    let Ok(cpuinfo) = std::fs::read_to_string("/proc/cpuinfo") else {
        return false;
    };
    cpuinfo
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|flags| {
            let has = |f: &str| flags.split_whitespace().any(|x| x == f);
            has("constant_tsc") && has("nonstop_tsc")
        })
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calibration_on_one_stretch_times_another() {
        let clock = Clock::best_available();
        let ticks_during = |ms| {
            let start = Instant::now();
            let t0 = clock.now();
            std::thread::sleep(std::time::Duration::from_millis(ms));
            (clock.now() - t0, start.elapsed())
        };
        let (ticks, wall) = ticks_during(60);
        let ns_per_tick = clock.ns_per_tick(ticks, wall);
        let (ticks2, wall2) = ticks_during(30);
        let ns = ticks2 as f64 * ns_per_tick;
        let expected = wall2.as_nanos() as f64;
        assert!(
            (ns - expected).abs() < 0.02 * expected,
            "{ns} vs {expected}"
        );
        assert!(clock.overhead_ticks() < ticks2);
    }
}
