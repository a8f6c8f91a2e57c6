//! Render compiled code's output and compare it with a reference's (see [`crate::accuracy`]).

use super::render::{Input, Render, LIMIT};
use crate::accuracy::{self, Difference};
use crate::backends::Code;
use crate::dsp::FaustError;
use crate::options::OptionSet;
use crate::worker::{Job, Limit, Phase};
use serde::{Deserialize, Serialize};

/// Render `code` and each of `references` on the seeded noise and return how the first
/// differs from each of them, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputJob {
    pub references: Vec<(Code, OptionSet)>,
    pub code: (Code, OptionSet),
    pub render: Render,
}

impl Job for OutputJob {
    const NAME: &'static str = "output";
    const PHASE: Phase = Phase::Output;
    type Reply = Vec<Difference>;
    type Note = ();

    fn limit(&self) -> Limit {
        LIMIT
    }

    fn run(&self, _note: &(dyn Fn(()) + Sync)) -> Result<Vec<Difference>, FaustError> {
        self.render.with_fp_mode(|| {
            let output = self.render.output(&self.code, Input::Noise)?;
            (self.references.iter())
                .map(|reference| {
                    let reference = self.render.output(reference, Input::Noise)?;
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
        })
    }
}
