//! What the LLVM IR libfaust generates for an option set (`writeCDSPFactoryToIR`) says about
//! speed: the instance's memory and its largest delay lines, the instructions `compute` runs per
//! frame, math library calls, vectorisation, feedback loops, and advice that cites these
//! numbers. It runs where compiles run (in a worker process, see `crate::jobs::InspectJob`):
//! inkwell and libfaust share one `libLLVM-14.so` there, as a second, static LLVM would abort
//! at load.

mod advice;
mod cfg;
mod eval;
mod facts;
mod read;

pub use facts::{
    InstructionCounts, MathCall, MeasuredWork, Member, MemberKind, Memory, Recursion,
    SetInspection, SharedTable, TableRead, VectorWidth, Vectorization, Work,
};
pub use read::READER_LLVM;

use crate::dsp::FaustError;
use crate::libfaust::{compiler_lock, LibFaust};
use crate::options::OptionSet;

/// Reads one option set's IR into its facts and advice. `heap_bytes` is the instance's heap
/// growth (`memory_bytes` of analyze), to cross-check the struct size with.
pub fn inspect_ir(
    options: &OptionSet,
    normalized_options: &str,
    ir: &str,
    heap_bytes: Option<u64>,
) -> Result<SetInspection, FaustError> {
    let facts = {
        // inkwell uses the LLVM that libfaust uses: keep it away from concurrent compiles.
        let _guard = compiler_lock();
        std::panic::catch_unwind(|| read::analyse(ir)).unwrap_or_else(|_| {
            Err(FaustError::IrUnexpected {
                message:
                    "faustperf's IR reader failed on it (a bug: please report it with the DSP)"
                        .into(),
            })
        })?
    };
    let target = LibFaust::get()
        .map(|l| l.machine_target().to_string())
        .unwrap_or_default();
    Ok(advice::build(
        options,
        normalized_options,
        facts,
        heap_bytes,
        &target,
    ))
}

/// A count per frame as people read it: whole numbers plain, fractions with 2 digits.
pub fn round(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// `part` as a percentage of `whole` (0 when `whole` is 0).
pub fn percent_of(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

#[cfg(test)]
pub(crate) mod tests {
    /// One option set's inspection from a hand-written IR, the same on every machine.
    pub(crate) fn sample_set() -> super::SetInspection {
        let facts = super::read::analyse(super::read::tests::SCALAR).unwrap();
        super::advice::build(
            &crate::options::OptionSet::scalar(),
            "-lang llvm 14.0.6 -es 1 -mcd 16 -single -ftz 0",
            facts,
            Some(13_000),
            "x86_64-pc-linux-gnu:generic",
        )
    }
}
