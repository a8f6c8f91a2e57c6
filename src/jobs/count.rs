//! Count the instructions of compiled code under valgrind.

use crate::backends::Code;
use crate::callgrind::{self, CountConfig, Counts};
use crate::dsp::FaustError;
use crate::options::OptionSet;
use crate::worker::{Job, Limit, Phase};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Count the instructions per frame of code compiled for [`crate::libfaust::Target::Portable`]
/// (see [`callgrind::count`]). Notes the index of each set when it is done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountJob {
    pub codes: Vec<(Code, OptionSet)>,
    pub config: CountConfig,
}

impl Job for CountJob {
    const NAME: &'static str = "count";
    const PHASE: Phase = Phase::Count;
    /// Every set's counts, or why that set failed, in the order of the job.
    type Reply = Vec<Result<Counts, FaustError>>;
    type Note = usize;

    /// valgrind starts in a few seconds and runs a set's blocks in a few more; a set that
    /// takes minutes is hung.
    fn limit(&self) -> Limit {
        Limit::Silence(Duration::from_secs(300))
    }

    fn run(&self, note: &(dyn Fn(usize) + Sync)) -> Result<Self::Reply, FaustError> {
        Ok(callgrind::count(&self.codes, &self.config, note))
    }
}
