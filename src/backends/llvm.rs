//! libfaust's LLVM JIT, in this process: machine code for this CPU (or the counting target).

use super::{Code, Compilation, Cxx};
use crate::libfaust::{DspSource, Factory, Target};
use crate::dsp::{DspFactory, FaustError};
use crate::options::{Backend, OptionSet};

/// Options this backend refuses (libfaust 2.54.9 and the C++ compiler, measured on every
/// fixture; see `each_backend_refuses_what_it_cannot_run_before_compiling` in
/// `tests/backends.rs`), with why.
pub const REFUSES: &[(&str, &str)] = &[
    ("-omp", "libfaust refuses OpenMP for LLVM (\"OpenMP not supported for LLVM\"); measure it with --backend cpp"),
    ("-sch", "libfaust's LLVM backend generates broken code for the scheduler (\"Broken function found\")"),
    ("-mem", "libfaust allows a custom memory manager only for C++"),
    ("-os", "libfaust makes one-sample code only for C, C++ and Cmajor"),
    ("-quad", "libfaust refuses quad precision for LLVM"),
];

/// Options it runs only with others: none.
pub const NEEDS: &[(&str, [&str; 2], &str)] = &[];

pub fn compile(
    source: &DspSource,
    options: &OptionSet,
    _: Option<&Cxx>,
    target: Target,
) -> Result<Compilation, FaustError> {
    let factory = Factory::compile(source, options, target)?;
    Ok(Compilation {
        code: Code {
            backend: Backend::Llvm,
            parts: vec![factory.machine_code()],
        },
        normalized_options: factory.compile_options(),
        sha_key: factory.sha_key(),
        warnings: factory.warnings(),
        factory: Box::new(factory),
    })
}

pub fn load(code: &Code, options: &OptionSet) -> Result<Box<dyn DspFactory>, FaustError> {
    Ok(Box::new(Factory::from_machine_code(machine_code(code)?, options)?))
}

/// What the code depends on besides the source, the options and libfaust: nothing.
pub fn identity(_: Option<&Cxx>) -> String {
    Backend::Llvm.name().into()
}

/// libfaust's machine code of an LLVM set (`writeCDSPFactoryToMachine`), or why there is none.
pub fn machine_code(code: &Code) -> Result<&str, FaustError> {
    match (code.backend, &code.parts[..]) {
        (Backend::Llvm, [machine_code]) => Ok(machine_code),
        _ => Err(FaustError::machine_code(format!(
            "{} code is not LLVM machine code",
            code.backend
        ))),
    }
}
