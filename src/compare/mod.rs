//! `compare`: which of several implementations is faster, measured in interleaved rounds with the
//! same harness on the same core, and a winner only when the difference is significant.

use crate::analyze::advice::display;
use crate::analyze::options::OptionSet;
use crate::analyze::rank::cpu_percent;
use crate::cache::Cache;
use crate::libfaust::{DspSource, FaustError, LibFaust};
use crate::measure::rng::SplitMix64;
use crate::measure::stats::RoundInterval;
use crate::measure::{Budget, MeasureConfig};
use crate::worker::{compile_all, CompileJob, Compiled, MeasureManyJob, RunError, Workers};
use serde::Serialize;

/// Bootstrap resamples for the intervals of speed ratios.
const RESAMPLES: usize = 2000;

/// One implementation to compare.
#[derive(Debug, Clone)]
pub struct Implementation {
    pub name: String,
    pub source: DspSource,
    pub options: OptionSet,
}

/// What to compare and how.
#[derive(Debug, Clone)]
pub struct CompareRequest {
    pub implementations: Vec<Implementation>,
    pub measure: MeasureConfig,
    /// The fastest wins only when it is faster than every other by more than this, with 95 %
    /// confidence, %.
    pub tie_threshold_percent: f64,
}

/// One implementation's result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImplResult {
    pub name: String,
    pub compiler_options: String,
    pub inputs: usize,
    pub outputs: usize,
    /// 1 = fastest (least time per frame).
    pub rank: usize,
    /// MB/s as `analyze` counts it (MB = 2^20 bytes; bytes = frames × channels × sample size).
    pub throughput_mbps: f64,
    /// Median over rounds of the best blocks' time, per frame, ns.
    pub ns_per_frame: f64,
    /// Its distribution-free 95 % interval, ns per frame.
    pub ns_per_frame_ci95: [f64; 2],
    /// At the request's sample rate, %.
    pub cpu_percent: f64,
    /// Heap bytes of one instance.
    pub memory_bytes: Option<u64>,
    /// Time per frame of the slowest implementation over this one's (×).
    pub speedup_vs_slowest: f64,
    /// 95 % paired-bootstrap interval of that ratio.
    pub speedup_ci95: [f64; 2],
    /// e.g. `1.52x faster than butterworth (95 % CI 1.49–1.55)`.
    pub relative_performance: String,
    /// How much faster the fastest implementation is than this one (×), with its 95 %
    /// paired-bootstrap interval; 1 for the fastest itself. Tied with the fastest when the
    /// interval reaches 1.
    pub fastest_speedup: f64,
    pub fastest_speedup_ci95: [f64; 2],
    /// Compiled to the same code as the fastest (same libfaust SHA key): tied by definition.
    pub same_code_as_fastest: bool,
    pub rounds: usize,
    pub cached: bool,
}

/// An implementation that could not be measured.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImplError {
    pub name: String,
    pub message: String,
    /// Source line of a compile error, when Faust names one.
    pub line: Option<u32>,
}

/// Everything `faustperf compare` found.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CompareReport {
    /// Ranked, fastest first.
    pub comparison: Vec<ImplResult>,
    /// The significantly fastest implementation; `null` when the fastest are tied.
    pub winner: Option<String>,
    /// The implementations tied with the fastest (just the winner when there is one).
    pub tied: Vec<String>,
    /// One sentence: who won by how much, or who is tied within how much noise.
    pub verdict: String,
    /// `throughput`, or `time per frame` when the implementations' inputs/outputs differ.
    pub compared_by: String,
    pub recommendations: Vec<String>,
    pub warnings: Vec<String>,
    pub errors: Vec<ImplError>,
    pub buffer_size: usize,
    pub sample_rate: u32,
    pub budget: Budget,
    pub bootstrap_resamples: usize,
    pub bootstrap_seed: u64,
    pub libfaust_version: String,
    pub machine_target: String,
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
            options: i.options.args.clone(),
            sample_rate: m.sample_rate,
        })
        .collect();
    let (compiled, mut warnings) = compile_all(workers, cache, &jobs);
    let mut errors = Vec::new();
    let mut ready: Vec<(&Implementation, Compiled, bool)> = Vec::new();
    for (implementation, result) in request.implementations.iter().zip(compiled) {
        match result {
            Ok((code, cached)) => ready.push((implementation, code, cached)),
            Err(e) => errors.push(impl_error(&implementation.name, &e)),
        }
    }
    let mut comparison = Vec::new();
    let mut thread_core = None;
    if !ready.is_empty() {
        let job = MeasureManyJob {
            codes: ready
                .iter()
                .map(|(i, code, _)| (code.machine_code.clone(), i.options.args.clone()))
                .collect(),
            measure: m.clone(),
        };
        match workers.measurer.measure_many(&job) {
            Ok(raws) => {
                thread_core = raws.first().and_then(|r| r.thread.core);
                let rounds: Vec<Vec<f64>> = raws
                    .iter()
                    .map(|r| {
                        r.round_best_ns
                            .iter()
                            .map(|ns| ns / m.frames as f64)
                            .collect()
                    })
                    .collect();
                comparison = rank(&ready, &rounds, m);
            }
            Err(e) => {
                for (i, _, _) in &ready {
                    errors.push(impl_error(&i.name, &e));
                }
            }
        }
    }
    let same_io = comparison
        .windows(2)
        .all(|w| (w[0].inputs, w[0].outputs) == (w[1].inputs, w[1].outputs));
    if !same_io {
        warnings.push(
            "the implementations differ in inputs/outputs, so MB/s would count different bytes: they are compared by time per frame".into(),
        );
    }
    let (winner, tied, verdict) = verdict(&comparison, request.tie_threshold_percent);
    let lib = LibFaust::get().ok();
    CompareReport {
        recommendations: recommendations(&comparison, &winner),
        comparison,
        winner,
        tied,
        verdict,
        compared_by: if same_io {
            "throughput"
        } else {
            "time per frame"
        }
        .into(),
        warnings,
        errors,
        buffer_size: m.frames,
        sample_rate: m.sample_rate,
        budget: m.budget,
        bootstrap_resamples: RESAMPLES,
        bootstrap_seed: m.seed,
        libfaust_version: lib.map(|l| l.version().to_string()).unwrap_or_default(),
        machine_target: lib
            .map(|l| l.machine_target().to_string())
            .unwrap_or_default(),
        core: thread_core,
    }
}

fn impl_error(name: &str, e: &RunError) -> ImplError {
    let line = match e {
        RunError::Faust {
            error: FaustError::Compile { line, .. },
            ..
        } => *line,
        _ => None,
    };
    ImplError {
        name: name.to_string(),
        message: e.to_string(),
        line,
    }
}

/// Ranks by median time per frame; intervals of each implementation's speed-up over the slowest
/// come from a paired bootstrap over rounds (round `r` of every implementation ran back to back).
fn rank(
    ready: &[(&Implementation, Compiled, bool)],
    rounds: &[Vec<f64>],
    m: &MeasureConfig,
) -> Vec<ImplResult> {
    let medians: Vec<RoundInterval> = rounds.iter().map(|r| RoundInterval::of(r)).collect();
    let mut order: Vec<usize> = (0..ready.len()).collect();
    order.sort_by(|&a, &b| medians[a].median.total_cmp(&medians[b].median));
    let slowest = *order.last().unwrap_or(&0);
    let fastest = *order.first().unwrap_or(&0);
    order
        .iter()
        .enumerate()
        .map(|(rank, &i)| {
            let (implementation, code, cached) = &ready[i];
            let info = &code.info;
            let ns = medians[i].median;
            let bytes_per_frame =
                ((info.inputs + info.outputs) * info.precision.sample_bytes()) as f64;
            let speedup = medians[slowest].median / ns;
            let ci = ratio_interval(&rounds[slowest], &rounds[i], m.seed);
            ImplResult {
                name: implementation.name.clone(),
                compiler_options: implementation.options.label.clone(),
                inputs: info.inputs,
                outputs: info.outputs,
                rank: rank + 1,
                throughput_mbps: bytes_per_frame / (ns * 1e-9) / (1u64 << 20) as f64,
                ns_per_frame: ns,
                ns_per_frame_ci95: [medians[i].low, medians[i].high].map(|x| {
                    if x.is_finite() {
                        x
                    } else {
                        ns
                    }
                }),
                cpu_percent: cpu_percent(ns * m.frames as f64, m.frames, m.sample_rate),
                memory_bytes: info.memory_bytes,
                speedup_vs_slowest: speedup,
                speedup_ci95: ci,
                relative_performance: if i == slowest {
                    "slowest".into()
                } else {
                    format!(
                        "{speedup:.2}x faster than {} (95 % CI {:.2}–{:.2})",
                        ready[slowest].0.name, ci[0], ci[1]
                    )
                },
                fastest_speedup: ns / medians[fastest].median,
                fastest_speedup_ci95: if i == fastest {
                    [1.0, 1.0]
                } else {
                    ratio_interval(&rounds[i], &rounds[fastest], m.seed)
                },
                same_code_as_fastest: info.sha_key == ready[fastest].1.info.sha_key,
                rounds: rounds[i].len(),
                cached: *cached,
            }
        })
        .collect()
}

/// 95 % percentile interval of median(`slow`) / median(`fast`) from a paired bootstrap over
/// round indices (Efron & Tibshirani 1993, ch. 13), seeded by `seed`.
fn ratio_interval(slow: &[f64], fast: &[f64], seed: u64) -> [f64; 2] {
    let n = slow.len().min(fast.len());
    if n == 0 {
        return [f64::NAN; 2];
    }
    let mut rng = SplitMix64::new(seed ^ 0xB007_57A9);
    let median = |v: &mut Vec<f64>| {
        v.sort_unstable_by(f64::total_cmp);
        let k = v.len();
        if k % 2 == 1 {
            v[k / 2]
        } else {
            (v[k / 2 - 1] + v[k / 2]) / 2.0
        }
    };
    let (mut a, mut b) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut ratios: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            a.clear();
            b.clear();
            for _ in 0..n {
                let r = (rng.next_u64() % n as u64) as usize;
                a.push(slow[r]);
                b.push(fast[r]);
            }
            median(&mut a) / median(&mut b)
        })
        .collect();
    ratios.sort_unstable_by(f64::total_cmp);
    let pick = |q: f64| ratios[((ratios.len() - 1) as f64 * q).round() as usize];
    [pick(0.025), pick(0.975)]
}

/// The winner, when the fastest is faster than every other by more than `threshold_percent`
/// with 95 % confidence (the lower end of each interval of its speed-up lies above
/// 1 + threshold); else who is tied with the fastest. Identical code is always tied. The
/// threshold exists because instances of identical code measured side by side differ by up to
/// about 1 % (their places in memory), which no interval of one run can tell from a real gain.
fn verdict(
    comparison: &[ImplResult],
    threshold_percent: f64,
) -> (Option<String>, Vec<String>, String) {
    let Some(best) = comparison.first() else {
        return (
            None,
            Vec::new(),
            "No implementation could be measured.".into(),
        );
    };
    if comparison.len() == 1 {
        return (
            None,
            vec![best.name.clone()],
            format!("Only {} could be measured.", best.name),
        );
    }
    let tied: Vec<&ImplResult> = comparison
        .iter()
        .filter(|r| {
            r.same_code_as_fastest || r.fastest_speedup_ci95[0] <= 1.0 + threshold_percent / 100.0
        })
        .collect();
    if tied.len() == 1 {
        let second = &comparison[1];
        (
            Some(best.name.clone()),
            vec![best.name.clone()],
            format!(
                "{} is fastest: {:.2}x faster than {}, the next (95 % CI {:.2}–{:.2}).",
                best.name,
                second.fastest_speedup,
                second.name,
                second.fastest_speedup_ci95[0],
                second.fastest_speedup_ci95[1]
            ),
        )
    } else {
        let noise = tied
            .iter()
            .map(|r| 100.0 * (r.fastest_speedup_ci95[1] - 1.0).max(1.0 - r.fastest_speedup_ci95[0]))
            .fold(0.0, f64::max);
        (
            None,
            tied.iter().map(|r| r.name.clone()).collect(),
            format!(
                "{} are tied within noise (±{noise:.1} %).",
                tied.iter()
                    .map(|r| r.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    }
}

fn recommendations(comparison: &[ImplResult], winner: &Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    match (winner, comparison.first(), comparison.last()) {
        (Some(w), Some(best), Some(slowest)) => out.push(format!(
            "Use {w} ({}): {:.2}x the speed of {} at {:.3} % CPU.",
            display(&best.compiler_options),
            best.speedup_vs_slowest,
            slowest.name,
            best.cpu_percent
        )),
        (None, Some(_), _) if comparison.len() > 1 => out.push(
            "No implementation is significantly faster: choose by sound or simplicity, or measure longer (--max-time) to separate them.".into(),
        ),
        _ => {}
    }
    out
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
            inputs: 1,
            outputs: 1,
            rank,
            throughput_mbps: 100.0 * speedup,
            ns_per_frame: 10.0 / speedup,
            ns_per_frame_ci95: [9.0 / speedup, 11.0 / speedup],
            cpu_percent: 1.0,
            memory_bytes: Some(10),
            speedup_vs_slowest: speedup,
            speedup_ci95: [speedup; 2],
            relative_performance: String::new(),
            fastest_speedup: fastest,
            fastest_speedup_ci95: ci,
            same_code_as_fastest: false,
            rounds: 10,
            cached: false,
        }
    }

    #[test]
    fn a_clear_winner() {
        let c = [
            result("a", 1, 1.0, [1.0, 1.0]),
            result("b", 2, 2.0, [1.9, 2.1]),
        ];
        let (winner, tied, verdict) = verdict(&c, 1.0);
        assert_eq!(winner.as_deref(), Some("a"));
        assert_eq!(tied, ["a"]);
        assert!(
            verdict.starts_with("a is fastest: 2.00x faster than b"),
            "{verdict}"
        );
    }

    #[test]
    fn overlapping_intervals_are_a_tie() {
        let c = [
            result("a", 1, 1.0, [1.0, 1.0]),
            result("b", 2, 1.01, [0.98, 1.04]),
        ];
        let (winner, tied, text) = verdict(&c, 0.0);
        assert_eq!(winner, None);
        assert_eq!(tied, ["a", "b"]);
        assert!(text.contains("tied within noise (±4.0 %)"), "{text}");
        // Significant, but within the threshold: still a tie; identical code always is.
        let c = [
            result("a", 1, 1.0, [1.0, 1.0]),
            result("b", 2, 1.007, [1.002, 1.011]),
        ];
        assert_eq!(verdict(&c, 1.0).0, None);
        assert_eq!(verdict(&c, 0.0).0.as_deref(), Some("a"));
        let mut same = c.clone();
        same[1].same_code_as_fastest = true;
        assert_eq!(verdict(&same, 0.0).0, None);
    }

    #[test]
    fn paired_bootstrap_is_seeded_and_brackets_the_ratio() {
        let slow: Vec<f64> = (0..20).map(|i| 200.0 + (i % 5) as f64).collect();
        let fast: Vec<f64> = (0..20).map(|i| 100.0 + (i % 3) as f64).collect();
        let ci = ratio_interval(&slow, &fast, 3);
        assert_eq!(ci, ratio_interval(&slow, &fast, 3));
        assert!(ci[0] <= 202.0 / 101.0 && 202.0 / 101.0 <= ci[1], "{ci:?}");
        assert!(ci[0] > 1.9 && ci[1] < 2.1);
    }
}
