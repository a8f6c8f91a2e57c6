//! The integer evaluator behind the IR reader's trip counts: integer expressions of
//! `compute`'s arguments evaluated in an environment, and induction variables run from their
//! start to their exit test.

use inkwell::values::{
    AsValueRef, BasicValue, BasicValueEnum, CallSiteValue, InstructionOpcode, InstructionValue,
    PhiValue,
};
use inkwell::IntPredicate;
use std::collections::HashMap;

/// Values of `compute`'s integer arguments (by their LLVM value's address).
pub(super) type Env = HashMap<usize, i64>;

/// An LLVM value's identity, as the environment keys it.
pub(super) fn key(v: &impl AsValueRef) -> usize {
    v.as_value_ref() as usize
}

/// Longest trip count followed before a loop is declared of unknown length.
pub(super) const MAX_TRIPS: u64 = 1 << 22;

/// A loop's induction variable as its exit test sees it.
pub(super) struct Induction<'ctx> {
    pub(super) phi: PhiValue<'ctx>,
    pub(super) step: i64,
    /// The test compares the stepped value, not the phi.
    pub(super) uses_next: bool,
}

/// `x + c` (or `c + x`) with a constant `c`: `(x, c)`.
pub(super) fn add_of_constant(add: InstructionValue<'_>) -> Option<(BasicValueEnum<'_>, i64)> {
    if add.get_opcode() != InstructionOpcode::Add {
        return None;
    }
    let a = add.get_operand(0)?.value()?;
    let b = add.get_operand(1)?.value()?;
    match (constant(b), constant(a)) {
        (Some(c), _) => Some((a, c)),
        (None, Some(c)) => Some((b, c)),
        _ => None,
    }
}

pub(super) fn constant(v: BasicValueEnum<'_>) -> Option<i64> {
    match v {
        BasicValueEnum::IntValue(i) if i.is_const() => i.get_sign_extended_constant(),
        _ => None,
    }
}

pub(super) fn strip_casts(mut v: BasicValueEnum<'_>) -> BasicValueEnum<'_> {
    while let Some(i) = v.as_instruction_value().filter(|i| {
        matches!(
            i.get_opcode(),
            InstructionOpcode::ZExt | InstructionOpcode::SExt | InstructionOpcode::Trunc
        )
    }) {
        match i.get_operand(0).and_then(|o| o.value()) {
            Some(inner) => v = inner,
            None => break,
        }
    }
    v
}

pub(super) fn int_width(v: BasicValueEnum<'_>) -> u32 {
    match v {
        BasicValueEnum::IntValue(i) => i.get_type().get_bit_width(),
        _ => 64,
    }
}

/// Runs an induction variable from `start` by `step` until the exit test says so; the number
/// of times the test ran, or `None` past [`MAX_TRIPS`].
#[allow(clippy::too_many_arguments)]
pub(super) fn run_induction(
    start: i64,
    step: i64,
    uses_next: bool,
    bound: i64,
    iv_left: bool,
    predicate: IntPredicate,
    width: u32,
    exit_if_true: bool,
) -> Option<u64> {
    if step == 0 {
        return None;
    }
    let mut iv = start;
    for trips in 1..=MAX_TRIPS {
        let next = canonical(iv.wrapping_add(step), width);
        let tested = if uses_next { next } else { iv };
        let (a, b) = if iv_left {
            (tested, bound)
        } else {
            (bound, tested)
        };
        if compare(predicate, a, b, width) == exit_if_true {
            return Some(trips);
        }
        iv = next;
    }
    None
}

/// `x` as a `width`-bit integer, sign-extended to 64 bits (i1 as 0 or 1).
pub(super) fn canonical(x: i64, width: u32) -> i64 {
    match width {
        64.. => x,
        1 => x & 1,
        w => (x << (64 - w)) >> (64 - w),
    }
}

pub(super) fn unsigned(x: i64, width: u32) -> u64 {
    if width >= 64 {
        x as u64
    } else {
        (x as u64) & ((1u64 << width) - 1)
    }
}

pub(super) fn compare(predicate: IntPredicate, a: i64, b: i64, width: u32) -> bool {
    let (sa, sb) = (canonical(a, width), canonical(b, width));
    let (ua, ub) = (unsigned(a, width), unsigned(b, width));
    match predicate {
        IntPredicate::EQ => ua == ub,
        IntPredicate::NE => ua != ub,
        IntPredicate::SGT => sa > sb,
        IntPredicate::SGE => sa >= sb,
        IntPredicate::SLT => sa < sb,
        IntPredicate::SLE => sa <= sb,
        IntPredicate::UGT => ua > ub,
        IntPredicate::UGE => ua >= ub,
        IntPredicate::ULT => ua < ub,
        IntPredicate::ULE => ua <= ub,
    }
}

/// The value of an integer expression of the arguments in `env` and constants; `None` when it
/// depends on anything else (memory, phis, floats).
pub(super) fn eval(v: BasicValueEnum<'_>, env: &Env, depth: u32) -> Option<i64> {
    let BasicValueEnum::IntValue(int) = v else {
        return None;
    };
    let width = int.get_type().get_bit_width();
    if let Some(&x) = env.get(&key(&v)) {
        return Some(canonical(x, width));
    }
    if int.is_const() {
        return int
            .get_sign_extended_constant()
            .map(|x| canonical(x, width));
    }
    if depth > 48 {
        return None;
    }
    let inst = int.as_instruction()?;
    let operand = |i: u32| inst.get_operand(i).and_then(|o| o.value());
    let arg = |i: u32| eval(operand(i)?, env, depth + 1);
    let shift = |i: u32| {
        arg(i)
            .and_then(|s| u32::try_from(s).ok())
            .filter(|&s| s < width)
    };
    use InstructionOpcode as Op;
    let result = match inst.get_opcode() {
        Op::ZExt => unsigned(arg(0)?, int_width(operand(0)?)) as i64,
        Op::SExt | Op::Trunc => arg(0)?,
        Op::Add => arg(0)?.wrapping_add(arg(1)?),
        Op::Sub => arg(0)?.wrapping_sub(arg(1)?),
        Op::Mul => arg(0)?.wrapping_mul(arg(1)?),
        Op::Shl => arg(0)?.wrapping_shl(shift(1)?),
        Op::LShr => (unsigned(arg(0)?, width) >> shift(1)?) as i64,
        Op::AShr => arg(0)? >> shift(1)?,
        Op::And => arg(0)? & arg(1)?,
        Op::Or => arg(0)? | arg(1)?,
        Op::Xor => arg(0)? ^ arg(1)?,
        Op::Select => {
            if arg(0)? != 0 {
                arg(1)?
            } else {
                arg(2)?
            }
        }
        Op::ICmp => {
            let w = int_width(operand(0)?);
            i64::from(compare(inst.get_icmp_predicate()?, arg(0)?, arg(1)?, w))
        }
        Op::Call => {
            let name = CallSiteValue::try_from(inst)
                .ok()?
                .get_called_fn_value()?
                .get_name()
                .to_string_lossy()
                .into_owned();
            let (a, b) = (arg(0)?, arg(1)?);
            let (ua, ub) = (unsigned(a, width), unsigned(b, width));
            match name.split('.').nth(1)? {
                "smin" => a.min(b),
                "smax" => a.max(b),
                "umin" => ua.min(ub) as i64,
                "umax" => ua.max(ub) as i64,
                _ => return None,
            }
        }
        _ => return None,
    };
    Some(canonical(result, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_count_expressions() {
        assert_eq!(canonical(-1, 32), -1);
        assert_eq!(canonical(1 << 32, 32), 0);
        assert!(!compare(IntPredicate::ULT, -1, 1, 64));
        assert_eq!(
            run_induction(0, 32, true, 65536 - 32, true, IntPredicate::SGT, 32, true),
            Some(2048)
        );
        assert_eq!(
            run_induction(0, 1, false, 31, true, IntPredicate::EQ, 64, true),
            Some(32)
        );
        assert_eq!(
            run_induction(0, 1, true, -5, true, IntPredicate::EQ, 64, true),
            None
        );
    }
}
