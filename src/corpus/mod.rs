//! `corpus`: every `.dsp` under a directory, analyzed with the same option sets, each result
//! written as soon as it is known, then summarised.

use crate::analyze::result::{AnalyzeReport, SetStatus};
use crate::analyze::{analyze, AnalyzeRequest, OptionSets, Silent};
use crate::cache::Cache;
use crate::libfaust::DspSource;
use crate::measure::warnings::{texts, Environment};
use crate::measure::MeasureConfig;
use crate::options::{display, parse_option_set, OptionSet};
use crate::pipeline::Workers;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What to run over.
#[derive(Debug, Clone)]
pub struct CorpusRequest {
    pub dir: PathBuf,
    /// Option sets for every DSP (the scalar baseline is added when none is scalar).
    pub option_sets: Vec<OptionSet>,
    pub measure: MeasureConfig,
}

/// One DSP's outcome.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CorpusEntry {
    /// Path relative to the corpus directory.
    pub dsp: String,
    /// `measured`, `failed` (nothing measured) or `skipped`.
    pub status: String,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
    pub best_options: Option<String>,
    pub best_mbps: Option<f64>,
    pub cpu_percent: Option<f64>,
    /// The fastest set's speed over the scalar baseline (×).
    pub speedup_vs_scalar: Option<f64>,
    /// MB/s of every measured option set.
    pub throughput_mbps: BTreeMap<String, f64>,
    /// Option sets that failed, with why.
    pub failures: Vec<String>,
}

/// Over the whole corpus.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Aggregates {
    pub measured: usize,
    pub failed: usize,
    pub skipped: usize,
    /// How many DSPs each option set was fastest for.
    pub wins: BTreeMap<String, usize>,
    /// Geometric mean of each option set's speed-up over scalar, over the DSPs where both ran.
    pub geomean_speedup_vs_scalar: BTreeMap<String, f64>,
    /// Why DSPs failed or were skipped, with how many each.
    pub reasons: BTreeMap<String, usize>,
}

/// Everything `faustperf corpus` found.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CorpusReport {
    pub dir: String,
    pub entries: Vec<CorpusEntry>,
    pub aggregates: Aggregates,
    /// What makes the run's figures less trustworthy: where it measured, over all files.
    #[serde(default)]
    pub warnings: Vec<String>,
    pub wall_seconds: f64,
}

/// Every `.dsp` file under `dir`, sorted.
pub fn find_dsps(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "dsp") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Why a DSP cannot be measured here, judged from its text: no `process` (a file meant to be
/// imported), foreign functions (libfaust's JIT refuses them), or sound files.
pub fn skip_reason(text: &str) -> Option<&'static str> {
    let code: String = text
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let defines_process = code.split(';').any(|statement| {
        let s = statement.trim_start();
        (s.strip_prefix("process")).is_some_and(|rest| rest.trim_start().starts_with(['=', '(']))
    });
    if !defines_process {
        Some("library: defines no `process`")
    } else if code.contains("ffunction") {
        Some("calls foreign functions, which libfaust's JIT refuses")
    } else if code.contains("soundfile") {
        Some("needs sound files")
    } else {
        None
    }
}

/// Analyzes every DSP under the request's directory. Each entry goes to `on_entry` as soon as
/// it is known (to be written out incrementally).
pub fn run(
    request: &CorpusRequest,
    workers: &mut Workers,
    cache: Option<&Cache>,
    on_entry: &mut dyn FnMut(&CorpusEntry, usize, usize),
) -> CorpusReport {
    let started = std::time::Instant::now();
    let files = find_dsps(&request.dir);
    let mut entries = Vec::new();
    let mut environment = Environment::default();
    for (i, path) in files.iter().enumerate() {
        let name = path
            .strip_prefix(&request.dir)
            .unwrap_or(path)
            .display()
            .to_string();
        let entry = match std::fs::read_to_string(path) {
            Err(e) => skipped(name, format!("unreadable: {e}")),
            Ok(text) => match skip_reason(&text) {
                Some(reason) => skipped(name, reason.into()),
                None => {
                    let source = DspSource::File { path: path.clone() };
                    let analysis = AnalyzeRequest {
                        option_sets: OptionSets::Custom(request.option_sets.clone()),
                        measure: request.measure.clone(),
                        ..AnalyzeRequest::new(source, name.clone())
                    };
                    let report = analyze(&analysis, workers, cache, &mut Silent);
                    environment.merge(&report.conditions.environment());
                    entry_of(name, &report)
                }
            },
        };
        on_entry(&entry, i, files.len());
        entries.push(entry);
    }
    CorpusReport {
        dir: request.dir.display().to_string(),
        aggregates: aggregates(&entries),
        entries,
        warnings: texts(environment.warnings((&request.measure).into())),
        wall_seconds: started.elapsed().as_secs_f64(),
    }
}

fn skipped(dsp: String, reason: String) -> CorpusEntry {
    CorpusEntry {
        dsp,
        status: "skipped".into(),
        reason: Some(reason),
        ..CorpusEntry::default()
    }
}

fn entry_of(dsp: String, report: &AnalyzeReport) -> CorpusEntry {
    let best = report.results.first();
    let failures: Vec<String> = report
        .errors
        .iter()
        .filter(|e| e.status == SetStatus::Failed)
        .map(|e| format!("{}: {}", display(&e.compiler_options), e.message))
        .collect();
    CorpusEntry {
        status: if best.is_some() { "measured" } else { "failed" }.into(),
        reason: (report.errors.first())
            .filter(|_| best.is_none())
            .map(|e| e.message.clone()),
        best_options: best.map(|b| b.compiler_options.clone()),
        best_mbps: best.map(|b| b.throughput_mbps),
        cpu_percent: best.map(|b| b.cpu_percent),
        speedup_vs_scalar: best.and_then(|b| b.speedup_vs_baseline),
        throughput_mbps: report
            .results
            .iter()
            .map(|r| (r.compiler_options.clone(), r.throughput_mbps))
            .collect(),
        failures,
        dsp,
    }
}

fn aggregates(entries: &[CorpusEntry]) -> Aggregates {
    let count = |status: &str| entries.iter().filter(|e| e.status == status).count();
    let mut wins = BTreeMap::new();
    let mut logs: BTreeMap<String, (f64, usize)> = BTreeMap::new();
    let mut reasons = BTreeMap::new();
    for e in entries {
        if let Some(best) = &e.best_options {
            *wins.entry(best.clone()).or_insert(0) += 1;
        }
        // The scalar baseline: the first scalar set measured.
        let scalar = e
            .throughput_mbps
            .iter()
            .find(|(o, _)| parse_option_set(o).is_ok_and(|s| s.is_scalar()));
        if let Some((_, &base)) = scalar {
            for (options, &mbps) in &e.throughput_mbps {
                let slot = logs.entry(options.clone()).or_insert((0.0, 0));
                slot.0 += (mbps / base).ln();
                slot.1 += 1;
            }
        }
        if let Some(reason) = &e.reason {
            // Group by the message, without the `file.dsp:line: ` that starts compile errors.
            let kind = match reason.split_once(": ") {
                Some((place, rest)) if place.contains(".dsp") => rest,
                _ => reason.as_str(),
            }
            .to_string();
            *reasons.entry(kind).or_insert(0) += 1;
        }
    }
    Aggregates {
        measured: count("measured"),
        failed: count("failed"),
        skipped: count("skipped"),
        wins,
        geomean_speedup_vs_scalar: logs
            .into_iter()
            .map(|(o, (sum, n))| (o, (sum / n as f64).exp()))
            .collect(),
        reasons,
    }
}

/// Appends `entry` as one JSON line to `out` and flushes, so that a crash or Ctrl-C keeps what
/// was measured.
pub fn append(out: &mut std::fs::File, entry: &CorpusEntry) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, entry)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_libraries_foreign_functions_and_soundfiles() {
        assert_eq!(skip_reason("import(\"stdfaust.lib\");\nprocess = _;"), None);
        assert_eq!(skip_reason("process(x) = x;"), None);
        assert!(skip_reason("f = _;\n// process = _;")
            .unwrap()
            .starts_with("library"));
        assert!(
            skip_reason("s = ffunction(float sin(float), <math.h>, \"\");\nprocess = s;")
                .unwrap()
                .contains("foreign")
        );
        assert!(skip_reason("process = soundfile(\"x\", 1);")
            .unwrap()
            .contains("sound files"));
    }
}
