//! From the IR's facts to the report of one option set: memory cross-check, summaries, advice.

use super::facts::{Member, MemberKind, Memory, Recursion, SetInspection, Vectorization, Work};
use super::read::IrFacts;
use super::{percent_of, round};
use crate::measure::units::human_bytes;
use crate::options::OptionSet;

/// Largest members listed one by one.
const LARGEST: usize = 5;

pub(super) fn build(
    options: &OptionSet,
    normalized_options: &str,
    facts: IrFacts,
    heap_bytes: Option<u64>,
    machine_target: &str,
) -> SetInspection {
    let vec = options.args.iter().any(|o| o == "-vec");
    let per_frame = facts.frames_per_iteration.map(|_| facts.per_frame.clone());
    let work_share = per_frame.as_ref().map_or(0.0, |c| c.total - c.other);
    let l = facts.loops_per_frame;
    let mut inspection = SetInspection {
        compiler_options: options.label.clone(),
        normalized_options: normalized_options.to_string(),
        memory: memory(&facts, heap_bytes),
        work: Work {
            frames_per_iteration: facts.frames_per_iteration,
            per_frame,
            per_call_outside_frame_loop: facts.per_call.clone(),
            estimate: !facts.estimate_notes.is_empty(),
            estimate_notes: facts.estimate_notes.clone(),
        },
        math_calls: facts.math_calls.clone(),
        table_reads: facts.table_reads.clone(),
        vectorization: Vectorization {
            vector_share_percent: if work_share > 0.0 {
                100.0 * facts.vector_per_frame / work_share
            } else {
                0.0
            },
            vector_per_frame: facts.vector_per_frame,
            widths: facts.widths.clone(),
            vector_outside_frame_loop: facts.vector_per_call,
            loops_per_frame: l.loops,
            vectorized_loops: l.vectorized,
            summary: String::new(),
        },
        recursion: Recursion {
            recurrent_loops: l.recurrent,
            carried_values: l.carried_values,
            recursive_buffers: facts.recursive_buffers,
            summary: recursion_summary(&facts),
        },
        advice: Vec::new(),
        measured: None,
    };
    inspection.vectorization.summary = vector_summary(&inspection, vec);
    inspection.advice = advice(&inspection, vec, machine_target);
    inspection
}

fn memory(facts: &IrFacts, heap_bytes: Option<u64>) -> Memory {
    let mut members = facts.members.clone();
    members.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.index.cmp(&b.index)));
    let others: Vec<Member> = members.split_off(LARGEST.min(members.len()));
    let delay_lines: Vec<&Member> = facts
        .members
        .iter()
        .filter(|m| m.kind == MemberKind::DelayLine)
        .collect();
    let s = facts.struct_bytes;
    let tables: u64 = facts.shared_tables.iter().map(|t| t.bytes).sum();
    let tables_note = if tables > 0 {
        format!(
            "; the shared tables ({}) are allocated once per compiled program, not per instance, and are not in it",
            human_bytes(tables)
        )
    } else {
        String::new()
    };
    let cross_check = match heap_bytes {
        Some(h) if h >= s => format!(
            "memory_bytes of analyze (the heap growth when libfaust creates and initialises an instance) is {h} B: the struct's {s} B plus {} B that libfaust allocates around it (its instance object and the allocator's bookkeeping){tables_note}",
            h - s
        ),
        Some(h) => format!(
            "memory_bytes of analyze ({h} B) is {} B below the struct's {s} B: the allocator served part of the instance from memory freed earlier, which does not count as heap growth{tables_note}",
            s - h
        ),
        None => format!("memory_bytes could not be measured on this system{tables_note}"),
    };
    Memory {
        struct_bytes: s,
        other_members_bytes: others.iter().map(|m| m.bytes).sum(),
        other_members: others.len(),
        largest_members: members,
        delay_lines: delay_lines.len(),
        delay_line_bytes: delay_lines.iter().map(|m| m.bytes).sum(),
        shared_tables: facts.shared_tables.clone(),
        instance_heap_bytes: heap_bytes,
        cross_check,
    }
}

fn vector_summary(i: &SetInspection, vec: bool) -> String {
    let v = &i.vectorization;
    if i.work.per_frame.is_none() {
        return "no loop over the frames was recognised, so the share of vector code is unknown"
            .into();
    }
    if v.vector_per_frame == 0.0 {
        let tail = if v.vector_outside_frame_loop > 0.0 {
            format!(
                "; the only vector code ({} instructions) is outside the frame loop, in the tail that handles a block's last frames",
                round(v.vector_outside_frame_loop)
            )
        } else {
            String::new()
        };
        return if vec {
            format!(
                "-vec produced no vector code per frame: none of the {} loops that run per frame uses vectors ({} of them carry values from one frame to the next){tail}",
                v.loops_per_frame, i.recursion.recurrent_loops
            )
        } else {
            format!("scalar code: no vector instructions per frame{tail}")
        };
    }
    let width = v
        .widths
        .first()
        .map(|w| format!(", mostly {} lanes ({}-bit)", w.lanes, w.bits))
        .unwrap_or_default();
    format!(
        "{:.0} % of the per-frame instructions that compute or move data are vector instructions{width}; {} of the {} loops that run per frame use vectors{}",
        v.vector_share_percent,
        v.vectorized_loops,
        v.loops_per_frame,
        if vec {
            ""
        } else {
            " (LLVM vectorised this scalar code by itself)"
        }
    )
}

fn recursion_summary(facts: &IrFacts) -> String {
    let l = facts.loops_per_frame;
    if l.recurrent == 0 && facts.recursive_buffers == 0 {
        return "no loop carries a value from one frame to the next: the IR shows no feedback"
            .into();
    }
    if l.recurrent == 0 {
        return format!(
            "Faust keeps {} recursive signals (fRec…) in buffers: they are computed one frame at a time, carried through memory rather than registers",
            facts.recursive_buffers
        );
    }
    let buffers = if facts.recursive_buffers > 0 {
        format!(
            ", and Faust keeps {} recursive signals (fRec…) in buffers",
            facts.recursive_buffers
        )
    } else {
        String::new()
    };
    format!(
        "{} of the {} loops that run per frame carry {} floating-point values from one iteration to the next (feedback){buffers}: such loops compute one frame at a time and cannot be vectorised",
        l.recurrent, l.loops, l.carried_values
    )
}

fn advice(i: &SetInspection, vec: bool, machine_target: &str) -> Vec<String> {
    let mut out = Vec::new();
    for call in i.math_calls.iter().filter(|c| c.per_frame >= 0.5).take(4) {
        let f = call.function.trim_start_matches("fast_");
        let base = f.strip_suffix('f').unwrap_or(f);
        let hint = match base {
            "fmod" | "remainder" => Some(
                "fmod is slow: wrap a phase with `ma.frac` or a comparison instead of `fmod`/`%` on floats"
                    .to_string(),
            ),
            "floor" | "ceil" | "rint" | "round" | "trunc" | "nearbyint"
                if machine_target.ends_with(":generic") =>
            {
                Some(format!(
                    "libfaust targets a generic CPU here ({machine_target}), where {} is a library call rather than one instruction",
                    call.function
                ))
            }
            "pow" | "exp" | "exp2" | "exp10" | "log" | "log2" | "log10" | "sin" | "cos" | "tan"
            | "atan" | "atan2" | "asin" | "acos" | "sinh" | "cosh" | "tanh"
                if !call.function.starts_with("fast_") =>
            {
                Some(
                    "a table (`rdtable`, as `os.osc` does for sine) or `-fm def` (Faust's fast math) may help; measure with `faustperf analyze --options \"-fm def\"`"
                        .to_string(),
                )
            }
            _ => None,
        };
        if let Some(hint) = hint {
            out.push(format!(
                "{} call(s) to {} per frame: {hint}",
                round(call.per_frame),
                call.function
            ));
        }
    }
    if let Some(c) = &i.work.per_frame {
        if c.divisions >= 1.0 {
            out.push(format!(
                "{} division(s) per frame (of {} instructions): a division costs several multiplications; where the divisor is a control or a constant, multiply by its inverse (`*(1/x)`, which Faust computes once per block)",
                round(c.divisions),
                round(c.total)
            ));
        }
    }
    let m = &i.memory;
    if m.delay_lines > 0 && m.struct_bytes >= 64 * 1024 {
        let mut lines: Vec<&Member> = m
            .largest_members
            .iter()
            .filter(|x| x.kind == MemberKind::DelayLine)
            .collect();
        lines.truncate(3);
        let held: u64 = lines.iter().map(|x| x.bytes).sum();
        let share = if lines.len() < m.delay_lines && 2 * held >= m.struct_bytes {
            format!(
                "the {} largest delay line(s) hold {:.0} % of the {} instance",
                lines.len(),
                percent_of(held, m.struct_bytes),
                human_bytes(m.struct_bytes)
            )
        } else {
            format!(
                "{} delay line(s) hold {:.0} % of the {} instance",
                m.delay_lines,
                percent_of(m.delay_line_bytes, m.struct_bytes),
                human_bytes(m.struct_bytes)
            )
        };
        out.push(format!(
            "{share}: Faust sizes a delay line to its maximum delay rounded up to a power of two, so a smaller maximum (the first argument of `de.delay`/`de.fdelay`) shrinks it{}",
            if m.struct_bytes > 1 << 20 {
                "; beyond 1 MiB the state no longer fits a typical L2 cache"
            } else {
                ""
            }
        ));
    }
    let v = &i.vectorization;
    if vec && i.work.per_frame.is_some() && v.vector_per_frame == 0.0 {
        out.push(format!(
            "-vec produced no vector instructions per frame ({} of {} per-frame loops carry feedback): expect no gain over scalar code from it; compare with `faustperf analyze`",
            i.recursion.recurrent_loops, v.loops_per_frame
        ));
    } else if !vec && i.recursion.recurrent_loops > 0 && i.recursion.carried_values > 0 {
        out.push(format!(
            "{} value(s) are carried from frame to frame (feedback): that part runs one frame at a time whatever the options; -vec can vectorise only the work outside the feedback",
            i.recursion.carried_values
        ));
    }
    if v.vector_per_frame > 0.0
        && machine_target.ends_with(":generic")
        && v.widths.first().is_some_and(|w| w.bits <= 128)
    {
        out.push(format!(
            "vectors are at most 128 bits wide (SSE) because libfaust's LLVM targets a generic CPU here ({machine_target}); a CPU its LLVM recognises could use 256-bit AVX"
        ));
    }
    out
}
