//! The measurement engine: times `compute()` of several compiled option sets, interleaved, on
//! one pinned thread.
//!
//! Method (compare faustbench-llvm's `dsp-bench.h`): inputs hold seeded noise; input and output
//! buffers rotate over enough blocks to exceed the last-level cache; a warm-up runs first; then
//! each `compute(bs)` is timed alone with the clock's own cost subtracted. That cost is measured
//! from the clock alone (see [`clock::Clock::read_cost_ticks`]). When one block is shorter than
//! [`SAMPLE_OVER_CLOCK`] × that cost, and never when it takes more than 10 µs, consecutive
//! blocks are timed together and divided (`batch` in the results), so that reading the clock
//! neither quantises the times nor slows the loop by more than 1 %.
//!
//! The sets are measured in passes: each pass gives every set a round of about 25 ms, in an
//! order that rotates from pass to pass, so that slow drift of the machine hits every set alike
//! and two sets' rounds in one pass can be compared pairwise. Each round uses a fresh instance
//! (so at a new place in memory) with the audio buffers shifted by a random number of cache
//! lines: the speed of one instance depends on where it lies (on freeverb, instances of one
//! factory differed by up to 6 %); an instance freed and made again alternates between two
//! addresses, so earlier instances are kept alive. A set's estimate is the mean of the
//! `best_n` fastest samples of all its rounds, with an interval from a bootstrap over rounds
//! ([`stats::BestMean`]). Without a fixed duration, passes continue until every set's interval
//! is within the target precision or the time cap is reached; a set clearly behind the leader
//! leaves the race early.
//!
//! Nothing else that faustperf starts runs meanwhile: callers compile every set first.

pub mod clock;
pub mod hardware;
pub mod machine;
pub mod rng;
pub mod stats;
pub mod thread;
pub mod units;
pub mod warnings;

use crate::dsp::{AudioBuffers, BoundInstance, DspFactory, FaustError, Instance};
use crate::libfaust::Toolchain;
use crate::options::Precision;
use clock::{Clock, ClockKind};
use hardware::{HardwareCounters, HardwareCounts};
use rng::SplitMix64;
use serde::{Deserialize, Serialize};
use stats::{BestMean, BlockTimes, TimingSummary};
use std::time::{Duration, Instant};
use thread::ThreadConditions;

/// A timed sample (one block, or a batch of them) lasts at least this many times the clock's
/// cost. A sample pays that cost about twice in wall time (half of each read falls outside the
/// timed region: `cargo bench --bench harness` measured 1.85 % at 100× and 0.56-0.80 % at
/// 250×), so 400× keeps the timed loop about 0.5 % slower than a bare loop.
const SAMPLE_OVER_CLOCK: f64 = 400.0;
/// Blocks that take longer than this are always timed one by one.
pub const NEVER_BATCH_NS: f64 = 10_000.0;
/// Seconds per round (each round measures a fresh instance). Short rounds give many
/// placements, and pass after pass, in little time.
const ROUND_SECONDS: f64 = 0.025;
/// A round ends after this long even with fewer than `best_n` samples (blocks over 0.1 s).
const ROUND_LIMIT_SECONDS: f64 = 1.0;
/// Passes before the adaptive rule may stop: the estimate's interval needs 10 rounds.
const MIN_ROUNDS: usize = stats::MIN_ROUNDS_FOR_BEST_MEAN;
/// Memory of earlier rounds' instances kept alive so that new instances land elsewhere, for all
/// sets together (64 MiB at most for one set): a search measures dozens of sets at once.
const KEPT_INSTANCES_BYTES: u64 = 256 << 20;
/// Rounds on either side whose readings of the core's clock are pooled for cycles per
/// frame (see `Rounds::cycles`).
const RATE_WINDOW: usize = 2;
/// Passes before a set may leave the race: those the estimate's interval needs.
const MIN_ROUNDS_OUT_OF_RACE: usize = stats::MIN_ROUNDS_FOR_BEST_MEAN;
/// A set leaves the race when even the fast end of its interval is this much slower than the
/// slow end of the leader's.
const OUT_OF_RACE_FACTOR: f64 = 1.10;
/// A set also leaves the race when its rounds are slower than the leader's in the same passes
/// by more than this with 95 % confidence (twice the default tie threshold): no outcome of
/// further passes would tie it with the leader.
const OUT_OF_RACE_PAIRED: f64 = 1.02;

/// Frames per `compute()` call, and the sample rate (Hz), unless asked otherwise; the highest
/// sample rate accepted.
pub const DEFAULT_FRAMES: usize = 512;
pub const DEFAULT_SAMPLE_RATE: u32 = 44100;
pub const MAX_SAMPLE_RATE: u32 = 1_536_000;
/// How many fastest blocks the estimate averages unless asked otherwise.
pub const DEFAULT_BEST_N: usize = 10;
/// The default adaptive budget: every set within ±1 %, or 3 s of timed rounds per set.
pub const DEFAULT_PRECISION_PERCENT: f64 = 1.0;
pub const DEFAULT_MAX_SECONDS: f64 = 3.0;
pub const ADAPTIVE: Budget = Budget::Adaptive {
    precision_percent: DEFAULT_PRECISION_PERCENT,
    max_seconds: DEFAULT_MAX_SECONDS,
};

/// The timed rounds a set's interval needs, seconds, with two rounds to spare (a round is
/// about [`ROUND_SECONDS`], some less): a measurement cut shorter reports an interval of
/// nothing.
pub const MIN_INTERVAL_SECONDS: f64 = (MIN_ROUNDS + 2) as f64 * ROUND_SECONDS;

/// A time a caller gave (`what` names the argument): more than 0 and at most `max` seconds.
pub fn check_seconds(what: &str, seconds: f64, max: f64) -> Result<f64, OutOfRange> {
    if seconds.is_finite() && seconds > 0.0 && seconds <= max {
        Ok(seconds)
    } else {
        Err(OutOfRange {
            what: what.into(),
            seconds,
            max,
        })
    }
}

/// A time outside what is accepted.
#[derive(Debug, thiserror::Error)]
#[error("{what} {seconds} must be more than 0 and at most {max} seconds")]
pub struct OutOfRange {
    pub what: String,
    pub seconds: f64,
    pub max: f64,
}

/// How long to measure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Budget {
    /// Exactly this many seconds of timed rounds per set.
    Fixed { seconds: f64 },
    /// Until the 95 % interval of every set's estimate is within ±`precision_percent` %, or
    /// `max_seconds` of timed rounds per set have been spent. The interval counted here is the
    /// part more rounds can narrow: the core clock's wander, which widens the reported
    /// interval, does not shrink with measuring.
    Adaptive {
        precision_percent: f64,
        max_seconds: f64,
    },
}

impl Budget {
    /// The most seconds of timed rounds a set may get.
    pub fn max_seconds(&self) -> f64 {
        match *self {
            Budget::Fixed { seconds } => seconds,
            Budget::Adaptive { max_seconds, .. } => max_seconds,
        }
    }
}

/// What must be the same for two measurements to compare; every report that measures embeds
/// it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Conditions {
    /// libfaust and its target.
    #[serde(flatten)]
    pub toolchain: Toolchain,
    pub cpu_model: Option<String>,
    /// Frames per compute() call.
    pub buffer_size: usize,
    /// Hz.
    pub sample_rate: u32,
    /// The machine's fingerprint (`null` fields in results saved before it existed).
    #[serde(default)]
    pub machine: machine::Machine,
}

impl Conditions {
    /// This machine's, for blocks of `buffer_size` frames at `sample_rate` Hz.
    pub fn here(buffer_size: usize, sample_rate: u32) -> Conditions {
        let toolchain = Toolchain::here();
        let cpu_model = cpu_model();
        let machine = machine::Machine::here(
            cpu_model.as_deref(),
            &toolchain.machine_target,
            &toolchain.libfaust_version,
        );
        Conditions {
            toolchain,
            cpu_model,
            buffer_size,
            sample_rate,
            machine,
        }
    }

    /// The differences from `other`, in words.
    pub fn differences(&self, other: &Conditions) -> Vec<String> {
        let (a, b) = (self, other);
        [
            (
                "libfaust",
                &a.toolchain.libfaust_version,
                &b.toolchain.libfaust_version,
            ),
            (
                "machine target",
                &a.toolchain.machine_target,
                &b.toolchain.machine_target,
            ),
            (
                "CPU",
                &format!("{:?}", a.cpu_model),
                &format!("{:?}", b.cpu_model),
            ),
            (
                "buffer size",
                &a.buffer_size.to_string(),
                &b.buffer_size.to_string(),
            ),
            (
                "sample rate",
                &a.sample_rate.to_string(),
                &b.sample_rate.to_string(),
            ),
        ]
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(what, a, b)| format!("{what}: baseline {a}, now {b}"))
        .chain(other.machine.differences(&self.machine))
        .collect()
    }
}

/// Seed of the input noise, random controls, placements and resampling unless one is given.
pub const DEFAULT_SEED: u64 = 1;

/// What is wrong with a request, said to the caller (a library user, the command line or an
/// MCP client) so that they can fix it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RequestError(pub String);

impl From<OutOfRange> for RequestError {
    fn from(e: OutOfRange) -> RequestError {
        RequestError(e.to_string())
    }
}

impl From<crate::options::OptionError> for RequestError {
    fn from(e: crate::options::OptionError) -> RequestError {
        RequestError(e.to_string())
    }
}

/// The CPU's model name from `/proc/cpuinfo`.
pub fn cpu_model() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
}

/// How to measure compiled DSPs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureConfig {
    /// Frames per `compute()` call (the buffer size).
    pub frames: usize,
    /// Sample rate the instance is initialised at, Hz.
    pub sample_rate: u32,
    pub budget: Budget,
    /// How many fastest samples the estimate averages; also the fewest samples a round takes.
    pub best_n: usize,
    /// Seed of the input noise, the random control values, the placements and the bootstrap.
    pub seed: u64,
    /// Set every control to a random value in its range between timed samples.
    pub random_controls: bool,
    /// Flush denormals to zero while measuring.
    pub flush_denormals: bool,
    /// Ask for real-time scheduling while measuring.
    pub realtime: bool,
    /// Core to pin the measuring thread to; `None` = do not pin.
    pub core: Option<usize>,
    /// Read the hardware counters (cycles, instructions, cache and branch misses) around each
    /// set's timed rounds, where the kernel gives them (see [`crate::measure::hardware`]).
    #[serde(default)]
    pub hardware_counters: bool,
    /// Write a perf map of the generated functions (see [`crate::callgrind::symbols`]), so that
    /// `perf record` names the samples in them.
    #[serde(default)]
    pub perf_map: bool,
}

impl Default for MeasureConfig {
    /// 512 frames at 44100 Hz, adaptive to ±1 % or 3 s per set, the mean of the 10 fastest
    /// blocks, seed 1, controls left at their initial values, denormals flushed, real-time
    /// priority asked for, pinned to the last core; no hardware counters or perf map.
    fn default() -> MeasureConfig {
        MeasureConfig {
            frames: DEFAULT_FRAMES,
            sample_rate: DEFAULT_SAMPLE_RATE,
            budget: ADAPTIVE,
            best_n: DEFAULT_BEST_N,
            seed: DEFAULT_SEED,
            random_controls: false,
            flush_denormals: true,
            realtime: true,
            core: thread::default_core(),
            hardware_counters: false,
            perf_map: false,
        }
    }
}

impl From<&MeasureConfig> for warnings::Asked {
    fn from(m: &MeasureConfig) -> warnings::Asked {
        warnings::Asked {
            pinned: m.core.is_some(),
            realtime: m.realtime,
            flush_denormals: m.flush_denormals,
        }
    }
}

impl MeasureConfig {
    /// Whether the numbers make sense: frames and best blocks at least 1, a sample rate up to
    /// [`MAX_SAMPLE_RATE`], a positive budget (at most `max_seconds` per set) and a precision
    /// between 0 and 100 %.
    pub fn check(&self, max_seconds: f64) -> Result<(), RequestError> {
        let fail = |why: String| Err(RequestError(why));
        if self.frames == 0 || self.best_n == 0 {
            return fail("the buffer size and the number of best blocks must be at least 1".into());
        }
        if !(1..=MAX_SAMPLE_RATE).contains(&self.sample_rate) {
            return fail(format!(
                "sample rate {} must be between 1 and {MAX_SAMPLE_RATE} Hz",
                self.sample_rate
            ));
        }
        match self.budget {
            Budget::Fixed { seconds } => {
                check_seconds("the duration", seconds, max_seconds)?;
            }
            Budget::Adaptive {
                precision_percent,
                max_seconds: cap,
            } => {
                if !(precision_percent > 0.0 && precision_percent < 100.0) {
                    return fail(format!(
                        "precision {precision_percent} must be a percentage above 0 and below 100"
                    ));
                }
                check_seconds("the time cap", cap, max_seconds)?;
            }
        }
        Ok(())
    }
}

/// Why measuring stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The fixed duration was spent.
    FixedDuration,
    /// Every set's interval reached the target precision.
    PrecisionReached,
    /// The time cap was reached before the target precision.
    TimeCap,
    /// Clearly slower than the leader, so it left the passes early: the fast end of its
    /// interval was more than 10 % above the slow end of the leader's, or its rounds were more
    /// than 2 % slower than the leader's in the same passes with 95 % confidence.
    OutOfRace,
}

/// What measuring one compiled DSP produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawMeasurement {
    /// The statistics of all its samples (ns per block).
    pub timing: TimingSummary,
    /// Each round's mean of its `best_n` fastest samples, ns per block. Round `r` ran in pass
    /// `r` of the measurement, beside the other sets' round `r`.
    pub round_best_ns: Vec<f64>,
    pub stop: StopReason,
    /// Blocks the buffers rotate over.
    pub buffer_blocks: usize,
    /// Bytes of audio the buffers hold (inputs and outputs).
    pub buffer_bytes: usize,
    /// Blocks run before timing, all rounds together.
    pub warmup_blocks: usize,
    pub clock: ClockKind,
    /// The clock's own cost (one read pair, fences included, measured alone), subtracted from
    /// every sample, ns.
    pub clock_overhead_ns: f64,
    pub thread: ThreadConditions,
    /// Output samples that were NaN or infinite in the last block of each round, summed.
    pub non_finite_outputs: usize,
    /// Wall time of its timed rounds, seconds.
    pub timed_seconds: f64,
    /// The core's clock during the measurement, GHz: the 5th and 95th percentiles of the
    /// readings taken before every pass (see [`Clock::core_cycles_per_tick`]; percentiles,
    /// so that a reading the hypervisor interrupted does not count); `None` without the TSC.
    pub core_clock_ghz: Option<[f64; 2]>,
    /// Hardware counters over its timed rounds, per frame (`hardware_counters`, where the
    /// kernel gives them).
    #[serde(default)]
    pub hardware: Option<HardwareCounts>,
}

impl RawMeasurement {
    /// Where it was measured, for code compiled for `target`.
    pub fn environment(&self, target: &str) -> warnings::Environment {
        warnings::Environment {
            target: target.into(),
            thread: Some(self.thread.clone()),
            clock: Some(self.clock),
            core_clock_ghz: self.core_clock_ghz,
        }
    }
}

/// The set about to run and in which pass (0: its set-up and warm-up), told before each
/// stretch so that a set that crashes or hangs the process can be named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stretch {
    pub pass: usize,
    pub set: usize,
}

/// Measures instances of `factories` in interleaved passes on a thread prepared as `config`
/// asks. One result per factory: a set that cannot be measured (no instance, unusable times)
/// fails alone while the others go on.
pub fn measure_interleaved(
    factories: &[&dyn DspFactory],
    config: &MeasureConfig,
    on_stretch: &mut (dyn FnMut(Stretch) + Send),
) -> Result<Vec<Result<RawMeasurement, FaustError>>, FaustError> {
    on_measuring_thread(config, |conditions| {
        Ok(interleaved(factories, config, conditions, on_stretch))
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
            .map_err(|e| FaustError::internal(format!("cannot start the measuring thread: {e}")))?
            .join()
            .unwrap_or_else(|_| Err(FaustError::internal("the measuring thread panicked")))
    })
}

/// The most passes a measurement with `budget` makes (each gives every set a round of about
/// 25 ms).
pub fn max_passes(budget: &Budget) -> usize {
    match *budget {
        Budget::Fixed { seconds } => (seconds / ROUND_SECONDS).round().max(2.0) as usize,
        Budget::Adaptive { max_seconds, .. } => {
            (max_seconds / ROUND_SECONDS).floor().max(2.0) as usize
        }
    }
}

/// The clock, its cost and a first calibration, shared by every set of a measurement.
#[derive(Debug, Clone, Copy)]
struct Timing {
    clock: Clock,
    /// The clock's own cost, ticks.
    cost: u64,
    /// Nanoseconds per tick from a first 20 ms stretch (the whole run's calibration converts
    /// the results).
    ns_per_tick: f64,
}

fn interleaved(
    factories: &[&dyn DspFactory],
    config: &MeasureConfig,
    conditions: ThreadConditions,
    on_stretch: &mut (dyn FnMut(Stretch) + Send),
) -> Vec<Result<RawMeasurement, FaustError>> {
    let clock = Clock::best_available();
    let timing = Timing {
        clock,
        cost: clock.read_cost_ticks(),
        ns_per_tick: clock.quick_ns_per_tick(Duration::from_millis(20)),
    };
    let start = clock.stamp();
    let max_rounds = max_passes(&config.budget);
    let round_seconds = config.budget.max_seconds() / max_rounds as f64;
    let mut pool = BufferPool {
        config,
        pool: Vec::new(),
    };
    let mut sets: Vec<Result<Rounds, FaustError>> = factories
        .iter()
        .enumerate()
        .map(|(set, &factory)| {
            on_stretch(Stretch { pass: 0, set });
            Rounds::new(
                factory,
                config,
                timing,
                round_seconds,
                factories.len(),
                &mut pool,
            )
        })
        .collect();
    let mut stops: Vec<Option<StopReason>> = vec![None; sets.len()];
    let n = sets.len();
    let mut pass = 0;
    while stops
        .iter()
        .zip(&sets)
        .any(|(stop, set)| stop.is_none() && set.is_ok())
    {
        pass += 1;
        for k in 0..n {
            let i = (pass - 1 + k) % n;
            if stops[i].is_some() {
                continue;
            }
            if let Ok(rounds) = &mut sets[i] {
                on_stretch(Stretch { pass, set: i });
                if let Err(e) = rounds.run_round(pool.get(rounds.buffers)) {
                    sets[i] = Err(e);
                }
            }
        }
        decide_stops(&sets, &mut stops, pass, max_rounds, config);
        // A set out of the passes needs its earlier instances no more.
        for (set, stop) in sets.iter_mut().zip(&stops) {
            if let (Ok(rounds), Some(_)) = (set, stop) {
                rounds.kept.clear();
            }
        }
    }
    let ns_per_tick = start.ns_per_tick_until(&clock.stamp());
    let mut core_rates: Vec<f64> = (sets.iter().flatten())
        .flat_map(|set| set.core_rates.iter().copied())
        .collect();
    core_rates.sort_unstable_by(f64::total_cmp);
    let ghz = |q: f64| stats::quantile_sorted(&core_rates, q) / ns_per_tick;
    let core_clock_ghz = (!core_rates.is_empty()).then(|| [ghz(0.05), ghz(0.95)]);
    // Another run may find the core at any clock it showed during this one.
    let clock_wander = core_clock_ghz.map_or(0.0, |[slow, fast]| 1.0 - slow / fast);
    sets.into_iter()
        .zip(stops)
        .enumerate()
        .map(|(i, (set, stop))| {
            let set = set?;
            let buffers = &pool.pool[set.buffers].1;
            let seed = config.seed ^ i as u64;
            let best = set.best_mean(config.best_n, seed).widened(clock_wander);
            let cycles = set.cycles(config.best_n, seed);
            set.finish(
                buffers,
                stop.unwrap_or(StopReason::TimeCap),
                conditions.clone(),
                (ns_per_tick, core_clock_ghz),
                (best, cycles),
            )
        })
        .collect()
}

/// Audio buffers shared by the sets of one layout (precision, inputs, outputs): they rotate
/// over enough memory to exceed the caches (24 MiB for freeverb at 512 frames), and a search
/// measures dozens of sets of one DSP at once.
struct BufferPool<'a> {
    config: &'a MeasureConfig,
    pool: Vec<((Precision, usize, usize), AudioBuffers)>,
}

impl BufferPool<'_> {
    /// The index of the buffers for a layout, made (filled with the seeded noise) if new.
    fn index(&mut self, precision: Precision, inputs: usize, outputs: usize) -> usize {
        let key = (precision, inputs, outputs);
        if let Some(i) = self.pool.iter().position(|(k, _)| *k == key) {
            return i;
        }
        let frames = self.config.frames;
        let blocks = rotation_blocks(frames * (inputs + outputs) * precision.sample_bytes());
        let mut rng = SplitMix64::new(self.config.seed);
        let buffers = AudioBuffers::new(precision, inputs, outputs, frames, blocks, |_, _| {
            rng.noise()
        });
        self.pool.push((key, buffers));
        self.pool.len() - 1
    }

    fn get(&mut self, index: usize) -> &mut AudioBuffers {
        &mut self.pool[index].1
    }
}

/// After `pass` passes: which running sets stop, and why.
fn decide_stops(
    sets: &[Result<Rounds, FaustError>],
    stops: &mut [Option<StopReason>],
    pass: usize,
    max_rounds: usize,
    config: &MeasureConfig,
) {
    let running = |stops: &[Option<StopReason>]| -> Vec<usize> {
        (0..sets.len())
            .filter(|&i| stops[i].is_none() && sets[i].is_ok())
            .collect()
    };
    let over = |running: &[usize]| {
        pass >= max_rounds
            || running.iter().any(|&i| {
                sets[i]
                    .as_ref()
                    .is_ok_and(|r| r.timed.as_secs_f64() >= config.budget.max_seconds())
            })
    };
    let precision_percent = match config.budget {
        Budget::Fixed { .. } => {
            if over(&running(stops)) {
                running(stops)
                    .into_iter()
                    .for_each(|i| stops[i] = Some(StopReason::FixedDuration));
            }
            return;
        }
        Budget::Adaptive {
            precision_percent, ..
        } => precision_percent,
    };
    let estimates: Vec<(usize, BestMean)> = running(stops)
        .into_iter()
        .filter_map(|i| {
            let r = sets[i].as_ref().ok()?;
            Some((i, r.best_mean(config.best_n, config.seed ^ i as u64)))
        })
        .collect();
    if pass >= MIN_ROUNDS_OUT_OF_RACE {
        let leader_slow_end = estimates
            .iter()
            .map(|(_, b)| b.high)
            .fold(f64::INFINITY, f64::min);
        let leader = estimates
            .iter()
            .min_by(|a, b| a.1.estimate.total_cmp(&b.1.estimate))
            .and_then(|(i, _)| sets[*i].as_ref().ok())
            .map(Rounds::round_means)
            .unwrap_or_default();
        for (i, b) in &estimates {
            // Every running set took part in every pass so far: their rounds pair up.
            let behind = sets[*i]
                .as_ref()
                .ok()
                .and_then(|set| stats::paired_ratio(&set.round_means(), &leader));
            if b.low > leader_slow_end * OUT_OF_RACE_FACTOR
                || behind.is_some_and(|r| r.low > OUT_OF_RACE_PAIRED)
            {
                stops[*i] = Some(StopReason::OutOfRace);
            }
        }
    }
    let precise = estimates
        .iter()
        .filter(|(i, _)| stops[*i].is_none())
        .all(|(_, b)| b.relative_half_width() <= precision_percent / 100.0);
    let running = running(stops);
    let reason = if pass >= MIN_ROUNDS && precise {
        Some(StopReason::PrecisionReached)
    } else if over(&running) {
        Some(StopReason::TimeCap)
    } else {
        None
    };
    for i in running {
        stops[i] = reason;
    }
}

/// The timed loop itself: `batch` blocks between two clock reads, the clock's cost
/// subtracted. Public so that `benches/harness.rs` can set it against a bare loop on the same
/// instance.
#[derive(Debug, Clone, Copy)]
pub struct BlockTimer {
    pub clock: Clock,
    /// The clock's cost, ticks.
    pub overhead: u64,
    pub batch: usize,
}

impl BlockTimer {
    /// Times batches from block `block` on, pushing each batch's ticks to `ticks`, until at
    /// least `min_samples` are taken and the clock reads `until` or later, or at least one is
    /// taken and it reads `limit` or later. `between` runs before each batch, outside the
    /// timed region (e.g. to change controls). Returns the next block.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn run(
        &self,
        bound: &mut BoundInstance<'_>,
        mut block: usize,
        ticks: &mut Vec<u64>,
        min_samples: usize,
        until: u64,
        limit: u64,
        mut between: impl FnMut(&mut Instance),
    ) -> usize {
        // Read as signed differences, so that a time already past stops at once.
        let past = |now: u64, t: u64| now.wrapping_sub(t) as i64 >= 0;
        loop {
            between(bound.instance());
            let a = self.clock.now();
            for j in 0..self.batch {
                bound.compute(block + j);
            }
            let b = self.clock.now();
            block += self.batch;
            ticks.push(b.saturating_sub(a).saturating_sub(self.overhead));
            if (ticks.len() >= min_samples && past(b, until)) || past(b, limit) {
                return block;
            }
        }
    }
}

/// The state of measuring one compiled DSP round after round.
struct Rounds<'a> {
    factory: &'a dyn DspFactory,
    config: &'a MeasureConfig,
    timing: Timing,
    instance: Instance,
    /// Earlier rounds' instances, kept so that new ones land elsewhere in memory.
    kept: Vec<Instance>,
    kept_bytes: u64,
    /// The most `kept` may hold.
    kept_cap: u64,
    /// Its buffers in the [`BufferPool`].
    buffers: usize,
    /// NaN or infinite output samples in the last block of each round so far.
    non_finite_outputs: usize,
    controls_rng: SplitMix64,
    placement_rng: SplitMix64,
    batch: usize,
    block: usize,
    warmup_blocks: usize,
    round_budget: Duration,
    /// The round's length and limit in clock ticks, so that the timed loop checks its end
    /// with the clock read it already makes.
    round_ticks: u64,
    limit_ticks: u64,
    ticks: Vec<u64>,
    /// Every sample, ticks per block.
    samples: Vec<f64>,
    /// Each round's `best_n` fastest samples, ticks per block, ascending.
    tops: Vec<Vec<f64>>,
    /// The core's clock (cycles per tick) around each round, where known.
    core_rates: Vec<f64>,
    /// Hardware counters, enabled only while its rounds' blocks run, and the frames they saw.
    hardware: Option<HardwareCounters>,
    hardware_frames: u64,
    timed: Duration,
}

impl<'a> Rounds<'a> {
    /// Makes the first instance, finds its buffers in `pool`, warms up (50 ms, at least 16
    /// blocks) and decides the batch size from the clock's cost and how long one block takes.
    fn new(
        factory: &'a dyn DspFactory,
        config: &'a MeasureConfig,
        timing: Timing,
        round_seconds: f64,
        sets: usize,
        pool: &mut BufferPool,
    ) -> Result<Rounds<'a>, FaustError> {
        let mut instance = factory.instance(config.sample_rate)?;
        let buffers = pool.index(factory.precision(), instance.inputs(), instance.outputs());
        let clock = timing.clock;
        let start = Instant::now();
        let mut block = 0usize;
        let mut bound = instance.bind(pool.get(buffers))?;
        while block < 16 || start.elapsed() < Duration::from_millis(50) {
            bound.compute(block);
            block += 1;
        }
        // One block's time: the 10th percentile of 32 blocks timed one by one.
        let mut each: Vec<f64> = (0..32)
            .map(|j| {
                let a = clock.now();
                bound.compute(block + j);
                clock.now().saturating_sub(a).saturating_sub(timing.cost) as f64
            })
            .collect();
        block += 32;
        each.sort_unstable_by(f64::total_cmp);
        let block_ns = stats::quantile_sorted(&each, 0.1) * timing.ns_per_tick;
        let batch = batch_size(block_ns, timing.cost as f64 * timing.ns_per_tick);
        let expected = (round_seconds * 1e9 / (block_ns.max(1.0) * batch as f64)).ceil() as usize;
        Ok(Rounds {
            factory,
            config,
            timing,
            instance,
            kept: Vec::new(),
            kept_bytes: 0,
            non_finite_outputs: 0,
            kept_cap: (KEPT_INSTANCES_BYTES / sets as u64).min(64 << 20),
            buffers,
            controls_rng: SplitMix64::new(config.seed ^ 0xC0_47_20_15),
            placement_rng: SplitMix64::new(config.seed ^ 0x91AC_E000),
            batch,
            block,
            warmup_blocks: block,
            round_budget: Duration::from_secs_f64(round_seconds),
            round_ticks: (round_seconds * 1e9 / timing.ns_per_tick) as u64,
            limit_ticks: (ROUND_LIMIT_SECONDS * 1e9 / timing.ns_per_tick) as u64,
            ticks: Vec::with_capacity(expected.clamp(config.best_n, 1_000_000) + 16),
            samples: Vec::new(),
            tops: Vec::new(),
            core_rates: Vec::new(),
            hardware: config
                .hardware_counters
                .then(|| HardwareCounters::new().ok())
                .flatten(),
            hardware_frames: 0,
            timed: Duration::ZERO,
        })
    }

    /// Times one round: a fresh instance (but for the first round) at a new place, the buffers
    /// shifted, a short warm-up (the other sets ran meanwhile), then blocks until the round's
    /// time and `best_n` samples.
    fn run_round(&mut self, buffers: &mut AudioBuffers) -> Result<(), FaustError> {
        let config = self.config;
        if !self.tops.is_empty() {
            let next = self.factory.instance(config.sample_rate)?;
            let old = std::mem::replace(&mut self.instance, next);
            self.kept_bytes += old.memory_bytes().unwrap_or(0);
            if self.kept_bytes <= self.kept_cap {
                self.kept.push(old);
            }
        }
        // Cache-line steps across one page.
        buffers.shift(64 * (self.placement_rng.next_u64() as usize % 64));
        let ranges: Vec<(f64, f64)> = self
            .instance
            .controls()
            .iter()
            .map(|c| (c.min, c.max))
            .collect();
        let mut bound = self.instance.bind(buffers)?;
        let (warm_start, mut warmed) = (Instant::now(), 0);
        while warmed < 4 || warm_start.elapsed() < self.round_budget / 10 {
            bound.compute(self.block + warmed);
            warmed += 1;
        }
        self.block += warmed;
        self.warmup_blocks += warmed;
        let timer = BlockTimer {
            clock: self.timing.clock,
            overhead: self.timing.cost,
            batch: self.batch,
        };
        self.ticks.clear();
        // The core's clock right before and after the timed blocks (about 30 µs each), so
        // that a step of the clock between rounds is followed.
        let rate_before = timer.clock.core_cycles_per_tick();
        // A counter that cannot be switched is given up: no figures rather than wrong ones.
        if self.hardware.as_mut().is_some_and(|h| h.enable().is_err()) {
            self.hardware = None;
        }
        let first_block = self.block;
        let start = Instant::now();
        let t_start = timer.clock.now();
        let controls_rng = &mut self.controls_rng;
        self.block = timer.run(
            &mut bound,
            self.block,
            &mut self.ticks,
            config.best_n,
            t_start.wrapping_add(self.round_ticks),
            t_start.wrapping_add(self.limit_ticks),
            |instance| {
                if config.random_controls {
                    for (i, &(min, max)) in ranges.iter().enumerate() {
                        instance.set_control(i, min + (max - min) * controls_rng.next_f64());
                    }
                }
            },
        );
        self.timed += start.elapsed();
        if self.hardware.as_mut().is_some_and(|h| h.disable().is_err()) {
            self.hardware = None;
        }
        let rate_after = timer.clock.core_cycles_per_tick();
        self.hardware_frames += ((self.block - first_block) * config.frames) as u64;
        self.non_finite_outputs += buffers.non_finite_in_block(self.block - 1);
        let batch = self.batch as f64;
        let round: Vec<f64> = self.ticks.iter().map(|&t| t as f64 / batch).collect();
        self.tops.push(stats::fastest(&round, config.best_n));
        self.core_rates
            .extend(rate_before.zip(rate_after).map(|(a, b)| (a + b) / 2.0));
        self.samples.extend(round);
        Ok(())
    }

    /// Each round's mean of its fastest samples, ticks per block.
    fn round_means(&self) -> Vec<f64> {
        self.tops.iter().map(|t| stats::mean(t)).collect()
    }

    /// The estimate so far, in ticks per block. Its interval is taken from the rounds brought
    /// to one core clock (their ticks × the cycles per tick of their pass), so that the host
    /// changing the clock during the run, which more rounds cannot average out, does not keep
    /// the interval wide; the clock's wander is added to the reported interval instead.
    fn best_mean(&self, best_n: usize, seed: u64) -> BestMean {
        if self.core_rates.len() != self.tops.len() {
            return BestMean::of(&self.tops, best_n, seed);
        }
        let in_cycles: Vec<Vec<f64>> = (self.tops.iter().zip(&self.core_rates))
            .map(|(top, rate)| top.iter().map(|t| t * rate).collect())
            .collect();
        let measured: Vec<f64> = self.tops.iter().flatten().copied().collect();
        BestMean::of(&in_cycles, best_n, seed).around(stats::best_mean_of(&measured, best_n))
    }

    /// Core cycles per block: the mean of the `best_n` fastest samples of all rounds, each
    /// round's samples × the core's cycles per tick around it, where that clock is the median
    /// of the readings of the rounds within [`RATE_WINDOW`] passes of it: a single reading is
    /// off by a little either way, and the fastest products would be those whose reading came
    /// out low, while the clock's steps last far longer than a few passes. Its interval
    /// comes from the same split halves of the rounds as time's ([`BestMean`]). `None`
    /// without the TSC.
    fn cycles(&self, best_n: usize, seed: u64) -> Option<BestMean> {
        let n = self.tops.len();
        if self.core_rates.len() != n {
            return None;
        }
        let in_cycles: Vec<Vec<f64>> = (0..n)
            .map(|r| {
                let near =
                    &self.core_rates[r.saturating_sub(RATE_WINDOW)..(r + RATE_WINDOW + 1).min(n)];
                let rate = stats::median(near);
                self.tops[r].iter().map(|t| t * rate).collect()
            })
            .collect();
        Some(BestMean::of(&in_cycles, best_n, seed))
    }

    /// The measurement in nanoseconds, with its statistics; `best` is its estimate in ticks
    /// and `cycles` in core cycles; the clocks are the TSC's ns per tick and the core's clock
    /// during the run.
    fn finish(
        mut self,
        buffers: &AudioBuffers,
        stop: StopReason,
        thread: ThreadConditions,
        (ns_per_tick, core_clock_ghz): (f64, Option<[f64; 2]>),
        (best, cycles): (BestMean, Option<BestMean>),
    ) -> Result<RawMeasurement, FaustError> {
        let to_ns = |v: &[f64]| -> Vec<f64> { v.iter().map(|t| t * ns_per_tick).collect() };
        let tops: Vec<Vec<f64>> = self.tops.iter().map(|t| to_ns(t)).collect();
        let times = BlockTimes::new(to_ns(&self.samples), self.config.best_n)
            .map_err(|e| FaustError::invalid_input(format!("unusable measurement: {e}")))?;
        Ok(RawMeasurement {
            timing: TimingSummary::of(
                &times,
                &tops,
                best.around(best.estimate * ns_per_tick),
                cycles,
                self.batch,
                self.config.best_n,
            ),
            round_best_ns: self.round_means().iter().map(|t| t * ns_per_tick).collect(),
            stop,
            buffer_blocks: buffers.blocks(),
            buffer_bytes: buffers.bytes(),
            non_finite_outputs: self.non_finite_outputs,
            warmup_blocks: self.warmup_blocks,
            clock: self.timing.clock.kind(),
            clock_overhead_ns: self.timing.cost as f64 * ns_per_tick,
            thread,
            timed_seconds: self.timed.as_secs_f64(),
            core_clock_ghz,
            hardware: (self.hardware.as_mut()).and_then(|h| h.per_frame(self.hardware_frames).ok()),
        })
    }
}

/// Blocks per timed sample for blocks of `block_ns` and a clock that costs `clock_ns`: 1 for
/// blocks over [`NEVER_BATCH_NS`], else the power of two that makes a sample last at least
/// [`SAMPLE_OVER_CLOCK`] × the clock's cost (a power of two, so that small differences in the
/// block's time between runs rarely change it).
pub fn batch_size(block_ns: f64, clock_ns: f64) -> usize {
    if block_ns > NEVER_BATCH_NS {
        return 1;
    }
    let needed = (SAMPLE_OVER_CLOCK * clock_ns / block_ns.max(1e-3)).ceil();
    (needed.clamp(1.0, 1e6) as usize).next_power_of_two()
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

    #[test]
    fn long_blocks_are_never_batched_and_short_ones_reach_the_clock_target() {
        // Whatever the clock costs, a block over 10 µs is timed alone.
        for clock_ns in [12.0, 27.0, 104.0, 1128.0] {
            assert_eq!(batch_size(10_001.0, clock_ns), 1);
            assert_eq!(batch_size(30_000.0, clock_ns), 1);
        }
        // 27 ns × 400 = 10.8 µs: a 2 µs block needs 6 blocks, rounded up to 8.
        assert_eq!(batch_size(2_000.0, 27.0), 8);
        assert_eq!(batch_size(9_000.0, 27.0), 2);
        assert_eq!(batch_size(5_000.0, 12.0), 1);
        // The same batch over a few percent of difference in the block's time.
        assert_eq!(batch_size(1_900.0, 27.0), batch_size(2_050.0, 27.0));
        for ns in [0.0, 1.0, 50.0] {
            assert!(batch_size(ns, 27.0).is_power_of_two());
        }
    }
}
