//! `corpus`'s report: a row per DSP and the totals over the corpus, as a page and as CSV.

use super::csv::{self, field, sheet, Csv};
use super::{number, Exporter, Kind, Page, Paged, Sections};
use crate::corpus::CorpusReport;
use crate::options::display;

impl Kind for CorpusReport {
    const KIND: &'static str = "corpus";
}

impl Paged for CorpusReport {
    fn page(&self) -> Page {
        let a = &self.aggregates;
        Page {
            heading: format!(
                "corpus {}: {} measured, {} failed, {} skipped in {:.0} s",
                self.dir, a.measured, a.failed, a.skipped, self.wall_seconds
            ),
            columns: CORPUS_HEADERS.to_vec(),
            left: &[0, 1, 2, 6],
            headless: false,
            rows: corpus_rows(self),
            sections: corpus_sections(self),
            last: None,
        }
    }
}

const CORPUS_HEADERS: [&str; 7] = [
    "dsp",
    "status",
    "best options",
    "best MB/s",
    "CPU %",
    "speed-up",
    "failures or reason",
];

/// One row per DSP of a corpus.
fn corpus_rows(report: &CorpusReport) -> Vec<Vec<String>> {
    report
        .entries
        .iter()
        .map(|e| {
            vec![
                e.dsp.clone(),
                e.status.clone(),
                e.best_options
                    .as_deref()
                    .map_or_else(|| "–".into(), |o| display(o).to_string()),
                number(e.best_mbps, 1),
                number(e.cpu_percent, 3),
                e.speedup_vs_scalar
                    .map_or_else(|| "–".into(), |s| format!("{s:.2}×")),
                match (&e.reason, e.failures.len()) {
                    (Some(reason), _) => reason.replace('\n', " "),
                    (None, 0) => String::new(),
                    (None, n) => format!("{n} option set(s) failed"),
                },
            ]
        })
        .collect()
}

/// The lists under a corpus table: wins, speed-ups, failures.
fn corpus_sections(report: &CorpusReport) -> Sections {
    let a = &report.aggregates;
    let mut out = Vec::new();
    let mut wins: Vec<(&String, &usize)> = a.wins.iter().collect();
    wins.sort_by(|x, y| y.1.cmp(x.1));
    out.push((
        "Fastest option set, how often",
        wins.iter()
            .map(|(o, n)| format!("{}: {n}", display(o)))
            .collect(),
    ));
    out.push((
        "Geometric-mean speed-up over scalar",
        a.geomean_speedup_vs_scalar
            .iter()
            .map(|(o, g)| format!("{}: {g:.2}×", display(o)))
            .collect(),
    ));
    out.push((
        "Failures and skips by reason",
        a.reasons
            .iter()
            .map(|(r, n)| format!("{n} × {r}"))
            .collect(),
    ));
    out.push(("Warnings", report.warnings.clone()));
    out
}

/// One row per DSP.
impl Exporter<CorpusReport> for Csv {
    fn render(&self, report: &CorpusReport) -> String {
        let rows = report.entries.iter().map(|e| {
            vec![
                field(&e.dsp),
                e.status.clone(),
                field(e.best_options.as_deref().unwrap_or("")),
                csv::number(e.best_mbps),
                csv::number(e.cpu_percent),
                csv::number(e.speedup_vs_scalar),
                e.failures.len().to_string(),
                field(e.reason.as_deref().unwrap_or("")),
            ]
        });
        sheet(
            "dsp,status,best_options,best_mbps,cpu_percent,speedup_vs_scalar,failed_sets,reason",
            rows,
        )
    }
}
