//! `analyze --counters`: each measured LLVM set's instructions per frame, counted under
//! callgrind (see [`crate::callgrind`]), beside its time, and where the two rankings disagree.

use super::result::{AnalyzeReport, Counting, SetResult};
use super::AnalyzeRequest;
use crate::cache::Cache;
use crate::callgrind::{CountConditions, CountConfig, Counts};
use crate::measure::hardware;
use crate::options::{Backend, OptionSet};
use crate::pipeline::{count_all, Workers};
use std::time::Instant;

/// Sets whose times or instruction counts differ by more than this are far apart, %: the
/// differences that decide a choice, well beyond the noise of times.
const FAR_APART_PERCENT: f64 = 10.0;

/// Counts every measured LLVM set of `report` and adds the counts to it; a set that cannot be
/// counted gets a warning, and the run goes on.
pub fn add_counts(
    report: &mut AnalyzeReport,
    request: &AnalyzeRequest,
    workers: &mut Workers,
    cache: Option<&Cache>,
) {
    let started = Instant::now();
    let config = CountConfig::new(request.measure.frames, request.measure.sample_rate);
    let conditions = match CountConditions::here(&config) {
        Ok(c) => c,
        Err(e) => {
            report.warnings.push(format!("no instruction counts: {e}"));
            return;
        }
    };
    let indices: Vec<usize> = (0..report.results.len())
        .filter(|&i| report.results[i].backend == Backend::Llvm)
        .collect();
    let sets: Vec<OptionSet> = (indices.iter())
        .map(|&i| report.results[i].options.clone())
        .collect();
    let (counted, warnings) = count_all(workers, cache, &request.source, &sets, &config);
    report.warnings.extend(warnings);
    for (&i, result) in indices.iter().zip(counted) {
        let r = &mut report.results[i];
        match result {
            Ok(counts) => r.counts = Some(counts),
            Err(e) => r.warnings.push(format!("instructions not counted: {e}")),
        }
    }
    let hardware_counters = match hardware::available() {
        Ok(()) => "read around each set's timed rounds (results[].hardware)".to_string(),
        Err(why) => format!("{why}; instructions were counted with callgrind instead"),
    };
    report.counting = Some(Counting {
        conditions,
        hardware_counters,
        notes: disagreements(&report.results),
        seconds: started.elapsed().as_secs_f64(),
    });
}

/// Where time and instructions rank a set differently from the fastest set counted (results
/// come fastest first), with the likely reason from what was counted.
fn disagreements(results: &[SetResult]) -> Vec<String> {
    let counted: Vec<(&SetResult, &Counts)> = (results.iter())
        .filter_map(|r| Some((r, r.counts.as_ref()?)))
        .collect();
    let Some(&(fastest, best)) = counted.first() else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for &(r, c) in &counted[1..] {
        let slower = 100.0 * (fastest.throughput_mbps / r.throughput_mbps - 1.0);
        let more = 100.0 * (c.instructions_per_frame / best.instructions_per_frame - 1.0);
        let far_in_time = slower > FAR_APART_PERCENT;
        let why = || {
            if c.l1_misses_per_frame > 1.2 * best.l1_misses_per_frame
                && c.l1_misses_per_frame - best.l1_misses_per_frame > 0.05
            {
                format!(
                    "it misses the first-level caches more ({:.2} vs {:.2} per frame): memory stalls, which an instruction count does not see, are a likely part of the difference",
                    c.l1_misses_per_frame, best.l1_misses_per_frame
                )
            } else {
                "its instructions cost more on average (vector width, dependent chains, divisions), which an instruction count, weighing them all alike, does not see".to_string()
            }
        };
        if far_in_time && more < FAR_APART_PERCENT {
            notes.push(format!(
                "{} is {slower:.0} % slower than {} but runs {} instructions per frame ({:.1} vs {:.1}): {}",
                r.name(),
                fastest.name(),
                if more.abs() < 1.0 {
                    "about as many".to_string()
                } else if more < 0.0 {
                    format!("{:.0} % fewer", -more)
                } else {
                    format!("only {more:.0} % more")
                },
                c.instructions_per_frame,
                best.instructions_per_frame,
                why()
            ));
        } else if !far_in_time && more.abs() > FAR_APART_PERCENT {
            notes.push(format!(
                "{} is within {FAR_APART_PERCENT} % of {} in time but runs {:.0} % {} instructions per frame ({:.1} vs {:.1}): the instructions differ in cost (vector instructions do more each)",
                r.name(),
                fastest.name(),
                more.abs(),
                if more < 0.0 { "fewer" } else { "more" },
                c.instructions_per_frame,
                best.instructions_per_frame
            ));
        }
    }
    notes
}
