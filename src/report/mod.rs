//! Output formats of a report behind one trait, a file each; table, Markdown and HTML draw one
//! page. Each report's page and CSV are in its own file (analyze, compare, profile, …).

mod analyze;
mod baseline;
mod compare;
mod corpus;
mod csv;
mod html;
mod inspect;
mod json;
mod markdown;
mod profile;
mod table;

use crate::inspect::InspectReport;
pub(crate) use html::html;

/// Renders a report of type `R` as text for stdout.
pub trait Exporter<R> {
    fn render(&self, report: &R) -> String;
}

/// Which report a saved JSON holds: its top-level `kind`, written by the JSON exporter and read
/// by `faustperf report`.
pub trait Kind {
    /// `analyze`, `compare`, `profile`, `inspect`, `baseline_check` or `corpus`.
    const KIND: &'static str;
}

/// The output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Human-readable ranked table with advice.
    Table,
    /// Every field, machine-readable.
    Json,
    /// A Markdown table with advice.
    Markdown,
    /// One row per option set, failures included.
    Csv,
}

impl Format {
    /// Renders `report` (an analysis or a profile) in this format.
    pub fn render<R>(self, report: &R) -> String
    where
        table::Table: Exporter<R>,
        json::Json: Exporter<R>,
        markdown::Markdown: Exporter<R>,
        csv::Csv: Exporter<R>,
    {
        match self {
            Format::Table => table::Table.render(report),
            Format::Json => json::Json.render(report),
            Format::Markdown => markdown::Markdown.render(report),
            Format::Csv => csv::Csv.render(report),
        }
    }
}

/// The formats of `inspect`: a page for people, or every field as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectFormat {
    /// Each option set's facts and advice, for people.
    Table,
    /// Every field, machine-readable.
    Json,
    /// The facts as a Markdown table.
    Markdown,
}

impl InspectFormat {
    pub fn render(self, report: &InspectReport) -> String {
        match self {
            InspectFormat::Table => table::Table.render(report),
            InspectFormat::Json => json::Json.render(report),
            InspectFormat::Markdown => markdown::Markdown.render(report),
        }
    }
}

impl TryFrom<Format> for InspectFormat {
    type Error = String;
    /// The same format for an inspection; CSV has none (its facts are sentences, not columns).
    fn try_from(format: Format) -> Result<Self, String> {
        match format {
            Format::Table => Ok(InspectFormat::Table),
            Format::Json => Ok(InspectFormat::Json),
            Format::Markdown => Ok(InspectFormat::Markdown),
            Format::Csv => {
                Err("an inspection has no CSV form: use --format table, markdown or json".into())
            }
        }
    }
}

/// What a report shows people: a heading, a table, titled lists under it and a closing line.
/// The text table and Markdown draw it (as hyperfine's `MarkupExporter` does); JSON and CSV
/// have their own, machine-readable shapes.
pub struct Page {
    heading: String,
    columns: Vec<&'static str>,
    /// Columns the text table aligns left (the others hold numbers).
    left: &'static [usize],
    /// The text table leaves the column names out (rows of names and values).
    headless: bool,
    rows: Vec<Vec<String>>,
    /// Titled lists; an empty one is left out.
    sections: Sections,
    /// The closing line, e.g. the conclusion.
    last: Option<String>,
}

type Sections = Vec<(&'static str, Vec<String>)>;

impl Page {
    /// The sections and the closing line, each list item after `bullet`.
    fn notes(&self, bullet: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (title, items) in self.sections.iter().filter(|(_, i)| !i.is_empty()) {
            out.push(String::new());
            out.push(format!("{title}:"));
            out.extend(items.iter().map(|i| format!("{bullet}{i}")));
        }
        if let Some(last) = &self.last {
            out.push(String::new());
            out.push(last.clone());
        }
        out
    }
}

/// A report that people read as a [`Page`].
pub trait Paged {
    fn page(&self) -> Page;
}

/// `Some(1.234)` with 1 digit → `1.2`; `None` → `–`.
fn number(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.digits$}"))
}

/// What callgrind counted for a set, in one line: `797.3 instructions, L1 misses 1.23, …`.
fn measured_counts_line(c: &crate::callgrind::Counts) -> String {
    let functions: Vec<String> = (c.functions.iter())
        .take(4)
        .map(|f| format!("{} {:.0} %", f.name, f.percent))
        .collect();
    format!(
        "{:.1} instructions, {:.2} L1 and {:.3} last-level misses; {}",
        c.instructions_per_frame,
        c.l1_misses_per_frame,
        c.ll_misses_per_frame,
        functions.join(", ")
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analyze::result::*;
    use crate::analyze::{advice, rank};
    use crate::dsp::FaustError;
    use crate::worker::{Phase, RunError};

    /// A report built from synthetic measurements, the same on every machine.
    pub(crate) fn sample_report() -> AnalyzeReport {
        let mut results = rank::tests::ranked(
            &[
                ("", 20_000.0, 100.0),
                ("-vec", 10_000.0, 100.0),
                ("-vec -fun -vs 64", 10_050.0, 100.0),
            ],
            1.0,
        );
        // The outputs' check: the scalar code at the float floor, -vec as near, -vs 64 close.
        for r in results.iter_mut() {
            let (snr, verdict) = match r.compiler_options.as_str() {
                "" => (141.5, crate::accuracy::Verdict::Same),
                "-vec" => (139.0, crate::accuracy::Verdict::Same),
                _ => (88.25, crate::accuracy::Verdict::Close),
            };
            r.accuracy = Some(crate::accuracy::Accuracy {
                difference: crate::accuracy::Difference {
                    snr_db: Some(snr),
                    peak_difference: 10f64.powf(-snr / 20.0),
                    non_finite: 0,
                    reference_non_finite: 0,
                    output_digest: format!("{snr}"),
                },
                vs_scalar: None,
                verdict,
            });
        }
        let recommended = results.iter().find(|r| r.is_recommended).unwrap();
        let command = advice::command(&results, "fixtures/example.dsp", None);
        let omp = crate::options::parse_option_set("-vec -omp").unwrap();
        let message = crate::backends::unsupported(&omp).unwrap();
        let refused = RunError::in_phase(Phase::Compile)(FaustError::Unsupported { message });
        let errors = vec![SetError::new(&omp, refused)];
        AnalyzeReport {
            dsp: "fixtures/example.dsp".into(),
            success: true,
            inputs: Some(1),
            outputs: Some(2),
            recommended_options: Some(recommended.compiler_options.clone()),
            recommended_backend: Some(recommended.backend),
            side_by_side: None,
            baseline_comparison: Some(BaselineComparison {
                speedup: 2.0,
                description: "-vec runs 2.00× the scalar baseline".into(),
            }),
            category: Some(Category::of(recommended.cpu_percent)),
            recommendations: advice::recommendations(&results, &errors, 44100),
            recommendation_rationale: advice::rationale(&results),
            conclusion: advice::conclusion(&results, 44100, command.as_ref()),
            recommended_command: command,
            vectorization_benefit: advice::vectorization_benefit(&results),
            openmp_benefit: None,
            dsp_analyzed: "fixtures/example.dsp".into(),
            test_config: TestConfig {
                sample_rate: 44100,
                duration_seconds: 3.0,
                backend: "llvm".into(),
            },
            recommended: Some(Recommended {
                options: recommended.compiler_options.clone(),
                backend: recommended.backend,
                rationale: advice::rationale(&results).unwrap(),
                speedup: recommended.speedup_vs_baseline,
            }),
            results,
            warnings: vec!["the CPU governor is `powersave`".into()],
            errors,
            conditions: Conditions {
                faustperf_version: "0.1.0".into(),
                common: crate::measure::Conditions {
                    toolchain: crate::libfaust::Toolchain {
                        libfaust_version: "2.54.9 (LLVM 14.0.6)".into(),
                        machine_target: "x86_64-pc-linux-gnu:znver3".into(),
                    },
                    cpu_model: Some("Example CPU".into()),
                    buffer_size: 512,
                    sample_rate: 44100,
                    machine: Default::default(),
                },
                core: Some(1),
                governor: Some("powersave".into()),
                realtime_priority: true,
                flush_denormals: true,
                clock: Some(crate::measure::clock::ClockKind::Tsc),
                clock_overhead_ns: Some(12.5),
                core_clock_ghz: Some([3.2, 3.2]),
                buffer_blocks: Some(1366),
                buffer_bytes: Some(16_785_408),
                budget: crate::measure::Budget::Adaptive {
                    precision_percent: 1.0,
                    max_seconds: 3.0,
                },
                best_n: 10,
                random_controls: false,
                seed: 1,
                tie_threshold_percent: 1.0,
                cxx: None,
                wasm_runtime: None,
                isolation: "worker".into(),
            },
            counting: None,
            wall_seconds: 3.5,
            search: None,
        }
    }

    #[test]
    fn table_snapshot() {
        insta::assert_snapshot!(Format::Table.render(&sample_report()));
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(Format::Markdown.render(&sample_report()));
    }

    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!(Format::Csv.render(&sample_report()));
    }

    #[test]
    fn inspect_table_snapshot() {
        let report = crate::inspect::tests::sample_report();
        insta::assert_snapshot!(InspectFormat::Table.render(&report));
    }

    #[test]
    fn inspect_json_snapshot() {
        let report = crate::inspect::tests::sample_report();
        let json: serde_json::Value =
            serde_json::from_str(&InspectFormat::Json.render(&report)).unwrap();
        insta::assert_json_snapshot!(json);
    }

    #[test]
    fn json_snapshot() {
        let json: serde_json::Value =
            serde_json::from_str(&Format::Json.render(&sample_report())).unwrap();
        insta::assert_json_snapshot!(json);
    }
}
