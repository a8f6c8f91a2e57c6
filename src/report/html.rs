//! A self-contained HTML page of a report: its heading, table and notes, with its chart inline.
//! No network, no script, no external font; readable on a phone and in print.

use super::{Page, Paged};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:80rem;padding:0 1rem;color:#222}\
h1{font-size:1.1rem;font-weight:600}\
.chart svg{width:100%;height:auto}\
.scroll{overflow-x:auto}\
table{border-collapse:collapse;font-size:.9rem}\
th,td{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}\
th{background:#f4f4f4}\
td.left,th.left{text-align:left}\
table.facts td{white-space:normal}\
li{margin:.2rem 0}\
@media print{.chart{break-inside:avoid}body{max-width:none}}";

/// `report` as one HTML document, with `chart` (an SVG document) above its table.
pub(crate) fn html<R: Paged>(report: &R, chart: Option<&str>) -> String {
    let page: Page = report.page();
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(&page.heading),
        escape(&page.heading)
    );
    if let Some(svg) = chart {
        // The SVG document without its XML declaration, inline.
        let start = svg.find("<svg").unwrap_or(0);
        out.push_str(&format!("<div class=\"chart\">{}</div>\n", &svg[start..]));
    }
    // A table row of `tag` cells; the page's left columns are aligned left.
    let row = |tag: &str, cells: Vec<&str>| {
        let cells: String = (cells.iter().enumerate())
            .map(|(i, text)| {
                let class = if page.left.contains(&i) {
                    " class=\"left\""
                } else {
                    ""
                };
                format!("<{tag}{class}>{}</{tag}>", escape(text))
            })
            .collect();
        format!("<tr>{cells}</tr>\n")
    };
    let class = if page.headless {
        " class=\"facts\""
    } else {
        ""
    };
    out.push_str(&format!("<div class=\"scroll\"><table{class}>\n"));
    if !page.headless {
        out.push_str(&row("th", page.columns.clone()));
    }
    for cells in &page.rows {
        out.push_str(&row("td", cells.iter().map(String::as_str).collect()));
    }
    out.push_str("</table></div>\n");
    for (title, items) in page.sections.iter().filter(|(_, i)| !i.is_empty()) {
        out.push_str(&format!("<h2>{}</h2>\n<ul>\n", escape(title)));
        for item in items {
            out.push_str(&format!("<li>{}</li>\n", escape(item)));
        }
        out.push_str("</ul>\n");
    }
    if let Some(last) = &page.last {
        out.push_str(&format!("<p><strong>{}</strong></p>\n", escape(last)));
    }
    out.push_str("</body></html>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
