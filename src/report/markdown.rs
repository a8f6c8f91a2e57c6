//! A Markdown table with the same notes as the text table.

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

impl Exporter<CompareReport> for Markdown {
    fn render(&self, report: &CompareReport) -> String {
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
            format!("## {}", compare_heading(report)),
            String::new(),
            row(&COMPARE_HEADERS.map(String::from)),
            format!("|{}", "---|".repeat(COMPARE_HEADERS.len())),
        ];
        out.extend(compare_rows(report).iter().map(|r| row(r)));
        out.extend(compare_notes(report, "- "));
        out.join("\n") + "\n"
    }
}

impl Exporter<CheckReport> for Markdown {
    fn render(&self, report: &CheckReport) -> String {
        let row = |cells: &[String]| format!("| {} |", cells.join(" | "));
        let mut out = vec![
            format!("## {}", check_heading(report)),
            String::new(),
            row(&CHECK_HEADERS.map(String::from)),
            format!("|{}", "---|".repeat(CHECK_HEADERS.len())),
        ];
        out.extend(check_rows(report).iter().map(|r| row(r)));
        out.extend(check_notes(report, "- "));
        out.join("\n") + "\n"
    }
}

impl Exporter<CorpusReport> for Markdown {
    fn render(&self, report: &CorpusReport) -> String {
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
            format!("## {}", corpus_heading(report)),
            String::new(),
            row(&CORPUS_HEADERS.map(String::from)),
            format!("|{}", "---|".repeat(CORPUS_HEADERS.len())),
        ];
        out.extend(corpus_rows(report).iter().map(|r| row(r)));
        out.extend(corpus_notes(report, "- "));
        out.join("\n") + "\n"
    }
}
