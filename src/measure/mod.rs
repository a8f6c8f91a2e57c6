//! The measurement engine: times `compute()` block after block on a pinned thread.
//!
//! Method (compare faustbench-llvm's `dsp-bench.h`): inputs hold seeded noise; input and output
//! buffers rotate over enough blocks to exceed the last-level cache; a warm-up runs first; then
//! each `compute(bs)` is timed alone with the clock's own cost subtracted. When one block is
//! shorter than 100 × the clock's cost, consecutive blocks are timed together and divided
//! (`batch` in the results), since single reads would quantise the times into a few values.

pub mod clock;
pub mod rng;
pub mod stats;
pub mod thread;

use crate::libfaust::{FaustError, Instance};
use clock::{Clock, ClockKind};
use rng::SplitMix64;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};
use thread::ThreadConditions;

/// How to measure one instance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureConfig {
    /// Frames per `compute()` call (the buffer size).
    pub frames: usize,
    /// Sample rate the instance is initialised at, Hz.
    pub sample_rate: u32,
    /// Time spent timing blocks, after the warm-up, seconds.
    pub duration_seconds: f64,
    /// How many fastest samples the best-mean averages; also the fewest samples taken.
    pub best_n: usize,
    /// Seed of the input noise, the random control values and the bootstrap.
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

/// What one measurement produced, before statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawMeasurement {
    /// Compute time of each sample, ns per block (a batch's time divided by `batch`).
    pub samples_ns: Vec<f64>,
    /// Blocks timed together per sample.
    pub batch: usize,
    /// Blocks the buffers rotate over.
    pub buffer_blocks: usize,
    /// Bytes of audio the buffers hold (inputs and outputs).
    pub buffer_bytes: usize,
    /// Blocks run before timing.
    pub warmup_blocks: usize,
    pub clock: ClockKind,
    /// The clock's cost, subtracted from every sample, ns.
    pub clock_overhead_ns: f64,
    pub thread: ThreadConditions,
    /// Output samples that were NaN or infinite at the end of the run.
    pub non_finite_outputs: usize,
    /// Wall time of the timed loop, seconds.
    pub timed_seconds: f64,
}

/// Measures `instance` on a thread prepared as `config` asks.
pub fn measure(
    instance: &mut Instance,
    config: &MeasureConfig,
) -> Result<RawMeasurement, FaustError> {
    if config.frames == 0 || config.frames > i32::MAX as usize {
        return Err(FaustError::InvalidInput(format!(
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
                let result = timed_run(instance, config, conditions);
                thread::restore_fp_mode(saved);
                result
            })
            .map_err(|e| {
                FaustError::InvalidInput(format!("cannot start the measuring thread: {e}"))
            })?
            .join()
            .unwrap_or_else(|_| {
                Err(FaustError::InvalidInput(
                    "the measuring thread panicked".into(),
                ))
            })
    })
}

fn timed_run(
    instance: &mut Instance,
    config: &MeasureConfig,
    thread: ThreadConditions,
) -> Result<RawMeasurement, FaustError> {
    let bytes_per_block = config.frames
        * (instance.inputs() + instance.outputs())
        * instance.precision().sample_bytes();
    let blocks = rotation_blocks(bytes_per_block);
    let mut rng = SplitMix64::new(config.seed);
    let mut buffers = crate::libfaust::AudioBuffers::new(
        instance.precision(),
        instance.inputs(),
        instance.outputs(),
        config.frames,
        blocks,
        || rng.noise(),
    );
    let mut controls_rng = SplitMix64::new(config.seed ^ 0xC0_47_20_15);
    let ranges: Vec<(f64, f64)> = instance.controls().iter().map(|c| (c.min, c.max)).collect();
    let clock = Clock::best_available();
    let overhead = clock.overhead_ticks();
    let mut bound = instance.bind(&mut buffers)?;

    // Warm-up: a tenth of the budget (50 ms to 500 ms), at least 16 blocks; it also tells how
    // long one block takes.
    let warmup = Duration::from_secs_f64((config.duration_seconds / 10.0).clamp(0.05, 0.5));
    let start = Instant::now();
    let t0 = clock.now();
    let mut block = 0usize;
    while block < 16 || start.elapsed() < warmup {
        bound.compute(block);
        block += 1;
    }
    let warmup_blocks = block;
    let ns_per_tick = clock.ns_per_tick(clock.now() - t0, start.elapsed());
    let block_ns = start.elapsed().as_nanos() as f64 / warmup_blocks as f64;
    let overhead_ns = overhead as f64 * ns_per_tick;
    let precision_ns = overhead_ns.max(ns_per_tick);
    let batch = if block_ns < 100.0 * precision_ns {
        (100.0 * precision_ns / block_ns.max(1.0)).ceil() as usize
    } else {
        1
    };

    let expected = (config.duration_seconds * 1e9 / (block_ns * batch as f64)).ceil() as usize;
    let mut ticks: Vec<u64> = Vec::with_capacity(expected.clamp(config.best_n, 4_000_000) + 16);
    let budget = Duration::from_secs_f64(config.duration_seconds.max(0.0));
    let start = Instant::now();
    let t_start = clock.now();
    loop {
        if config.random_controls {
            let instance = bound.instance();
            for (i, &(min, max)) in ranges.iter().enumerate() {
                instance.set_control(i, min + (max - min) * controls_rng.next_f64());
            }
        }
        let a = clock.now();
        for j in 0..batch {
            bound.compute(block + j);
        }
        let b = clock.now();
        block += batch;
        ticks.push(b.saturating_sub(a).saturating_sub(overhead));
        if ticks.len() >= config.best_n && start.elapsed() >= budget {
            break;
        }
    }
    let timed = start.elapsed();
    let ns_per_tick = clock.ns_per_tick(clock.now() - t_start, timed);
    Ok(RawMeasurement {
        samples_ns: ticks
            .iter()
            .map(|&t| t as f64 * ns_per_tick / batch as f64)
            .collect(),
        batch,
        buffer_blocks: blocks,
        buffer_bytes: buffers.bytes(),
        warmup_blocks,
        clock: clock.kind(),
        clock_overhead_ns: overhead_ns,
        thread,
        non_finite_outputs: buffers.non_finite_outputs(),
        timed_seconds: timed.as_secs_f64(),
    })
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
