//! Render compiled code's output from a fresh instance: for the output check
//! ([`super::OutputJob`]) and to hand it back (impulse and sine responses, baselines' excerpts).

use crate::accuracy;
use crate::backends::Code;
use crate::dsp::{AudioBuffers, FaustError};
use crate::measure::rng::SplitMix64;
use crate::measure::{thread, MeasureConfig};
use crate::options::OptionSet;
use crate::worker::{Job, Limit, Phase};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Render `code` once per input and return every output channel of each, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RenderJob {
    pub code: (Code, OptionSet),
    pub render: Render,
    pub inputs: Vec<Input>,
}

/// How outputs are rendered: as the sets were measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Render {
    pub frames: usize,
    pub sample_rate: u32,
    /// Seed of the input noise.
    pub seed: u64,
    /// Flush denormals to zero while rendering, as while measuring.
    pub flush_denormals: bool,
}

/// What a rendering feeds the program's inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Input {
    /// The seeded noise, one generator per channel, rounded to single precision (so that
    /// every set reads the same samples).
    Noise,
    /// 1 at the first frame of input `channel`; silence elsewhere and on the other inputs.
    Impulse { channel: usize },
    /// A sine of `hz` at [`accuracy::SINE_AMPLITUDE`] on every input.
    Sine { hz: f64 },
}

impl From<&MeasureConfig> for Render {
    /// At the measurement's block size, rate, seed and denormal mode.
    fn from(m: &MeasureConfig) -> Render {
        Render {
            frames: m.frames,
            sample_rate: m.sample_rate,
            seed: m.seed,
            flush_denormals: m.flush_denormals,
        }
    }
}

/// A second of audio takes a small part of a second for all but the heaviest programs.
pub(super) const LIMIT: Limit = Limit::Whole(Duration::from_secs(120));

impl Job for RenderJob {
    const NAME: &'static str = "render";
    const PHASE: Phase = Phase::Output;
    type Reply = Vec<Vec<Vec<f64>>>;
    type Note = ();

    fn limit(&self) -> Limit {
        LIMIT
    }

    fn run(&self, _note: &(dyn Fn(()) + Sync)) -> Result<Vec<Vec<Vec<f64>>>, FaustError> {
        self.render.with_fp_mode(|| {
            (self.inputs.iter())
                .map(|&input| self.render.output(&self.code, input))
                .collect()
        })
    }
}

impl Render {
    /// `render()` with the thread's floating-point mode as while measuring.
    pub(super) fn with_fp_mode<T>(&self, render: impl FnOnce() -> T) -> T {
        let (_, saved) = thread::prepare(None, false, false);
        // Either way: a worker's thread may have been left flushing by an earlier job.
        thread::flush_denormals(self.flush_denormals);
        let rendered = render();
        thread::restore_fp_mode(saved);
        rendered
    }

    /// [`accuracy::SECONDS`] of the output of a fresh instance of `code` fed `input`, every
    /// channel.
    pub(super) fn output(
        &self,
        (code, options): &(Code, OptionSet),
        input: Input,
    ) -> Result<Vec<Vec<f64>>, FaustError> {
        let (frames, sample_rate) = (self.frames, self.sample_rate);
        let factory = code.load(options)?;
        let mut instance = factory.instance(sample_rate)?;
        let blocks = (accuracy::SECONDS * f64::from(sample_rate) / frames as f64).ceil() as usize;
        // One generator per channel: buffers of doubles hold fewer samples of room beyond the
        // audio than buffers of floats, so one shared generator would give their second
        // channel other samples.
        let mut rngs: Vec<SplitMix64> = (0..instance.inputs() as u64)
            .map(|c| SplitMix64::new(self.seed ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        let step = std::f64::consts::TAU / f64::from(sample_rate);
        let mut buffers = AudioBuffers::for_instance(&instance, frames, blocks, |c, i| {
            match input {
                Input::Noise => f64::from(rngs[c].noise() as f32),
                Input::Impulse { channel } => f64::from(c == channel && i == 0),
                Input::Sine { hz } => accuracy::SINE_AMPLITUDE * (step * hz * i as f64).sin(),
            }
        });
        let outputs = instance.outputs();
        let mut bound = instance.bind(&mut buffers)?;
        for block in 0..blocks {
            bound.compute(block);
        }
        Ok((0..outputs)
            .map(|c| buffers.output_channel(c))
            .collect())
    }
}
