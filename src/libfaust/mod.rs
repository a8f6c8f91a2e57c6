//! Safe wrappers over libfaust: the loaded library, LLVM and interpreter factories, the C++ and
//! WebAssembly it generates, instances of any backend, controls.
//!
//! Every call that enters the Faust compiler or its factory table goes through [`compiler_lock`]:
//! libfaust 2.54.9 corrupts memory when two threads compile at once. `compute()` on distinct
//! instances needs no lock.

mod digest;
mod factory;
pub mod generate;
pub mod imports;
mod interp;
pub mod stdlib;
mod strings;
pub(crate) mod ui;

pub use crate::dsp::{AudioBuffers, BoundInstance, Dsp, DspFactory, FaustError, Instance};
pub use crate::dsp::{Control, ControlKind};
pub use digest::code_digest;
pub(crate) use factory::c_sample_rate;
pub use factory::{DspSource, Factory};
pub use interp::InterpFactory;

use serde::{Deserialize, Serialize};
use std::ffi::CStr;
use std::sync::{Mutex, MutexGuard, OnceLock};

/// The compiler the numbers come from, as every report states it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Toolchain {
    /// libfaust's version, e.g. `2.54.9`.
    pub libfaust_version: String,
    /// The LLVM target libfaust compiles for, e.g. `x86_64-pc-linux-gnu:znver3`.
    pub machine_target: String,
}

impl Toolchain {
    /// This process's libfaust (empty when it cannot be loaded).
    pub fn here() -> Toolchain {
        let lib = LibFaust::get().ok();
        Toolchain {
            libfaust_version: lib.map(|l| l.version().to_string()).unwrap_or_default(),
            machine_target: lib
                .map(|l| l.machine_target().to_string())
                .unwrap_or_default(),
        }
    }
}

/// The CPU LLVM code is compiled for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// This machine's CPU, as LLVM recognises it (what is measured).
    #[default]
    Host,
    /// One fixed CPU of this architecture (`x86-64-v3`, AVX2, on x86-64): the same code on
    /// every machine, and none of the instructions (AVX-512) valgrind cannot run. Instruction
    /// counts are of this code.
    Portable,
}

impl Target {
    /// The target string libfaust takes: empty for the host, else `TRIPLE:CPU`.
    pub fn llvm(self, lib: &LibFaust) -> String {
        match self {
            Target::Host => String::new(),
            Target::Portable => {
                let triple = lib.machine_target().split(':').next().unwrap_or_default();
                let cpu = if triple.starts_with("x86_64") {
                    "x86-64-v3"
                } else {
                    "generic"
                };
                format!("{triple}:{cpu}")
            }
        }
    }
}

/// The loaded libfaust, with facts read once at load.
pub struct LibFaust {
    pub(crate) api: faust_ffi::Api,
    version: String,
    machine_target: String,
}

static LIBFAUST: OnceLock<Result<LibFaust, FaustError>> = OnceLock::new();
static COMPILER: Mutex<()> = Mutex::new(());

/// Serialises every call into the Faust compiler in this process (libfaust is not thread-safe).
pub(crate) fn compiler_lock() -> MutexGuard<'static, ()> {
    // A panic while holding the lock leaves libfaust as it was: the lock itself guards no data.
    COMPILER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl LibFaust {
    /// The process's libfaust, loaded on first use (`FAUST_LIB`, then the usual library names).
    pub fn get() -> Result<&'static LibFaust, FaustError> {
        LIBFAUST
            .get_or_init(|| {
                let api = faust_ffi::Api::load().map_err(|e| FaustError::missing(e.to_string()))?;
                // SAFETY: both functions take no arguments; the version is a static string, the
                // target a string we own and free with freeCMemory.
                let (version, machine_target) = unsafe {
                    let version = CStr::from_ptr((api.get_lib_faust_version)())
                        .to_string_lossy()
                        .into_owned();
                    let target =
                        strings::FaustString::take_text(&api, (api.get_dsp_machine_target)());
                    (version, target)
                };
                Ok(LibFaust {
                    api,
                    version,
                    machine_target,
                })
            })
            .as_ref()
            .map_err(FaustError::clone)
    }

    /// libfaust's version, e.g. `2.54.9`.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The LLVM target libfaust compiles for on this machine, e.g. `x86_64-pc-linux-gnu:znver3`.
    pub fn machine_target(&self) -> &str {
        &self.machine_target
    }

    /// Where libfaust was loaded from.
    pub fn path(&self) -> &std::path::Path {
        &self.api.path
    }
}

/// Whether this process exports Faust's `fast_*` math functions, which code compiled with `-fm`
/// calls. The `faustperf` binary does (its build links `faust/dsp/fastmath.cpp`); another host
/// process may not, and the JIT then crashes at instance creation.
pub fn fast_math_available() -> bool {
    #[cfg(unix)]
    {
        // SAFETY: dlsym with RTLD_DEFAULT and a NUL-terminated name only reads the symbol tables.
        unsafe { !libc::dlsym(libc::RTLD_DEFAULT, c"fast_expf".as_ptr()).is_null() }
    }
    #[cfg(not(unix))]
    {
        false
    }
}
