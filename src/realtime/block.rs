//! What both ways of running in real time (paced, or in an audio callback) do around the
//! blocks: the input signal, the controls, the clock and the live report.

use super::signal::generate;
use super::{ControlMode, ControlUse, ProfileConfig};
use crate::dsp::{AudioBuffers, FaustError, Instance};
use crate::measure::rng::SplitMix64;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Most seconds of input held in memory; longer runs loop it.
const SIGNAL_SECONDS: f64 = 10.0;

/// What the real-time code publishes for the live report: blocks done and their summed compute
/// time.
#[derive(Default)]
pub(super) struct Live {
    pub(super) blocks: AtomicUsize,
    pub(super) compute_ns: AtomicU64,
}

impl Live {
    /// Called by the real-time code after each block: two relaxed atomic stores, no more.
    #[inline]
    pub(super) fn record(&self, compute_ns: u64) {
        self.compute_ns.fetch_add(compute_ns, Ordering::Relaxed);
        self.blocks.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the totals at once (for code that keeps its own records, like the audio callback).
    pub(super) fn publish(&self, blocks: usize, compute_ns: u64) {
        self.compute_ns.store(compute_ns, Ordering::Relaxed);
        self.blocks.store(blocks, Ordering::Relaxed);
    }
}

/// Buffers holding the input signal for `planned` blocks (at most `SIGNAL_SECONDS`; the run
/// loops over them).
pub(super) fn signal_buffers(
    instance: &Instance,
    config: &ProfileConfig,
    planned: usize,
) -> Result<AudioBuffers, FaustError> {
    let frames = config.frames;
    let signal_blocks = planned
        .min(((SIGNAL_SECONDS * config.sample_rate as f64 / frames as f64).ceil() as usize).max(1));
    let len = signal_blocks * frames;
    let signal = generate(
        &config.signal,
        instance.inputs(),
        len,
        config.sample_rate,
        config.seed,
    )
    .map_err(|e| FaustError::invalid_input(e.to_string()))?;
    Ok(AudioBuffers::for_instance(
        instance,
        frames,
        signal_blocks,
        |c, i| signal[c][i % len],
    ))
}

/// The controls as used: their ranges and what they were set to.
pub(super) fn control_uses(instance: &Instance, mode: ControlMode) -> Vec<ControlUse> {
    instance
        .controls()
        .iter()
        .map(|c| ControlUse {
            path: c.path.clone(),
            min: c.min,
            max: c.max,
            init: c.init,
            values: match mode {
                ControlMode::Fixed => format!("fixed at {}", c.init),
                ControlMode::Random => format!("random in [{}, {}] every block", c.min, c.max),
                ControlMode::Sweep => format!("swept from {} to {} over the run", c.min, c.max),
            },
        })
        .collect()
}

pub(super) fn set_controls(
    instance: &mut Instance,
    controls: &[ControlUse],
    mode: ControlMode,
    block: usize,
    planned: usize,
    rng: &mut SplitMix64,
) {
    for (i, c) in controls.iter().enumerate() {
        match mode {
            ControlMode::Fixed => {}
            ControlMode::Random => {
                instance.set_control(i, c.min + (c.max - c.min) * rng.next_f64())
            }
            ControlMode::Sweep => {
                let t = block as f64 / planned.max(2).saturating_sub(1) as f64;
                instance.set_control(i, c.min + (c.max - c.min) * t)
            }
        }
    }
}

/// The monotonic clock, ns.
pub(super) fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// The process's peak resident memory (getrusage), bytes.
pub(super) fn peak_rss_bytes() -> Option<u64> {
    // SAFETY: rusage is plain data (zeroed is valid) and getrusage writes the struct we pass.
    unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        (libc::getrusage(libc::RUSAGE_SELF, &mut usage) == 0).then(|| usage.ru_maxrss as u64 * 1024)
    }
}
