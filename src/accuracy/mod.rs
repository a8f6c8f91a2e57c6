//! Does a faster set compute the same sound? Every measured set's output is compared with a
//! reference output: the same program compiled scalar with `-double` on LLVM, fed the same
//! input (the seeded noise, rounded to single precision so that every set reads the same
//! samples) with its controls at their initial values, for [`SECONDS`] of audio from a fresh
//! instance. The rendering runs in a worker ([`crate::jobs::OutputJob`]) after every set has
//! been measured, so it changes no timing.
//!
//! The verdict ([`verdict`]) sets a set's distance from the reference beside the scalar
//! single-precision set's: float rounding alone puts that one some way from the reference
//! (its SNR is the "float floor"), and a set within [`SAME_MARGIN_DB`] of it computes the same
//! thing in another order. Where the floor is below the tolerance, single-precision code does
//! not track the reference at all, and sets are judged against the scalar set's output.

mod response;

pub use response::{response, thd_n_db, Response, DEFAULT_BAND_HZ, SINE_AMPLITUDE};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Seconds of audio rendered at the sample rate.
pub const SECONDS: f64 = 1.0;
/// A set whose SNR against the reference is within this much of the scalar single-precision
/// set's, dB, is `same`: reordering float arithmetic (vector code, `-fun`, `-dfs`) moves the
/// rounding error by a few dB either way.
pub const SAME_MARGIN_DB: f64 = 6.0;
/// Where the scalar single-precision code strays from the reference, a set this close to
/// its output, dB, is `same`: about the rounding of 17 bits.
pub const SAME_AS_SCALAR_DB: f64 = 100.0;
/// Below this SNR against the reference, dB, a set is `different` unless told otherwise
/// (`--accuracy-tolerance`): an error 60 dB below the signal is 0.1 % of it, the distortion
/// and noise of audio equipment that listeners take as transparent; more than that can be
/// heard, or is a bug.
pub const DEFAULT_TOLERANCE_DB: f64 = 60.0;

/// `tolerance_db` as a request's accuracy tolerance, or why not.
pub fn check_tolerance(tolerance_db: f64) -> Result<(), crate::measure::RequestError> {
    if tolerance_db.is_finite() && tolerance_db >= 0.0 {
        return Ok(());
    }
    Err(crate::measure::RequestError(format!(
        "accuracy tolerance {tolerance_db} must be an SNR of 0 dB or more (default {DEFAULT_TOLERANCE_DB})"
    )))
}

/// What to do with the outputs' check.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    clap::ValueEnum,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// No check.
    Off,
    /// Check and report every set's verdict; the recommendation ignores it.
    Report,
    /// Check, report, and never recommend a `different` set.
    #[default]
    Guard,
}

/// How one set's output differs from the reference, on its worst channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Difference {
    /// Reference energy over the difference's, dB; `null` when the output equals the
    /// reference sample for sample.
    pub snr_db: Option<f64>,
    /// The largest difference over the reference's largest sample (0: equal).
    pub peak_difference: f64,
    /// NaN or infinite output samples, and the reference's.
    pub non_finite: usize,
    pub reference_non_finite: usize,
    /// A digest of the output's samples: two sets with equal digests computed the same
    /// samples.
    pub output_digest: String,
}

/// Whether a set computes what the reference computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The same samples as the scalar single-precision set, or as near the reference as it
    /// (within [`SAME_MARGIN_DB`]): float rounding in another order.
    Same,
    /// Further from the reference than rounding explains, but with an SNR above the
    /// tolerance.
    Close,
    /// Below the tolerance, or NaN/infinite samples the reference does not have.
    Different,
}

/// A set's check: its difference from the reference, from the scalar single-precision set,
/// and the verdict on them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Accuracy {
    #[serde(flatten)]
    pub difference: Difference,
    /// Its difference from the scalar single-precision set's output (the baseline's);
    /// `null` when that set was not measured.
    #[serde(default)]
    pub vs_scalar: Option<Difference>,
    pub verdict: Verdict,
}

/// `output`'s difference from `reference`, channel by channel (the worst channel counts).
pub fn difference(reference: &[Vec<f64>], output: &[Vec<f64>]) -> Difference {
    let non_finite = |channels: &[Vec<f64>]| -> usize {
        channels.iter().flatten().filter(|x| !x.is_finite()).count()
    };
    let mut snr_db: Option<f64> = None;
    let mut peak_difference: f64 = 0.0;
    for (r, o) in reference.iter().zip(output) {
        let (mut signal, mut noise, mut peak, mut worst) = (0.0, 0.0, 0.0f64, 0.0f64);
        for (&a, &b) in r.iter().zip(o) {
            // Equal infinities are no difference (their difference would be NaN).
            let d = if a == b { 0.0 } else { b - a };
            signal += a * a;
            noise += d * d;
            peak = peak.max(a.abs());
            worst = worst.max(d.abs());
        }
        if noise > 0.0 || noise.is_nan() {
            // A silent reference: any difference is all there is.
            let snr = 10.0 * (signal.max(f64::MIN_POSITIVE) / noise).log10();
            let snr = if snr.is_nan() { f64::NEG_INFINITY } else { snr };
            snr_db = Some(snr_db.map_or(snr, |s| s.min(snr)));
            peak_difference = peak_difference.max(if peak > 0.0 { worst / peak } else { worst });
        }
    }
    // JSON holds no infinity: a difference that swamps the signal reads -999 dB.
    let snr_db = snr_db.map(|s| s.max(-999.0));
    let mut hasher = Sha256::new();
    for sample in output.iter().flatten() {
        hasher.update(sample.to_le_bytes());
    }
    Difference {
        snr_db,
        peak_difference: if peak_difference.is_finite() {
            peak_difference
        } else {
            f64::MAX
        },
        non_finite: non_finite(output),
        reference_non_finite: non_finite(reference),
        output_digest: (hasher.finalize().iter())
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect(),
    }
}

/// The verdict on a set whose output is `vs_reference` from the reference and `vs_scalar`
/// from the scalar single-precision set, beside `floor` (that set's own difference from the
/// reference); `tolerance_db` is the SNR below which a set is `different`. Where the scalar
/// single-precision code itself strays from the reference by more than the tolerance
/// (feedback that amplifies rounding, or a delay length that rounds differently in single
/// precision), the reference says nothing of rounding, so the set is judged against the
/// scalar set's output instead: [`SAME_AS_SCALAR_DB`] or more is `same`.
pub fn verdict(
    vs_reference: &Difference,
    vs_scalar: Option<&Difference>,
    floor: Option<&Difference>,
    tolerance_db: f64,
) -> Verdict {
    let snr = |d: &Difference| d.snr_db.unwrap_or(f64::INFINITY);
    let floor_snr = floor.map(snr);
    let (judged, same_from) = match (vs_scalar, floor_snr) {
        (Some(d), Some(f)) if f < tolerance_db => (snr(d), SAME_AS_SCALAR_DB),
        // Without a scalar single-precision set (every set `-double`), rounding-level
        // closeness is what the same computation in another order gives.
        _ => (
            snr(vs_reference),
            floor_snr.map_or(SAME_AS_SCALAR_DB, |f| f - SAME_MARGIN_DB),
        ),
    };
    if vs_reference.non_finite > vs_reference.reference_non_finite {
        Verdict::Different
    } else if vs_scalar.is_some_and(|d| d.snr_db.is_none())
        || vs_reference.snr_db.is_none()
        || judged >= same_from
    {
        Verdict::Same
    } else if judged >= tolerance_db {
        Verdict::Close
    } else {
        Verdict::Different
    }
}

/// `n` NaN or infinite samples, in the words every report uses: `12 NaN/inf samples`.
pub fn non_finite_words(n: u64) -> String {
    format!("{n} NaN/inf samples")
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Same => "same",
            Verdict::Close => "close",
            Verdict::Different => "different",
        })
    }
}

impl std::fmt::Display for Accuracy {
    /// e.g. `same (SNR 142.3 dB)`, `different (SNR 21.0 dB, 12 NaN/inf samples)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (d, verdict) = (&self.difference, self.verdict);
        match d.snr_db {
            None => write!(f, "{verdict} (identical to the reference)")?,
            Some(snr) => write!(f, "{verdict} (SNR {snr:.1} dB)")?,
        }
        if d.non_finite > d.reference_non_finite {
            write!(f, ", {}", non_finite_words(d.non_finite as u64))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(gain: f64, error: f64) -> Vec<Vec<f64>> {
        vec![(0..1000)
            .map(|i| {
                gain * (i as f64 * 0.05).sin() + error * ((i * 7919 % 1000) as f64 - 500.0) / 500.0
            })
            .collect()]
    }

    #[test]
    fn differences_and_verdicts() {
        let reference = sine(1.0, 0.0);
        let same = difference(&reference, &reference);
        assert_eq!(same.snr_db, None);
        assert_eq!(same.peak_difference, 0.0);
        assert_eq!(verdict(&same, None, None, 60.0), Verdict::Same);
        // An error 1e-7 of the signal: about 140 dB; the float floor.
        let floor = difference(&reference, &sine(1.0, 1e-7));
        let snr = floor.snr_db.unwrap();
        assert!((130.0..150.0).contains(&snr), "{snr}");
        assert_eq!(verdict(&floor, None, Some(&floor), 60.0), Verdict::Same);
        // Within 6 dB of the floor: the same; 1e-4: close; 1e-2: different.
        let near = difference(&reference, &sine(1.0, 1.5e-7));
        assert_eq!(verdict(&near, None, Some(&floor), 60.0), Verdict::Same);
        let close = difference(&reference, &sine(1.0, 1e-4));
        assert_eq!(verdict(&close, None, Some(&floor), 60.0), Verdict::Close);
        let far = difference(&reference, &sine(1.0, 1e-2));
        assert_eq!(verdict(&far, None, Some(&floor), 60.0), Verdict::Different);
        assert_eq!(verdict(&far, None, Some(&floor), 30.0), Verdict::Close);
        // NaN where the reference has none.
        let mut broken = sine(1.0, 0.0);
        broken[0][10] = f64::NAN;
        let nan = difference(&reference, &broken);
        assert_eq!(nan.non_finite, 1);
        assert_eq!(verdict(&nan, None, Some(&floor), 60.0), Verdict::Different);
        // Single-precision code that strays from the reference (SNR 20 dB): judged against
        // the scalar set's output; the same samples are `same`, an approximation is not.
        let stray = difference(&reference, &sine(1.0, 0.1));
        let scalar_output = sine(1.0, 0.1);
        let identical = difference(&scalar_output, &scalar_output);
        assert_eq!(
            verdict(&stray, Some(&identical), Some(&stray), 60.0),
            Verdict::Same
        );
        let approximated = difference(&scalar_output, &sine(1.0, 0.1 + 1e-2));
        assert_eq!(
            verdict(&stray, Some(&approximated), Some(&stray), 60.0),
            Verdict::Different
        );
        // No scalar single-precision set (all -double): rounding-level is the same.
        let double = difference(&reference, &sine(1.0, 1e-14));
        assert_eq!(verdict(&double, None, None, 60.0), Verdict::Same);
        assert_eq!(verdict(&close, None, None, 60.0), Verdict::Close);
        // Without the scalar set's output it would have passed as the floor itself.
        assert_eq!(verdict(&stray, None, Some(&stray), 60.0), Verdict::Same);
        // Equal outputs have equal digests; the text says the verdict and the figure.
        assert_eq!(
            difference(&reference, &sine(1.0, 1e-4)).output_digest,
            close.output_digest
        );
        assert_ne!(close.output_digest, far.output_digest);
        let shown = Accuracy {
            difference: close.clone(),
            vs_scalar: None,
            verdict: Verdict::Close,
        }
        .to_string();
        assert!(shown.starts_with("close (SNR "), "{shown}");
    }
}
