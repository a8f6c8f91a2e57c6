//! Statistics of per-block compute times.

use super::rng::SplitMix64;
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

    pub fn len(&self) -> usize {
        self.sorted_ns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted_ns.is_empty()
    }

    /// Mean of the `n` fastest blocks (faustbench-llvm's estimator of attainable speed).
    pub fn best_mean(&self, n: usize) -> f64 {
        mean(&self.sorted_ns[..n.clamp(1, self.len())])
    }

    /// Sample standard deviation of the `n` fastest blocks, in % of their mean.
    pub fn best_rel_sd_percent(&self, n: usize) -> f64 {
        let best = &self.sorted_ns[..n.clamp(1, self.len())];
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
        let h = (self.len() - 1) as f64 * q.clamp(0.0, 1.0);
        let lo = h.floor() as usize;
        let hi = h.ceil() as usize;
        self.sorted_ns[lo] + (h - lo as f64) * (self.sorted_ns[hi] - self.sorted_ns[lo])
    }

    /// Percentile-bootstrap confidence interval of [`best_mean`](Self::best_mean) (Efron &
    /// Tibshirani 1993, ch. 13): `resamples` resamples of all blocks with replacement, seeded by
    /// `seed` (resample `i` uses seed `seed + i`, so the result does not depend on threads).
    ///
    /// A resample's `n` fastest values are drawn without materialising it: walking the sorted
    /// times from the fastest, the number of draws landing on each is binomial given the draws
    /// left (the sequential form of the multinomial), which stops after `n` values.
    pub fn bootstrap_best_mean_ci(
        &self,
        n: usize,
        resamples: usize,
        seed: u64,
        level: f64,
    ) -> (f64, f64) {
        let n = n.clamp(1, self.len());
        let mut means: Vec<f64> = (0..resamples.max(1))
            .into_par_iter()
            .map(|i| self.resampled_best_mean(n, &mut SplitMix64::new(seed.wrapping_add(i as u64))))
            .collect();
        means.sort_unstable_by(f64::total_cmp);
        let tail = (1.0 - level) / 2.0;
        let pick = |q: f64| means[((means.len() - 1) as f64 * q).round() as usize];
        (pick(tail), pick(1.0 - tail))
    }

    fn resampled_best_mean(&self, n: usize, rng: &mut SplitMix64) -> f64 {
        let total = self.len();
        let mut draws_left = total as u64;
        let (mut taken, mut sum) = (0usize, 0.0);
        for (k, &value) in self.sorted_ns.iter().enumerate() {
            let p = 1.0 / (total - k) as f64;
            let count = binomial(draws_left, p, rng);
            draws_left -= count;
            let use_count = (count as usize).min(n - taken);
            sum += value * use_count as f64;
            taken += use_count;
            if taken == n {
                break;
            }
        }
        sum / taken as f64
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// A Binomial(`trials`, `p`) draw by inversion; fast when `trials * p` is small, as here (≈ 1).
fn binomial(trials: u64, p: f64, rng: &mut SplitMix64) -> u64 {
    if p >= 1.0 {
        return trials;
    }
    let u = rng.next_f64();
    let mut pmf = (trials as f64 * (1.0 - p).ln()).exp();
    let mut cdf = pmf;
    let mut k = 0;
    let ratio = p / (1.0 - p);
    while u >= cdf && k < trials {
        pmf *= (trials - k) as f64 / (k + 1) as f64 * ratio;
        k += 1;
        cdf += pmf;
        if pmf < 1e-300 {
            break;
        }
    }
    k
}

/// The summary of one option set's block times that every report carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingSummary {
    /// Samples timed (a sample is one block, or the mean of `batch` consecutive blocks).
    pub samples: usize,
    /// Blocks per sample: 1, or more when one block is too short for the timer (see README).
    pub batch: usize,
    /// How many fastest samples the best-mean averages (`--best`).
    pub best_n: usize,
    /// Mean time of the `best_n` fastest samples, ns per block.
    pub best_mean_ns: f64,
    /// Standard deviation of those samples, % of their mean.
    pub best_rel_sd_percent: f64,
    /// 95 % percentile-bootstrap interval of `best_mean_ns`, ns per block.
    pub best_mean_ci95_ns: [f64; 2],
    /// Mean of all samples, ns per block.
    pub mean_ns: f64,
    /// Median, 5th and 95th percentiles of all samples, ns per block.
    pub median_ns: f64,
    pub p5_ns: f64,
    pub p95_ns: f64,
    /// Bootstrap resamples and the seed of the first.
    pub bootstrap_resamples: usize,
    pub bootstrap_seed: u64,
}

impl TimingSummary {
    pub fn of(times: &BlockTimes, batch: usize, best_n: usize, seed: u64) -> TimingSummary {
        const RESAMPLES: usize = 1000;
        let (lo, hi) = times.bootstrap_best_mean_ci(best_n, RESAMPLES, seed, 0.95);
        TimingSummary {
            samples: times.len(),
            batch,
            best_n: best_n.min(times.len()),
            best_mean_ns: times.best_mean(best_n),
            best_rel_sd_percent: times.best_rel_sd_percent(best_n),
            best_mean_ci95_ns: [lo, hi],
            mean_ns: times.mean(),
            median_ns: times.quantile(0.5),
            p5_ns: times.quantile(0.05),
            p95_ns: times.quantile(0.95),
            bootstrap_resamples: RESAMPLES,
            bootstrap_seed: seed,
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
        assert_eq!(t.best_mean(10), 5.5);
        assert_eq!(t.quantile(0.5), 50.5);
        assert_eq!(t.quantile(0.0), 1.0);
        assert_eq!(t.quantile(1.0), 100.0);
        assert!((t.best_rel_sd_percent(10) - 100.0 * 3.0276503540974917 / 5.5).abs() < 1e-9);
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_estimate() {
        let mut rng = SplitMix64::new(1);
        let t = BlockTimes::new(
            (0..5000).map(|_| 1000.0 + 100.0 * rng.next_f64()).collect(),
            10,
        )
        .unwrap();
        let a = t.bootstrap_best_mean_ci(10, 500, 42, 0.95);
        assert_eq!(a, t.bootstrap_best_mean_ci(10, 500, 42, 0.95));
        let best = t.best_mean(10);
        assert!(a.0 <= best && best <= a.1, "{a:?} {best}");
        assert!(a.1 > a.0);
    }

    #[test]
    fn binomial_has_the_right_mean() {
        let mut rng = SplitMix64::new(3);
        let draws: Vec<u64> = (0..20000)
            .map(|_| binomial(1000, 0.002, &mut rng))
            .collect();
        let mean = draws.iter().sum::<u64>() as f64 / draws.len() as f64;
        assert!((mean - 2.0).abs() < 0.05, "{mean}");
    }

    proptest! {
        #[test]
        fn summary_is_ordered(samples in prop::collection::vec(1.0f64..1e6, 10..300)) {
            let t = BlockTimes::new(samples, 10).unwrap();
            let s = TimingSummary::of(&t, 1, 10, 9);
            prop_assert!(s.p5_ns <= s.median_ns && s.median_ns <= s.p95_ns);
            prop_assert!(s.best_mean_ns <= s.mean_ns + 1e-9);
            prop_assert!(s.best_mean_ci95_ns[0] <= s.best_mean_ci95_ns[1]);
            prop_assert!(s.best_mean_ns >= t.quantile(0.0));
        }
    }
}
