//! `analyze --inspect`: the generated code of every measured LLVM set, read as `inspect` reads
//! it, beside its measurement.

use super::result::AnalyzeReport;
use crate::inspect::{inspect, InspectRequest};
use crate::libfaust::DspSource;
use crate::options::{display, Backend};
use crate::pipeline::Workers;

/// `analyze --inspect`: inspects every measured option set of `report` and puts each
/// inspection beside its measurement; sets that cannot be inspected become warnings.
pub fn add_inspections(
    report: &mut AnalyzeReport,
    source: &DspSource,
    sample_rate: u32,
    workers: &mut Workers,
) {
    let request = InspectRequest {
        source: source.clone(),
        name: report.dsp.clone(),
        // The IR read is LLVM's: other backends' results are left without an inspection.
        option_sets: (report.results.iter())
            .filter(|r| r.backend == Backend::Llvm)
            .map(|r| r.options.clone())
            .collect(),
        sample_rate,
        counters: false,
    };
    let inspected = inspect(&request, workers);
    for inspection in inspected.sets {
        if let Some(r) = report.results.iter_mut().find(|r| {
            r.backend == Backend::Llvm && r.compiler_options == inspection.compiler_options
        }) {
            r.inspection = Some(inspection);
        }
    }
    report.warnings.extend(inspected.errors.iter().map(|e| {
        format!(
            "{} could not be inspected: {}",
            display(&e.compiler_options),
            e.message
        )
    }));
}
