//! Reading the LLVM IR libfaust generates (`writeCDSPFactoryToIR`) with inkwell: the DSP
//! struct's layout and what `compute` executes per frame.
//!
//! Per-frame counts come from the loop structure. Each loop's trip count is found by running its
//! induction variable from its start to its exit test, with `compute`'s `count` argument set to
//! 65536 and then 131072 frames: a loop whose trips stay the same runs a fixed number of times,
//! one whose trips double is the loop over the frames, and the frames it handles per iteration
//! are `count` / trips. A block runs (product of the fixed trip counts around it) / (frames per
//! iteration) times per frame; code outside the frame loop runs once per call.

use super::cfg::{self, Loop};
use super::eval::{
    add_of_constant, eval, int_width, key, run_induction, strip_casts, Env, Induction,
};
use super::facts::{
    InstructionCounts, MathCall, Member, MemberKind, SharedTable, TableRead, VectorWidth,
};
use crate::dsp::FaustError;
use inkwell::basic_block::BasicBlock;
use inkwell::context::Context;
use inkwell::memory_buffer::MemoryBuffer;
use inkwell::module::Module;
use inkwell::targets::TargetData;
use inkwell::types::{AnyType, AnyTypeEnum, BasicTypeEnum, StructType};
use inkwell::values::{
    AnyValue, BasicValue, BasicValueEnum, CallSiteValue, FunctionValue, InstructionOpcode,
    InstructionValue, PhiValue,
};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

/// The LLVM major version faustperf reads IR with (inkwell's `llvm14-0-force-dynamic`).
pub const READER_LLVM: &str = "14";

/// The two values of `count` the trip counts are evaluated at.
const FRAMES: [i64; 2] = [1 << 16, 1 << 17];
/// How deep calls to functions defined in the module (`-fun`) are followed.
const MAX_CALL_DEPTH: u32 = 3;

/// The facts of one module, before advice.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IrFacts {
    pub struct_bytes: u64,
    /// Every member of the DSP struct, in order.
    pub members: Vec<Member>,
    pub shared_tables: Vec<SharedTable>,
    pub frames_per_iteration: Option<f64>,
    pub per_frame: InstructionCounts,
    pub per_call: InstructionCounts,
    pub estimate_notes: Vec<String>,
    pub math_calls: Vec<MathCall>,
    pub table_reads: Vec<TableRead>,
    pub vector_per_frame: f64,
    pub widths: Vec<VectorWidth>,
    pub vector_per_call: f64,
    pub loops_per_frame: LoopStats,
    pub recursive_buffers: usize,
}

/// Loops, and how many of them hold vector code or carry values between iterations.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct LoopStats {
    pub loops: usize,
    pub vectorized: usize,
    pub recurrent: usize,
    pub carried_values: usize,
}

impl LoopStats {
    fn add(&mut self, other: LoopStats) {
        self.loops += other.loops;
        self.vectorized += other.vectorized;
        self.recurrent += other.recurrent;
        self.carried_values += other.carried_values;
    }
}

/// The LLVM version that generated the IR, from libfaust's module name
/// (`-lang llvm 14.0.6 -es 1 …`).
pub(crate) fn generator_llvm(ir: &str) -> String {
    ir.lines()
        .next()
        .and_then(|first| first.split("-lang llvm ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|v| v.trim_end_matches(['\'', ',']).to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Parses `ir` and gathers its facts.
pub(crate) fn analyse(ir: &str) -> Result<IrFacts, FaustError> {
    let context = Context::create();
    let buffer = MemoryBuffer::create_from_memory_range_copy(ir.as_bytes(), "faust");
    let module = context
        .create_module_from_ir(buffer)
        .map_err(|e| FaustError::IrUnreadable {
            generator_llvm: generator_llvm(ir),
            reader_llvm: READER_LLVM.into(),
            message: e.to_string().trim().to_string(),
        })?;
    Analyser::new(&module)?.facts()
}

fn unexpected(message: impl Into<String>) -> FaustError {
    FaustError::IrUnexpected {
        message: message.into(),
    }
}

/// Instruction kinds, as counted in [`InstructionCounts`].
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    FloatArith,
    Division,
    Load,
    Store,
    CompareSelect,
    Integer,
    Conversion,
    Call,
    Other,
}

fn slot(counts: &mut InstructionCounts, kind: Kind) -> &mut f64 {
    match kind {
        Kind::FloatArith => &mut counts.float_arith,
        Kind::Division => &mut counts.divisions,
        Kind::Load => &mut counts.loads,
        Kind::Store => &mut counts.stores,
        Kind::CompareSelect => &mut counts.compares_selects,
        Kind::Integer => &mut counts.integer,
        Kind::Conversion => &mut counts.conversions,
        Kind::Call => &mut counts.calls,
        Kind::Other => &mut counts.other,
    }
}

fn add_counts(to: &mut InstructionCounts, from: &InstructionCounts, k: f64) {
    to.float_arith += k * from.float_arith;
    to.divisions += k * from.divisions;
    to.loads += k * from.loads;
    to.stores += k * from.stores;
    to.compares_selects += k * from.compares_selects;
    to.integer += k * from.integer;
    to.conversions += k * from.conversions;
    to.calls += k * from.calls;
    to.other += k * from.other;
    to.total += k * from.total;
}

/// Weighted instruction facts (per frame or per call).
#[derive(Debug, Clone, Default)]
struct Tally {
    counts: InstructionCounts,
    /// Vector instructions (kinds other than `Other`).
    vector: f64,
    /// (lanes, bits) → vector instructions.
    widths: BTreeMap<(u32, u64), f64>,
    math: BTreeMap<String, f64>,
    tables: BTreeMap<String, f64>,
}

impl Tally {
    fn add(&mut self, other: &Tally, k: f64) {
        if k == 0.0 {
            return;
        }
        add_counts(&mut self.counts, &other.counts, k);
        self.vector += k * other.vector;
        for (w, n) in &other.widths {
            *self.widths.entry(*w).or_default() += k * n;
        }
        for (f, n) in &other.math {
            *self.math.entry(f.clone()).or_default() += k * n;
        }
        for (t, n) in &other.tables {
            *self.tables.entry(t.clone()).or_default() += k * n;
        }
    }
}

/// What one call of a function executes: `per_frame` × count + `per_call`.
#[derive(Debug, Clone, Default)]
struct FnWork {
    per_frame: Tally,
    per_call: Tally,
    loops_per_frame: LoopStats,
    loops_per_call: LoopStats,
    frames_per_iteration: Option<f64>,
    notes: BTreeSet<String>,
}

/// How often a loop runs each time it is entered.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Trips {
    /// The same number whatever `count` is.
    Fixed(f64),
    /// Proportional to `count`: the loop over the frames, this many frames per iteration.
    Frames(f64),
    Unknown,
}

struct Analyser<'ctx> {
    target: TargetData,
    dsp: StructType<'ctx>,
    compute: FunctionValue<'ctx>,
    /// The global arrays, and their names.
    shared_tables: Vec<SharedTable>,
    tables: HashSet<String>,
    /// Struct members indexed at a computed position in `compute` (or the functions it calls).
    indexed_members: HashSet<u32>,
    recursive_buffers: BTreeSet<String>,
}

impl<'ctx> Analyser<'ctx> {
    fn new(module: &Module<'ctx>) -> Result<Self, FaustError> {
        let compute = module
            .get_functions()
            .find(|f| {
                f.get_name().to_bytes().starts_with(b"compute")
                    && f.count_params() == 4
                    && f.count_basic_blocks() > 0
            })
            .ok_or_else(|| unexpected("no compute function with 4 parameters"))?;
        let class =
            String::from_utf8_lossy(&compute.get_name().to_bytes()["compute".len()..]).into_owned();
        let dsp = module
            .get_struct_type(&format!("struct.dsp{class}"))
            .ok_or_else(|| unexpected(format!("no DSP struct `%struct.dsp{class}`")))?;
        let layout = module.get_data_layout();
        let layout = layout.as_str().to_string_lossy().into_owned();
        let target = TargetData::create(&layout);
        let shared_tables: Vec<SharedTable> = module
            .get_globals()
            .filter(|g| matches!(g.get_value_type(), AnyTypeEnum::ArrayType(a) if !a.get_element_type().is_int_type() || a.get_element_type().into_int_type().get_bit_width() > 8))
            .map(|g| {
                let ty = g.get_value_type();
                SharedTable {
                    name: g.get_name().to_string_lossy().into_owned(),
                    bytes: target.get_abi_size(&ty),
                    llvm_type: ty.print_to_string().to_string(),
                }
            })
            .collect();
        Ok(Analyser {
            target,
            dsp,
            compute,
            tables: shared_tables.iter().map(|t| t.name.clone()).collect(),
            shared_tables,
            indexed_members: HashSet::new(),
            recursive_buffers: BTreeSet::new(),
        })
    }

    fn facts(mut self) -> Result<IrFacts, FaustError> {
        let count = self
            .compute
            .get_nth_param(1)
            .ok_or_else(|| unexpected("compute has no count parameter"))?;
        let envs = FRAMES.map(|n| Env::from([(key(&count), n)]));
        let work = self.function(self.compute, &envs, 0);
        let struct_bytes = self.target.get_abi_size(&self.dsp);
        let members = self.members(struct_bytes);
        let mut notes: Vec<String> = work.notes.into_iter().collect();
        if work.frames_per_iteration.is_none() {
            notes.push(
                "no loop over the frames was recognised: per-frame counts are unknown".into(),
            );
        }
        fn sorted<T>(map: &BTreeMap<String, f64>, make: impl Fn(String, f64) -> T) -> Vec<T> {
            let mut v: Vec<(&String, &f64)> = map.iter().filter(|(_, n)| **n > 0.0).collect();
            v.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
            v.into_iter().map(|(k, n)| make(k.clone(), *n)).collect()
        }
        let f = &work.per_frame;
        let vectors: f64 = f.widths.values().sum();
        let mut widths: Vec<VectorWidth> = f
            .widths
            .iter()
            .map(|(&(lanes, bits), n)| VectorWidth {
                lanes,
                bits,
                share_percent: 100.0 * n / vectors,
            })
            .collect();
        widths.sort_by(|a, b| b.share_percent.total_cmp(&a.share_percent));
        Ok(IrFacts {
            struct_bytes,
            members,
            shared_tables: self.shared_tables,
            frames_per_iteration: work.frames_per_iteration,
            per_frame: work.per_frame.counts.clone(),
            per_call: work.per_call.counts.clone(),
            estimate_notes: notes,
            math_calls: sorted(&f.math, |function, per_frame| MathCall {
                function,
                per_frame,
            }),
            table_reads: sorted(&f.tables, |table, per_frame| TableRead { table, per_frame }),
            vector_per_frame: work.per_frame.vector,
            widths,
            vector_per_call: work.per_call.vector,
            loops_per_frame: work.loops_per_frame,
            recursive_buffers: self.recursive_buffers.len(),
        })
    }

    /// The struct's members with their sizes (offset differences, so they sum to the struct).
    fn members(&self, struct_bytes: u64) -> Vec<Member> {
        let n = self.dsp.count_fields();
        let offsets: Vec<u64> = (0..n)
            .map(|i| self.target.offset_of_element(&self.dsp, i).unwrap_or(0))
            .chain(std::iter::once(struct_bytes))
            .collect();
        (0..n)
            .filter_map(|i| {
                let ty = self.dsp.get_field_type_at_index(i)?;
                let kind = match ty {
                    BasicTypeEnum::ArrayType(a) if self.indexed_members.contains(&i) => {
                        if a.len().is_power_of_two() {
                            MemberKind::DelayLine
                        } else {
                            MemberKind::Table
                        }
                    }
                    BasicTypeEnum::ArrayType(_) => MemberKind::Array,
                    _ => MemberKind::Scalar,
                };
                Some(Member {
                    index: i,
                    offset_bytes: offsets[i as usize],
                    bytes: offsets[i as usize + 1].saturating_sub(offsets[i as usize]),
                    llvm_type: ty.print_to_string().to_string(),
                    kind,
                })
            })
            .collect()
    }

    /// What one call of `f` executes, with its integer arguments as in `envs`.
    fn function(&mut self, f: FunctionValue<'ctx>, envs: &[Env; 2], depth: u32) -> FnWork {
        let blocks = f.get_basic_blocks();
        let index: HashMap<BasicBlock<'ctx>, usize> =
            blocks.iter().enumerate().map(|(i, b)| (*b, i)).collect();
        let successors: Vec<Vec<usize>> = blocks
            .iter()
            .map(|b| {
                b.get_terminator()
                    .map(|t| {
                        taken_targets(t, envs)
                            .into_iter()
                            .filter_map(|s| index.get(&s).copied())
                            .collect()
                    })
                    .unwrap_or_default()
            })
            .collect();
        let idom = cfg::immediate_dominators(&successors);
        let loops = cfg::natural_loops(&successors, &idom);
        let trips: Vec<Trips> = loops
            .iter()
            .map(|l| self.trips(l, &blocks, &index, envs))
            .collect();

        let mut work = FnWork::default();
        let mut has_vector = vec![false; blocks.len()];
        for (b, block) in blocks.iter().enumerate() {
            if b != 0 && idom[b].is_none() {
                continue; // unreachable
            }
            // Weights: (times per frame, times per call), from the outermost loop in.
            let (mut per_frame, mut per_call) = (0.0, 1.0);
            let mut innermost = None;
            for (l, t) in loops.iter().zip(&trips).filter(|(l, _)| l.contains(b)) {
                innermost = Some(l);
                match *t {
                    Trips::Fixed(n) => {
                        per_frame *= n;
                        per_call *= n;
                    }
                    Trips::Frames(frames) if per_frame == 0.0 => {
                        per_frame = per_call / frames;
                        per_call = 0.0;
                        work.frames_per_iteration.get_or_insert(frames);
                    }
                    Trips::Frames(_) => {
                        work.notes.insert(
                            "a loop over the frames inside another was counted once per iteration"
                                .into(),
                        );
                    }
                    Trips::Unknown => {
                        if per_frame > 0.0 {
                            work.notes.insert("loops of unknown length inside the frame loop were counted as running once".into());
                        }
                    }
                }
            }
            if let Some(l) = innermost.filter(|_| per_frame > 0.0) {
                if !l.latches.iter().all(|&x| cfg::dominates(&idom, b, x)) {
                    work.notes.insert(
                        "conditional code inside the frame loop was counted as always run".into(),
                    );
                }
            }
            for inst in block.get_instructions() {
                let mut own = Tally::default();
                let vector = self.instruction(inst, &mut own);
                has_vector[b] |= vector;
                work.per_frame.add(&own, per_frame);
                work.per_call.add(&own, per_call);
                if let Some(callee) = self.defined_callee(inst) {
                    if depth >= MAX_CALL_DEPTH {
                        work.notes.insert(
                            "calls nested deeper than 3 functions were not followed".into(),
                        );
                        continue;
                    }
                    let callee_envs = envs
                        .clone()
                        .map(|env| self.argument_env(inst, callee, &env));
                    let inner = self.function(callee, &callee_envs, depth + 1);
                    work.per_frame.add(&inner.per_call, per_frame);
                    work.per_frame.add(&inner.per_frame, per_call);
                    work.per_call.add(&inner.per_call, per_call);
                    if per_frame > 0.0 {
                        work.loops_per_frame.add(inner.loops_per_call);
                    } else {
                        work.loops_per_call.add(inner.loops_per_call);
                    }
                    work.loops_per_frame.add(inner.loops_per_frame);
                    work.notes.extend(inner.notes);
                    if work.frames_per_iteration.is_none() {
                        work.frames_per_iteration = inner.frames_per_iteration;
                    }
                }
            }
        }

        for l in &loops {
            let header = blocks[l.header];
            let carried = header
                .get_instructions()
                .filter_map(|i| PhiValue::try_from(i).ok())
                .filter(|phi| is_float(phi.as_basic_value().get_type()))
                .filter(|phi| {
                    (0..phi.count_incoming()).any(|k| {
                        phi.get_incoming(k)
                            .and_then(|(_, from)| index.get(&from))
                            .is_some_and(|&from| l.contains(from))
                    })
                })
                .count();
            // Its own blocks: not those of the loops nested in it.
            let own = |b: &usize| {
                !loops.iter().any(|inner| {
                    inner.header != l.header && l.contains(inner.header) && inner.contains(*b)
                })
            };
            let stats = LoopStats {
                loops: 1,
                vectorized: usize::from(l.blocks.iter().filter(|b| own(b)).any(|&b| has_vector[b])),
                recurrent: usize::from(carried > 0),
                carried_values: carried,
            };
            // A loop runs per frame when its header does.
            let header_per_frame = loops
                .iter()
                .zip(&trips)
                .any(|(outer, t)| outer.contains(l.header) && matches!(t, Trips::Frames(_)));
            if header_per_frame {
                work.loops_per_frame.add(stats);
            } else {
                work.loops_per_call.add(stats);
            }
        }
        work
    }

    /// Counts one instruction into `tally` (weight 1); returns whether it works on vectors.
    fn instruction(&mut self, inst: InstructionValue<'ctx>, tally: &mut Tally) -> bool {
        use InstructionOpcode as Op;
        let kind = match inst.get_opcode() {
            Op::FAdd | Op::FSub | Op::FMul | Op::FNeg => Kind::FloatArith,
            Op::FDiv | Op::SDiv | Op::UDiv | Op::SRem | Op::URem => Kind::Division,
            Op::FRem => {
                // LLVM lowers frem to a call of fmod.
                let name = if is_double(inst.get_type()) {
                    "fmod"
                } else {
                    "fmodf"
                };
                *tally.math.entry(name.into()).or_default() += f64::from(lanes(inst.get_type()));
                Kind::Division
            }
            Op::Load => {
                self.table_read(inst, tally, 1.0);
                Kind::Load
            }
            Op::Store => Kind::Store,
            Op::ICmp | Op::FCmp | Op::Select => Kind::CompareSelect,
            Op::Add
            | Op::Sub
            | Op::Mul
            | Op::Shl
            | Op::LShr
            | Op::AShr
            | Op::And
            | Op::Or
            | Op::Xor => Kind::Integer,
            Op::ZExt
            | Op::SExt
            | Op::Trunc
            | Op::FPToSI
            | Op::FPToUI
            | Op::SIToFP
            | Op::UIToFP
            | Op::FPTrunc
            | Op::FPExt => Kind::Conversion,
            Op::Call => self.call(inst, tally),
            Op::GetElementPtr => {
                self.member_index(inst);
                Kind::Other
            }
            Op::Alloca => {
                if let Some(name) = inst.get_name().map(|n| n.to_string_lossy().into_owned()) {
                    if let Some(rest) = name.strip_prefix("fRec") {
                        let number: String =
                            rest.chars().take_while(char::is_ascii_digit).collect();
                        self.recursive_buffers.insert(number);
                    }
                }
                Kind::Other
            }
            _ => Kind::Other,
        };
        *slot(&mut tally.counts, kind) += 1.0;
        tally.counts.total += 1.0;
        if kind == Kind::Other {
            return false;
        }
        let ty = if kind == Kind::Store {
            match inst.get_operand(0).and_then(|o| o.value()) {
                Some(v) => v.get_type().as_any_type_enum(),
                None => return false,
            }
        } else {
            inst.get_type()
        };
        if let AnyTypeEnum::VectorType(v) = ty {
            tally.vector += 1.0;
            let bits = self.target.get_bit_size(&v);
            *tally.widths.entry((v.get_size(), bits)).or_default() += 1.0;
            true
        } else {
            false
        }
    }

    /// The kind of a call; library calls and math intrinsics are counted by function.
    fn call(&self, inst: InstructionValue<'ctx>, tally: &mut Tally) -> Kind {
        let Some(callee) = CallSiteValue::try_from(inst)
            .ok()
            .and_then(|c| c.get_called_fn_value())
        else {
            return Kind::Call;
        };
        let name = callee.get_name().to_string_lossy().into_owned();
        let Some(intrinsic) = name.strip_prefix("llvm.") else {
            if callee.count_basic_blocks() == 0 {
                *tally.math.entry(name).or_default() += 1.0;
            }
            return Kind::Call;
        };
        let mut parts = intrinsic.split('.');
        let base = parts.next().unwrap_or_default();
        let suffix = parts.next().unwrap_or_default();
        match base {
            // A vector of loads from computed addresses: reads a table one lane each.
            "masked" if suffix == "gather" => {
                self.table_read(inst, tally, f64::from(lanes(inst.get_type())));
                Kind::Load
            }
            "sqrt" | "fabs" | "minnum" | "maxnum" | "minimum" | "maximum" | "copysign" | "fma"
            | "fmuladd" => Kind::FloatArith,
            "smin" | "smax" | "umin" | "umax" | "abs" => Kind::Integer,
            "memcpy" | "memset" | "memmove" => Kind::Call,
            "exp" | "exp2" | "log" | "log2" | "log10" | "pow" | "powi" | "sin" | "cos"
            | "floor" | "ceil" | "trunc" | "rint" | "nearbyint" | "round" | "roundeven" => {
                // One libm call per lane: LLVM has no vector math library here.
                let (lanes, element) = match suffix.strip_prefix('v') {
                    Some(v) => {
                        let digits: String = v.chars().take_while(char::is_ascii_digit).collect();
                        (digits.parse().unwrap_or(1.0), &v[digits.len()..])
                    }
                    None => (1.0, suffix),
                };
                let libm = if element == "f32" {
                    format!("{base}f")
                } else {
                    base.to_string()
                };
                *tally.math.entry(libm).or_default() += lanes;
                Kind::Call
            }
            _ => Kind::Other,
        }
    }

    /// A load from a shared table (a GEP on a global array) is counted by table, as `reads`
    /// reads (one per lane of a gather).
    fn table_read(&self, load: InstructionValue<'ctx>, tally: &mut Tally, reads: f64) {
        if let Some(table) = load
            .get_operand(0)
            .and_then(|o| o.value())
            .and_then(|p| self.table_of(p))
        {
            *tally.tables.entry(table).or_default() += reads;
        }
    }

    /// The shared table an address points into: a GEP on a global array of the module, or a
    /// GEP on a constant expression that names one (the start of the table, which a vector GEP
    /// offsets lane by lane).
    fn table_of(&self, pointer: BasicValueEnum<'ctx>) -> Option<String> {
        let gep = pointer
            .as_instruction_value()
            .filter(|g| g.get_opcode() == InstructionOpcode::GetElementPtr)?;
        let base = gep.get_operand(0)?.value()?;
        let name = base.get_name().to_string_lossy().into_owned();
        let name = if name.is_empty() {
            // A constant expression has no name; its text names the global it starts from.
            let text = base.print_to_string().to_string();
            let start = text.find('@')? + 1;
            text[start..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || "_.$".contains(*c))
                .collect()
        } else {
            name
        };
        self.tables.contains(&name).then_some(name)
    }

    /// Notes struct members that a GEP indexes at a computed position.
    fn member_index(&mut self, gep: InstructionValue<'ctx>) {
        let on_struct = matches!(gep.get_gep_source_element_type(), Ok(BasicTypeEnum::StructType(s)) if s == self.dsp);
        if !on_struct || gep.get_num_operands() < 4 {
            return;
        }
        let value = |i| gep.get_operand(i).and_then(|o| o.value());
        if let (Some(BasicValueEnum::IntValue(field)), Some(BasicValueEnum::IntValue(element))) =
            (value(2), value(3))
        {
            if let (Some(field), false) = (field.get_zero_extended_constant(), element.is_const()) {
                self.indexed_members.insert(field as u32);
            }
        }
    }

    /// The callee of a call to a function defined in this module.
    fn defined_callee(&self, inst: InstructionValue<'ctx>) -> Option<FunctionValue<'ctx>> {
        if inst.get_opcode() != InstructionOpcode::Call {
            return None;
        }
        CallSiteValue::try_from(inst)
            .ok()?
            .get_called_fn_value()
            .filter(|f| f.count_basic_blocks() > 0)
    }

    /// The callee's integer parameters, evaluated from the call's arguments in `env`.
    fn argument_env(
        &self,
        call: InstructionValue<'ctx>,
        callee: FunctionValue<'ctx>,
        env: &Env,
    ) -> Env {
        callee
            .get_param_iter()
            .enumerate()
            .filter_map(|(i, param)| {
                let arg = call.get_operand(i as u32)?.value()?;
                Some((key(&param), eval(arg, env, 0)?))
            })
            .collect()
    }

    /// How often `l` runs each time it is entered, from its induction variable and exit test.
    fn trips(
        &self,
        l: &Loop,
        blocks: &[BasicBlock<'ctx>],
        index: &HashMap<BasicBlock<'ctx>, usize>,
        envs: &[Env; 2],
    ) -> Trips {
        let inside = |b: BasicBlock<'ctx>| index.get(&b).is_some_and(|&i| l.contains(i));
        // The exit test: a conditional branch with one target outside; the latch's first.
        let exits: Vec<(usize, InstructionValue<'ctx>, bool)> = l
            .blocks
            .iter()
            .filter_map(|&b| {
                let branch = blocks[b].get_terminator()?;
                if branch.get_opcode() != InstructionOpcode::Br || branch.get_num_operands() != 3 {
                    return None;
                }
                let target = |i| branch.get_operand(i).and_then(|o| o.block());
                let (if_false, if_true) = (target(1)?, target(2)?);
                match (inside(if_true), inside(if_false)) {
                    (false, true) => Some((b, branch, true)),
                    (true, false) => Some((b, branch, false)),
                    _ => None,
                }
            })
            .collect();
        let Some(&(_, branch, exit_if_true)) = exits
            .iter()
            .find(|(b, _, _)| l.latches.contains(b))
            .or_else(|| exits.first())
        else {
            return Trips::Unknown;
        };
        let Some(test) = branch
            .get_operand(0)
            .and_then(|o| o.value())
            .and_then(|v| v.as_instruction_value())
            .filter(|t| t.get_opcode() == InstructionOpcode::ICmp)
        else {
            return Trips::Unknown;
        };
        let (Some(predicate), Some(lhs), Some(rhs)) = (
            test.get_icmp_predicate(),
            test.get_operand(0).and_then(|o| o.value()),
            test.get_operand(1).and_then(|o| o.value()),
        ) else {
            return Trips::Unknown;
        };
        let header = blocks[l.header];
        let (iv, bound, iv_left) = match (
            self.induction(lhs, header, &inside),
            self.induction(rhs, header, &inside),
        ) {
            (Some(iv), _) => (iv, rhs, true),
            (None, Some(iv)) => (iv, lhs, false),
            (None, None) => return Trips::Unknown,
        };
        let defined_inside = bound
            .as_instruction_value()
            .and_then(|i| i.get_parent())
            .is_some_and(inside);
        if defined_inside {
            return Trips::Unknown;
        }
        let width = int_width(lhs);
        let mut counts = [0u64; 2];
        for (count, env) in counts.iter_mut().zip(envs) {
            let starts: Option<Vec<i64>> = (0..iv.phi.count_incoming())
                .filter_map(|k| iv.phi.get_incoming(k))
                .filter(|(_, from)| !inside(*from))
                .map(|(v, _)| eval(v, env, 0))
                .collect();
            let start = match starts.as_deref() {
                Some([first, rest @ ..]) if rest.iter().all(|x| x == first) => *first,
                _ => return Trips::Unknown,
            };
            let Some(end) = eval(bound, env, 0) else {
                return Trips::Unknown;
            };
            match run_induction(
                start,
                iv.step,
                iv.uses_next,
                end,
                iv_left,
                predicate,
                width,
                exit_if_true,
            ) {
                Some(n) => *count = n,
                None => return Trips::Unknown,
            }
        }
        let [a, b] = counts;
        if a == b {
            Trips::Fixed(a as f64)
        } else if a > 0 && b.abs_diff(2 * a) <= 2 + b / 100 {
            Trips::Frames(FRAMES[0] as f64 / a as f64)
        } else {
            Trips::Unknown
        }
    }

    /// Matches `v` (through casts) with a header phi that steps by a constant, or with that phi
    /// plus its step.
    fn induction(
        &self,
        v: BasicValueEnum<'ctx>,
        header: BasicBlock<'ctx>,
        inside: &dyn Fn(BasicBlock<'ctx>) -> bool,
    ) -> Option<Induction<'ctx>> {
        let header_phi = |v: BasicValueEnum<'ctx>| {
            let i = strip_casts(v).as_instruction_value()?;
            if i.get_opcode() == InstructionOpcode::Phi && i.get_parent() == Some(header) {
                PhiValue::try_from(i).ok()
            } else {
                None
            }
        };
        let step_of = |phi: PhiValue<'ctx>| {
            (0..phi.count_incoming())
                .filter_map(|k| phi.get_incoming(k))
                .filter(|(_, from)| inside(*from))
                .find_map(|(v, _)| {
                    let add = strip_casts(v).as_instruction_value()?;
                    let (x, c) = add_of_constant(add)?;
                    (header_phi(x)? == phi).then_some(c)
                })
        };
        if let Some(phi) = header_phi(v) {
            return Some(Induction {
                phi,
                step: step_of(phi)?,
                uses_next: false,
            });
        }
        let add = strip_casts(v).as_instruction_value()?;
        let (x, step) = add_of_constant(add)?;
        let phi = header_phi(x)?;
        Some(Induction {
            phi,
            step,
            uses_next: true,
        })
    }
}

/// The targets a terminator can jump to. A conditional branch decided by `count` alone (the
/// same way at both values tried) goes one way; one on LLVM's run-time check that two buffers
/// overlap (`found.conflict`, `conflict.rdx`) is taken not to: faustperf and hosts pass
/// separate buffers, so the vectorised path runs.
fn taken_targets<'ctx>(t: InstructionValue<'ctx>, envs: &[Env; 2]) -> Vec<BasicBlock<'ctx>> {
    let targets: Vec<BasicBlock<'ctx>> = t
        .get_operands()
        .filter_map(|o| o.and_then(|o| o.block()))
        .collect();
    if t.get_opcode() != InstructionOpcode::Br || targets.len() != 2 {
        return targets;
    }
    // Operands of a conditional branch: condition, if-false target, if-true target.
    let Some(condition) = t.get_operand(0).and_then(|o| o.value()) else {
        return targets;
    };
    let overlap_check = condition.as_instruction_value().is_some_and(|i| {
        i.get_name().is_some_and(|n| {
            let n = n.to_bytes();
            n.starts_with(b"found.conflict") || n.starts_with(b"conflict.rdx")
        })
    });
    let decided = match (eval(condition, &envs[0], 0), eval(condition, &envs[1], 0)) {
        _ if overlap_check => Some(false),
        (Some(a), Some(b)) if a == b => Some(a != 0),
        _ => None,
    };
    match decided {
        Some(true) => vec![targets[1]],
        Some(false) => vec![targets[0]],
        None => targets,
    }
}

fn is_float(ty: BasicTypeEnum<'_>) -> bool {
    match ty {
        BasicTypeEnum::FloatType(_) => true,
        BasicTypeEnum::VectorType(v) => v.get_element_type().is_float_type(),
        _ => false,
    }
}

fn is_double(ty: AnyTypeEnum<'_>) -> bool {
    let element = match ty {
        AnyTypeEnum::VectorType(v) => v.get_element_type().as_any_type_enum(),
        other => other,
    };
    element.print_to_string().to_string() == "double"
}

fn lanes(ty: AnyTypeEnum<'_>) -> u32 {
    match ty {
        AnyTypeEnum::VectorType(v) => v.get_size(),
        _ => 1,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A scalar frame loop (as libfaust writes it) with one sinf call, one division and one
    /// float value carried from frame to frame, in a struct with a 1024-float delay line.
    pub(crate) const SCALAR: &str = r#"; ModuleID = '-lang llvm 14.0.6 -es 1 -mcd 16 -single -ftz 0, v2.54.9'
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-f80:128-n8:16:32:64-S128"

%struct.dspmydsp = type <{ i32, [1024 x float], float }>

@ftbl0mydspSIG0 = internal unnamed_addr global [256 x float] zeroinitializer

declare float @sinf(float)

define void @computemydsp(%struct.dspmydsp* %dsp, i32 %count, float** %inputs, float** %outputs) {
entry_block:
  %out = load float*, float** %outputs, align 8
  %0 = icmp sgt i32 %count, 0
  br i1 %0, label %pre, label %exit

pre:
  %wide.trip.count = zext i32 %count to i64
  br label %loop

loop:
  %acc = phi float [ 0.0, %pre ], [ %sum, %loop ]
  %iv = phi i64 [ 0, %pre ], [ %iv.next, %loop ]
  %pos = trunc i64 %iv to i32
  %masked = and i32 %pos, 1023
  %idx = zext i32 %masked to i64
  %slot = getelementptr inbounds %struct.dspmydsp, %struct.dspmydsp* %dsp, i64 0, i32 1, i64 %idx
  %x = load float, float* %slot, align 4
  %s = tail call float @sinf(float %x)
  %d = fdiv float %s, 3.0
  %sum = fadd float %acc, %d
  %t = getelementptr inbounds [256 x float], [256 x float]* @ftbl0mydspSIG0, i64 0, i64 %idx
  %tv = load float, float* %t, align 4
  %o = fmul float %sum, %tv
  %dst = getelementptr float, float* %out, i64 %iv
  store float %o, float* %dst, align 4
  %iv.next = add nuw nsw i64 %iv, 1
  %done = icmp eq i64 %wide.trip.count, %iv.next
  br i1 %done, label %exit, label %loop

exit:
  ret void
}
"#;

    /// A frame loop in chunks of 32 frames with an inner loop of 32 that works on 4-float
    /// vectors 8 at a time, and a tail loop of unknown length.
    const VECTOR: &str = r#"; ModuleID = '-lang llvm 14.0.6 -vec -vs 32'
target datalayout = "e-m:e-p270:32:32-p271:32:32-p272:64:64-i64:64-f80:128-n8:16:32:64-S128"

%struct.dspmydsp = type <{ float }>

define void @computemydsp(%struct.dspmydsp* %dsp, i32 %count, <4 x float>** %inputs, <4 x float>** %outputs) {
entry_block:
  %out = load <4 x float>*, <4 x float>** %outputs, align 8
  %last = add i32 %count, -32
  %none = icmp slt i32 %last, 0
  br i1 %none, label %tail_check, label %chunk

chunk:
  %vindex = phi i32 [ 0, %entry_block ], [ %next_index, %chunk_end ]
  br label %inner

inner:
  %j = phi i64 [ 0, %chunk ], [ %j.next, %inner ]
  %p = getelementptr <4 x float>, <4 x float>* %out, i64 %j
  %v = load <4 x float>, <4 x float>* %p, align 16
  %w = fmul <4 x float> %v, <float 2.0, float 2.0, float 2.0, float 2.0>
  store <4 x float> %w, <4 x float>* %p, align 16
  %j.next = add nuw nsw i64 %j, 4
  %j.done = icmp eq i64 %j.next, 32
  br i1 %j.done, label %chunk_end, label %inner

chunk_end:
  %wide = sext i32 %vindex to i64
  %back = trunc i64 %wide to i32
  %next_index = add i32 %back, 32
  %over = icmp sgt i32 %next_index, %last
  br i1 %over, label %tail_check, label %chunk

tail_check:
  %vindex.lcssa = phi i32 [ 0, %entry_block ], [ %next_index, %chunk_end ]
  %left = sub i32 %count, %vindex.lcssa
  %any = icmp sgt i32 %left, 0
  br i1 %any, label %tail, label %exit

tail:
  %k = phi i32 [ 0, %tail_check ], [ %k.next, %tail ]
  %q = getelementptr <4 x float>, <4 x float>* %out, i32 %k
  %u = load <4 x float>, <4 x float>* %q, align 16
  %k.next = add i32 %k, 1
  %k.done = icmp eq i32 %k.next, %left
  br i1 %k.done, label %exit, label %tail

exit:
  ret void
}
"#;

    #[test]
    fn scalar_loop_counts_per_frame() {
        let facts = analyse(SCALAR).unwrap();
        assert_eq!(facts.frames_per_iteration, Some(1.0));
        assert_eq!(facts.struct_bytes, 4 + 4096 + 4);
        assert_eq!(facts.members[1].kind, MemberKind::DelayLine);
        assert_eq!(facts.members[1].bytes, 4096);
        assert_eq!(facts.members[0].kind, MemberKind::Scalar);
        let f = &facts.per_frame;
        assert_eq!(f.float_arith, 2.0);
        assert_eq!(f.divisions, 1.0);
        assert_eq!(f.loads, 2.0);
        assert_eq!(f.stores, 1.0);
        assert_eq!(f.calls, 1.0);
        assert_eq!(f.compares_selects, 1.0);
        assert_eq!(f.integer, 2.0);
        assert_eq!(f.conversions, 2.0);
        assert_eq!(f.total, 18.0);
        assert_eq!(facts.per_call.loads, 1.0);
        assert_eq!(
            facts.math_calls,
            vec![MathCall {
                function: "sinf".into(),
                per_frame: 1.0
            }]
        );
        assert_eq!(facts.table_reads[0].table, "ftbl0mydspSIG0");
        assert_eq!(facts.shared_tables[0].bytes, 1024);
        assert_eq!(facts.vector_per_frame, 0.0);
        assert_eq!(
            facts.loops_per_frame,
            LoopStats {
                loops: 1,
                vectorized: 0,
                recurrent: 1,
                carried_values: 1
            }
        );
        assert!(
            facts.estimate_notes.is_empty(),
            "{:?}",
            facts.estimate_notes
        );
    }

    #[test]
    fn chunked_vector_loop_and_tail() {
        let facts = analyse(VECTOR).unwrap();
        assert_eq!(facts.frames_per_iteration, Some(32.0));
        let f = &facts.per_frame;
        // The inner body (8 instructions) runs 8 times per chunk of 32 frames.
        assert_eq!(f.loads, 8.0 / 32.0);
        assert_eq!(f.float_arith, 8.0 / 32.0);
        assert_eq!(facts.vector_per_frame, 3.0 * 8.0 / 32.0);
        assert_eq!(
            facts.widths,
            vec![VectorWidth {
                lanes: 4,
                bits: 128,
                share_percent: 100.0
            }]
        );
        // The tail runs once per call, its loop of unknown length counted once.
        assert_eq!(facts.vector_per_call, 1.0);
        assert_eq!(facts.loops_per_frame.loops, 2);
        assert_eq!(facts.loops_per_frame.vectorized, 1);
        assert_eq!(facts.loops_per_frame.recurrent, 0);
    }

    #[test]
    fn unreadable_ir_names_both_llvm_versions() {
        let ir = "; ModuleID = '-lang llvm 19.1.7 -es 1, v2.80.0'\ndefine void @f(ptr %p) {\n  %x = trunc nuw i64 0 to i32\n  ret void\n}\n";
        let error = analyse(ir).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("LLVM 19.1.7") && text.contains("LLVM 14"),
            "{text}"
        );
    }
}
