//! Paced by faustperf: compute() once per block period, sleeping to absolute deadlines; then
//! two short probes (denormals, block sizes) at full speed.

use super::alloc;
use super::block::{control_uses, monotonic_ns, set_controls, signal_buffers, Live};
use super::{BlockSizeProbe, DenormalProbe, ProfileConfig, RawProfile};
use crate::dsp::{AudioBuffers, DspFactory, FaustError};
use crate::measure::rng::SplitMix64;
use crate::measure::stats::{mean, BlockTimes};
use crate::measure::thread;
use crate::measure::units::cpu_percent;
use std::time::{Duration, Instant};

/// A run that falls behind stops after this many times its planned duration (plus 10 s).
const OVERRUN_FACTOR: f64 = 3.0;
/// Seconds of audio in the denormal probe: long enough for a reverb tail to decay into denormals.
const DENORMAL_PROBE_SECONDS: f64 = 60.0;
/// Most wall time of the flushed half of the denormal probe.
const PROBE_WALL_CAP: Duration = Duration::from_secs(2);
/// Block sizes tried by the block-size probe, and seconds of timed blocks for each.
const PROBED_BLOCK_SIZES: [usize; 7] = [32, 64, 128, 256, 512, 1024, 2048];
const PROBE_SECONDS: f64 = 0.05;

pub(super) fn paced(
    factory: &dyn DspFactory,
    config: &ProfileConfig,
    live: &Live,
) -> Result<RawProfile, FaustError> {
    let mut instance = factory.instance(config.sample_rate)?;
    let (frames, sr) = (config.frames, config.sample_rate as f64);
    let period_ns = frames as f64 / sr * 1e9;
    let planned = ((config.duration_seconds * sr / frames as f64).ceil() as usize).max(1);
    let mut buffers = signal_buffers(&instance, config, planned)?;
    let signal_blocks = buffers.blocks();
    let controls = control_uses(&instance, config.controls);
    let mut rng = SplitMix64::new(config.seed ^ 0xC0_47_20_15);
    let mut compute_ns = Vec::with_capacity(planned);
    let mut lateness_ns = Vec::with_capacity(planned);
    let mut start_ns = Vec::with_capacity(planned);
    let counting = alloc::installed();
    let allocations_before = alloc::armed_allocations();
    let give_up = Duration::from_secs_f64(config.duration_seconds * OVERRUN_FACTOR + 10.0);

    let origin = monotonic_ns() + 10_000_000;
    let wall = Instant::now();
    {
        let mut bound = instance.bind(&mut buffers)?;
        for k in 0..planned {
            let deadline = origin + (k as f64 * period_ns) as u64;
            sleep_until(deadline);
            let armed = alloc::arm();
            set_controls(
                bound.instance(),
                &controls,
                config.controls,
                k,
                planned,
                &mut rng,
            );
            let t0 = monotonic_ns();
            bound.compute(k);
            let t1 = monotonic_ns();
            drop(armed);
            live.record(t1 - t0);
            compute_ns.push((t1 - t0) as f64);
            lateness_ns.push(t1 as f64 - deadline as f64);
            start_ns.push(t0.saturating_sub(origin) as f64);
            if wall.elapsed() > give_up {
                break;
            }
        }
    }
    // Which blocks held a NaN or infinity, checked after the run (outside timing).
    let non_finite: Vec<usize> = (0..compute_ns.len().min(signal_blocks))
        .map(|k| buffers.non_finite_in_block(k))
        .collect();
    let first_non_finite = (non_finite.iter())
        .position(|&n| n > 0)
        .map(|k| k as f64 * period_ns / 1e9);
    let wall_seconds = wall.elapsed().as_secs_f64() - 0.01;
    Ok(RawProfile {
        blocks_planned: planned,
        compute_ns,
        lateness_ns,
        start_ns,
        wall_seconds: wall_seconds.max(0.0),
        first_non_finite_seconds: first_non_finite,
        non_finite_samples: non_finite.iter().sum::<usize>() as u64,
        allocations: counting.then(|| alloc::armed_allocations() - allocations_before),
        instance_bytes: instance.memory_bytes(),
        buffer_bytes: buffers.bytes(),
        controls,
        ..RawProfile::default()
    })
}

/// Compute time of an impulse followed by silence, with denormals flushed and not: decaying
/// feedback ends in denormal numbers, which many CPUs process far slower.
pub(super) fn denormal_probe(
    factory: &dyn DspFactory,
    config: &ProfileConfig,
) -> Result<Option<DenormalProbe>, FaustError> {
    let frames = config.frames;
    let blocks = ((DENORMAL_PROBE_SECONDS * config.sample_rate as f64 / frames as f64).ceil()
        as usize)
        .max(2);
    // Runs up to `blocks` blocks (stopping after `cap`) and returns the per-block times.
    let time =
        |flush: bool, blocks: usize, cap: Duration| -> Result<Option<Vec<f64>>, FaustError> {
            if !thread::flush_denormals(flush) {
                return Ok(None);
            }
            let mut instance = factory.instance(config.sample_rate)?;
            let mut buffers = AudioBuffers::for_instance(&instance, frames, blocks, |_, i| {
                if i == 0 {
                    1.0
                } else {
                    0.0
                }
            });
            let mut bound = instance.bind(&mut buffers)?;
            let mut per_block = Vec::with_capacity(blocks);
            let start = Instant::now();
            for k in 0..blocks {
                let t0 = monotonic_ns();
                bound.compute(k);
                per_block.push((monotonic_ns() - t0) as f64);
                if start.elapsed() > cap {
                    break;
                }
            }
            Ok(Some(per_block))
        };
    let Some(flushed) = time(true, blocks, PROBE_WALL_CAP)? else {
        return Ok(None);
    };
    // The same number of blocks without flushing, however long denormals make it.
    let Some(unflushed) = time(false, flushed.len(), 4 * PROBE_WALL_CAP)? else {
        return Ok(None);
    };
    let n = flushed.len().min(unflushed.len());
    let (flushed, unflushed) = (&flushed[..n], &unflushed[..n]);
    // Denormals last only while the tail decays through their range (then values reach zero),
    // so the slow-down is taken over the 1-second window where it is largest.
    let window = ((config.sample_rate as f64 / frames as f64).ceil() as usize).max(1);
    let worst = (0..n)
        .step_by(window)
        .map(|start| {
            let end = (start + window).min(n);
            (
                start,
                mean(&flushed[start..end]),
                mean(&unflushed[start..end]),
            )
        })
        .max_by(|a, b| (a.2 / a.1.max(1e-9)).total_cmp(&(b.2 / b.1.max(1e-9))));
    let seconds = |blocks: usize| blocks as f64 * frames as f64 / config.sample_rate as f64;
    Ok(worst.map(|(start, on, off)| DenormalProbe {
        audio_seconds: seconds(n),
        flushed_ns_per_block: mean(flushed),
        unflushed_ns_per_block: mean(unflushed),
        worst_window_start_seconds: seconds(start),
        window_flushed_ns_per_block: on,
        window_unflushed_ns_per_block: off,
    }))
}

/// The 99th-percentile load of blocks of several sizes, timed back to back with noise input.
pub(super) fn block_size_probe(
    factory: &dyn DspFactory,
    config: &ProfileConfig,
) -> Result<Vec<BlockSizeProbe>, FaustError> {
    thread::flush_denormals(config.flush_denormals);
    let mut probes = Vec::new();
    for &frames in &PROBED_BLOCK_SIZES {
        let mut instance = factory.instance(config.sample_rate)?;
        let mut rng = SplitMix64::new(config.seed);
        let mut buffers = AudioBuffers::for_instance(&instance, frames, 64, |_, _| rng.noise());
        let mut bound = instance.bind(&mut buffers)?;
        let mut times = Vec::new();
        let start = Instant::now();
        let mut k = 0;
        while times.len() < 20 || start.elapsed().as_secs_f64() < PROBE_SECONDS {
            let t0 = monotonic_ns();
            bound.compute(k);
            times.push((monotonic_ns() - t0) as f64);
            k += 1;
        }
        let times = BlockTimes::new(times, 1).map_err(|e| FaustError::internal(e.to_string()))?;
        let load = |ns: f64| cpu_percent(ns, frames, config.sample_rate);
        probes.push(BlockSizeProbe {
            frames,
            p99_load_percent: load(times.quantile(0.99)),
            max_load_percent: load(times.quantile(1.0)),
        });
    }
    Ok(probes)
}

/// Sleeps until the monotonic clock reads `deadline_ns` (at once if it is past).
fn sleep_until(deadline_ns: u64) {
    let ts = libc::timespec {
        tv_sec: (deadline_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (deadline_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: an absolute sleep on CLOCK_MONOTONIC with a valid timespec; interruptions (EINTR)
    // are retried.
    while unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        )
    } == libc::EINTR
    {}
}
