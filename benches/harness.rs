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

    // The bare loop: compute() back to back on the same kind of buffers, on the same core.
    let bare = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let (_, saved) = thread::prepare(config.core, true, true);
                let mut instance = factory.instance(44100).expect("instance");
                let mut rng = SplitMix64::new(1);
                let mut buffers =
                    AudioBuffers::new(factory.precision(), 0, 1, FRAMES, 4096, |_, _| rng.noise());
                let mut bound = instance.bind(&mut buffers).expect("buffers fit");
                let mut best = f64::INFINITY;
                for _ in 0..5 {
                    let blocks = 2_000_000;
                    let start = Instant::now();
                    for k in 0..blocks {
                        bound.compute(k);
                    }
                    best = best.min(start.elapsed().as_nanos() as f64 / blocks as f64);
                }
                thread::restore_fp_mode(saved);
                best
            })
            .join()
            .expect("bare loop")
    });

    // faustperf's loop: wall time of its timed rounds over the blocks they ran.
    let mut harness = f64::INFINITY;
    let mut raw = None;
    for _ in 0..5 {
        let r = measure(&factory, &config, None).expect("measures");
        let blocks = (r.samples_ns.len() * r.batch) as f64;
        harness = harness.min(r.timed_seconds * 1e9 / blocks);
        raw = Some(r);
    }
    let raw = raw.expect("measured");
    let clock = Clock::best_available();
    println!(
        "clock: {:?}, cost of one read pair {:.1} ns",
        clock.kind(),
        raw.clock_overhead_ns
    );
    println!(
        "faustperf times {} blocks per sample, so the clock costs {:.2} ns per block",
        raw.batch,
        raw.clock_overhead_ns / raw.batch as f64
    );
    println!("bare loop over compute(): {bare:.1} ns per block (best of 5 × 2M blocks)");
    println!("faustperf's measuring loop: {harness:.1} ns per block (best of 5 runs of 2 s)");
    println!(
        "overhead: {:+.2} % (target ≤ 1 %)",
        100.0 * (harness / bare - 1.0)
    );
}
