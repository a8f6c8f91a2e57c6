//! libfaust's interpreter (FBC bytecode), for hosts where JIT is not allowed; its factories
//! are libfaust's ([`InterpFactory`]).

use super::{Code, Compilation, Cxx};
use crate::libfaust::{DspSource, InterpFactory, Target};
use crate::dsp::{DspFactory, FaustError};
use crate::options::{Backend, OptionSet};

/// Options this backend refuses (libfaust 2.54.9 and the C++ compiler, measured on every
/// fixture; see `each_backend_refuses_what_it_cannot_run_before_compiling` in
/// `tests/backends.rs`), with why.
pub const REFUSES: &[(&str, &str)] = &[
    ("-omp", "libfaust refuses OpenMP for the interpreter"),
    ("-sch", "libfaust refuses the scheduler for the interpreter"),
    (
        "-fun",
        "libfaust makes one function per loop only for C, C++ and LLVM",
    ),
    (
        "-fm",
        "libfaust allows fast math only for C, C++, LLVM and WebAssembly text",
    ),
    ("-cm", "libfaust refuses compute-mix for the interpreter"),
    (
        "-double",
        "libfaust's C API runs the interpreter with float samples only",
    ),
    (
        "-mem",
        "libfaust allows a custom memory manager only for C++",
    ),
    (
        "-os",
        "libfaust makes one-sample code only for C, C++ and Cmajor",
    ),
    (
        "-quad",
        "libfaust refuses quad precision for the interpreter",
    ),
];

/// Options it runs only with others: `-vec` only with `-lv 1`.
pub const NEEDS: &[(&str, [&str; 2], &str)] = &[(
    "-vec",
    ["-lv", "1"],
    "only with -lv 1: libfaust refuses -lv 0 (\"Vector mode with -lv 0 not supported\")",
)];

pub fn compile(
    source: &DspSource,
    options: &OptionSet,
    _: Option<&Cxx>,
    _: Target,
) -> Result<Compilation, FaustError> {
    let factory = InterpFactory::compile(source, options)?;
    let code = Code {
        backend: Backend::Interp,
        parts: vec![factory.bitcode()],
    };
    Ok(Compilation::of(code, Box::new(factory)))
}

pub fn load(code: &Code, _: &OptionSet) -> Result<Box<dyn DspFactory>, FaustError> {
    let [bitcode] = &code.parts[..] else {
        return Err(FaustError::machine_code("interpreter code is one bytecode"));
    };
    Ok(Box::new(InterpFactory::from_bitcode(bitcode)?))
}

/// What the code depends on besides the source, the options and libfaust: nothing.
pub fn identity(_: Option<&Cxx>) -> String {
    Backend::Interp.name().into()
}
