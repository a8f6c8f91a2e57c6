//! Instruction counts per frame, which no noisy machine moves: each set's `compute()` runs for a
//! fixed number of blocks on fixed input under valgrind's callgrind, in a child process
//! (`faustperf __count`), and the instructions executed inside [`faustperf_counted_blocks`]
//! are divided by the frames computed. The code counted is compiled for
//! [`Target::Portable`], so counts are the same on every machine of an architecture and
//! valgrind can run every instruction.
//!
//! Also here: the names of the generated functions in memory ([`symbols`]), for callgrind's
//! per-function costs and for `perf`'s map of JIT code. (Hardware counters are read while
//! measuring: [`crate::measure::hardware`].)

pub mod dump;
pub mod symbols;

use crate::backends::Code;
use crate::dsp::FaustError;
use crate::libfaust::{LibFaust, Target};
use crate::measure::rng::SplitMix64;
use crate::options::OptionSet;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The hidden subcommand that runs code under valgrind (see [`child_main`]).
pub const COUNT_SUBCOMMAND: &str = "__count";

/// The function whose instructions are counted: callgrind collects only inside it
/// (`--toggle-collect`) and writes a dump each time it returns (`--dump-after`).
pub const COUNTED_FUNCTION: &str = "faustperf_counted_blocks";

/// How the code is run while it is counted.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CountConfig {
    /// Blocks counted.
    pub blocks: usize,
    /// Frames per block.
    pub frames: usize,
    pub sample_rate: u32,
    /// Seed of the input noise.
    pub seed: u64,
}

impl CountConfig {
    /// 64 blocks of `frames` at `sample_rate`, after [`WARM_UP_BLOCKS`] uncounted.
    pub fn new(frames: usize, sample_rate: u32) -> CountConfig {
        CountConfig {
            blocks: 64,
            frames,
            sample_rate,
            seed: 1,
        }
    }
}

/// Blocks run before counting, so that first-call work (tables filled lazily, pages first
/// touched) is not counted.
pub const WARM_UP_BLOCKS: usize = 2;

/// What callgrind counted for one option set, per frame (one sample of every channel).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    /// Instructions executed per frame: the generated code, the libraries it calls (e.g.
    /// `sinf`) and libfaust's `compute()` wrapper. The same for the same code, input and
    /// blocks, on any machine.
    pub instructions_per_frame: f64,
    /// Data reads and writes per frame.
    pub data_reads_per_frame: f64,
    pub data_writes_per_frame: f64,
    /// Misses of callgrind's simulated first-level caches (instruction and data) per frame.
    pub l1_misses_per_frame: f64,
    /// Misses of its simulated last-level cache per frame.
    pub ll_misses_per_frame: f64,
    /// Where the instructions went: each function's own share, largest first (at most 8, each
    /// at least 0.5 %; generated functions named from the object code, `compute` among them).
    pub functions: Vec<FunctionShare>,
    /// Of them, the instructions in code libfaust generated (not in the functions it calls,
    /// such as `sinf`, nor in libfaust's wrapper): what the IR of `inspect` describes.
    pub generated_instructions_per_frame: f64,
    /// Frames counted (blocks × frames per block).
    pub frames: u64,
}

/// One function's own instructions (not those of what it calls).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct FunctionShare {
    /// Its name: a generated function's symbol (e.g. `computemydsp`), a library function
    /// (e.g. `sinf`), or `generated code at 0x…` when it could not be named.
    pub name: String,
    /// True for code libfaust generated.
    pub generated: bool,
    pub instructions_per_frame: f64,
    pub percent: f64,
}

/// Counts with what they depend on, as a report of one set holds them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counted {
    pub counts: Counts,
    pub conditions: CountConditions,
}

/// What the counts depend on besides the code: a count is comparable only with one made
/// under the same.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CountConditions {
    /// e.g. `valgrind-3.19.0`.
    pub valgrind: String,
    /// libfaust's version.
    pub libfaust_version: String,
    /// The LLVM target of the code counted, e.g. `x86_64-pc-linux-gnu:x86-64-v3`.
    pub target: String,
    pub blocks: usize,
    pub frames_per_block: usize,
}

impl CountConditions {
    /// Those of this machine for `config`, or why instructions cannot be counted here.
    pub fn here(config: &CountConfig) -> Result<CountConditions, FaustError> {
        let lib = LibFaust::get()?;
        Ok(CountConditions {
            valgrind: valgrind_version()?.to_string(),
            libfaust_version: lib.version().to_string(),
            target: Target::Portable.llvm(lib),
            blocks: config.blocks,
            frames_per_block: config.frames,
        })
    }

    /// What differs from `other`, in words (empty: comparable).
    pub fn differences(&self, other: &CountConditions) -> Vec<String> {
        let mut out = Vec::new();
        let mut differ = |what: &str, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
            if a.to_string() != b.to_string() {
                out.push(format!("{what}: {a} then, {b} now"));
            }
        };
        differ("valgrind", &other.valgrind, &self.valgrind);
        differ("libfaust", &other.libfaust_version, &self.libfaust_version);
        differ("target", &other.target, &self.target);
        differ("blocks", &other.blocks, &self.blocks);
        differ(
            "frames per block",
            &other.frames_per_block,
            &self.frames_per_block,
        );
        out
    }
}

/// valgrind's version (`valgrind --version`), or why it cannot be run.
pub fn valgrind_version() -> Result<&'static str, FaustError> {
    static VERSION: OnceLock<Result<String, String>> = OnceLock::new();
    VERSION
        .get_or_init(|| {
            let out = Command::new("valgrind").arg("--version").output().map_err(|e| {
                format!("valgrind cannot be run ({e}): install it (Debian: apt-get install valgrind) to count instructions")
            })?;
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .as_deref()
        .map_err(|e| FaustError::Counters {
            message: e.clone(),
        })
}

/// What the parent sends the child: the sets to count, in order.
#[derive(Debug, Serialize, Deserialize)]
struct ChildRequest {
    codes: Vec<(Code, OptionSet)>,
    config: CountConfig,
}

/// What the child says of each set, one line each.
#[derive(Debug, Serialize, Deserialize)]
enum ChildLine {
    /// Set `set` was counted: its blocks are in callgrind's dump number `dump`, and its
    /// generated functions are where `functions` says.
    Counted {
        set: usize,
        dump: usize,
        functions: Vec<symbols::Function>,
    },
    /// Set `set` could not be run.
    Failed { set: usize, error: FaustError },
}

/// Counts every set of `codes` (LLVM code for [`Target::Portable`]), in one valgrind run when
/// none crashes; a set that crashes valgrind's process fails alone and the others are counted
/// again without it. `note(i)` hears when set `i` is done. Files go to a directory of their
/// own under the temporary directory, removed after.
pub fn count(
    codes: &[(Code, OptionSet)],
    config: &CountConfig,
    note: &dyn Fn(usize),
) -> Vec<Result<Counts, FaustError>> {
    let mut results: Vec<Option<Result<Counts, FaustError>>> = vec![None; codes.len()];
    if let Err(e) = valgrind_version() {
        return vec![Err(e); codes.len()];
    }
    loop {
        let remaining: Vec<usize> = (0..codes.len()).filter(|&i| results[i].is_none()).collect();
        if remaining.is_empty() {
            break;
        }
        let subset: Vec<(Code, OptionSet)> = remaining.iter().map(|&i| codes[i].clone()).collect();
        let run = run_child(&subset, config, &mut |set, result| {
            results[remaining[set]] = Some(result);
            note(remaining[set]);
        });
        if let Err(e) = run {
            // The first set without a result was running when the child died.
            if let Some(&i) = remaining.iter().find(|&&i| results[i].is_none()) {
                results[i] = Some(Err(e));
                note(i);
            }
        }
    }
    results.into_iter().flatten().collect()
}

/// One valgrind run over `codes`; `done(set, result)` hears each set as it is counted.
/// `Err` when the child ended before it had told of every set.
fn run_child(
    codes: &[(Code, OptionSet)],
    config: &CountConfig,
    done: &mut dyn FnMut(usize, Result<Counts, FaustError>),
) -> Result<(), FaustError> {
    let dir = scratch_dir()?;
    let result = run_child_in(&dir, codes, config, done);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_child_in(
    dir: &Path,
    codes: &[(Code, OptionSet)],
    config: &CountConfig,
    done: &mut dyn FnMut(usize, Result<Counts, FaustError>),
) -> Result<(), FaustError> {
    let failed = |message: String| FaustError::Counters { message };
    let exe = std::env::current_exe().map_err(|e| failed(format!("no own executable: {e}")))?;
    let out_file = dir.join("callgrind.out");
    let mut child = Command::new("valgrind")
        .args([
            "--tool=callgrind",
            "--quiet",
            "--vgdb=no",
            // The code is JIT-compiled: valgrind must notice code written at run time.
            "--smc-check=all",
            "--cache-sim=yes",
            "--collect-atstart=no",
        ])
        .arg(format!("--toggle-collect={COUNTED_FUNCTION}"))
        .arg(format!("--dump-after={COUNTED_FUNCTION}"))
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg(&exe)
        .arg(COUNT_SUBCOMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(format!("cannot start valgrind: {e}")))?;
    let request = ChildRequest {
        codes: codes.to_vec(),
        config: *config,
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = serde_json::to_writer(&mut stdin, &request);
        let _ = stdin.write_all(b"\n");
    }
    let stderr = child.stderr.take();
    let stderr_text = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut e) = stderr {
            let _ = std::io::Read::read_to_string(&mut e, &mut text);
        }
        text
    });
    let mut told = 0;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Ok(line) = serde_json::from_str::<ChildLine>(&line) else {
                continue;
            };
            told += 1;
            match line {
                ChildLine::Counted {
                    set,
                    dump,
                    functions,
                } => {
                    let file = PathBuf::from(format!("{}.{dump}", out_file.display()));
                    done(set, read_counts(&file, config, &functions));
                }
                ChildLine::Failed { set, error } => done(set, Err(error)),
            }
        }
    }
    let status = child.wait();
    let stderr = stderr_text.join().unwrap_or_default();
    if told < codes.len() {
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(failed(format!(
            "the code crashed under valgrind ({}): {}",
            status.map_or_else(|e| e.to_string(), |s| s.to_string()),
            tail.join(" | ")
        )));
    }
    Ok(())
}

/// A fresh directory for one valgrind run's files.
fn scratch_dir() -> Result<PathBuf, FaustError> {
    static RUN: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUN.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("faustperf-count-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| FaustError::Counters {
        message: format!("cannot create {}: {e}", dir.display()),
    })?;
    Ok(dir)
}

/// The counts in dump `file`, per frame, with its functions named.
fn read_counts(
    file: &Path,
    config: &CountConfig,
    generated: &[symbols::Function],
) -> Result<Counts, FaustError> {
    let failed = |message: String| FaustError::Counters { message };
    let text = std::fs::read_to_string(file)
        .map_err(|e| failed(format!("callgrind wrote no {}: {e}", file.display())))?;
    let dump = dump::parse(&text).map_err(|e| failed(format!("{}: {e}", file.display())))?;
    let frames = (config.blocks * config.frames) as u64;
    let per_frame = |n: u64| n as f64 / frames as f64;
    let total = dump.total("Ir");
    if total == 0 {
        return Err(failed(
            "callgrind counted nothing: the counted function was not found".into(),
        ));
    }
    // Own costs of the same name (a generated function seen at two addresses) add up.
    let mut shares: Vec<FunctionShare> = Vec::new();
    for (name, ir) in dump.per_function("Ir") {
        let (name, generated) = symbols::name_of(name, generated);
        match shares.iter_mut().find(|s| s.name == name) {
            Some(s) => s.instructions_per_frame += per_frame(ir),
            None => shares.push(FunctionShare {
                name,
                generated,
                instructions_per_frame: per_frame(ir),
                percent: 0.0,
            }),
        }
    }
    let total_per_frame = per_frame(total);
    let generated_instructions_per_frame = (shares.iter())
        .filter(|s| s.generated)
        .map(|s| s.instructions_per_frame)
        .sum();
    for s in &mut shares {
        s.percent = 100.0 * s.instructions_per_frame / total_per_frame;
    }
    // Below half a percent: the harness's own calls.
    shares.retain(|s| s.percent >= 0.5);
    shares.sort_by(|a, b| {
        b.instructions_per_frame
            .total_cmp(&a.instructions_per_frame)
    });
    shares.truncate(8);
    let misses = |names: &[&str]| per_frame(names.iter().map(|n| dump.total(n)).sum());
    Ok(Counts {
        instructions_per_frame: total_per_frame,
        data_reads_per_frame: per_frame(dump.total("Dr")),
        data_writes_per_frame: per_frame(dump.total("Dw")),
        l1_misses_per_frame: misses(&["I1mr", "D1mr", "D1mw"]),
        ll_misses_per_frame: misses(&["ILmr", "DLmr", "DLmw"]),
        functions: shares,
        generated_instructions_per_frame,
        frames,
    })
}

/// The child, under valgrind: reads a [`ChildRequest`] on stdin and runs each set's blocks in
/// [`faustperf_counted_blocks`], telling of each set on stdout.
pub fn child_main() -> std::io::Result<()> {
    // Killed with the worker that started it.
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets this process's parent-death signal.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let request: ChildRequest = serde_json::from_str(&line)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let mut out = std::io::stdout().lock();
    let mut dumps = 0;
    for (set, (code, options)) in request.codes.iter().enumerate() {
        let line = match run_counted(code, options, &request.config) {
            Ok(functions) => {
                dumps += 1;
                ChildLine::Counted {
                    set,
                    dump: dumps,
                    functions,
                }
            }
            Err(error) => ChildLine::Failed { set, error },
        };
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
        out.flush()?;
    }
    Ok(())
}

/// Loads `code`, runs the warm-up blocks, then the counted ones; returns where its generated
/// functions are.
fn run_counted(
    code: &Code,
    options: &OptionSet,
    config: &CountConfig,
) -> Result<Vec<symbols::Function>, FaustError> {
    let factory = code.load(options)?;
    let mut instance = factory.instance(config.sample_rate)?;
    let mut rng = SplitMix64::new(config.seed);
    let mut buffers = crate::libfaust::AudioBuffers::new(
        instance.precision(),
        instance.inputs(),
        instance.outputs(),
        config.frames,
        1,
        |_, _| rng.noise(),
    );
    let mut bound = instance.bind(&mut buffers)?;
    for _ in 0..WARM_UP_BLOCKS {
        bound.compute(0);
    }
    faustperf_counted_blocks(&mut bound, config.blocks);
    Ok(crate::backends::llvm::machine_code(code)
        .map_or_else(|_| Vec::new(), symbols::jit_functions))
}

/// Runs `blocks` blocks: the only function whose instructions callgrind counts.
#[no_mangle]
#[inline(never)]
pub fn faustperf_counted_blocks(bound: &mut crate::libfaust::BoundInstance<'_>, blocks: usize) {
    for _ in 0..blocks {
        bound.compute(0);
    }
}
