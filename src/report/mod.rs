//! Output formats of a report, behind one trait; table, Markdown and CSV share one row builder.

mod csv;
mod html;
mod json;
mod markdown;
mod table;

use crate::analyze::result::AnalyzeReport;
use crate::baseline::{CheckReport, Metric};
use crate::compare::CompareReport;
use crate::corpus::CorpusReport;
use crate::inspect::InspectReport;
use crate::ir::{percent_of, round, InstructionCounts, SetInspection};
use crate::measure::units::human_bytes;
use crate::measure::Budget;
use crate::options::{display, display_on};
use crate::profile::ProfileReport;
pub(crate) use html::html;

/// Renders a report of type `R` as text for stdout.
pub trait Exporter<R> {
    fn render(&self, report: &R) -> String;
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

const HEADERS: [&str; 9] = [
    "rank",
    "options",
    "MB/s",
    "95% CI MB/s",
    "CPU %",
    "speed-up",
    "memory",
    "compile s",
    "notes",
];

/// One row per measured set, then one per failed or unsupported set.
fn rows(report: &AnalyzeReport) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = report
        .results
        .iter()
        .map(|r| {
            let mut notes = Vec::new();
            if r.is_recommended {
                notes.push("recommended");
            }
            if r.rank == 1 {
                notes.push("fastest");
            } else if r.tied_with_best {
                notes.push("tied with fastest");
            }
            if r.is_baseline {
                notes.push("baseline");
            }
            vec![
                r.rank.to_string(),
                r.name(),
                format!("{:.1}", r.throughput_mbps),
                format!(
                    "{:.1}–{:.1}",
                    r.throughput_ci95_mbps[0], r.throughput_ci95_mbps[1]
                ),
                format!("{:.2}", r.cpu_percent),
                r.speedup_vs_baseline
                    .map(|s| format!("{s:.2}×"))
                    .unwrap_or_else(|| "–".into()),
                r.memory_bytes
                    .map(human_bytes)
                    .unwrap_or_else(|| "?".into()),
                format!("{:.2}", r.compile_seconds),
                notes.join(", "),
            ]
        })
        .collect();
    rows.extend(report.errors.iter().map(|e| {
        vec![
            "–".into(),
            e.name(),
            "–".into(),
            "–".into(),
            "–".into(),
            "–".into(),
            "–".into(),
            "–".into(),
            e.status.words().into(),
        ]
    }));
    rows
}

/// `Some(1.234)` with 1 digit → `1.2`; `None` → `–`.
fn number(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "–".into(), |v| format!("{v:.digits$}"))
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

impl Paged for AnalyzeReport {
    fn page(&self) -> Page {
        Page {
            heading: heading(self),
            columns: HEADERS.to_vec(),
            // Options and notes read left-aligned, numbers right-aligned.
            left: &[1, 8],
            headless: false,
            rows: rows(self),
            sections: sections(self),
            last: Some(format!("Conclusion: {}", self.conclusion)),
        }
    }
}

impl Paged for CompareReport {
    fn page(&self) -> Page {
        Page {
            heading: compare_heading(self),
            columns: COMPARE_HEADERS.to_vec(),
            left: &[1, 2, 7],
            headless: false,
            rows: compare_rows(self),
            sections: vec![
                (
                    "Not measured",
                    self.errors
                        .iter()
                        .map(|e| format!("{}: {}", e.name, e.message))
                        .collect(),
                ),
                (
                    "Recommendations",
                    (!self.recommendations.is_empty())
                        .then(|| self.recommendations.clone())
                        .into_iter()
                        .collect(),
                ),
                ("Warnings", self.warnings.clone()),
            ],
            last: Some(format!("Verdict: {}", self.verdict)),
        }
    }
}

impl Paged for CheckReport {
    fn page(&self) -> Page {
        Page {
            heading: format!(
                "baseline {}: tolerance {} %; {}",
                self.baseline,
                self.tolerance_percent,
                match self.metric {
                    Metric::Time => "SLOWER or FASTER only when the whole 95 % interval of the change lies beyond it",
                    Metric::Instructions => "instructions per frame counted under callgrind (no noise, so no interval): SLOWER or FASTER when the change lies beyond it",
                }
            ),
            columns: match self.metric {
                Metric::Time => CHECK_HEADERS.to_vec(),
                Metric::Instructions => {
                    let mut columns = CHECK_HEADERS.to_vec();
                    columns[5..].copy_from_slice(&["baseline instr/frame", "now instr/frame"]);
                    columns
                }
            },
            left: &[0, 1, 2],
            headless: false,
            rows: check_rows(self),
            sections: vec![
                (
                    "Conditions differ from the baseline's",
                    self.condition_differences.clone(),
                ),
                ("Failed now", self.errors.clone()),
                ("Warnings", self.warnings.clone()),
            ],
            last: None,
        }
    }
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

impl Paged for ProfileReport {
    fn page(&self) -> Page {
        Page {
            heading: profile_heading(self),
            columns: vec!["metric", "value"],
            left: &[0, 1],
            headless: true,
            rows: profile_rows(self),
            sections: profile_sections(self),
            last: None,
        }
    }
}

impl Paged for InspectReport {
    fn page(&self) -> Page {
        Page {
            heading: format!(
                "{}: libfaust {}, {}; IR read with {}; counts are per frame (one sample of every channel) unless said",
                self.dsp, self.toolchain.libfaust_version, self.toolchain.machine_target, self.ir_reader_llvm
            ),
            columns: vec!["fact", "value"],
            left: &[0, 1],
            headless: true,
            rows: (self.sets.iter().enumerate())
                .flat_map(|(n, set)| {
                    let gap = (n > 0).then(|| vec![String::new(); 2]);
                    gap.into_iter().chain(inspection_rows(set))
                })
                .collect(),
            sections: vec![
                (
                    "Not inspected",
                    (self.errors.iter())
                        .map(|e| format!("{}: {}", display(&e.compiler_options), e.message))
                        .collect(),
                ),
                ("Warnings", self.warnings.clone()),
            ],
            last: None,
        }
    }
}

/// Instruction counts as one line: `312 instructions: float arithmetic 80, …`.
fn counts_line(c: &InstructionCounts) -> String {
    let kinds: Vec<String> = (c.by_kind().iter())
        .map(|(kind, n)| format!("{kind} {}", round(*n)))
        .collect();
    format!("{} instructions: {}", round(c.total), kinds.join(", "))
}

/// What callgrind counted for a set, in one line: `797.3 instructions, L1 misses 1.23, …`.
fn measured_counts_line(c: &crate::counters::Counts) -> String {
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

/// The rows of one option set's inspection: its name, then a fact per row (a fact of several
/// lines continues in rows with no name).
fn inspection_rows(i: &SetInspection) -> Vec<Vec<String>> {
    let mut rows: Vec<(&str, String)> = vec![(
        display(&i.compiler_options),
        format!("(libfaust: {})", i.normalized_options),
    )];
    let m = &i.memory;
    let delay = if m.delay_lines > 0 {
        format!(
            "; {} delay line(s) hold {} ({:.1} %)",
            m.delay_lines,
            human_bytes(m.delay_line_bytes),
            percent_of(m.delay_line_bytes, m.struct_bytes)
        )
    } else {
        String::new()
    };
    rows.push((
        "memory",
        format!(
            "DSP struct {} ({} B){delay}",
            human_bytes(m.struct_bytes),
            m.struct_bytes
        ),
    ));
    for x in &m.largest_members {
        rows.push((
            "",
            format!(
                "member {:>3} at {:>8} B: {:<11} {:<16} {:>10}",
                x.index,
                x.offset_bytes,
                format!("{:?}", x.kind)
                    .to_lowercase()
                    .replace("delayline", "delay line"),
                x.llvm_type,
                human_bytes(x.bytes)
            ),
        ));
    }
    if m.other_members > 0 {
        rows.push((
            "",
            format!(
                "{} other members: {}",
                m.other_members,
                human_bytes(m.other_members_bytes)
            ),
        ));
    }
    for t in &m.shared_tables {
        rows.push((
            "",
            format!(
                "shared table {} {}: {} (once per program, not per instance)",
                t.name,
                t.llvm_type,
                human_bytes(t.bytes)
            ),
        ));
    }
    rows.push(("", m.cross_check.clone()));
    let w = &i.work;
    match (&w.per_frame, w.frames_per_iteration) {
        (Some(c), Some(frames)) => {
            rows.push(("work/frame", counts_line(c)));
            rows.push((
                "",
                format!(
                    "frame loop: {} frame(s) per iteration; once per compute() call outside it: {}",
                    round(frames),
                    round(w.per_call_outside_frame_loop.total)
                ),
            ));
        }
        _ => rows.push((
            "work",
            format!(
                "no loop over the frames recognised; per compute() call: {}",
                counts_line(&w.per_call_outside_frame_loop)
            ),
        )),
    }
    for note in &w.estimate_notes {
        rows.push(("", format!("estimate: {note}")));
    }
    if let Some(m) = &i.measured {
        let ratio = m
            .measured_over_estimate
            .map_or(String::new(), |r| format!(" ({r:.2}× the IR's estimate)"));
        rows.push((
            "measured",
            format!(
                "counted under callgrind{ratio}: {}",
                measured_counts_line(&m.counts)
            ),
        ));
    }
    let calls: Vec<String> = (i.math_calls.iter())
        .map(|c| format!("{} {}", c.function, round(c.per_frame)))
        .collect();
    rows.push((
        "math calls",
        if calls.is_empty() {
            "none per frame".into()
        } else {
            calls.join(", ")
        },
    ));
    if !i.table_reads.is_empty() {
        let reads: Vec<String> = (i.table_reads.iter())
            .map(|t| format!("{} {}", t.table, round(t.per_frame)))
            .collect();
        rows.push(("table reads", reads.join(", ")));
    }
    rows.push(("vectors", i.vectorization.summary.clone()));
    rows.push(("feedback", i.recursion.summary.clone()));
    for (n, a) in i.advice.iter().enumerate() {
        rows.push((if n == 0 { "advice" } else { "" }, a.clone()));
    }
    rows.into_iter()
        .map(|(name, value)| vec![name.to_string(), value])
        .collect()
}

/// The lists under the table: failures, advice, warnings, the generated code.
fn sections(report: &AnalyzeReport) -> Sections {
    let mut out = Vec::new();
    out.push((
        "Not measured",
        report
            .errors
            .iter()
            .map(|e| format!("{}: {}", e.name(), e.message))
            .collect(),
    ));
    if let Some(s) = &report.side_by_side {
        let mut lines: Vec<String> = (s.sets.iter())
            .map(|row| {
                let cells: Vec<String> = (s.backends.iter().zip(&row.throughput_mbps))
                    .map(|(b, mbps)| format!("{b} {}", number(*mbps, 1)))
                    .collect();
                let fastest = row
                    .fastest
                    .map_or(String::new(), |b| format!(" → fastest on {b}"));
                format!(
                    "{}: {}{fastest}",
                    display(&row.compiler_options),
                    cells.join(" · ")
                )
            })
            .collect();
        lines.extend(s.llvm_winner_on_cpp.clone());
        out.push(("Backends side by side (MB/s)", lines));
    }
    out.push(("Recommendations", report.recommendations.clone()));
    let mut warnings = report.warnings.clone();
    for r in &report.results {
        warnings.extend(r.warnings.iter().map(|w| format!("{}: {w}", r.name())));
    }
    out.push(("Warnings", warnings));
    if let Some(counting) = &report.counting {
        let mut lines: Vec<String> = (report.results.iter())
            .filter_map(|r| {
                Some(format!(
                    "{}: {}",
                    r.name(),
                    measured_counts_line(r.counts.as_ref()?)
                ))
            })
            .collect();
        lines.extend(report.results.iter().filter_map(|r| {
            let h = r.hardware.as_ref()?;
            Some(format!(
                "{} on this CPU: {:.1} cycles, {:.1} instructions ({:.2} per cycle), {:.3} cache misses of {:.3} references, {:.3} branch misses",
                r.name(),
                h.cycles_per_frame,
                h.instructions_per_frame,
                h.ipc,
                h.cache_misses_per_frame,
                h.cache_references_per_frame,
                h.branch_misses_per_frame
            ))
        }));
        lines.extend(counting.notes.iter().cloned());
        lines.push(format!(
            "counted with {} on code for {}, {} blocks of {} frames; hardware counters: {}",
            counting.conditions.valgrind,
            counting.conditions.target,
            counting.conditions.blocks,
            counting.conditions.frames_per_block,
            counting.hardware_counters
        ));
        out.push(("Instructions per frame (callgrind)", lines));
    }
    out.push((
        "Generated code (per frame)",
        report
            .results
            .iter()
            .filter_map(|r| {
                let i = r.inspection.as_ref()?;
                Some(format!("{}: {}", r.name(), crate::inspect::key_facts(i)))
            })
            .collect(),
    ));
    out
}

const COMPARE_HEADERS: [&str; 8] = [
    "rank",
    "implementation",
    "options",
    "MB/s",
    "ns/frame (95% CI)",
    "CPU %",
    "memory",
    "relative performance",
];

/// One row per compared implementation, then one per failure.
fn compare_rows(report: &CompareReport) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = report
        .comparison
        .iter()
        .map(|r| {
            vec![
                r.rank.to_string(),
                r.name.clone(),
                display_on(&r.compiler_options, r.backend),
                format!("{:.1}", r.throughput_mbps),
                format!(
                    "{:.3} ({:.3}–{:.3})",
                    r.ns_per_frame, r.ns_per_frame_ci95[0], r.ns_per_frame_ci95[1]
                ),
                format!("{:.3}", r.cpu_percent),
                r.memory_bytes
                    .map(human_bytes)
                    .unwrap_or_else(|| "?".into()),
                r.relative_performance.clone(),
            ]
        })
        .collect();
    rows.extend(report.errors.iter().map(|e| {
        let mut row = vec![String::new(); 8];
        row[0] = "–".into();
        row[1] = e.name.clone();
        row[7] = "failed".into();
        row
    }));
    rows
}

const CHECK_HEADERS: [&str; 7] = [
    "dsp",
    "options",
    "status",
    "change %",
    "95% CI %",
    "baseline MB/s",
    "now MB/s",
];

/// One row per baseline entry (and new entry).
fn check_rows(report: &CheckReport) -> Vec<Vec<String>> {
    report
        .rows
        .iter()
        .map(|r| {
            vec![
                r.dsp.clone(),
                display(&r.compiler_options).to_string(),
                format!("{:?}", r.status).to_uppercase(),
                number(r.change_percent, 1),
                r.change_ci95_percent
                    .map_or_else(|| "–".into(), |[a, b]| format!("{a:.1}–{b:.1}")),
                number(r.baseline_mbps.or(r.baseline_instructions_per_frame), 1),
                number(r.current_mbps.or(r.current_instructions_per_frame), 1),
            ]
        })
        .collect()
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

/// The line that says what a comparison ran.
fn compare_heading(report: &CompareReport) -> String {
    format!(
        "compare {} implementations by {}, interleaved rounds: bs {}, {} Hz, {}; libfaust {}, {}, core {}",
        report.comparison.len() + report.errors.len(),
        report.compared_by,
        report.conditions.buffer_size,
        report.conditions.sample_rate,
        match report.budget {
            Budget::Fixed { seconds } => format!("{seconds} s each"),
            Budget::Adaptive { precision_percent, max_seconds } => format!("to ±{precision_percent} % or {max_seconds} s each"),
        },
        report.conditions.toolchain.libfaust_version,
        report.conditions.toolchain.machine_target,
        report.core.map_or_else(|| "not pinned".into(), |c| c.to_string()),
    )
}

/// The profile's numbers, a row of name and value each.
fn profile_rows(p: &ProfileReport) -> Vec<Vec<String>> {
    let m = &p.metrics;
    let optional_bytes = |b: Option<u64>| b.map(human_bytes).unwrap_or_else(|| "?".into());
    [
        ("average load", format!("{:.2} %", m.avg_cpu_percent)),
        (
            "peak load (worst block)",
            format!("{:.2} %", m.peak_cpu_percent),
        ),
        (
            "p50 / p95 / p99 load",
            format!(
                "{:.2} / {:.2} / {:.2} %",
                m.p50_cpu_percent, m.p95_cpu_percent, m.p99_cpu_percent
            ),
        ),
        (
            "latency avg / peak",
            format!(
                "{:.1} / {:.1} samples ({:.3} / {:.3} ms)",
                m.avg_latency_samples, m.peak_latency_samples, m.avg_latency_ms, m.peak_latency_ms
            ),
        ),
        (
            "deadline misses",
            format!("{} of {} blocks", m.buffer_underruns, m.blocks_processed),
        ),
        (
            "host xruns",
            m.host_xruns
                .map_or_else(|| "– (paced)".into(), |x| x.to_string()),
        ),
        (
            "callback jitter, 99th percentile",
            m.callback_jitter_p99_us
                .map_or_else(|| "– (paced)".into(), |j| format!("{j:.1} µs")),
        ),
        (
            "behind schedule at the end",
            format!("{:.3} s", m.behind_seconds),
        ),
        (
            "sample rate achieved",
            format!("{:.1} Hz", m.sample_rate_achieved),
        ),
        (
            "memory peak",
            format!(
                "{} (instance {}, buffers {})",
                optional_bytes(m.memory_peak_bytes),
                optional_bytes(m.instance_bytes),
                human_bytes(m.buffer_bytes as u64)
            ),
        ),
        (
            "allocations around compute()",
            m.allocations_in_callback
                .map_or_else(|| "not counted".into(), |a| a.to_string()),
        ),
        (
            "first NaN/Inf output",
            m.first_non_finite_seconds
                .map_or_else(|| "none".into(), |t| format!("{t:.3} s")),
        ),
        ("category", format!("{:?}", p.category)),
        (
            "denormal slow-down",
            p.denormal_slowdown.map_or_else(
                || "not measured".into(),
                |d| format!("{d:.2}× (worst second of a decaying tail without flush-to-zero)"),
            ),
        ),
    ]
    .into_iter()
    .map(|(name, value)| vec![name.to_string(), value])
    .collect()
}

/// The line that says what a profile ran.
fn profile_heading(p: &ProfileReport) -> String {
    let thread = p.thread.as_ref();
    format!(
        "{} {}: {} at {} Hz, {} frames, {} s, signal {}; libfaust {}, {}, {}",
        p.dsp,
        display_on(&p.compiler_options, p.backend),
        p.mode,
        p.conditions.sample_rate,
        p.conditions.buffer_size,
        p.duration_seconds,
        p.signal,
        p.conditions.toolchain.libfaust_version,
        p.conditions.toolchain.machine_target,
        match thread {
            Some(t) => format!(
                "core {}, real-time priority {}",
                t.core
                    .map_or_else(|| "not pinned".into(), |c| c.to_string()),
                if t.realtime_priority {
                    "granted"
                } else {
                    "not granted"
                }
            ),
            None => "on the audio host's callback thread".into(),
        },
    )
}

/// The lists under a profile's numbers: load over time, probes, controls, advice, warnings.
fn profile_sections(p: &ProfileReport) -> Sections {
    let t = &p.timeline;
    let counted = (p.counted.iter())
        .map(|c| {
            format!(
                "{} ({}, code for {}, {} blocks)",
                measured_counts_line(&c.counts),
                c.conditions.valgrind,
                c.conditions.target,
                c.conditions.blocks
            )
        })
        .collect();
    let step = (t.timestamps.len() / 10).max(1);
    let mut out = vec![(
        "Load over time (mean / worst block of 100 ms windows; 10 shown, all in JSON and CSV)",
        (0..t.timestamps.len())
            .step_by(step)
            .map(|i| {
                format!(
                    "{:>7.1} s  {:>7.2} % / {:>7.2} %",
                    t.timestamps[i], t.cpu_usage_over_time[i], t.max_cpu_over_time[i]
                )
            })
            .collect(),
    )];
    out.push(("Instructions per frame (callgrind)", counted));
    out.push((
        "Block sizes, back to back (99th-percentile / worst load)",
        p.block_sizes
            .iter()
            .map(|b| {
                format!(
                    "{} frames: {:.1} % / {:.1} %",
                    b.frames, b.p99_load_percent, b.max_load_percent
                )
            })
            .collect(),
    ));
    out.push((
        "Controls",
        p.controls
            .iter()
            .map(|c| format!("{}: {}", c.path, c.values))
            .collect(),
    ));
    out.push(("Recommendations", p.recommendations.clone()));
    out.push(("Warnings", p.warnings.clone()));
    out
}

/// The line that says what was measured and under which conditions.
fn heading(report: &AnalyzeReport) -> String {
    let c = &report.conditions;
    let channels = match (report.inputs, report.outputs) {
        (Some(i), Some(o)) => format!("{i} in, {o} out, "),
        _ => String::new(),
    };
    format!(
        "{}: {channels}bs {}, {} Hz, mean of the {} fastest blocks, sets measured interleaved {}; libfaust {}, {}, core {}, throughput in MB/s of 2^20 bytes",
        report.dsp,
        c.common.buffer_size,
        c.common.sample_rate,
        c.best_n,
        match c.budget {
            Budget::Fixed { seconds } => format!("{seconds} s per set"),
            Budget::Adaptive { precision_percent, max_seconds } => {
                format!("to ±{precision_percent} % or {max_seconds} s per set")
            }
        },
        c.common.toolchain.libfaust_version,
        c.common.toolchain.machine_target,
        match (c.core, c.clock) {
            (Some(core), _) => core.to_string(),
            (None, Some(_)) => "not pinned".into(),
            (None, None) => "–".into(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::result::*;
    use crate::analyze::{advice, rank};
    use crate::libfaust::FaustError;
    use crate::worker::{Phase, RunError};

    /// A report built from synthetic measurements, the same on every machine.
    pub(crate) fn sample_report() -> AnalyzeReport {
        let results = rank::rank(
            vec![
                rank::tests::measured("", 20_000.0, 100.0),
                rank::tests::measured("-vec", 10_000.0, 100.0),
                rank::tests::measured("-vec -fun -vs 64", 10_050.0, 100.0),
            ],
            512,
            44100,
            1.0,
        );
        let recommended = results.iter().find(|r| r.is_recommended).unwrap();
        let command = advice::command(&results, "fixtures/example.dsp", None);
        let errors = vec![SetError::new(
            &crate::options::parse_option_set("-vec -omp").unwrap(),
            RunError::Faust {
                phase: Phase::Compile,
                error: FaustError::Unsupported {
                    message: crate::options::parse_option_set("-vec -omp")
                        .unwrap()
                        .unsupported()
                        .unwrap(),
                },
            },
        )];
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
