//! JSON: the report's `kind`, then the report struct as it is.

use super::{Exporter, Kind};
use serde::Serialize;

pub struct Json;

/// The report's fields after its `kind`, at the top level.
#[derive(Serialize)]
struct Saved<'a, R> {
    kind: &'static str,
    #[serde(flatten)]
    report: &'a R,
}

impl<R: Serialize + Kind> Exporter<R> for Json {
    fn render(&self, report: &R) -> String {
        let saved = Saved {
            kind: R::KIND,
            report,
        };
        // Reports hold only strings, numbers, options and vectors: serialising cannot fail.
        serde_json::to_string_pretty(&saved).expect("reports serialise") + "\n"
    }
}
