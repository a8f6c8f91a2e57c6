//! `faustperf corpus`.

use super::common::{ChartArgs, MeasureArgs, RunArgs};
use super::{exit, Stop};
use crate::corpus::{append, run as run_corpus, CorpusRequest};
use crate::options::parse_option_sets;
use crate::report::Format;
use clap::Args;
use std::path::PathBuf;

#[derive(Args)]
pub struct CorpusArgs {
    /// The directory whose .dsp files (recursively) are analyzed.
    dir: PathBuf,
    /// An option set for every DSP (repeatable); the scalar baseline is added when none is
    /// scalar.
    #[arg(long = "options", value_name = "SET", allow_hyphen_values = true, default_values_t = [String::from("-vec")])]
    options: Vec<String>,
    /// Where each DSP's result is appended as a JSON line the moment it is known (a crash or
    /// Ctrl-C keeps what was measured).
    #[arg(long, default_value = "faustperf-corpus.jsonl")]
    out: PathBuf,
    #[command(flatten)]
    measure: MeasureArgs,
    /// Output format of the summary on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    charts: ChartArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// Runs `corpus`: 0 when nothing failed, 4 when some DSPs or option sets failed.
pub fn run(args: CorpusArgs) -> Result<i32, Stop> {
    Stop::unless_libfaust()?;
    let prepared = (|| -> Result<_, String> {
        if !args.dir.is_dir() {
            return Err(format!("{} is not a directory", args.dir.display()));
        }
        let option_sets =
            parse_option_sets("--options", &args.options).map_err(|e| e.to_string())?;
        let core = args.run.machine.core()?;
        let measure = args.measure.config(&args.run, core)?;
        let out =
            std::fs::File::create(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
        let workers = args.run.workers(core)?;
        Ok((
            CorpusRequest {
                dir: args.dir.clone(),
                option_sets,
                measure,
            },
            out,
            workers,
        ))
    })();
    let (request, mut out, mut workers) = prepared.map_err(Stop::usage)?;
    let cache = args.run.machine.cache();
    let mut on_entry = |entry: &crate::corpus::CorpusEntry, index: usize, total: usize| {
        if let Err(e) = append(&mut out, entry) {
            eprintln!("warning: cannot write {}: {e}", args.out.display());
        }
        let what = match (entry.best_mbps, &entry.reason) {
            (Some(mbps), _) => format!("{mbps:.1} MB/s"),
            (None, Some(reason)) => format!("{}: {reason}", entry.status),
            (None, None) => entry.status.clone(),
        };
        eprintln!(
            "[{}/{total}] {}: {}",
            index + 1,
            entry.dsp,
            what.lines().next().unwrap_or("")
        );
    };
    let report = run_corpus(&request, &mut workers, cache.as_ref(), &mut on_entry);
    args.charts.show(&args.format.render(&report), &report)?;
    let any_failure = report
        .entries
        .iter()
        .any(|e| e.status == "failed" || !e.failures.is_empty());
    Ok(exit::of_outcome(true, any_failure))
}
