//! The measurement engine: times `compute()` block after block on a pinned thread.
//!
//! Method (compare faustbench-llvm's `dsp-bench.h`): inputs hold seeded noise; input and output
//! buffers rotate over enough blocks to exceed the last-level cache; a warm-up runs first; then
//! each `compute(bs)` is timed alone with the clock's own cost subtracted. When one block is
//! shorter than [`SAMPLE_OVER_CLOCK`] × the clock's cost, consecutive blocks are timed together
//! and divided (`batch` in the results), so that reading the clock neither quantises the times
//! nor slows the loop by more than 1 %.
//!
//! The time is spent in rounds, each on a fresh instance (so at a new place in memory) with the
//! audio buffers shifted by a random number of cache lines. The speed of one instance depends on
//! where it lies: on freeverb, instances of one factory measured one after another differed by
//! up to 6 % while each one's own spread was a tenth of that; an instance freed and made again
//! alternates between two addresses, so earlier instances are kept alive. Each round gives the
//! mean of its `best_n` fastest blocks; the estimate is the median over rounds, and its
//! confidence interval comes from the spread between rounds, so it covers placement as well as
//! timing noise. Without a fixed duration, rounds are added until that interval is within the
//! target precision or the time cap is reached.

pub mod clock;
pub mod rng;
pub mod stats;
pub mod thread;

use crate::libfaust::{AudioBuffers, BoundInstance, Factory, FaustError, Instance};
use clock::{Clock, ClockKind};
use rng::SplitMix64;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use thread::ThreadConditions;

/// A timed sample (one block, or a batch of them) lasts at least this many times the clock's
/// cost inside the loop. A sample pays that cost about twice in wall time (half of each read
/// falls outside the timed region: `cargo bench --bench harness` measured 1.85 % at 100× and
/// 0.56-0.80 % at 250×), so 400× keeps the timed loop about 0.5 % slower than a bare loop.
const SAMPLE_OVER_CLOCK: f64 = 400.0;
/// Seconds per round (each round measures a fresh instance).
const ROUND_SECONDS: f64 = 0.05;
/// Rounds before the adaptive rule may stop: with fewer, the spread between rounds is itself too
/// uncertain (5 rounds stopped early on a lucky low spread and missed the run-to-run spread).
const MIN_ROUNDS: usize = 10;
/// Memory of earlier rounds' instances kept alive so that new instances land elsewhere.
const KEPT_INSTANCES_BYTES: u64 = 64 << 20;
/// Rounds before a set may be stopped as out of the race (the median's interval needs 6).
const MIN_ROUNDS_OUT_OF_RACE: usize = 6;
/// A set is out of the race when even its fastest plausible time is this much slower than the
/// leader's slowest plausible time.
const OUT_OF_RACE_FACTOR: f64 = 1.10;

/// How long to measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Budget {
    /// Exactly this many seconds of timed rounds.
    Fixed { seconds: f64 },
    /// Until the 95 % interval of the estimate is within ±`precision_percent` %, or
    /// `max_seconds` have been spent.
    Adaptive {
        precision_percent: f64,
        max_seconds: f64,
    },
}

/// How to measure one compiled DSP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureConfig {
    /// Frames per `compute()` call (the buffer size).
    pub frames: usize,
    /// Sample rate the instance is initialised at, Hz.
    pub sample_rate: u32,
    pub budget: Budget,
    /// How many fastest samples of a round its best-mean averages; also the fewest samples a
    /// round takes.
    pub best_n: usize,
    /// Seed of the input noise and the random control values.
    pub seed: u64,
    /// Set every control to a random value in its range between timed samples.
    pub random_controls: bool,
    /// Flush denormals to zero while measuring.
    pub flush_denormals: bool,
    /// Ask for real-time scheduling while measuring.
    pub realtime: bool,
    /// Core to pin the measuring thread to; `None` = do not pin.
    pub core: Option<usize>,
}

/// Why measuring stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The fixed duration was spent.
    FixedDuration,
    /// The interval reached the target precision.
    PrecisionReached,
    /// The time cap was reached before the target precision.
    TimeCap,
    /// Clearly slower than the leader: its fastest plausible time is more than 10 % above the
    /// leader's slowest plausible time.
    OutOfRace,
}

/// What one measurement produced, before statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawMeasurement {
    /// Compute time of each sample, ns per block (a batch's time divided by `batch`).
    pub samples_ns: Vec<f64>,
    /// Mean of the `best_n` fastest samples of each round, ns per block.
    pub round_best_ns: Vec<f64>,
    pub stop: StopReason,
    /// Blocks timed together per sample.
    pub batch: usize,
    /// Blocks the buffers rotate over.
    pub buffer_blocks: usize,
    /// Bytes of audio the buffers hold (inputs and outputs).
    pub buffer_bytes: usize,
    /// Blocks run before timing, all rounds together.
    pub warmup_blocks: usize,
    pub clock: ClockKind,
    /// The clock's cost inside the timed loop (one read pair, fences included), subtracted
    /// from every sample, ns.
    pub clock_overhead_ns: f64,
    pub thread: ThreadConditions,
    /// Output samples that were NaN or infinite at the end of the run.
    pub non_finite_outputs: usize,
    /// Wall time of the timed rounds, seconds.
    pub timed_seconds: f64,
}

/// Measures instances of `factory` on a thread prepared as `config` asks. `leader_ns` is the
/// slowest plausible time of the fastest set measured so far (upper end of its interval), for
/// stopping sets that are clearly out of the race.
pub fn measure(
    factory: &Factory,
    config: &MeasureConfig,
    leader_ns: Option<f64>,
) -> Result<RawMeasurement, FaustError> {
    on_measuring_thread(config, |conditions| {
        timed_rounds(factory, config, leader_ns, conditions)
    })
}

/// Runs `work` on a new thread prepared as `config` asks (pinned, flush-to-zero, priority),
/// restoring the floating-point mode after; `work` gets what the thread was granted.
fn on_measuring_thread<T: Send>(
    config: &MeasureConfig,
    work: impl FnOnce(ThreadConditions) -> Result<T, FaustError> + Send,
) -> Result<T, FaustError> {
    if config.frames == 0 || config.frames > i32::MAX as usize {
        return Err(FaustError::invalid_input(format!(
            "buffer size {} is out of range",
            config.frames
        )));
    }
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("faustperf-measure".into())
            .spawn_scoped(scope, || {
                let (conditions, saved) =
                    thread::prepare(config.core, config.flush_denormals, config.realtime);
                let result = work(conditions);
                thread::restore_fp_mode(saved);
                result
            })
            .map_err(|e| {
                FaustError::invalid_input(format!("cannot start the measuring thread: {e}"))
            })?
            .join()
            .unwrap_or_else(|_| Err(FaustError::invalid_input("the measuring thread panicked")))
    })
}

fn timed_rounds(
    factory: &Factory,
    config: &MeasureConfig,
    leader_ns: Option<f64>,
    thread: ThreadConditions,
) -> Result<RawMeasurement, FaustError> {
    let (round_seconds, max_rounds) = round_plan(&config.budget);
    let mut rounds = Rounds::new(factory, config, round_seconds)?;
    let stop = loop {
        rounds.run_round()?;
        if let Some(reason) =
            stop_reason(&config.budget, &rounds.round_best_ns, max_rounds, leader_ns)
        {
            break reason;
        }
    };
    Ok(rounds.finish(stop, thread))
}

/// Measures several compiled DSPs in interleaved rounds (A B C, B C A, C A B, …) on one
/// thread, so that drift in the machine's speed, and the order within a round, hit all of them
/// alike. Stops when every estimate meets the budget's precision (after `MIN_ROUNDS` each), or
/// when the per-DSP time cap is reached.
pub fn measure_interleaved(
    factories: &[Factory],
    config: &MeasureConfig,
) -> Result<Vec<RawMeasurement>, FaustError> {
    on_measuring_thread(config, |conditions| {
        interleaved_rounds(factories, config, conditions)
    })
}

fn interleaved_rounds(
    factories: &[Factory],
    config: &MeasureConfig,
    thread: ThreadConditions,
) -> Result<Vec<RawMeasurement>, FaustError> {
    let (round_seconds, max_rounds) = round_plan(&config.budget);
    let mut all: Vec<Rounds> = factories
        .iter()
        .map(|f| Rounds::new(f, config, round_seconds))
        .collect::<Result<_, _>>()?;
    let n = all.len();
    let mut round = 0;
    let stops = loop {
        // Each round starts with the next DSP, so that none always runs first (or after the
        // same neighbour).
        for i in 0..n {
            all[(round + i) % n].run_round()?;
        }
        round += 1;
        let stops: Vec<Option<StopReason>> = all
            .iter()
            .map(|r| stop_reason(&config.budget, &r.round_best_ns, max_rounds, None))
            .collect();
        // Every set ends by `max_rounds` at the latest (fixed duration or time cap).
        if stops.iter().all(Option::is_some) {
            break stops;
        }
    };
    Ok(all
        .into_iter()
        .zip(stops)
        .map(|(rounds, stop)| rounds.finish(stop.unwrap_or(StopReason::TimeCap), thread.clone()))
        .collect())
}

/// Seconds per round and the most rounds for a budget.
fn round_plan(budget: &Budget) -> (f64, usize) {
    match *budget {
        Budget::Fixed { seconds } => {
            let rounds = (seconds / ROUND_SECONDS).round().max(2.0) as usize;
            (seconds / rounds as f64, rounds)
        }
        Budget::Adaptive { max_seconds, .. } => (
            ROUND_SECONDS,
            (max_seconds / ROUND_SECONDS).floor().max(2.0) as usize,
        ),
    }
}

/// The timed loop itself: `batch` blocks between two clock reads, the clock's in-loop cost
/// subtracted. Public so that `benches/harness.rs` can set it against a bare loop on the same
/// instance.
#[derive(Debug, Clone, Copy)]
pub struct BlockTimer {
    pub clock: Clock,
    /// The clock's cost inside the loop, ticks.
    pub overhead: u64,
    pub batch: usize,
}

impl BlockTimer {
    /// Times batches from block `block` on, pushing each batch's ticks to `ticks`, until at
    /// least `min_samples` are taken and the clock reads `until` or later. `between` runs before
    /// each batch, outside the timed region (e.g. to change controls). Returns the next block.
    #[inline]
    pub fn run(
        &self,
        bound: &mut BoundInstance<'_>,
        mut block: usize,
        ticks: &mut Vec<u64>,
        min_samples: usize,
        until: u64,
        mut between: impl FnMut(&mut Instance),
    ) -> usize {
        loop {
            between(bound.instance());
            let a = self.clock.now();
            for j in 0..self.batch {
                bound.compute(block + j);
            }
            let b = self.clock.now();
            block += self.batch;
            ticks.push(b.saturating_sub(a).saturating_sub(self.overhead));
            // Past `until`, read as a signed difference so that a time already past stops at once.
            if ticks.len() >= min_samples && b.wrapping_sub(until) as i64 >= 0 {
                return block;
            }
        }
    }
}

/// The state of measuring one compiled DSP round after round.
struct Rounds<'a> {
    factory: &'a Factory,
    config: &'a MeasureConfig,
    instance: Instance,
    /// Earlier rounds' instances, kept so that new ones land elsewhere in memory.
    kept: Vec<Instance>,
    kept_bytes: u64,
    buffers: AudioBuffers,
    controls_rng: SplitMix64,
    placement_rng: SplitMix64,
    clock: Clock,
    overhead: u64,
    overhead_ns: f64,
    batch: usize,
    block: usize,
    warmup_blocks: usize,
    round_budget: Duration,
    /// The round's length in clock ticks (from the warm-up's calibration), so that the timed
    /// loop checks its end with the clock read it already makes.
    round_ticks: u64,
    ticks: Vec<u64>,
    samples_ns: Vec<f64>,
    round_best_ns: Vec<f64>,
    timed: Duration,
}

impl<'a> Rounds<'a> {
    /// Makes the first instance and its buffers, warms up (50 ms, at least 16 blocks) and
    /// decides the batch size from how long one block takes.
    fn new(
        factory: &'a Factory,
        config: &'a MeasureConfig,
        round_seconds: f64,
    ) -> Result<Rounds<'a>, FaustError> {
        let mut instance = factory.instance(config.sample_rate)?;
        let (inputs, outputs) = (instance.inputs(), instance.outputs());
        let precision = factory.precision();
        let blocks = rotation_blocks(config.frames * (inputs + outputs) * precision.sample_bytes());
        let mut rng = SplitMix64::new(config.seed);
        let mut buffers =
            AudioBuffers::new(precision, inputs, outputs, config.frames, blocks, |_, _| {
                rng.noise()
            });
        let clock = Clock::best_available();
        let start = Instant::now();
        let t0 = clock.now();
        let mut block = 0usize;
        let mut bound = instance.bind(&mut buffers)?;
        while block < 16 || start.elapsed() < Duration::from_millis(50) {
            bound.compute(block);
            block += 1;
        }
        let ns_per_tick = clock.ns_per_tick(clock.now() - t0, start.elapsed());
        let block_ns = start.elapsed().as_nanos() as f64 / block as f64;
        // What timing costs inside the loop, not just back to back: the fences also stop the
        // CPU from overlapping one compute() with the next. Compare the same blocks timed as
        // one stretch and one by one (best of 3 each).
        let n = ((10e6 / block_ns) as usize).clamp(64, 100_000);
        let (mut whole, mut each) = (u64::MAX, u64::MAX);
        for _ in 0..3 {
            let t = clock.now();
            for j in 0..n {
                bound.compute(block + j);
            }
            whole = whole.min(clock.now() - t);
            block += n;
            let mut sum = 0;
            for j in 0..n {
                let a = clock.now();
                bound.compute(block + j);
                sum += clock.now() - a;
            }
            each = each.min(sum);
            block += n;
        }
        let overhead = (each.saturating_sub(whole) / n as u64).max(clock.overhead_ticks());
        let overhead_ns = overhead as f64 * ns_per_tick;
        let precision_ns = overhead_ns.max(ns_per_tick);
        let batch = if block_ns < SAMPLE_OVER_CLOCK * precision_ns {
            (SAMPLE_OVER_CLOCK * precision_ns / block_ns.max(1.0)).ceil() as usize
        } else {
            1
        };
        let expected = (round_seconds * 1e9 / (block_ns * batch as f64)).ceil() as usize;
        Ok(Rounds {
            factory,
            config,
            instance,
            kept: Vec::new(),
            kept_bytes: 0,
            buffers,
            controls_rng: SplitMix64::new(config.seed ^ 0xC0_47_20_15),
            placement_rng: SplitMix64::new(config.seed ^ 0x91AC_E000),
            clock,
            overhead,
            overhead_ns,
            batch,
            block,
            warmup_blocks: block,
            round_budget: Duration::from_secs_f64(round_seconds),
            round_ticks: (round_seconds * 1e9 / ns_per_tick) as u64,
            ticks: Vec::with_capacity(expected.clamp(config.best_n, 1_000_000) + 16),
            samples_ns: Vec::new(),
            round_best_ns: Vec::new(),
            timed: Duration::ZERO,
        })
    }

    /// Times one round: a fresh instance (but for the first round) at a new place, the buffers
    /// shifted, a short warm-up, then blocks until the round's time and `best_n` samples.
    fn run_round(&mut self) -> Result<(), FaustError> {
        let config = self.config;
        if !self.round_best_ns.is_empty() {
            let next = self.factory.instance(config.sample_rate)?;
            let old = std::mem::replace(&mut self.instance, next);
            self.kept_bytes += old.memory_bytes().unwrap_or(0);
            if self.kept_bytes <= KEPT_INSTANCES_BYTES {
                self.kept.push(old);
            }
            // Cache-line steps across one page.
            self.buffers
                .shift(64 * (self.placement_rng.next_u64() as usize % 64));
            let mut bound = self.instance.bind(&mut self.buffers)?;
            let (warm_start, mut warmed) = (Instant::now(), 0);
            while warmed < 4 || warm_start.elapsed() < self.round_budget / 10 {
                bound.compute(self.block + warmed);
                warmed += 1;
            }
            self.block += warmed;
            self.warmup_blocks += warmed;
        }
        let ranges: Vec<(f64, f64)> = self
            .instance
            .controls()
            .iter()
            .map(|c| (c.min, c.max))
            .collect();
        let (clock, overhead, batch) = (self.clock, self.overhead, self.batch);
        let mut bound = self.instance.bind(&mut self.buffers)?;
        self.ticks.clear();
        let start = Instant::now();
        let t_start = clock.now();
        let timing = BlockTimer {
            clock,
            overhead,
            batch,
        };
        let controls_rng = &mut self.controls_rng;
        self.block = timing.run(
            &mut bound,
            self.block,
            &mut self.ticks,
            config.best_n,
            t_start.wrapping_add(self.round_ticks),
            |instance| {
                if config.random_controls {
                    for (i, &(min, max)) in ranges.iter().enumerate() {
                        instance.set_control(i, min + (max - min) * controls_rng.next_f64());
                    }
                }
            },
        );
        let elapsed = start.elapsed();
        self.timed += elapsed;
        let ns_per_tick = clock.ns_per_tick(clock.now() - t_start, elapsed);
        let round: Vec<f64> = self
            .ticks
            .iter()
            .map(|&t| t as f64 * ns_per_tick / batch as f64)
            .collect();
        self.round_best_ns
            .push(stats::best_mean_of(&round, config.best_n));
        self.samples_ns.extend(round);
        Ok(())
    }

    fn finish(self, stop: StopReason, thread: ThreadConditions) -> RawMeasurement {
        RawMeasurement {
            buffer_blocks: self.buffers.blocks(),
            buffer_bytes: self.buffers.bytes(),
            non_finite_outputs: self.buffers.non_finite_outputs(),
            samples_ns: self.samples_ns,
            round_best_ns: self.round_best_ns,
            stop,
            batch: self.batch,
            warmup_blocks: self.warmup_blocks,
            clock: self.clock.kind(),
            clock_overhead_ns: self.overhead_ns,
            thread,
            timed_seconds: self.timed.as_secs_f64(),
        }
    }
}

/// Whether to stop after the rounds so far, and why.
fn stop_reason(
    budget: &Budget,
    rounds: &[f64],
    max_rounds: usize,
    leader_ns: Option<f64>,
) -> Option<StopReason> {
    let interval = stats::RoundInterval::of(rounds);
    match *budget {
        Budget::Fixed { .. } => (rounds.len() >= max_rounds).then_some(StopReason::FixedDuration),
        Budget::Adaptive {
            precision_percent, ..
        } => {
            if rounds.len() >= MIN_ROUNDS_OUT_OF_RACE
                && leader_ns.is_some_and(|leader| interval.low > leader * OUT_OF_RACE_FACTOR)
            {
                Some(StopReason::OutOfRace)
            } else if rounds.len() >= MIN_ROUNDS
                && interval.half_width() <= interval.median * precision_percent / 100.0
            {
                Some(StopReason::PrecisionReached)
            } else {
                (rounds.len() >= max_rounds).then_some(StopReason::TimeCap)
            }
        }
    }
}

/// Blocks to rotate over so that inputs and outputs together exceed twice the last-level cache
/// (at least 8 MiB), as faustbench-llvm's 4096 blocks do for typical DSPs; between 4 and 4096.
fn rotation_blocks(bytes_per_block: usize) -> usize {
    let target = (2 * last_level_cache_bytes().unwrap_or(0)).max(8 << 20);
    if bytes_per_block == 0 {
        return 4;
    }
    target.div_ceil(bytes_per_block).clamp(4, 4096)
}

/// The largest CPU cache of cpu0, from sysfs (e.g. `32768K`).
fn last_level_cache_bytes() -> Option<usize> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    dir.filter_map(|e| e.ok())
        .filter_map(|e| std::fs::read_to_string(e.path().join("size")).ok())
        .filter_map(|s| {
            let s = s.trim();
            let (digits, unit) =
                s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
            let n: usize = digits.parse().ok()?;
            Some(match unit {
                "K" => n << 10,
                "M" => n << 20,
                _ => n,
            })
        })
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_exceeds_the_cache_within_bounds() {
        let blocks = rotation_blocks(512 * 3 * 4);
        assert!((4..=4096).contains(&blocks));
        let target = (2 * last_level_cache_bytes().unwrap_or(0)).max(8 << 20);
        assert!(blocks == 4096 || blocks * 512 * 3 * 4 >= target);
        assert_eq!(rotation_blocks(0), 4);
        assert_eq!(rotation_blocks(1 << 30), 4);
    }
}
