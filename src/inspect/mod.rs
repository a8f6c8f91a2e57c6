//! `inspect`: why a DSP is as fast as it is. Each option set is compiled and its LLVM IR read
//! (see [`crate::ir`]) on the compile lanes, in worker processes with the isolated backend, so a
//! DSP that crashes or hangs libfaust costs only its option set.

use crate::callgrind::{CountConditions, CountConfig};
use crate::dsp::FaustError;
use crate::ir::{percent_of, round, MeasuredWork, SetInspection, READER_LLVM};
use crate::jobs::{CompileJob, InspectJob};
use crate::libfaust::{DspSource, Target, Toolchain};
use crate::measure::units::human_bytes;
use crate::options::{parse_option_set, OptionSet};
use crate::pipeline::SetError;
use crate::pipeline::{count_all, on_lanes, Workers};
use crate::worker::{Phase, RunError};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What `faustperf inspect` found in the code libfaust generated for one DSP.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InspectReport {
    /// True when at least one option set was inspected.
    pub success: bool,
    /// The file inspected, or the name given to inline code.
    pub dsp: String,
    /// libfaust and its target.
    #[serde(flatten)]
    pub toolchain: Toolchain,
    /// The LLVM that faustperf reads the IR with (inkwell, linked to the system's libLLVM).
    pub ir_reader_llvm: String,
    /// One inspection per option set that compiled, in the order given.
    pub sets: Vec<SetInspection>,
    /// Option sets that could not be compiled or inspected.
    pub errors: Vec<SetError>,
    /// What makes the figures less trustworthy (e.g. of counting).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// With `--counters`: what the instruction counts depend on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_conditions: Option<CountConditions>,
    /// Wall time of the whole inspection, seconds.
    pub wall_seconds: f64,
}

/// What to inspect.
#[derive(Debug, Clone)]
pub struct InspectRequest {
    pub source: DspSource,
    /// How the DSP is named in reports.
    pub name: String,
    /// The option sets to compile and inspect, in the order reported.
    pub option_sets: Vec<OptionSet>,
    /// Sample rate of the instance made to measure `instance_heap_bytes`, Hz.
    pub sample_rate: u32,
    /// Also count each set's instructions per frame under callgrind, beside the IR's static
    /// estimate; the code inspected is then the code counted (for [`Target::Portable`]).
    pub counters: bool,
}

/// Frames per block when `inspect` counts instructions.
const COUNTED_FRAMES: usize = 512;

/// Sample rate of the instance `inspect` makes, unless asked otherwise, Hz.
pub const DEFAULT_INSPECT_SAMPLE_RATE: u32 = 48000;

impl InspectRequest {
    /// An inspection of `source`, named `name`, of scalar and `-vec` code, without counts.
    pub fn new(source: DspSource, name: impl Into<String>) -> InspectRequest {
        InspectRequest {
            source,
            name: name.into(),
            option_sets: vec![
                OptionSet::scalar(),
                parse_option_set("-vec").expect("-vec is an accepted option"),
            ],
            sample_rate: DEFAULT_INSPECT_SAMPLE_RATE,
            counters: false,
        }
    }

    /// The CPU the code inspected is for: the host's, or with `counters` the one counted on.
    fn target(&self) -> Target {
        if self.counters {
            Target::Portable
        } else {
            Target::Host
        }
    }
}

/// Compiles every option set on `workers`' compile lanes (in parallel, one per lane) and reads
/// its IR; with `counters`, counts what each runs. Never fails as a whole: sets that fail are in
/// `errors`.
pub fn inspect(request: &InspectRequest, workers: &mut Workers) -> InspectReport {
    let started = Instant::now();
    let sets = &request.option_sets;
    let indices: Vec<usize> = (0..sets.len()).collect();
    let results = on_lanes(
        &mut workers.compilers,
        &indices,
        |lane, i| {
            let job = CompileJob {
                cxx: None,
                target: request.target(),
                source: request.source.clone(),
                options: sets[i].clone(),
                sample_rate: request.sample_rate,
            };
            lane.run(&InspectJob(job), &mut |()| {})
        },
        &mut |_| {},
    );
    let mut report_sets = Vec::new();
    let mut errors = Vec::new();
    let mut inspected = Vec::new();
    for (i, result) in results {
        match result {
            Ok(inspection) => {
                report_sets.push(inspection);
                inspected.push(sets[i].clone());
            }
            Err(cause) => errors.push(SetError::new(&sets[i], cause)),
        }
    }
    let mut toolchain = Toolchain::here();
    let mut count_conditions = None;
    let mut warnings = Vec::new();
    if request.counters {
        match add_counts(
            &mut report_sets,
            &inspected,
            request,
            workers,
            &mut warnings,
        ) {
            Ok(conditions) => {
                toolchain.machine_target = conditions.target.clone();
                count_conditions = Some(conditions);
            }
            Err(e) => errors.extend(
                (sets.iter())
                    .map(|s| SetError::new(s, RunError::in_phase(Phase::Count)(e.clone()))),
            ),
        }
    }
    InspectReport {
        success: !report_sets.is_empty(),
        dsp: request.name.clone(),
        toolchain,
        count_conditions,
        ir_reader_llvm: format!("LLVM {READER_LLVM} (inkwell, libLLVM-{READER_LLVM}.so)"),
        sets: report_sets,
        errors,
        warnings,
        wall_seconds: started.elapsed().as_secs_f64(),
    }
}

/// `inspect --counters`: counts what each inspected set (`sets`, in the order of `inspected`)
/// runs and puts it beside the IR's estimate; a set that cannot be counted gets advice that
/// says why; the counting's warnings go to `warnings`. `Err` when nothing can be counted here.
fn add_counts(
    inspected: &mut [SetInspection],
    sets: &[OptionSet],
    request: &InspectRequest,
    workers: &mut Workers,
    warnings: &mut Vec<String>,
) -> Result<CountConditions, FaustError> {
    let config = CountConfig::new(COUNTED_FRAMES, request.sample_rate);
    let conditions = CountConditions::here(&config)?;
    let (counted, found) = count_all(workers, None, &request.source, sets, &config);
    warnings.extend(found);
    for (set, result) in inspected.iter_mut().zip(counted) {
        match result {
            Ok(counts) => {
                let estimate = set.work.per_frame.as_ref().map(|c| c.total);
                set.measured = Some(MeasuredWork {
                    measured_over_estimate: estimate
                        .filter(|e| *e > 0.0)
                        .map(|e| counts.generated_instructions_per_frame / e),
                    counts,
                });
            }
            Err(e) => set.advice.push(format!("instructions not counted: {e}")),
        }
    }
    Ok(conditions)
}

/// One line of the key facts of an inspection, for `analyze --inspect`'s table.
pub fn key_facts(i: &SetInspection) -> String {
    let m = &i.memory;
    let mut parts = vec![format!("state {}", human_bytes(m.struct_bytes))];
    if m.delay_lines > 0 {
        parts.push(format!(
            "{} delay line(s) {:.0} %",
            m.delay_lines,
            percent_of(m.delay_line_bytes, m.struct_bytes)
        ));
    }
    match &i.work.per_frame {
        Some(c) => parts.push(format!(
            "{} instructions/frame{}",
            round(c.total),
            if i.work.estimate { " (estimate)" } else { "" }
        )),
        None => parts.push("per-frame counts unknown".into()),
    }
    let calls: Vec<String> = i
        .math_calls
        .iter()
        .take(3)
        .map(|c| format!("{} {}", c.function, round(c.per_frame)))
        .collect();
    if !calls.is_empty() {
        parts.push(format!("calls/frame: {}", calls.join(", ")));
    }
    parts.push(format!(
        "vector {:.0} %",
        i.vectorization.vector_share_percent
    ));
    if i.recursion.recurrent_loops > 0 {
        parts.push(format!("{} feedback loop(s)", i.recursion.recurrent_loops));
    }
    parts.join("; ")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A report built from a hand-written IR, the same on every machine.
    pub(crate) fn sample_report() -> InspectReport {
        let set = crate::ir::tests::sample_set();
        InspectReport {
            success: true,
            dsp: "fixtures/example.dsp".into(),
            toolchain: crate::libfaust::Toolchain {
                libfaust_version: "2.54.9".into(),
                machine_target: "x86_64-pc-linux-gnu:generic".into(),
            },
            ir_reader_llvm: "LLVM 14 (inkwell, libLLVM-14.so)".into(),
            sets: vec![set],
            count_conditions: None,
            // `-vec -omp`, refused by the LLVM backend, as in the analysis sample.
            errors: crate::report::tests::sample_report().errors,
            warnings: vec![],
            wall_seconds: 0.5,
        }
    }

    #[test]
    fn advice_cites_the_numbers() {
        let set = &sample_report().sets[0];
        assert_eq!(set.memory.struct_bytes, 4104);
        assert!(set.memory.cross_check.contains("plus 8896 B"));
        let advises = |start| set.advice.iter().any(|a| a.starts_with(start));
        assert!(advises("1 call(s) to sinf per frame"));
        assert!(advises("1 division(s) per frame (of 18"));
        assert_eq!(set.vectorization.vector_share_percent, 0.0);
        assert_eq!(set.recursion.recurrent_loops, 1);
        assert_eq!(key_facts(set), "state 4.0 KiB; 1 delay line(s) 100 %; 18 instructions/frame; calls/frame: sinf 1; vector 0 %; 1 feedback loop(s)");
    }
}
