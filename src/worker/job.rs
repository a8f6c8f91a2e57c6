//! The two units of work: compile a program with one option set; measure compiled code.

use crate::inspect::SetInspection;
use crate::libfaust::{code_digest, stdlib, DspSource, Factory, FaustError, Precision};
use crate::measure::{self, MeasureConfig, RawMeasurement, Stretch};
use crate::profile::{self, ProfileConfig, RawProfile};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Compile `source` with `options`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompileJob {
    pub source: DspSource,
    /// Compiler options, one argument per element, already validated.
    pub options: Vec<String>,
    /// Sample rate of the instance made to read channels, controls and memory.
    pub sample_rate: u32,
}

/// Measure code compiled by [`CompileJob`]s, the sets interleaved (see
/// [`measure::measure_interleaved`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureJob {
    /// Machine code ([`Compiled::machine_code`]) and compile options of each set.
    pub codes: Vec<(String, Vec<String>)>,
    pub measure: MeasureConfig,
}

/// Profile code compiled by a [`CompileJob`] in real time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileJob {
    pub machine_code: String,
    /// The options it was compiled with.
    pub options: Vec<String>,
    pub profile: ProfileConfig,
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

/// Compiles `source`; code that failed only for want of `import("stdfaust.lib");` is
/// compiled again with it (see [`stdlib::with_stdlib`]), and the flag says so.
fn compile_factory(source: &DspSource, options: &[String]) -> Result<(Factory, bool), FaustError> {
    match Factory::compile(source, options) {
        Ok(factory) => Ok((factory, false)),
        Err(error) => match stdlib::with_stdlib(source, &error) {
            Some(with) => Factory::compile(&with, options).map(|f| (f, true)),
            None => Err(error),
        },
    }
}

pub(crate) fn compile(job: &CompileJob) -> Result<Compiled, FaustError> {
    let start = Instant::now();
    let (factory, stdlib_imported) = compile_factory(&job.source, &job.options)?;
    let seconds = start.elapsed().as_secs_f64();
    let instance = factory.instance(job.sample_rate)?;
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

/// Compiles like [`compile`], then reads the generated LLVM IR (see [`crate::inspect`]).
pub(crate) fn inspect(job: &CompileJob) -> Result<SetInspection, FaustError> {
    let (factory, _) = compile_factory(&job.source, &job.options)?;
    let instance = factory.instance(job.sample_rate)?;
    crate::inspect::inspect_ir(
        &job.options,
        &factory.compile_options(),
        &factory.llvm_ir(),
        instance.memory_bytes(),
    )
}

/// Measures every set whose code loads; a set whose code does not load fails alone.
pub(crate) fn measure(
    job: &MeasureJob,
    on_stretch: &mut (dyn FnMut(Stretch) + Send),
) -> Result<Vec<Result<RawMeasurement, FaustError>>, FaustError> {
    let loaded: Vec<Result<Factory, FaustError>> = job
        .codes
        .iter()
        .map(|(code, options)| Factory::from_machine_code(code, options))
        .collect();
    let factories: Vec<Factory> = loaded
        .iter()
        .filter_map(|f| f.as_ref().ok())
        .cloned()
        .collect();
    let which: Vec<usize> = (0..loaded.len()).filter(|&i| loaded[i].is_ok()).collect();
    let mut measured =
        measure::measure_interleaved(&factories, &job.measure, &mut |s: Stretch| {
            on_stretch(Stretch {
                set: which[s.set],
                ..s
            })
        })?
        .into_iter();
    Ok(loaded
        .into_iter()
        .map(|f| match f {
            Ok(_) => measured
                .next()
                .unwrap_or_else(|| Err(FaustError::invalid_input("the measurement lost a set"))),
            Err(e) => Err(e),
        })
        .collect())
}

pub(crate) fn profile(
    job: &ProfileJob,
    on_live: &(dyn Fn(f64, f64) + Sync),
) -> Result<RawProfile, FaustError> {
    let factory = Factory::from_machine_code(&job.machine_code, &job.options)?;
    profile::profile(&factory, &job.profile, on_live)
}
