//! `faustperf analyze`.

use super::common::{
    tie_threshold, BackendArgs, ChartArgs, MeasureArgs, RunArgs, SourceArgs, MAX_SECONDS,
};
use super::progress::StderrProgress;
use super::{exit, Stop};
use crate::accuracy;
use crate::analyze::result::SetStatus;
use crate::analyze::{analyze, AnalyzeRequest, OptionSets, Search, DEFAULT_TIE_THRESHOLD_PERCENT};
use crate::cache::Cache;
use crate::measure::MeasureConfig;
use crate::options::parse_option_sets;
use crate::pipeline::Workers;
use crate::report::Format;
use clap::Args;

#[derive(Args)]
pub struct AnalyzeArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// An option set to try, as on the faust command line (e.g. "-vec -fun -vs 64"); repeatable.
    /// Replaces the presets; the scalar baseline is added when no set is scalar. Options that
    /// read or write files are refused.
    #[arg(long = "options", value_name = "SET", allow_hyphen_values = true)]
    options: Vec<String>,
    /// Instead of presets, search the option space: `wide` (guided by the measurements, over a
    /// wider space), or one of faustbench-llvm's searches as libfaust 2.54.9 or Faust 2.83 run
    /// them.
    #[arg(long, value_enum, conflicts_with = "options")]
    sweep: Option<Search>,
    /// With --sweep: answer within about this many seconds, the best set found by then (the
    /// stages that no longer fit are listed as not tried, and each stage's measuring is cut to
    /// the time left).
    #[arg(long, value_name = "SECONDS", requires = "sweep")]
    budget: Option<f64>,
    /// Compile every set with -double (64-bit samples; MB/s then counts 8 bytes per sample).
    #[arg(long)]
    double: bool,
    #[command(flatten)]
    backend: BackendArgs,
    #[command(flatten)]
    measure: MeasureArgs,
    /// Sets slower than the fastest by less than this are reported as tied with it, % (within
    /// one run identical code differs by a few tenths of a percent; between runs more).
    #[arg(long, default_value_t = DEFAULT_TIE_THRESHOLD_PERCENT, value_parser = tie_threshold)]
    tie_threshold: f64,
    /// Also read each measured set's generated code and add its key facts (as `inspect`
    /// does); compiles each set once more, since the cache keeps machine code only.
    #[arg(long)]
    inspect: bool,
    /// Also count each LLVM set's instructions per frame under valgrind's callgrind (the same
    /// count on every run and machine; code compiled for x86-64-v3), with simulated cache
    /// misses and the share of each generated function.
    #[arg(long)]
    counters: bool,
    /// Check every measured set's output against the same program compiled scalar with
    /// -double on LLVM (1 s of the input, after measuring): `guard` also never recommends a
    /// set whose output is `different`; `report` only reports; `off` skips the check.
    #[arg(long, value_enum, default_value_t = accuracy::Mode::default())]
    accuracy: accuracy::Mode,
    /// The SNR against the reference, dB, below which a set's output is `different` (above
    /// it but further than float rounding: `close`).
    #[arg(long, value_name = "DB", default_value_t = accuracy::DEFAULT_TOLERANCE_DB)]
    accuracy_tolerance: f64,
    /// Compile and measure sets with options their backend refuses (e.g. wasm's `-vec`, which
    /// libfaust 2.54.9 gets wrong) instead of listing them as unsupported: to try a newer
    /// libfaust, or to see the output check catch them. libfaust's own error, or the output
    /// check, then says what is wrong.
    #[arg(long)]
    force_refused: bool,
    /// Write /tmp/perf-PID.map for the measuring worker, so that `perf record` (e.g.
    /// `perf record -g -- faustperf analyze …`) names the samples in the generated functions.
    #[arg(long)]
    perf_map: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    charts: ChartArgs,
    #[command(flatten)]
    run: RunArgs,
}

/// Runs `analyze` and returns the exit code.
pub fn run(args: AnalyzeArgs) -> Result<i32, Stop> {
    Stop::unless_libfaust()?;
    let (request, mut workers, cache) = validate(&args).map_err(Stop::usage)?;
    let mut progress = StderrProgress::new();
    let report = analyze(&request, &mut workers, cache.as_ref(), &mut progress);
    progress.finish();
    args.charts.show(&args.format.render(&report), &report)?;
    let some_failed = report.errors.iter().any(|e| e.status == SetStatus::Failed);
    Ok(exit::of_outcome(report.success, some_failed))
}

/// Turns the arguments into a request, its workers and its cache (`None` with `--no-cache` or
/// when the cache directory is unusable, which is warned about), or says what is wrong.
fn validate(args: &AnalyzeArgs) -> Result<(AnalyzeRequest, Workers, Option<Cache>), String> {
    let (source, name) = args.source.read()?;
    let mut request = AnalyzeRequest::new(source, name);
    if !args.options.is_empty() {
        let sets = parse_option_sets("--options", &args.options).map_err(|e| e.to_string())?;
        request.option_sets = OptionSets::Custom(sets);
    }
    if let Some(search) = args.sweep {
        request.option_sets = OptionSets::Search(search);
    }
    if args.double {
        request = request.double().map_err(|e| format!("--double: {e}"))?;
    }
    let (backends, cxx) = args.backend.resolve()?;
    let core = args.run.machine.core()?;
    let request = AnalyzeRequest {
        backends,
        cxx,
        measure: MeasureConfig {
            perf_map: args.perf_map,
            ..args.measure.config(&args.run, core)?
        },
        tie_threshold_percent: args.tie_threshold,
        inspect: args.inspect,
        counters: args.counters,
        accuracy: args.accuracy,
        accuracy_tolerance_db: args.accuracy_tolerance,
        force_refused: args.force_refused,
        budget_seconds: args.budget,
        ..request
    }
    .validate(MAX_SECONDS)
    .map_err(|e| e.to_string())?;
    let workers = args.run.workers(core)?;
    let cache = args.run.machine.cache();
    Ok((request, workers, cache))
}
