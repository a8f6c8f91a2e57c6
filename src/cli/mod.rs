//! The command line: parse with clap, validate into requests, run, print, exit.

mod analyze;
mod baseline;
mod cache;
mod common;
mod compare;
mod corpus;
mod inspect;
mod mcp;
mod profile;
mod progress;
mod report;

use clap::{Parser, Subcommand};

/// Exit codes (also listed in `--help` and the README).
pub mod exit {
    pub const OK: i32 = 0;
    /// An unexpected failure of faustperf itself.
    pub const INTERNAL: i32 = 1;
    /// Bad usage: unknown flag, invalid option set, unreadable file (clap also uses 2).
    pub const USAGE: i32 = 2;
    /// No option set could be compiled and measured.
    pub const DSP_FAILED: i32 = 3;
    /// Some option sets failed (others were measured).
    pub const SOME_SETS_FAILED: i32 = 4;
    /// libfaust could not be loaded.
    pub const LIBFAUST_MISSING: i32 = 5;
    /// The audio host asked for (`profile --audio`) is not available, e.g. no JACK server.
    pub const AUDIO_UNAVAILABLE: i32 = 6;
    /// `baseline check`: an entry is significantly slower than the tolerance allows.
    pub const REGRESSION: i32 = 7;
    /// `baseline check --strict`: the conditions differ from the baseline's.
    pub const CONDITIONS_DIFFER: i32 = 8;

    /// 3 when nothing was measured, 4 when some sets (or DSPs) failed, else 0.
    pub fn of_outcome(measured: bool, some_failed: bool) -> i32 {
        if !measured {
            DSP_FAILED
        } else if some_failed {
            SOME_SETS_FAILED
        } else {
            OK
        }
    }
}

/// Why a command stopped before its result: an exit code, and a message said once on stderr
/// as `error: …`.
pub struct Stop(pub i32, pub String);

impl Stop {
    /// Bad usage (exit 2): `message` says what was wrong and what to do.
    pub fn usage(message: impl std::fmt::Display) -> Stop {
        Stop(exit::USAGE, message.to_string())
    }

    /// libfaust must load before a command can compile anything (exit 5 otherwise).
    pub fn unless_libfaust() -> Result<(), Stop> {
        crate::libfaust::LibFaust::get()
            .map(|_| ())
            .map_err(|e| Stop(exit::LIBFAUST_MISSING, e.to_string()))
    }
}

#[derive(Parser)]
#[command(
    name = "faustperf",
    version,
    about = "Measures how fast Faust DSP code runs under each compiler option set, and says which to use.",
    after_help = "Exit codes: 0 success; 1 internal error; 2 bad usage; 3 the DSP could not be compiled or measured \
                  with any option set; 4 some option sets failed; 5 libfaust not found (set FAUST_LIB or install \
                  the Debian package `faust`); 6 the audio host asked for is not available; 7 `baseline check` \
                  found a regression (slower, or a changed output); 8 `baseline check --strict`: conditions differ."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile a DSP with each option set, time compute() and rank the sets.
    ///
    /// Every set is compiled first; then, with nothing compiling, the sets are measured
    /// interleaved, pass after pass, on one pinned core. Throughput is the mean of the N
    /// (--best, 10) fastest blocks of a set's whole measurement in MB/s, MB = 2^20 bytes, bytes
    /// = frames × (inputs + outputs) × sample size (4, or 8 with -double), as faustbench-llvm
    /// counts (faustbench-llvm 2.54.9's code averages its 50 fastest blocks; its README says
    /// 10). The median and mean block are reported beside it; the load category is judged on
    /// the mean block.
    Analyze(analyze::AnalyzeArgs),
    /// Compare implementations (files or inline code, each with its options) in interleaved
    /// rounds; a winner only when the difference is significant.
    Compare(compare::CompareArgs),
    /// Analyze every .dsp under a directory with the same option sets, writing each result as
    /// it comes, then summarise (wins per option set, geometric-mean speed-ups).
    Corpus(corpus::CorpusArgs),
    /// Read the LLVM code libfaust generates for each option set and say why it is fast or
    /// slow: memory and delay lines, instructions per frame by kind, math calls, vectorisation,
    /// feedback loops, with advice.
    Inspect(inspect::InspectArgs),
    /// Run a DSP in real time (one block per period, to deadlines) and report its load, its
    /// deadline misses, the denormal slow-down and safe block sizes.
    Profile(profile::ProfileArgs),
    /// Save regression baselines and check new measurements against them.
    Baseline(baseline::BaselineCommand),
    /// Show or empty the compile cache.
    Cache(cache::CacheCommand),
    /// Render a saved JSON result (analyze, compare, profile, baseline check, corpus, inspect) again:
    /// as a table, Markdown or CSV, and as its chart (--svg) or an HTML page (--html).
    Report(report::ReportArgs),
    /// Serve the Model Context Protocol on stdio, for AI assistants (Claude Desktop, Claude
    /// Code, the MCP Inspector): tools to analyze, compare and profile Faust code.
    Mcp(mcp::McpArgs),
    /// Internal: the isolated worker process that compiles and measures.
    #[command(name = "__worker", hide = true)]
    Worker {
        #[arg(long, default_value_t = 4096)]
        memory_limit_mb: u64,
        /// Cores the worker may run on, comma-separated (empty: any).
        #[arg(long, value_delimiter = ',', default_value = "")]
        cores: Vec<String>,
        /// Confine the worker with Landlock to reading these directories (and the Faust
        /// libraries); repeatable. None: unconfined.
        #[arg(long)]
        confine_to: Vec<std::path::PathBuf>,
    },
    /// Internal: runs code under valgrind for `--counters` (started by a worker).
    #[command(name = "__count", hide = true)]
    Count,
}

/// Runs the command line and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Analyze(args) => analyze::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Corpus(args) => corpus::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Profile(args) => profile::run(args),
        Command::Baseline(command) => baseline::run(command),
        Command::Cache(command) => cache::run(command),
        Command::Report(args) => report::run(args),
        Command::Mcp(args) => mcp::run(args),
        Command::Count => crate::callgrind::child_main()
            .map(|()| exit::OK)
            .map_err(|e| {
                Stop(
                    exit::INTERNAL,
                    format!("faustperf {}: {e}", crate::callgrind::COUNT_SUBCOMMAND),
                )
            }),
        Command::Worker {
            memory_limit_mb,
            cores,
            confine_to,
        } => {
            let cores: Vec<usize> = cores.iter().filter_map(|c| c.parse().ok()).collect();
            crate::worker::worker_main(crate::jobs::JOBS, memory_limit_mb, &cores, &confine_to)
                .map(|()| exit::OK)
                .map_err(|e| Stop(exit::INTERNAL, format!("faustperf worker: {e}")))
        }
    };
    outcome.unwrap_or_else(|Stop(code, message)| {
        eprintln!("error: {message}");
        code
    })
}
