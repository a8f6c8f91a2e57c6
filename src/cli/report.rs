//! `faustperf report`: a saved JSON result (`--format json` of analyze, compare, profile,
//! baseline check, corpus or inspect) rendered again, as text, charts or an HTML page.

use super::common::ChartArgs;
use super::{exit, Stop};
use crate::analyze::result::AnalyzeReport;
use crate::baseline::{self, CheckReport, Metric};
use crate::compare::CompareReport;
use crate::corpus::CorpusReport;
use crate::inspect::InspectReport;
use crate::profile::ProfileReport;
use crate::report::{Format, InspectFormat, Kind};
use clap::Args;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt::Display;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ReportArgs {
    /// The JSON a command wrote with --format json.
    file: PathBuf,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    charts: ChartArgs,
    /// Compare the saved analysis FILE with an earlier one, OLD.json, set by set, as
    /// `baseline check` compares with a baseline: each set's change with its 95 % interval,
    /// SLOWER/FASTER beyond --tolerance (exit 7 on SLOWER); conditions that differ (another
    /// machine, libfaust, buffer size…) are named, and refused with --strict (exit 8).
    #[arg(long, value_name = "OLD.json")]
    against: Option<PathBuf>,
    /// With --against: what to compare: time (MB/s), cycles (core cycles per frame: steady
    /// where the host moves the core's clock) or instructions (both analyses run with
    /// --counters; comparable across machines).
    #[arg(long, value_enum, default_value_t = Metric::Time, requires = "against")]
    metric: Metric,
    /// With --against: the change allowed, % (default: 10 for time and cycles, 0.5 for
    /// instructions).
    #[arg(long, value_parser = super::common::percent, requires = "against")]
    tolerance: Option<f64>,
    /// With --against: exit 8 when the conditions differ.
    #[arg(long, requires = "against")]
    strict: bool,
}

/// A saved report, as the report its `kind` names.
pub(crate) enum Saved {
    Analyze(AnalyzeReport),
    Compare(CompareReport),
    Profile(ProfileReport),
    Inspect(InspectReport),
    Check(CheckReport),
    Corpus(CorpusReport),
}

/// Renders the saved report: 0, or 2 when the file is not a faustperf report.
pub fn run(args: ReportArgs) -> Result<i32, Stop> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| Stop::usage(format!("cannot read {}: {e}", args.file.display())))?;
    // Prints the report in `format` and writes its charts.
    macro_rules! show {
        ($format:expr, $report:expr) => {{
            args.charts.show(&$format.render(&$report), &$report)?;
            Ok(exit::OK)
        }};
    }
    if let Some(old) = &args.against {
        return against(&args, read(&args.file, &text)?, old);
    }
    match read(&args.file, &text)? {
        Saved::Analyze(report) => show!(args.format, report),
        Saved::Compare(report) => show!(args.format, report),
        Saved::Profile(report) => show!(args.format, report),
        Saved::Check(report) => show!(args.format, report),
        Saved::Corpus(report) => show!(args.format, report),
        Saved::Inspect(report) => {
            let format = InspectFormat::try_from(args.format).map_err(Stop::usage)?;
            show!(format, report)
        }
    }
}

/// `report NEW --against OLD`: two saved analyses compared set by set.
fn against(args: &ReportArgs, new: Saved, old_file: &Path) -> Result<i32, Stop> {
    let old_text = std::fs::read_to_string(old_file)
        .map_err(|e| Stop::usage(format!("cannot read {}: {e}", old_file.display())))?;
    let (Saved::Analyze(new), Saved::Analyze(old)) = (new, read(old_file, &old_text)?) else {
        return Err(Stop::usage(
            "--against compares two saved analyses (faustperf analyze --format json)",
        ));
    };
    if args.metric == Metric::Instructions && (old.counting.is_none() || new.counting.is_none()) {
        return Err(Stop::usage(
            "instruction counts compare only between analyses run with --counters",
        ));
    }
    let tolerance = (args.tolerance).unwrap_or(args.metric.default_tolerance());
    let name = old_file.display().to_string();
    let report = baseline::against(&old, &name, &new, args.metric, tolerance);
    for d in &report.condition_differences {
        eprintln!("WARNING: conditions differ from {name}'s: {d}; its numbers may not compare");
    }
    args.charts.show(&args.format.render(&report), &report)?;
    Ok(super::baseline::exit_code(&report, args.strict))
}

/// Reads `text`, the JSON a command wrote to `file` with --format json, as the report its
/// `kind` names.
pub(crate) fn read(file: &Path, text: &str) -> Result<Saved, Stop> {
    let file = file.display();
    let value: Value =
        serde_json::from_str(text).map_err(|e| Stop::usage(format!("{file} is not JSON: {e}")))?;
    match value.get("kind").and_then(Value::as_str) {
        Some(AnalyzeReport::KIND) => parse(&file, value).map(Saved::Analyze),
        Some(CompareReport::KIND) => parse(&file, value).map(Saved::Compare),
        Some(ProfileReport::KIND) => parse(&file, value).map(Saved::Profile),
        Some(InspectReport::KIND) => parse(&file, value).map(Saved::Inspect),
        Some(CheckReport::KIND) => parse(&file, value).map(Saved::Check),
        Some(CorpusReport::KIND) => parse(&file, value).map(Saved::Corpus),
        None => Err(Stop::usage(format!(
            "{file} has no `kind`: a report saved by an older faustperf, or not a faustperf report; re-run the command that wrote it with --format json"
        ))),
        Some(kind) => Err(Stop::usage(format!(
            "{file} is a report of kind `{kind}`, which this faustperf does not know; re-run the command that wrote it with --format json"
        ))),
    }
}

fn parse<R: DeserializeOwned>(file: &impl Display, value: Value) -> Result<R, Stop> {
    serde_json::from_value(value).map_err(|e| {
        Stop::usage(format!(
            "{file} is not a report this faustperf can read: {e}"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::OptionSet;

    /// `json` read back as `faustperf report` reads a file, or why it is refused.
    fn read_back(json: &str) -> Result<Saved, String> {
        read(Path::new("saved.json"), json).map_err(|Stop(_, message)| message)
    }

    #[test]
    fn saved_reports_come_back_as_their_kind_with_their_options() {
        let analysis = crate::report::tests::sample_report();
        let json = Format::Json.render(&analysis);
        assert!(json.starts_with("{\n  \"kind\": \"analyze\",\n"), "{json}");
        let Ok(Saved::Analyze(back)) = read_back(&json) else {
            panic!("not read back as an analysis");
        };
        let options = |r: &AnalyzeReport| -> Vec<OptionSet> {
            r.results.iter().map(|s| s.options.clone()).collect()
        };
        assert_eq!(options(&back), options(&analysis));
        let inspection = crate::inspect::tests::sample_report();
        let json = InspectFormat::Json.render(&inspection);
        assert!(json.starts_with("{\n  \"kind\": \"inspect\",\n"), "{json}");
        assert!(matches!(read_back(&json), Ok(Saved::Inspect(_))));
        let check = CheckReport {
            baseline: "baseline.json".into(),
            metric: Default::default(),
            tolerance_percent: 5.0,
            rows: vec![],
            condition_differences: vec![],
            errors: vec![],
            warnings: vec![],
        };
        let json = Format::Json.render(&check);
        assert!(
            json.starts_with("{\n  \"kind\": \"baseline_check\",\n"),
            "{json}"
        );
        assert!(matches!(read_back(&json), Ok(Saved::Check(_))));
    }

    #[test]
    fn a_json_without_a_known_kind_is_refused_with_what_to_do() {
        for (json, said) in [
            (r#"{"results": [], "conditions": {}}"#, "has no `kind`"),
            (r#"{"kind": "benchmark"}"#, "kind `benchmark`, which"),
        ] {
            let Err(message) = read_back(json) else {
                panic!("{json} was read");
            };
            assert!(message.contains(said), "{message}");
            assert!(message.contains("re-run the command"), "{message}");
            assert!(message.contains("with --format json"), "{message}");
        }
        let Err(message) = read_back("results: []") else {
            panic!("YAML was read");
        };
        assert!(message.contains("saved.json is not JSON"), "{message}");
    }
}
