//! Compile a program with one option set, on its backend.

use crate::backends::{self, Code, Cxx};
use crate::libfaust::{DspSource, Target};
use crate::dsp::FaustError;
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
    /// The C++ compiler, for sets of the `cpp` backend.
    pub cxx: Option<Cxx>,
    /// The CPU LLVM code is made for (the host's, unless it is code to count).
    #[serde(default)]
    pub target: Target,
}

/// What compiling produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompileInfo {
    /// Wall time of the compile, seconds (for `cpp`, libfaust's and the C++ compiler's).
    pub seconds: f64,
    /// libfaust's normalised option string (it omits `-fm` and `-ct`; LLVM only).
    pub normalized_options: String,
    /// libfaust's SHA-1 key of code and options (LLVM only).
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
    /// Threads the code may run on (OpenMP's, with `-omp` on `cpp`; else 1).
    pub threads: usize,
}

/// Compiled code and what is known about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compiled {
    pub info: CompileInfo,
    pub code: Code,
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
        let (compilation, stdlib_imported) =
            backends::compile(&self.source, &self.options, self.cxx.as_ref(), self.target)?;
        let seconds = start.elapsed().as_secs_f64();
        let factory = &compilation.factory;
        let instance = factory.instance(self.sample_rate)?;
        let info = CompileInfo {
            seconds,
            code_digest: compilation.code.digest(),
            normalized_options: compilation.normalized_options,
            sha_key: compilation.sha_key,
            stdlib_imported,
            warnings: compilation.warnings,
            inputs: instance.inputs(),
            outputs: instance.outputs(),
            precision: factory.precision(),
            memory_bytes: instance.memory_bytes(),
            controls: instance.controls().len(),
            threads: factory.threads(),
        };
        Ok(Compiled {
            info,
            code: compilation.code,
        })
    }
}
