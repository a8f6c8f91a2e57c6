//! Input signals for profiling, generated before the run (never in the timed region).

use crate::measure::rng::SplitMix64;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the DSP's inputs receive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Signal {
    Silence,
    /// Uniform noise in [-1, 1), seeded.
    Noise,
    /// A sine at `freq` Hz, amplitude 0.5.
    Sine {
        freq: f64,
    },
    /// One sample at 1, then silence: shows denormal slow-downs in decaying feedback.
    Impulse,
    /// A WAV file at the profiling sample rate; its channels are repeated to fill the inputs and
    /// it loops when shorter than the run.
    Wav {
        path: PathBuf,
    },
}

/// Why a signal cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SignalError {
    #[error("`{0}`: the sine frequency must be a positive number of Hz, e.g. sine:1000")]
    Frequency(String),
    #[error("`{0}` is not a signal: use silence, noise, sine[:FREQ], impulse or a file.wav")]
    Unknown(String),
    #[error("{}: {error}", path.display())]
    Wav { path: PathBuf, error: hound::Error },
    #[error("{} is at {rate} Hz but the profile runs at {sample_rate} Hz: resample the file or pass --sample-rate {rate}", path.display())]
    Rate {
        path: PathBuf,
        rate: u32,
        sample_rate: u32,
    },
    #[error("{} holds no audio", .0.display())]
    Empty(PathBuf),
}

impl std::str::FromStr for Signal {
    type Err = SignalError;

    /// `silence`, `noise`, `sine`, `sine:FREQ`, `impulse`, or a path ending in `.wav`.
    fn from_str(text: &str) -> Result<Signal, SignalError> {
        match text {
            "silence" => Ok(Signal::Silence),
            "noise" => Ok(Signal::Noise),
            "impulse" => Ok(Signal::Impulse),
            "sine" => Ok(Signal::Sine { freq: 440.0 }),
            _ if text.starts_with("sine:") => match text[5..].parse::<f64>() {
                Ok(freq) if freq.is_finite() && freq > 0.0 => Ok(Signal::Sine { freq }),
                _ => Err(SignalError::Frequency(text.into())),
            },
            _ if text.to_ascii_lowercase().ends_with(".wav") => {
                Ok(Signal::Wav { path: text.into() })
            }
            _ => Err(SignalError::Unknown(text.into())),
        }
    }
}

impl std::fmt::Display for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signal::Silence => write!(f, "silence"),
            Signal::Noise => write!(f, "noise"),
            Signal::Sine { freq } => write!(f, "sine {freq} Hz"),
            Signal::Impulse => write!(f, "impulse then silence"),
            Signal::Wav { path } => write!(f, "{}", path.display()),
        }
    }
}

/// Checks a WAV file without reading its samples: it opens, and its rate is `sample_rate`.
pub fn check_wav(path: &Path, sample_rate: u32) -> Result<(), SignalError> {
    let reader = hound::WavReader::open(path).map_err(|e| wav(path, e))?;
    let rate = reader.spec().sample_rate;
    if rate != sample_rate {
        return Err(SignalError::Rate {
            path: path.into(),
            rate,
            sample_rate,
        });
    }
    Ok(())
}

fn wav(path: &Path, error: hound::Error) -> SignalError {
    SignalError::Wav {
        path: path.into(),
        error,
    }
}

/// `channels` channels of `len` samples of `signal` at `sample_rate`.
pub fn generate(
    signal: &Signal,
    channels: usize,
    len: usize,
    sample_rate: u32,
    seed: u64,
) -> Result<Vec<Vec<f64>>, SignalError> {
    let mut rng = SplitMix64::new(seed);
    let one = |rng: &mut SplitMix64| -> Vec<f64> {
        match signal {
            Signal::Silence | Signal::Wav { .. } => vec![0.0; len],
            Signal::Noise => (0..len).map(|_| rng.noise()).collect(),
            Signal::Sine { freq } => (0..len)
                .map(|i| {
                    0.5 * (2.0 * std::f64::consts::PI * freq * i as f64 / sample_rate as f64).sin()
                })
                .collect(),
            Signal::Impulse => (0..len).map(|i| if i == 0 { 1.0 } else { 0.0 }).collect(),
        }
    };
    let Signal::Wav { path } = signal else {
        return Ok((0..channels).map(|_| one(&mut rng)).collect());
    };
    check_wav(path, sample_rate)?;
    let mut reader = hound::WavReader::open(path).map_err(|e| wav(path, e))?;
    let spec = reader.spec();
    let file_channels = spec.channels.max(1) as usize;
    let samples: Vec<f64> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .map(|s| s.map(f64::from))
            .collect::<Result<_, _>>(),
        hound::SampleFormat::Int => {
            let scale = (1i64 << (spec.bits_per_sample.max(1) - 1)) as f64;
            reader
                .samples::<i32>()
                .map(|s| s.map(|v| v as f64 / scale))
                .collect::<Result<_, _>>()
        }
    }
    .map_err(|e| wav(path, e))?;
    let frames = samples.len() / file_channels;
    if frames == 0 {
        return Err(SignalError::Empty(path.into()));
    }
    Ok((0..channels)
        .map(|c| {
            let fc = c % file_channels;
            (0..len)
                .map(|i| samples[(i % frames) * file_channels + fc])
                .collect()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind() {
        assert_eq!("silence".parse::<Signal>().ok(), Some(Signal::Silence));
        assert_eq!(
            "sine".parse::<Signal>().ok(),
            Some(Signal::Sine { freq: 440.0 })
        );
        assert_eq!(
            "sine:1000".parse::<Signal>().ok(),
            Some(Signal::Sine { freq: 1000.0 })
        );
        assert!("sine:-3".parse::<Signal>().is_err());
        assert!("sawtooth"
            .parse::<Signal>()
            .unwrap_err()
            .to_string()
            .contains("silence, noise"));
        assert_eq!(
            "a/b.WAV".parse::<Signal>().ok(),
            Some(Signal::Wav {
                path: "a/b.WAV".into()
            })
        );
    }

    #[test]
    fn generates_each_kind() {
        let sr = 48000;
        let silence = generate(&Signal::Silence, 2, 100, sr, 1).unwrap();
        assert!(silence.iter().flatten().all(|&x| x == 0.0) && silence.len() == 2);
        let noise = generate(&Signal::Noise, 1, 1000, sr, 1).unwrap();
        assert!(
            noise[0].iter().all(|x| (-1.0..1.0).contains(x)) && noise[0].iter().any(|&x| x != 0.0)
        );
        let sine = generate(&Signal::Sine { freq: 1000.0 }, 1, 48, sr, 1).unwrap();
        // 48 samples at 48 kHz is one period of 1 kHz: a quarter in, the peak.
        assert!((sine[0][12] - 0.5).abs() < 1e-12 && sine[0][0] == 0.0);
        let impulse = generate(&Signal::Impulse, 1, 10, sr, 1).unwrap();
        assert_eq!(impulse[0][0], 1.0);
        assert!(impulse[0][1..].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn reads_wav_loops_and_rejects_other_rates() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 48000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(&path, spec).unwrap();
        for s in [16384i16, -16384, 8192, -8192] {
            w.write_sample(s).unwrap();
        }
        w.finalize().unwrap();
        let wav = Signal::Wav { path: path.clone() };
        let got = generate(&wav, 3, 5, 48000, 1).unwrap();
        assert_eq!(got[0], [0.5, 0.25, 0.5, 0.25, 0.5]);
        assert_eq!(got[1], [-0.5, -0.25, -0.5, -0.25, -0.5]);
        assert_eq!(got[2], got[0]);
        let err = generate(&wav, 1, 5, 44100, 1).unwrap_err().to_string();
        assert!(
            err.contains("48000 Hz") && err.contains("--sample-rate 48000"),
            "{err}"
        );
        assert!(check_wav(&dir.path().join("missing.wav"), 48000).is_err());
    }
}
