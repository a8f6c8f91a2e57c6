//! A Markdown page: the same heading, table and notes as the text table.

use super::{Exporter, Paged};

pub struct Markdown;

/// A `## heading`, a Markdown table (`|` escaped), then the notes.
impl<R: Paged> Exporter<R> for Markdown {
    fn render(&self, report: &R) -> String {
        let page = report.page();
        let row = |cells: Vec<String>| {
            let cells: Vec<String> = cells.iter().map(|c| c.replace('|', "\\|")).collect();
            format!("| {} |", cells.join(" | "))
        };
        let mut out = vec![
            format!("## {}", page.heading),
            String::new(),
            row(page.columns.iter().map(|c| c.to_string()).collect()),
            format!("|{}", "---|".repeat(page.columns.len())),
        ];
        out.extend(page.rows.iter().cloned().map(row));
        out.extend(page.notes("- "));
        out.join("\n") + "\n"
    }
}
