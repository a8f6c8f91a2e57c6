//! Compile a program with one option set and read the LLVM IR libfaust generated.

use super::compile::CompileJob;
use crate::ir::{inspect_ir, SetInspection};
use crate::libfaust::{stdlib, Factory};
use crate::dsp::{DspFactory, FaustError};
use crate::worker::{Job, Limit, Phase};
use serde::{Deserialize, Serialize};

/// Compile as [`CompileJob`] does, then read the IR (see [`crate::ir`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InspectJob(pub CompileJob);

impl Job for InspectJob {
    const NAME: &'static str = "inspect";
    const PHASE: Phase = Phase::Compile;
    type Reply = SetInspection;
    type Note = ();

    /// Reading the IR takes a fraction of the compile time: a quarter more covers it.
    fn limit(&self) -> Limit {
        Limit::CompileTimeout(1.25)
    }

    fn run(&self, _: &(dyn Fn(()) + Sync)) -> Result<SetInspection, FaustError> {
        let options = &self.0.options;
        let (factory, _) =
            stdlib::compile_or_with_stdlib(&self.0.source, |s| Factory::compile(s, options, self.0.target))?;
        let instance = factory.instance(self.0.sample_rate)?;
        inspect_ir(
            &self.0.options,
            &factory.compile_options(),
            &factory.llvm_ir(),
            instance.memory_bytes(),
        )
    }
}
