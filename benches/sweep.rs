//! `cargo bench --bench sweep`: time to answer, cold and warm compile cache, through the real
//! `faustperf` binary (so that every worker process is counted).
//!
//! Prints, for `fixtures/freeverb.dsp`:
//! - the 8 presets, cold: wall time against the sum of compile and measuring times;
//! - the same, warm, against cold;
//! - `--sweep faustbench`, cold and warm, against faustbench-llvm's full search (7 min 20 s
//!   measured on this kind of machine, `shared/LIBFAUST-NOTES.md`), and its winner;
//! - the spread of the presets' winner across 5 warm runs;
//! - the peak resident memory of faustperf and all its workers together during the sweep.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const FAUSTBENCH_FULL_SEARCH_SECONDS: f64 = 440.0;

struct Run {
    wall: f64,
    report: Value,
    peak_rss_bytes: u64,
}

fn main() {
    let dsp = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/freeverb.dsp");
    let cache = tempfile::tempdir().expect("temp dir");

    let cold = run(&dsp, cache.path(), &[]);
    let (compile, measure) = sums(&cold.report);
    println!("presets, cold: wall {:.2} s; compile sum {compile:.2} s + measure sum {measure:.2} s = {:.2} s; ratio {:.2} (target ≤ 0.6)",
        cold.wall, compile + measure, cold.wall / (compile + measure));
    let warm = run(&dsp, cache.path(), &[]);
    println!(
        "presets, warm: wall {:.2} s; warm/cold {:.2} (target ≤ 0.10); cached sets {}",
        warm.wall,
        warm.wall / cold.wall,
        count_cached(&warm.report)
    );

    let mut winners = Vec::new();
    for _ in 0..5 {
        let r = run(&dsp, cache.path(), &[]);
        winners.push((
            recommended(&r.report),
            throughput_of(&r.report, &recommended(&warm.report)),
        ));
    }
    let values: Vec<f64> = winners.iter().filter_map(|w| w.1).collect();
    println!(
        "presets, 5 warm runs: recommended {:?}; throughput of {:?}: {:?} MB/s, spread (max-min)/mean {:.2} % (target ≤ 2 %)",
        winners.iter().map(|w| w.0.clone()).collect::<Vec<_>>(),
        recommended(&warm.report),
        values.iter().map(|v| (v * 10.0).round() / 10.0).collect::<Vec<_>>(),
        spread_percent(&values)
    );

    let sweep_cache = tempfile::tempdir().expect("temp dir");
    let sweep = ["--sweep", "faustbench"];
    let cold = run(&dsp, sweep_cache.path(), &sweep);
    let warm = run(&dsp, sweep_cache.path(), &sweep);
    for (name, r, target) in [("cold", &cold, 6.0), ("warm", &warm, 20.0)] {
        println!(
            "sweep faustbench, {name}: wall {:.1} s = 1/{:.1} of faustbench-llvm's {FAUSTBENCH_FULL_SEARCH_SECONDS} s (target ≥ 1/{target}); {} sets measured; recommended {:?}, fastest {:?}; peak memory of all processes {:.0} MB (target ≤ 300 MB)",
            r.wall,
            FAUSTBENCH_FULL_SEARCH_SECONDS / r.wall,
            r.report["results"].as_array().map_or(0, Vec::len),
            recommended(&r.report),
            r.report["results"][0]["compiler_options"],
            r.peak_rss_bytes as f64 / 1e6,
        );
    }
}

/// Runs `faustperf analyze` with JSON output and the given cache, sampling the resident memory
/// of it and its workers every 10 ms.
fn run(dsp: &Path, cache: &Path, extra: &[&str]) -> Run {
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

fn sums(report: &Value) -> (f64, f64) {
    let results = report["results"].as_array().cloned().unwrap_or_default();
    let sum = |field: &str| {
        results
            .iter()
            .filter_map(|r| r[field].as_f64())
            .sum::<f64>()
    };
    (sum("compile_seconds"), sum("measure_seconds"))
}

fn count_cached(report: &Value) -> usize {
    report["results"]
        .as_array()
        .map_or(0, |r| r.iter().filter(|x| x["cached"] == true).count())
}

fn recommended(report: &Value) -> String {
    report["recommended_options"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn throughput_of(report: &Value, options: &str) -> Option<f64> {
    report["results"]
        .as_array()?
        .iter()
        .find(|r| r["compiler_options"] == options)?["throughput_mbps"]
        .as_f64()
}

fn spread_percent(values: &[f64]) -> f64 {
    let max = values.iter().cloned().fold(f64::MIN, f64::max);
    let min = values.iter().cloned().fold(f64::MAX, f64::min);
    100.0 * (max - min) / (values.iter().sum::<f64>() / values.len() as f64)
}
