//! What a program does to a signal, beside what its samples are: its magnitude response
//! (from its impulse response) against a reference's, and its THD+N at a sine.

use rustfft::{num_complex::Complex, FftPlanner};
use serde::{Deserialize, Serialize};

/// Amplitude of the sine fed for THD+N: −6 dBFS, room for a gain of 2 without clipping.
pub const SINE_AMPLITUDE: f64 = 0.5;
/// The band magnitude responses are compared over, Hz (clamped below Nyquist): what people
/// hear.
pub const DEFAULT_BAND_HZ: [f64; 2] = [20.0, 20_000.0];
/// Magnitudes are read no lower than this, dB (0 dB: unity gain): 20 bits below full scale,
/// where a stopband's depth no longer matters and rounding noise begins.
pub const FLOOR_DB: f64 = -120.0;
/// Points of the magnitude response kept for the chart, spaced evenly on a log scale.
const CURVE_POINTS: usize = 240;

/// How an implementation's magnitude response differs from the reference's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Response {
    /// The largest difference of its magnitude from the reference's over the band, dB
    /// (magnitudes read no lower than −120 dB), on the worst channel.
    pub deviation_db: f64,
    /// Where that largest difference is, Hz.
    pub deviation_at_hz: f64,
    /// Its first channel's magnitude response over the band, `[Hz, dB]`, for the chart.
    pub magnitude_db: Vec<[f64; 2]>,
}

/// The magnitude of `impulse`'s spectrum, dB, bin `k` at `k × rate / len` Hz up to Nyquist,
/// no lower than [`FLOOR_DB`].
pub fn magnitude_db(impulse: &[f64]) -> Vec<f64> {
    let mut spectrum: Vec<Complex<f64>> = impulse.iter().map(|&x| Complex::new(x, 0.0)).collect();
    FftPlanner::new()
        .plan_fft_forward(spectrum.len())
        .process(&mut spectrum);
    (spectrum.iter().take(impulse.len() / 2 + 1))
        .map(|z| (20.0 * z.norm().log10()).max(FLOOR_DB))
        .collect()
}

/// `band` below Nyquist at `sample_rate`, as bins of a spectrum of `len` samples.
fn bins(band: [f64; 2], sample_rate: u32, len: usize) -> (std::ops::RangeInclusive<usize>, f64) {
    let hz_per_bin = f64::from(sample_rate) / len as f64;
    let last = len / 2;
    let bin = |hz: f64| ((hz / hz_per_bin).round() as usize).clamp(1, last);
    (bin(band[0])..=bin(band[1]), hz_per_bin)
}

/// The response of impulse responses `impulses` (one per channel) against the reference's
/// `reference` over `band`.
pub fn response(
    reference: &[Vec<f64>],
    impulses: &[Vec<f64>],
    sample_rate: u32,
    band: [f64; 2],
) -> Response {
    let mut deviation = (0.0, band[0]);
    let mut first = Vec::new();
    for (c, (r, x)) in reference.iter().zip(impulses).enumerate() {
        let (r, x) = (magnitude_db(r), magnitude_db(x));
        let (range, hz_per_bin) = bins(band, sample_rate, 2 * (x.len() - 1).max(1));
        for k in range.clone() {
            let d = (x[k] - r[k]).abs();
            if d > deviation.0 {
                deviation = (d, k as f64 * hz_per_bin);
            }
        }
        if c == 0 {
            first = curve(&x, &range, hz_per_bin);
        }
    }
    Response {
        deviation_db: deviation.0,
        deviation_at_hz: deviation.1,
        magnitude_db: first,
    }
}

/// [`CURVE_POINTS`] points of `magnitude` (dB per bin) at log-spaced frequencies over the bins
/// `range`.
fn curve(
    magnitude: &[f64],
    range: &std::ops::RangeInclusive<usize>,
    hz_per_bin: f64,
) -> Vec<[f64; 2]> {
    let (low, high) = ((*range.start() as f64).ln(), (*range.end() as f64).ln());
    let mut points: Vec<[f64; 2]> = (0..CURVE_POINTS)
        .map(|i| {
            let at = low + (high - low) * i as f64 / (CURVE_POINTS - 1) as f64;
            let k = (at.exp().round() as usize).clamp(*range.start(), *range.end());
            [k as f64 * hz_per_bin, magnitude[k]]
        })
        .collect();
    points.dedup_by(|a, b| a[0] == b[0]);
    points
}

/// THD+N of `output`, the response to a sine of `hz` at `sample_rate`, dB (below 0): what is
/// left of its second half (after the start's transient) once the best-fitting sine of `hz`
/// and any DC offset are taken out, over what the fitted sine holds. `None` when the output
/// holds no sine of `hz` to speak of (silent, or all of it elsewhere).
pub fn thd_n_db(output: &[f64], hz: f64, sample_rate: u32) -> Option<f64> {
    let half = &output[output.len() / 2..];
    let step = std::f64::consts::TAU * hz / f64::from(sample_rate);
    let start = output.len() / 2;
    let basis = |i: usize| {
        let phase = step * (start + i) as f64;
        [phase.sin(), phase.cos(), 1.0]
    };
    // Least squares: the normal equations of the three basis signals.
    let (mut a, mut b) = ([[0.0; 3]; 3], [0.0; 3]);
    for (i, &y) in half.iter().enumerate() {
        let v = basis(i);
        for r in 0..3 {
            b[r] += v[r] * y;
            for c in 0..3 {
                a[r][c] += v[r] * v[c];
            }
        }
    }
    let w = solve3(a, b)?;
    let (mut sine, mut residue) = (0.0, 0.0);
    for (i, &y) in half.iter().enumerate() {
        let v = basis(i);
        let fitted = w[0] * v[0] + w[1] * v[1];
        sine += fitted * fitted;
        residue += (y - fitted - w[2]).powi(2);
    }
    let total = half.iter().map(|y| y * y).sum::<f64>();
    // A fundamental 60 dB below the whole: the output is not a response to this sine.
    if sine.is_nan() || sine <= 1e-6 * total || !residue.is_finite() {
        return None;
    }
    Some((10.0 * (residue.max(f64::MIN_POSITIVE) / sine).log10()).max(-999.0))
}

/// The solution of the 3×3 system `a x = b` (Cramer's rule), or `None` when it is singular.
fn solve3(a: [[f64; 3]; 3], b: [f64; 3]) -> Option<[f64; 3]> {
    let det = |m: [[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(a);
    if d.abs() < 1e-12 {
        return None;
    }
    let mut x = [0.0; 3];
    for (c, x) in x.iter_mut().enumerate() {
        let mut m = a;
        for r in 0..3 {
            m[r][c] = b[r];
        }
        *x = det(m) / d;
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The impulse response of a one-pole lowpass y = (1 − p) x + p y[-1].
    fn one_pole(p: f64, len: usize) -> Vec<f64> {
        (0..len).map(|n| (1.0 - p) * p.powi(n as i32)).collect()
    }

    #[test]
    fn magnitude_responses_and_their_deviation() {
        let rate = 48_000;
        let unity = vec![{
            let mut x = vec![0.0; 4800];
            x[0] = 1.0;
            x
        }];
        // An impulse is flat at 0 dB; a delayed one too (only the phase moves).
        assert!(magnitude_db(&unity[0]).iter().all(|&m| m.abs() < 1e-9));
        let same = response(&unity, &unity, rate, DEFAULT_BAND_HZ);
        assert_eq!(same.deviation_db, 0.0);
        let mut delayed = vec![0.0; 4800];
        delayed[7] = 1.0;
        let moved = response(&unity, &[delayed], rate, DEFAULT_BAND_HZ);
        assert!(moved.deviation_db < 1e-9, "{}", moved.deviation_db);
        // Half the gain: 6.02 dB everywhere.
        let half: Vec<f64> = unity[0].iter().map(|x| x / 2.0).collect();
        let quieter = response(&unity, &[half], rate, DEFAULT_BAND_HZ);
        assert!((quieter.deviation_db - 6.0206).abs() < 1e-3);
        // A lowpass deviates most at the top of the band, by its attenuation there.
        let lowpass = response(&unity, &[one_pole(0.9, 4800)], rate, DEFAULT_BAND_HZ);
        assert!(lowpass.deviation_at_hz > 19_000.0, "{lowpass:?}");
        assert!((20.0..30.0).contains(&lowpass.deviation_db), "{lowpass:?}");
        // The chart's points run over the band, low to high.
        let hz: Vec<f64> = lowpass.magnitude_db.iter().map(|p| p[0]).collect();
        assert!(hz[0] <= 30.0 && *hz.last().unwrap() >= 19_900.0, "{hz:?}");
        assert!(hz.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn thd_n_of_a_sine_and_of_a_clipped_one() {
        let (rate, hz) = (48_000, 1000.0);
        let sine: Vec<f64> = (0..48_000)
            .map(|i| 0.5 * (std::f64::consts::TAU * hz * i as f64 / 48_000.0).sin())
            .collect();
        // A clean sine (with a DC offset, which does not count): rounding only.
        let offset: Vec<f64> = sine.iter().map(|x| x + 0.1).collect();
        assert!(thd_n_db(&offset, hz, rate).unwrap() < -200.0);
        // Clipped at 0.4: odd harmonics, about −22 dB.
        let clipped: Vec<f64> = sine.iter().map(|x| x.clamp(-0.4, 0.4)).collect();
        let thd = thd_n_db(&clipped, hz, rate).unwrap();
        assert!((-30.0..-15.0).contains(&thd), "{thd}");
        // Silence, or a sine elsewhere: nothing to say.
        assert_eq!(thd_n_db(&vec![0.0; 48_000], hz, rate), None);
        let other: Vec<f64> = (0..48_000)
            .map(|i| (std::f64::consts::TAU * 3000.0 * i as f64 / 48_000.0).sin())
            .collect();
        assert_eq!(thd_n_db(&other, hz, rate), None);
    }
}
