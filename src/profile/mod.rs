//! `profile`: does a DSP keep up in real time? Compiles it, runs it in real time on the
//! measuring worker (see [`crate::realtime`]) and summarises every block's load, lateness and
//! misses, the denormal slow-down and which block sizes are safe, with advice.

use crate::accuracy;
use crate::analyze::result::Category;
use crate::backends::Cxx;
use crate::cache::Cache;
use crate::callgrind::{CountConditions, CountConfig, Counted};
use crate::jobs::{CompileJob, Live, ProfileJob};
use crate::libfaust::DspSource;
use crate::measure::stats::{mean, quantile_sorted};
use crate::measure::thread::ThreadConditions;
use crate::measure::units::cpu_percent;
use crate::measure::warnings::{texts, Asked, Environment, Warning};
use crate::measure::{check_seconds, Conditions, RequestError, MAX_SAMPLE_RATE};
use crate::options::{Backend, OptionSet};
use crate::pipeline::{compile_all, count_all, Workers};
use crate::realtime::signal::{check_wav, Signal};
use crate::realtime::{BlockSizeProbe, ControlUse, DenormalProbe, ProfileConfig, RawProfile};
use crate::worker::RunError;
use serde::{Deserialize, Serialize};

/// What to profile: [`ProfileRequest::new`], a default changed in its field, then
/// [`run_profile`].
#[derive(Debug, Clone)]
pub struct ProfileRequest {
    pub source: DspSource,
    /// How the DSP is named in the report.
    pub name: String,
    /// Default: scalar code on LLVM.
    pub options: OptionSet,
    /// Default: [`ProfileConfig::default`].
    pub config: ProfileConfig,
    /// The C++ compiler, for the `cpp` backend (default: g++ with faustperf's flags).
    pub cxx: Option<Cxx>,
    /// Also count the code's instructions per frame under callgrind (`counted`).
    pub counters: bool,
}

impl ProfileRequest {
    /// A profile of `source`, named `name` in the report, with every default.
    pub fn new(source: DspSource, name: impl Into<String>) -> ProfileRequest {
        ProfileRequest {
            source,
            name: name.into(),
            options: OptionSet::scalar(),
            config: ProfileConfig::default(),
            cxx: None,
            counters: false,
        }
    }

    /// The request as it will run, or what is wrong with it: at most `max_seconds` of audio,
    /// a sample rate up to [`MAX_SAMPLE_RATE`], at least one frame per block, a WAV input at
    /// the sample rate; the default C++ compiler is found here for `cpp`.
    pub fn validate(mut self, max_seconds: f64) -> Result<ProfileRequest, RequestError> {
        let c = &self.config;
        check_seconds("the duration", c.duration_seconds, max_seconds)?;
        if !(1..=MAX_SAMPLE_RATE).contains(&c.sample_rate) || c.frames == 0 {
            return Err(RequestError(format!(
                "{} Hz and {} frames per block: give a sample rate between 1 and {MAX_SAMPLE_RATE} Hz and at least 1 frame",
                c.sample_rate, c.frames
            )));
        }
        if let Signal::Wav { path } = &c.signal {
            check_wav(path, c.sample_rate).map_err(|e| RequestError(e.to_string()))?;
        }
        self.cxx = Cxx::when_needed(self.options.backend == Backend::Cpp, self.cxx)
            .map_err(|e| RequestError(format!("cpp: {e}")))?;
        Ok(self)
    }
}

/// Compiles the request's code (or takes it from `cache`) on a compile lane, then profiles it on
/// the measuring runner; `on_live` gets the seconds of audio done and the recent load (%) every
/// 250 ms while the DSP runs. With `counters`, then counts its instructions.
pub fn run_profile(
    request: &ProfileRequest,
    workers: &mut Workers,
    cache: Option<&Cache>,
    on_live: &mut dyn FnMut(f64, f64),
) -> Result<ProfileReport, RunError> {
    let job = CompileJob {
        source: request.source.clone(),
        options: request.options.clone(),
        sample_rate: request.config.sample_rate,
        cxx: request.cxx.clone(),
        target: crate::libfaust::Target::Host,
    };
    let (mut results, mut warnings) =
        compile_all(workers, cache, std::slice::from_ref(&job), &mut |_, _| {});
    let (compiled, _) = results
        .pop()
        .unwrap_or_else(|| Err(RunError::worker("nothing compiled")))?;
    let raw = workers.measurer.run(
        &ProfileJob {
            code: compiled.code,
            options: request.options.clone(),
            profile: request.config.clone(),
        },
        &mut |live: Live| on_live(live.audio_seconds, live.load_percent),
    )?;
    let config = &request.config;
    let (metrics, timeline) = summarize(&raw, config);
    let conditions = Conditions::here(config.frames, config.sample_rate);
    let environment = Environment {
        target: conditions.toolchain.machine_target.clone(),
        thread: raw.thread.clone(),
        ..Environment::default()
    };
    let mut found = environment.warnings(Asked {
        pinned: config.core.is_some(),
        realtime: config.realtime,
        flush_denormals: config.flush_denormals,
    });
    if compiled.info.outputs == 0 {
        found.push(Warning::NoOutputs);
    }
    warnings.splice(0..0, texts(found));
    if raw.thread.as_ref().is_some_and(|t| t.realtime_priority) && metrics.behind_seconds > 0.0 {
        warnings.push("the DSP could not keep up, so the real-time thread never slept: the kernel's real-time throttling (sched_rt_runtime_us, usually 50 ms per second) paused it, and the worst blocks include those pauses".into());
    }
    if metrics.allocations_in_callback.is_none() {
        warnings.push(
            "allocations were not counted: this process lacks faustperf's counting allocator"
                .into(),
        );
    }
    let mut report = ProfileReport {
        success: metrics.blocks_processed > 0,
        dsp: request.name.clone(),
        compiler_options: request.options.label.clone(),
        backend: request.options.backend,
        mode: match config.audio {
            None => "paced".into(),
            Some(_) => format!(
                "audio callback ({})",
                raw.host.as_ref().map_or("", |h| h.name.as_str())
            ),
        },
        signal: config.signal.to_string(),
        conditions,
        duration_seconds: config.duration_seconds,
        category: Category::of(metrics.avg_cpu_percent),
        recommendations: recommendations(&metrics, config, &raw),
        denormal_slowdown: raw.denormals.as_ref().map(denormal_slowdown),
        metrics,
        timeline,
        controls: raw.controls,
        denormals: raw.denormals,
        block_sizes: raw.block_sizes,
        warnings,
        thread: raw.thread,
        isolation: workers.measurer.isolation().into(),
        counted: None,
    };
    if request.counters {
        add_counts(&mut report, request, workers, cache);
    }
    Ok(report)
}

/// Width of a timeline window, seconds.
pub const TIMELINE_WINDOW_SECONDS: f64 = 0.1;

/// The numbers of a profile.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Metrics {
    /// Mean over blocks of compute time ÷ block period, %.
    pub avg_cpu_percent: f64,
    /// The worst block's load, %.
    pub peak_cpu_percent: f64,
    pub p50_cpu_percent: f64,
    pub p95_cpu_percent: f64,
    pub p99_cpu_percent: f64,
    /// Mean and worst time from a block's deadline start to the end of its compute, samples.
    pub avg_latency_samples: f64,
    pub peak_latency_samples: f64,
    /// The same two, ms.
    pub avg_latency_ms: f64,
    pub peak_latency_ms: f64,
    /// Peak resident memory of the process that ran the DSP (instance, buffers, libfaust), bytes.
    pub memory_peak_bytes: Option<u64>,
    /// Heap bytes of the instance, and bytes of the audio buffers.
    pub instance_bytes: Option<u64>,
    pub buffer_bytes: usize,
    /// Blocks whose compute time exceeded their period (deadline misses), plus the xruns the
    /// audio host reported.
    pub buffer_underruns: usize,
    /// Audio callback mode: xruns the host reported (`null` when paced).
    pub host_xruns: Option<u64>,
    /// Audio callback mode: 99th percentile of |interval between callbacks − period|, µs.
    pub callback_jitter_p99_us: Option<f64>,
    pub blocks_processed: usize,
    pub blocks_planned: usize,
    /// Frames processed ÷ wall time, Hz.
    pub sample_rate_achieved: f64,
    /// How far behind schedule the last block ended, seconds (0 when on time).
    pub behind_seconds: f64,
    /// Heap allocations around compute() (`null`: not counted).
    pub allocations_in_callback: Option<u64>,
    /// When an output first became NaN or infinite, seconds of audio (`null`: never).
    pub first_non_finite_seconds: Option<f64>,
    /// NaN or infinite output samples (the output check's `non_finite`), in the blocks
    /// checked: every block with an audio host, the first pass over the input when paced.
    #[serde(default)]
    pub non_finite_samples: u64,
}

/// Load over time, in windows of [`TIMELINE_WINDOW_SECONDS`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Timeline {
    /// Window starts, seconds from the start of the run.
    pub timestamps: Vec<f64>,
    /// Mean load of the blocks starting in each window, %.
    pub cpu_usage_over_time: Vec<f64>,
    /// Worst block load in each window, %.
    pub max_cpu_over_time: Vec<f64>,
}

/// Everything `faustperf profile` found.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProfileReport {
    /// True when blocks were run (the profile measured what it was asked).
    pub success: bool,
    pub dsp: String,
    pub compiler_options: String,
    /// The backend that compiled and ran it.
    pub backend: crate::options::Backend,
    /// `paced`, or `audio callback (JACK)` etc.
    pub mode: String,
    pub signal: String,
    /// libfaust, its target, the CPU, the buffer size and the sample rate.
    #[serde(flatten)]
    pub conditions: Conditions,
    pub duration_seconds: f64,
    pub metrics: Metrics,
    pub category: Category,
    pub timeline: Timeline,
    pub controls: Vec<ControlUse>,
    pub denormals: Option<DenormalProbe>,
    /// Slow-down of the decayed tail without flush-to-zero (×).
    pub denormal_slowdown: Option<f64>,
    pub block_sizes: Vec<BlockSizeProbe>,
    pub recommendations: Vec<String>,
    pub warnings: Vec<String>,
    pub thread: Option<ThreadConditions>,
    /// `worker` or `in_process`.
    pub isolation: String,
    /// Instructions per frame counted under callgrind (`--counters`); absent without it or
    /// when they could not be counted (a warning says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<crate::callgrind::Counted>,
}

/// `profile --counters`: counts the profiled code's instructions per frame, at the profile's
/// block size and rate; says why in a warning when it cannot.
fn add_counts(
    report: &mut ProfileReport,
    request: &ProfileRequest,
    workers: &mut Workers,
    cache: Option<&Cache>,
) {
    let config = CountConfig::new(request.config.frames, request.config.sample_rate);
    let counted = CountConditions::here(&config)
        .map_err(|e| e.to_string())
        .and_then(|conditions| {
            let sets = std::slice::from_ref(&request.options);
            let (mut counted, warnings) = count_all(workers, cache, &request.source, sets, &config);
            report.warnings.extend(warnings);
            let counts = counted
                .pop()
                .unwrap_or_else(|| Err(RunError::worker("nothing counted")))
                .map_err(|e| e.to_string())?;
            Ok(Counted { counts, conditions })
        });
    match counted {
        Ok(counted) => report.counted = Some(counted),
        Err(e) => report
            .warnings
            .push(format!("instructions not counted: {e}")),
    }
}

/// Summarises a raw profile for `config`.
pub fn summarize(raw: &RawProfile, config: &ProfileConfig) -> (Metrics, Timeline) {
    let period_ns = config.frames as f64 / config.sample_rate as f64 * 1e9;
    let loads: Vec<f64> = raw
        .compute_ns
        .iter()
        .map(|&c| cpu_percent(c, config.frames, config.sample_rate))
        .collect();
    let mut sorted = loads.clone();
    sorted.sort_unstable_by(f64::total_cmp);
    let n = loads.len();
    let to_samples = |ns: f64| ns * config.sample_rate as f64 / 1e9;
    let peak_lateness = raw.lateness_ns.iter().cloned().fold(0.0, f64::max);
    let last_end = raw
        .start_ns
        .last()
        .zip(raw.compute_ns.last())
        .map_or(0.0, |(s, c)| s + c);
    let scheduled_end = n as f64 * period_ns;
    let elapsed = last_end.max(scheduled_end);
    let mut timeline = Timeline::default();
    let window_ns = TIMELINE_WINDOW_SECONDS * 1e9;
    let mut i = 0;
    while i < n {
        let w = (raw.start_ns[i] / window_ns).floor();
        let j = (i..n)
            .find(|&j| (raw.start_ns[j] / window_ns).floor() != w)
            .unwrap_or(n);
        timeline.timestamps.push(w * TIMELINE_WINDOW_SECONDS);
        timeline.cpu_usage_over_time.push(mean(&loads[i..j]));
        timeline
            .max_cpu_over_time
            .push(loads[i..j].iter().cloned().fold(0.0, f64::max));
        i = j;
    }
    let metrics = Metrics {
        avg_cpu_percent: mean(&loads),
        peak_cpu_percent: sorted.last().copied().unwrap_or(0.0),
        p50_cpu_percent: quantile_sorted(&sorted, 0.50),
        p95_cpu_percent: quantile_sorted(&sorted, 0.95),
        p99_cpu_percent: quantile_sorted(&sorted, 0.99),
        avg_latency_samples: to_samples(mean(&raw.lateness_ns)),
        peak_latency_samples: to_samples(peak_lateness),
        avg_latency_ms: mean(&raw.lateness_ns) / 1e6,
        peak_latency_ms: peak_lateness / 1e6,
        memory_peak_bytes: raw.peak_rss_bytes,
        instance_bytes: raw.instance_bytes,
        buffer_bytes: raw.buffer_bytes,
        buffer_underruns: loads.iter().filter(|&&l| l > 100.0).count()
            + raw.host.as_ref().map_or(0, |h| h.xruns as usize),
        host_xruns: raw.host.as_ref().map(|h| h.xruns),
        callback_jitter_p99_us: raw.host.as_ref().map(|_| {
            let mut jitter: Vec<f64> = raw
                .callback_interval_ns
                .iter()
                .map(|i| (i - period_ns).abs() / 1e3)
                .collect();
            jitter.sort_unstable_by(f64::total_cmp);
            quantile_sorted(&jitter, 0.99)
        }),
        blocks_processed: n,
        blocks_planned: raw.blocks_planned,
        sample_rate_achieved: if elapsed > 0.0 {
            (n * config.frames) as f64 / (elapsed / 1e9)
        } else {
            0.0
        },
        behind_seconds: (last_end - scheduled_end).max(0.0) / 1e9,
        allocations_in_callback: raw.allocations,
        first_non_finite_seconds: raw.first_non_finite_seconds,
        non_finite_samples: raw.non_finite_samples,
    };
    (metrics, timeline)
}

/// The slow-down without flush-to-zero in the worst window (×).
pub fn denormal_slowdown(probe: &DenormalProbe) -> f64 {
    probe.window_unflushed_ns_per_block / probe.window_flushed_ns_per_block.max(1e-9)
}

/// Advice, each citing its numbers.
pub fn recommendations(metrics: &Metrics, config: &ProfileConfig, raw: &RawProfile) -> Vec<String> {
    let mut out = Vec::new();
    let sr = config.sample_rate;
    let at96 = 96000.0 / sr as f64;
    out.push(format!(
        "At {sr} Hz with {} frames the DSP uses {:.1} % of a core on average and {:.1} % in its worst block \
         (headroom {:.1} % on average, {:.1} % at worst). At 96000 Hz the same blocks would take about {:.1} % on average \
         and {:.1} % at worst.",
        config.frames,
        metrics.avg_cpu_percent,
        metrics.peak_cpu_percent,
        100.0 - metrics.avg_cpu_percent,
        100.0 - metrics.peak_cpu_percent,
        metrics.avg_cpu_percent * at96,
        metrics.peak_cpu_percent * at96,
    ));
    if metrics.buffer_underruns > 0 {
        out.push(format!(
            "{} of {} blocks missed their deadline (worst {:.0} % of the period); the run ended {:.2} s behind schedule. \
             Run `faustperf analyze` to find faster compiler options, or use a lower sample rate.",
            metrics.buffer_underruns, metrics.blocks_processed, metrics.peak_cpu_percent, metrics.behind_seconds
        ));
    } else if metrics.avg_cpu_percent > 50.0 {
        out.push(format!(
            "The average load of {:.1} % leaves little room for the rest of an audio host: run `faustperf analyze` to find faster options.",
            metrics.avg_cpu_percent
        ));
    }
    if let Some(probe) = &raw.denormals {
        let slowdown = denormal_slowdown(probe);
        if slowdown > 1.5 {
            out.push(format!(
                "Denormals: without flush-to-zero the decaying tail of an impulse ran {slowdown:.1}× slower \
                 {:.0} s after the impulse ({:.0} vs {:.0} ns per block). Make sure the host flushes denormals \
                 (FTZ/DAZ), or compile with -ftz 1 or -ftz 2.",
                probe.worst_window_start_seconds, probe.window_unflushed_ns_per_block, probe.window_flushed_ns_per_block
            ));
        } else {
            out.push(format!(
                "Denormals do not slow this DSP down: without flush-to-zero its decaying tail ran at {slowdown:.2}× at worst ({:.0} s of audio after an impulse).",
                probe.audio_seconds
            ));
        }
    }
    let safe: Vec<&BlockSizeProbe> = raw
        .block_sizes
        .iter()
        .filter(|p| p.max_load_percent <= 100.0)
        .collect();
    match (safe.first(), safe.last()) {
        (Some(smallest), Some(largest)) => out.push(format!(
            "Block sizes whose slowest block stayed within its period when run back to back: {}–{} frames. \
             The smallest, {} frames, gives {:.2} ms of latency at {sr} Hz (99th-percentile load {:.1} %).",
            smallest.frames,
            largest.frames,
            smallest.frames,
            smallest.frames as f64 / sr as f64 * 1e3,
            smallest.p99_load_percent
        )),
        _ if !raw.block_sizes.is_empty() => out.push(format!(
            "No block size from {} to {} frames kept its slowest block within its period at {sr} Hz.",
            raw.block_sizes[0].frames,
            raw.block_sizes[raw.block_sizes.len() - 1].frames
        )),
        _ => {}
    }
    if let Some(t) = metrics.first_non_finite_seconds {
        out.push(format!(
            "{}, the first {t:.3} s into the run: the DSP is unstable with this input or these controls (the output check calls such code `different`).",
            accuracy::non_finite_words(metrics.non_finite_samples)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blocks of 10 ms; summaries and advice read only the rate, the block size and the length.
    fn config() -> ProfileConfig {
        ProfileConfig {
            sample_rate: 48000,
            frames: 480,
            duration_seconds: 0.3,
            ..ProfileConfig::default()
        }
    }

    fn raw(compute_ms: &[f64]) -> RawProfile {
        // Period 10 ms; each block starts at its deadline unless the previous one ran late.
        let mut start = Vec::new();
        let mut end: f64 = 0.0;
        for (k, c) in compute_ms.iter().enumerate() {
            let s = (k as f64 * 10.0).max(end);
            start.push(s * 1e6);
            end = s + c;
        }
        RawProfile {
            blocks_planned: compute_ms.len(),
            compute_ns: compute_ms.iter().map(|c| c * 1e6).collect(),
            lateness_ns: start
                .iter()
                .zip(compute_ms)
                .enumerate()
                .map(|(k, (s, c))| s + c * 1e6 - k as f64 * 1e7)
                .collect(),
            start_ns: start,
            allocations: Some(0),
            instance_bytes: Some(100),
            buffer_bytes: 200,
            peak_rss_bytes: Some(300),
            denormals: Some(DenormalProbe {
                audio_seconds: 60.0,
                flushed_ns_per_block: 100.0,
                unflushed_ns_per_block: 900.0,
                worst_window_start_seconds: 12.0,
                window_flushed_ns_per_block: 100.0,
                window_unflushed_ns_per_block: 1500.0,
            }),
            ..RawProfile::default()
        }
    }

    #[test]
    fn light_load_meets_every_deadline() {
        let r = raw(&[1.0; 30]);
        let (m, t) = summarize(&r, &config());
        assert_eq!(m.buffer_underruns, 0);
        assert!((m.avg_cpu_percent - 10.0).abs() < 1e-9);
        assert!((m.sample_rate_achieved - 48000.0).abs() < 1e-6);
        assert!((m.avg_latency_samples - 48.0).abs() < 1e-6);
        assert_eq!(m.behind_seconds, 0.0);
        // 0.3 s in windows of 0.1 s.
        assert_eq!(t.timestamps.len(), 3);
        assert!(t
            .cpu_usage_over_time
            .iter()
            .all(|&l| (l - 10.0).abs() < 1e-9));
        let advice = recommendations(&m, &config(), &r);
        assert!(advice[0].contains("10.0 % of a core") && advice[0].contains("about 20.0 %"));
        assert!(advice.iter().any(|a| a.contains("15.0× slower")));
    }

    #[test]
    fn overload_counts_misses_and_lag() {
        let r = raw(&[15.0; 10]);
        let (m, _) = summarize(&r, &config());
        assert_eq!(m.buffer_underruns, 10);
        assert!((m.peak_cpu_percent - 150.0).abs() < 1e-9);
        // 10 blocks of 15 ms end at 150 ms instead of 100 ms.
        assert!((m.behind_seconds - 0.05).abs() < 1e-9);
        assert!((m.sample_rate_achieved - 4800.0 / 0.15).abs() < 1e-6);
        assert_eq!(Category::of(m.avg_cpu_percent), Category::Unusable);
        assert!(recommendations(&m, &config(), &r)
            .iter()
            .any(|a| a.contains("faustperf analyze")));
    }
}
