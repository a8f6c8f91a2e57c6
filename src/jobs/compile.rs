//! Compile a program with one option set.

use crate::libfaust::{code_digest, stdlib, DspSource, Factory, FaustError};
use crate::options::{OptionSet, Precision};
use crate::worker::{Job, Limit, Phase};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Compile `source` with `options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompileJob {
    pub source: DspSource,
    pub options: OptionSet,
    /// Sample rate of the instance made to read channels, controls and memory.
    pub sample_rate: u32,
}

/// What compiling produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompileInfo {
    /// Wall time of the compile, seconds.
    pub seconds: f64,
    /// libfaust's normalised option string (it omits `-fm` and `-ct`).
    pub normalized_options: String,
    /// libfaust's SHA-1 key of code and options.
    pub sha_key: String,
    /// Digest of the generated code alone (see [`crate::libfaust::code_digest`]): equal
    /// digests mean the same code, whatever the options said.
    pub code_digest: String,
    /// Compiler warnings.
    pub warnings: Vec<String>,
    /// The code used the standard library without importing it: it was compiled with
    /// `import("stdfaust.lib");` put in front of its first line.
    pub stdlib_imported: bool,
    pub inputs: usize,
    pub outputs: usize,
    pub precision: Precision,
    /// Heap bytes one instance took when created and initialised (`None`: not measurable).
    pub memory_bytes: Option<u64>,
    /// Number of input controls.
    pub controls: usize,
}

/// Compiled code and what is known about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compiled {
    pub info: CompileInfo,
    /// libfaust's machine code for this CPU (`writeCDSPFactoryToMachine`).
    pub machine_code: String,
}

impl Job for CompileJob {
    const NAME: &'static str = "compile";
    const PHASE: Phase = Phase::Compile;
    type Reply = Compiled;
    type Note = ();

    fn limit(&self) -> Limit {
        Limit::CompileTimeout(1.0)
    }

    fn run(&self, _: &(dyn Fn(()) + Sync)) -> Result<Compiled, FaustError> {
        let start = Instant::now();
        let (factory, stdlib_imported) = self.factory()?;
        let seconds = start.elapsed().as_secs_f64();
        let instance = factory.instance(self.sample_rate)?;
        let machine_code = factory.machine_code();
        let info = CompileInfo {
            seconds,
            normalized_options: factory.compile_options(),
            sha_key: factory.sha_key(),
            code_digest: code_digest(&machine_code),
            stdlib_imported,
            warnings: factory.warnings(),
            inputs: instance.inputs(),
            outputs: instance.outputs(),
            precision: factory.precision(),
            memory_bytes: instance.memory_bytes(),
            controls: instance.controls().len(),
        };
        Ok(Compiled { info, machine_code })
    }
}

impl CompileJob {
    /// Compiles the source; code that failed only for want of `import("stdfaust.lib");` is
    /// compiled again with it (see [`stdlib::with_stdlib`]), and the flag says so.
    pub(crate) fn factory(&self) -> Result<(Factory, bool), FaustError> {
        match Factory::compile(&self.source, &self.options) {
            Ok(factory) => Ok((factory, false)),
            Err(error) => match stdlib::with_stdlib(&self.source, &error) {
                Some(with) => Factory::compile(&with, &self.options).map(|f| (f, true)),
                None => Err(error),
            },
        }
    }
}
