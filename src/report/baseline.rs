//! `baseline check`'s report: each entry's change against the baseline, as a page and as CSV.

use super::csv::{self, field, sheet, Csv};
use super::{number, Exporter, Kind, Page, Paged};
use crate::baseline::{CheckReport, Metric};
use crate::options::display;

impl Kind for CheckReport {
    const KIND: &'static str = "baseline_check";
}

impl Paged for CheckReport {
    fn page(&self) -> Page {
        // The baseline's figure and this run's, as the metric counts them.
        let figures = match self.metric {
            Metric::Time => ["baseline MB/s", "now MB/s"],
            Metric::Instructions => ["baseline instr/frame", "now instr/frame"],
            Metric::Cycles => ["baseline cycles/frame", "now cycles/frame"],
        };
        Page {
            heading: format!(
                "baseline {}: tolerance {} %; {}",
                self.baseline,
                self.tolerance_percent,
                match self.metric {
                    Metric::Time => "SLOWER or FASTER only when the whole 95 % interval of the change lies beyond it",
                    Metric::Instructions => "instructions per frame counted under callgrind (no noise, so no interval): SLOWER or FASTER when the change lies beyond it",
                    Metric::Cycles => "core cycles per frame; SLOWER or FASTER only when the whole 95 % interval of the change lies beyond it",
                }
            ),
            columns: [&CHECK_HEADERS[..], &figures].concat(),
            left: &[0, 1, 2],
            headless: false,
            rows: check_rows(self),
            sections: vec![
                (
                    "Conditions differ from the baseline's",
                    self.condition_differences.clone(),
                ),
                ("Failed now", self.errors.clone()),
                ("Warnings", self.warnings.clone()),
            ],
            last: None,
        }
    }
}

const CHECK_HEADERS: [&str; 6] = ["dsp", "options", "status", "change %", "95% CI %", "output"];

/// One row per baseline entry (and new entry).
fn check_rows(report: &CheckReport) -> Vec<Vec<String>> {
    report
        .rows
        .iter()
        .map(|r| {
            vec![
                r.dsp.clone(),
                display(&r.compiler_options).to_string(),
                format!("{:?}", r.status).to_uppercase(),
                number(r.change_percent, 1),
                r.change_ci95_percent
                    .map_or_else(|| "–".into(), |[a, b]| format!("{a:.1}–{b:.1}")),
                r.output
                    .as_ref()
                    .map_or_else(|| "–".into(), |o| o.to_string()),
                number(r.baseline_figure(), 1),
                number(r.current_figure(), 1),
            ]
        })
        .collect()
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
                csv::number(r.change_percent),
                csv::number(ci.map(|c| c[0])),
                csv::number(ci.map(|c| c[1])),
                csv::number(r.output.as_ref().map(|o| o.verdict)),
                csv::number(r.output.as_ref().and_then(|o| o.difference.snr_db)),
                csv::number(r.baseline_figure()),
                csv::number(r.current_figure()),
            ]
        });
        let header = match report.metric {
            Metric::Time => "dsp,compiler_options,status,change_percent,change_ci95_low,change_ci95_high,output_verdict,output_snr_db,baseline_mbps,current_mbps",
            Metric::Instructions => "dsp,compiler_options,status,change_percent,change_ci95_low,change_ci95_high,output_verdict,output_snr_db,baseline_instructions_per_frame,current_instructions_per_frame",
            Metric::Cycles => "dsp,compiler_options,status,change_percent,change_ci95_low,change_ci95_high,output_verdict,output_snr_db,baseline_cycles_per_frame,current_cycles_per_frame",
        };
        sheet(header, rows)
    }
}
