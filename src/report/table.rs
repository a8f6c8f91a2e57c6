//! The human-readable table (the default format).

use super::{Exporter, Paged};

pub struct Table;

/// The heading, the rows laid out under the column names (left-aligning the page's left
/// columns, right-aligning the numbers), then the notes.
impl<R: Paged> Exporter<R> for Table {
    fn render(&self, report: &R) -> String {
        let page = report.page();
        let header: Vec<String> = page.columns.iter().map(|c| c.to_string()).collect();
        let mut widths: Vec<usize> = vec![0; header.len()];
        let shown = (!page.headless).then_some(&header);
        for row in shown.into_iter().chain(&page.rows) {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &Vec<String>| -> String {
            let text: Vec<String> = cells
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (cell, &w))| {
                    if page.left.contains(&i) {
                        format!("{cell:<w$}")
                    } else {
                        format!("{cell:>w$}")
                    }
                })
                .collect();
            text.join("  ").trim_end().to_string()
        };
        let mut out = vec![page.heading.clone(), String::new()];
        out.extend(shown.into_iter().chain(&page.rows).map(line));
        out.extend(page.notes("  - "));
        out.join("\n") + "\n"
    }
}
