//! Compiler option sets: validation against the code-generation allowlist, the backends'
//! refusals, and the presets.

use serde::{Deserialize, Serialize};

/// One option set as the user wrote it, and as arguments for the compiler, with the backend
/// that compiles and runs it.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct OptionSet {
    /// Arguments, normalised to short names (`--vectorize` → `-vec`), whitespace-separated.
    pub label: String,
    pub args: Vec<String>,
    #[serde(default)]
    pub backend: Backend,
    /// Compiled even where its backend refuses one of its options (`--force-refused`):
    /// libfaust's own error, or the output check, then says what is wrong.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub forced: bool,
}

/// Every backend, one line each: its variant of [`Backend`], its file in `src/backends/`, its
/// name on the command line, in reports and in the MCP schema, and what it is. The one list:
/// `Backend` and `backends::registry!` are made from it.
#[macro_export]
macro_rules! every_backend {
    ($then:ident) => {
        $then! {
            Llvm llvm "llvm" "libfaust's LLVM JIT, in this process.",
            Cpp cpp "cpp" "Faust's C++, built into a shared object by the system's C++ compiler.",
            Wasm wasm "wasm" "Faust's WebAssembly, run by wasmtime.",
            Interp interp "interp" "libfaust's interpreter (FBC), for hosts where JIT is not allowed.",
        }
    };
}

/// Declares [`Backend`] from [`every_backend!`]'s list (the first is the default).
macro_rules! declare_backend {
    ($first:ident $first_module:ident $first_name:literal $first_doc:literal,
     $($variant:ident $module:ident $name:literal $doc:literal,)*) => {
        /// Which of Faust's code generators compiles a set, and what runs the code.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize,
            schemars::JsonSchema,
        )]
        pub enum Backend {
            #[doc = $first_doc]
            #[default]
            #[serde(rename = $first_name)]
            $first,
            $(#[doc = $doc] #[serde(rename = $name)] $variant,)*
        }

        impl Backend {
            pub const ALL: &'static [Backend] = &[Backend::$first, $(Backend::$variant,)*];

            pub fn name(self) -> &'static str {
                match self {
                    Backend::$first => $first_name,
                    $(Backend::$variant => $name,)*
                }
            }
        }
    };
}

every_backend!(declare_backend);

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Backends as users name them: one, several separated by commas, or `all`.
pub fn parse_backends(text: &str) -> Result<Vec<Backend>, OptionError> {
    if text.trim() == "all" {
        return Ok(Backend::ALL.to_vec());
    }
    let mut out = Vec::new();
    for word in text.split(',').map(str::trim) {
        let backend = *Backend::ALL
            .iter()
            .find(|b| b.name() == word)
            .ok_or_else(|| OptionError::UnknownBackend(word.to_string()))?;
        if !out.contains(&backend) {
            out.push(backend);
        }
    }
    Ok(out)
}

impl OptionSet {
    /// The empty set: scalar code, the baseline.
    pub fn scalar() -> OptionSet {
        OptionSet::default()
    }

    /// Scalar code (no `-vec`, `-omp` or `-sch`): what speed-ups are measured against.
    pub fn is_scalar(&self) -> bool {
        !self
            .args
            .iter()
            .any(|a| matches!(a.as_str(), "-vec" | "-omp" | "-sch"))
    }

    /// The same options on `backend`.
    pub fn on(&self, backend: Backend) -> OptionSet {
        OptionSet {
            backend,
            ..self.clone()
        }
    }

    /// The sample type the set asks for: `f64` with `-double`.
    pub fn precision(&self) -> Precision {
        if self.args.iter().any(|a| a == "-double") {
            Precision::Double
        } else {
            Precision::Single
        }
    }

    /// Whether the set calls Faust's fast math functions (`-fm def`).
    pub fn fast_math(&self) -> bool {
        self.args.iter().any(|a| a == "-fm")
    }

    /// How the set is shown to people: `(scalar)` for the empty set.
    pub fn display(&self) -> &str {
        display(&self.label)
    }

    /// Adds arguments, e.g. `-mcd 32` to a set found best.
    pub fn with(&self, extra: &[&str]) -> OptionSet {
        let args: Vec<String> = self
            .args
            .iter()
            .cloned()
            .chain(extra.iter().map(|s| s.to_string()))
            .collect();
        OptionSet {
            label: args.join(" "),
            args,
            ..self.clone()
        }
    }
}

/// The sample type of compiled code: `f32`, or `f64` with `-double`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    Single,
    Double,
}

impl Precision {
    /// Bytes per sample.
    pub fn sample_bytes(self) -> usize {
        match self {
            Precision::Single => 4,
            Precision::Double => 8,
        }
    }
}

/// How a set is named to people: its options, and its backend unless LLVM (`-vec on cpp`).
pub fn display_on(options: &str, backend: Backend) -> String {
    match backend {
        Backend::Llvm => display(options).to_string(),
        other => format!("{} on {other}", display(options)),
    }
}

/// How an option string is shown: `(scalar)` for the empty set.
pub fn display(options: &str) -> &str {
    if options.is_empty() {
        "(scalar)"
    } else {
        options
    }
}

/// Why an option set is refused before any compile.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionError {
    /// An error in one of several sets, with the argument and the set it came from.
    #[error("{what}: {error}")]
    In {
        what: String,
        error: Box<OptionError>,
    },
    #[error("`{option}` {why}; faustperf compiles in memory and refuses options that read or write files")]
    TouchesFiles { option: String, why: &'static str },
    #[error("`{0}` is not a code-generation option faustperf accepts (libfaust would silently ignore unknown options); accepted: {list}", list = accepted_list())]
    Unknown(String),
    #[error("`{option}` needs {what}")]
    BadValue { option: String, what: &'static str },
    #[error(
        "`{0}` is not a backend: give llvm, cpp, wasm, interp, several separated by commas, or all"
    )]
    UnknownBackend(String),
}

enum Arg {
    None,
    /// A whole number in the range.
    Int(std::ops::RangeInclusive<i64>),
    OneOf(&'static [&'static str]),
}

/// Code-generation options of the LLVM backend (libfaust 2.54.9 `faust --help`), with long
/// forms, values and meanings.
const ALLOWED: &[(&str, &str, Arg, &str)] = &[
    ("-scal", "--scalar", Arg::None, "scalar code: one loop over the frames (the default)"),
    ("-vec", "--vectorize", Arg::None, "vector code: the work split into loops over chunks of -vs frames that LLVM can vectorise"),
    ("-vs", "--vec-size", Arg::Int(1..=65536), "vector size: frames per chunk with -vec (default 32)"),
    ("-lv", "--loop-variant", Arg::OneOf(&["0", "1"]), "loop variant with -vec: 0 fast (default), 1 simple"),
    ("-fun", "--fun-tasks", Arg::None, "with -vec: each loop in its own function"),
    ("-dfs", "--deep-first-scheduling", Arg::None, "with -vec: deep-first scheduling of the loops"),
    ("-g", "--group-tasks", Arg::None, "with -vec: group the loops into fewer, larger ones"),
    ("-mcd", "--max-copy-delay", Arg::Int(0..=1 << 20), "max copy delay: delays up to this many samples are copied, longer ones use a ring buffer (default 16)"),
    ("-dlt", "--delay-line-threshold", Arg::Int(0..=i32::MAX as i64), "delay line threshold: delays longer than this use a ring buffer with a power-of-2 mask"),
    ("-omp", "--openmp", Arg::None, "OpenMP parallel loops (cpp only, built with -fopenmp)"),
    ("-pl", "--par-loop", Arg::None, "with -omp: parallel loops"),
    ("-sch", "--scheduler", Arg::None, "work-stealing scheduler (needs a host that runs it)"),
    ("-exp10", "--generate-exp10", Arg::None, "use exp10 instead of pow(10, x)"),
    ("-single", "--single-precision-floats", Arg::None, "32-bit float samples (the default)"),
    ("-double", "--double-precision-floats", Arg::None, "64-bit float samples (MB/s then counts 8 bytes per sample)"),
    ("-quad", "--quad-precision-floats", Arg::None, "128-bit samples (the LLVM backend refuses it)"),
    ("-es", "--enable-semantics", Arg::OneOf(&["0", "1"]), "enable semantic simplifications (default 1)"),
    ("-ftz", "--flush-to-zero", Arg::OneOf(&["0", "1", "2"]), "flush denormals to zero in the code: 0 no (default), 1 by a test, 2 by a mask"),
    ("-ct", "--check-table", Arg::OneOf(&["0", "1"]), "check table indices (default 1)"),
    ("-fm", "--fast-math", Arg::OneOf(&["def"]), "fast math: call Faust's fast_* approximations (`def` only; built into faustperf)"),
    ("-mapp", "--math-approximation", Arg::None, "simpler approximations of some math functions"),
    ("-inpl", "--in-place", Arg::None, "compute in place (inputs and outputs may share buffers)"),
    ("-rui", "--range-ui", Arg::None, "clamp UI values to their range"),
    ("-cm", "--compute-mix", Arg::None, "compute-mix: add to the output buffers instead of replacing"),
    ("-me", "--math-exceptions", Arg::None, "check math exceptions (division by zero, log of negatives...)"),
    ("-sts", "--strict-select", Arg::None, "strict select: compute both branches of a select"),
    ("-lcc", "--local-causality-check", Arg::None, "local causality check"),
    ("-mem", "--memory-manager", Arg::None, "custom memory manager (the LLVM backend refuses it)"),
    ("-os", "--one-sample", Arg::None, "one-sample code (the LLVM backend refuses it)"),
    ("-wi", "--widening-iterations", Arg::Int(0..=1 << 16), "widening iterations of the interval analysis"),
    ("-ni", "--narrowing-iterations", Arg::Int(0..=1 << 16), "narrowing iterations of the interval analysis"),
];

/// Options that write or read files, or print and stop, with why each is refused.
const FILE_OPTIONS: &[(&str, &str)] = &[
    ("-o", "writes the generated code to a file"),
    ("-O", "sets a directory for generated files"),
    ("--output-dir", "sets a directory for generated files"),
    ("-svg", "writes SVG diagrams"),
    ("--svg", "writes SVG diagrams"),
    ("-ps", "writes PostScript diagrams"),
    ("-json", "writes a JSON file"),
    ("-xml", "writes an XML file"),
    ("-mdoc", "writes math documentation files"),
    ("-tg", "writes a task graph"),
    ("-sg", "writes a signal graph"),
    ("-I", "adds a directory to read libraries from"),
    ("--import-dir", "adds a directory to read libraries from"),
    ("-A", "adds a directory to read architectures from"),
    (
        "--architecture-dir",
        "adds a directory to read architectures from",
    ),
    ("-a", "reads an architecture file"),
    ("-L", "links an LLVM module from a file"),
    ("-inj", "injects a source file"),
    ("-i", "inlines architecture files"),
    ("-e", "exports the expanded DSP"),
    (
        "-lang",
        "selects the code generator: use --backend llvm|cpp|wasm|interp",
    ),
];

fn accepted_list() -> String {
    ALLOWED
        .iter()
        .map(|(short, _, _, _)| *short)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Parses every set of `texts`; an error names the argument `what` and the set.
pub fn parse_option_sets(what: &str, texts: &[String]) -> Result<Vec<OptionSet>, OptionError> {
    texts
        .iter()
        .map(|t| {
            parse_option_set(t).map_err(|e| OptionError::In {
                what: format!("{what} \"{t}\""),
                error: Box::new(e),
            })
        })
        .collect()
}

/// Parses and validates one option set written as on the faust command line, e.g.
/// `-vec -fun -vs 64`; the empty string is the scalar baseline.
pub fn parse_option_set(text: &str) -> Result<OptionSet, OptionError> {
    let mut words = text.split_whitespace();
    let mut args = Vec::new();
    while let Some(word) = words.next() {
        if let Some((_, why)) = FILE_OPTIONS.iter().find(|(o, _)| *o == word) {
            return Err(OptionError::TouchesFiles {
                option: word.to_string(),
                why,
            });
        }
        let Some((short, _, arg, _)) = ALLOWED.iter().find(|(s, l, _, _)| *s == word || *l == word)
        else {
            return Err(OptionError::Unknown(word.to_string()));
        };
        args.push(short.to_string());
        let (value, what) = match arg {
            Arg::None => continue,
            Arg::Int(range) => (
                (words.next())
                    .and_then(|v| v.parse::<i64>().ok())
                    .filter(|v| range.contains(v))
                    .map(|v| v.to_string()),
                "a whole number in its range (e.g. -vs 32, -mcd 16)",
            ),
            Arg::OneOf(choices) => (
                (words.next())
                    .filter(|v| choices.contains(v))
                    .map(String::from),
                match *short {
                    "-fm" => "the value `def` (Faust's own fast math functions; other files would be read from disk)",
                    "-ftz" => "0, 1 or 2",
                    _ => "0 or 1",
                },
            ),
        };
        args.push(value.ok_or_else(|| OptionError::BadValue {
            option: short.to_string(),
            what,
        })?);
    }
    Ok(OptionSet {
        label: args.join(" "),
        args,
        ..OptionSet::default()
    })
}

/// The default option sets, each with what it tries: the scalar baseline and common vector
/// variants.
pub const PRESETS: &[(&str, &str)] = &[
    ("", "the scalar baseline"),
    ("-vec", "vector code, default vector size 32"),
    ("-vec -fun", "vector code, each loop in its own function"),
    ("-vec -fun -vs 32", "the same, vector size written out"),
    ("-vec -fun -vs 64", "larger vectors"),
    ("-vec -fun -vs 128", "larger vectors still"),
    (
        "-vec -omp",
        "OpenMP (refused by the LLVM backend: reported as unsupported)",
    ),
    (
        "-vec -fun -vs 64 -dfs -mcd 32",
        "deep-first scheduling, longer delays copied",
    ),
];

/// The presets, parsed.
pub fn presets() -> Vec<OptionSet> {
    PRESETS
        .iter()
        .map(|(p, _)| parse_option_set(p).expect("presets are valid"))
        .collect()
}

/// Every accepted option: short form, long form, whether it takes a value, meaning.
pub fn accepted() -> impl Iterator<Item = (&'static str, &'static str, bool, &'static str)> {
    ALLOWED
        .iter()
        .map(|(short, long, arg, meaning)| (*short, *long, !matches!(arg, Arg::None), *meaning))
}

/// Every refused option with why.
pub fn refused() -> impl Iterator<Item = (&'static str, &'static str)> {
    FILE_OPTIONS.iter().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let set = parse_option_set("--vectorize -fun -vs 64").unwrap();
        assert_eq!(set.args, ["-vec", "-fun", "-vs", "64"]);
        assert_eq!(set.label, "-vec -fun -vs 64");
        assert!(!set.is_scalar());
        assert!(parse_option_set("").unwrap().is_scalar());
        assert_eq!(parse_option_set("").unwrap().display(), "(scalar)");
    }

    #[test]
    fn refuses_unknown_and_file_options() {
        assert!(
            matches!(parse_option_set("-bogus"), Err(OptionError::Unknown(o)) if o == "-bogus")
        );
        for o in [
            "-o out.ll",
            "-O /tmp",
            "-svg",
            "-json",
            "-xml",
            "-mdoc",
            "-I /etc",
            "-A /etc",
            "-a x.cpp",
        ] {
            let err = parse_option_set(o).unwrap_err();
            assert!(
                matches!(err, OptionError::TouchesFiles { .. }),
                "{o}: {err}"
            );
            assert!(err
                .to_string()
                .contains("refuses options that read or write files"));
        }
    }

    #[test]
    fn checks_values() {
        assert!(parse_option_set("-vs").is_err());
        assert!(parse_option_set("-vs 0").is_err());
        assert!(parse_option_set("-vs x").is_err());
        assert!(parse_option_set("-fm /etc/passwd").is_err());
        assert!(parse_option_set("-ftz 3").is_err());
        assert_eq!(
            parse_option_set("-fm def -ftz 2").unwrap().args,
            ["-fm", "def", "-ftz", "2"]
        );
    }

    #[test]
    fn presets_are_the_designs() {
        let p = presets();
        assert_eq!(p.len(), 8);
        assert!(p[0].is_scalar());
        assert_eq!(p[7].label, "-vec -fun -vs 64 -dfs -mcd 32");
    }
}
