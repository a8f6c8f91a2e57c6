//! `compare`'s report: the implementations ranked, with the verdict, as a page and as CSV.

use super::csv::{self, field, message_row, sheet, Csv};
use super::{Exporter, Kind, Page, Paged};
use crate::compare::CompareReport;
use crate::measure::units::human_bytes;
use crate::measure::Budget;
use crate::options::display_on;

impl Kind for CompareReport {
    const KIND: &'static str = "compare";
}

impl Paged for CompareReport {
    fn page(&self) -> Page {
        Page {
            heading: compare_heading(self),
            columns: COMPARE_HEADERS.to_vec(),
            left: &[1, 2, 7],
            headless: false,
            rows: compare_rows(self),
            sections: vec![
                (
                    "Not measured",
                    self.errors
                        .iter()
                        .map(|e| format!("{}: {}", e.name, e.message))
                        .collect(),
                ),
                (
                    "Recommendations",
                    (!self.recommendations.is_empty())
                        .then(|| self.recommendations.clone())
                        .into_iter()
                        .collect(),
                ),
                ("Warnings", self.warnings.clone()),
            ],
            last: Some(format!("Verdict: {}", self.verdict)),
        }
    }
}

const COMPARE_HEADERS: [&str; 11] = [
    "rank",
    "implementation",
    "options",
    "MB/s",
    "ns/frame (95% CI)",
    "CPU %",
    "memory",
    "relative performance",
    "output",
    "response Δ dB",
    "THD+N dB",
];

/// One row per compared implementation, then one per failure.
fn compare_rows(report: &CompareReport) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = report
        .comparison
        .iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.name.clone(),
                display_on(&r.compiler_options, r.backend),
                format!("{:.1}", r.throughput_mbps),
                format!(
                    "{:.3} ({:.3}–{:.3})",
                    r.ns_per_frame, r.ns_per_frame_ci95[0], r.ns_per_frame_ci95[1]
                ),
                format!("{:.3}", r.cpu_percent),
                r.memory_bytes.map_or_else(|| "?".into(), human_bytes),
                r.relative_performance.clone(),
                r.output_vs_reference
                    .as_ref()
                    .map_or_else(|| "–".into(), |a| a.verdict.to_string()),
                r.response
                    .as_ref()
                    .map_or_else(|| "–".into(), |d| format!("{:.1}", d.deviation_db)),
                r.thd_n_db.map_or_else(|| "–".into(), |t| format!("{t:.1}")),
            ]
        })
        .collect();
    rows.extend(report.errors.iter().map(|e| {
        let mut row = vec![String::new(); COMPARE_HEADERS.len()];
        row[0] = "–".into();
        row[1] = e.name.clone();
        row[7] = "failed".into();
        row
    }));
    rows
}

/// The line that says what a comparison ran.
fn compare_heading(report: &CompareReport) -> String {
    format!(
        "compare {} implementations by {}, interleaved rounds: bs {}, {} Hz, {}; libfaust {}, {}, core {}",
        report.comparison.len() + report.errors.len(),
        report.compared_by,
        report.conditions.buffer_size,
        report.conditions.sample_rate,
        match report.budget {
            Budget::Fixed { seconds } => format!("{seconds} s each"),
            Budget::Adaptive { precision_percent, max_seconds } => format!("to ±{precision_percent} % or {max_seconds} s each"),
        },
        report.conditions.toolchain.libfaust_version,
        report.conditions.toolchain.machine_target,
        report.core.map_or_else(|| "not pinned".into(), |c| c.to_string()),
    )
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
                csv::number(r.memory_bytes),
                csv::number(r.output_vs_reference.as_ref().map(|a| a.verdict)),
                csv::number(
                    r.output_vs_reference
                        .as_ref()
                        .and_then(|a| a.difference.snr_db),
                ),
                csv::number(r.response.as_ref().map(|d| d.deviation_db)),
                csv::number(r.response.as_ref().map(|d| d.deviation_at_hz)),
                csv::number(r.thd_n_db),
                String::new(),
            ]
        });
        let failed =
            (report.errors.iter()).map(|e| message_row(&e.name, "", "failed", 15, &e.message));
        let warned = (report.warnings.iter()).map(|w| message_row("", "", "warning", 15, w));
        sheet("name,compiler_options,status,rank,throughput_mbps,ns_per_frame,ns_per_frame_ci95_low,ns_per_frame_ci95_high,cpu_percent,speedup_vs_slowest,fastest_speedup_ci95_low,fastest_speedup_ci95_high,memory_bytes,output_verdict,output_snr_db,response_deviation_db,response_deviation_hz,thd_n_db,message", measured.chain(failed).chain(warned))
    }
}
