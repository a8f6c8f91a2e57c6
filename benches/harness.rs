//! `cargo bench --bench harness`: what faustperf's own measuring costs, for `os.osc(440)` at
//! 64 frames (target: at most 1 % over a bare loop).
//!
//! - the clock's cost per block, as faustperf measures and subtracts it;
//! - faustperf's timed loop (`BlockTimer`, the loop every round runs) against a bare loop over
//!   `compute()`, on the same instance and buffers. The two alternate in short chunks (a few
//!   ms each, the order swapped every pair) many times: this VM's speed wanders by several
//!   percent over a second, which long runs of each would measure instead of the loop. The
//!   figure is the median over pairs of the per-pair ratio, with its 95 % interval;
//! - the same for the time faustperf reports (the clock's cost subtracted): how far the figure
//!   it prints is from what a bare loop takes.

use faustperf::dsp::{AudioBuffers, BoundInstance, DspFactory};
use faustperf::libfaust::{DspSource, Factory};
use faustperf::measure::clock::Clock;
use faustperf::measure::rng::SplitMix64;
use faustperf::measure::stats::MedianInterval;
use faustperf::measure::{measure_interleaved, thread, BlockTimer, Budget, MeasureConfig};
use std::time::Instant;

const FRAMES: usize = 64;
/// Blocks per chunk: about 3 ms of `os.osc` here.
const CHUNK: usize = 6_000;
const PAIRS: usize = 800;

/// Per pair: bare ns per block, timed loop's wall ns per block, reported ns per block.
struct Pair {
    bare: f64,
    timed: f64,
    reported: f64,
}

fn main() {
    let source = DspSource::Code {
        name: "osc".into(),
        code: "import(\"stdfaust.lib\"); process = os.osc(440);".into(),
    };
    let factory = Factory::compile(
        &source,
        &faustperf::options::OptionSet::scalar(),
        faustperf::libfaust::Target::Host,
    )
    .expect("os.osc compiles");
    let config = MeasureConfig {
        frames: FRAMES,
        budget: Budget::Fixed { seconds: 1.0 },
        ..MeasureConfig::default()
    };
    // The batch and clock cost faustperf chooses for this DSP.
    let raw = measure_interleaved(&[&factory as &dyn DspFactory], &config, &mut |_| {})
        .expect("measures")
        .remove(0)
        .expect("measures");
    let batch = raw.timing.batch;
    let clock = Clock::best_available();

    let (pairs, ns_per_tick) = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let (_, saved) = thread::prepare(config.core, true, true);
                let mut instance = factory.instance(44100).expect("instance");
                let mut rng = SplitMix64::new(1);
                let mut buffers =
                    AudioBuffers::new(factory.precision(), 0, 1, FRAMES, 4096, |_, _| rng.noise());
                let mut bound = instance.bind(&mut buffers).expect("buffers fit");
                for k in 0..10 * CHUNK {
                    bound.compute(k);
                }
                // Ticks per ns, to subtract the clock's cost in ticks and to turn ticks into ns.
                let ns_per_tick = clock.quick_ns_per_tick(std::time::Duration::from_millis(100));
                let timer = BlockTimer {
                    clock,
                    overhead: (raw.clock_overhead_ns / ns_per_tick).round() as u64,
                    batch,
                };
                let samples = CHUNK / timer.batch;
                let blocks = samples * timer.batch;
                let mut ticks = Vec::with_capacity(samples + 1);
                let bare = |bound: &mut BoundInstance<'_>| {
                    let start = Instant::now();
                    for k in 0..blocks {
                        bound.compute(k);
                    }
                    start.elapsed().as_nanos() as f64 / blocks as f64
                };
                let mut timed = |bound: &mut BoundInstance<'_>| {
                    ticks.clear();
                    let start = Instant::now();
                    let never = timer.clock.now().wrapping_add(u64::MAX / 4);
                    timer.run(bound, 0, &mut ticks, samples, 0, never, |_| {});
                    let wall = start.elapsed().as_nanos() as f64 / blocks as f64;
                    let reported = ticks.iter().sum::<u64>() as f64 * ns_per_tick / blocks as f64;
                    (wall, reported)
                };
                let mut pairs = Vec::with_capacity(PAIRS);
                for i in 0..PAIRS {
                    let (bare_ns, (timed_ns, reported_ns)) = if i % 2 == 0 {
                        let b = bare(&mut bound);
                        (b, timed(&mut bound))
                    } else {
                        let t = timed(&mut bound);
                        (bare(&mut bound), t)
                    };
                    pairs.push(Pair {
                        bare: bare_ns,
                        timed: timed_ns,
                        reported: reported_ns,
                    });
                }
                thread::restore_fp_mode(saved);
                (pairs, ns_per_tick)
            })
            .join()
            .expect("loops")
    });

    let interval = |f: &dyn Fn(&Pair) -> f64| {
        let values: Vec<f64> = pairs.iter().map(f).collect();
        MedianInterval::of(&values)
    };
    let bare = interval(&|p| p.bare);
    let overhead = interval(&|p| 100.0 * (p.timed / p.bare - 1.0));
    let bias = interval(&|p| 100.0 * (p.reported / p.bare - 1.0));
    println!(
        "clock: {:?} ({:.3} ns per tick); its cost inside the loop {:.1} ns per read pair; {} blocks per sample, so {:.2} ns ({:.2} %) per block",
        clock.kind(),
        ns_per_tick,
        raw.clock_overhead_ns,
        batch,
        raw.clock_overhead_ns / batch as f64,
        100.0 * raw.clock_overhead_ns / batch as f64 / bare.median
    );
    println!(
        "bare loop over compute(): median {:.1} ns per block (spread between chunks {:.1} %)",
        bare.median, bare.rel_spread_percent
    );
    println!(
        "faustperf's timed loop, wall time: {:+.2} % over the bare loop (95 % interval {:+.2} to {:+.2} %; median of {PAIRS} pairs of {} blocks; target ≤ 1 %)",
        overhead.median, overhead.low, overhead.high, batch * (CHUNK / batch)
    );
    println!(
        "time faustperf reports (clock cost subtracted): {:+.2} % from the bare loop (95 % interval {:+.2} to {:+.2} %)",
        bias.median, bias.low, bias.high
    );
}
