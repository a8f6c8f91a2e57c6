//! Regression baselines: per-DSP, per-option-set results saved with their conditions, then
//! re-measured and compared (`faustperf baseline save|check|list|show|delete`).

pub mod measure;

pub use measure::{BaselineRequest, Measured, Target};

use crate::analyze::result::AnalyzeReport;
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
}

impl Metric {
    /// The tolerance `check` allows by default, %: time moves between runs; counts do not.
    pub fn default_tolerance(self) -> f64 {
        match self {
            Metric::Time => 10.0,
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
}

/// What was recorded of an entry: its time or its instruction count.
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
}

impl Entry {
    /// The timed entries of an analysis.
    pub fn of(report: &AnalyzeReport) -> Vec<Entry> {
        report
            .results
            .iter()
            .map(|r| Entry {
                dsp: report.dsp.clone(),
                compiler_options: r.compiler_options.clone(),
                figure: Figure::Time {
                    throughput_mbps: r.throughput_mbps,
                    ns_per_block: r.timing.best_mean_ns,
                    ns_per_block_ci95: r.timing.best_mean_ci95_ns,
                },
            })
            .collect()
    }

    /// Its MB/s, when it is a time.
    fn mbps(&self) -> Option<f64> {
        match self.figure {
            Figure::Time {
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
/// beyond `tolerance_percent`, for times with 95 % confidence (the whole interval beyond it),
/// for instruction counts exactly.
pub fn check(baseline: &Baseline, current: &[Entry], tolerance_percent: f64) -> Vec<CheckRow> {
    let tolerance = tolerance_percent / 100.0;
    let mut rows: Vec<CheckRow> = baseline
        .entries
        .iter()
        .map(|old| match current.iter().find(|e| e.key() == old.key()) {
            None => CheckRow {
                dsp: old.dsp.clone(),
                compiler_options: old.compiler_options.clone(),
                status: Status::Missing,
                change_percent: None,
                change_ci95_percent: None,
                baseline_mbps: old.mbps(),
                current_mbps: None,
                baseline_instructions_per_frame: old.figure.instructions(),
                current_instructions_per_frame: None,
            },
            Some(new) => {
                let (change, [low, high], ci) = change(&old.figure, &new.figure);
                let status = if change.is_nan() || low > tolerance {
                    Status::Slower
                } else if high < -tolerance {
                    Status::Faster
                } else {
                    Status::Ok
                };
                CheckRow {
                    dsp: old.dsp.clone(),
                    compiler_options: old.compiler_options.clone(),
                    status,
                    change_percent: Some(100.0 * change),
                    change_ci95_percent: ci.then_some([100.0 * low, 100.0 * high]),
                    baseline_mbps: old.mbps(),
                    current_mbps: new.mbps(),
                    baseline_instructions_per_frame: old.figure.instructions(),
                    current_instructions_per_frame: new.figure.instructions(),
                }
            }
        })
        .collect();
    rows.extend(
        current
            .iter()
            .filter(|new| !baseline.entries.iter().any(|old| old.key() == new.key()))
            .map(|new| CheckRow {
                dsp: new.dsp.clone(),
                compiler_options: new.compiler_options.clone(),
                status: Status::New,
                change_percent: None,
                change_ci95_percent: None,
                baseline_mbps: None,
                current_mbps: new.mbps(),
                baseline_instructions_per_frame: None,
                current_instructions_per_frame: new.figure.instructions(),
            }),
    );
    rows
}

/// The change from `old` to `new` (positive: slower), its bounds, and whether they are an
/// interval (times) rather than the change itself (counts).
fn change(old: &Figure, new: &Figure) -> (f64, [f64; 2], bool) {
    match (old, new) {
        (
            Figure::Time {
                ns_per_block: old,
                ns_per_block_ci95: old_ci,
                ..
            },
            Figure::Time {
                ns_per_block: new,
                ns_per_block_ci95: new_ci,
                ..
            },
        ) => (
            new / old - 1.0,
            [new_ci[0] / old_ci[1] - 1.0, new_ci[1] / old_ci[0] - 1.0],
            true,
        ),
        _ => {
            let (new, old) = (new.instructions(), old.instructions());
            // A time against a count (a hand-edited baseline): NaN, which `check` fails.
            let change = new.zip(old).map_or(f64::NAN, |(n, o)| n / o - 1.0);
            (change, [change, change], false)
        }
    }
}

impl Figure {
    /// Instructions per frame, when it is a count.
    fn instructions(&self) -> Option<f64> {
        match self {
            Figure::Instructions {
                instructions_per_frame,
            } => Some(*instructions_per_frame),
            Figure::Time { .. } => None,
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
        }
    }

    fn counted(dsp: &str, instructions: f64) -> Entry {
        Entry {
            dsp: dsp.into(),
            compiler_options: "-vec".into(),
            figure: Figure::Instructions {
                instructions_per_frame: instructions,
            },
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
        let rows = check(&b, &now, 0.5);
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
        let rows = check(&b, &now, 10.0);
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
        );
        assert_eq!(wide[0].status, Status::Ok);
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
