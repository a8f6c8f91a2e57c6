//! `faustperf inspect`.

use super::common::{ChartArgs, SourceArgs, WorkerArgs};
use super::{exit, Stop};
use crate::analyze::result::SetStatus;
use crate::inspect::{inspect, InspectRequest};
use crate::options::parse_option_sets;
use crate::pipeline::Workers;
use crate::report::InspectFormat;
use clap::Args;

#[derive(Args)]
pub struct InspectArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// An option set to inspect, as on the faust command line (e.g. "-vec -vs 32"); repeatable
    /// [default: scalar and -vec]. Options that read or write files are refused.
    #[arg(long = "options", value_name = "SET", allow_hyphen_values = true)]
    options: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = InspectFormat::Table)]
    format: InspectFormat,
    /// Compile and read the IR inside this process (no crash or hang protection; for trusted
    /// code).
    #[arg(long)]
    in_process: bool,
    /// Also count the instructions each set executes per frame under valgrind's callgrind,
    /// beside the IR's estimate (the code inspected is then compiled for x86-64-v3, the code
    /// counted).
    #[arg(long)]
    counters: bool,
    #[command(flatten)]
    charts: ChartArgs,
    #[command(flatten)]
    workers: WorkerArgs,
}

/// Runs `inspect` and returns the exit code: 0 when every set was inspected, 4 when some
/// failed, 3 when none could be.
pub fn run(args: InspectArgs) -> Result<i32, Stop> {
    Stop::unless_libfaust()?;
    let (request, mut workers) = validate(&args).map_err(Stop::usage)?;
    eprintln!(
        "inspecting {} option set(s) of {}…",
        request.option_sets.len(),
        request.name
    );
    let report = inspect(&request, &mut workers);
    args.charts.show(&args.format.render(&report), &report)?;
    let some_failed = report.errors.iter().any(|e| e.status == SetStatus::Failed);
    Ok(exit::of_outcome(!report.sets.is_empty(), some_failed))
}

fn validate(args: &InspectArgs) -> Result<(InspectRequest, Workers), String> {
    let (source, name) = args.source.read()?;
    let mut request = InspectRequest {
        counters: args.counters,
        ..InspectRequest::new(source, name)
    };
    if !args.options.is_empty() {
        request.option_sets =
            parse_option_sets("--options", &args.options).map_err(|e| e.to_string())?;
    }
    let config = args.workers.config()?;
    let workers = if args.in_process {
        Workers::in_process()
    } else {
        Workers::isolated(config, args.workers.jobs(), None)
    };
    Ok((request, workers))
}
