//! The human-readable table (the default format).

use super::{heading, notes, rows, Exporter, HEADERS};
use crate::analyze::result::AnalyzeReport;

pub struct Table;

impl Exporter for Table {
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
