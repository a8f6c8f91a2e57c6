//! The backends faustperf measures, one file each, behind the same steps: refuse the options
//! it cannot run (`REFUSES`, `NEEDS`: checked before any compile, so such a set is listed as
//! unsupported, with why), compile a program with an option set into [`Code`] that can be
//! cached and sent between processes (`compile`), load that code into a [`DspFactory`] that
//! the engines (`measure`, `realtime`) run like any other (`load`), and say what its code
//! depends on besides the source, the options and libfaust, for the cache's key (`identity`).
//!
//! Adding a backend: a file here with those five items (see `llvm.rs`) and its line in
//! [`crate::every_backend!`].

use crate::dsp::{DspFactory, FaustError};
use crate::libfaust::{code_digest, stdlib, DspSource, Target};
use crate::options::{Backend, OptionSet};
pub use cpp::Cxx;
use serde::{Deserialize, Serialize};

/// Each backend's module, by its [`Backend`], from [`crate::every_backend!`]'s list.
macro_rules! registry {
    ($($backend:ident $module:ident $name:literal $doc:literal,)*) => {
        $(pub mod $module;)*

        /// The options `backend` refuses, with why.
        pub fn refuses(backend: Backend) -> &'static [(&'static str, &'static str)] {
            match backend { $(Backend::$backend => $module::REFUSES,)* }
        }

        /// The options `backend` runs only with two others, those, and why.
        fn needs(backend: Backend) -> &'static [(&'static str, [&'static str; 2], &'static str)] {
            match backend { $(Backend::$backend => $module::NEEDS,)* }
        }

        fn compile_once(
            source: &DspSource,
            options: &OptionSet,
            cxx: Option<&Cxx>,
            target: Target,
        ) -> Result<Compilation, FaustError> {
            match options.backend { $(Backend::$backend => $module::compile(source, options, cxx, target),)* }
        }

        impl Code {
            /// Loads the code (compiled on this machine, with this libfaust) for running.
            pub fn load(&self, options: &OptionSet) -> Result<Box<dyn DspFactory>, FaustError> {
                match self.backend { $(Backend::$backend => $module::load(self, options),)* }
            }
        }

        /// What code compiled on `backend` depends on besides the source, the options and
        /// libfaust (`cxx`: the C++ compiler of `cpp` sets).
        pub fn identity(backend: Backend, cxx: Option<&Cxx>) -> String {
            match backend { $(Backend::$backend => $module::identity(cxx),)* }
        }
    };
}

crate::every_backend!(registry);

/// Compiled code of one option set, as the cache stores it and workers exchange it: its
/// backend's parts as text (LLVM: machine code; interp: bytecode; cpp: the shared object,
/// base64; wasm: the module precompiled for this CPU, base64, and Faust's JSON description).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Code {
    pub backend: Backend,
    pub parts: Vec<String>,
}

/// What compiling told beyond the code.
pub struct Compilation {
    pub code: Code,
    pub factory: Box<dyn DspFactory>,
    /// libfaust's normalised option string (LLVM only: the others do not give one).
    pub normalized_options: String,
    /// libfaust's SHA key of code and options (LLVM only).
    pub sha_key: String,
    pub warnings: Vec<String>,
}

impl Compilation {
    /// Code and its factory, with nothing more to tell.
    fn of(code: Code, factory: Box<dyn DspFactory>) -> Compilation {
        Compilation {
            code,
            factory,
            normalized_options: String::new(),
            sha_key: String::new(),
            warnings: Vec::new(),
        }
    }
}

impl Code {
    /// Digest of the generated code alone (see [`code_digest`]; its first part): equal digests
    /// mean the same code, whatever the options said.
    pub fn digest(&self) -> String {
        code_digest(self.parts.first().map_or("", String::as_str))
    }
}

/// Why `set`'s backend cannot compile or run it, before any compile: the set is then listed as
/// unsupported rather than failed; `None` for a forced set.
pub fn unsupported(set: &OptionSet) -> Option<String> {
    if set.forced {
        return None;
    }
    let backend = set.backend;
    let refused = (set.args.iter()).find_map(|a| refuses(backend).iter().find(|(o, _)| o == a));
    if let Some((option, why)) = refused {
        return Some(format!(
            "`{option}` is not supported by the {backend} backend: {why}"
        ));
    }
    let has = |option: &str| set.args.iter().any(|a| a == option);
    needs(backend).iter().find_map(|(option, with, why)| {
        (has(option) && !set.args.windows(2).any(|w| w == with)).then(|| {
            format!(
                "`{option}` is supported by the {backend} backend {why}; try `{} {}`",
                set.label,
                with.join(" ")
            )
        })
    })
}

/// The backends that refuse `option` (a short form) or run it only with others, each with why.
pub fn refused_by(option: &str) -> Vec<(Backend, &'static str)> {
    (Backend::ALL.iter().copied())
        .flat_map(|b| {
            let refused = refuses(b).iter().filter(|(o, _)| *o == option);
            let needing = needs(b).iter().filter(|(o, _, _)| *o == option);
            (refused.map(move |(_, why)| (b, *why)))
                .chain(needing.map(move |(_, _, why)| (b, *why)))
        })
        .collect()
}

/// What `--backend` says in `--help`: each backend and the options it refuses.
pub fn backends_help() -> String {
    let mut text = String::from(
        "llvm (libfaust's JIT), cpp (Faust's C++ built by the C++ compiler), wasm (Faust's \
         WebAssembly run by wasmtime), interp (libfaust's interpreter); several separated by \
         commas, or all. A set with an option its backend cannot run is listed as unsupported, \
         with the reason, and not compiled:",
    );
    for &backend in Backend::ALL {
        let refused = refuses(backend).iter().map(|(o, _)| o.to_string());
        let needing =
            (needs(backend).iter()).map(|(o, with, _)| format!("{o} without {}", with.join(" ")));
        let all: Vec<String> = refused.chain(needing).collect();
        text.push_str(&format!("\n  {backend}: {}", all.join(" ")));
    }
    text
}

/// Compiles `source` with `options` on the set's backend (`cxx` builds C++), with the standard
/// library's import added when the code needs it (the flag says so; see
/// [`stdlib::compile_or_with_stdlib`]). A set the backend does not support fails before any
/// compile.
pub fn compile(
    source: &DspSource,
    options: &OptionSet,
    cxx: Option<&Cxx>,
    target: Target,
) -> Result<(Compilation, bool), FaustError> {
    if let Some(message) = unsupported(options) {
        return Err(FaustError::Unsupported { message });
    }
    if target != Target::Host && options.backend != Backend::Llvm {
        return Err(FaustError::Unsupported {
            message: format!(
                "instructions are counted in LLVM code only, not on the {} backend",
                options.backend.name()
            ),
        });
    }
    stdlib::compile_or_with_stdlib(source, |source| compile_once(source, options, cxx, target))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::parse_option_set;

    /// Each backend's refusals, as its own file says them, reach the checks before compiling,
    /// `--help` and the MCP option list.
    #[test]
    fn refusals_come_from_each_backends_file() {
        let on = |text: &str, backend| parse_option_set(text).unwrap().on(backend);
        let omp = unsupported(&on("-vec -omp", Backend::Llvm)).unwrap();
        assert!(
            omp.starts_with("`-omp` is not supported by the llvm backend: libfaust refuses OpenMP")
        );
        assert_eq!(unsupported(&on("-vec -omp", Backend::Cpp)), None);
        let interp = unsupported(&on("-vec", Backend::Interp)).unwrap();
        assert!(interp.ends_with("try `-vec -lv 1`"), "{interp}");
        assert_eq!(unsupported(&on("-vec -lv 1", Backend::Interp)), None);
        let vec: Vec<Backend> = refused_by("-vec").into_iter().map(|(b, _)| b).collect();
        assert_eq!(vec, [Backend::Wasm, Backend::Interp]);
        let help = backends_help();
        assert!(
            help.contains("\n  interp: ") && help.contains("-vec without -lv 1"),
            "{help}"
        );
        assert_eq!(identity(Backend::Llvm, None), "llvm");
    }

    /// Code a backend cannot read is an error, not a panic.
    #[test]
    fn code_of_another_shape_is_refused() {
        let code = Code {
            backend: Backend::Wasm,
            parts: vec!["module only".into()],
        };
        let Err(e) = code.load(&OptionSet::scalar()) else {
            panic!("loaded");
        };
        assert!(e.to_string().contains("a module and its JSON"), "{e}");
        assert!(llvm::machine_code(&code).is_err());
    }
}
