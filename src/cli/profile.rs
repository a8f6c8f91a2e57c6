//! `faustperf profile`.

use super::common::{BackendArgs, ChartArgs, RunArgs, SourceArgs, MAX_SECONDS};
use super::{exit, Stop};
use crate::cache::Cache;
use crate::dsp::FaustError;
use crate::measure::MAX_SAMPLE_RATE;
use crate::options::parse_option_set;
use crate::pipeline::Workers;
use crate::profile::{run_profile, ProfileRequest};
use crate::realtime::signal::Signal;
use crate::realtime::{
    AudioHost, ControlMode, ProfileConfig, DEFAULT_PROFILE_FRAMES, DEFAULT_PROFILE_SAMPLE_RATE,
    DEFAULT_PROFILE_SECONDS,
};
use crate::report::Format;
use crate::worker::RunError;
use clap::Args;
use std::io::IsTerminal;

#[derive(Args)]
pub struct ProfileArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The compiler options, as on the faust command line (e.g. "-vec -vs 64"); refused when
    /// they read or write files.
    #[arg(
        long = "options",
        value_name = "SET",
        allow_hyphen_values = true,
        default_value = ""
    )]
    options: String,
    #[command(flatten)]
    backend: BackendArgs,
    /// Sample rate, Hz: one block is computed every bs / sample-rate seconds.
    #[arg(long, default_value_t = DEFAULT_PROFILE_SAMPLE_RATE, value_parser = clap::value_parser!(u32).range(1..=MAX_SAMPLE_RATE as i64))]
    sample_rate: u32,
    /// Frames per block.
    #[arg(long = "bs", default_value_t = DEFAULT_PROFILE_FRAMES as u32, value_parser = clap::value_parser!(u32).range(1..=65536))]
    buffer_size: u32,
    /// Seconds of audio to run in real time.
    #[arg(long, default_value_t = DEFAULT_PROFILE_SECONDS)]
    duration: f64,
    /// Input signal: silence, noise, sine[:FREQ] (Hz, default 440), impulse, or a file.wav at the
    /// sample rate.
    #[arg(long, default_value = "noise")]
    signal: Signal,
    /// How controls move: fixed (initial values), random (every block), sweep (min to max).
    #[arg(long, value_enum, default_value_t = ControlMode::Fixed)]
    controls: ControlMode,
    /// Run inside a real audio callback instead of the paced loop: `jack` (a running JACK
    /// server, e.g. `jackd -d dummy -r 48000 -p 256`) or `default` (the default sound card).
    #[arg(long, value_enum)]
    audio: Option<AudioHost>,
    /// Also count the code's instructions per frame under valgrind's callgrind (LLVM; code
    /// compiled for x86-64-v3), with simulated cache misses and each generated function's share.
    #[arg(long)]
    counters: bool,
    /// Write /tmp/perf-PID.map for the worker that runs the code, so that `perf record` (e.g.
    /// `perf record -g -- faustperf profile …`) names the samples in the generated functions.
    #[arg(long)]
    perf_map: bool,
    /// Output format (csv: the load timeline).
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    charts: ChartArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// Runs `profile` and returns the exit code: 0 when the run completed (even when the DSP could
/// not keep up), 3 when it could not be compiled or run, 6 when the audio host is missing.
pub fn run(args: ProfileArgs) -> Result<i32, Stop> {
    Stop::unless_libfaust()?;
    let (request, mut workers, cache) = validate(&args).map_err(Stop::usage)?;
    eprintln!(
        "profiling {} for {} s of audio in real time, then denormal and block-size probes{}…",
        request.name,
        request.config.duration_seconds,
        if request.counters {
            ", then counting instructions under valgrind"
        } else {
            ""
        }
    );
    // On a terminal, a live load line on stderr.
    let terminal = std::io::stderr().is_terminal();
    let total = request.config.duration_seconds;
    let mut live = |seconds: f64, load: f64| {
        if terminal {
            eprint!("\r  {seconds:6.1} s of {total} s, load {load:6.2} %   ");
        }
    };
    let result = run_profile(&request, &mut workers, cache.as_ref(), &mut live);
    if terminal {
        eprintln!();
    }
    let report = result.map_err(|e| {
        let code = match e {
            RunError::Faust {
                error: FaustError::Audio { .. },
                ..
            } => exit::AUDIO_UNAVAILABLE,
            _ => exit::DSP_FAILED,
        };
        Stop(code, e.to_string())
    })?;
    args.charts.show(&args.format.render(&report), &report)?;
    Ok(exit::OK)
}

fn validate(args: &ProfileArgs) -> Result<(ProfileRequest, Workers, Option<Cache>), String> {
    let (source, name) = args.source.read()?;
    let (backend, cxx) = args.backend.one()?;
    let options = parse_option_set(&args.options)
        .map_err(|e| format!("--options: {e}"))?
        .on(backend);
    let core = args.run.machine.core()?;
    let config = ProfileConfig {
        sample_rate: args.sample_rate,
        frames: args.buffer_size as usize,
        duration_seconds: args.duration,
        signal: args.signal.clone(),
        controls: args.controls,
        seed: args.run.seed,
        flush_denormals: !args.run.no_ftz,
        realtime: !args.run.no_realtime,
        core,
        audio: args.audio,
        perf_map: args.perf_map,
    };
    let request = ProfileRequest {
        options,
        config,
        cxx,
        counters: args.counters,
        ..ProfileRequest::new(source, name)
    }
    .validate(MAX_SECONDS)
    .map_err(|e| e.to_string())?;
    let workers = args.run.workers(core)?;
    Ok((request, workers, args.run.machine.cache()))
}
