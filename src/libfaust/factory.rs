//! Compiled DSP factories.

use super::strings::{take_string_array, FaustString};
use super::ui;
use super::{
    compiler_lock, fast_math_available, Dsp, DspFactory, FaustError, Instance, LibFaust, Target,
};
use crate::dsp::Control;
use crate::options::{OptionSet, Precision};
use serde::{Deserialize, Serialize};
use std::ffi::{c_char, c_void, CString};
use std::path::PathBuf;
use std::sync::Arc;

/// Where the Faust code comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DspSource {
    /// Code in memory; `name` names it in error messages.
    Code { name: String, code: String },
    /// A `.dsp` file; its `import`s resolve next to it.
    File { path: PathBuf },
}

/// Owns an `llvm_dsp_factory*`; deleted when the last [`Factory`] or [`Instance`] using it drops.
pub(crate) struct FactoryHandle {
    pub(crate) lib: &'static LibFaust,
    pub(crate) ptr: *mut faust_ffi::LlvmDspFactory,
    pub(crate) precision: Precision,
}

// SAFETY: a factory is a heap object that libfaust does not tie to the creating thread; every
// call on it that touches libfaust's global state (delete, instance creation, code export) takes
// the process-wide compiler lock.
unsafe impl Send for FactoryHandle {}
// SAFETY: as for Send: shared use only reads through calls that take the compiler lock.
unsafe impl Sync for FactoryHandle {}

impl Drop for FactoryHandle {
    fn drop(&mut self) {
        let _guard = compiler_lock();
        // SAFETY: `ptr` came from a successful create call and is deleted exactly once, here,
        // after every instance (which holds an Arc to this handle) is gone.
        unsafe { (self.lib.api.delete_factory)(self.ptr) };
    }
}

/// A compiled DSP: JIT-compiled code from which instances are made.
#[derive(Clone)]
pub struct Factory {
    pub(crate) handle: Arc<FactoryHandle>,
}

impl Factory {
    /// Compiles `source` with the option set `options` for `target` at LLVM's highest
    /// optimisation level.
    pub fn compile(
        source: &DspSource,
        options: &OptionSet,
        target: Target,
    ) -> Result<Factory, FaustError> {
        let lib = LibFaust::get()?;
        if options.fast_math() && !fast_math_available() {
            return Err(FaustError::FastMathUnavailable);
        }
        let target = c_string(&target.llvm(lib), "the target")?;
        let ptr = compile_call(
            source,
            options,
            |name, code, argc, argv, error| {
                // SAFETY: see `compile_call`; the target is a live string (empty: the host CPU).
                unsafe {
                    (lib.api.create_factory_from_string)(
                        name,
                        code,
                        argc,
                        argv,
                        target.as_ptr(),
                        error,
                        -1,
                    )
                }
            },
            |file, argc, argv, error| {
                // SAFETY: as above.
                unsafe {
                    (lib.api.create_factory_from_file)(file, argc, argv, target.as_ptr(), error, -1)
                }
            },
        )?;
        Ok(Factory {
            handle: Arc::new(FactoryHandle {
                lib,
                ptr,
                precision: options.precision(),
            }),
        })
    }

    /// Loads a factory from machine code written by [`Factory::machine_code`] (same libfaust
    /// and CPU), without compiling: about a millisecond instead of the compile time.
    /// `options` are the option set the code was made with (it gives its precision).
    pub fn from_machine_code(code: &str, options: &OptionSet) -> Result<Factory, FaustError> {
        let lib = LibFaust::get()?;
        if options.fast_math() && !fast_math_available() {
            return Err(FaustError::FastMathUnavailable);
        }
        let code = c_string(code, "the machine code")?;
        let target = CString::default();
        let mut error = vec![0 as c_char; faust_ffi::ERROR_MSG_LEN];
        let ptr = {
            let _guard = compiler_lock();
            // SAFETY: live NUL-terminated strings, a 4096-byte error buffer, arguments in the
            // order the library implements (see faust-ffi); the compiler lock is held.
            unsafe {
                (lib.api.read_factory_from_machine)(
                    code.as_ptr(),
                    target.as_ptr(),
                    error.as_mut_ptr(),
                )
            }
        };
        if ptr.is_null() {
            return Err(FaustError::machine_code(error_text(&error)));
        }
        Ok(Factory {
            handle: Arc::new(FactoryHandle {
                lib,
                ptr,
                precision: options.precision(),
            }),
        })
    }

    /// The compiled code as text, for [`Factory::from_machine_code`] (~100 KB for freeverb).
    pub fn machine_code(&self) -> String {
        let api = &self.handle.lib.api;
        let target = CString::default();
        let _guard = compiler_lock();
        // SAFETY: the factory is live; the returned string is ours to free (llvm-dsp-c.h).
        unsafe {
            FaustString::take_text(
                api,
                (api.write_factory_to_machine)(self.handle.ptr, target.as_ptr()),
            )
        }
    }

    /// The LLVM IR of the compiled code as text (`writeCDSPFactoryToIR`), after libfaust's
    /// optimisations.
    pub fn llvm_ir(&self) -> String {
        self.string_call(self.handle.lib.api.write_factory_to_ir)
    }

    /// The compiler's normalised option string (it drops `-fm` and `-ct`).
    pub fn compile_options(&self) -> String {
        self.string_call(self.handle.lib.api.get_compile_options)
    }

    /// The SHA-1 key libfaust gives this code and these options.
    pub fn sha_key(&self) -> String {
        self.string_call(self.handle.lib.api.get_sha_key)
    }

    /// The compiler's warnings for this program.
    pub fn warnings(&self) -> Vec<String> {
        let api = &self.handle.lib.api;
        let _guard = compiler_lock();
        // SAFETY: the factory is live; the returned array is ours to free (llvm-dsp-c.h).
        unsafe { take_string_array(api, (api.get_warning_messages)(self.handle.ptr)) }
    }

    fn string_call(
        &self,
        f: unsafe extern "C" fn(*mut faust_ffi::LlvmDspFactory) -> *mut c_char,
    ) -> String {
        let api = &self.handle.lib.api;
        let _guard = compiler_lock();
        // SAFETY: `f` is one of the factory getters that return a string the caller frees with
        // freeCMemory; the factory is live.
        unsafe { FaustString::take_text(api, f(self.handle.ptr)) }
    }
}

impl DspFactory for Factory {
    fn instance(&self, sample_rate: u32) -> Result<Instance, FaustError> {
        Instance::new(self.handle.precision, || {
            let api = &self.handle.lib.api;
            let ptr = {
                let _guard = compiler_lock();
                // SAFETY: the factory is live (we hold it); the compiler lock is held.
                unsafe { (api.create_instance)(self.handle.ptr) }
            };
            if ptr.is_null() {
                return Err(FaustError::Instance);
            }
            let dsp = LlvmDsp {
                factory: self.handle.clone(),
                ptr,
            };
            // SAFETY: `ptr` is a live instance.
            unsafe { (api.init_instance)(ptr, c_sample_rate(sample_rate)?) };
            Ok(Box::new(dsp))
        })
    }

    fn precision(&self) -> Precision {
        self.handle.precision
    }
}

/// Owns an `llvm_dsp*`; keeps its factory alive; deleted on drop.
struct LlvmDsp {
    factory: Arc<FactoryHandle>,
    ptr: *mut faust_ffi::LlvmDsp,
}

// SAFETY: an instance is a heap object of generated code with no tie to the creating thread,
// used by one thread at a time through `&mut self`.
unsafe impl Send for LlvmDsp {}

impl Dsp for LlvmDsp {
    fn inputs(&self) -> usize {
        // SAFETY: `ptr` is a live instance.
        unsafe { (self.factory.lib.api.get_num_inputs)(self.ptr) }.max(0) as usize
    }

    fn outputs(&self) -> usize {
        // SAFETY: `ptr` is a live instance.
        unsafe { (self.factory.lib.api.get_num_outputs)(self.ptr) }.max(0) as usize
    }

    fn controls(&mut self, precision: Precision) -> Vec<Control> {
        let (build, ptr) = (self.factory.lib.api.build_user_interface, self.ptr);
        // SAFETY: the instance is live and its FAUSTFLOAT is its factory's precision.
        unsafe { ui::collect(precision, |glue| build(ptr, glue)) }
    }

    unsafe fn compute(&mut self, frames: i32, inputs: *mut *mut c_void, outputs: *mut *mut c_void) {
        // SAFETY: the caller's contract; the instance is live.
        unsafe { (self.factory.lib.api.compute)(self.ptr, frames, inputs, outputs) }
    }
}

impl Drop for LlvmDsp {
    fn drop(&mut self) {
        // SAFETY: `ptr` is live and deleted once; the factory outlives it (we hold the Arc).
        unsafe { (self.factory.lib.api.delete_instance)(self.ptr) };
    }
}

/// A sample rate as the C API takes it.
pub(crate) fn c_sample_rate(sample_rate: u32) -> Result<i32, FaustError> {
    i32::try_from(sample_rate)
        .map_err(|_| FaustError::invalid_input(format!("sample rate {sample_rate} is too large")))
}

/// The pointers a libfaust compile function gets: the name (or file), `argc`/`argv`, and the
/// 4096-byte error buffer.
type Argv = *const *const c_char;

/// Calls one of libfaust's compile functions for `source` with `options` (plus `-I` the
/// file's directory): `from_string(name, code, argc, argv, error)` for code,
/// `from_file(path, argc, argv, error)` for a file, under the compiler lock. Every pointer they
/// get is live for the call; a null result is the compiler's error.
pub(crate) fn compile_call<T>(
    source: &DspSource,
    options: &OptionSet,
    from_string: impl FnOnce(*const c_char, *const c_char, i32, Argv, *mut c_char) -> *mut T,
    from_file: impl FnOnce(*const c_char, i32, Argv, *mut c_char) -> *mut T,
) -> Result<*mut T, FaustError> {
    compile_call_with(source, &options.args, from_string, from_file, |p| {
        !p.is_null()
    })
}

/// [`compile_call`] with the arguments given whole (e.g. with `-lang`) and `succeeded` to
/// tell a result from a failure.
pub(crate) fn compile_call_with<R>(
    source: &DspSource,
    arguments: &[String],
    from_string: impl FnOnce(*const c_char, *const c_char, i32, Argv, *mut c_char) -> R,
    from_file: impl FnOnce(*const c_char, i32, Argv, *mut c_char) -> R,
    succeeded: impl FnOnce(&R) -> bool,
) -> Result<R, FaustError> {
    let mut args = arguments.to_vec();
    if let DspSource::File { path } = source {
        // libfaust resolves imports from the process's directory; the faust command line
        // resolves them next to the file, as a user expects.
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            args.push("-I".into());
            args.push(dir.to_string_lossy().into_owned());
        }
    }
    let c_args = args
        .iter()
        .map(|a| c_string(a, "a compiler option"))
        .collect::<Result<Vec<_>, _>>()?;
    let argv: Vec<*const c_char> = c_args.iter().map(|a| a.as_ptr()).collect();
    let argc = argv.len() as i32;
    let mut error = vec![0 as c_char; faust_ffi::ERROR_MSG_LEN];
    let ptr = match source {
        DspSource::Code { name, code } => {
            let name = c_string(name, "the DSP name")?;
            let code = c_string(code, "the Faust code")?;
            let _guard = compiler_lock();
            from_string(
                name.as_ptr(),
                code.as_ptr(),
                argc,
                argv.as_ptr(),
                error.as_mut_ptr(),
            )
        }
        DspSource::File { path } => {
            let file = c_string(&path.to_string_lossy(), "the file path")?;
            let _guard = compiler_lock();
            from_file(file.as_ptr(), argc, argv.as_ptr(), error.as_mut_ptr())
        }
    };
    if !succeeded(&ptr) {
        return Err(FaustError::from_compiler_text(&error_text(&error)));
    }
    Ok(ptr)
}

pub(crate) fn c_string(text: &str, what: &str) -> Result<CString, FaustError> {
    CString::new(text).map_err(|_| FaustError::invalid_input(format!("{what} contains a NUL byte")))
}

pub(crate) fn error_text(buffer: &[c_char]) -> String {
    let bytes: Vec<u8> = buffer
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}
