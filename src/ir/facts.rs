//! What the IR of one option set says: plain, serialisable structs, every unit in its field's
//! doc.

use serde::{Deserialize, Serialize};

/// The facts of one option set's code, and the advice they support.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SetInspection {
    /// The options as given; `""` is scalar code.
    pub compiler_options: String,
    /// libfaust's normalised option string (omits `-fm` and `-ct`).
    pub normalized_options: String,
    pub memory: Memory,
    pub work: Work,
    /// Calls to library functions (libm and the like) per frame, most frequent first.
    pub math_calls: Vec<MathCall>,
    /// Reads of tables shared by all instances (e.g. the sine table of `os.osc`), per frame.
    pub table_reads: Vec<TableRead>,
    pub vectorization: Vectorization,
    pub recursion: Recursion,
    /// Advice derived from these facts, each citing the numbers it rests on.
    pub advice: Vec<String>,
    /// `inspect --counters`: what the code executed under callgrind, beside this estimate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<MeasuredWork>,
}

/// Instructions counted while the code ran, against the IR's static estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MeasuredWork {
    pub counts: crate::callgrind::Counts,
    /// The generated code's counted machine instructions per frame
    /// (`counts.generated_instructions_per_frame`: calls into libraries left out, as the IR
    /// counts a call as one instruction) over the IR's instructions per frame
    /// (`work.per_frame.total`); `null` without an estimate per frame. IR counts address
    /// computations, phis and casts that machine code folds into its instructions, so the
    /// ratio is mostly below 1 (see README for the range measured).
    pub measured_over_estimate: Option<f64>,
}

/// The state one instance holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Memory {
    /// Size of the DSP struct (one instance's state) by the IR's data layout, bytes.
    pub struct_bytes: u64,
    /// The largest members, largest first (at most 5).
    pub largest_members: Vec<Member>,
    /// The other members together, bytes: with `largest_members` this sums to `struct_bytes`.
    pub other_members_bytes: u64,
    /// How many members `other_members_bytes` covers.
    pub other_members: usize,
    /// Members that are delay lines, and their bytes together.
    pub delay_lines: usize,
    pub delay_line_bytes: u64,
    /// Tables in global memory, allocated once per compiled program and shared by all
    /// instances (not part of the struct).
    pub shared_tables: Vec<SharedTable>,
    /// Heap bytes one instance took when libfaust created and initialised it: `memory_bytes` of
    /// `analyze`; `null` when not measurable.
    pub instance_heap_bytes: Option<u64>,
    /// How `instance_heap_bytes` relates to `struct_bytes`.
    pub cross_check: String,
}

/// One member of the DSP struct. LLVM IR keeps no member names, only positions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Member {
    /// Position in the struct (0-based).
    pub index: u32,
    /// Offset from the start of the struct, bytes.
    pub offset_bytes: u64,
    /// Size, bytes.
    pub bytes: u64,
    /// The LLVM type, e.g. `[8192 x float]`.
    pub llvm_type: String,
    pub kind: MemberKind,
}

/// What a member holds, judged from its type and from how `compute` indexes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MemberKind {
    /// An array whose length is a power of two, indexed at a moving position (Faust's circular
    /// delay lines).
    DelayLine,
    /// Another array indexed at a computed position (e.g. `rwtable`).
    Table,
    /// An array read and written at fixed positions only (recursion state, short delays that
    /// are shifted every frame).
    Array,
    /// A single number (a control, a counter, a constant computed at init).
    Scalar,
}

/// A table in global memory (the IR names them, e.g. `ftbl0mydspSIG0`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SharedTable {
    pub name: String,
    /// Size, bytes.
    pub bytes: u64,
    /// The LLVM type, e.g. `[65536 x float]`.
    pub llvm_type: String,
}

/// Instructions `compute` executes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Work {
    /// Frames one iteration of the frame loop computes (1 for plain scalar code, the vector size
    /// for `-vec`, more when LLVM unrolled or vectorised it); `null` when no loop over the
    /// frames was recognised, and then `per_frame` is `null` too.
    pub frames_per_iteration: Option<f64>,
    /// Instructions per frame, by kind.
    pub per_frame: Option<InstructionCounts>,
    /// Instructions run once per `compute()` call outside the frame loop (set-up, and with
    /// `-vec` the tail of a block that is not a multiple of the vector size), by kind.
    pub per_call_outside_frame_loop: InstructionCounts,
    /// True when a count is an estimate; `estimate_notes` says why.
    pub estimate: bool,
    pub estimate_notes: Vec<String>,
}

/// Instruction counts by kind (per frame or per call, as the field holding them says).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InstructionCounts {
    /// `fadd`, `fsub`, `fmul`, `fneg`, and `sqrt`, `fabs`, `min`/`max`, `fma`.
    pub float_arith: f64,
    /// `fdiv`, `frem`, `sdiv`, `udiv`, `srem`, `urem`.
    pub divisions: f64,
    pub loads: f64,
    pub stores: f64,
    /// `icmp`, `fcmp`, `select`.
    pub compares_selects: f64,
    /// Integer `add`, `sub`, `mul`, shifts, `and`, `or`, `xor`, integer min/max.
    pub integer: f64,
    /// Conversions between integer, float and double.
    pub conversions: f64,
    /// Calls to functions (math library calls, memory copies).
    pub calls: f64,
    /// Address computations, phis, branches, vector shuffles and the like.
    pub other: f64,
    /// All of the above.
    pub total: f64,
}

impl InstructionCounts {
    /// The counts by kind, each with the words reports use for it (`total` left out).
    pub fn by_kind(&self) -> [(&'static str, f64); 9] {
        [
            ("float arithmetic", self.float_arith),
            ("divisions", self.divisions),
            ("loads", self.loads),
            ("stores", self.stores),
            ("compares/selects", self.compares_selects),
            ("integer", self.integer),
            ("conversions", self.conversions),
            ("calls", self.calls),
            ("other", self.other),
        ]
    }
}

/// Calls to one library function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MathCall {
    /// e.g. `sinf`, `powf`, `fmodf` (LLVM's `frem`), `floorf`.
    pub function: String,
    /// Calls per frame (a vector math intrinsic counts one call per lane).
    pub per_frame: f64,
}

/// Reads of one shared table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TableRead {
    pub table: String,
    /// Loads from the table per frame.
    pub per_frame: f64,
}

/// How much of the work runs on vectors (SIMD).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Vectorization {
    /// Vector instructions among the per-frame instructions that compute or move data (all
    /// kinds but `other`), %.
    pub vector_share_percent: f64,
    /// Vector instructions per frame.
    pub vector_per_frame: f64,
    /// Vector widths used per frame, most used first.
    pub widths: Vec<VectorWidth>,
    /// Vector instructions once per call outside the frame loop (e.g. the `-vec` tail).
    pub vector_outside_frame_loop: f64,
    /// Loops that run per frame (the frame loop and the loops in it), and how many of them
    /// contain vector instructions.
    pub loops_per_frame: usize,
    pub vectorized_loops: usize,
    /// One sentence that says what happened.
    pub summary: String,
}

/// One vector width.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct VectorWidth {
    /// Elements per vector.
    pub lanes: u32,
    /// Bits per vector (128 = SSE, 256 = AVX).
    pub bits: u64,
    /// Share of the per-frame vector instructions of this width, %.
    pub share_percent: f64,
}

/// Feedback (recursion) that the IR shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Recursion {
    /// Loops that run per frame and carry floating-point values from one iteration to the next:
    /// each iteration needs the previous one's result, so they run one frame at a time.
    pub recurrent_loops: usize,
    /// Floating-point values those loops carry (registers kept from one iteration to the next).
    pub carried_values: usize,
    /// Buffers that Faust named as recursive signals (`fRec…`, in `-vec` code).
    pub recursive_buffers: usize,
    /// One sentence that says what the IR shows.
    pub summary: String,
}
