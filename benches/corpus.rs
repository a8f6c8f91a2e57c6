//! `cargo bench --bench corpus`: criterion benchmarks of `compute()` over DSP corpora: every
//! `.dsp` in `fixtures/` and, when set, in `$FAUSTPERF_CORPUS` (e.g.
//! `/usr/share/doc/faust-common/examples`), each with a few option sets; one criterion group
//! per DSP, throughput in bytes so criterion prints MB/s, and `iter_custom` so that the timed
//! region is only the `compute()` calls. Programs are compiled in faustperf's worker process,
//! so one that crashes the compiler is skipped, not fatal.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use faustperf::corpus::{find_dsps, skip_reason};
use faustperf::dsp::AudioBuffers;
use faustperf::jobs::CompileJob;
use faustperf::libfaust::DspSource;
use faustperf::measure::rng::SplitMix64;
use faustperf::options::display;
use faustperf::options::parse_option_set;
use faustperf::pipeline::{compile_all, Workers};
use faustperf::worker::{Cancel, WorkerConfig};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const OPTION_SETS: [&str; 2] = ["", "-vec"];
const FRAMES: usize = 512;
const SAMPLE_RATE: u32 = 44100;

fn corpus(c: &mut Criterion) {
    let mut dsps = find_dsps(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    if let Some(dir) = std::env::var_os("FAUSTPERF_CORPUS") {
        dsps.extend(find_dsps(&PathBuf::from(dir)));
    }
    let mut workers = Workers::isolated(
        WorkerConfig {
            exe: PathBuf::from(env!("CARGO_BIN_EXE_faustperf")),
            compile_timeout: Duration::from_secs(60),
            memory_limit_mb: 4096,
            confine_to: None,
            cancel: Cancel::default(),
        },
        1,
        None,
    );
    for path in dsps {
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        if let Some(reason) = std::fs::read_to_string(&path)
            .ok()
            .as_deref()
            .and_then(skip_reason)
        {
            eprintln!("skipping {name}: {reason}");
            continue;
        }
        let jobs: Vec<CompileJob> = OPTION_SETS
            .iter()
            .map(|o| CompileJob {
                source: DspSource::File { path: path.clone() },
                options: parse_option_set(o).expect("valid option sets"),
                sample_rate: SAMPLE_RATE,
                cxx: None,
                target: faustperf::libfaust::Target::Host,
            })
            .collect();
        let (compiled, _) = compile_all(&mut workers, None, &jobs, &mut |_, _| {});
        let mut group = c.benchmark_group(name.clone());
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(1))
            .warm_up_time(Duration::from_millis(300));
        for (options, result) in OPTION_SETS.iter().zip(compiled) {
            let (code, _) = match result {
                Ok(ok) => ok,
                Err(e) => {
                    eprintln!("skipping {name} {}: {e}", display(options));
                    continue;
                }
            };
            let set = parse_option_set(options).expect("valid option sets");
            let Ok(factory) = code.code.load(&set) else {
                continue;
            };
            let Ok(mut instance) = factory.instance(SAMPLE_RATE) else {
                continue;
            };
            let mut rng = SplitMix64::new(1);
            let mut buffers = AudioBuffers::new(
                factory.precision(),
                instance.inputs(),
                instance.outputs(),
                FRAMES,
                64,
                |_, _| rng.noise(),
            );
            let bytes = (FRAMES
                * (instance.inputs() + instance.outputs())
                * factory.precision().sample_bytes()) as u64;
            group.throughput(Throughput::Bytes(bytes));
            group.bench_function(BenchmarkId::new("compute", display(options)), |b| {
                let Ok(mut bound) = instance.bind(&mut buffers) else {
                    return;
                };
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for k in 0..iters as usize {
                        bound.compute(k);
                    }
                    start.elapsed()
                })
            });
        }
        group.finish();
    }
}

criterion_group!(benches, corpus);
criterion_main!(benches);
