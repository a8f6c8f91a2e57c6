//! `faustperf baseline save|check|list|show|delete`.

use super::common::{percent, ChartArgs, MeasureArgs, RunArgs};
use super::{exit, Stop};
use crate::accuracy;
use crate::baseline::{
    self, Baseline, BaselineRequest, CheckReport, Measured, Metric, Status, Target,
};
use crate::callgrind::{CountConditions, CountConfig};
use crate::measure::MeasureConfig;
use crate::options::{parse_option_set, parse_option_sets, OptionSet};
use crate::report::Format;
use clap::ValueEnum;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args)]
pub struct BaselineCommand {
    #[command(subcommand)]
    action: Action,
    /// Directory of baselines (one NAME.json each, meant to be committed).
    #[arg(long, global = true, default_value_os_t = baseline::default_dir())]
    dir: PathBuf,
}

#[derive(Subcommand)]
enum Action {
    /// Measure DSPs with option sets and save the results under NAME.
    Save {
        name: String,
        /// The .dsp files.
        #[arg(required = true)]
        dsps: Vec<PathBuf>,
        /// An option set to record (repeatable); the scalar baseline is always recorded.
        #[arg(long = "options", value_name = "SET", allow_hyphen_values = true, default_values_t = [String::from("-vec")])]
        options: Vec<String>,
        /// What to record: the time per block (measured), or the instructions per frame
        /// (counted under valgrind's callgrind: the same on every run and machine, for CI).
        #[arg(long, value_enum, default_value_t = Metric::Time)]
        metric: Metric,
        #[command(flatten)]
        measure: MeasureArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Re-measure a baseline's DSPs (and any given here, as NEW) and compare; exit 7 when one
    /// is significantly slower than the tolerance allows, or its output differs from the
    /// baseline's beyond the accuracy tolerance (CHANGED).
    Check {
        name: String,
        /// More .dsp files to measure (reported as NEW).
        dsps: Vec<PathBuf>,
        /// Slow-down allowed before SLOWER, % (and speed-up before FASTER) [default: 10 for
        /// times and cycles, 0.5 for instruction counts].
        #[arg(long, value_parser = percent)]
        tolerance: Option<f64>,
        /// The metric the baseline holds (it is read from the baseline; given, it must match).
        #[arg(long, value_enum)]
        metric: Option<Metric>,
        /// The SNR of an entry's output against the baseline's, dB, below which it computes
        /// something else: CHANGED, exit 7.
        #[arg(long, value_name = "DB", default_value_t = accuracy::DEFAULT_TOLERANCE_DB)]
        accuracy_tolerance: f64,
        /// Fail (exit 8) when the conditions differ from the baseline's (other CPU, libfaust,
        /// buffer size, sample rate) instead of only warning.
        #[arg(long)]
        strict: bool,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[command(flatten)]
        charts: ChartArgs,
        #[command(flatten)]
        measure: MeasureArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// List the baselines in the directory.
    List,
    /// Print a baseline (JSON).
    Show { name: String },
    /// Delete a baseline.
    Delete { name: String },
}

pub fn run(command: BaselineCommand) -> Result<i32, Stop> {
    let dir = command.dir;
    match command.action {
        Action::List => {
            for name in baseline::list(&dir) {
                println!("{name}");
            }
            Ok(exit::OK)
        }
        Action::Show { name } => {
            let path = baseline::path(&dir, &name).map_err(Stop::usage)?;
            let b = baseline::load(&path).map_err(Stop::usage)?;
            // Baselines serialise (they were just parsed).
            println!(
                "{}",
                serde_json::to_string_pretty(&b).expect("baselines serialise")
            );
            Ok(exit::OK)
        }
        Action::Delete { name } => {
            let path = baseline::path(&dir, &name).map_err(Stop::usage)?;
            std::fs::remove_file(&path)
                .map_err(|e| Stop::usage(format!("{}: {e}", path.display())))?;
            eprintln!("deleted {}", path.display());
            Ok(exit::OK)
        }
        Action::Save {
            name,
            dsps,
            options,
            metric,
            measure,
            run,
        } => {
            let path = baseline::path(&dir, &name).map_err(Stop::usage)?;
            let sets = parse_option_sets("--options", &options).map_err(Stop::usage)?;
            let core = run.machine.core().map_err(Stop::usage)?;
            let config = measure.config(&run, core).map_err(Stop::usage)?;
            let targets: Vec<Target> = (dsps.into_iter())
                .map(|dsp| Target {
                    dsp,
                    sets: sets.clone(),
                })
                .collect();
            let Measured {
                entries,
                conditions,
                errors,
                warnings,
            } = measure_all(targets, &config, &run, metric)?;
            for e in errors.iter().chain(&warnings) {
                eprintln!("warning: {e}");
            }
            let conditions = (conditions.filter(|_| !entries.is_empty()))
                .ok_or(Stop(exit::DSP_FAILED, "nothing could be measured".into()))?;
            let saved_at = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let count_conditions = match metric {
                Metric::Time | Metric::Cycles => None,
                Metric::Instructions => Some(count_conditions(&config)?),
            };
            let b = Baseline {
                name,
                saved_at,
                conditions,
                metric,
                count_conditions,
                entries,
            };
            baseline::save(&path, &b)
                .map_err(|message| Stop(exit::INTERNAL, message.to_string()))?;
            eprintln!("saved {} entries to {}", b.entries.len(), path.display());
            Ok(exit::of_outcome(true, !errors.is_empty()))
        }
        Action::Check {
            name,
            dsps,
            tolerance,
            metric,
            accuracy_tolerance,
            strict,
            format,
            charts,
            measure,
            run,
        } => {
            let path = baseline::path(&dir, &name).map_err(Stop::usage)?;
            let b = baseline::load(&path).map_err(Stop::usage)?;
            if let Some(metric) = metric.filter(|m| *m != b.metric) {
                let name = |m: Metric| m.to_possible_value().map(|v| v.get_name().to_string());
                return Err(Stop::usage(format!(
                    "baseline {} holds {} figures, not {}: check it without --metric, or save another with --metric {}",
                    b.name,
                    name(b.metric).unwrap_or_default(),
                    name(metric).unwrap_or_default(),
                    name(metric).unwrap_or_default()
                )));
            }
            let tolerance = tolerance.unwrap_or(b.metric.default_tolerance());
            accuracy::check_tolerance(accuracy_tolerance).map_err(Stop::usage)?;
            let core = run.machine.core().map_err(Stop::usage)?;
            // The baseline's buffer size and sample rate, so that the numbers compare, and the
            // seed of its outputs' input, so that they do.
            let config = measure.config(&run, core).map_err(Stop::usage)?;
            let config = MeasureConfig {
                frames: b.conditions.buffer_size,
                sample_rate: b.conditions.sample_rate,
                seed: (b.entries.iter())
                    .find_map(|e| Some(e.output.as_ref()?.seed))
                    .unwrap_or(config.seed),
                ..config
            };
            let mut targets: Vec<Target> = Vec::new();
            for e in &b.entries {
                let set = parse_option_set(&e.compiler_options).map_err(|err| {
                    Stop::usage(format!("baseline entry `{}`: {err}", e.compiler_options))
                })?;
                match targets
                    .iter_mut()
                    .find(|t| t.dsp.as_path() == std::path::Path::new(&e.dsp))
                {
                    Some(t) if !t.sets.contains(&set) => t.sets.push(set),
                    Some(_) => {}
                    None => targets.push(Target {
                        dsp: PathBuf::from(&e.dsp),
                        sets: vec![set],
                    }),
                }
            }
            let default_sets: Vec<OptionSet> =
                targets.first().map(|t| t.sets.clone()).unwrap_or_default();
            targets.extend(dsps.into_iter().map(|dsp| Target {
                dsp,
                sets: default_sets.clone(),
            }));
            let Measured {
                entries: current,
                conditions,
                errors,
                warnings,
            } = measure_all(targets, &config, &run, b.metric)?;

            let condition_differences = match (b.metric, &b.count_conditions) {
                (Metric::Instructions, Some(then)) => count_conditions(&config)?.differences(then),
                _ => conditions
                    .map(|c| b.conditions.differences(&c))
                    .unwrap_or_default(),
            };
            let report = CheckReport {
                baseline: b.name.clone(),
                metric: b.metric,
                tolerance_percent: tolerance,
                rows: baseline::check(&b, &current, tolerance, accuracy_tolerance),
                condition_differences,
                errors,
                warnings,
            };
            for d in &report.condition_differences {
                eprintln!("WARNING: conditions differ from the baseline's: {d}; its numbers may not compare");
            }
            charts.show(&format.render(&report), &report)?;
            Ok(exit_code(&report, strict))
        }
    }
}

/// A check's exit code: 7 on any SLOWER or CHANGED, else 8 when the conditions differ and `strict`.
pub(super) fn exit_code(report: &CheckReport, strict: bool) -> i32 {
    if report.any(Status::Slower) || report.any(Status::Changed) {
        exit::REGRESSION
    } else if strict && !report.condition_differences.is_empty() {
        exit::CONDITIONS_DIFFER
    } else {
        exit::OK
    }
}

fn count_conditions(config: &MeasureConfig) -> Result<CountConditions, Stop> {
    CountConditions::here(&CountConfig::new(config.frames, config.sample_rate))
        .map_err(|e| Stop(exit::DSP_FAILED, e.to_string()))
}

/// Measures (or counts) `targets` as `run` says, telling progress on stderr.
fn measure_all(
    targets: Vec<Target>,
    measure: &MeasureConfig,
    run: &RunArgs,
    metric: Metric,
) -> Result<Measured, Stop> {
    Stop::unless_libfaust()?;
    let mut workers = run.workers(measure.core).map_err(Stop::usage)?;
    let request = BaselineRequest {
        targets,
        metric,
        measure: measure.clone(),
    };
    Ok(
        request.run(&mut workers, run.machine.cache().as_ref(), &mut |line| {
            eprintln!("{line}")
        }),
    )
}
