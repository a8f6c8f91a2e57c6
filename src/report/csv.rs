//! CSV: each report's sheet (in its own file) is drawn with these cells: numbers unrounded,
//! fields quoted, failures and warnings as rows that carry a message.

/// Renders a report as CSV; each report's file implements [`super::Exporter`] for it.
pub struct Csv;

/// A header line, then a line of comma-separated cells per row.
pub(super) fn sheet(header: &str, rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = vec![header.to_string()];
    out.extend(rows.map(|cells| cells.join(",")));
    out.join("\n") + "\n"
}

/// A row that carries a message: the first two cells, a status, `blanks` empty cells, the
/// message (failures, and the report's warnings as `warning` rows).
pub(super) fn message_row(
    first: &str,
    options: &str,
    status: &str,
    blanks: usize,
    message: &str,
) -> Vec<String> {
    let mut cells = vec![field(first), field(options), status.into()];
    cells.extend(std::iter::repeat_n(String::new(), blanks));
    cells.push(field(message));
    cells
}

/// A number unrounded, or an empty cell.
pub(super) fn number(x: Option<impl ToString>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
pub(super) fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}
