//! The backends faustperf measures, each behind the same two steps: compile a program with an
//! option set into [`Code`] that can be cached and sent between processes, and load that code
//! into a [`DspFactory`] that the engines (`measure`, `realtime`) run like any other.

pub mod cpp;
pub mod wasm;

use crate::libfaust::{
    code_digest, stdlib, DspFactory, DspSource, Factory, FaustError, InterpFactory, Target,
};
use crate::options::{Backend, OptionSet};
pub use cpp::Cxx;
use serde::{Deserialize, Serialize};

/// Compiled code of one option set, as the cache stores it and workers exchange it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum Code {
    /// libfaust's LLVM machine code for this CPU (`writeCDSPFactoryToMachine`).
    Llvm { machine_code: String },
    /// libfaust's interpreter bytecode (FBC).
    Interp { bitcode: String },
    /// The shared object the C++ compiler built from Faust's C++, base64.
    Cpp { shared_object: String },
    /// The WebAssembly module precompiled by wasmtime for this CPU (base64), with Faust's JSON
    /// description of it.
    Wasm { module: String, json: String },
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

impl Code {
    /// Digest of the generated code alone (see [`code_digest`]): equal digests mean the same
    /// code, whatever the options said.
    pub fn digest(&self) -> String {
        match self {
            Code::Llvm { machine_code } => code_digest(machine_code),
            Code::Interp { bitcode } => code_digest(bitcode),
            Code::Cpp { shared_object } => code_digest(shared_object),
            Code::Wasm { module, .. } => code_digest(module),
        }
    }

    /// Loads the code (compiled on this machine, with this libfaust) for running.
    pub fn load(&self, options: &OptionSet) -> Result<Box<dyn DspFactory>, FaustError> {
        Ok(match self {
            Code::Llvm { machine_code } => {
                Box::new(Factory::from_machine_code(machine_code, options)?)
            }
            Code::Interp { bitcode } => Box::new(InterpFactory::from_bitcode(bitcode)?),
            Code::Cpp { shared_object } => {
                Box::new(cpp::SharedObject::load(shared_object, options.precision())?)
            }
            Code::Wasm { module, json } => {
                Box::new(wasm::WasmFactory::load(module, json, options)?)
            }
        })
    }
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
    if let Some(message) = options.unsupported() {
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

fn compile_once(
    source: &DspSource,
    options: &OptionSet,
    cxx: Option<&Cxx>,
    target: Target,
) -> Result<Compilation, FaustError> {
    let plain = |code: Code, factory: Box<dyn DspFactory>| Compilation {
        code,
        factory,
        normalized_options: String::new(),
        sha_key: String::new(),
        warnings: Vec::new(),
    };
    Ok(match options.backend {
        Backend::Llvm => {
            let factory = Factory::compile(source, options, target)?;
            Compilation {
                code: Code::Llvm {
                    machine_code: factory.machine_code(),
                },
                normalized_options: factory.compile_options(),
                sha_key: factory.sha_key(),
                warnings: factory.warnings(),
                factory: Box::new(factory),
            }
        }
        Backend::Interp => {
            let factory = InterpFactory::compile(source, options)?;
            plain(
                Code::Interp {
                    bitcode: factory.bitcode(),
                },
                Box::new(factory),
            )
        }
        Backend::Cpp => {
            let cxx = cxx.ok_or_else(|| FaustError::internal("no C++ compiler was given"))?;
            let code = cpp::build(source, options, cxx)?;
            let factory = code.load(options)?;
            plain(code, factory)
        }
        Backend::Wasm => {
            let code = wasm::build(source, options)?;
            let factory = code.load(options)?;
            plain(code, factory)
        }
    })
}
