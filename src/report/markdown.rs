//! A Markdown table with the same notes as the text table.

use super::{
    heading, notes, profile_heading, profile_notes, profile_rows, rows, Exporter, HEADERS,
};
use crate::analyze::result::AnalyzeReport;
use crate::profile::ProfileReport;

pub struct Markdown;

impl Exporter<AnalyzeReport> for Markdown {
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

impl Exporter<ProfileReport> for Markdown {
    fn render(&self, report: &ProfileReport) -> String {
        let mut out = vec![
            format!("## {}", profile_heading(report)),
            String::new(),
            "| metric | value |".into(),
            "|---|---|".into(),
        ];
        out.extend(
            profile_rows(report)
                .iter()
                .map(|(name, value)| format!("| {name} | {} |", value.replace('|', "\\|"))),
        );
        out.extend(profile_notes(report, "- "));
        out.join("\n") + "\n"
    }
}
