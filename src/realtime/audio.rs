//! Profiling inside a real audio callback, through cpal: JACK (a server with the dummy driver
//! paces callbacks in real time without a sound card) or the platform's default host.
//!
//! The callback owns the instance, its buffers and preallocated records; it never allocates,
//! locks or prints (the allocation counter checks the first), and records into atomics that
//! the profiling thread reads after the stream stops.

use super::alloc;
use super::block::{control_uses, monotonic_ns, set_controls, signal_buffers, Live};
use super::{AudioHost, HostStats, ProfileConfig, RawProfile};
use crate::dsp::{DspFactory, FaustError};
use crate::measure::rng::SplitMix64;
use crate::measure::thread;
use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Per-callback records, written by the callback only.
struct Records {
    start_ns: Vec<AtomicU64>,
    compute_ns: Vec<AtomicU64>,
    end_ns: Vec<AtomicU64>,
    count: AtomicUsize,
    xruns: AtomicU64,
    first_non_finite_block: AtomicU64,
    non_finite_samples: AtomicU64,
    wrong_size_callbacks: AtomicU64,
}

/// Runs the DSP in the host's output callback for the planned duration.
pub fn audio(
    factory: &dyn DspFactory,
    config: &ProfileConfig,
    host: AudioHost,
    live: &Live,
) -> Result<RawProfile, FaustError> {
    let (cpal_host, name) = match host {
        AudioHost::Jack => (
            cpal::host_from_id(cpal::HostId::Jack)
                .map_err(|e| FaustError::audio(format!("JACK: {e}")))?,
            "JACK",
        ),
        AudioHost::Default => (cpal::default_host(), "the default audio host"),
    };
    let device = cpal_host.default_output_device().ok_or_else(|| {
        FaustError::audio(match host {
            AudioHost::Jack => "no JACK server is running (or it cannot be reached). Start one, e.g. without a sound card: \
                                `jackd -d dummy -r 48000 -p 256` (Debian package jackd2), then run again",
            AudioHost::Default => "the default audio host has no output device (no sound card?); use --audio jack with a JACK \
                                   server, or the paced mode",
        })
    })?;
    let supported = device
        .default_output_config()
        .map_err(|e| FaustError::audio(format!("{name}: {e}")))?;
    let sample_rate = supported.sample_rate();
    if sample_rate != config.sample_rate {
        return Err(FaustError::audio(format!(
            "{name} runs at {sample_rate} Hz, not {} Hz: pass --sample-rate {sample_rate}",
            config.sample_rate
        )));
    }
    let frames = match supported.buffer_size() {
        cpal::SupportedBufferSize::Range { min, max } if min == max => *min as usize,
        _ => config.frames,
    };
    if frames != config.frames {
        return Err(FaustError::audio(format!(
            "{name} calls back with {frames} frames, not {}: pass --bs {frames}",
            config.frames
        )));
    }
    let channels = supported.channels() as usize;
    let mut stream_config = supported.config();
    stream_config.buffer_size = cpal::BufferSize::Fixed(frames as u32);

    let mut instance = factory.instance(config.sample_rate)?;
    let planned =
        ((config.duration_seconds * sample_rate as f64 / frames as f64).ceil() as usize).max(1);
    let mut buffers = signal_buffers(&instance, config, planned)?;
    let buffer_bytes = buffers.bytes();
    let controls = control_uses(&instance, config.controls);
    let records = Arc::new(Records {
        start_ns: (0..planned).map(|_| AtomicU64::new(0)).collect(),
        compute_ns: (0..planned).map(|_| AtomicU64::new(0)).collect(),
        end_ns: (0..planned).map(|_| AtomicU64::new(0)).collect(),
        count: AtomicUsize::new(0),
        xruns: AtomicU64::new(0),
        first_non_finite_block: AtomicU64::new(u64::MAX),
        non_finite_samples: AtomicU64::new(0),
        wrong_size_callbacks: AtomicU64::new(0),
    });
    let counting = alloc::installed();
    let allocations_before = alloc::armed_allocations();
    let instance_bytes = instance.memory_bytes();
    let origin = monotonic_ns();
    let (flush, mode, seed) = (config.flush_denormals, config.controls, config.seed);
    let callback_controls = controls.clone();
    let recorder = records.clone();
    let started = AtomicBool::new(false);
    let mut rng = SplitMix64::new(seed ^ 0xC0_47_20_15);
    let data_callback = move |data: &mut [f32], _: &cpal::OutputCallbackInfo| {
        let t0 = monotonic_ns();
        let _armed = alloc::arm();
        if !started.swap(true, Ordering::Relaxed) {
            thread::flush_denormals(flush);
        }
        let k = recorder.count.load(Ordering::Relaxed);
        if data.len() != frames * channels || k >= planned {
            if k < planned {
                recorder
                    .wrong_size_callbacks
                    .fetch_add(1, Ordering::Relaxed);
            }
            data.fill(0.0);
            return;
        }
        set_controls(
            &mut instance,
            &callback_controls,
            mode,
            k,
            planned,
            &mut rng,
        );
        let Ok(mut bound) = instance.bind(&mut buffers) else {
            data.fill(0.0);
            return;
        };
        let t1 = monotonic_ns();
        bound.compute(k);
        let t2 = monotonic_ns();
        buffers.write_interleaved(k, data, channels);
        let non_finite = buffers.non_finite_in_block(k) as u64;
        if non_finite > 0 {
            let _ = recorder
                .first_non_finite_block
                .fetch_min(k as u64, Ordering::Relaxed);
            recorder
                .non_finite_samples
                .fetch_add(non_finite, Ordering::Relaxed);
        }
        recorder.start_ns[k].store(t0 - origin, Ordering::Relaxed);
        recorder.compute_ns[k].store(t2 - t1, Ordering::Relaxed);
        recorder.end_ns[k].store(monotonic_ns() - origin, Ordering::Relaxed);
        recorder.count.store(k + 1, Ordering::Release);
    };
    let xruns = records.clone();
    let error_callback = move |e: cpal::Error| {
        if e.kind() == cpal::ErrorKind::Xrun {
            xruns.xruns.fetch_add(1, Ordering::Relaxed);
        }
    };
    let stream = device
        .build_output_stream::<f32, _, _>(
            stream_config,
            data_callback,
            error_callback,
            Some(Duration::from_secs(5)),
        )
        .map_err(|e| FaustError::audio(format!("{name}: cannot open an output stream: {e}")))?;
    stream
        .play()
        .map_err(|e| FaustError::audio(format!("{name}: cannot start the stream: {e}")))?;
    let period = frames as f64 / sample_rate as f64;
    let give_up = config.duration_seconds * 3.0 + 5.0;
    let start = std::time::Instant::now();
    let (mut published, mut compute_total) = (0, 0);
    while published < planned && start.elapsed().as_secs_f64() < give_up {
        std::thread::sleep(Duration::from_secs_f64(period.max(0.01)));
        let count = records.count.load(Ordering::Acquire);
        compute_total += records.compute_ns[published..count]
            .iter()
            .map(|x| x.load(Ordering::Relaxed))
            .sum::<u64>();
        published = count;
        live.publish(published, compute_total);
    }
    drop(stream);

    let n = records.count.load(Ordering::Acquire);
    // Times from the first callback: the host, not faustperf, decides when the run starts.
    let first = records
        .start_ns
        .first()
        .map_or(0, |x| x.load(Ordering::Relaxed)) as f64;
    let load = |v: &[AtomicU64]| -> Vec<f64> {
        v[..n]
            .iter()
            .map(|x| x.load(Ordering::Relaxed) as f64 - first)
            .collect()
    };
    let (start_ns, end_ns) = (load(&records.start_ns), load(&records.end_ns));
    let first_bad = records.first_non_finite_block.load(Ordering::Relaxed);
    Ok(RawProfile {
        blocks_planned: planned,
        lateness_ns: end_ns.iter().zip(&start_ns).map(|(e, s)| e - s).collect(),
        callback_interval_ns: start_ns.windows(2).map(|w| w[1] - w[0]).collect(),
        compute_ns: records.compute_ns[..n]
            .iter()
            .map(|x| x.load(Ordering::Relaxed) as f64)
            .collect(),
        start_ns,
        wall_seconds: start.elapsed().as_secs_f64(),
        first_non_finite_seconds: (first_bad != u64::MAX).then_some(first_bad as f64 * period),
        non_finite_samples: records.non_finite_samples.load(Ordering::Relaxed),
        allocations: counting.then(|| alloc::armed_allocations() - allocations_before),
        instance_bytes,
        buffer_bytes,
        controls,
        host: Some(HostStats {
            name: name.into(),
            xruns: records.xruns.load(Ordering::Relaxed),
            wrong_size_callbacks: records.wrong_size_callbacks.load(Ordering::Relaxed),
        }),
        ..RawProfile::default()
    })
}
