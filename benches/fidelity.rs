//! `cargo bench --bench fidelity`: are faustperf's numbers good enough to act on? Runs the real
//! `faustperf` binary (so that every worker process counts) and prints, against the targets of
//! the fidelity work:
//!
//! - `faustbench`: osc, freeverb and zitaRev × `-scal`, `-vec -vs 32`, `-vec -fun -vs 64`, and a
//!   program whose cost depends on its input (800 sines of the input, scalar), each measured 3
//!   times by faustbench-llvm `-single` and by `faustperf analyze --options SET`, alternated;
//!   the medians side by side (target: within ±3 %), with faustperf's cycles per frame and the
//!   core clocks its runs saw. Needs `FAUSTBENCH_LLVM`, the path of faustbench-llvm 2.54.9 built
//!   from Faust's sources with `-fwrapv` (see README: without it, GCC folds its input noise
//!   into a constant).
//! - `repeat`: `FIDELITY_RUNS` (10) default `analyze` runs each of freeverb and zitaRev, the
//!   first with an empty compile cache: whether the recommendation holds (same set, or inside
//!   the declared tie), each run's MB/s, cycles per frame and core clock, the spread of its
//!   MB/s (target ≤ 2 %) and of its cycles per frame (target ≤ 1 %), cold against warm (MB/s
//!   ≤ 2 %, cycles ≤ 1 %), whether every set's code digest is the same cold and warm, the
//!   wall times (freeverb warm ≤ 8 s; cold ≤ compile time / cores + warm), how many runs'
//!   estimates each run's 95 % interval holds (target: ≥ 9 of 10), and the batch of every set
//!   whose blocks take over 10 µs (target: 1).
//! - `clock`: `baseline check` 10 times on unchanged code (freeverb and zitaRev, `-scal` and
//!   `-vec -vs 32`), with `--metric time` and with `--metric cycles` at the same tolerance
//!   (`FIDELITY_TOLERANCE`, 2 %): how often each passes (target: cycles 10/10).
//! - `sweep`: `--sweep faustbench` on freeverb, cold then warm, and the peak memory of all
//!   processes; with `FIDELITY_FULL_SEARCH=1` (and `FAUSTBENCH_LLVM`) also faustbench-llvm's own
//!   full search, timed (about 7 min), to compare wall time (cold ≤ 1/4, warm ≤ 1/8) and the
//!   best MB/s (within 2 %).
//!
//! - `backends`: `--backend all` with the presets on osc, freeverb and zitaRev (every backend
//!   gives a result for every set it supports); warm `--backend all` against warm LLVM alone on
//!   freeverb (target ≤ 3×); the interpreter against LLVM on every fixture (slower on each);
//!   and, with `FAUSTBENCH_CPP` naming Faust's `tools/benchmark/faustbench.cpp` (tag 2.54.9),
//!   `--backend cpp` against that tool built with the same compiler and flags, on freeverb
//!   `-scal` and `-vec -vs 32` (median of 3 alternated runs; target ±5 %).
//!
//! - `counters`: `analyze --counters` with the presets on osc, freeverb and zitaRev, 5 runs
//!   each: whether every set's instructions per frame are identical across the runs, the
//!   counting time, and the two rankings (time, instructions) side by side with the notes on
//!   where they disagree; `baseline check --metric instructions` 10 times on unchanged code
//!   (target: OK 10/10) and 10 times after one multiply per sample by a control was added to
//!   each DSP's output (target: SLOWER 10/10); `inspect --counters` on every fixture: the
//!   counted instructions over the IR's static estimate (the factor stated in the README).
//!
//! Name sections after `--` to run only those, e.g. `cargo bench --bench fidelity -- repeat`.
//! One thing measures at a time: run it on an otherwise idle machine.

use faustperf::measure::stats::median;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SETS: [&str; 3] = ["-scal", "-vec -vs 32", "-vec -fun -vs 64"];
const ZITAREV: &str = "/usr/share/doc/faust-common/examples/reverb/zitaRev.dsp";

fn main() {
    let sections: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |s: &str| sections.is_empty() || sections.iter().any(|a| a == s);
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dsps = vec![
        ("osc", fixtures.join("osc.dsp")),
        ("freeverb", fixtures.join("freeverb.dsp")),
    ];
    if Path::new(ZITAREV).exists() {
        dsps.push(("zitaRev", PathBuf::from(ZITAREV)));
    } else {
        println!("{ZITAREV} is missing (Debian package faust-common): zitaRev left out");
    }
    let faustbench = std::env::var_os("FAUSTBENCH_LLVM").map(PathBuf::from);
    if want("faustbench") {
        match &faustbench {
            Some(fb) => side_by_side(fb, &dsps),
            None => println!(
                "faustbench: set FAUSTBENCH_LLVM to faustbench-llvm 2.54.9 (see README) to compare"
            ),
        }
    }
    if want("repeat") {
        let runs = std::env::var("FIDELITY_RUNS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(10);
        for (name, path) in dsps.iter().filter(|(n, _)| *n != "osc") {
            repeat(name, path, runs);
        }
    }
    if want("clock") {
        clock(&dsps[1..]);
    }
    if want("sweep") {
        let full = std::env::var_os("FIDELITY_FULL_SEARCH").is_some();
        sweep(&dsps[1].1, faustbench.as_deref().filter(|_| full));
    }
    if want("counters") {
        counters(&dsps, &fixtures);
    }
    if want("backends") {
        backends(&dsps, &fixtures);
        match std::env::var_os("FAUSTBENCH_CPP") {
            Some(source) => cpp_against_faustbench(Path::new(&source), &dsps[1].1),
            None => println!("cpp: set FAUSTBENCH_CPP to Faust's tools/benchmark/faustbench.cpp (2.54.9) to compare"),
        }
    }
}

/// Instruction counts: the same in every run, beside the times; baselines of counts; the
/// counts against `inspect`'s static estimate.
fn counters(dsps: &[(&str, PathBuf)], fixtures: &Path) {
    let exe = env!("CARGO_BIN_EXE_faustperf");
    println!("analyze --counters, presets, 5 runs (instructions per frame; MB/s of each run)");
    let cache = tempfile::tempdir().expect("temp dir");
    for (name, path) in dsps {
        let runs: Vec<Run> = (0..5)
            .map(|_| analyze(path, cache.path(), &["--counters"]))
            .collect();
        let sets: Vec<String> = (runs[0].report["results"].as_array().into_iter().flatten())
            .map(|r| {
                r["compiler_options"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
            .collect();
        let mut identical = 0;
        for set in &sets {
            let counts: Vec<f64> = (runs.iter())
                .filter_map(|r| {
                    set_of(&r.report, set)?["counts"]["instructions_per_frame"].as_f64()
                })
                .collect();
            let mbps: Vec<f64> = (runs.iter())
                .filter_map(|r| throughput_of(&r.report, set))
                .collect();
            let same = counts.len() == runs.len() && counts.iter().all(|c| *c == counts[0]);
            identical += usize::from(same);
            println!(
                "  {name:8} {set:30} {:>9.3} instr/frame ({}) MB/s {}",
                counts.first().copied().unwrap_or(f64::NAN),
                if same {
                    "identical in 5 runs".to_string()
                } else {
                    format!("differ: {}", list(&counts))
                },
                list(&mbps)
            );
        }
        let counting = &runs[0].report["counting"];
        println!(
            "  {name:8} {identical}/{} sets identical; counting took {:.1} s (analyze {:.1} s in all)",
            sets.len(),
            counting["seconds"].as_f64().unwrap_or(f64::NAN),
            runs[0].wall
        );
        let by = |key: &dyn Fn(&Value) -> f64| {
            let mut order: Vec<(f64, String)> =
                (runs[0].report["results"].as_array().into_iter().flatten())
                    .map(|r| {
                        (
                            key(r),
                            r["compiler_options"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                        )
                    })
                    .collect();
            order.sort_by(|a, b| a.0.total_cmp(&b.0));
            order
                .into_iter()
                .map(|(_, s)| if s.is_empty() { "(scalar)".into() } else { s })
                .collect::<Vec<_>>()
                .join(" < ")
        };
        println!(
            "    by time:         {}",
            by(&|r| -r["throughput_mbps"].as_f64().unwrap_or(0.0))
        );
        println!(
            "    by instructions: {}",
            by(&|r| r["counts"]["instructions_per_frame"]
                .as_f64()
                .unwrap_or(f64::MAX))
        );
        for note in counting["notes"].as_array().into_iter().flatten() {
            println!("    note: {}", note.as_str().unwrap_or_default());
        }
    }

    println!("baseline --metric instructions: 10 checks unchanged, 10 after one more multiply per sample");
    let dir = tempfile::tempdir().expect("temp dir");
    let copies: Vec<PathBuf> = (dsps.iter())
        .map(|(name, path)| {
            let copy = dir.path().join(format!("{name}.dsp"));
            std::fs::copy(path, &copy).expect("copy the DSP");
            copy
        })
        .collect();
    let baseline = |args: &[&str]| {
        Command::new(exe)
            .current_dir(dir.path())
            .arg("baseline")
            .args(args)
            .arg("--cache-dir")
            .arg(cache.path())
            .output()
            .expect("faustperf runs")
    };
    let mut save = vec!["save", "counts", "--metric", "instructions"];
    let names: Vec<String> = copies.iter().map(|c| c.display().to_string()).collect();
    save.extend(names.iter().map(String::as_str));
    let saved = baseline(&save);
    if !saved.status.success() {
        println!("  save failed: {}", String::from_utf8_lossy(&saved.stderr));
        return;
    }
    let checks = |label: &str| {
        let mut statuses: Vec<String> = Vec::new();
        let mut changes: Vec<f64> = Vec::new();
        let mut codes = Vec::new();
        for _ in 0..10 {
            let out = baseline(&["check", "counts", "--format", "json"]);
            codes.push(out.status.code().unwrap_or(-1));
            let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            for row in report["rows"].as_array().into_iter().flatten() {
                statuses.push(row["status"].as_str().unwrap_or("?").into());
                changes.push(row["change_percent"].as_f64().unwrap_or(f64::NAN));
            }
        }
        let count = |s: &str| statuses.iter().filter(|x| *x == s).count();
        println!(
            "  {label}: exit 0 in {}/10, exit 7 in {}/10; rows OK {} SLOWER {} FASTER {} other {}; changes {:.3}…{:.3} %",
            codes.iter().filter(|c| **c == 0).count(),
            codes.iter().filter(|c| **c == 7).count(),
            count("OK"),
            count("SLOWER"),
            count("FASTER"),
            statuses.len() - count("OK") - count("SLOWER") - count("FASTER"),
            changes.iter().copied().fold(f64::INFINITY, f64::min),
            changes.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
    };
    checks("unchanged");
    for copy in &copies {
        // process = (the old process) : each output times a gain control.
        let text = std::fs::read_to_string(copy).expect("read the copy");
        let renamed = text.replace("process =", "unchanged =");
        let changed = format!("{renamed}\nprocess = unchanged : par(i, outputs(unchanged), *(hslider(\"gain\", 0.5, 0, 1, 0.01)));\n");
        std::fs::write(copy, changed).expect("write the copy");
    }
    checks("one multiply more");

    println!("inspect --counters on every fixture: counted instructions / IR estimate per frame");
    let mut ratios = Vec::new();
    let mut files: Vec<PathBuf> = (std::fs::read_dir(fixtures).expect("fixtures").flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "dsp") && !p.ends_with("compile_error.dsp"))
        .collect();
    files.sort();
    for file in files {
        let out = Command::new(exe)
            .args(["inspect", "--counters", "--format", "json"])
            .arg(&file)
            .output()
            .expect("faustperf runs");
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
        let per: Vec<String> = (report["sets"].as_array().into_iter().flatten())
            .map(|s| {
                let ratio = s["measured"]["measured_over_estimate"]
                    .as_f64()
                    .unwrap_or(f64::NAN);
                ratios.push(ratio);
                format!(
                    "{} {:.1}/{:.1} = {ratio:.2}",
                    if s["compiler_options"] == "" {
                        "(scalar)"
                    } else {
                        s["compiler_options"].as_str().unwrap_or_default()
                    },
                    s["measured"]["counts"]["instructions_per_frame"]
                        .as_f64()
                        .unwrap_or(f64::NAN),
                    s["work"]["per_frame"]["total"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect();
        println!(
            "  {:22} {}",
            file.file_name().unwrap_or_default().to_string_lossy(),
            per.join("; ")
        );
    }
    println!(
        "  counted / estimate from {:.2} to {:.2}",
        ratios.iter().copied().fold(f64::INFINITY, f64::min),
        ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    );
}

/// Every backend on the presets; warm `--backend all` against warm LLVM alone; the
/// interpreter against LLVM on every fixture.
fn backends(dsps: &[(&str, PathBuf)], fixtures: &Path) {
    println!("--backend all, default presets (per backend: measured / unsupported / failed)");
    let cache = tempfile::tempdir().expect("temp dir");
    for (name, path) in dsps {
        let run = analyze(path, cache.path(), &["--backend", "all"]);
        let count = |key: &str, backend: &str, status: Option<&str>| {
            run.report[key].as_array().map_or(0, |a| {
                a.iter()
                    .filter(|r| r["backend"] == backend)
                    .filter(|r| status.is_none_or(|s| r["status"] == s))
                    .count()
            })
        };
        let per: Vec<String> = ["llvm", "cpp", "wasm", "interp"]
            .iter()
            .map(|b| {
                format!(
                    "{b} {}/{}/{}",
                    count("results", b, None),
                    count("errors", b, Some("unsupported")),
                    count("errors", b, Some("failed"))
                )
            })
            .collect();
        let fastest = &run.report["results"][0];
        println!(
            "  {name:8} {}  fastest {} on {} {:.1} MB/s; {}; cold {:.1} s",
            per.join("  "),
            fastest["compiler_options"],
            fastest["backend"],
            fastest["throughput_mbps"].as_f64().unwrap_or(f64::NAN),
            run.report["side_by_side"]["llvm_winner_on_cpp"]
                .as_str()
                .unwrap_or("-"),
            run.wall
        );
    }
    let freeverb = &dsps[1].1;
    let warm = |extra: &[&str]| -> f64 {
        let _ = analyze(freeverb, cache.path(), extra);
        let walls: Vec<f64> = (0..3)
            .map(|_| analyze(freeverb, cache.path(), extra).wall)
            .collect();
        median(&walls)
    };
    let (llvm, all) = (warm(&[]), warm(&["--backend", "all"]));
    println!(
        "warm freeverb presets, median of 3: llvm {llvm:.1} s, --backend all {all:.1} s = {:.2}× (target ≤ 3×)",
        all / llvm
    );
    println!("interp against llvm, scalar, every fixture (MB/s; target: interp slower on each)");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(fixtures)
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dsp"))
        .filter(|p| !p.ends_with("compile_error.dsp") && !p.ends_with("meter.dsp"))
        .collect();
    paths.sort();
    for path in paths {
        let run = analyze(
            &path,
            cache.path(),
            &["--backend", "llvm,interp", "--options", ""],
        );
        let on = |backend: &str| {
            run.report["results"].as_array().and_then(|a| {
                a.iter()
                    .find(|r| r["backend"] == backend)
                    .and_then(|r| r["throughput_mbps"].as_f64())
            })
        };
        match (on("llvm"), on("interp")) {
            (Some(l), Some(i)) => println!(
                "  {:22} llvm {l:8.1}  interp {i:7.1}  llvm/interp {:5.1}×{}",
                path.file_name().unwrap_or_default().to_string_lossy(),
                l / i,
                if i < l { "" } else { "  NOT SLOWER" }
            ),
            (l, _) => println!(
                "  {:22} llvm {l:?}, interp not measured ({})",
                path.file_name().unwrap_or_default().to_string_lossy(),
                run.report["errors"][0]["message"]
            ),
        }
    }
}

/// `--backend cpp` against Faust's own C++ faustbench built from `source` with the same
/// compiler and flags, on freeverb `-scal` and `-vec -vs 32`.
fn cpp_against_faustbench(source: &Path, freeverb: &Path) {
    println!("faustbench (C++, g++ -O3 -ffast-math -march=native) against faustperf --backend cpp (MB/s, median of 3 alternated; target ±5 %)");
    let cache = tempfile::tempdir().expect("temp dir");
    for set in ["-scal", "-vec -vs 32"] {
        let dir = tempfile::tempdir().expect("temp dir");
        let faust = Command::new("faust")
            .args(["-cn", "dsp_scal"])
            .args(set.split_whitespace())
            .arg(freeverb)
            .arg("-o")
            .arg(dir.path().join("dsp_scal.h"))
            .status()
            .expect("faust runs");
        std::fs::copy(source, dir.path().join("faustbench.cpp")).expect("faustbench.cpp");
        let include = Command::new("faust")
            .arg("-includedir")
            .output()
            .expect("faust runs");
        let built = Command::new("g++")
            .args([
                "-O3",
                "-ffast-math",
                "-march=native",
                "-std=c++11",
                "-DSINGLE_TESTS",
                "-I",
            ])
            .arg(String::from_utf8_lossy(&include.stdout).trim())
            .args(["faustbench.cpp", "-o", "faustbench"])
            .current_dir(dir.path())
            .status()
            .expect("g++ runs");
        if !faust.success() || !built.success() {
            println!("  {set}: faustbench could not be built");
            continue;
        }
        let (mut fb, mut fp) = (Vec::new(), Vec::new());
        for _ in 0..3 {
            let out = Command::new(dir.path().join("faustbench"))
                .output()
                .expect("faustbench runs");
            let text = String::from_utf8_lossy(&out.stdout);
            fb.push(text.lines().find_map(mbytes_per_sec).unwrap_or(f64::NAN));
            let run = analyze(
                freeverb,
                cache.path(),
                &["--backend", "cpp", "--options", set],
            );
            fp.push(throughput_of(&run.report, set).unwrap_or(f64::NAN));
        }
        println!("{}", against(&format!("freeverb {set:12}"), &fb, &fp, 5.0));
    }
}

/// One line of faustbench's runs (`fb`) against faustperf's (`fp`): both lists, the medians'
/// difference, and whether it is outside ± `target` %.
fn against(label: &str, fb: &[f64], fp: &[f64], target: f64) -> String {
    let change = 100.0 * (median(fp) / median(fb) - 1.0);
    let outside = if change.abs() <= target {
        String::new()
    } else {
        format!("  OUTSIDE ±{target} %")
    };
    format!(
        "  {label} faustbench {:>24}  faustperf {:>24}  {change:+5.1} %{outside}",
        list(fb),
        list(fp)
    )
}

/// faustbench-llvm and faustperf alternated, 3 times per DSP and set.
fn side_by_side(faustbench: &Path, dsps: &[(&str, PathBuf)]) {
    println!("faustbench-llvm -single against faustperf analyze --options SET (MB/s, median of 3 alternated runs; target ±3 %)");
    let cache = tempfile::tempdir().expect("temp dir");
    // Its cost depends on its input: a constant input (faustbench-llvm built without -fwrapv)
    // reads several times faster than noise.
    let sines = cache.path().join("sines800.dsp");
    std::fs::write(
        &sines,
        "process = _ <: par(i, 800, sin(_ * (i + 1))) :> _;\n",
    )
    .expect("write the sines program");
    let everything = dsps
        .iter()
        .flat_map(|(name, path)| SETS.map(|set| (*name, path, set)));
    for (name, path, set) in everything.chain([("sines800", &sines, "-scal")]) {
        let (mut fb, mut fp, mut cycles, mut clocks) = (vec![], vec![], vec![], vec![]);
        for _ in 0..3 {
            fb.push(faustbench_single(faustbench, path, set));
            let run = analyze(path, cache.path(), &["--options", set]);
            fp.push(throughput_of(&run.report, set).unwrap_or(f64::NAN));
            cycles.push(cycles_of(&run.report, set).unwrap_or(f64::NAN));
            clocks.push(clock_seen(&run.report));
        }
        println!(
            "{}  cycles/frame {}  clock {}",
            against(&format!("{name:8} {set:17}"), &fb, &fp, 3.0),
            list(&cycles),
            clocks.join(" ")
        );
    }
}

/// `baseline check` on unchanged code, 10 times, by time and by cycles at one tolerance.
fn clock(dsps: &[(&str, PathBuf)]) {
    let tolerance = std::env::var("FIDELITY_TOLERANCE").unwrap_or_else(|_| "2".into());
    println!("baseline check on unchanged code, 10 times, --tolerance {tolerance} %, by time and by cycles (target: cycles OK 10/10)");
    let dir = tempfile::tempdir().expect("temp dir");
    let baseline = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faustperf"))
            .arg("baseline")
            .args(args)
            .arg("--dir")
            .arg(dir.path().join("baselines"))
            .arg("--cache-dir")
            .arg(dir.path().join("cache"))
            .output()
            .expect("faustperf runs")
    };
    let paths: Vec<String> = dsps.iter().map(|(_, p)| p.display().to_string()).collect();
    for metric in ["time", "cycles"] {
        let mut save = vec!["save", metric, "--metric", metric];
        save.extend(paths.iter().map(String::as_str));
        save.extend(SETS[..2].iter().flat_map(|set| ["--options", set]));
        let saved = baseline(&save);
        if !saved.status.success() {
            println!(
                "  {metric}: save failed: {}",
                String::from_utf8_lossy(&saved.stderr)
            );
            continue;
        }
        let (mut passed, mut changes) = (0, Vec::new());
        for _ in 0..10 {
            let out = baseline(&[
                "check",
                metric,
                "--tolerance",
                &tolerance,
                "--format",
                "json",
            ]);
            passed += usize::from(out.status.success());
            let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            changes.extend((report["rows"].as_array().into_iter().flatten()).map(|r| {
                format!(
                    "{}{:+.1}",
                    if r["status"] == "OK" { "" } else { "!" },
                    r["change_percent"].as_f64().unwrap_or(f64::NAN)
                )
            }));
        }
        println!(
            "  --metric {metric:6}: passed {passed}/10; changes % (! not OK) {}",
            changes.join(" ")
        );
    }
}

/// Repeated default analyses of one DSP, the first with an empty cache.
fn repeat(name: &str, path: &Path, runs: usize) {
    let cache = tempfile::tempdir().expect("temp dir");
    let reports: Vec<Run> = (0..runs)
        .map(|_| analyze(path, cache.path(), &[]))
        .collect();
    let choices: Vec<String> = reports.iter().map(|r| recommended(&r.report)).collect();
    let modal = choices
        .iter()
        .max_by_key(|r| choices.iter().filter(|x| x == r).count())
        .cloned()
        .unwrap_or_default();
    let holds = reports
        .iter()
        .filter(|r| {
            recommended(&r.report) == modal
                || set_of(&r.report, &modal).is_some_and(|s| s["tied_with_best"] == true)
        })
        .count();
    let modal_mbps: Vec<f64> = reports
        .iter()
        .filter_map(|r| throughput_of(&r.report, &modal))
        .collect();
    let warm_mbps = median(&modal_mbps[1..]);
    let modal_cycles: Vec<f64> = (reports.iter())
        .filter_map(|r| cycles_of(&r.report, &modal))
        .collect();
    println!("{name}: {runs} default analyze runs, the first cold");
    println!(
        "  recommended {choices:?}; {modal:?} is recommended or tied with the recommended in {holds}/{runs} (target {runs}/{runs})"
    );
    println!(
        "  {modal:?}: {} MB/s; spread {:.2} % (target ≤ 2 %); cold {:.1} against warm median {:.1}: {:+.2} % (target ±2 %)",
        list(&modal_mbps),
        spread_percent(&modal_mbps),
        modal_mbps[0],
        warm_mbps,
        100.0 * (modal_mbps[0] / warm_mbps - 1.0)
    );
    for (i, r) in reports.iter().enumerate() {
        println!(
            "    run {:2}: {:.1} MB/s, {:.2} cycles/frame, clock {} GHz",
            i + 1,
            throughput_of(&r.report, &modal).unwrap_or(f64::NAN),
            cycles_of(&r.report, &modal).unwrap_or(f64::NAN),
            clock_seen(&r.report)
        );
    }
    if modal_cycles.len() == runs {
        let warm = median(&modal_cycles[1..]);
        println!(
            "  {modal:?} cycles/frame: spread {:.2} % (target ≤ 1 %); cold {:.2} against warm median {warm:.2}: {:+.2} % (target ±1 %)",
            spread_percent(&modal_cycles),
            modal_cycles[0],
            100.0 * (modal_cycles[0] / warm - 1.0)
        );
    }
    let digests = |r: &Run| -> Vec<(String, String)> {
        let mut d: Vec<(String, String)> = (r.report["results"].as_array().into_iter().flatten())
            .map(|x| {
                (
                    x["compiler_options"].to_string(),
                    x["code_digest"].to_string(),
                )
            })
            .collect();
        d.sort();
        d
    };
    let same_code = reports[1..]
        .iter()
        .filter(|r| digests(r) == digests(&reports[0]))
        .count();
    println!(
        "  every set's code digest as in the cold run: {same_code}/{} warm runs (target: all)",
        runs - 1
    );
    let walls: Vec<f64> = reports.iter().map(|r| r.wall).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let compile: f64 = reports[0].report["results"].as_array().map_or(0.0, |r| {
        r.iter().filter_map(|x| x["compile_seconds"].as_f64()).sum()
    });
    println!(
        "  wall: cold {:.1} s (target ≤ compile {compile:.1} s / {cores} cores + warm = {:.1} s); warm {} s, median {:.1} s",
        walls[0],
        compile / cores + median(&walls[1..]),
        list(&walls[1..]),
        median(&walls[1..])
    );
    let mut sets: Vec<String> = reports
        .iter()
        .flat_map(|r| r.report["results"].as_array().cloned().unwrap_or_default())
        .filter_map(|x| x["compiler_options"].as_str().map(String::from))
        .collect();
    sets.sort();
    sets.dedup();
    let (mut holding, mut all) = (0, 0);
    for set in &sets {
        let results: Vec<&Value> = reports
            .iter()
            .filter_map(|r| set_of(&r.report, set))
            .collect();
        let estimates: Vec<f64> = results
            .iter()
            .filter_map(|x| x["throughput_mbps"].as_f64())
            .collect();
        let held: Vec<usize> = results
            .iter()
            .map(|x| {
                let ci = &x["throughput_ci95_mbps"];
                let (lo, hi) = (ci[0].as_f64().unwrap_or(0.0), ci[1].as_f64().unwrap_or(0.0));
                estimates.iter().filter(|e| (lo..=hi).contains(*e)).count()
            })
            .collect();
        let enough = held
            .iter()
            .filter(|&&h| 10 * h >= 9 * estimates.len())
            .count();
        holding += enough;
        all += held.len();
        println!(
            "  {set:30} {} MB/s, spread {:.2} %; each run's interval holds {:?} of {} estimates; ≥ 90 % in {enough}/{} runs",
            list(&estimates),
            spread_percent(&estimates),
            held,
            estimates.len(),
            held.len()
        );
    }
    println!("  intervals holding ≥ 90 % of the runs' estimates: {holding}/{all} (target: all)");
    let long: Vec<u64> = reports
        .iter()
        .flat_map(|r| r.report["results"].as_array().cloned().unwrap_or_default())
        .filter(|x| x["timing"]["best_mean_ns"].as_f64().unwrap_or(0.0) > 10_000.0)
        .filter_map(|x| x["timing"]["batch"].as_u64())
        .collect();
    let clock: Vec<f64> = reports
        .iter()
        .filter_map(|r| r.report["conditions"]["clock_overhead_ns"].as_f64())
        .collect();
    println!(
        "  blocks over 10 µs timed with batch 1: {}/{} (target: all); clock cost {} ns",
        long.iter().filter(|&&b| b == 1).count(),
        long.len(),
        list(&clock)
    );
}

/// faustperf's search cold and warm; faustbench-llvm's full search when given.
fn sweep(freeverb: &Path, faustbench: Option<&Path>) {
    let cache = tempfile::tempdir().expect("temp dir");
    let runs: Vec<Run> = (0..2)
        .map(|_| analyze(freeverb, cache.path(), &["--sweep", "faustbench"]))
        .collect();
    let theirs = faustbench.map(|fb| {
        let start = Instant::now();
        let out = Command::new(fb)
            .arg(freeverb)
            .output()
            .expect("faustbench-llvm runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let best = text.lines().find(|l| l.contains("Best value")).map(|l| {
            let mbps = mbytes_per_sec(l).unwrap_or(f64::NAN);
            let options = l
                .split(" with ")
                .nth(1)
                .unwrap_or_default()
                .trim()
                .to_string();
            (mbps, options)
        });
        (start.elapsed().as_secs_f64(), best)
    });
    for (name, run) in ["cold", "warm"].iter().zip(&runs) {
        let fastest = &run.report["results"][0];
        println!(
            "sweep faustbench, {name}: wall {:.1} s; {} sets measured; fastest {} at {:.1} MB/s; recommended {:?}; peak memory of all processes {:.0} MB",
            run.wall,
            run.report["results"].as_array().map_or(0, Vec::len),
            fastest["compiler_options"],
            fastest["throughput_mbps"].as_f64().unwrap_or(f64::NAN),
            recommended(&run.report),
            run.peak_rss_bytes as f64 / 1e6
        );
    }
    match theirs {
        Some((seconds, Some((mbps, options)))) => {
            let ours = runs[0].report["results"][0]["throughput_mbps"]
                .as_f64()
                .unwrap_or(f64::NAN);
            println!(
                "faustbench-llvm's full search: {seconds:.0} s, best {options:?} at {mbps:.1} MB/s; faustperf's fastest {:+.1} % (target ±2 %); cold 1/{:.1} of its time (target ≥ 1/4), warm 1/{:.1} (target ≥ 1/8)",
                100.0 * (ours / mbps - 1.0),
                seconds / runs[0].wall,
                seconds / runs[1].wall
            );
        }
        Some((seconds, None)) => {
            println!("faustbench-llvm's full search ran {seconds:.0} s but printed no best value")
        }
        None => println!(
            "faustbench-llvm's full search not run: set FAUSTBENCH_LLVM and FIDELITY_FULL_SEARCH=1"
        ),
    }
}

struct Run {
    wall: f64,
    report: Value,
    peak_rss_bytes: u64,
}

/// `faustperf analyze` with JSON output and the given cache, sampling the resident memory of it
/// and its workers every 10 ms.
fn analyze(dsp: &Path, cache: &Path, extra: &[&str]) -> Run {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_faustperf"))
        .arg("analyze")
        .arg(dsp)
        .args(["--format", "json", "--cache-dir"])
        .arg(cache)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("faustperf starts");
    let peak = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done, pid) = (peak.clone(), done.clone(), child.id());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(tree_rss_bytes(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().expect("piped"), &mut stdout)
        .expect("output");
    child.wait().expect("faustperf ends");
    let wall = start.elapsed().as_secs_f64();
    done.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    Run {
        wall,
        report: serde_json::from_str(&stdout).expect("JSON report"),
        peak_rss_bytes: peak.load(Ordering::Relaxed),
    }
}

/// One `faustbench-llvm -single SET dsp`: its MB/s.
fn faustbench_single(faustbench: &Path, dsp: &Path, set: &str) -> f64 {
    let out = Command::new(faustbench)
        .arg("-single")
        .args(set.split_whitespace())
        .arg(dsp)
        .output()
        .expect("faustbench-llvm runs");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines().find_map(mbytes_per_sec).unwrap_or(f64::NAN)
}

/// The number before ` MBytes/sec` in a line of faustbench-llvm's output.
fn mbytes_per_sec(line: &str) -> Option<f64> {
    let before = &line[..line.find(" MBytes/sec")?];
    before.split_whitespace().last()?.parse().ok()
}

/// Resident memory of `root` and all its descendants, from /proc.
fn tree_rss_bytes(root: u32) -> u64 {
    let mut procs: Vec<(u32, u32, u64)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(entry.path().join("status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        };
        if let (Some(ppid), rss) = (field("PPid:"), field("VmRSS:").unwrap_or(0)) {
            procs.push((pid, ppid as u32, rss * 1024));
        }
    }
    let mut tree = vec![root];
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        tree.extend(procs.iter().filter(|p| p.1 == parent).map(|p| p.0));
        i += 1;
    }
    procs
        .iter()
        .filter(|p| tree.contains(&p.0))
        .map(|p| p.2)
        .sum()
}

fn recommended(report: &Value) -> String {
    report["recommended_options"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn set_of<'a>(report: &'a Value, options: &str) -> Option<&'a Value> {
    report["results"]
        .as_array()?
        .iter()
        .find(|r| r["compiler_options"] == options)
}

fn throughput_of(report: &Value, options: &str) -> Option<f64> {
    set_of(report, options)?["throughput_mbps"].as_f64()
}

fn cycles_of(report: &Value, options: &str) -> Option<f64> {
    set_of(report, options)?["cycles_per_frame"].as_f64()
}

/// The core clocks a run saw (5th–95th percentile), GHz.
fn clock_seen(report: &Value) -> String {
    let ghz = &report["conditions"]["core_clock_ghz"];
    match (ghz[0].as_f64(), ghz[1].as_f64()) {
        (Some(a), Some(b)) => format!("{a:.2}–{b:.2}"),
        _ => "?".into(),
    }
}

/// max / min − 1, %.
fn spread_percent(values: &[f64]) -> f64 {
    let max = values.iter().cloned().fold(f64::MIN, f64::max);
    let min = values.iter().cloned().fold(f64::MAX, f64::min);
    100.0 * (max / min - 1.0)
}

fn list(values: &[f64]) -> String {
    values
        .iter()
        .map(|v| format!("{v:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}
