//! The human-readable table (the default format).

use super::{
    heading, notes, profile_heading, profile_notes, profile_rows, rows, Exporter, HEADERS,
};
use crate::analyze::result::AnalyzeReport;
use crate::profile::ProfileReport;

pub struct Table;

impl Exporter<AnalyzeReport> for Table {
    fn render(&self, report: &AnalyzeReport) -> String {
        let rows = rows(report);
        let mut widths = HEADERS.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &[String]| -> String {
            let text: Vec<String> = cells
                .iter()
                .zip(widths)
                .enumerate()
                .map(|(i, (cell, w))| {
                    // Options and notes read left-aligned, numbers right-aligned.
                    if i == 1 || i == 8 {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            text.join("  ").trim_end().to_string()
        };
        let mut out = vec![
            heading(report),
            String::new(),
            line(&HEADERS.map(String::from)),
        ];
        out.extend(rows.iter().map(|r| line(r)));
        out.extend(notes(report, "  - "));
        out.join("\n") + "\n"
    }
}

impl Exporter<ProfileReport> for Table {
    fn render(&self, report: &ProfileReport) -> String {
        let rows = profile_rows(report);
        let width = rows
            .iter()
            .map(|(name, _)| name.chars().count())
            .max()
            .unwrap_or(0);
        let mut out = vec![profile_heading(report), String::new()];
        out.extend(
            rows.iter()
                .map(|(name, value)| format!("{name:<width$}  {value}")),
        );
        let t = &report.timeline;
        if !t.timestamps.is_empty() {
            out.push(String::new());
            out.push("Load over time (mean / worst block of 100 ms windows; 10 shown, all in JSON and CSV):".into());
            let step = (t.timestamps.len() / 10).max(1);
            for i in (0..t.timestamps.len()).step_by(step) {
                out.push(format!(
                    "  {:>7.1} s  {:>7.2} % / {:>7.2} %",
                    t.timestamps[i], t.cpu_usage_over_time[i], t.max_cpu_over_time[i]
                ));
            }
        }
        out.extend(profile_notes(report, "  - "));
        out.join("\n") + "\n"
    }
}
