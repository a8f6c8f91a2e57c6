//! The human-readable table (the default format).

use super::{
    check_heading, check_notes, check_rows, compare_heading, compare_notes, compare_rows,
    corpus_heading, corpus_notes, corpus_rows, heading, notes, profile_heading, profile_notes,
    profile_rows, rows, Exporter, CHECK_HEADERS, COMPARE_HEADERS, CORPUS_HEADERS, HEADERS,
};
use crate::analyze::result::AnalyzeReport;
use crate::baseline::CheckReport;
use crate::compare::CompareReport;
use crate::corpus::CorpusReport;
use crate::profile::ProfileReport;

pub struct Table;

/// Lays out `rows` under `headers`, left-aligning the columns in `left` and right-aligning
/// the others.
fn layout<const N: usize>(headers: [&str; N], rows: &[[String; N]], left: &[usize]) -> Vec<String> {
    let mut widths = headers.map(|h| h.chars().count());
    for row in rows {
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
                if left.contains(&i) {
                    format!("{cell:<w$}")
                } else {
                    format!("{cell:>w$}")
                }
            })
            .collect();
        text.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(&headers.map(String::from))];
    out.extend(rows.iter().map(|r| line(r)));
    out
}

impl Exporter<CompareReport> for Table {
    fn render(&self, report: &CompareReport) -> String {
        let mut out = vec![compare_heading(report), String::new()];
        out.extend(layout(COMPARE_HEADERS, &compare_rows(report), &[1, 2, 7]));
        out.extend(compare_notes(report, "  - "));
        out.join("\n") + "\n"
    }
}

impl Exporter<AnalyzeReport> for Table {
    fn render(&self, report: &AnalyzeReport) -> String {
        let mut out = vec![heading(report), String::new()];
        // Options and notes read left-aligned, numbers right-aligned.
        out.extend(layout(HEADERS, &rows(report), &[1, 8]));
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

impl Exporter<CheckReport> for Table {
    fn render(&self, report: &CheckReport) -> String {
        let mut out = vec![check_heading(report), String::new()];
        out.extend(layout(CHECK_HEADERS, &check_rows(report), &[0, 1, 2]));
        out.extend(check_notes(report, "  - "));
        out.join("\n") + "\n"
    }
}

impl Exporter<CorpusReport> for Table {
    fn render(&self, report: &CorpusReport) -> String {
        let mut out = vec![corpus_heading(report), String::new()];
        out.extend(layout(CORPUS_HEADERS, &corpus_rows(report), &[0, 1, 2, 6]));
        out.extend(corpus_notes(report, "  - "));
        out.join("\n") + "\n"
    }
}
