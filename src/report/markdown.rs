//! A Markdown table with the same notes as the text table.

use super::{heading, notes, rows, Exporter, HEADERS};
use crate::analyze::result::AnalyzeReport;

pub struct Markdown;

impl Exporter for Markdown {
    fn render(&self, report: &AnalyzeReport) -> String {
        let row = |cells: &[String]| {
            format!(
                "| {} |",
                cells
                    .iter()
                    .map(|c| c.replace('|', "\\|"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        };
        let mut out = vec![
            format!("## {}", heading(report)),
            String::new(),
            row(&HEADERS.map(String::from)),
            format!("|{}", "---|".repeat(HEADERS.len())),
        ];
        out.extend(rows(report).iter().map(|r| row(r)));
        out.extend(notes(report, "- "));
        out.join("\n") + "\n"
    }
}
