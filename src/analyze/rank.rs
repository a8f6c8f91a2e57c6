//! From measurements to ranked results: throughput, CPU %, speed-up, ties.

use super::options::OptionSet;
use super::result::{CpuAtRate, SetResult};
use crate::measure::stats::TimingSummary;
use crate::measure::StopReason;
use crate::worker::CompileInfo;

/// One option set's compile facts and timing summary, before ranking.
#[derive(Debug, Clone)]
pub struct Measured {
    pub set: OptionSet,
    pub compile: CompileInfo,
    pub timing: TimingSummary,
    /// The code came from the compile cache.
    pub cached: bool,
    pub stop: StopReason,
    /// Wall time of the timed rounds, seconds.
    pub measure_seconds: f64,
    pub non_finite_outputs: usize,
}

/// Bytes one block moves: frames × (inputs + outputs) × sample size.
pub fn bytes_per_block(compile: &CompileInfo, frames: usize) -> f64 {
    (frames * (compile.inputs + compile.outputs) * compile.precision.sample_bytes()) as f64
}

/// MB/s (MB = 2^20 bytes) for `bytes` moved in `ns`.
pub fn mbps(bytes: f64, ns: f64) -> f64 {
    if ns <= 0.0 {
        return 0.0;
    }
    bytes / (ns * 1e-9) / (1u64 << 20) as f64
}

/// Time of a block as % of the audio time it stands for at `sample_rate`.
pub fn cpu_percent(ns_per_block: f64, frames: usize, sample_rate: u32) -> f64 {
    let audio_ns = frames as f64 / sample_rate as f64 * 1e9;
    100.0 * ns_per_block / audio_ns
}

/// Sample rates at which CPU % is always reported.
pub const REPORTED_RATES: [u32; 3] = [44100, 48000, 96000];

/// Ranks by time per block (fastest first; the same order as throughput for sets of one
/// precision, whereas `-double` sets move twice the bytes), computes speed-ups over the first
/// scalar set, and recommends the simplest set (fewest arguments) among those tied with the
/// fastest.
///
/// A set is tied with the fastest when it compiled to the same code (same SHA key, or the same
/// normalised options: the SHA key also hashes how the options were written), when its
/// 95 % interval overlaps the fastest's, or when it is less than `tie_threshold_percent` slower.
/// The threshold covers what one run's interval cannot see: identical code measured twice
/// differs by more than its bootstrap interval (code and buffer placement, machine state).
pub fn rank(
    mut measured: Vec<Measured>,
    frames: usize,
    sample_rate: u32,
    tie_threshold_percent: f64,
) -> Vec<SetResult> {
    // The baseline is the first scalar set in the order given (`""` or `-scal`), not the
    // fastest scalar variant.
    let baseline_set = measured
        .iter()
        .find(|m| m.set.is_scalar())
        .map(|m| m.set.clone());
    measured.sort_by(|a, b| a.timing.best_mean_ns.total_cmp(&b.timing.best_mean_ns));
    let baseline = baseline_set.and_then(|b| measured.iter().position(|m| m.set == b));
    let baseline_mbps = baseline.map(|i| {
        let m = &measured[i];
        mbps(bytes_per_block(&m.compile, frames), m.timing.best_mean_ns)
    });
    let fastest = measured
        .first()
        .map(|m| (m.timing.clone(), m.compile.clone()));
    // The same code: libfaust's SHA key hashes the options as written, so `-vec -fun` and
    // `-vec -fun -vs 32` differ there but have the same normalised options.
    let tied = |m: &Measured| {
        fastest.as_ref().is_some_and(|(best, code)| {
            let t = &m.timing;
            code.sha_key == m.compile.sha_key
                || code.normalized_options == m.compile.normalized_options
                || t.best_mean_ci95_ns[0] <= best.best_mean_ci95_ns[1]
                || t.best_mean_ns <= best.best_mean_ns * (1.0 + tie_threshold_percent / 100.0)
        })
    };
    let mut results: Vec<SetResult> = measured
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let bytes = bytes_per_block(&m.compile, frames);
            let t = &m.timing;
            let throughput = mbps(bytes, t.best_mean_ns);
            let cpu = cpu_percent(t.best_mean_ns, frames, sample_rate);
            let mut warnings = Vec::new();
            if m.non_finite_outputs > 0 {
                warnings.push(format!(
                    "{} output samples were NaN or infinite at the end of the run: the DSP is unstable with this input{}",
                    m.non_finite_outputs,
                    " (noise, and random controls if asked); its speed may not be representative"
                ));
            }
            if t.round_rel_sd_percent > 5.0 {
                warnings.push(format!(
                    "its {} rounds spread ±{:.1} %: the machine was noisy, or the DSP's speed depends much on where its instance lies in memory; close other programs or measure longer",
                    t.rounds, t.round_rel_sd_percent
                ));
            }
            SetResult {
                compiler_options: m.set.label.clone(),
                normalized_options: m.compile.normalized_options.clone(),
                rank: i + 1,
                throughput_mbps: throughput,
                throughput_ci95_mbps: [mbps(bytes, t.best_mean_ci95_ns[1]), mbps(bytes, t.best_mean_ci95_ns[0])],
                throughput_rel_sd_percent: t.best_rel_sd_percent,
                throughput_median_mbps: mbps(bytes, t.median_ns),
                throughput_p5_mbps: mbps(bytes, t.p95_ns),
                throughput_p95_mbps: mbps(bytes, t.p5_ns),
                cpu_percent: cpu,
                cpu_percent_at: REPORTED_RATES
                    .iter()
                    .map(|&sr| CpuAtRate {
                        sample_rate: sr,
                        cpu_percent: cpu_percent(t.best_mean_ns, frames, sr),
                    })
                    .collect(),
                cpu_percent_mean_block: cpu_percent(t.mean_ns, frames, sample_rate),
                headroom_percent: 100.0 - cpu,
                memory_bytes: m.compile.memory_bytes,
                speedup_vs_baseline: baseline_mbps.filter(|b| *b > 0.0).map(|b| throughput / b),
                tied_with_best: tied(m),
                is_baseline: Some(i) == baseline,
                is_recommended: false,
                compile_seconds: m.compile.seconds,
                cached: m.cached,
                stop_reason: m.stop,
                measure_seconds: m.measure_seconds,
                blocks_measured: t.samples * t.batch,
                timing: t.clone(),
                warnings,
                inspection: None,
            }
        })
        .collect();
    let recommended = measured
        .iter()
        .zip(&results)
        .enumerate()
        .filter(|(_, (_, r))| r.tied_with_best)
        .min_by_key(|(i, (m, _))| (m.set.args.len(), *i))
        .map(|(i, _)| i);
    if let Some(i) = recommended {
        results[i].is_recommended = true;
    }
    results
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analyze::options::parse_option_set;
    use crate::libfaust::Precision;

    /// A synthetic measurement: `ns` per block of 512 frames, CI ± `half_ci` ns, 1 in / 2 out.
    pub(crate) fn measured(options: &str, ns: f64, half_ci: f64) -> Measured {
        Measured {
            set: parse_option_set(options).unwrap(),
            compile: CompileInfo {
                seconds: 0.5,
                normalized_options: format!("-lang llvm {options}"),
                sha_key: format!("key of {options}"),
                warnings: vec![],
                inputs: 1,
                outputs: 2,
                precision: Precision::Single,
                memory_bytes: Some(1000),
                controls: 0,
            },
            timing: TimingSummary {
                samples: 1000,
                batch: 1,
                best_n: 10,
                rounds: 10,
                best_mean_ns: ns,
                best_mean_ci95_ns: [ns - half_ci, ns + half_ci],
                round_rel_sd_percent: 1.0,
                best_rel_sd_percent: 1.0,
                mean_ns: ns * 1.1,
                median_ns: ns * 1.05,
                p5_ns: ns * 1.01,
                p95_ns: ns * 1.3,
            },
            cached: false,
            stop: StopReason::PrecisionReached,
            measure_seconds: 1.0,
            non_finite_outputs: 0,
        }
    }

    #[test]
    fn ranks_by_speed_with_speedup_and_ties() {
        let results = rank(
            vec![
                measured("", 20_000.0, 100.0),
                measured("-vec -fun -vs 64", 10_050.0, 100.0),
                measured("-vec", 10_000.0, 100.0),
                measured("-vec -fun", 15_000.0, 100.0),
            ],
            512,
            44100,
            0.0,
        );
        let order: Vec<&str> = results
            .iter()
            .map(|r| r.compiler_options.as_str())
            .collect();
        assert_eq!(order, ["-vec", "-vec -fun -vs 64", "-vec -fun", ""]);
        assert_eq!(
            results.iter().map(|r| r.rank).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        assert!(results[0].tied_with_best && results[1].tied_with_best);
        assert!(!results[2].tied_with_best && !results[3].tied_with_best);
        // The simplest of the tied sets is recommended.
        assert!(results[0].is_recommended && !results[1].is_recommended);
        assert!(results[3].is_baseline);
        assert!((results[0].speedup_vs_baseline.unwrap() - 2.0).abs() < 1e-9);
        assert!((results[3].speedup_vs_baseline.unwrap() - 1.0).abs() < 1e-9);
    }

    #[test]
    fn prefers_simpler_among_ties_even_if_slightly_slower() {
        let results = rank(
            vec![
                measured("-vec -fun -vs 64 -dfs", 10_000.0, 200.0),
                measured("-vec", 10_100.0, 200.0),
            ],
            512,
            44100,
            0.0,
        );
        assert_eq!(results[0].compiler_options, "-vec -fun -vs 64 -dfs");
        assert!(results[1].is_recommended);
    }

    #[test]
    fn ties_by_threshold_and_by_identical_code() {
        // Narrow intervals that do not overlap: 0.5 % apart is a tie under a 1 % threshold only.
        let sets = || {
            vec![
                measured("-vec", 10_000.0, 1.0),
                measured("-vec -fun", 10_050.0, 1.0),
                measured("", 10_200.0, 1.0),
            ]
        };
        let strict = rank(sets(), 512, 44100, 0.0);
        assert!(!strict[1].tied_with_best);
        let lenient = rank(sets(), 512, 44100, 1.0);
        assert!(lenient[1].tied_with_best && !lenient[2].tied_with_best);
        // Same SHA key: the same compiled code, tied whatever the numbers say.
        let mut same = sets();
        same[2].compile.sha_key = same[0].compile.sha_key.clone();
        same[1].compile.sha_key = "other".into();
        let r = rank(same, 512, 44100, 0.0);
        assert!(r[2].tied_with_best && !r[1].tied_with_best);
        // The simplest tied set (the scalar one, same code) is recommended.
        assert!(r[2].is_recommended);
        // Options written differently (other SHA key) that normalise alike: the same code.
        let mut alike = sets();
        alike[2].compile.normalized_options = alike[0].compile.normalized_options.clone();
        let r = rank(alike, 512, 44100, 0.0);
        assert!(r[2].tied_with_best && !r[1].tied_with_best);
    }

    #[test]
    fn baseline_is_the_first_scalar_set_given_not_the_fastest() {
        let r = rank(
            vec![
                measured("-scal", 20_000.0, 10.0),
                measured("-scal -mcd 0", 15_000.0, 10.0),
            ],
            512,
            44100,
            1.0,
        );
        assert_eq!(r[0].compiler_options, "-scal -mcd 0");
        assert!(!r[0].is_baseline && r[1].is_baseline);
        assert!((r[0].speedup_vs_baseline.unwrap() - 20_000.0 / 15_000.0).abs() < 1e-9);
    }

    #[test]
    fn throughput_and_cpu_agree() {
        let r = &rank(vec![measured("", 1_000_000.0, 1.0)], 512, 44100, 1.0)[0];
        // 512 frames × 3 channels × 4 bytes in 1 ms.
        let expected_mbps = 6144.0 / 1e-3 / 1048576.0;
        assert!((r.throughput_mbps - expected_mbps).abs() < 1e-9);
        // 1 ms of work for 512/44100 s of audio.
        assert!((r.cpu_percent - 100.0 * 1e-3 / (512.0 / 44100.0)).abs() < 1e-9);
        let at96 = r
            .cpu_percent_at
            .iter()
            .find(|c| c.sample_rate == 96000)
            .unwrap();
        assert!((at96.cpu_percent - r.cpu_percent * 96000.0 / 44100.0).abs() < 1e-9);
        assert!((r.headroom_percent - (100.0 - r.cpu_percent)).abs() < 1e-12);
        assert!(
            r.throughput_ci95_mbps[0] <= r.throughput_mbps
                && r.throughput_mbps <= r.throughput_ci95_mbps[1]
        );
        assert!(
            r.throughput_p5_mbps <= r.throughput_median_mbps
                && r.throughput_median_mbps <= r.throughput_p95_mbps
        );
    }
}
