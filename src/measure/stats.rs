//! Statistics of block times: the one home of every mean, median, quantile and interval that
//! faustperf reports.

use super::rng::SplitMix64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Random splits of the rounds behind [`BestMean`]'s interval.
const SPLITS: usize = 200;
/// Values an interval of a median needs; with fewer its ends are infinite.
pub const MIN_FOR_INTERVAL: usize = 6;
/// Rounds [`BestMean`]'s interval needs: two halves of 5.
pub const MIN_ROUNDS_FOR_BEST_MEAN: usize = 10;

/// Why a set of block times cannot be summarised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("only {got} blocks were timed; at least {needed} are needed")]
    TooFewSamples { got: usize, needed: usize },
    #[error("a block time is negative, NaN or infinite")]
    NotFinite,
}

/// Arithmetic mean; 0 for no values.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<f64>() / values.len() as f64
}

/// Quantile `q` in [0, 1] of ascending `sorted`, linear between order statistics (Hyndman &
/// Fan 1996, type 7, R's default); 0 for no values.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let h = last as f64 * q.clamp(0.0, 1.0);
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Median of `values` in any order (the type-7 quantile ½); 0 for no values.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable_by(f64::total_cmp);
    quantile_sorted(&sorted, 0.5)
}

/// The `n` smallest of `samples` (any order), ascending.
pub fn fastest(samples: &[f64], n: usize) -> Vec<f64> {
    let mut v = samples.to_vec();
    let n = n.min(v.len());
    if n > 0 && n < v.len() {
        v.select_nth_unstable_by(n - 1, f64::total_cmp);
    }
    v.truncate(n);
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// Mean of the `n` smallest of `samples` (any order): faustbench-llvm's estimator (its
/// `dsp-bench.h` averages the 50 fastest blocks of a run; its README says 10). 0 for none.
pub fn best_mean_of(samples: &[f64], n: usize) -> f64 {
    mean(&fastest(samples, n.max(1)))
}

/// Per-block compute times in nanoseconds, sorted; never empty, never NaN.
#[derive(Debug, Clone)]
pub struct BlockTimes {
    sorted_ns: Vec<f64>,
}

impl BlockTimes {
    /// Accepts `samples` when there are at least `min_samples` of them, all finite and ≥ 0.
    pub fn new(mut samples: Vec<f64>, min_samples: usize) -> Result<BlockTimes, StatsError> {
        let needed = min_samples.max(1);
        if samples.len() < needed {
            return Err(StatsError::TooFewSamples {
                got: samples.len(),
                needed,
            });
        }
        if samples.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(StatsError::NotFinite);
        }
        samples.par_sort_unstable_by(f64::total_cmp);
        Ok(BlockTimes { sorted_ns: samples })
    }

    /// How many samples (never zero).
    pub fn count(&self) -> usize {
        self.sorted_ns.len()
    }

    /// Sample standard deviation of the `n` fastest blocks, in % of their mean.
    pub fn best_rel_sd_percent(&self, n: usize) -> f64 {
        let best = &self.sorted_ns[..n.clamp(1, self.count())];
        let m = mean(best);
        if best.len() < 2 || m == 0.0 {
            return 0.0;
        }
        let var = best.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (best.len() - 1) as f64;
        100.0 * var.sqrt() / m
    }

    /// Mean of all blocks: what a host sees on average.
    pub fn mean(&self) -> f64 {
        mean(&self.sorted_ns)
    }

    /// Quantile `q` in [0, 1] (see [`quantile_sorted`]).
    pub fn quantile(&self, q: f64) -> f64 {
        quantile_sorted(&self.sorted_ns, q)
    }
}

/// A median with a distribution-free 95 % confidence interval: of per-round estimates, or of
/// per-pass ratios between two option sets.
///
/// The interval is between order statistics `k` and `n + 1 − k`, the largest `k` with
/// P(Binomial(n, ½) < k) ≤ 2.5 % (the sign-test interval; e.g. Hollander & Wolfe,
/// "Nonparametric Statistical Methods", ch. 3); it needs [`MIN_FOR_INTERVAL`] values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MedianInterval {
    pub median: f64,
    /// The interval's ends; infinite with fewer than [`MIN_FOR_INTERVAL`] values.
    pub low: f64,
    pub high: f64,
    /// Median absolute deviation × 1.4826 (a robust standard deviation), % of the median.
    pub rel_spread_percent: f64,
}

impl MedianInterval {
    pub fn of(values: &[f64]) -> MedianInterval {
        let mut sorted = values.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let median = quantile_sorted(&sorted, 0.5);
        let deviations: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
        let spread = 1.4826 * self::median(&deviations);
        let n = sorted.len();
        let (low, high) = match median_rank(n) {
            Some(k) => (sorted[k - 1], sorted[n - k]),
            None => (f64::NEG_INFINITY, f64::INFINITY),
        };
        MedianInterval {
            median,
            low,
            high,
            rel_spread_percent: if median > 0.0 {
                100.0 * spread / median
            } else {
                0.0
            },
        }
    }

    /// The larger distance from the median to an end of the interval.
    pub fn half_width(&self) -> f64 {
        (self.median - self.low).max(self.high - self.median)
    }
}

/// The 1-based rank `k` of the lower end of the median's 95 % interval among `n` values (the
/// upper end is `n + 1 − k`).
fn median_rank(n: usize) -> Option<usize> {
    if n < MIN_FOR_INTERVAL {
        return None;
    }
    if n > 1000 {
        // Normal approximation of the binomial.
        let k = (n as f64 / 2.0 - 1.96 * (n as f64).sqrt() / 2.0).floor() as usize;
        return Some(k.max(1));
    }
    // P(Binomial(n, 1/2) <= j), walking j up while it stays within 2.5 %.
    let mut pmf = 0.5f64.powi(n as i32);
    let mut cdf = pmf;
    let mut k = 1;
    while cdf <= 0.025 {
        pmf *= (n - k + 1) as f64 / k as f64;
        cdf += pmf;
        k += 1;
    }
    Some((k - 1).max(1))
}

/// How much slower `a` is than `b` (× in time, > 1 when `a` is slower), from rounds that ran
/// in the same passes: the median over passes of `a[r] / b[r]`, with its sign-test interval.
/// Pairing cancels what the machine does to both within a pass (drift, other load); the
/// passes both took part in are the first `min(a.len(), b.len())`. `None` without a common pass.
pub fn paired_ratio(a: &[f64], b: &[f64]) -> Option<MedianInterval> {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(x, y)| x / y).collect();
    (!ratios.is_empty()).then(|| MedianInterval::of(&ratios))
}

/// The headline estimate of a set: the mean of the `n` fastest samples of its whole
/// measurement (faustbench-llvm's estimator, see [`best_mean_of`]), with a 95 % interval meant
/// to hold the estimate of another run on the same machine.
///
/// Another run draws other rounds: other placements of the instance in memory, other moments
/// of the machine. So the rounds are split in two halves, the estimate is computed on each
/// half, and the halves' disagreement is what two runs of half the length would show. The
/// interval's half-width is the larger of the 95th percentile of that disagreement over
/// [`SPLITS`] seeded random splits (the placement lottery) and the disagreement of the first
/// half of the run with the second (slow drift of the machine), divided by √2: two halves
/// disagree √2 times as much as two whole runs would, for an estimate that averages.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BestMean {
    pub estimate: f64,
    /// The interval's ends; infinite with fewer than [`MIN_ROUNDS_FOR_BEST_MEAN`] rounds.
    pub low: f64,
    pub high: f64,
}

impl BestMean {
    /// `round_tops` holds each round's `n` fastest samples (or all it has, if fewer), in the
    /// order the rounds ran.
    pub fn of(round_tops: &[Vec<f64>], n: usize, seed: u64) -> BestMean {
        let n = n.max(1);
        let all: Vec<f64> = round_tops.iter().flatten().copied().collect();
        let estimate = best_mean_of(&all, n);
        let k = round_tops.len();
        if k < MIN_ROUNDS_FOR_BEST_MEAN {
            return BestMean {
                estimate,
                low: f64::NEG_INFINITY,
                high: f64::INFINITY,
            };
        }
        let mut half = Vec::with_capacity(all.len());
        let mut disagreement = |order: &[usize]| {
            let mut of_half = |rounds: &[usize]| {
                half.clear();
                for &r in rounds {
                    half.extend_from_slice(&round_tops[r]);
                }
                best_mean_of(&half, n)
            };
            let (a, b) = order.split_at(k / 2);
            (of_half(a) - of_half(b)).abs()
        };
        let mut order: Vec<usize> = (0..k).collect();
        let drift = disagreement(&order);
        let mut rng = SplitMix64::new(seed);
        let mut lottery: Vec<f64> = (0..SPLITS)
            .map(|_| {
                // Fisher–Yates.
                for i in (1..k).rev() {
                    order.swap(i, (rng.next_u64() % (i as u64 + 1)) as usize);
                }
                disagreement(&order)
            })
            .collect();
        lottery.sort_unstable_by(f64::total_cmp);
        let reach = quantile_sorted(&lottery, 0.95).max(drift) / std::f64::consts::SQRT_2;
        BestMean {
            estimate,
            low: estimate - reach,
            high: estimate + reach,
        }
    }

    /// The same relative interval around `estimate` (the same rounds counted in other units).
    pub fn around(self, estimate: f64) -> BestMean {
        let reach = self.relative_half_width() * estimate;
        BestMean {
            estimate,
            low: estimate - reach,
            high: estimate + reach,
        }
    }

    /// The same estimate with an interval at least ±`relative` × the estimate wide.
    pub fn widened(self, relative: f64) -> BestMean {
        let reach = (self.high - self.estimate).max(relative * self.estimate);
        BestMean {
            low: self.estimate - reach,
            high: self.estimate + reach,
            ..self
        }
    }

    /// Half the interval's width relative to the estimate (infinite without an interval).
    pub fn relative_half_width(&self) -> f64 {
        (self.high - self.estimate) / self.estimate
    }
}

/// The summary of one option set's block times that every report carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimingSummary {
    /// Samples timed (a sample is one block, or the mean of `batch` consecutive blocks).
    pub samples: usize,
    /// Blocks per sample: 1, or more when one block is too short for the timer (see README).
    pub batch: usize,
    /// How many fastest samples the estimate averages (`--best`).
    pub best_n: usize,
    /// Rounds measured, each on a fresh instance, one per pass over the option sets.
    pub rounds: usize,
    /// The estimate: mean of the `best_n` fastest samples of the whole measurement, ns per
    /// block.
    pub best_mean_ns: f64,
    /// Its 95 % interval ([`BestMean`], at least as wide as the core clock's wander during the
    /// run), ns per block (the estimate itself at both ends with fewer than 10 rounds).
    pub best_mean_ci95_ns: [f64; 2],
    /// Core cycles per block: the mean of the `best_n` fastest samples, each round's samples
    /// × the core's cycles per TSC tick read around that round and its neighbours (see
    /// README, "Cycles per frame"), so that a change of the core's clock does not move it;
    /// `null` without the TSC.
    #[serde(default)]
    pub best_mean_cycles: Option<f64>,
    /// Its 95 % interval ([`BestMean`] of the rounds in cycles, not widened by the clock's
    /// wander; the estimate at both ends with fewer than 10 rounds), cycles per block.
    #[serde(default)]
    pub best_mean_ci95_cycles: Option<[f64; 2]>,
    /// Robust spread of the rounds' own best-means (1.4826 × median absolute deviation), % of
    /// their median.
    pub round_rel_sd_percent: f64,
    /// Standard deviation of the `best_n` fastest samples, % of their mean (faustbench-llvm's
    /// spread figure).
    pub best_rel_sd_percent: f64,
    /// Mean of all samples, ns per block: what a host sees on average.
    pub mean_ns: f64,
    /// Median, 5th and 95th percentiles of all samples, ns per block.
    pub median_ns: f64,
    pub p5_ns: f64,
    pub p95_ns: f64,
}

impl TimingSummary {
    /// Core cycles per frame and their 95 % interval, for blocks of `frames` frames.
    pub fn cycles_per_frame(&self, frames: usize) -> Option<(f64, [f64; 2])> {
        let per_frame = |c: f64| c / frames as f64;
        let ci = self.best_mean_ci95_cycles?.map(per_frame);
        Some((per_frame(self.best_mean_cycles?), ci))
    }

    /// Summarises all samples of a run, its rounds' fastest samples (at least one round) and
    /// the estimates made of them (in ns and, where known, in core cycles).
    pub fn of(
        times: &BlockTimes,
        round_tops: &[Vec<f64>],
        best: BestMean,
        cycles: Option<BestMean>,
        batch: usize,
        best_n: usize,
    ) -> TimingSummary {
        let ends = |b: BestMean| {
            let finite = |x: f64| if x.is_finite() { x } else { b.estimate };
            [finite(b.low), finite(b.high)]
        };
        let round_means: Vec<f64> = round_tops.iter().map(|t| mean(t)).collect();
        TimingSummary {
            samples: times.count(),
            batch,
            best_n: best_n.min(times.count()),
            rounds: round_tops.len(),
            best_mean_ns: best.estimate,
            best_mean_ci95_ns: ends(best),
            best_mean_cycles: cycles.map(|c| c.estimate),
            best_mean_ci95_cycles: cycles.map(ends),
            round_rel_sd_percent: MedianInterval::of(&round_means).rel_spread_percent,
            best_rel_sd_percent: times.best_rel_sd_percent(best_n),
            mean_ns: times.mean(),
            median_ns: times.quantile(0.5),
            p5_ns: times.quantile(0.05),
            p95_ns: times.quantile(0.95),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rejects_nonsense() {
        assert_eq!(
            BlockTimes::new(vec![1.0; 3], 10).unwrap_err(),
            StatsError::TooFewSamples { got: 3, needed: 10 }
        );
        assert_eq!(
            BlockTimes::new(vec![1.0, f64::NAN], 1).unwrap_err(),
            StatsError::NotFinite
        );
    }

    #[test]
    fn order_statistics() {
        let t = BlockTimes::new((1..=100).rev().map(f64::from).collect(), 10).unwrap();
        assert_eq!(
            best_mean_of(&(1..=100).map(f64::from).collect::<Vec<_>>(), 10),
            5.5
        );
        assert_eq!(t.quantile(0.5), 50.5);
        assert_eq!(t.quantile(0.0), 1.0);
        assert_eq!(t.quantile(1.0), 100.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(fastest(&[5.0, 1.0, 3.0, 2.0], 2), [1.0, 2.0]);
        assert_eq!(fastest(&[5.0, 1.0], 4), [1.0, 5.0]);
        assert!((t.best_rel_sd_percent(10) - 100.0 * 3.0276503540974917 / 5.5).abs() < 1e-9);
    }

    #[test]
    fn median_interval_uses_order_statistics() {
        // n = 10: P(Bin(10, 1/2) <= 1) = 1.07 % <= 2.5 % < P(<= 2) = 5.5 %, so k = 2.
        assert_eq!(median_rank(10), Some(2));
        assert_eq!(median_rank(6), Some(1));
        assert_eq!(median_rank(5), None);
        // n = 20: P(<= 5) = 2.07 %, P(<= 6) = 5.77 %, so k = 6.
        assert_eq!(median_rank(20), Some(6));
        let rounds = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0, 8.0, 4.0, 6.0, 100.0];
        let i = MedianInterval::of(&rounds);
        assert_eq!(i.median, 5.5);
        assert_eq!((i.low, i.high), (2.0, 9.0));
        assert_eq!(i.half_width(), 3.5);
        assert!(MedianInterval::of(&[5.0, 6.0]).half_width().is_infinite());
        assert_eq!(best_mean_of(&[5.0, 1.0, 3.0, 2.0], 2), 1.5);
        assert_eq!(best_mean_of(&[], 2), 0.0);
    }

    #[test]
    fn paired_ratios_cancel_what_both_sets_share() {
        // The machine slows down by up to 3x from pass to pass; `a` is always 1.5x `b`.
        let drift = [1.0, 3.0, 1.2, 2.0, 1.1, 2.5, 1.0, 1.7];
        let b: Vec<f64> = drift.iter().map(|d| 100.0 * d).collect();
        let a: Vec<f64> = drift.iter().map(|d| 150.0 * d).collect();
        let r = paired_ratio(&a, &b).unwrap();
        assert!((r.median - 1.5).abs() < 1e-12 && (r.low - 1.5).abs() < 1e-12);
        assert!((r.high - 1.5).abs() < 1e-12);
        // Only the passes both took part in count.
        assert_eq!(paired_ratio(&a[..3], &b).unwrap().median, 1.5);
        assert_eq!(paired_ratio(&[], &b), None);
    }

    #[test]
    fn best_mean_is_the_fastest_of_the_whole_run_with_a_seeded_interval() {
        // Rounds whose floors differ (placements): the estimate comes from the fastest.
        let tops: Vec<Vec<f64>> = (0..15)
            .map(|r| (0..4).map(|i| 100.0 + (r % 5) as f64 + i as f64).collect())
            .collect();
        let b = BestMean::of(&tops, 4, 7);
        // Rounds 0, 5 and 10 hold 100, 101, 102, 103 each: the 4 fastest are 100, 100, 100, 101.
        assert!((b.estimate - 100.25).abs() < 1e-12);
        assert!(b.low <= b.estimate && b.estimate <= b.high);
        assert_eq!(b, BestMean::of(&tops, 4, 7));
        // Identical rounds leave nothing to move.
        let same = vec![vec![10.0, 11.0]; 16];
        let s = BestMean::of(&same, 2, 1);
        assert_eq!((s.low, s.estimate, s.high), (10.0, 10.0, 10.0));
        // A core clock that wandered by 2 % during the run widens it to at least ±2 %.
        let w = s.widened(0.02);
        assert_eq!((w.low, w.estimate, w.high), (9.8, 10.0, 10.2));
        assert_eq!(w.widened(0.01), w);
        assert!(BestMean::of(&same[..9], 2, 1)
            .relative_half_width()
            .is_infinite());
        // The machine slows by 10 % halfway through the run: the halves disagree by that much.
        let drifting: Vec<Vec<f64>> = (0..16)
            .map(|r| vec![if r < 8 { 100.0 } else { 110.0 }; 2])
            .collect();
        let d = BestMean::of(&drifting, 2, 1);
        let reach = 10.0 / std::f64::consts::SQRT_2;
        assert_eq!(
            (d.estimate, d.low, d.high),
            (100.0, 100.0 - reach, 100.0 + reach)
        );
    }

    proptest! {
        #[test]
        fn summary_is_ordered(samples in prop::collection::vec(1.0f64..1e6, 20..300)) {
            let tops: Vec<Vec<f64>> = samples.chunks(3).map(|c| fastest(c, 2)).collect();
            let t = BlockTimes::new(samples, 10).unwrap();
            let s = TimingSummary::of(&t, &tops, BestMean::of(&tops, 3, 1), None, 1, 3);
            prop_assert!(s.p5_ns <= s.median_ns && s.median_ns <= s.p95_ns);
            prop_assert!(s.best_mean_ci95_ns[0] <= s.best_mean_ns && s.best_mean_ns <= s.best_mean_ci95_ns[1]);
            prop_assert!(s.best_mean_ns >= t.quantile(0.0));
            prop_assert_eq!(s.rounds, tops.len());
        }

        #[test]
        fn quantiles_are_monotone_and_bounded(mut v in prop::collection::vec(-1e6f64..1e6, 1..100), q1 in 0.0f64..1.0, q2 in 0.0f64..1.0) {
            v.sort_unstable_by(f64::total_cmp);
            let (lo, hi) = (q1.min(q2), q1.max(q2));
            prop_assert!(quantile_sorted(&v, lo) <= quantile_sorted(&v, hi));
            prop_assert!(v[0] <= quantile_sorted(&v, lo) && quantile_sorted(&v, hi) <= v[v.len() - 1]);
        }
    }
}
