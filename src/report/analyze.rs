//! `analyze`'s report: the ranked option sets with their advice, as a page and as CSV.

use super::csv::{self, field, message_row, sheet, Csv};
use super::{measured_counts_line, number, Exporter, Kind, Page, Paged, Sections};
use crate::analyze::result::{AnalyzeReport, SetStatus};
use crate::measure::units::human_bytes;
use crate::measure::Budget;
use crate::options::display;

impl Kind for AnalyzeReport {
    const KIND: &'static str = "analyze";
}

impl Paged for AnalyzeReport {
    fn page(&self) -> Page {
        Page {
            heading: heading(self),
            columns: HEADERS.to_vec(),
            // Options and notes read left-aligned, numbers right-aligned.
            left: &[1, 9, 10],
            headless: false,
            rows: rows(self),
            sections: sections(self),
            last: Some(format!("Conclusion: {}", self.conclusion)),
        }
    }
}

const HEADERS: [&str; 11] = [
    "rank",
    "options",
    "MB/s",
    "95% CI MB/s",
    "cycles/frame",
    "CPU %",
    "speed-up",
    "memory",
    "compile s",
    "output",
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
                number(r.cycles_per_frame, 1),
                format!("{:.2}", r.cpu_percent),
                r.speedup_vs_baseline
                    .map_or_else(|| "–".into(), |s| format!("{s:.2}×")),
                r.memory_bytes.map_or_else(|| "?".into(), human_bytes),
                format!("{:.2}", r.compile_seconds),
                r.accuracy
                    .as_ref()
                    .map_or_else(|| "–".into(), |a| a.verdict.to_string()),
                notes.join(", "),
            ]
        })
        .collect();
    rows.extend(report.errors.iter().map(|e| {
        let mut row = vec!["–".to_string(); HEADERS.len()];
        row[1] = e.name();
        row[10] = e.status.words().into();
        row
    }));
    rows
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

const COLUMNS: &str = "dsp,compiler_options,backend,status,rank,throughput_mbps,ci95_low_mbps,ci95_high_mbps,rel_sd_percent,cycles_per_frame,cpu_percent,sample_rate,speedup_vs_baseline,memory_bytes,compile_seconds,tied_with_best,recommended,output_verdict,output_snr_db,message";

impl Exporter<AnalyzeReport> for Csv {
    fn render(&self, report: &AnalyzeReport) -> String {
        let sr = report.conditions.common.sample_rate;
        let measured = report.results.iter().map(|r| {
            vec![
                field(&report.dsp),
                field(&r.compiler_options),
                r.backend.to_string(),
                "ok".into(),
                r.rank.to_string(),
                r.throughput_mbps.to_string(),
                r.throughput_ci95_mbps[0].to_string(),
                r.throughput_ci95_mbps[1].to_string(),
                r.throughput_rel_sd_percent.to_string(),
                csv::number(r.cycles_per_frame),
                r.cpu_percent.to_string(),
                sr.to_string(),
                csv::number(r.speedup_vs_baseline),
                csv::number(r.memory_bytes),
                r.compile_seconds.to_string(),
                r.tied_with_best.to_string(),
                r.is_recommended.to_string(),
                csv::number(r.accuracy.as_ref().map(|a| a.verdict)),
                csv::number(r.accuracy.as_ref().and_then(|a| a.difference.snr_db)),
                String::new(),
            ]
        });
        let failed = report.errors.iter().map(|e| {
            let status = match e.status {
                SetStatus::Failed => "failed",
                SetStatus::Unsupported => "unsupported",
            };
            let mut row = message_row(&report.dsp, &e.compiler_options, status, 15, &e.message);
            row.insert(2, e.backend.to_string());
            row
        });
        let warned = (report.warnings.iter()).map(|w| {
            let mut row = message_row(&report.dsp, "", "warning", 15, w);
            row.insert(2, String::new());
            row
        });
        sheet(COLUMNS, measured.chain(failed).chain(warned))
    }
}
