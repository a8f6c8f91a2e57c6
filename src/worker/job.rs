//! One unit of work: compile a program with one option set, then measure it.

use crate::libfaust::{DspSource, Factory, FaustError, Precision};
use crate::measure::{self, MeasureConfig, RawMeasurement};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Compile `source` with `options`, then measure it as `measure` says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub source: DspSource,
    /// Compiler options, one argument per element, already validated.
    pub options: Vec<String>,
    pub measure: MeasureConfig,
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
    /// Compiler warnings.
    pub warnings: Vec<String>,
    pub inputs: usize,
    pub outputs: usize,
    pub precision: Precision,
    /// Heap bytes one instance took when created and initialised (`None`: not measurable).
    pub memory_bytes: Option<u64>,
    /// Number of input controls.
    pub controls: usize,
}

pub(crate) fn compile(job: &Job) -> Result<(Factory, CompileInfo), FaustError> {
    let start = Instant::now();
    let factory = Factory::compile(&job.source, &job.options)?;
    let seconds = start.elapsed().as_secs_f64();
    let instance = factory.instance(job.measure.sample_rate)?;
    let info = CompileInfo {
        seconds,
        normalized_options: factory.compile_options(),
        sha_key: factory.sha_key(),
        warnings: factory.warnings(),
        inputs: instance.inputs(),
        outputs: instance.outputs(),
        precision: factory.precision(),
        memory_bytes: instance.memory_bytes(),
        controls: instance.controls().len(),
    };
    Ok((factory, info))
}

pub(crate) fn measure(factory: &Factory, job: &Job) -> Result<RawMeasurement, FaustError> {
    let mut instance = factory.instance(job.measure.sample_rate)?;
    measure::measure(&mut instance, &job.measure)
}
