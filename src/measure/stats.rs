//! Statistics of per-block compute times.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Why a set of block times cannot be summarised.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StatsError {
    #[error("only {got} blocks were timed; at least {needed} are needed")]
    TooFewSamples { got: usize, needed: usize },
    #[error("a block time is negative, NaN or infinite")]
    NotFinite,
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

    /// Quantile `q` in [0, 1], linear between order statistics (Hyndman & Fan 1996, type 7).
    pub fn quantile(&self, q: f64) -> f64 {
        let h = (self.count() - 1) as f64 * q.clamp(0.0, 1.0);
        let lo = h.floor() as usize;
        let hi = h.ceil() as usize;
        self.sorted_ns[lo] + (h - lo as f64) * (self.sorted_ns[hi] - self.sorted_ns[lo])
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Mean of the `n` fastest of `samples` (any order); 0 for no samples.
pub fn best_mean_of(samples: &[f64], n: usize) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let mut sorted = samples.to_vec();
    let n = n.clamp(1, sorted.len());
    sorted.select_nth_unstable_by(n - 1, f64::total_cmp);
    mean(&sorted[..n])
}

/// The median of per-round estimates with a distribution-free 95 % confidence interval.
///
/// Rounds are independent placements of the instance, so their spread is what a repeated run
/// would see. The median ignores rounds disturbed by the rest of the machine (seen here: a few
/// consecutive rounds 35 % slower). The interval is between order statistics `k` and
/// `n + 1 − k`, the largest `k` with P(Binomial(n, ½) < k) ≤ 2.5 % (e.g. Hollander & Wolfe,
/// "Nonparametric Statistical Methods", ch. 3); it needs 6 rounds or more.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundInterval {
    pub median: f64,
    /// The interval's ends; infinite with fewer than 6 rounds.
    pub low: f64,
    pub high: f64,
    /// Median absolute deviation of the rounds × 1.4826 (a robust standard deviation), % of
    /// the median.
    pub rel_spread_percent: f64,
}

impl RoundInterval {
    pub fn of(rounds: &[f64]) -> RoundInterval {
        let mut sorted = rounds.to_vec();
        sorted.sort_unstable_by(f64::total_cmp);
        let n = sorted.len();
        if n == 0 {
            return RoundInterval {
                median: 0.0,
                low: f64::NEG_INFINITY,
                high: f64::INFINITY,
                rel_spread_percent: 0.0,
            };
        }
        let median = median_of_sorted(&sorted);
        let mut deviations: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
        deviations.sort_unstable_by(f64::total_cmp);
        let spread = 1.4826 * median_of_sorted(&deviations);
        let (low, high) = match median_rank(n) {
            Some(k) => (sorted[k - 1], sorted[n - k]),
            None => (f64::NEG_INFINITY, f64::INFINITY),
        };
        RoundInterval {
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

fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

/// The 1-based rank `k` of the lower end of the median's 95 % interval among `n` values.
fn median_rank(n: usize) -> Option<usize> {
    if n < 6 {
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

/// The summary of one option set's block times that every report carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimingSummary {
    /// Samples timed (a sample is one block, or the mean of `batch` consecutive blocks).
    pub samples: usize,
    /// Blocks per sample: 1, or more when one block is too short for the timer (see README).
    pub batch: usize,
    /// How many fastest samples of each round its best-mean averages (`--best`).
    pub best_n: usize,
    /// Rounds measured, each on a fresh instance.
    pub rounds: usize,
    /// The estimate: median over rounds of the mean of each round's `best_n` fastest samples,
    /// ns per block.
    pub best_mean_ns: f64,
    /// Distribution-free 95 % interval of that median from the rounds' order statistics, ns
    /// per block (the estimate itself at both ends with fewer than 6 rounds).
    pub best_mean_ci95_ns: [f64; 2],
    /// Robust spread between rounds (1.4826 × median absolute deviation), % of the estimate.
    pub round_rel_sd_percent: f64,
    /// Standard deviation of the `best_n` fastest samples of the whole run, % of their mean
    /// (faustbench-llvm's spread figure).
    pub best_rel_sd_percent: f64,
    /// Mean of all samples, ns per block.
    pub mean_ns: f64,
    /// Median, 5th and 95th percentiles of all samples, ns per block.
    pub median_ns: f64,
    pub p5_ns: f64,
    pub p95_ns: f64,
}

impl TimingSummary {
    /// Summarises all samples of a run and its per-round estimates (at least one round).
    pub fn of(
        times: &BlockTimes,
        round_best_ns: &[f64],
        batch: usize,
        best_n: usize,
    ) -> TimingSummary {
        let interval = RoundInterval::of(round_best_ns);
        let finite = |x: f64| if x.is_finite() { x } else { interval.median };
        TimingSummary {
            samples: times.count(),
            batch,
            best_n: best_n.min(times.count()),
            rounds: round_best_ns.len(),
            best_mean_ns: interval.median,
            best_mean_ci95_ns: [finite(interval.low), finite(interval.high)],
            round_rel_sd_percent: interval.rel_spread_percent,
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
        let i = RoundInterval::of(&rounds);
        assert_eq!(i.median, 5.5);
        assert_eq!((i.low, i.high), (2.0, 9.0));
        assert_eq!(i.half_width(), 3.5);
        assert!(RoundInterval::of(&[5.0, 6.0]).half_width().is_infinite());
        assert_eq!(best_mean_of(&[5.0, 1.0, 3.0, 2.0], 2), 1.5);
        assert_eq!(best_mean_of(&[], 2), 0.0);
    }

    proptest! {
        #[test]
        fn summary_is_ordered(samples in prop::collection::vec(1.0f64..1e6, 20..300)) {
            let rounds: Vec<f64> = samples.chunks(3).map(|c| best_mean_of(c, 2)).collect();
            let t = BlockTimes::new(samples, 10).unwrap();
            let s = TimingSummary::of(&t, &rounds, 1, 3);
            prop_assert!(s.p5_ns <= s.median_ns && s.median_ns <= s.p95_ns);
            prop_assert!(s.best_mean_ci95_ns[0] <= s.best_mean_ns && s.best_mean_ns <= s.best_mean_ci95_ns[1]);
            prop_assert!(s.best_mean_ns >= t.quantile(0.0));
            prop_assert_eq!(s.rounds, rounds.len());
        }
    }
}
