//! Render compiled code's output and compare it with a reference's (see [`crate::accuracy`]).

use crate::accuracy::{self, Difference};
use crate::backends::Code;
use crate::dsp::{AudioBuffers, FaustError};
use crate::measure::rng::SplitMix64;
use crate::measure::{thread, MeasureConfig};
use crate::options::OptionSet;
use crate::worker::{Job, Limit, Phase};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Render `code` and each of `references` on the same input and return how the first differs
/// from each of them, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputJob {
    pub references: Vec<(Code, OptionSet)>,
    pub code: (Code, OptionSet),
    pub render: Render,
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

impl Job for OutputJob {
    const NAME: &'static str = "output";
    const PHASE: Phase = Phase::Output;
    type Reply = Vec<Difference>;
    type Note = ();

    /// A second of audio takes a small part of a second for all but the heaviest programs.
    fn limit(&self) -> Limit {
        Limit::Whole(Duration::from_secs(120))
    }

    fn run(&self, _note: &(dyn Fn(()) + Sync)) -> Result<Vec<Difference>, FaustError> {
        let (_, saved) = thread::prepare(None, self.render.flush_denormals, false);
        let rendered = self.render(&self.code).and_then(|output| {
            (self.references.iter())
                .map(|reference| {
                    let reference = self.render(reference)?;
                    if output.len() != reference.len() {
                        return Err(FaustError::internal(format!(
                            "{} output channels against the reference's {}",
                            output.len(),
                            reference.len()
                        )));
                    }
                    Ok(accuracy::difference(&reference, &output))
                })
                .collect()
        });
        thread::restore_fp_mode(saved);
        rendered
    }
}

impl OutputJob {
    /// [`accuracy::SECONDS`] of the output of a fresh instance of `code`, every channel, on
    /// seeded noise rounded to single precision (so that every set reads the same input).
    fn render(&self, (code, options): &(Code, OptionSet)) -> Result<Vec<Vec<f64>>, FaustError> {
        let Render {
            frames,
            sample_rate,
            seed,
            ..
        } = self.render;
        let factory = code.load(options)?;
        let mut instance = factory.instance(sample_rate)?;
        let blocks = (accuracy::SECONDS * f64::from(sample_rate) / frames as f64).ceil() as usize;
        // One generator per channel: buffers of doubles hold fewer samples of room beyond the
        // audio than buffers of floats, so one shared generator would give their second
        // channel other samples.
        let mut rngs: Vec<SplitMix64> = (0..instance.inputs() as u64)
            .map(|c| SplitMix64::new(seed ^ c.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
            .collect();
        let mut buffers = AudioBuffers::for_instance(&instance, frames, blocks, |c, _| {
            f64::from(rngs[c].noise() as f32)
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
