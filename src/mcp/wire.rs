//! The MCP tools' parameters and results, as clients see them (JSON Schemas from schemars).
//! Results embed the engines' reports and add what the design names for MCP.

use crate::analyze::result::AnalyzeReport;
use crate::compare::CompareReport;
use crate::inspect::InspectReport;
use crate::options::Backend;
use crate::profile::ProfileReport;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A backend by name, or `all` (every backend, side by side). Its names come from
/// [`Backend`], so a backend added there is offered here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendParam(
    /// `None`: all.
    Option<Backend>,
);

impl Default for BackendParam {
    /// LLVM.
    fn default() -> BackendParam {
        BackendParam(Some(Backend::default()))
    }
}

impl BackendParam {
    /// The backends it names.
    pub fn backends(self) -> Vec<Backend> {
        self.0.map_or_else(|| Backend::ALL.to_vec(), |b| vec![b])
    }

    fn names() -> impl Iterator<Item = &'static str> {
        (Backend::ALL.iter().map(|b| b.name())).chain(["all"])
    }
}

impl<'de> Deserialize<'de> for BackendParam {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<BackendParam, D::Error> {
        let name = String::deserialize(d)?;
        if name == "all" {
            return Ok(BackendParam(None));
        }
        (Backend::ALL.iter().find(|b| b.name() == name))
            .map(|&b| BackendParam(Some(b)))
            .ok_or_else(|| {
                let allowed: Vec<String> =
                    BackendParam::names().map(|n| format!("`{n}`")).collect();
                serde::de::Error::custom(format!(
                    "unknown backend `{name}`, expected one of {}",
                    allowed.join(", ")
                ))
            })
    }
}

impl JsonSchema for BackendParam {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "BackendParam".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let names: Vec<&str> = BackendParam::names().collect();
        schemars::json_schema!({
            "type": "string",
            "enum": names,
            "description": "Code generator: llvm (libfaust's JIT, the default), cpp (Faust's C++ built by the system's C++ compiler), wasm (Faust's WebAssembly in wasmtime), interp (libfaust's interpreter), or all: every backend, side by side."
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnalyzeParams {
    /// Faust code (e.g. `import("stdfaust.lib"); process = os.osc(440);`), or the path of a
    /// `.dsp` file beneath the directories the server may read.
    pub source: String,
    /// Code generator: `llvm` (default), `cpp`, `wasm`, `interp`, or `all` to measure every
    /// option set on each, side by side.
    #[serde(default)]
    pub backend: BackendParam,
    /// Also return the ranking chart as a PNG image (default false).
    #[serde(default)]
    pub chart: bool,
    /// Search the option space instead of trying presets or `options_to_test`: `wide` (a wider
    /// space than faustbench's, searched around the leader, clearly slower sets dropped
    /// early), `faustbench` (libfaust 2.54.9's stages) or `faustbench-2.83` (Faust 2.83's).
    /// The report's `search` says what it tried and why the winner won.
    pub sweep: Option<crate::analyze::Search>,
    /// With `sweep`: answer within about this many seconds, with the best set found by then
    /// (`search.not_tried` lists what was left); progress notifications name the leader as it
    /// changes.
    pub budget_seconds: Option<f64>,
    /// Option sets to try, each as on the faust command line (e.g. "-vec -vs 32"); default:
    /// faustperf's presets. The scalar baseline is added when none is scalar. Options that read
    /// or write files are refused.
    pub options_to_test: Option<Vec<String>>,
    /// Seconds to measure each option set. Default: adaptive, until the 95 % interval is within
    /// ±1 % or 3 s per set.
    pub duration_seconds: Option<f64>,
    /// Sample rate for CPU %, Hz (default 44100).
    pub sample_rate: Option<u32>,
    /// Also read each measured set's generated LLVM code (as `inspect_faust_code` does): its
    /// facts go into `results[].inspection` and its advice into `suggestions` (default false;
    /// compiles each set once more).
    #[serde(default)]
    pub inspect: bool,
    /// Also count instructions per frame under valgrind's callgrind (LLVM code, compiled for
    /// x86-64-v3): the same figure on every run and machine, with simulated cache misses and
    /// each generated function's share (default false; a few seconds per set).
    #[serde(default)]
    pub counters: bool,
    /// Check each set's output against the program compiled scalar with -double (1 s of the
    /// input, after measuring; `results[].accuracy` with its SNR and a verdict `same`,
    /// `close` or `different`): `guard` (default) never recommends a `different` set,
    /// `report` only reports, `off` skips it.
    #[serde(default)]
    pub accuracy: crate::accuracy::Mode,
}

/// `analyze`'s report, plus its advice gathered as suggestions.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AnalyzeOutput {
    #[serde(flatten)]
    pub report: AnalyzeReport,
    /// The recommendations and the conclusion, in that order.
    pub suggestions: Vec<String>,
}

impl From<AnalyzeReport> for AnalyzeOutput {
    fn from(report: AnalyzeReport) -> AnalyzeOutput {
        let mut suggestions = report.recommendations.clone();
        suggestions.push(report.conclusion.clone());
        for r in &report.results {
            if let Some(inspection) = &r.inspection {
                let set = crate::options::display(&r.compiler_options);
                suggestions.push(format!("{set}: {}", crate::inspect::key_facts(inspection)));
                suggestions.extend(inspection.advice.iter().map(|a| format!("{set}: {a}")));
            }
        }
        AnalyzeOutput {
            report,
            suggestions,
        }
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImplementationParam {
    /// Name used in the results (e.g. `butterworth`).
    pub name: String,
    /// Faust code, or the path of a `.dsp` file beneath the directories the server may read.
    pub source: String,
    /// Options as on the faust command line (default: none, scalar).
    #[serde(default)]
    pub compiler_options: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareParams {
    /// Two or more implementations, measured in interleaved rounds on the same core.
    pub implementations: Vec<ImplementationParam>,
    /// Seconds of measuring per implementation. Default: adaptive, until every 95 % interval is
    /// within ±1 % or 3 s each.
    pub test_duration_seconds: Option<f64>,
    /// Code generator of every implementation: `llvm` (default), `cpp`, `wasm` or `interp`.
    #[serde(default)]
    pub backend: Backend,
    /// Also return the forest plot of the comparison as a PNG image (default false), with the
    /// implementations' magnitude responses overlaid under it when they have as many inputs
    /// as outputs.
    #[serde(default)]
    pub chart: bool,
    /// The implementation whose output the others' are compared with (default: the first).
    pub reference: Option<String>,
    /// Also measure THD+N at a sine of this frequency on every input, Hz.
    pub thd_n_hz: Option<f64>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectParams {
    /// Faust code, or the path of a `.dsp` file beneath the directories the server may read.
    pub source: String,
    /// Option sets to inspect, each as on the faust command line (default: scalar and `-vec`).
    pub options_to_test: Option<Vec<String>>,
    /// Also return the chart of instructions per frame by kind as a PNG image (default false).
    #[serde(default)]
    pub chart: bool,
    /// Also count instructions per frame under valgrind's callgrind (LLVM code, compiled for
    /// x86-64-v3): the same figure on every run and machine, with simulated cache misses and
    /// each generated function's share (default false; a few seconds per set).
    #[serde(default)]
    pub counters: bool,
}

/// `inspect`'s report as is: per option set, `memory` (struct size, largest delay lines),
/// `work` (instructions per frame by kind), `math_calls`, `vectorization`, `recursion`, `advice`.
pub type InspectOutput = InspectReport;

/// `compare`'s report as is: `success`, `comparison[]`, `winner` (the fastest), `tied_with`
/// (who is tied with it within noise), `verdict`, `recommendations` (sentences).
pub type CompareOutput = CompareReport;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileParams {
    /// Faust code, or the path of a `.dsp` file beneath the directories the server may read.
    pub source: String,
    /// Options as on the faust command line (default: none, scalar).
    #[serde(default)]
    pub compiler_options: String,
    /// What the inputs receive (default `noise`).
    pub input_signal: Option<InputSignal>,
    /// With `input_signal: "sine"`: its frequency, Hz (default 440).
    pub sine_frequency_hz: Option<f64>,
    /// With `input_signal: "custom"`: the path of a WAV file at 48000 Hz beneath the directories
    /// the server may read, looped to fill the inputs (its channels go to the inputs in turn).
    pub custom_signal_path: Option<String>,
    /// Seconds of audio, run in real time (default 10, at most 600).
    pub duration_seconds: Option<f64>,
    /// Code generator: `llvm` (default), `cpp`, `wasm` or `interp`.
    #[serde(default)]
    pub backend: Backend,
    /// Also return the load timeline as a PNG image (default false).
    #[serde(default)]
    pub chart: bool,
    /// Also count instructions per frame under valgrind's callgrind (LLVM code, compiled for
    /// x86-64-v3): the same figure on every run and machine, with simulated cache misses and
    /// each generated function's share (default false; a few seconds per set).
    #[serde(default)]
    pub counters: bool,
}

/// What a profile's inputs receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InputSignal {
    /// Zeros.
    Silence,
    /// Uniform noise in [-1, 1), seeded.
    Noise,
    /// A sine at `sine_frequency_hz` (default 440 Hz), amplitude 0.5.
    Sine,
    /// The WAV file named by `custom_signal_path`.
    Custom,
    /// One sample at 1, then silence: shows denormal slow-downs in decaying feedback.
    Impulse,
}

/// `profile`'s report as is: `metrics`, `timeline` (every 100 ms), `recommendations`, probes.
pub type ProfileOutput = ProfileReport;

/// One preset option set.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PresetInfo {
    pub compiler_options: String,
    /// What it tries.
    pub purpose: String,
}

/// One compiler option faustperf accepts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct OptionInfo {
    pub option: String,
    /// Whether it takes a value (e.g. `-vs 32`).
    pub takes_value: bool,
    pub meaning: String,
    /// The backends that cannot run it, each with why (`backend: reason`).
    pub not_supported_by: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OptionsOutput {
    /// Always true: the lists come from faustperf itself.
    pub success: bool,
    /// The sets `analyze_faust_performance` tries when `options_to_test` is not given.
    pub presets: Vec<PresetInfo>,
    /// Every option accepted in an option set.
    pub options: Vec<OptionInfo>,
    /// Options refused because they read or write files or do not apply to the JIT.
    pub refused: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EnvironmentOutput {
    /// True when libfaust could be loaded (benchmarks can run).
    pub success: bool,
    pub faustperf_version: String,
    /// `null` when libfaust cannot be loaded (then `libfaust_error` says why).
    pub libfaust_version: Option<String>,
    pub libfaust_error: Option<String>,
    /// LLVM target libfaust compiles for.
    pub machine_target: Option<String>,
    pub cpu_model: Option<String>,
    pub cores: usize,
    /// Core benchmarks measure on; tool calls take turns on it.
    pub measuring_core: Option<usize>,
    /// Compile cache directory, `null` when disabled or unusable.
    pub cache_dir: Option<String>,
    pub cache_entries: Option<usize>,
    pub cache_bytes: Option<u64>,
    /// Directories `source` paths and imports may come from (the Faust libraries too).
    pub allowed_dirs: Vec<String>,
    /// Landlock ABI of the kernel; `null`: no Landlock, workers are not confined.
    pub landlock_abi: Option<i32>,
    /// In words: whether workers run confined.
    pub confinement: String,
}
