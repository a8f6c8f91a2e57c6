//! The timer around each `compute()`: the CPU's time-stamp counter where it runs at a constant
//! rate, calibrated against the monotonic clock; the monotonic clock elsewhere.

use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Back-to-back read pairs that [`Clock::read_cost_ticks`] times.
const COST_PAIRS: usize = 20_000;
/// Dependent additions that [`Clock::core_cycles_per_tick`] times (about 10 µs).
const CHAIN: u64 = 30_000;

/// Which clock timed the blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    /// x86-64 `rdtsc` fenced with `lfence`, on a CPU with an invariant TSC.
    Tsc,
    /// `std::time::Instant` (CLOCK_MONOTONIC on Linux).
    Monotonic,
}

/// A clock that reads raw ticks; [`Stamp`]s taken on it and on the monotonic clock turn ticks
/// into nanoseconds.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    kind: ClockKind,
    origin: Instant,
}

/// One instant read on both the clock and the monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    ticks: u64,
    at: Instant,
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

    /// What reading the clock costs, from the clock alone: the 5th percentile, in ticks, of
    /// the difference between two back-to-back reads over [`COST_PAIRS`] pairs. That is what
    /// an empty timed region measures, so it is subtracted from every timed sample. A low
    /// percentile, because interrupts and preemption only ever add time.
    pub fn read_cost_ticks(&self) -> u64 {
        let mut costs: Vec<u64> = (0..COST_PAIRS)
            .map(|_| {
                let a = self.now();
                let b = self.now();
                b.saturating_sub(a)
            })
            .collect();
        let k = COST_PAIRS / 20;
        *costs.select_nth_unstable(k).1
    }

    /// Now on this clock and on the monotonic clock. The monotonic read is bracketed by two
    /// reads of this clock, retried (up to 10 times) while the bracket is wider than the
    /// narrowest seen, so that a preemption between the reads does not skew the pair.
    pub fn stamp(&self) -> Stamp {
        let mut best: Option<(u64, Stamp)> = None;
        for _ in 0..10 {
            let a = self.now();
            let at = Instant::now();
            let b = self.now();
            let width = b.saturating_sub(a);
            if best.is_none_or(|(w, _)| width < w) {
                best = Some((
                    width,
                    Stamp {
                        ticks: a + width / 2,
                        at,
                    },
                ));
            }
        }
        best.map_or_else(
            || Stamp {
                ticks: self.now(),
                at: Instant::now(),
            },
            |(_, stamp)| stamp,
        )
    }

    /// Core cycles per tick: a chain of [`CHAIN`] dependent register additions (one cycle each
    /// on every x86-64 CPU) timed on this clock, best of 3. The TSC ticks at a fixed rate, so
    /// this follows the core's clock as the host or power management changes it. `None` where
    /// the clock is not the TSC.
    pub fn core_cycles_per_tick(&self) -> Option<f64> {
        #[cfg(target_arch = "x86_64")]
        if self.kind == ClockKind::Tsc {
            let best = (0..3)
                .map(|_| {
                    let (mut x, mut n, one): (u64, u64, u64) = (0, CHAIN / 10, 1);
                    let a = self.now();
                    // SAFETY: register arithmetic and a backward branch, no memory. The loop
                    // counter runs beside the chain of additions, which sets the pace; the
                    // additions take a register, not an immediate, which recent Intel cores
                    // fold away at rename.
                    unsafe {
                        std::arch::asm!(
                            "2:",
                            "add {x}, {one}", "add {x}, {one}", "add {x}, {one}", "add {x}, {one}",
                            "add {x}, {one}", "add {x}, {one}", "add {x}, {one}", "add {x}, {one}",
                            "add {x}, {one}", "add {x}, {one}",
                            "dec {n}",
                            "jnz 2b",
                            x = inout(reg) x,
                            n = inout(reg) n,
                            one = in(reg) one,
                            options(nomem, nostack)
                        )
                    };
                    let b = self.now();
                    std::hint::black_box((x, n));
                    b.saturating_sub(a)
                })
                .min()
                .unwrap_or(0);
            return (best > 0).then(|| CHAIN as f64 / best as f64);
        }
        None
    }

    /// A first calibration: nanoseconds per tick over `stretch` of busy waiting.
    pub fn quick_ns_per_tick(&self, stretch: Duration) -> f64 {
        let start = self.stamp();
        while start.at.elapsed() < stretch {
            std::hint::spin_loop();
        }
        start.ns_per_tick_until(&self.stamp())
    }
}

impl Stamp {
    /// Nanoseconds per tick between this stamp and a later one (1 when no tick passed).
    pub fn ns_per_tick_until(&self, later: &Stamp) -> f64 {
        let ticks = later.ticks.saturating_sub(self.ticks);
        if ticks == 0 {
            return 1.0;
        }
        later.at.duration_since(self.at).as_nanos() as f64 / ticks as f64
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
        let ns_per_tick = clock.quick_ns_per_tick(Duration::from_millis(30));
        let start = clock.stamp();
        std::thread::sleep(Duration::from_millis(30));
        let end = clock.stamp();
        let ns = (end.ticks - start.ticks) as f64 * ns_per_tick;
        let expected = end.at.duration_since(start.at).as_nanos() as f64;
        assert!(
            (ns - expected).abs() < 0.02 * expected,
            "{ns} vs {expected}"
        );
    }

    #[test]
    fn the_core_clock_is_read_in_cycles_per_tick() {
        let clock = Clock::best_available();
        let Some(rate) = clock.core_cycles_per_tick() else {
            assert_ne!(clock.kind(), ClockKind::Tsc);
            return;
        };
        // Between 0.5 and 10 GHz whatever the TSC's rate.
        let ghz = rate / clock.quick_ns_per_tick(Duration::from_millis(20));
        assert!((0.5..10.0).contains(&ghz), "{ghz} GHz");
    }

    #[test]
    fn the_read_cost_is_what_an_empty_region_measures() {
        let clock = Clock::best_available();
        let cost = clock.read_cost_ticks();
        // A thousand empty regions: the cost is at or below most of them and far below a
        // region that does work.
        let mut empty: Vec<u64> = (0..1000)
            .map(|_| {
                let a = clock.now();
                clock.now() - a
            })
            .collect();
        empty.sort_unstable();
        assert!(cost <= empty[900], "{cost} vs {:?}", &empty[890..910]);
        let a = clock.now();
        std::thread::sleep(Duration::from_millis(1));
        assert!(clock.now() - a > 10 * cost.max(1));
    }
}
