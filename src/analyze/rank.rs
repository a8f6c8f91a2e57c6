//! From measurements to ranked results: throughput, CPU %, speed-up, ties.

use super::result::{Category, CpuAtRate, Ratio, SetResult};
use crate::accuracy::{Accuracy, Verdict};
use crate::jobs::CompileInfo;
use crate::measure::hardware::HardwareCounts;
use crate::measure::stats::{paired_ratio, MedianInterval, TimingSummary};
use crate::measure::units::{
    bytes_per_block, cpu_percent, frames_per_second, mbps, REPORTED_RATES,
};
use crate::measure::StopReason;
use crate::options::OptionSet;

/// One option set's compile facts and timing summary, before ranking.
#[derive(Debug, Clone)]
pub struct Measured {
    pub set: OptionSet,
    pub compile: CompileInfo,
    pub timing: TimingSummary,
    /// Which interleaved measurement it comes from: the sets of one measurement ran in the
    /// same passes, round `r` of each in pass `r`.
    pub measurement: usize,
    /// Each round's mean of its fastest blocks, ns per block.
    pub round_best_ns: Vec<f64>,
    /// The code came from the compile cache.
    pub cached: bool,
    pub stop: StopReason,
    /// Wall time of the timed rounds, seconds.
    pub measure_seconds: f64,
    pub non_finite_outputs: usize,
    /// Hardware counters over its timed rounds, where asked for and given.
    pub hardware: Option<HardwareCounts>,
    /// Its output against the reference, once checked.
    pub accuracy: Option<Accuracy>,
}

impl Measured {
    /// Its MB/s at blocks of `frames`.
    pub fn mbps(&self, frames: usize) -> f64 {
        mbps(self.bytes_per_block(frames), self.timing.best_mean_ns)
    }

    /// Bytes one block moves.
    fn bytes_per_block(&self, frames: usize) -> f64 {
        let c = &self.compile;
        bytes_per_block(frames, c.inputs + c.outputs, c.precision.sample_bytes())
    }

    /// How much more time per block this set takes than `other` (× > 1: slower): the median of
    /// per-pass ratios when both ran in the same passes (with an interval when there were 6 or
    /// more), else the ratio of the estimates, with no interval.
    fn time_over(&self, other: &Measured) -> MedianInterval {
        (self.measurement == other.measurement)
            .then(|| paired_ratio(&self.round_best_ns, &other.round_best_ns))
            .flatten()
            .unwrap_or_else(|| {
                let r = self.timing.best_mean_ns / other.timing.best_mean_ns;
                MedianInterval {
                    median: r,
                    low: f64::NEG_INFINITY,
                    high: f64::INFINITY,
                    rel_spread_percent: 0.0,
                }
            })
    }
}

/// Ranks by the estimate of time per block (fastest first: the throughput order for sets of
/// one precision, whereas `-double` sets move twice the bytes), computes speed-ups over the
/// first scalar set, decides which sets are tied with the fastest, and recommends the simplest
/// set (fewest arguments) among them.
///
/// Speed-ups and ties come from paired comparisons: the median over passes of the ratio of two
/// sets' rounds in the same pass, with its sign-test 95 % interval, so that drift of the
/// machine, which hits both alike, cancels. A set is tied with the fastest when it compiled to
/// the same code (the same digest of its machine code), or when that interval does not exclude
/// that it is less than `tie_threshold_percent` slower (its lower end is below 1 + threshold;
/// also when the paired comparison says it is faster). Sets from another measurement (a later
/// stage of a search) are compared by their estimates instead: tied when within the threshold
/// (their intervals include the core clock's wander, so overlapping intervals say little). The threshold covers what one run cannot
/// see: identical code at two places in memory differs by up to about 1 %.
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
    let threshold = 1.0 + tie_threshold_percent / 100.0;
    let tied = |m: &Measured| {
        let Some(fastest) = measured.first() else {
            return false;
        };
        let (t, f) = (m.timing.best_mean_ns, fastest.timing.best_mean_ns);
        m.compile.code_digest == fastest.compile.code_digest
            || if m.measurement == fastest.measurement {
                // Fewer than 6 common passes leave the low end at -inf: no evidence of a gap.
                m.time_over(fastest).low <= threshold
            } else {
                t <= f * threshold
            }
    };
    let mut results: Vec<SetResult> = measured
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let bytes = m.bytes_per_block(frames);
            let t = &m.timing;
            let cycles = t.cycles_per_frame(frames);
            let cpu = cpu_percent(t.best_mean_ns, frames, sample_rate);
            let speedup = baseline.map(|b| measured[b].time_over(m));
            let vs_fastest = (i > 0).then(|| m.time_over(&measured[0]));
            let mut warnings = Vec::new();
            if m.non_finite_outputs > 0 {
                warnings.push(format!(
                    "{} in the last blocks of its rounds: the DSP is unstable with this input{}",
                    crate::accuracy::non_finite_words(m.non_finite_outputs as u64),
                    " (noise, and random controls if asked); its speed may not be representative"
                ));
            }
            if m.compile.threads > 1 {
                warnings.push(format!(
                    "OpenMP code: it may run on {} threads; its time is wall time and its CPU % counts one core, so the machine's load is up to {}× that",
                    m.compile.threads, m.compile.threads
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
                backend: m.set.backend,
                options: m.set.clone(),
                normalized_options: m.compile.normalized_options.clone(),
                code_digest: m.compile.code_digest.clone(),
                rank: i + 1,
                throughput_mbps: mbps(bytes, t.best_mean_ns),
                throughput_ci95_mbps: [mbps(bytes, t.best_mean_ci95_ns[1]), mbps(bytes, t.best_mean_ci95_ns[0])],
                throughput_rel_sd_percent: t.best_rel_sd_percent,
                cycles_per_frame: cycles.map(|c| c.0),
                cycles_per_frame_ci95: cycles.map(|c| c.1),
                samples_per_second: frames_per_second(frames, t.best_mean_ns),
                channels_processed: m.compile.inputs + m.compile.outputs,
                throughput_median_mbps: mbps(bytes, t.median_ns),
                throughput_mean_block_mbps: mbps(bytes, t.mean_ns),
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
                cpu_percent_median_block: cpu_percent(t.median_ns, frames, sample_rate),
                headroom_percent: 100.0 - cpu_percent(t.mean_ns, frames, sample_rate),
                category: Category::of(cpu_percent(t.mean_ns, frames, sample_rate)),
                memory_bytes: m.compile.memory_bytes,
                threads: m.compile.threads,
                speedup_vs_baseline: speedup.map(|s| s.median),
                speedup_vs_baseline_ci95: speedup
                    .filter(|s| s.low.is_finite() && s.high.is_finite())
                    .map(|s| [s.low, s.high]),
                time_vs_fastest: vs_fastest.map(Ratio::from),
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
                counts: None,
                hardware: m.hardware.clone(),
                accuracy: m.accuracy.clone(),
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

/// `--accuracy guard`: when the recommended set computes something else (its output is
/// `different`), recommends instead the simplest set tied with the fastest whose output is
/// not, or else the fastest whose output is not.
pub fn guard(results: &mut [SetResult]) {
    let different =
        |r: &SetResult| (r.accuracy.as_ref()).is_some_and(|a| a.verdict == Verdict::Different);
    let Some(current) = results.iter().position(|r| r.is_recommended) else {
        return;
    };
    if !different(&results[current]) {
        return;
    }
    results[current].is_recommended = false;
    let pick = (results.iter().enumerate())
        .filter(|(_, r)| r.tied_with_best && !different(r))
        .min_by_key(|(i, r)| (r.options.args.len(), *i))
        .or_else(|| results.iter().enumerate().find(|(_, r)| !different(r)))
        .map(|(i, _)| i);
    if let Some(i) = pick {
        results[i].is_recommended = true;
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::measure::rng::SplitMix64;
    use crate::options::parse_option_set;
    use crate::options::Precision;

    /// A synthetic measurement: `ns` per block of 512 frames, CI ± `half_ci` ns, 1 in / 2 out;
    /// 12 rounds (all in measurement 0) scattered within ± `half_ci` by a generator seeded
    /// from the options, so that two sets' noise is independent.
    pub(crate) fn measured(options: &str, ns: f64, half_ci: f64) -> Measured {
        let mut rng = SplitMix64::new(options.bytes().map(u64::from).sum::<u64>() + 7);
        Measured {
            set: parse_option_set(options).unwrap(),
            compile: CompileInfo {
                seconds: 0.5,
                normalized_options: format!("-lang llvm {options}"),
                sha_key: format!("key of {options}"),
                code_digest: format!("code of {options}"),
                threads: 1,
                stdlib_imported: false,
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
                rounds: 12,
                best_mean_ns: ns,
                best_mean_ci95_ns: [ns - half_ci, ns + half_ci],
                best_mean_cycles: Some(ns * 3.0),
                best_mean_ci95_cycles: Some([(ns - half_ci) * 3.0, (ns + half_ci) * 3.0]),
                round_rel_sd_percent: 1.0,
                best_rel_sd_percent: 1.0,
                mean_ns: ns * 1.1,
                median_ns: ns * 1.05,
                p5_ns: ns * 1.01,
                p95_ns: ns * 1.3,
            },
            measurement: 0,
            round_best_ns: (0..12)
                .map(|_| ns + half_ci * (2.0 * rng.next_f64() - 1.0))
                .collect(),
            cached: false,
            stop: StopReason::PrecisionReached,
            measure_seconds: 1.0,
            non_finite_outputs: 0,
            hardware: None,
            accuracy: None,
        }
    }

    /// [`rank`] of [`measured`] sets (options, ns, half CI) in blocks of 512 frames at 44.1 kHz.
    pub(crate) fn ranked(sets: &[(&str, f64, f64)], tie_threshold_percent: f64) -> Vec<SetResult> {
        let sets = (sets.iter())
            .map(|&(o, ns, ci)| measured(o, ns, ci))
            .collect();
        rank(sets, 512, 44100, tie_threshold_percent)
    }

    #[test]
    fn ranks_by_speed_with_speedup_and_ties() {
        let results = ranked(
            &[
                ("", 20_000.0, 100.0),
                ("-vec -fun -vs 64", 10_050.0, 100.0),
                ("-vec", 10_000.0, 100.0),
                ("-vec -fun", 15_000.0, 100.0),
            ],
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
        // Paired speed-ups: about 2, with an interval around it; the baseline's is 1.
        let s = results[0].speedup_vs_baseline.unwrap();
        let ci = results[0].speedup_vs_baseline_ci95.unwrap();
        assert!(
            (s - 2.0).abs() < 0.03 && ci[0] <= s && s <= ci[1],
            "{s} {ci:?}"
        );
        assert_eq!(results[3].speedup_vs_baseline, Some(1.0));
        // How much slower than the fastest each set is; none for the fastest itself.
        assert!(results[0].time_vs_fastest.is_none());
        let r = results[2].time_vs_fastest.as_ref().unwrap();
        assert!(
            (r.median - 1.5).abs() < 0.03 && r.ci95.unwrap()[0] > 1.4,
            "{r:?}"
        );
    }

    #[test]
    fn prefers_simpler_among_ties_even_if_slightly_slower() {
        let sets = [
            ("-vec -fun -vs 64 -dfs", 10_000.0, 200.0),
            ("-vec", 10_100.0, 200.0),
        ];
        let results = ranked(&sets, 0.0);
        assert_eq!(results[0].compiler_options, "-vec -fun -vs 64 -dfs");
        assert!(results[1].is_recommended);
    }

    #[test]
    fn ties_by_paired_passes_threshold_and_identical_code() {
        // Passes that agree closely: 0.5 % apart is a tie under a 1 % threshold only.
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
        // The same machine code: tied whatever the numbers say, and the simplest tied set
        // (the scalar one) is recommended.
        let mut same = sets();
        same[2].compile.code_digest = same[0].compile.code_digest.clone();
        let r = rank(same, 512, 44100, 0.0);
        assert!(r[2].tied_with_best && !r[1].tied_with_best);
        assert!(r[2].is_recommended);
        // The same libfaust key or normalised options do not make it the same code: libfaust
        // leaves `-fm` out of both.
        let mut alike = sets();
        alike[2].compile.normalized_options = alike[0].compile.normalized_options.clone();
        alike[2].compile.sha_key = alike[0].compile.sha_key.clone();
        let r = rank(alike, 512, 44100, 0.0);
        assert!(!r[2].tied_with_best && r[0].is_recommended);
    }

    #[test]
    fn the_pass_by_pass_comparison_sees_through_drift() {
        // Both sets slowed down by up to 20 % from pass to pass alike; `-vec` is always 3 %
        // slower in its pass. Their estimates' intervals overlap, the pairs do not.
        let drift = [1.0, 1.2, 1.05, 1.1, 1.0, 1.15, 1.02, 1.08, 1.2, 1.0];
        let mut a = measured("-vec -fun", 10_000.0, 1_000.0);
        let mut b = measured("-vec", 10_300.0, 1_000.0);
        a.round_best_ns = drift.iter().map(|d| 10_000.0 * d).collect();
        b.round_best_ns = drift.iter().map(|d| 10_300.0 * d).collect();
        let r = rank(vec![b.clone(), a.clone()], 512, 44100, 1.0);
        assert_eq!(r[0].compiler_options, "-vec -fun");
        assert!(!r[1].tied_with_best, "{:?}", r[1].time_vs_fastest);
        // Measured in another stage of a search: only the estimates can be compared, 3 % apart.
        b.measurement = 1;
        let r = rank(vec![b.clone(), a.clone()], 512, 44100, 1.0);
        assert!(!r[1].tied_with_best && r[0].is_recommended);
        let r = rank(vec![b, a], 512, 44100, 5.0);
        assert!(r[1].tied_with_best && r[1].is_recommended);
        let ratio = r[1].time_vs_fastest.as_ref().unwrap();
        assert_eq!((ratio.median, ratio.ci95), (1.03, None));
    }

    #[test]
    fn baseline_is_the_first_scalar_set_given_not_the_fastest() {
        let r = ranked(
            &[("-scal", 20_000.0, 10.0), ("-scal -mcd 0", 15_000.0, 10.0)],
            1.0,
        );
        assert_eq!(r[0].compiler_options, "-scal -mcd 0");
        assert!(!r[0].is_baseline && r[1].is_baseline);
        assert!((r[0].speedup_vs_baseline.unwrap() - 20_000.0 / 15_000.0).abs() < 2e-3);
    }

    #[test]
    fn throughput_cpu_and_headroom_agree() {
        let r = &ranked(&[("", 1_000_000.0, 1.0)], 1.0)[0];
        assert!((r.throughput_mbps - mbps(6144.0, 1e6)).abs() < 1e-9);
        assert!((r.cpu_percent - cpu_percent(1e6, 512, 44100)).abs() < 1e-9);
        let at96 = r
            .cpu_percent_at
            .iter()
            .find(|c| c.sample_rate == 96000)
            .unwrap();
        assert!((at96.cpu_percent - r.cpu_percent * 96000.0 / 44100.0).abs() < 1e-9);
        // What is left of a core is judged on the mean block, as a host sees it.
        assert!((r.headroom_percent - (100.0 - r.cpu_percent_mean_block)).abs() < 1e-12);
        assert!(r.cpu_percent <= r.cpu_percent_median_block);
        assert!(
            r.throughput_ci95_mbps[0] <= r.throughput_mbps
                && r.throughput_mbps <= r.throughput_ci95_mbps[1]
        );
        assert!(
            r.throughput_p5_mbps <= r.throughput_median_mbps
                && r.throughput_median_mbps <= r.throughput_p95_mbps
        );
    }

    #[test]
    fn the_guard_never_recommends_a_set_that_computes_something_else() {
        let verdict = |v: Verdict| {
            Some(Accuracy {
                difference: crate::accuracy::Difference {
                    snr_db: Some(20.0),
                    peak_difference: 0.1,
                    non_finite: 0,
                    reference_non_finite: 0,
                    output_digest: String::new(),
                },
                vs_scalar: None,
                verdict: v,
            })
        };
        // -vec and -vec -fun are tied; -vec, the simplest, computes something else.
        let mut r = ranked(
            &[
                ("-vec", 100.0, 1.0),
                ("-vec -fun", 100.5, 1.0),
                ("", 300.0, 1.0),
            ],
            1.0,
        );
        assert_eq!(r[0].compiler_options, "-vec");
        assert!(r[0].is_recommended);
        r[0].accuracy = verdict(Verdict::Different);
        r[1].accuracy = verdict(Verdict::Close);
        guard(&mut r);
        assert!(!r[0].is_recommended && r[1].is_recommended);
        // Nothing tied is acceptable: the fastest that is.
        let mut r = ranked(&[("-vec", 100.0, 1.0), ("", 300.0, 1.0)], 1.0);
        r[0].accuracy = verdict(Verdict::Different);
        guard(&mut r);
        assert!(!r[0].is_recommended && r[1].is_recommended);
        // Only different sets: none recommended.
        r[1].accuracy = verdict(Verdict::Different);
        r[1].is_recommended = false;
        r[0].is_recommended = true;
        guard(&mut r);
        assert!(r.iter().all(|x| !x.is_recommended));
    }
}
