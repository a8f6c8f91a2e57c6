//! `faustperf report`: a saved JSON result (`--format json` of analyze, compare, profile,
//! baseline check, corpus or inspect) rendered again, as text, charts or an HTML page.

use super::common::ChartArgs;
use super::{exit, Stop};
use crate::analyze::result::AnalyzeReport;
use crate::baseline::CheckReport;
use crate::compare::CompareReport;
use crate::corpus::CorpusReport;
use crate::inspect::InspectReport;
use crate::options::parse_option_set;
use crate::profile::ProfileReport;
use crate::report::{Format, InspectFormat};
use clap::Args;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::path::PathBuf;

#[derive(Args)]
pub struct ReportArgs {
    /// The JSON a command wrote with --format json.
    file: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    charts: ChartArgs,
}

/// Renders the saved report: 0, or 2 when the file is not a faustperf report.
pub fn run(args: ReportArgs) -> Result<i32, Stop> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Stop::usage(format!("cannot read {}: {e}", args.file.display())))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| Stop::usage(format!("{} is not JSON: {e}", args.file.display())))?;
    // Prints the report in the format asked for and writes its charts.
    macro_rules! show {
        ($args:expr, $report:expr) => {{
            let report = $report;
            print!("{}", $args.format.render(report));
            $args.charts.write(report)?;
            Ok(exit::OK)
        }};
    }
    // Each report is told by the fields only it has.
    let has = |key: &str| value.get(key).is_some();
    if has("results") && has("conditions") {
        let mut report: AnalyzeReport = parse(&args, value)?;
        // The option sets are not saved: they are their label on their backend.
        for r in &mut report.results {
            r.options = parse_option_set(&r.compiler_options)
                .map_err(|e| Stop::usage(format!("result `{}`: {e}", r.compiler_options)))?
                .on(r.backend);
        }
        show!(&args, &report)
    } else if has("comparison") {
        show!(&args, &parse::<CompareReport>(&args, value)?)
    } else if has("timeline") {
        show!(&args, &parse::<ProfileReport>(&args, value)?)
    } else if has("rows") && has("tolerance_percent") {
        show!(&args, &parse::<CheckReport>(&args, value)?)
    } else if has("entries") && has("aggregates") {
        show!(&args, &parse::<CorpusReport>(&args, value)?)
    } else if has("sets") && has("ir_reader_llvm") {
        let format = InspectFormat::try_from(args.format).map_err(Stop::usage)?;
        let report: InspectReport = parse(&args, value)?;
        print!("{}", format.render(&report));
        args.charts.write(&report)?;
        Ok(exit::OK)
    } else {
        Err(Stop::usage(format!(
            "{} is not a report of analyze, compare, profile, baseline check, corpus or inspect (write one with --format json)",
            args.file.display()
        )))
    }
}

fn parse<R: DeserializeOwned>(args: &ReportArgs, value: Value) -> Result<R, Stop> {
    serde_json::from_value(value).map_err(|e| {
        Stop::usage(format!(
            "{} is not a report this faustperf can read: {e}",
            args.file.display()
        ))
    })
}
