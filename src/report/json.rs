//! JSON: the report struct as it is.

use super::Exporter;
use crate::analyze::result::AnalyzeReport;

pub struct Json;

impl Exporter for Json {
    fn render(&self, report: &AnalyzeReport) -> String {
        // The report holds only strings, numbers, options and vectors: serialising cannot fail.
        serde_json::to_string_pretty(report).expect("reports serialise") + "\n"
    }
}
