//! Arguments shared by the commands that run DSP code: where the code comes from, and how it is
//! run (isolation, core, cache).

use super::cache::CacheArgs;
use super::Stop;
use crate::backends::cpp::{DEFAULT_CXX, DEFAULT_CXXFLAGS};
use crate::backends::Cxx;
use crate::cache::Cache;
use crate::chart::Charted;
use crate::libfaust::DspSource;
use crate::measure::{
    check_seconds, thread, Budget, MeasureConfig, DEFAULT_BEST_N, DEFAULT_FRAMES,
    DEFAULT_MAX_SECONDS, DEFAULT_PRECISION_PERCENT, DEFAULT_SAMPLE_RATE, MAX_SAMPLE_RATE,
};
use crate::options::{parse_backends, Backend};
use crate::pipeline::Workers;
use crate::report::Paged;
use crate::worker::{Cancel, WorkerConfig};
use clap::Args;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::time::Duration;

/// Longest measuring time or profile the command line accepts, seconds.
pub const MAX_SECONDS: f64 = 3600.0;

/// The Faust program.
#[derive(Args)]
pub struct SourceArgs {
    /// The .dsp file; `-` or nothing (with no --code) reads Faust code from stdin.
    file: Option<PathBuf>,
    /// Faust code given inline instead of a file.
    #[arg(short = 'e', long = "code", conflicts_with = "file")]
    code: Option<String>,
}

impl SourceArgs {
    /// The source and the name reports give it.
    pub fn read(&self) -> Result<(DspSource, String), String> {
        let code = |name: &str, code: String| DspSource::Code {
            name: name.to_string(),
            code,
        };
        match (&self.code, &self.file) {
            (Some(text), _) => Ok((code("code", text.clone()), "code".into())),
            (None, Some(path)) if path.as_os_str() != "-" => {
                if !path.is_file() {
                    return Err(format!("{} is not a readable file", path.display()));
                }
                Ok((
                    DspSource::File { path: path.clone() },
                    path.display().to_string(),
                ))
            }
            _ => {
                if std::io::stdin().is_terminal() {
                    return Err("give a .dsp file, Faust code with --code, or code on stdin".into());
                }
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .map_err(|e| format!("cannot read Faust code from stdin: {e}"))?;
                Ok((code("stdin", text), "stdin".into()))
            }
        }
    }
}

/// How the code is run.
#[derive(Args)]
pub struct RunArgs {
    /// Do not flush denormals to zero while measuring (hosts usually flush them).
    #[arg(long)]
    pub no_ftz: bool,
    /// Do not ask for real-time priority while measuring.
    #[arg(long)]
    pub no_realtime: bool,
    /// Seed of the input noise and random controls.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Compile and measure inside this process (no crash or hang protection; for trusted code).
    #[arg(long)]
    in_process: bool,
    #[command(flatten)]
    pub machine: MachineArgs,
}

impl RunArgs {
    /// The workers, measuring on `core`; this process keeps off that core.
    pub fn workers(&self, core: Option<usize>) -> Result<Workers, String> {
        let config = self.machine.workers.config()?;
        self.machine.keep_off(core);
        if self.in_process {
            return Ok(Workers::in_process());
        }
        Ok(Workers::isolated(config, self.machine.workers.jobs(), core))
    }
}

/// Where work runs: the measuring core, the worker processes and the compile cache.
#[derive(Args)]
pub struct MachineArgs {
    /// Core to pin the measuring thread to [default: the last core].
    #[arg(long)]
    core: Option<usize>,
    #[command(flatten)]
    pub workers: WorkerArgs,
    /// Do not read or write the compile cache.
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

impl MachineArgs {
    /// The measuring core: `--core` if it exists, else the default (the last core).
    pub fn core(&self) -> Result<Option<usize>, String> {
        let cores = thread::all_cores();
        match self.core {
            Some(core) if !cores.contains(&core) => Err(format!(
                "--core {core} is not available: this process may run on cores {cores:?}"
            )),
            Some(core) => Ok(Some(core)),
            None => Ok(thread::default_core()),
        }
    }

    /// Keeps this process's own threads off the measuring `core`.
    pub fn keep_off(&self, core: Option<usize>) {
        if let Err(e) = thread::restrict_process(&thread::cores_except(core)) {
            eprintln!("warning: {e}; faustperf may share the measuring core with its own threads");
        }
    }

    /// The compile cache, or `None` with `--no-cache` or when it is unusable (warned about).
    pub fn cache(&self) -> Option<Cache> {
        if self.no_cache {
            return None;
        }
        self.cache
            .open()
            .map_err(|e| eprintln!("warning: {e}; running without the compile cache"))
            .ok()
    }
}

/// Which backends compile and run the code, and the C++ compiler of `cpp`.
#[derive(Args)]
pub struct BackendArgs {
    /// llvm, cpp, wasm, interp; several separated by commas, or all.
    #[arg(long = "backend", default_value = "llvm", long_help = crate::backends::backends_help())]
    backend: String,
    /// The C++ compiler of the cpp backend (e.g. clang++).
    #[arg(long, default_value = DEFAULT_CXX)]
    cxx: String,
    /// Its flags (Faust's faust2bench uses -Ofast -march=native).
    #[arg(long, default_value = DEFAULT_CXXFLAGS, allow_hyphen_values = true)]
    cxxflags: String,
}

impl BackendArgs {
    /// The backends asked for, and the C++ compiler when `cpp` is among them (asked for its
    /// version, so that a missing compiler is said at once).
    pub fn resolve(&self) -> Result<(Vec<Backend>, Option<Cxx>), String> {
        let backends = parse_backends(&self.backend).map_err(|e| format!("--backend: {e}"))?;
        let cxx = backends
            .contains(&Backend::Cpp)
            .then(|| Cxx::new(&self.cxx, &self.cxxflags).map_err(|e| format!("--cxx: {e}")))
            .transpose()?;
        Ok((backends, cxx))
    }

    /// The one backend of a command that runs one.
    pub fn one(&self) -> Result<(Backend, Option<Cxx>), String> {
        match self.resolve()? {
            (backends, cxx) if backends.len() == 1 => Ok((backends[0], cxx)),
            _ => Err(
                "--backend: this command runs one backend; give one of llvm, cpp, wasm, interp"
                    .into(),
            ),
        }
    }
}

/// Pictures of the report, written beside the output.
#[derive(Args)]
pub struct ChartArgs {
    /// Also write the report's main chart to this SVG file.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Also write a self-contained HTML report (chart, table, advice) to this file.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

impl ChartArgs {
    /// Prints `text` (the report in its format) on stdout, then writes the files asked for, or
    /// says which could not be written.
    pub fn show<R: Charted + Paged>(&self, text: &str, report: &R) -> Result<(), Stop> {
        print!("{text}");
        let chart = report.chart();
        let write = |file: &PathBuf, text: &str| {
            std::fs::write(file, text)
                .map_err(|e| Stop::usage(format!("cannot write {}: {e}", file.display())))
        };
        if let Some(file) = &self.svg {
            write(file, chart.as_deref().unwrap_or_default())?;
        }
        if let Some(file) = &self.html {
            write(file, &crate::report::html(report, chart.as_deref()))?;
        }
        Ok(())
    }
}

/// How worker processes are limited.
#[derive(Args)]
pub struct WorkerArgs {
    /// Seconds a compile may take before its worker is killed.
    #[arg(long, default_value_t = 60.0)]
    compile_timeout: f64,
    /// Cap of the memory each worker process can write (heap and private mappings), MiB.
    #[arg(long, default_value_t = 4096)]
    memory_limit: u64,
    /// Compile worker processes [default: one per core]; they run on every core, since nothing
    /// is measured while anything compiles.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=256))]
    jobs: Option<u32>,
}

impl WorkerArgs {
    /// Workers running this executable, unconfined, with these limits.
    pub fn config(&self) -> Result<WorkerConfig, String> {
        if !(self.compile_timeout.is_finite() && self.compile_timeout > 0.0) {
            return Err(format!(
                "--compile-timeout {} must be a positive number of seconds",
                self.compile_timeout
            ));
        }
        let exe = std::env::current_exe()
            .map_err(|e| format!("cannot find the faustperf executable: {e}"))?;
        Ok(WorkerConfig {
            exe,
            compile_timeout: Duration::from_secs_f64(self.compile_timeout),
            memory_limit_mb: self.memory_limit,
            confine_to: None,
            cancel: Cancel::default(),
        })
    }

    /// Compile workers: `--jobs`, or one per core.
    pub fn jobs(&self) -> usize {
        self.jobs.map_or_else(Workers::default_jobs, |j| j as usize)
    }
}

/// How each DSP is timed.
#[derive(Args)]
pub struct MeasureArgs {
    /// Frames per compute() call.
    #[arg(long = "bs", default_value_t = DEFAULT_FRAMES as u32, value_parser = clap::value_parser!(u32).range(1..=65536))]
    buffer_size: u32,
    /// Sample rate for CPU %, Hz (CPU % at 44100, 48000 and 96000 Hz is always in the JSON).
    #[arg(long, default_value_t = DEFAULT_SAMPLE_RATE, value_parser = clap::value_parser!(u32).range(1..=MAX_SAMPLE_RATE as i64))]
    sample_rate: u32,
    /// Measure each for exactly this many seconds (warm-ups excluded) instead of adaptively.
    #[arg(long)]
    duration: Option<f64>,
    /// Adaptive measuring stops when the 95 % interval of every set's estimate is within ± this
    /// %.
    #[arg(long, default_value_t = DEFAULT_PRECISION_PERCENT, value_parser = percent)]
    precision: f64,
    /// Adaptive measuring stops after this many seconds of timed rounds per set even if the
    /// precision is not reached.
    #[arg(long, default_value_t = DEFAULT_MAX_SECONDS)]
    max_time: f64,
    /// The estimate is the mean of this many fastest blocks of a set's whole measurement
    /// (faustbench-llvm 2.54.9 averages 50; its README says 10).
    #[arg(long = "best", default_value_t = DEFAULT_BEST_N as u32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    best_n: u32,
    /// Set every control to a random value between timed blocks (faustbench-llvm's -control).
    #[arg(long)]
    control: bool,
}

impl MeasureArgs {
    /// The measuring configuration, or what is wrong with the arguments.
    pub fn config(&self, run: &RunArgs, core: Option<usize>) -> Result<MeasureConfig, String> {
        let budget = match self.duration {
            Some(seconds) => Budget::Fixed {
                seconds: check_seconds("--duration", seconds, MAX_SECONDS)
                    .map_err(|e| e.to_string())?,
            },
            None if !(self.precision > 0.0 && self.precision < 100.0) => {
                return Err(format!(
                    "--precision {} must be a percentage above 0",
                    self.precision
                ))
            }
            None => Budget::Adaptive {
                precision_percent: self.precision,
                max_seconds: check_seconds("--max-time", self.max_time, MAX_SECONDS)
                    .map_err(|e| e.to_string())?,
            },
        };
        Ok(MeasureConfig {
            frames: self.buffer_size as usize,
            sample_rate: self.sample_rate,
            budget,
            best_n: self.best_n as usize,
            seed: run.seed,
            random_controls: self.control,
            flush_denormals: !run.no_ftz,
            realtime: !run.no_realtime,
            core,
            hardware_counters: false,
            perf_map: false,
        })
    }
}

/// A tie threshold: a [`percent`] below 100.
pub fn tie_threshold(text: &str) -> Result<f64, String> {
    match percent(text)? {
        p if p < 100.0 => Ok(p),
        _ => Err(format!(
            "`{text}`: a tie threshold is a percentage below 100"
        )),
    }
}

/// A percentage as users write it, `10` or `10%`: finite and not negative.
pub fn percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim_end();
    match number.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!(
            "`{text}` is not a percentage: give a number of 0 or more, e.g. 10 or 10%"
        )),
    }
}
