//! `cargo bench --bench analyze`: the whole `analyze` of the freeverb fixture with the default
//! presets, 5 times, through the real worker process. Prints the wall time of each run, compile
//! and measurement time per option set, and the spread of the winner's throughput across runs.

use faustperf::analyze::{analyze, AnalyzeRequest, OptionSets, Silent};
use faustperf::libfaust::DspSource;
use faustperf::measure::{thread, Budget, MeasureConfig};
use faustperf::worker::{Cancel, WorkerConfig, Workers};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

const RUNS: usize = 5;

fn main() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/freeverb.dsp");
    let request = AnalyzeRequest {
        source: DspSource::File { path },
        name: "fixtures/freeverb.dsp".into(),
        option_sets: OptionSets::Presets,
        measure: MeasureConfig {
            frames: 512,
            sample_rate: 44100,
            budget: Budget::Fixed { seconds: 1.0 },
            best_n: 10,
            seed: 1,
            random_controls: false,
            flush_denormals: true,
            realtime: true,
            core: thread::default_core(),
        },
        tie_threshold_percent: 1.0,
    };
    let worker = WorkerConfig {
        exe: PathBuf::from(env!("CARGO_BIN_EXE_faustperf")),
        compile_timeout: Duration::from_secs(60),
        memory_limit_mb: 4096,
        confine_to: None,
        cancel: Cancel::default(),
    };
    let mut per_set: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    let mut winners = Vec::new();
    let mut walls = Vec::new();
    let mut first_recommended: Option<String> = None;
    for run in 1..=RUNS {
        let mut workers = Workers::isolated(
            worker.clone(),
            Workers::default_jobs(),
            request.measure.core,
        );
        let report = analyze(&request, &mut workers, None, &mut Silent);
        let recommended = report.recommended_options.clone().unwrap_or_default();
        println!(
            "run {run}: wall {:.2} s, recommended {:?}, fastest {:?}",
            report.wall_seconds,
            recommended,
            report.results.first().map(|r| &r.compiler_options)
        );
        walls.push(report.wall_seconds);
        for r in &report.results {
            per_set
                .entry(r.compiler_options.clone())
                .or_default()
                .push((r.compile_seconds, r.measure_seconds, r.throughput_mbps));
        }
        let tracked = first_recommended.get_or_insert(recommended);
        if let Some(r) = report
            .results
            .iter()
            .find(|r| &r.compiler_options == tracked)
        {
            winners.push(r.throughput_mbps);
        }
    }
    println!("\nper option set, mean over {RUNS} runs:");
    println!(
        "{:<32} {:>10} {:>10} {:>10} {:>8}",
        "options", "compile s", "measure s", "MB/s", "spread"
    );
    for (options, v) in &per_set {
        let n = v.len() as f64;
        let mbps: Vec<f64> = v.iter().map(|x| x.2).collect();
        println!(
            "{:<32} {:>10.3} {:>10.3} {:>10.1} {:>7.2}%",
            if options.is_empty() {
                "(scalar)"
            } else {
                options
            },
            v.iter().map(|x| x.0).sum::<f64>() / n,
            v.iter().map(|x| x.1).sum::<f64>() / n,
            mbps.iter().sum::<f64>() / n,
            spread_percent(&mbps)
        );
    }
    let mean_wall = walls.iter().sum::<f64>() / walls.len() as f64;
    println!("\nwall time of the whole analyze: mean {mean_wall:.2} s over {RUNS} runs");
    println!(
        "winner {:?}: throughput {:?} MB/s, spread (max-min)/mean {:.2}% across {} runs",
        first_recommended.unwrap_or_default(),
        winners
            .iter()
            .map(|w| (w * 10.0).round() / 10.0)
            .collect::<Vec<_>>(),
        spread_percent(&winners),
        winners.len()
    );
}

fn spread_percent(values: &[f64]) -> f64 {
    let max = values.iter().cloned().fold(f64::MIN, f64::max);
    let min = values.iter().cloned().fold(f64::MAX, f64::min);
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    100.0 * (max - min) / mean
}
