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

/// A `## heading`, a Markdown table of `rows` under `headers` (`|` escaped), then `notes`.
fn page<const N: usize>(
    heading: String,
    headers: [&str; N],
    rows: &[[String; N]],
    notes: Vec<String>,
) -> String {
    let row = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
        format!("| {} |", cells.join(" | "))
    };
    let mut out = vec![
        format!("## {heading}"),
        String::new(),
        row(&headers.map(String::from)),
        format!("|{}", "---|".repeat(N)),
    ];
    out.extend(rows.iter().map(|r| row(r)));
    out.extend(notes);
    out.join("\n") + "\n"
}

impl Exporter<AnalyzeReport> for Markdown {
    fn render(&self, report: &AnalyzeReport) -> String {
        page(heading(report), HEADERS, &rows(report), notes(report, "- "))
    }
}

impl Exporter<ProfileReport> for Markdown {
    fn render(&self, report: &ProfileReport) -> String {
        let rows: Vec<[String; 2]> = profile_rows(report)
            .into_iter()
            .map(|(name, value)| [name.to_string(), value])
            .collect();
        page(
            profile_heading(report),
            ["metric", "value"],
            &rows,
            profile_notes(report, "- "),
        )
    }
}

impl Exporter<CompareReport> for Markdown {
    fn render(&self, report: &CompareReport) -> String {
        page(
            compare_heading(report),
            COMPARE_HEADERS,
            &compare_rows(report),
            compare_notes(report, "- "),
        )
    }
}

impl Exporter<CheckReport> for Markdown {
    fn render(&self, report: &CheckReport) -> String {
        page(
            check_heading(report),
            CHECK_HEADERS,
            &check_rows(report),
            check_notes(report, "- "),
        )
    }
}

impl Exporter<CorpusReport> for Markdown {
    fn render(&self, report: &CorpusReport) -> String {
        page(
            corpus_heading(report),
            CORPUS_HEADERS,
            &corpus_rows(report),
            corpus_notes(report, "- "),
        )
    }
}
