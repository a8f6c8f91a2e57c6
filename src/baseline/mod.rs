//! Regression baselines: per-DSP, per-option-set results saved with their conditions, then
//! re-measured and compared (`faustperf baseline save|check|list|show|delete`).

use crate::analyze::result::AnalyzeReport;
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
    pub entries: Vec<Entry>,
}

/// One DSP with one option set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// The DSP file as given.
    pub dsp: String,
    pub compiler_options: String,
    pub throughput_mbps: f64,
    /// The estimate and its 95 % interval, ns per block.
    pub ns_per_block: f64,
    pub ns_per_block_ci95: [f64; 2],
}

impl Entry {
    /// The entries of an analysis.
    pub fn of(report: &AnalyzeReport) -> Vec<Entry> {
        report
            .results
            .iter()
            .map(|r| Entry {
                dsp: report.dsp.clone(),
                compiler_options: r.compiler_options.clone(),
                throughput_mbps: r.throughput_mbps,
                ns_per_block: r.timing.best_mean_ns,
                ns_per_block_ci95: r.timing.best_mean_ci95_ns,
            })
            .collect()
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
    /// New time over baseline time − 1, % (positive: slower).
    pub change_percent: Option<f64>,
    /// Its 95 % interval, from both intervals, %.
    pub change_ci95_percent: Option<[f64; 2]>,
    pub baseline_mbps: Option<f64>,
    pub current_mbps: Option<f64>,
}

/// What `baseline check` found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckReport {
    pub baseline: String,
    pub tolerance_percent: f64,
    pub rows: Vec<CheckRow>,
    /// Conditions that differ from the baseline's.
    pub condition_differences: Vec<String>,
    /// Option sets that failed now (their entries are MISSING).
    pub errors: Vec<String>,
}

impl CheckReport {
    pub fn any(&self, status: Status) -> bool {
        self.rows.iter().any(|r| r.status == status)
    }
}

/// Compares `current` entries with the baseline's: SLOWER or FASTER only when the change is
/// beyond `tolerance_percent` with 95 % confidence (the whole interval beyond it).
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
                baseline_mbps: Some(old.throughput_mbps),
                current_mbps: None,
            },
            Some(new) => {
                let change = new.ns_per_block / old.ns_per_block - 1.0;
                let low = new.ns_per_block_ci95[0] / old.ns_per_block_ci95[1] - 1.0;
                let high = new.ns_per_block_ci95[1] / old.ns_per_block_ci95[0] - 1.0;
                let status = if low > tolerance {
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
                    change_ci95_percent: Some([100.0 * low, 100.0 * high]),
                    baseline_mbps: Some(old.throughput_mbps),
                    current_mbps: Some(new.throughput_mbps),
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
                current_mbps: Some(new.throughput_mbps),
            }),
    );
    rows
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
            throughput_mbps: 1e6 / ns,
            ns_per_block: ns,
            ns_per_block_ci95: [ns - half, ns + half],
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
            },
            entries,
        }
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
