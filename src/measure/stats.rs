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

    pub fn len(&self) -> usize {
        self.sorted_ns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted_ns.is_empty()
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

/// Two-sided 95 % critical values of Student's t for 1 to 30 degrees of freedom (any
/// statistics table, e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

fn t95(degrees_of_freedom: usize) -> f64 {
    match degrees_of_freedom {
        0 => f64::INFINITY,
        1..=30 => T95[degrees_of_freedom - 1],
        31..=60 => 2.021,
        61..=120 => 2.000,
        _ => 1.980,
    }
}

/// Student's t 95 % interval of the mean of per-round estimates (rounds are independent
/// placements of the instance, so their spread is what a repeated run would see).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundInterval {
    pub mean: f64,
    /// Half the interval's width; infinite with fewer than 2 rounds.
    pub half_width: f64,
    /// Sample standard deviation of the rounds, % of their mean.
    pub rel_sd_percent: f64,
}

impl RoundInterval {
    pub fn of(rounds: &[f64]) -> RoundInterval {
        let n = rounds.len();
        let m = if n == 0 { 0.0 } else { mean(rounds) };
        if n < 2 {
            return RoundInterval {
                mean: m,
                half_width: f64::INFINITY,
                rel_sd_percent: 0.0,
            };
        }
        let sd = (rounds.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
        RoundInterval {
            mean: m,
            half_width: t95(n - 1) * sd / (n as f64).sqrt(),
            rel_sd_percent: if m > 0.0 { 100.0 * sd / m } else { 0.0 },
        }
    }

    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// The summary of one option set's block times that every report carries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimingSummary {
    /// Samples timed (a sample is one block, or the mean of `batch` consecutive blocks).
    pub samples: usize,
    /// Blocks per sample: 1, or more when one block is too short for the timer (see README).
    pub batch: usize,
    /// How many fastest samples of each round its best-mean averages (`--best`).
    pub best_n: usize,
    /// Rounds measured, each on a fresh instance.
    pub rounds: usize,
    /// The estimate: mean over rounds of the mean of each round's `best_n` fastest samples,
    /// ns per block.
    pub best_mean_ns: f64,
    /// 95 % Student-t interval of `best_mean_ns` from the spread between rounds, ns per block.
    pub best_mean_ci95_ns: [f64; 2],
    /// Standard deviation between rounds, % of `best_mean_ns`.
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
        let half = if interval.half_width.is_finite() {
            interval.half_width
        } else {
            0.0
        };
        TimingSummary {
            samples: times.len(),
            batch,
            best_n: best_n.min(times.len()),
            rounds: round_best_ns.len(),
            best_mean_ns: interval.mean,
            best_mean_ci95_ns: [interval.mean - half, interval.mean + half],
            round_rel_sd_percent: interval.rel_sd_percent,
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
    fn round_interval_is_students_t() {
        let i = RoundInterval::of(&[10.0, 12.0, 11.0, 13.0, 9.0]);
        assert_eq!(i.mean, 11.0);
        // sd = sqrt(2.5); t(4) = 2.776; half = 2.776 * sqrt(2.5) / sqrt(5).
        assert!((i.half_width - 2.776 * (2.5f64).sqrt() / 5f64.sqrt()).abs() < 1e-12);
        assert!((i.rel_sd_percent - 100.0 * 2.5f64.sqrt() / 11.0).abs() < 1e-9);
        assert!(RoundInterval::of(&[5.0]).half_width.is_infinite());
        assert_eq!(best_mean_of(&[5.0, 1.0, 3.0, 2.0], 2), 1.5);
        assert_eq!(best_mean_of(&[], 2), 0.0);
    }

    proptest! {
        #[test]
        fn summary_is_ordered(samples in prop::collection::vec(1.0f64..1e6, 20..300)) {
            let rounds = [best_mean_of(&samples[..10], 3), best_mean_of(&samples[10..], 3)];
            let t = BlockTimes::new(samples, 10).unwrap();
            let s = TimingSummary::of(&t, &rounds, 1, 3);
            prop_assert!(s.p5_ns <= s.median_ns && s.median_ns <= s.p95_ns);
            prop_assert!(s.best_mean_ns <= s.mean_ns + 1e-6);
            prop_assert!(s.best_mean_ci95_ns[0] <= s.best_mean_ns && s.best_mean_ns <= s.best_mean_ci95_ns[1]);
            prop_assert!(s.best_mean_ns >= t.quantile(0.0));
            prop_assert_eq!(s.rounds, 2);
        }
    }
}
