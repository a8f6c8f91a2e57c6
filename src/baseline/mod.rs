//! Regression baselines: per-DSP, per-option-set results saved with their conditions, then
//! re-measured and compared (`faustperf baseline save|check|list|show|delete`).

pub mod measure;

pub use measure::{BaselineRequest, Measured, Target};

use crate::accuracy::{self, Accuracy, Verdict};
use crate::analyze::result::{AnalyzeReport, SetResult};
use crate::callgrind::CountConditions;
use crate::measure::Conditions;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A saved baseline, as stored in `NAME.json` (meant to be committed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub name: String,
    /// Seconds since the Unix epoch when it was saved.
    pub saved_at: u64,
    /// What must match for a comparison to be fair.
    pub conditions: Conditions,
    /// What the entries hold: times (the default, and all a baseline held before), or
    /// instruction counts.
    #[serde(default)]
    pub metric: Metric,
    /// With instruction counts, what they depend on (valgrind, libfaust, the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count_conditions: Option<CountConditions>,
    pub entries: Vec<Entry>,
}

/// What a baseline compares.
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
pub enum Metric {
    /// Time per block, measured (its 95 % interval decides).
    #[default]
    Time,
    /// Instructions per frame, counted under callgrind: no noise, so no interval.
    Instructions,
    /// Core cycles per frame, measured as times are, at the core's clock read around each
    /// round (its 95 % interval decides): steadier than time where the host changes the
    /// core's clock, for code whose speed follows that clock.
    Cycles,
}

impl Metric {
    /// The tolerance `check` allows by default, %: time moves between runs; counts do not.
    pub fn default_tolerance(self) -> f64 {
        match self {
            Metric::Time | Metric::Cycles => 10.0,
            Metric::Instructions => 0.5,
        }
    }
}

/// One DSP with one option set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The DSP file as given.
    pub dsp: String,
    pub compiler_options: String,
    #[serde(flatten)]
    pub figure: Figure,
    /// The start of its output on the seeded noise, so that `check` sees when it computes
    /// something else; absent in baselines saved before it was kept, or where it could not be
    /// rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Excerpt>,
}

/// Frames of an entry's output a baseline keeps: an SNR over 4096 samples of noise tells a
/// changed computation from rounding, and a channel takes 22 KB of JSON.
pub const EXCERPT_FRAMES: usize = 4096;

/// The first [`EXCERPT_FRAMES`] of an entry's output, from a fresh instance fed the seeded
/// noise (as the output check renders it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excerpt {
    /// Seed of the input noise.
    pub seed: u64,
    /// Each output channel's samples as little-endian 32-bit floats, base64.
    pub channels: Vec<String>,
}

impl Excerpt {
    /// The start of `outputs` (one per channel) rendered from `seed`.
    pub fn of(seed: u64, outputs: &[Vec<f64>]) -> Excerpt {
        use base64::Engine;
        let channels = (outputs.iter())
            .map(|c| {
                let bytes: Vec<u8> = (c.iter().take(EXCERPT_FRAMES))
                    .flat_map(|&x| (x as f32).to_le_bytes())
                    .collect();
                base64::engine::general_purpose::STANDARD.encode(bytes)
            })
            .collect();
        Excerpt { seed, channels }
    }

    /// Its samples, one vector per channel; `None` when a channel is not what [`Excerpt::of`]
    /// writes (a hand-edited baseline).
    fn samples(&self) -> Option<Vec<Vec<f64>>> {
        use base64::Engine;
        (self.channels.iter())
            .map(|c| {
                let bytes = base64::engine::general_purpose::STANDARD.decode(c).ok()?;
                let floats = bytes
                    .chunks_exact(4)
                    .map(|b| f64::from(f32::from_le_bytes(b.try_into().unwrap_or_default())));
                (bytes.len() % 4 == 0).then(|| floats.collect())
            })
            .collect()
    }

    /// How `now` differs from this one, judged as the output check judges (see
    /// [`crate::accuracy::verdict`]); `None` when they cannot be compared (another seed, other
    /// channels, an unreadable excerpt).
    pub fn compare(&self, now: &Excerpt, tolerance_db: f64) -> Option<Accuracy> {
        let (then, now_samples) = (self.samples()?, now.samples()?);
        if self.seed != now.seed || then.len() != now_samples.len() {
            return None;
        }
        let difference = accuracy::difference(&then, &now_samples);
        Some(Accuracy {
            verdict: accuracy::verdict(&difference, None, None, tolerance_db),
            difference,
            vs_scalar: None,
        })
    }
}

/// What was recorded of an entry: its time, its instruction count or its core cycles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Figure {
    Time {
        throughput_mbps: f64,
        /// The estimate and its 95 % interval, ns per block.
        ns_per_block: f64,
        ns_per_block_ci95: [f64; 2],
    },
    Instructions {
        instructions_per_frame: f64,
    },
    Cycles {
        throughput_mbps: f64,
        /// The estimate and its 95 % interval, core cycles per frame.
        cycles_per_frame: f64,
        cycles_per_frame_ci95: [f64; 2],
    },
}

impl Entry {
    /// The entries of an analysis as `metric` records them; a set without that figure (no
    /// cycles without the TSC, no instructions without `--counters`) has none.
    pub fn of(report: &AnalyzeReport, metric: Metric) -> Vec<Entry> {
        let figure = |r: &SetResult| match metric {
            Metric::Time => Some(Figure::Time {
                throughput_mbps: r.throughput_mbps,
                ns_per_block: r.timing.best_mean_ns,
                ns_per_block_ci95: r.timing.best_mean_ci95_ns,
            }),
            Metric::Cycles => Some(Figure::Cycles {
                throughput_mbps: r.throughput_mbps,
                cycles_per_frame: r.cycles_per_frame?,
                cycles_per_frame_ci95: r.cycles_per_frame_ci95?,
            }),
            Metric::Instructions => Some(Figure::Instructions {
                instructions_per_frame: r.counts.as_ref()?.instructions_per_frame,
            }),
        };
        (report.results.iter())
            .filter_map(|r| {
                Some(Entry {
                    dsp: report.dsp.clone(),
                    compiler_options: r.compiler_options.clone(),
                    figure: figure(r)?,
                    output: None,
                })
            })
            .collect()
    }

    /// Its MB/s, when it was timed.
    fn mbps(&self) -> Option<f64> {
        match self.figure {
            Figure::Time {
                throughput_mbps, ..
            }
            | Figure::Cycles {
                throughput_mbps, ..
            } => Some(throughput_mbps),
            Figure::Instructions { .. } => None,
        }
    }

    fn key(&self) -> (&str, &str) {
        (&self.dsp, &self.compiler_options)
    }
}

/// How an entry compares with the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    /// Within the tolerance, or not significantly outside it.
    Ok,
    /// Faster by more than the tolerance, significantly.
    Faster,
    /// Slower by more than the tolerance, significantly.
    Slower,
    /// In the baseline, not measured now.
    Missing,
    /// Measured now, not in the baseline.
    New,
    /// Its output differs from the baseline's below the accuracy tolerance: it computes
    /// something else (whatever its speed).
    Changed,
}

/// One entry's check.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckRow {
    pub dsp: String,
    pub compiler_options: String,
    pub status: Status,
    /// New time (or instruction count) over the baseline's − 1, % (positive: slower).
    pub change_percent: Option<f64>,
    /// Its 95 % interval, from both intervals, %; `null` for instruction counts (no noise).
    pub change_ci95_percent: Option<[f64; 2]>,
    /// MB/s (baselines of times).
    pub baseline_mbps: Option<f64>,
    pub current_mbps: Option<f64>,
    /// Instructions per frame (baselines of instruction counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_instructions_per_frame: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_instructions_per_frame: Option<f64>,
    /// Core cycles per frame (baselines of cycles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_cycles_per_frame: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_cycles_per_frame: Option<f64>,
    /// Its output now against the baseline's (`null` when either has none): `snr_db` null
    /// when the samples are the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Accuracy>,
}

/// What `baseline check` found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    pub baseline: String,
    #[serde(default)]
    pub metric: Metric,
    pub tolerance_percent: f64,
    pub rows: Vec<CheckRow>,
    /// Conditions that differ from the baseline's.
    pub condition_differences: Vec<String>,
    /// Option sets that failed now (their entries are MISSING).
    pub errors: Vec<String>,
    /// What makes this run's figures less trustworthy (where it measured, how it counted).
    #[serde(default)]
    pub warnings: Vec<String>,
}

impl CheckReport {
    pub fn any(&self, status: Status) -> bool {
        self.rows.iter().any(|r| r.status == status)
    }
}

/// Compares `current` entries with the baseline's: SLOWER or FASTER only when the change is
/// beyond `tolerance_percent`, for times and cycles with 95 % confidence (the whole interval
/// beyond it), for instruction counts exactly; CHANGED, whatever the speed, when the output
/// is `different` at `accuracy_tolerance_db`.
pub fn check(
    baseline: &Baseline,
    current: &[Entry],
    tolerance_percent: f64,
    accuracy_tolerance_db: f64,
) -> Vec<CheckRow> {
    let tolerance = tolerance_percent / 100.0;
    let mut rows: Vec<CheckRow> = (baseline.entries.iter())
        .map(|old| {
            let Some(new) = current.iter().find(|e| e.key() == old.key()) else {
                return CheckRow::of(old, Some(old), None, Status::Missing);
            };
            let (change, [low, high], ci) = change(&old.figure, &new.figure);
            let output = (old.output.as_ref())
                .zip(new.output.as_ref())
                .and_then(|(then, now)| then.compare(now, accuracy_tolerance_db));
            let status = if output
                .as_ref()
                .is_some_and(|o| o.verdict == Verdict::Different)
            {
                Status::Changed
            } else if change.is_nan() || low > tolerance {
                Status::Slower
            } else if high < -tolerance {
                Status::Faster
            } else {
                Status::Ok
            };
            CheckRow {
                change_percent: Some(100.0 * change),
                change_ci95_percent: ci.then_some([100.0 * low, 100.0 * high]),
                output,
                ..CheckRow::of(old, Some(old), Some(new), status)
            }
        })
        .collect();
    rows.extend(
        (current.iter())
            .filter(|new| !baseline.entries.iter().any(|old| old.key() == new.key()))
            .map(|new| CheckRow::of(new, None, Some(new), Status::New)),
    );
    rows
}

impl CheckRow {
    /// The row of `entry`'s DSP and options with the baseline's and this run's figures, where
    /// there are (no change computed).
    fn of(entry: &Entry, old: Option<&Entry>, new: Option<&Entry>, status: Status) -> CheckRow {
        CheckRow {
            dsp: entry.dsp.clone(),
            compiler_options: entry.compiler_options.clone(),
            status,
            change_percent: None,
            change_ci95_percent: None,
            baseline_mbps: old.and_then(Entry::mbps),
            current_mbps: new.and_then(Entry::mbps),
            baseline_instructions_per_frame: old.and_then(|e| e.figure.instructions()),
            current_instructions_per_frame: new.and_then(|e| e.figure.instructions()),
            baseline_cycles_per_frame: old.and_then(|e| e.figure.cycles()),
            current_cycles_per_frame: new.and_then(|e| e.figure.cycles()),
            output: None,
        }
    }

    /// The baseline's figure as the metric reads: cycles or instructions per frame, else MB/s.
    pub fn baseline_figure(&self) -> Option<f64> {
        (self.baseline_cycles_per_frame)
            .or(self.baseline_instructions_per_frame)
            .or(self.baseline_mbps)
    }

    /// This run's, likewise.
    pub fn current_figure(&self) -> Option<f64> {
        (self.current_cycles_per_frame)
            .or(self.current_instructions_per_frame)
            .or(self.current_mbps)
    }
}

/// Two saved analyses compared as `baseline check` compares a run with a baseline: `old`
/// (named `name`) stands for the baseline. What differs between where they were measured is
/// named: for time and cycles the conditions with the machine's fingerprint, for instruction
/// counts only what the counts depend on (they compare across machines).
pub fn against(
    old: &AnalyzeReport,
    name: &str,
    new: &AnalyzeReport,
    metric: Metric,
    tolerance_percent: f64,
) -> CheckReport {
    let counted = |r: &AnalyzeReport| r.counting.as_ref().map(|c| c.conditions.clone());
    let baseline = Baseline {
        name: name.into(),
        saved_at: 0,
        conditions: old.conditions.common.clone(),
        metric,
        count_conditions: counted(old),
        entries: Entry::of(old, metric),
    };
    let condition_differences = match (metric, counted(old), counted(new)) {
        (Metric::Instructions, Some(then), Some(now)) => now.differences(&then),
        (Metric::Instructions, ..) => vec![],
        _ => (old.conditions.common).differences(&new.conditions.common),
    };
    let errors = (new.errors.iter())
        .map(|e| format!("{}: {}", e.compiler_options, e.message))
        .collect();
    CheckReport {
        baseline: name.into(),
        metric,
        tolerance_percent,
        rows: check(
            &baseline,
            &Entry::of(new, metric),
            tolerance_percent,
            accuracy::DEFAULT_TOLERANCE_DB,
        ),
        condition_differences,
        errors,
        warnings: new.warnings.clone(),
    }
}

/// The change from `old` to `new` (positive: slower), its bounds, and whether they are an
/// interval (times, cycles) rather than the change itself (counts). Figures of different
/// kinds (a hand-edited baseline) give NaN, which `check` fails.
fn change(old: &Figure, new: &Figure) -> (f64, [f64; 2], bool) {
    if std::mem::discriminant(old) != std::mem::discriminant(new) {
        return (f64::NAN, [f64::NAN; 2], false);
    }
    match (old.interval(), new.interval()) {
        (Some((old, old_ci)), Some((new, new_ci))) => (
            new / old - 1.0,
            [new_ci[0] / old_ci[1] - 1.0, new_ci[1] / old_ci[0] - 1.0],
            true,
        ),
        _ => {
            let (new, old) = (new.instructions(), old.instructions());
            let change = new.zip(old).map_or(f64::NAN, |(n, o)| n / o - 1.0);
            (change, [change, change], false)
        }
    }
}

impl Figure {
    /// A measured figure (less is faster) and its 95 % interval: ns per block, or cycles per
    /// frame; `None` for a count.
    fn interval(&self) -> Option<(f64, [f64; 2])> {
        match *self {
            Figure::Time {
                ns_per_block,
                ns_per_block_ci95,
                ..
            } => Some((ns_per_block, ns_per_block_ci95)),
            Figure::Cycles {
                cycles_per_frame,
                cycles_per_frame_ci95,
                ..
            } => Some((cycles_per_frame, cycles_per_frame_ci95)),
            Figure::Instructions { .. } => None,
        }
    }

    /// Core cycles per frame, when it holds cycles.
    fn cycles(&self) -> Option<f64> {
        match *self {
            Figure::Cycles {
                cycles_per_frame, ..
            } => Some(cycles_per_frame),
            _ => None,
        }
    }

    /// Instructions per frame, when it is a count.
    fn instructions(&self) -> Option<f64> {
        match self {
            Figure::Instructions {
                instructions_per_frame,
            } => Some(*instructions_per_frame),
            _ => None,
        }
    }
}

/// The default directory of baselines: `.faustperf/baselines` under the working directory.
pub fn default_dir() -> PathBuf {
    PathBuf::from(".faustperf").join("baselines")
}

/// Where baseline `name` lives in `dir`; names are plain (letters, digits, `-`, `_`, `.`).
pub fn path(dir: &Path, name: &str) -> Result<PathBuf, BaselineError> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !plain {
        return Err(BaselineError::Name(name.into()));
    }
    Ok(dir.join(format!("{name}.json")))
}

pub fn load(path: &Path) -> Result<Baseline, BaselineError> {
    let text = std::fs::read_to_string(path).map_err(|e| BaselineError::io(path, e))?;
    serde_json::from_str(&text).map_err(|error| BaselineError::NotABaseline {
        path: path.into(),
        error,
    })
}

pub fn save(path: &Path, baseline: &Baseline) -> Result<(), BaselineError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| BaselineError::io(dir, e))?;
    }
    // Baselines hold strings and numbers: serialising cannot fail.
    let text = serde_json::to_string_pretty(baseline).expect("baselines serialise");
    std::fs::write(path, text + "\n").map_err(|e| BaselineError::io(path, e))
}

/// Why a baseline cannot be named, read or written.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline name `{0}`: use letters, digits, `-`, `_` and `.` (it names a file)")]
    Name(String),
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not a faustperf baseline: {error}", path.display())]
    NotABaseline {
        path: PathBuf,
        error: serde_json::Error,
    },
}

impl BaselineError {
    fn io(path: &Path, error: std::io::Error) -> BaselineError {
        BaselineError::Io {
            path: path.into(),
            error,
        }
    }
}

/// The names of the baselines in `dir`, sorted.
pub fn list(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|e| {
            let path = e.path();
            if path.extension()? != "json" {
                return None;
            }
            Some(path.file_stem()?.to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(dsp: &str, ns: f64, half: f64) -> Entry {
        Entry {
            dsp: dsp.into(),
            compiler_options: "-vec".into(),
            figure: Figure::Time {
                throughput_mbps: 1e6 / ns,
                ns_per_block: ns,
                ns_per_block_ci95: [ns - half, ns + half],
            },
            output: None,
        }
    }

    fn counted(dsp: &str, instructions: f64) -> Entry {
        Entry {
            dsp: dsp.into(),
            compiler_options: "-vec".into(),
            figure: Figure::Instructions {
                instructions_per_frame: instructions,
            },
            output: None,
        }
    }

    fn baseline(entries: Vec<Entry>) -> Baseline {
        Baseline {
            name: "b".into(),
            saved_at: 0,
            conditions: Conditions {
                toolchain: crate::libfaust::Toolchain {
                    libfaust_version: "2.54.9".into(),
                    machine_target: "t".into(),
                },
                cpu_model: None,
                buffer_size: 512,
                sample_rate: 44100,
                machine: Default::default(),
            },
            metric: Metric::Time,
            count_conditions: None,
            entries,
        }
    }

    #[test]
    fn instruction_counts_change_exactly() {
        let b = baseline(vec![
            counted("a", 100.0),
            counted("b", 100.0),
            counted("c", 100.0),
        ]);
        let now = [counted("a", 100.4), counted("b", 100.6), counted("c", 99.0)];
        let rows = check(&b, &now, 0.5, 60.0);
        let status = |dsp: &str| rows.iter().find(|r| r.dsp == dsp).unwrap().status;
        assert_eq!(status("a"), Status::Ok);
        assert_eq!(status("b"), Status::Slower);
        assert_eq!(status("c"), Status::Faster);
        assert!(rows.iter().all(|r| r.change_ci95_percent.is_none()));
        // Saved and loaded as they were; a baseline of times from before still loads.
        let json = serde_json::to_string(&b.entries).unwrap();
        assert!(json.contains("instructions_per_frame"), "{json}");
        let back: Vec<Entry> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b.entries);
        let old = r#"{"dsp":"a","compiler_options":"-vec","throughput_mbps":1.0,"ns_per_block":2.0,"ns_per_block_ci95":[1.0,3.0]}"#;
        assert!(matches!(
            serde_json::from_str::<Entry>(old).unwrap().figure,
            Figure::Time { .. }
        ));
    }

    #[test]
    fn a_changed_output_fails_whatever_the_speed() {
        let noise: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919 % 1000) as f64 - 500.0) / 500.0)
            .collect();
        let with = |output: &[f64], seed: u64| Entry {
            output: Some(Excerpt::of(seed, &[output.to_vec()])),
            ..entry("a", 100.0, 1.0)
        };
        // Kept as floats, the excerpt's first 4096 frames round-trip.
        let kept = Excerpt::of(1, std::slice::from_ref(&noise));
        assert_eq!(kept.samples().unwrap()[0].len(), EXCERPT_FRAMES);
        let b = baseline(vec![with(&noise, 1)]);
        // The same samples, faster: FASTER, and the output `same`.
        let rows = check(
            &b,
            &[Entry {
                figure: entry("a", 50.0, 1.0).figure,
                ..with(&noise, 1)
            }],
            10.0,
            60.0,
        );
        assert_eq!(rows[0].status, Status::Faster);
        let output = rows[0].output.as_ref().unwrap();
        assert_eq!(
            (output.verdict, output.difference.snr_db),
            (Verdict::Same, None)
        );
        // Faster by computing something else (half the signal, 6 dB): CHANGED.
        let half: Vec<f64> = noise.iter().map(|x| x / 2.0).collect();
        let changed = Entry {
            figure: entry("a", 50.0, 1.0).figure,
            ..with(&half, 1)
        };
        let rows = check(&b, std::slice::from_ref(&changed), 10.0, 60.0);
        assert_eq!(rows[0].status, Status::Changed);
        assert_eq!(rows[0].output.as_ref().unwrap().verdict, Verdict::Different);
        // ... unless the tolerance allows 6 dB; another seed, or no excerpt, is not compared.
        assert_eq!(check(&b, &[changed], 10.0, 5.0)[0].status, Status::Faster);
        assert!(check(&b, &[with(&half, 2)], 10.0, 60.0)[0].output.is_none());
        assert!(check(&b, &[entry("a", 100.0, 1.0)], 10.0, 60.0)[0]
            .output
            .is_none());
    }

    #[test]
    fn statuses() {
        let b = baseline(vec![
            entry("a", 100.0, 1.0),
            entry("b", 100.0, 1.0),
            entry("c", 100.0, 1.0),
            entry("gone", 100.0, 1.0),
        ]);
        let now = [
            entry("a", 103.0, 1.0),
            entry("b", 150.0, 1.0),
            entry("c", 50.0, 1.0),
            entry("new", 10.0, 1.0),
        ];
        let rows = check(&b, &now, 10.0, 60.0);
        let status = |dsp: &str| rows.iter().find(|r| r.dsp == dsp).unwrap().status;
        assert_eq!(status("a"), Status::Ok);
        assert_eq!(status("b"), Status::Slower);
        assert_eq!(status("c"), Status::Faster);
        assert_eq!(status("gone"), Status::Missing);
        assert_eq!(status("new"), Status::New);
        let b_row = rows.iter().find(|r| r.dsp == "b").unwrap();
        assert!((b_row.change_percent.unwrap() - 50.0).abs() < 1e-9);
        // 11 % slower but with an interval reaching below 10 %: not significant.
        let wide = check(
            &baseline(vec![entry("a", 100.0, 5.0)]),
            &[entry("a", 111.0, 5.0)],
            10.0,
            60.0,
        );
        assert_eq!(wide[0].status, Status::Ok);
    }

    #[test]
    fn cycles_change_within_their_interval_and_round_trip() {
        let cycled = |dsp: &str, cycles: f64| Entry {
            dsp: dsp.into(),
            compiler_options: "-vec".into(),
            figure: Figure::Cycles {
                throughput_mbps: 1.0,
                cycles_per_frame: cycles,
                cycles_per_frame_ci95: [cycles - 1.0, cycles + 1.0],
            },
            output: None,
        };
        let b = baseline(vec![
            cycled("a", 100.0),
            cycled("b", 100.0),
            cycled("c", 100.0),
        ]);
        let now = [
            cycled("a", 104.0),
            cycled("b", 120.0),
            entry("c", 100.0, 1.0),
        ];
        let rows = check(&b, &now, 2.0, 60.0);
        let row = |dsp: &str| rows.iter().find(|r| r.dsp == dsp).unwrap();
        // 4 % more, interval from 1 %: within 2 % cannot be excluded.
        assert_eq!(row("a").status, Status::Ok);
        assert!(row("a").change_ci95_percent.is_some());
        assert_eq!(row("b").status, Status::Slower);
        assert_eq!(row("b").current_figure(), Some(120.0));
        // A time against cycles (a hand-edited baseline) fails.
        assert_eq!(row("c").status, Status::Slower);
        let json = serde_json::to_string(&b.entries).unwrap();
        let back: Vec<Entry> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, b.entries);
    }

    #[test]
    fn names_and_files() {
        let dir = tempfile::tempdir().unwrap();
        assert!(path(dir.path(), "../x").is_err());
        assert!(path(dir.path(), "").is_err());
        let p = path(dir.path(), "main-1.0").unwrap();
        let b = baseline(vec![entry("a", 100.0, 1.0)]);
        save(&p, &b).unwrap();
        assert_eq!(load(&p).unwrap(), b);
        assert_eq!(list(dir.path()), ["main-1.0"]);
        let mut other = b.conditions.clone();
        other.toolchain.libfaust_version = "2.60".into();
        assert_eq!(
            b.conditions.differences(&other),
            ["libfaust: baseline 2.54.9, now 2.60"]
        );
    }
}
