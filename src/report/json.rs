//! JSON: the report struct as it is.

use super::Exporter;
use serde::Serialize;

pub struct Json;

impl<R: Serialize> Exporter<R> for Json {
    fn render(&self, report: &R) -> String {
        // Reports hold only strings, numbers, options and vectors: serialising cannot fail.
        serde_json::to_string_pretty(report).expect("reports serialise") + "\n"
    }
}
