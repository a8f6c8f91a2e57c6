//! `compare`: which of several implementations is faster, measured in interleaved rounds with the
//! same harness on the same core, and a winner only when the difference is significant.

use crate::analyze::{check_tie_threshold, DEFAULT_TIE_THRESHOLD_PERCENT};
use crate::backends::{Code, Cxx};
use crate::cache::Cache;
use crate::jobs::{CompileJob, Compiled};
use crate::libfaust::DspSource;
use crate::measure::stats::{paired_ratio, MedianInterval};
use crate::measure::units::{bytes_per_block, cpu_percent, frames_per_second, mbps};
use crate::measure::warnings::{texts, Environment};
use crate::measure::{Budget, Conditions, MeasureConfig, RawMeasurement, RequestError};
use crate::options::{display, Backend, OptionSet};
use crate::pipeline::{compile_all, measure_sets, Workers};
use crate::worker::RunError;
use serde::{Deserialize, Serialize};

mod outputs;

fn default_band() -> [f64; 2] {
    crate::accuracy::DEFAULT_BAND_HZ
}

/// One implementation to compare.
#[derive(Debug, Clone)]
pub struct Implementation {
    pub name: String,
    pub source: DspSource,
    pub options: OptionSet,
}

/// What to compare and how: [`CompareRequest::new`] with the implementations, a default changed
/// in its field, then [`compare`].
#[derive(Debug, Clone)]
pub struct CompareRequest {
    pub implementations: Vec<Implementation>,
    /// Default: [`MeasureConfig::default`].
    pub measure: MeasureConfig,
    /// The fastest wins only when it is faster than every other by more than this, with 95 %
    /// confidence, %. Default: [`DEFAULT_TIE_THRESHOLD_PERCENT`].
    pub tie_threshold_percent: f64,
    /// The C++ compiler, for implementations on the `cpp` backend (default: g++ with
    /// faustperf's flags).
    pub cxx: Option<Cxx>,
    /// The implementation whose output the others' are compared with (default: the first).
    pub reference: Option<String>,
    /// Below this SNR against the reference, dB, an implementation computes something
    /// `different`. Default: [`crate::accuracy::DEFAULT_TOLERANCE_DB`].
    pub accuracy_tolerance_db: f64,
    /// The band magnitude responses are compared over, Hz (clamped below Nyquist). Default:
    /// [`crate::accuracy::DEFAULT_BAND_HZ`].
    pub band_hz: [f64; 2],
    /// Also measure THD+N at a sine of this frequency, Hz.
    pub thd_n_hz: Option<f64>,
}

impl CompareRequest {
    /// A comparison of `implementations` with every default, or why it cannot be run: fewer
    /// than two implementations, or two of one name.
    pub fn new(implementations: Vec<Implementation>) -> Result<CompareRequest, RequestError> {
        if implementations.len() < 2 {
            return Err(RequestError("give at least two implementations to compare (files, or --impl NAME=SOURCE[:OPTIONS] on the command line)".into()));
        }
        let mut names: Vec<&str> = implementations.iter().map(|i| i.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(RequestError(format!(
                "two implementations are named `{}`: give each its own name",
                w[0]
            )));
        }
        Ok(CompareRequest {
            implementations,
            measure: MeasureConfig::default(),
            tie_threshold_percent: DEFAULT_TIE_THRESHOLD_PERCENT,
            cxx: None,
            reference: None,
            accuracy_tolerance_db: crate::accuracy::DEFAULT_TOLERANCE_DB,
            band_hz: crate::accuracy::DEFAULT_BAND_HZ,
            thd_n_hz: None,
        })
    }

    /// The request as it will run, or what is wrong with it (see
    /// [`crate::analyze::AnalyzeRequest::validate`]).
    pub fn validate(mut self, max_seconds: f64) -> Result<CompareRequest, RequestError> {
        self.measure.check(max_seconds)?;
        check_tie_threshold(self.tie_threshold_percent)?;
        outputs::validate(&self)?;
        let on_cpp = (self.implementations.iter()).any(|i| i.options.backend == Backend::Cpp);
        self.cxx =
            Cxx::when_needed(on_cpp, self.cxx).map_err(|e| RequestError(format!("cpp: {e}")))?;
        Ok(self)
    }
}

/// One implementation's result.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImplResult {
    pub name: String,
    pub compiler_options: String,
    /// The backend that compiled and ran it.
    pub backend: crate::options::Backend,
    pub inputs: usize,
    pub outputs: usize,
    /// 1 = fastest (least time per frame).
    pub rank: usize,
    /// MB/s as `analyze` counts it (MB = 2^20 bytes; bytes = frames × channels × sample size).
    pub throughput_mbps: f64,
    /// Samples of one channel computed per second (frames per second), from the same blocks
    /// as `throughput_mbps`.
    pub samples_per_second: f64,
    /// Input plus output channels.
    pub channels_processed: usize,
    /// Mean of the fastest blocks of the whole measurement (as `analyze`), per frame, ns.
    pub ns_per_frame: f64,
    /// Its 95 % interval (a bootstrap over rounds, as `analyze`), ns per frame.
    pub ns_per_frame_ci95: [f64; 2],
    /// Core cycles per frame and their 95 % interval (as `analyze`); `null` without the TSC.
    #[serde(default)]
    pub cycles_per_frame: Option<f64>,
    #[serde(default)]
    pub cycles_per_frame_ci95: Option<[f64; 2]>,
    /// At the request's sample rate, %.
    pub cpu_percent: f64,
    /// Heap bytes of one instance.
    pub memory_bytes: Option<u64>,
    /// Time per frame of the slowest implementation over this one's (×): the median over
    /// passes of the ratio of their rounds in the same pass.
    pub speedup_vs_slowest: f64,
    /// Sign-test 95 % interval of that median (both ends the median with fewer than 6 passes).
    pub speedup_ci95: [f64; 2],
    /// e.g. `1.52x faster than butterworth (95 % CI 1.49–1.55)`.
    pub relative_performance: String,
    /// How much faster the fastest implementation is than this one (×, paired by pass as
    /// `speedup_vs_slowest`), with its sign-test 95 % interval; 1 for the fastest itself. Tied
    /// with the fastest when the interval reaches 1 + the tie threshold.
    pub fastest_speedup: f64,
    pub fastest_speedup_ci95: [f64; 2],
    /// Compiled to the same machine code as the fastest: tied by definition.
    pub same_code_as_fastest: bool,
    /// Its output against the reference implementation's on the same input, 1 s of the seeded
    /// noise (see README, "Same sound"), with a verdict (`same`: identical or within rounding,
    /// ≥ 100 dB; `close`: above the tolerance; `different`): `snr_db` null when the samples
    /// are the same; `null` when its inputs and outputs differ from the reference's or it
    /// could not be rendered.
    #[serde(default)]
    pub output_vs_reference: Option<crate::accuracy::Accuracy>,
    /// Its magnitude response against the reference's (programs with as many inputs as
    /// outputs, one impulse response per channel); `null` otherwise.
    #[serde(default)]
    pub response: Option<crate::accuracy::Response>,
    /// THD+N at a sine of `thd_n_hz` on every input (worst channel), dB; `null` when not asked
    /// or without inputs.
    #[serde(default)]
    pub thd_n_db: Option<f64>,
    pub rounds: usize,
    pub cached: bool,
}

/// An implementation that could not be measured.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ImplError {
    pub name: String,
    pub message: String,
    /// Source line of a compile error, when Faust names one.
    pub line: Option<u32>,
}

/// Everything `faustperf compare` found.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CompareReport {
    /// True when at least two implementations were measured.
    pub success: bool,
    /// Ranked, fastest first.
    pub comparison: Vec<ImplResult>,
    /// The fastest implementation's name (`""` when none was measured); significantly
    /// fastest only when `tied_with` is empty.
    pub winner: String,
    /// The implementations tied with the winner within noise (or compiled to the same code);
    /// empty when it wins beyond noise.
    pub tied_with: Vec<String>,
    /// One sentence: who won by how much, or who is tied within how much noise.
    pub verdict: String,
    /// The implementation whose output the others are compared with (`""` when none was).
    #[serde(default)]
    pub reference: String,
    /// The band magnitude responses are compared over, Hz.
    #[serde(default = "default_band")]
    pub response_band_hz: [f64; 2],
    /// The sine's frequency for THD+N, Hz, when asked.
    #[serde(default)]
    pub thd_n_hz: Option<f64>,
    /// `throughput`, or `time per frame` when the implementations' inputs/outputs differ.
    pub compared_by: String,
    /// What to use, in sentences (a tie is said here too).
    pub recommendations: String,
    pub warnings: Vec<String>,
    pub errors: Vec<ImplError>,
    /// libfaust, its target, the CPU, the buffer size and the sample rate.
    #[serde(flatten)]
    pub conditions: Conditions,
    /// Implementations slower than the fastest by less than this are tied with it, %.
    pub tie_threshold_percent: f64,
    pub budget: Budget,
    /// Seed of the input noise, placements and the bootstrap of `ns_per_frame_ci95`.
    pub seed: u64,
    /// Core of the measuring thread.
    pub core: Option<usize>,
}

/// Compiles every implementation (cache first), measures them in interleaved rounds, ranks
/// them and decides whether one wins.
pub fn compare(
    request: &CompareRequest,
    workers: &mut Workers,
    cache: Option<&Cache>,
) -> CompareReport {
    let m = &request.measure;
    let jobs: Vec<CompileJob> = request
        .implementations
        .iter()
        .map(|i| CompileJob {
            source: i.source.clone(),
            options: i.options.clone(),
            sample_rate: m.sample_rate,
            cxx: request.cxx.clone(),
            target: crate::libfaust::Target::Host,
        })
        .collect();
    let (compiled, compile_warnings) = compile_all(workers, cache, &jobs, &mut |_, _| {});
    let mut errors = Vec::new();
    let mut ready: Vec<(&Implementation, Compiled, bool)> = Vec::new();
    for (implementation, result) in request.implementations.iter().zip(compiled) {
        match result {
            Ok((code, cached)) => ready.push((implementation, code, cached)),
            Err(e) => errors.push(impl_error(&implementation.name, &e)),
        }
    }
    let codes: Vec<(Code, OptionSet)> = ready
        .iter()
        .map(|(i, code, _)| (code.code.clone(), i.options.clone()))
        .collect();
    let raws = measure_sets(workers.measurer.as_mut(), &codes, m, &mut |_| {});
    let mut measured = Vec::new();
    for ((implementation, code, cached), raw) in ready.into_iter().zip(raws) {
        match raw {
            Ok(raw) => measured.push(Measured {
                implementation,
                code,
                cached,
                raw,
            }),
            Err(e) => errors.push(impl_error(&implementation.name, &e)),
        }
    }
    let thread_core = measured.first().and_then(|m| m.raw.thread.core);
    let conditions = Conditions::here(m.frames, m.sample_rate);
    let mut environment = Environment {
        target: conditions.toolchain.machine_target.clone(),
        ..Environment::default()
    };
    for x in &measured {
        environment.merge(&x.raw.environment(&conditions.toolchain.machine_target));
    }
    let mut warnings = texts(environment.warnings(m.into()));
    warnings.extend(compile_warnings);
    let mut comparison = rank(&measured, m);
    let reference = outputs::check(request, &measured, workers, &mut comparison, &mut warnings);
    let same_io = comparison
        .windows(2)
        .all(|w| (w[0].inputs, w[0].outputs) == (w[1].inputs, w[1].outputs));
    if !same_io {
        warnings.push(
            "the implementations differ in inputs/outputs, so MB/s would count different bytes: they are compared by time per frame".into(),
        );
    }
    let (winner, tied_with, verdict) = verdict(&comparison, request.tie_threshold_percent);
    let mut recommendations = recommendations(&comparison, &tied_with);
    if let Some(reference) = &reference {
        recommendations.push_str(&outputs::sentence(&comparison, reference, request));
    }
    CompareReport {
        success: comparison.len() >= 2,
        recommendations,
        comparison,
        winner,
        tied_with,
        verdict,
        reference: reference.unwrap_or_default(),
        response_band_hz: request.band_hz,
        thd_n_hz: request.thd_n_hz,
        compared_by: if same_io {
            "throughput"
        } else {
            "time per frame"
        }
        .into(),
        warnings,
        errors,
        conditions,
        tie_threshold_percent: request.tie_threshold_percent,
        budget: m.budget,
        seed: m.seed,
        core: thread_core,
    }
}

fn impl_error(name: &str, e: &RunError) -> ImplError {
    ImplError {
        name: name.to_string(),
        message: e.to_string(),
        line: e.line(),
    }
}

/// An implementation that was measured.
struct Measured<'a> {
    implementation: &'a Implementation,
    code: Compiled,
    cached: bool,
    raw: RawMeasurement,
}

/// Ranks by the estimate of time per frame; speed-ups and their intervals come from the
/// passes (round `r` of every implementation ran in pass `r`).
fn rank(measured: &[Measured<'_>], m: &MeasureConfig) -> Vec<ImplResult> {
    let per_frame = |ns: f64| ns / m.frames as f64;
    let mut order: Vec<usize> = (0..measured.len()).collect();
    order.sort_by(|&a, &b| {
        let (ta, tb) = (&measured[a].raw.timing, &measured[b].raw.timing);
        per_frame(ta.best_mean_ns).total_cmp(&per_frame(tb.best_mean_ns))
    });
    let (Some(&fastest), Some(&slowest)) = (order.first(), order.last()) else {
        return Vec::new();
    };
    // Time of `a` over time of `b`, paired by pass.
    let ratio = |a: usize, b: usize| {
        paired_ratio(
            &measured[a].raw.round_best_ns,
            &measured[b].raw.round_best_ns,
        )
        .unwrap_or(MedianInterval::of(&[1.0]))
    };
    let ends =
        |r: MedianInterval| [r.low, r.high].map(|x| if x.is_finite() { x } else { r.median });
    order
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let implementation = measured[i].implementation;
            let (info, t) = (&measured[i].code.info, &measured[i].raw.timing);
            let ns = per_frame(t.best_mean_ns);
            let cycles = t.cycles_per_frame(m.frames);
            let speedup = ratio(slowest, i);
            let behind = ratio(i, fastest);
            let ci = ends(speedup);
            ImplResult {
                name: implementation.name.clone(),
                compiler_options: implementation.options.label.clone(),
                backend: implementation.options.backend,
                inputs: info.inputs,
                outputs: info.outputs,
                rank: rank + 1,
                throughput_mbps: mbps(
                    bytes_per_block(1, info.inputs + info.outputs, info.precision.sample_bytes()),
                    ns,
                ),
                samples_per_second: frames_per_second(m.frames, t.best_mean_ns),
                channels_processed: info.inputs + info.outputs,
                ns_per_frame: ns,
                ns_per_frame_ci95: t.best_mean_ci95_ns.map(per_frame),
                cycles_per_frame: cycles.map(|c| c.0),
                cycles_per_frame_ci95: cycles.map(|c| c.1),
                cpu_percent: cpu_percent(t.best_mean_ns, m.frames, m.sample_rate),
                memory_bytes: info.memory_bytes,
                speedup_vs_slowest: speedup.median,
                speedup_ci95: ci,
                relative_performance: if i == slowest {
                    "slowest".into()
                } else {
                    format!(
                        "{:.2}x faster than {} (95 % CI {:.2}–{:.2})",
                        speedup.median, measured[slowest].implementation.name, ci[0], ci[1]
                    )
                },
                fastest_speedup: behind.median,
                fastest_speedup_ci95: if i == fastest {
                    [1.0, 1.0]
                } else {
                    ends(behind)
                },
                same_code_as_fastest: info.code_digest == measured[fastest].code.info.code_digest,
                output_vs_reference: None,
                response: None,
                thd_n_db: None,
                rounds: t.rounds,
                cached: measured[i].cached,
            }
        })
        .collect()
}

/// The fastest implementation, who is tied with it, and the verdict. It wins beyond noise
/// when it is faster than every other by more than `threshold_percent` with 95 % confidence
/// (the lower end of each interval of its speed-up lies above 1 + threshold); else the others
/// within that are tied with it. Identical code is always tied. The threshold exists because
/// instances of identical code measured side by side differ by up to about 1 % (their places
/// in memory), which no interval of one run can tell from a real gain.
fn verdict(comparison: &[ImplResult], threshold_percent: f64) -> (String, Vec<String>, String) {
    let Some(best) = comparison.first() else {
        return (
            String::new(),
            Vec::new(),
            "No implementation could be measured.".into(),
        );
    };
    if comparison.len() == 1 {
        return (
            best.name.clone(),
            Vec::new(),
            format!("Only {} could be measured.", best.name),
        );
    }
    let tied: Vec<&ImplResult> = comparison[1..]
        .iter()
        .filter(|r| {
            r.same_code_as_fastest || r.fastest_speedup_ci95[0] <= 1.0 + threshold_percent / 100.0
        })
        .collect();
    let verdict = if tied.is_empty() {
        let second = &comparison[1];
        format!(
            "{} is fastest: {:.2}x faster than {}, the next (95 % CI {:.2}–{:.2}).",
            best.name,
            second.fastest_speedup,
            second.name,
            second.fastest_speedup_ci95[0],
            second.fastest_speedup_ci95[1]
        )
    } else {
        let noise = tied
            .iter()
            .map(|r| 100.0 * (r.fastest_speedup_ci95[1] - 1.0).max(1.0 - r.fastest_speedup_ci95[0]))
            .fold(0.0, f64::max);
        let names: Vec<&str> = std::iter::once(best)
            .chain(tied.iter().copied())
            .map(|r| r.name.as_str())
            .collect();
        format!(
            "{} are tied within noise (±{noise:.1} %).",
            names.join(", ")
        )
    };
    (
        best.name.clone(),
        tied.iter().map(|r| r.name.clone()).collect(),
        verdict,
    )
}

/// What to use, in sentences: the winner and its gain, or the tie and how to separate it.
fn recommendations(comparison: &[ImplResult], tied_with: &[String]) -> String {
    let (Some(best), Some(slowest)) = (comparison.first(), comparison.last()) else {
        return String::new();
    };
    if comparison.len() < 2 {
        return String::new();
    }
    if tied_with.is_empty() {
        format!(
            "Use {} ({}): {:.2}x the speed of {} at {:.3} % CPU.",
            best.name,
            display(&best.compiler_options),
            best.speedup_vs_slowest,
            slowest.name,
            best.cpu_percent
        )
    } else {
        format!(
            "No implementation is significantly faster: {} measured fastest, tied within noise with {}. Choose among them by sound or simplicity, or measure longer (--max-time) to separate them.",
            best.name,
            tied_with.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An implementation `fastest` times slower than the fastest, with that interval.
    fn result(name: &str, rank: usize, fastest: f64, ci: [f64; 2]) -> ImplResult {
        let speedup = 2.0 / fastest;
        ImplResult {
            name: name.into(),
            compiler_options: "-vec".into(),
            backend: crate::options::Backend::Llvm,
            inputs: 1,
            outputs: 1,
            rank,
            throughput_mbps: 100.0 * speedup,
            samples_per_second: 1e8 / speedup,
            channels_processed: 2,
            ns_per_frame: 10.0 / speedup,
            ns_per_frame_ci95: [9.0 / speedup, 11.0 / speedup],
            cycles_per_frame: None,
            cycles_per_frame_ci95: None,
            cpu_percent: 1.0,
            memory_bytes: Some(10),
            speedup_vs_slowest: speedup,
            speedup_ci95: [speedup; 2],
            relative_performance: String::new(),
            fastest_speedup: fastest,
            fastest_speedup_ci95: ci,
            same_code_as_fastest: false,
            output_vs_reference: None,
            response: None,
            thd_n_db: None,
            rounds: 10,
            cached: false,
        }
    }

    /// `a`, the fastest, and `b`, `fastest` times slower than `a`, with that interval.
    fn a_and_b(fastest: f64, ci: [f64; 2]) -> [ImplResult; 2] {
        [result("a", 1, 1.0, [1.0, 1.0]), result("b", 2, fastest, ci)]
    }

    #[test]
    fn a_clear_winner() {
        let c = a_and_b(2.0, [1.9, 2.1]);
        let (winner, tied_with, verdict) = verdict(&c, 1.0);
        assert_eq!(winner, "a");
        assert!(tied_with.is_empty());
        assert!(
            verdict.starts_with("a is fastest: 2.00x faster than b"),
            "{verdict}"
        );
        assert!(recommendations(&c, &tied_with).starts_with("Use a (-vec): 2.00x the speed of b"));
    }

    #[test]
    fn overlapping_intervals_are_a_tie() {
        let c = a_and_b(1.01, [0.98, 1.04]);
        let (winner, tied_with, text) = verdict(&c, 0.0);
        // The fastest is the winner by name; the tie has its own field and is said.
        assert_eq!(winner, "a");
        assert_eq!(tied_with, ["b"]);
        assert!(
            text.contains("a, b are tied within noise (±4.0 %)"),
            "{text}"
        );
        let advice = recommendations(&c, &tied_with);
        assert!(
            advice.starts_with("No implementation is significantly faster: a measured fastest, tied within noise with b."),
            "{advice}"
        );
        // Significant, but within the threshold: still a tie; identical code always is.
        let c = a_and_b(1.007, [1.002, 1.011]);
        assert_eq!(verdict(&c, 1.0).1, ["b"]);
        assert!(verdict(&c, 0.0).1.is_empty());
        let mut same = c.clone();
        same[1].same_code_as_fastest = true;
        assert_eq!(verdict(&same, 0.0).1, ["b"]);
    }
}
