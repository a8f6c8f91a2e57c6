//! What `baseline save` and `baseline check` measure: each DSP file with its option sets,
//! timed as `analyze` times them or counted under callgrind.

use super::{Entry, Excerpt, Figure, Metric};
use crate::analyze::{analyze, AnalyzeRequest, OptionSets, Silent};
use crate::cache::Cache;
use crate::callgrind::CountConfig;
use crate::jobs::{CompileJob, Input, Render, RenderJob};
use crate::libfaust::DspSource;
use crate::measure::warnings::{texts, Environment};
use crate::measure::{Conditions, MeasureConfig};
use crate::options::{display, parse_option_set, OptionSet};
use crate::pipeline::{compile_all, count_all, on_compile_lanes, Workers};
use std::path::PathBuf;

/// One DSP file and the option sets to measure it with.
#[derive(Debug, Clone)]
pub struct Target {
    pub dsp: PathBuf,
    pub sets: Vec<OptionSet>,
}

/// What to measure for a baseline, and how.
#[derive(Debug, Clone)]
pub struct BaselineRequest {
    pub targets: Vec<Target>,
    pub metric: Metric,
    /// Default: [`MeasureConfig::default`] (a check takes the baseline's buffer size and rate).
    pub measure: MeasureConfig,
}

/// What a baseline run found.
#[derive(Debug, Default)]
pub struct Measured {
    pub entries: Vec<Entry>,
    /// The conditions of the first DSP measured; `None` when nothing was.
    pub conditions: Option<Conditions>,
    /// What could not be measured, in words.
    pub errors: Vec<String>,
    /// What makes the figures less trustworthy (e.g. of counting), in words.
    pub warnings: Vec<String>,
}

impl BaselineRequest {
    /// Measures or counts every target; `progress` hears which DSP is being done.
    pub fn run(
        &self,
        workers: &mut Workers,
        cache: Option<&Cache>,
        progress: &mut dyn FnMut(&str),
    ) -> Measured {
        let mut out = Measured::default();
        let mut environment = Environment::default();
        for Target { dsp, sets } in &self.targets {
            if !dsp.is_file() {
                out.errors
                    .push(format!("{}: not a readable file", dsp.display()));
                continue;
            }
            let source = DspSource::File { path: dsp.clone() };
            let name = dsp.display().to_string();
            let first = out.entries.len();
            if self.metric == Metric::Instructions {
                progress(&format!("counting the instructions of {name}…"));
                self.count(&source, &name, sets, workers, cache, &mut out);
                let m = &self.measure;
                out.conditions
                    .get_or_insert_with(|| Conditions::here(m.frames, m.sample_rate));
            } else {
                progress(&format!("measuring {name}…"));
                let request = AnalyzeRequest {
                    option_sets: OptionSets::Custom(sets.clone()),
                    measure: self.measure.clone(),
                    tie_threshold_percent: 0.0,
                    ..AnalyzeRequest::new(source.clone(), name.clone())
                };
                let report = analyze(&request, workers, cache, &mut Silent);
                out.errors.extend(report.errors.iter().map(|e| {
                    format!(
                        "{} {}: {}",
                        report.dsp,
                        display(&e.compiler_options),
                        e.message
                    )
                }));
                if report.success && out.conditions.is_none() {
                    out.conditions = Some(report.conditions.common.clone());
                }
                environment.merge(&report.conditions.environment());
                let entries = Entry::of(&report, self.metric);
                if entries.len() < report.results.len() {
                    out.errors.push(format!(
                        "{}: the core's clock cannot be read here (no invariant TSC), so there are no cycles per frame: use --metric time",
                        report.dsp
                    ));
                }
                out.entries.extend(entries);
            }
            let entries = &mut out.entries[first..];
            let unrendered = self.keep_outputs(&source, entries, workers, cache);
            out.warnings.extend(unrendered);
        }
        let found = environment.warnings((&self.measure).into());
        out.warnings.splice(0..0, texts(found));
        out
    }

    /// Renders the start of each of `entries`' output into it, as the output check renders
    /// it; returns what could not be rendered, in words.
    fn keep_outputs(
        &self,
        source: &DspSource,
        entries: &mut [Entry],
        workers: &mut Workers,
        cache: Option<&Cache>,
    ) -> Vec<String> {
        let m = &self.measure;
        let named = |e: &Entry| format!("{} {}", e.dsp, display(&e.compiler_options));
        let mut unrendered = Vec::new();
        let mut jobs: Vec<(usize, CompileJob)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            match parse_option_set(&e.compiler_options) {
                Ok(options) => jobs.push((
                    i,
                    CompileJob {
                        source: source.clone(),
                        options,
                        sample_rate: m.sample_rate,
                        cxx: None,
                        target: crate::libfaust::Target::Host,
                    },
                )),
                Err(err) => unrendered.push(format!("{}: {err}", named(e))),
            }
        }
        let compiles: Vec<CompileJob> = jobs.iter().map(|(_, j)| j.clone()).collect();
        let (compiled, warnings) = compile_all(workers, cache, &compiles, &mut |_, _| {});
        unrendered.extend(warnings);
        let render = Render::from(m);
        let (mut ready, mut renders) = (Vec::new(), Vec::new());
        for ((i, job), code) in jobs.into_iter().zip(compiled) {
            match code {
                Ok((code, _)) => {
                    ready.push(i);
                    renders.push(RenderJob {
                        code: (code.code, job.options),
                        render,
                        inputs: vec![Input::Noise],
                    });
                }
                Err(e) => unrendered.push(format!("{}: {e}", named(&entries[i]))),
            }
        }
        for (i, rendered) in ready.into_iter().zip(on_compile_lanes(workers, &renders)) {
            match rendered {
                Ok(outputs) => entries[i].output = outputs.first().map(|o| Excerpt::of(m.seed, o)),
                Err(e) => unrendered.push(format!(
                    "{}: its output could not be rendered: {e}",
                    named(&entries[i])
                )),
            }
        }
        unrendered
    }

    /// Counts `sets` of one DSP (and the scalar baseline) into `out`.
    fn count(
        &self,
        source: &DspSource,
        name: &str,
        sets: &[OptionSet],
        workers: &mut Workers,
        cache: Option<&Cache>,
        out: &mut Measured,
    ) {
        let mut sets = sets.to_vec();
        if !sets.iter().any(OptionSet::is_scalar) {
            sets.insert(0, OptionSet::scalar());
        }
        let config = CountConfig::new(self.measure.frames, self.measure.sample_rate);
        let (counted, warnings) = count_all(workers, cache, source, &sets, &config);
        out.warnings.extend(warnings);
        for (set, result) in sets.into_iter().zip(counted) {
            match result {
                Ok(c) => out.entries.push(Entry {
                    dsp: name.to_string(),
                    compiler_options: set.label.clone(),
                    figure: Figure::Instructions {
                        instructions_per_frame: c.instructions_per_frame,
                    },
                    output: None,
                }),
                Err(e) => out
                    .errors
                    .push(format!("{name} {}: {e}", display(&set.label))),
            }
        }
    }
}
