//! `cargo bench --bench harness`: what faustperf's own measuring costs, for `os.osc(440)` at
//! 64 frames (target: at most 1 % over a bare loop).
//!
//! - the clock's cost per block, as faustperf measures and subtracts it;
//! - the time per block of faustperf's timed loop (`BlockTimer`, the loop every round runs)
//!   against a bare loop over `compute()`, on the same instance and buffers, alternated 9
//!   times (an instance's place in memory moves its speed by several percent, so comparing
//!   different instances would measure placement, not the loop).

use faustperf::libfaust::{AudioBuffers, DspSource, Factory};
use faustperf::measure::clock::Clock;
use faustperf::measure::rng::SplitMix64;
use faustperf::measure::{measure, thread, BlockTimer, Budget, MeasureConfig};
use std::time::Instant;

const FRAMES: usize = 64;
const BLOCKS: usize = 2_000_000;

fn main() {
    let source = DspSource::Code {
        name: "osc".into(),
        code: "import(\"stdfaust.lib\"); process = os.osc(440);".into(),
    };
    let factory = Factory::compile(&source, &[]).expect("os.osc compiles");
    let config = MeasureConfig {
        frames: FRAMES,
        sample_rate: 44100,
        budget: Budget::Fixed { seconds: 1.0 },
        best_n: 10,
        seed: 1,
        random_controls: false,
        flush_denormals: true,
        realtime: true,
        core: thread::default_core(),
    };
    // The batch and clock cost faustperf chooses for this DSP.
    let raw = measure(&factory, &config, None).expect("measures");
    let timer = BlockTimer {
        clock: Clock::best_available(),
        overhead: 0,
        batch: raw.batch,
    };

    let ratios: Vec<(f64, f64)> = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let (_, saved) = thread::prepare(config.core, true, true);
                let mut instance = factory.instance(44100).expect("instance");
                let mut rng = SplitMix64::new(1);
                let mut buffers =
                    AudioBuffers::new(factory.precision(), 0, 1, FRAMES, 4096, |_, _| rng.noise());
                let mut bound = instance.bind(&mut buffers).expect("buffers fit");
                let mut ticks = Vec::with_capacity(BLOCKS / timer.batch + 1);
                let mut out = Vec::new();
                for rep in 0..9 {
                    let mut bare = || {
                        let start = Instant::now();
                        for k in 0..BLOCKS {
                            bound.compute(k);
                        }
                        start.elapsed().as_nanos() as f64 / BLOCKS as f64
                    };
                    let b1 = bare();
                    ticks.clear();
                    let start = Instant::now();
                    let blocks =
                        timer.run(&mut bound, 0, &mut ticks, BLOCKS / timer.batch, 0, |_| {});
                    let timed = start.elapsed().as_nanos() as f64 / blocks as f64;
                    let b2 = {
                        let start = Instant::now();
                        for k in 0..BLOCKS {
                            bound.compute(k);
                        }
                        start.elapsed().as_nanos() as f64 / BLOCKS as f64
                    };
                    // The timed loop against the mean of the bare loops around it.
                    let bare_ns = (b1 + b2) / 2.0;
                    if rep > 0 {
                        out.push((bare_ns, timed));
                    }
                }
                thread::restore_fp_mode(saved);
                out
            })
            .join()
            .expect("loops")
    });
    let mut overheads: Vec<f64> = ratios.iter().map(|(b, t)| 100.0 * (t / b - 1.0)).collect();
    overheads.sort_by(f64::total_cmp);
    let bare_median = {
        let mut b: Vec<f64> = ratios.iter().map(|r| r.0).collect();
        b.sort_by(f64::total_cmp);
        b[b.len() / 2]
    };
    println!(
        "clock: {:?}; its cost inside the loop {:.1} ns per read pair; {} blocks per sample, so {:.2} ns ({:.2} %) per block",
        timer.clock.kind(),
        raw.clock_overhead_ns,
        raw.batch,
        raw.clock_overhead_ns / raw.batch as f64,
        100.0 * raw.clock_overhead_ns / raw.batch as f64 / bare_median
    );
    println!("bare loop over compute(): median {bare_median:.1} ns per block");
    println!(
        "faustperf's timed loop on the same instance: median overhead {:+.2} % (range {:+.2} to {:+.2} % over 8 paired runs of {BLOCKS} blocks; target ≤ 1 %)",
        overheads[overheads.len() / 2],
        overheads[0],
        overheads[overheads.len() - 1]
    );
}
