//! CSV: one row per option set with the numeric fields unrounded, then a row per failure and
//! per warning.

use super::Exporter;
use crate::analyze::result::{AnalyzeReport, SetStatus};
use crate::baseline::{CheckReport, Metric};
use crate::compare::CompareReport;
use crate::corpus::CorpusReport;
use crate::profile::ProfileReport;

pub struct Csv;

const COLUMNS: &str = "dsp,compiler_options,backend,status,rank,throughput_mbps,ci95_low_mbps,ci95_high_mbps,rel_sd_percent,cpu_percent,sample_rate,speedup_vs_baseline,memory_bytes,compile_seconds,tied_with_best,recommended,message";

impl Exporter<AnalyzeReport> for Csv {
    fn render(&self, report: &AnalyzeReport) -> String {
        let sr = report.conditions.common.sample_rate;
        let measured = report.results.iter().map(|r| {
            vec![
                field(&report.dsp),
                field(&r.compiler_options),
                r.backend.to_string(),
                "ok".into(),
                r.rank.to_string(),
                r.throughput_mbps.to_string(),
                r.throughput_ci95_mbps[0].to_string(),
                r.throughput_ci95_mbps[1].to_string(),
                r.throughput_rel_sd_percent.to_string(),
                r.cpu_percent.to_string(),
                sr.to_string(),
                number(r.speedup_vs_baseline),
                number(r.memory_bytes),
                r.compile_seconds.to_string(),
                r.tied_with_best.to_string(),
                r.is_recommended.to_string(),
                String::new(),
            ]
        });
        let failed = report.errors.iter().map(|e| {
            let status = match e.status {
                SetStatus::Failed => "failed",
                SetStatus::Unsupported => "unsupported",
            };
            let mut row = message_row(&report.dsp, &e.compiler_options, status, 12, &e.message);
            row.insert(2, e.backend.to_string());
            row
        });
        let warned = (report.warnings.iter()).map(|w| {
            let mut row = message_row(&report.dsp, "", "warning", 12, w);
            row.insert(2, String::new());
            row
        });
        sheet(COLUMNS, measured.chain(failed).chain(warned))
    }
}

/// A header line, then a line of comma-separated cells per row.
fn sheet(header: &str, rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = vec![header.to_string()];
    out.extend(rows.map(|cells| cells.join(",")));
    out.join("\n") + "\n"
}

/// A row that carries a message: the first two cells, a status, `blanks` empty cells, the
/// message (failures, and the report's warnings as `warning` rows).
fn message_row(
    first: &str,
    options: &str,
    status: &str,
    blanks: usize,
    message: &str,
) -> Vec<String> {
    let mut cells = vec![field(first), field(options), status.into()];
    cells.extend(std::iter::repeat_n(String::new(), blanks));
    cells.push(field(message));
    cells
}

/// A number unrounded, or an empty cell.
fn number(x: Option<impl ToString>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A profile's timeline: one row per 100 ms window.
impl Exporter<ProfileReport> for Csv {
    fn render(&self, report: &ProfileReport) -> String {
        let t = &report.timeline;
        let rows = (0..t.timestamps.len()).map(|i| {
            let values = [
                t.timestamps[i],
                t.cpu_usage_over_time[i],
                t.max_cpu_over_time[i],
            ];
            values.map(|v| v.to_string()).to_vec()
        });
        sheet("timestamp_s,mean_cpu_percent,max_cpu_percent", rows)
    }
}

/// One row per implementation, failures included.
impl Exporter<CompareReport> for Csv {
    fn render(&self, report: &CompareReport) -> String {
        let measured = report.comparison.iter().map(|r| {
            vec![
                field(&r.name),
                field(&r.compiler_options),
                "ok".into(),
                r.rank.to_string(),
                r.throughput_mbps.to_string(),
                r.ns_per_frame.to_string(),
                r.ns_per_frame_ci95[0].to_string(),
                r.ns_per_frame_ci95[1].to_string(),
                r.cpu_percent.to_string(),
                r.speedup_vs_slowest.to_string(),
                r.fastest_speedup_ci95[0].to_string(),
                r.fastest_speedup_ci95[1].to_string(),
                number(r.memory_bytes),
                String::new(),
            ]
        });
        let failed =
            (report.errors.iter()).map(|e| message_row(&e.name, "", "failed", 10, &e.message));
        let warned = (report.warnings.iter()).map(|w| message_row("", "", "warning", 10, w));
        sheet("name,compiler_options,status,rank,throughput_mbps,ns_per_frame,ns_per_frame_ci95_low,ns_per_frame_ci95_high,cpu_percent,speedup_vs_slowest,fastest_speedup_ci95_low,fastest_speedup_ci95_high,memory_bytes,message", measured.chain(failed).chain(warned))
    }
}

/// One row per entry.
impl Exporter<CheckReport> for Csv {
    fn render(&self, report: &CheckReport) -> String {
        let rows = report.rows.iter().map(|r| {
            let ci = r.change_ci95_percent;
            vec![
                field(&r.dsp),
                field(&r.compiler_options),
                format!("{:?}", r.status).to_uppercase(),
                number(r.change_percent),
                number(ci.map(|c| c[0])),
                number(ci.map(|c| c[1])),
                number(r.baseline_mbps.or(r.baseline_instructions_per_frame)),
                number(r.current_mbps.or(r.current_instructions_per_frame)),
            ]
        });
        let header = match report.metric {
            Metric::Time => "dsp,compiler_options,status,change_percent,change_ci95_low,change_ci95_high,baseline_mbps,current_mbps",
            Metric::Instructions => "dsp,compiler_options,status,change_percent,change_ci95_low,change_ci95_high,baseline_instructions_per_frame,current_instructions_per_frame",
        };
        sheet(header, rows)
    }
}

/// One row per DSP.
impl Exporter<CorpusReport> for Csv {
    fn render(&self, report: &CorpusReport) -> String {
        let rows = report.entries.iter().map(|e| {
            vec![
                field(&e.dsp),
                e.status.clone(),
                field(e.best_options.as_deref().unwrap_or("")),
                number(e.best_mbps),
                number(e.cpu_percent),
                number(e.speedup_vs_scalar),
                e.failures.len().to_string(),
                field(e.reason.as_deref().unwrap_or("")),
            ]
        });
        sheet(
            "dsp,status,best_options,best_mbps,cpu_percent,speedup_vs_scalar,failed_sets,reason",
            rows,
        )
    }
}
