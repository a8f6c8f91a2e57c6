//! `cargo bench --bench harness`: what faustperf's own measuring costs, for `os.osc(440)` at
//! 64 frames: the clock's cost per block, and the time per block of faustperf's measuring loop
//! against a bare loop over `compute()` (target: at most 1 % more).

use faustperf::libfaust::{AudioBuffers, DspSource, Factory};
use faustperf::measure::clock::Clock;
use faustperf::measure::rng::SplitMix64;
use faustperf::measure::{measure, thread, Budget, MeasureConfig};
use std::time::Instant;

const FRAMES: usize = 64;

fn main() {
    let source = DspSource::Code {
        name: "osc".into(),
        code: "import(\"stdfaust.lib\"); process = os.osc(440);".into(),
    };
    let factory = Factory::compile(&source, &[]).expect("os.osc compiles");
    let config = MeasureConfig {
        frames: FRAMES,
        sample_rate: 44100,
        budget: Budget::Fixed { seconds: 2.0 },
        best_n: 10,
        seed: 1,
        random_controls: false,
        flush_denormals: true,
        realtime: true,
        core: thread::default_core(),
    };

    // The bare loop (compute() back to back, one stretch) and faustperf's measuring loop,
    // alternated 7 times so that drift hits both; medians and ranges are printed, since at
    // 400 ns per block the layout of a loop alone moves its speed by several percent.
    let mut bare = Vec::new();
    let mut harness = Vec::new();
    let mut raw = None;
    // Each bare run gets its own instance, kept alive so that the next lands elsewhere in
    // memory, as faustperf's rounds do (an instance's place moves its speed by a few percent).
    let mut kept = Vec::new();
    for _ in 0..7 {
        let (ns, instance) = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    let (_, saved) = thread::prepare(config.core, true, true);
                    let mut instance = factory.instance(44100).expect("instance");
                    let mut rng = SplitMix64::new(1);
                    let mut buffers =
                        AudioBuffers::new(factory.precision(), 0, 1, FRAMES, 4096, |_, _| {
                            rng.noise()
                        });
                    let mut bound = instance.bind(&mut buffers).expect("buffers fit");
                    let blocks = 4_000_000;
                    let start = Instant::now();
                    for k in 0..blocks {
                        bound.compute(k);
                    }
                    let ns = start.elapsed().as_nanos() as f64 / blocks as f64;
                    thread::restore_fp_mode(saved);
                    (ns, instance)
                })
                .join()
                .expect("bare loop")
        });
        bare.push(ns);
        kept.push(instance);
        let r = measure(&factory, &config, None).expect("measures");
        harness.push(r.timed_seconds * 1e9 / (r.samples_ns.len() * r.batch) as f64);
        raw = Some(r);
    }
    let raw = raw.expect("measured");
    let clock = Clock::best_available();
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let range = |v: &[f64]| format!("{:.1}–{:.1}", v[0], v[v.len() - 1]);
    let (b, h) = (median(&mut bare), median(&mut harness));
    println!(
        "clock: {:?}; its cost inside the loop {:.1} ns per read pair",
        clock.kind(),
        raw.clock_overhead_ns
    );
    println!(
        "faustperf times {} blocks per sample, so the clock costs {:.2} ns per block ({:.2} % of a block)",
        raw.batch,
        raw.clock_overhead_ns / raw.batch as f64,
        100.0 * raw.clock_overhead_ns / raw.batch as f64 / b
    );
    println!(
        "bare loop over compute(): median {b:.1} ns per block (range {} over 7 runs of 4M blocks)",
        range(&bare)
    );
    println!(
        "faustperf's measuring loop: median {h:.1} ns per block (range {} over 7 runs of 2 s)",
        range(&harness)
    );
    println!(
        "overhead of the measuring loop: {:+.2} % (target ≤ 1 %)",
        100.0 * (h / b - 1.0)
    );
}
