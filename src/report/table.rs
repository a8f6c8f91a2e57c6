//! The human-readable table (the default format).

use super::{display, Exporter, Paged};
use crate::inspect::InspectReport;
use crate::ir::{percent_of, round, InstructionCounts, SetInspection};
use crate::measure::units::human_bytes;

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

impl Exporter<InspectReport> for Table {
    fn render(&self, report: &InspectReport) -> String {
        let mut out = vec![format!(
            "{}: libfaust {}, {}; IR read with {}; counts are per frame (one sample of every channel) unless said",
            report.dsp, report.toolchain.libfaust_version, report.toolchain.machine_target, report.ir_reader_llvm
        )];
        for set in &report.sets {
            out.push(String::new());
            out.extend(inspection_lines(set));
        }
        if !report.errors.is_empty() {
            out.push(String::new());
            out.push("Not inspected:".into());
            out.extend(
                report
                    .errors
                    .iter()
                    .map(|e| format!("  - {}: {}", display(&e.compiler_options), e.message)),
            );
        }
        out.join("\n") + "\n"
    }
}

/// Instruction counts as one line: `312 instructions: float 80, …`.
fn counts_line(c: &InstructionCounts) -> String {
    format!(
        "{} instructions: float arithmetic {}, divisions {}, loads {}, stores {}, compares/selects {}, integer {}, conversions {}, calls {}, other {}",
        round(c.total),
        round(c.float_arith),
        round(c.divisions),
        round(c.loads),
        round(c.stores),
        round(c.compares_selects),
        round(c.integer),
        round(c.conversions),
        round(c.calls),
        round(c.other)
    )
}

/// The page of one option set.
fn inspection_lines(i: &SetInspection) -> Vec<String> {
    let m = &i.memory;
    let mut out = vec![format!(
        "{}  (libfaust: {})",
        display(&i.compiler_options),
        i.normalized_options
    )];
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
    out.push(format!(
        "  memory       DSP struct {} ({} B){delay}",
        human_bytes(m.struct_bytes),
        m.struct_bytes
    ));
    for x in &m.largest_members {
        out.push(format!(
            "               member {:>3} at {:>8} B: {:<11} {:<16} {:>10}",
            x.index,
            x.offset_bytes,
            format!("{:?}", x.kind)
                .to_lowercase()
                .replace("delayline", "delay line"),
            x.llvm_type,
            human_bytes(x.bytes)
        ));
    }
    if m.other_members > 0 {
        out.push(format!(
            "               {} other members: {}",
            m.other_members,
            human_bytes(m.other_members_bytes)
        ));
    }
    for t in &m.shared_tables {
        out.push(format!(
            "               shared table {} {}: {} (once per program, not per instance)",
            t.name,
            t.llvm_type,
            human_bytes(t.bytes)
        ));
    }
    out.push(format!("               {}", m.cross_check));
    let w = &i.work;
    match (&w.per_frame, w.frames_per_iteration) {
        (Some(c), Some(frames)) => {
            out.push(format!("  work/frame   {}", counts_line(c)));
            out.push(format!(
                "               frame loop: {} frame(s) per iteration; once per compute() call outside it: {}",
                round(frames),
                round(w.per_call_outside_frame_loop.total)
            ));
        }
        _ => out.push(format!(
            "  work         no loop over the frames recognised; per compute() call: {}",
            counts_line(&w.per_call_outside_frame_loop)
        )),
    }
    for note in &w.estimate_notes {
        out.push(format!("               estimate: {note}"));
    }
    out.push(format!(
        "  math calls   {}",
        if i.math_calls.is_empty() {
            "none per frame".to_string()
        } else {
            i.math_calls
                .iter()
                .map(|c| format!("{} {}", c.function, round(c.per_frame)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    ));
    if !i.table_reads.is_empty() {
        out.push(format!(
            "  table reads  {}",
            i.table_reads
                .iter()
                .map(|t| format!("{} {}", t.table, round(t.per_frame)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push(format!("  vectors      {}", i.vectorization.summary));
    out.push(format!("  feedback     {}", i.recursion.summary));
    if !i.advice.is_empty() {
        out.push("  advice".into());
        out.extend(i.advice.iter().map(|a| format!("    - {a}")));
    }
    out
}
