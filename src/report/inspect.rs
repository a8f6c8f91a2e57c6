//! `inspect`'s report: each option set's facts about its generated code, as a page (no CSV).

use super::{measured_counts_line, Kind, Page, Paged};
use crate::inspect::InspectReport;
use crate::ir::{percent_of, round, InstructionCounts, SetInspection};
use crate::measure::units::human_bytes;
use crate::options::display;

impl Kind for InspectReport {
    const KIND: &'static str = "inspect";
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
