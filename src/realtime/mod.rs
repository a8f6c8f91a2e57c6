//! Running compiled code in real time, in the worker (see `crate::jobs::ProfileJob`): paced by
//! faustperf to absolute deadlines (`paced`) or inside an audio server's callback (`audio`),
//! every block's compute time, lateness and misses recorded; then probes of the denormal
//! slow-down and of which block sizes are safe. `crate::profile` turns what this records into
//! a report.

pub mod alloc;
mod audio;
mod block;
mod paced;
pub mod signal;

use crate::dsp::{DspFactory, FaustError};
use crate::measure::thread::{self, ThreadConditions};
use crate::measure::units::cpu_percent;
use block::Live;
use serde::{Deserialize, Serialize};
use signal::Signal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How often the live load is reported while the DSP runs.
const LIVE_INTERVAL: Duration = Duration::from_millis(250);

/// Runs the paced profile (or the audio callback) and the probes on a thread prepared as
/// `config` asks. While the DSP runs, `on_live` is called from another thread every 250 ms with
/// the seconds of audio done and the mean load since the previous call (%); the real-time code
/// itself only updates two atomics.
pub fn run(
    factory: &dyn DspFactory,
    config: &ProfileConfig,
    on_live: &(dyn Fn(f64, f64) + Sync),
) -> Result<RawProfile, FaustError> {
    if config.frames == 0 || config.frames > i32::MAX as usize || config.sample_rate == 0 {
        return Err(FaustError::invalid_input(
            "buffer size and sample rate must be positive",
        ));
    }
    let live = Live::default();
    let running = AtomicBool::new(true);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let period_s = config.frames as f64 / config.sample_rate as f64;
            let (mut blocks, mut sum) = (0, 0);
            while running.load(Ordering::Relaxed) {
                std::thread::sleep(LIVE_INTERVAL);
                let (b, s) = (
                    live.blocks.load(Ordering::Relaxed),
                    live.compute_ns.load(Ordering::Relaxed),
                );
                if b > blocks {
                    let block_ns = (s - sum) as f64 / (b - blocks) as f64;
                    let load = cpu_percent(block_ns, config.frames, config.sample_rate);
                    on_live(b as f64 * period_s, load);
                }
                (blocks, sum) = (b, s);
            }
        });
        let result = std::thread::Builder::new()
            .name("faustperf-profile".into())
            .spawn_scoped(scope, || {
                let (conditions, saved) =
                    thread::prepare(config.core, config.flush_denormals, config.realtime);
                let result = match config.audio {
                    None => paced::paced(factory, config, &live),
                    Some(host) => audio::audio(factory, config, host, &live),
                }
                .map(|mut raw| {
                    // In an audio callback the host's thread ran the DSP, not this one.
                    raw.thread = config.audio.is_none().then_some(conditions);
                    raw
                });
                running.store(false, Ordering::Relaxed);
                thread::restore_fp_mode(saved);
                let mut raw = result?;
                raw.denormals = paced::denormal_probe(factory, config)?;
                thread::restore_fp_mode(saved);
                raw.block_sizes = paced::block_size_probe(factory, config)?;
                raw.peak_rss_bytes = block::peak_rss_bytes();
                Ok(raw)
            })
            .map_err(|e| FaustError::internal(format!("cannot start the profiling thread: {e}")))
            .and_then(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err(FaustError::internal("the profiling thread panicked")))
            });
        running.store(false, Ordering::Relaxed);
        result
    })
}

/// How controls move during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum ControlMode {
    /// Kept at their initial values.
    Fixed,
    /// Set to a random value in their range before every block.
    Random,
    /// Moved linearly from minimum to maximum over the run.
    Sweep,
}

/// The audio host whose callback runs the DSP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum AudioHost {
    /// A JACK server (e.g. `jackd -d dummy -r 48000 -p 256` without a sound card).
    Jack,
    /// The platform's default host and output device (ALSA on Linux).
    Default,
}

/// What the audio host reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostStats {
    pub name: String,
    /// Buffer over- and underruns the host reported.
    pub xruns: u64,
    /// Callbacks asking for another number of frames than the block size (not run).
    pub wrong_size_callbacks: u64,
}

/// A profile's sample rate (Hz), block size (frames) and length (seconds of audio) unless
/// asked otherwise: a common real-time host setting.
pub const DEFAULT_PROFILE_SAMPLE_RATE: u32 = 48000;
pub const DEFAULT_PROFILE_FRAMES: usize = 256;
pub const DEFAULT_PROFILE_SECONDS: f64 = 10.0;

/// How to profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileConfig {
    /// Hz.
    pub sample_rate: u32,
    /// Frames per block.
    pub frames: usize,
    /// Planned length of the paced run, seconds.
    pub duration_seconds: f64,
    pub signal: Signal,
    pub controls: ControlMode,
    pub seed: u64,
    pub flush_denormals: bool,
    pub realtime: bool,
    pub core: Option<usize>,
    /// `None`: paced by faustperf; `Some`: inside that host's audio callback.
    pub audio: Option<AudioHost>,
    /// Write a perf map of the generated functions (see [`crate::callgrind::symbols`]).
    #[serde(default)]
    pub perf_map: bool,
}

impl Default for ProfileConfig {
    /// 10 s of noise at 48000 Hz in blocks of 256 frames, paced by faustperf, controls at
    /// their initial values, seed 1, denormals flushed, real-time priority asked for, pinned to
    /// the last core; no perf map.
    fn default() -> ProfileConfig {
        ProfileConfig {
            sample_rate: DEFAULT_PROFILE_SAMPLE_RATE,
            frames: DEFAULT_PROFILE_FRAMES,
            duration_seconds: DEFAULT_PROFILE_SECONDS,
            signal: Signal::Noise,
            controls: ControlMode::Fixed,
            seed: crate::measure::DEFAULT_SEED,
            flush_denormals: true,
            realtime: true,
            core: crate::measure::thread::default_core(),
            audio: None,
            perf_map: false,
        }
    }
}

/// A control as it was used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ControlUse {
    pub path: String,
    pub min: f64,
    pub max: f64,
    pub init: f64,
    /// What it was set to, in words.
    pub values: String,
}

/// Compute time of an impulse and its decay, with denormals flushed to zero and not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DenormalProbe {
    /// Seconds of audio run (at full speed, not paced).
    pub audio_seconds: f64,
    /// Mean ns per block over the whole run.
    pub flushed_ns_per_block: f64,
    pub unflushed_ns_per_block: f64,
    /// The 1-second window (of audio) where not flushing cost the most: its start, seconds
    /// after the impulse, and its mean ns per block both ways.
    pub worst_window_start_seconds: f64,
    pub window_flushed_ns_per_block: f64,
    pub window_unflushed_ns_per_block: f64,
}

/// Load of one block size, timed back to back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BlockSizeProbe {
    pub frames: usize,
    /// 99th-percentile block time as % of the block's period.
    pub p99_load_percent: f64,
    /// Slowest block as % of its period.
    pub max_load_percent: f64,
}

/// What the worker measured, before summarising.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RawProfile {
    pub blocks_planned: usize,
    /// Per block: compute time, ns.
    pub compute_ns: Vec<f64>,
    /// Per block: end of compute minus the block's deadline start, ns.
    pub lateness_ns: Vec<f64>,
    /// Per block: start of compute from the first deadline, ns.
    pub start_ns: Vec<f64>,
    pub wall_seconds: f64,
    /// When an output first held NaN or infinity (seconds of audio), if it did.
    pub first_non_finite_seconds: Option<f64>,
    /// NaN or infinite output samples, in the blocks checked.
    pub non_finite_samples: u64,
    /// Heap allocations on the profiling thread around compute(); `None`: not counted (the
    /// host lacks faustperf's counting allocator).
    pub allocations: Option<u64>,
    pub instance_bytes: Option<u64>,
    pub buffer_bytes: usize,
    /// Peak resident memory of the process that ran the profile, bytes.
    pub peak_rss_bytes: Option<u64>,
    pub thread: Option<ThreadConditions>,
    pub controls: Vec<ControlUse>,
    pub denormals: Option<DenormalProbe>,
    pub block_sizes: Vec<BlockSizeProbe>,
    /// Audio callback mode: time between successive callbacks, ns.
    pub callback_interval_ns: Vec<f64>,
    /// Audio callback mode: what the host reported.
    pub host: Option<HostStats>,
}
