//! The result of `analyze`: one plain, serialisable struct, every unit in its field's doc.

use crate::measure::clock::ClockKind;
use crate::measure::stats::{MedianInterval, TimingSummary};
use crate::measure::{Budget, StopReason};
use crate::options::{display_on, Backend, OptionSet};
use serde::{Deserialize, Serialize};

pub use crate::pipeline::{SetError, SetStatus};

/// Everything `faustperf analyze` found for one DSP.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AnalyzeReport {
    /// The file analysed, or the name given to inline code.
    pub dsp: String,
    /// True when at least one option set was measured.
    pub success: bool,
    /// Input and output channels (from the first set that compiled).
    pub inputs: Option<usize>,
    pub outputs: Option<usize>,
    /// Measured option sets, best first.
    pub results: Vec<SetResult>,
    /// The option set to use: the simplest among those tied with the fastest.
    pub recommended_options: Option<String>,
    /// The backend it ran on.
    pub recommended_backend: Option<Backend>,
    /// With several backends: each set's speed on each, side by side.
    pub side_by_side: Option<SideBySide>,
    pub baseline_comparison: Option<BaselineComparison>,
    /// Load category of the recommended set at `conditions.sample_rate`, judged on its mean
    /// block (`cpu_percent_mean_block`), not on its best blocks.
    pub category: Option<Category>,
    /// Advice, each citing the numbers it rests on.
    pub recommendations: Vec<String>,
    /// Why the recommended set was chosen, in one sentence.
    pub recommendation_rationale: Option<String>,
    /// One sentence that answers "which options?".
    pub conclusion: String,
    /// The commands that build the recommended set, for the backend it ran on.
    pub recommended_command: Option<RecommendedCommand>,
    /// How many times faster the best `-vec` set (without `-omp`) runs than the scalar
    /// baseline on the recommended backend (×, its `speedup_vs_baseline`); `null` when either
    /// was not measured.
    pub vectorization_benefit: Option<f64>,
    /// How many times faster the best `-omp` set runs than the best set without it on the
    /// same backend (×, throughputs; wall time, so on several cores); `null` when no `-omp`
    /// set was measured (LLVM refuses OpenMP: measure it with the `cpp` backend).
    pub openmp_benefit: Option<f64>,
    /// The design's machine-readable report (§5.2): the DSP analysed (= `dsp`).
    pub dsp_analyzed: String,
    /// The design's `test_config`: what the run measured with.
    pub test_config: TestConfig,
    /// The design's `recommended`: options, why, and the speed-up over scalar code; `null`
    /// when nothing was measured.
    pub recommended: Option<Recommended>,
    /// Things that make the numbers less trustworthy, each saying what to do.
    pub warnings: Vec<String>,
    /// Option sets that failed or that the backend does not support.
    pub errors: Vec<SetError>,
    pub conditions: Conditions,
    /// How the instructions were counted, and what they say beside the times (`--counters`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counting: Option<Counting>,
    /// Wall time of the whole analysis, seconds.
    pub wall_seconds: f64,
    /// What a search (`--sweep`) tried, left out and found; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<Box<SearchSummary>>,
}

/// What a search of the option space did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SearchSummary {
    /// `faustbench`, `faustbench-2.83` or `wide`.
    pub strategy: String,
    /// Its time budget, seconds, when it had one.
    pub budget_seconds: Option<f64>,
    /// Distinct sets its stages proposed.
    pub considered: usize,
    /// Sets compiled now (the others came from the cache).
    pub compiled: usize,
    /// Sets measured.
    pub measured: usize,
    /// Measured sets that left the race early, clearly slower than the leader.
    pub left_race_early: usize,
    /// Sets proposed but not tried, for want of time.
    pub not_tried: Vec<String>,
    /// Why the recommended set won, in a sentence.
    pub why: String,
}

/// The design's `test_config` block.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TestConfig {
    /// Sample rate of the CPU % figures, Hz.
    pub sample_rate: u32,
    /// Seconds of timed measuring per option set: the fixed time asked for, or with adaptive
    /// measuring the longest any set took.
    pub duration_seconds: f64,
    /// The backends measured, comma-separated (e.g. `llvm`, `llvm,cpp`).
    pub backend: String,
}

/// The design's `recommended` block: the recommended set, why, and how much it gains.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Recommended {
    /// As on the faust command line; `""` is scalar code.
    pub options: String,
    pub backend: Backend,
    /// Why it was chosen (= `recommendation_rationale`).
    pub rationale: String,
    /// Its speed-up over the scalar baseline (×, = `baseline_comparison.speedup`); `null`
    /// when the baseline was not measured.
    pub speedup: Option<f64>,
}

/// The command lines that apply a recommendation (the last step of the design's workflow).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RecommendedCommand {
    /// A faust2xxx script with the options; `<arch>` is the architecture the user picks
    /// (e.g. `faust2jack`, `faust2lv2`, `faust2juce`).
    pub architecture: String,
    /// The faust compiler's line for the backend measured (`-lang cpp`, `-lang wasm`, …).
    pub faust: String,
    /// With the `cpp` backend: the C++ compiler and flags that were measured.
    pub cxx: Option<String>,
}

/// `analyze --counters`: how each set's `counts` were made, and what they say.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counting {
    pub conditions: crate::callgrind::CountConditions,
    /// Whether hardware counters were available, and if not why (and what to change).
    pub hardware_counters: String,
    /// Where the ranking by instructions and the ranking by time disagree, and why.
    pub notes: Vec<String>,
    /// Wall time of compiling for the counting target and counting, seconds.
    pub seconds: f64,
}

/// One measured option set.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SetResult {
    /// The options as given (normalised to short names); `""` is the scalar baseline.
    pub compiler_options: String,
    /// The backend that compiled and ran it.
    pub backend: Backend,
    /// The set itself, as it was compiled (`compiler_options` is its label).
    pub options: OptionSet,
    /// libfaust's normalised option string (omits `-fm` and `-ct`).
    pub normalized_options: String,
    /// Digest of the generated machine code: sets with equal digests are the same code.
    pub code_digest: String,
    /// 1 = fastest.
    pub rank: usize,
    /// The headline: the mean of the `best_n` (default 10) fastest blocks of the set's whole
    /// measurement, as MB/s with MB = 2^20 bytes, bytes = frames × (inputs + outputs) × sample
    /// size (4, or 8 with `-double`), as faustbench-llvm counts. faustbench-llvm 2.54.9's code
    /// averages its 50 fastest blocks (its README says 10).
    pub throughput_mbps: f64,
    /// 95 % interval of `throughput_mbps` from a bootstrap over rounds, MB/s (see README).
    pub throughput_ci95_mbps: [f64; 2],
    /// Relative standard deviation of the `best_n` fastest blocks, %.
    pub throughput_rel_sd_percent: f64,
    /// Core cycles per frame, from the same blocks as `throughput_mbps`, each round's times
    /// taken at the core's clock read around it: the figure that holds when the host changes
    /// the core's clock, for code whose speed follows that clock (not memory-bound code; see
    /// README, "Cycles per frame"); `null` without the TSC.
    #[serde(default)]
    pub cycles_per_frame: Option<f64>,
    /// Its 95 % interval, cycles per frame.
    #[serde(default)]
    pub cycles_per_frame_ci95: Option<[f64; 2]>,
    /// Samples of one channel computed per second at the headline speed (frames per second:
    /// a frame is one sample of every input and output), from the same blocks as
    /// `throughput_mbps`; over the sample rate, how many real-time streams one core runs.
    pub samples_per_second: f64,
    /// Input plus output channels: `throughput_mbps` counts `samples_per_second` ×
    /// `channels_processed` × sample size bytes.
    pub channels_processed: usize,
    /// Throughput of the median block, MB/s.
    pub throughput_median_mbps: f64,
    /// Throughput of the mean block (what a host sees on average), MB/s.
    pub throughput_mean_block_mbps: f64,
    /// 5th and 95th percentiles of the per-block throughput, MB/s.
    pub throughput_p5_mbps: f64,
    pub throughput_p95_mbps: f64,
    /// Time of the best blocks (the headline) as % of the audio time a block stands for, at
    /// `conditions.sample_rate`.
    pub cpu_percent: f64,
    /// The same at 44100, 48000 and 96000 Hz.
    pub cpu_percent_at: Vec<CpuAtRate>,
    /// CPU % of the mean block (what a host sees on average), at `conditions.sample_rate`:
    /// the load that the category and real-time advice are judged on.
    pub cpu_percent_mean_block: f64,
    /// CPU % of the median block, at `conditions.sample_rate`.
    pub cpu_percent_median_block: f64,
    /// 100 − `cpu_percent_mean_block`: what is left of one core, %.
    pub headroom_percent: f64,
    /// Load category of this set at `conditions.sample_rate`, judged on its mean block.
    pub category: Category,
    /// Heap bytes of one instance (created and initialised); `null` where not measurable.
    pub memory_bytes: Option<u64>,
    /// Threads its code may run on (OpenMP's with `-omp` on `cpp`; else 1).
    pub threads: usize,
    /// How many times faster than the scalar baseline (× in time per block): the median over
    /// passes of the baseline's round time over this set's in the same pass; `null` when the
    /// baseline failed.
    pub speedup_vs_baseline: Option<f64>,
    /// Sign-test 95 % interval of that speed-up; `null` with fewer than 6 common passes or
    /// when the baseline ran in another measurement (then the speed-up is the estimates' ratio).
    pub speedup_vs_baseline_ci95: Option<[f64; 2]>,
    /// This set's time per block over the fastest set's (× > 1: slower), paired by pass as
    /// the speed-up; `null` for the fastest itself.
    pub time_vs_fastest: Option<Ratio>,
    /// Not distinguishable from the fastest: the same machine code, or the paired comparison
    /// does not exclude that it is less than `conditions.tie_threshold_percent` slower (see
    /// README).
    pub tied_with_best: bool,
    pub is_baseline: bool,
    pub is_recommended: bool,
    /// Compile wall time, seconds (of the original compile when `cached`).
    pub compile_seconds: f64,
    /// The compiled code came from the compile cache: no compile in this run.
    pub cached: bool,
    /// Why measuring this set stopped.
    pub stop_reason: StopReason,
    /// Timed-loop wall time, seconds.
    pub measure_seconds: f64,
    /// Blocks run, warm-up excluded.
    pub blocks_measured: usize,
    /// Per-block time statistics (ns per block).
    pub timing: TimingSummary,
    /// Problems with this set's numbers or output.
    pub warnings: Vec<String>,
    /// What the generated code shows (`analyze --inspect`); absent without it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspection: Option<crate::ir::SetInspection>,
    /// Instructions and simulated cache misses per frame (`analyze --counters`); absent
    /// without it, or when this set could not be counted (a warning says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counts: Option<crate::callgrind::Counts>,
    /// Cycles, instructions, cache references and misses and branch misses per frame, read
    /// from the hardware counters around its timed rounds (`--counters`, where the kernel
    /// gives them; `counting.hardware_counters` says when not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hardware: Option<crate::measure::hardware::HardwareCounts>,
    /// Its output against the scalar `-double` reference, and the verdict (see README,
    /// "Same sound"); absent with `--accuracy off` or when it could not be checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<crate::accuracy::Accuracy>,
}

/// A ratio of two sets' times per block with its 95 % interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ratio {
    /// Median over the passes both sets ran in (or the ratio of their estimates when they
    /// ran in different measurements), ×.
    pub median: f64,
    /// Sign-test 95 % interval of the median, ×; `null` when the sets ran in different
    /// measurements or in fewer than 6 common passes.
    pub ci95: Option<[f64; 2]>,
}

impl From<MedianInterval> for Ratio {
    fn from(m: MedianInterval) -> Ratio {
        Ratio {
            median: m.median,
            ci95: (m.low.is_finite() && m.high.is_finite()).then_some([m.low, m.high]),
        }
    }
}

/// CPU load at one sample rate.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CpuAtRate {
    /// Hz.
    pub sample_rate: u32,
    /// %.
    pub cpu_percent: f64,
}

/// The recommended set against the scalar baseline.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BaselineComparison {
    /// Recommended throughput over the baseline's (×).
    pub speedup: f64,
    pub description: String,
}

/// How heavy the DSP is at the chosen sample rate, by CPU % of one core (the design's
/// categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// < 10 %.
    Excellent,
    /// < 25 %.
    Good,
    /// < 50 %.
    Moderate,
    /// < 75 %.
    Heavy,
    /// ≤ 100 %.
    Critical,
    /// > 100 %: cannot run in real time on one core.
    Unusable,
}

impl Category {
    pub fn of(cpu_percent: f64) -> Category {
        match cpu_percent {
            c if c < 10.0 => Category::Excellent,
            c if c < 25.0 => Category::Good,
            c if c < 50.0 => Category::Moderate,
            c if c < 75.0 => Category::Heavy,
            c if c <= 100.0 => Category::Critical,
            _ => Category::Unusable,
        }
    }

    /// What to do, then why (the design's action for each category first).
    pub fn advice(self) -> &'static str {
        match self {
            Category::Excellent => "ship as-is: light enough for many instances or polyphony",
            Category::Good => "ship it: comfortable in real time alongside other processing",
            Category::Moderate => "apply -vec (with the recommended options) before shipping: fine alone, but watch the host's total load",
            Category::Heavy => "enable all optimizations (the recommended set; search further with --sweep): little headroom, expect dropouts when the machine is busy",
            Category::Critical => "optimise the algorithm or give it a larger buffer: barely real time, any disturbance causes dropouts",
            Category::Unusable => "reduce the sample rate or simplify the algorithm: it cannot keep up in real time on one core",
        }
    }
}

impl SetResult {
    /// How the set is named to people (see [`display_on`]).
    pub fn name(&self) -> String {
        display_on(&self.compiler_options, self.backend)
    }
}

/// Under which conditions the numbers were taken.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Conditions {
    pub faustperf_version: String,
    /// libfaust, its target, the CPU, the buffer size and the sample rate.
    #[serde(flatten)]
    pub common: crate::measure::Conditions,
    /// Core the measuring thread was pinned to; `null` = not pinned.
    pub core: Option<usize>,
    /// CPU frequency governor of that core, when readable.
    pub governor: Option<String>,
    pub realtime_priority: bool,
    pub flush_denormals: bool,
    pub clock: Option<ClockKind>,
    /// Cost of one clock read pair measured from the clock alone (5th percentile of 20 000
    /// back-to-back pairs), subtracted from every sample, ns.
    pub clock_overhead_ns: Option<f64>,
    /// The clock of the measuring core while measuring, GHz (5th and 95th percentiles of a
    /// chain of dependent additions timed before every pass); `null` without the TSC. A
    /// difference means the host or power management changed the CPU's speed during the run.
    pub core_clock_ghz: Option<[f64; 2]>,
    /// Blocks the buffers rotate over, and the bytes they hold.
    pub buffer_blocks: Option<usize>,
    pub buffer_bytes: Option<usize>,
    /// How long each option set was measured: a fixed time, or adaptive to a target precision
    /// with a time cap (seconds, warm-up excluded).
    pub budget: Budget,
    pub best_n: usize,
    pub random_controls: bool,
    pub seed: u64,
    /// Sets slower than the fastest by less than this are tied with it, %.
    pub tie_threshold_percent: f64,
    /// The C++ compiler and flags of `cpp` sets, with its version.
    pub cxx: Option<String>,
    /// The runtime of `wasm` sets, with its version.
    pub wasm_runtime: Option<String>,
    /// `worker` (isolated process) or `in_process`.
    pub isolation: String,
}

impl Conditions {
    /// Where the analysis measured (nothing ran on a thread when no set was measured).
    pub fn environment(&self) -> crate::measure::warnings::Environment {
        crate::measure::warnings::Environment {
            target: self.common.toolchain.machine_target.clone(),
            thread: self
                .clock
                .map(|_| crate::measure::thread::ThreadConditions {
                    core: self.core,
                    flush_denormals: self.flush_denormals,
                    realtime_priority: self.realtime_priority,
                    governor: self.governor.clone(),
                }),
            clock: self.clock,
            core_clock_ghz: self.core_clock_ghz,
        }
    }
}

/// The backends of a run side by side.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SideBySide {
    /// The backends, in the order of each row's `throughput_mbps`.
    pub backends: Vec<Backend>,
    /// One row per option set, in the order given.
    pub sets: Vec<BackendRow>,
    /// Whether the set that wins on `llvm` also wins (or ties) on `cpp`, in one sentence;
    /// `null` unless both ran.
    pub llvm_winner_on_cpp: Option<String>,
}

/// One option set on every backend.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BackendRow {
    pub compiler_options: String,
    /// MB/s on each backend; `null` where it was not measured (unsupported or failed).
    pub throughput_mbps: Vec<Option<f64>>,
    /// The backend that ran it fastest.
    pub fastest: Option<Backend>,
}
