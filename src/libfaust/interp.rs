//! libfaust's interpreter backend: factories compiled to FBC bytecode, run by Faust's own
//! interpreter (what hosts use where JIT is not allowed).

use super::factory::{c_sample_rate, c_string, compile_call, error_text};
use super::strings::FaustString;
use super::ui;
use super::{compiler_lock, Dsp, DspFactory, DspSource, FaustError, Instance, LibFaust};
use crate::dsp::Control;
use crate::options::{OptionSet, Precision};
use std::ffi::{c_char, c_void};
use std::sync::Arc;

/// Owns an `interpreter_dsp_factory*`; deleted when the last factory or instance drops.
struct Handle {
    lib: &'static LibFaust,
    ptr: *mut faust_ffi::InterpDspFactory,
}

// SAFETY: as for LLVM factories: a heap object used under the compiler lock.
unsafe impl Send for Handle {}
// SAFETY: as for Send.
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        let _guard = compiler_lock();
        // SAFETY: created by a successful call, deleted once, after its instances.
        unsafe { (self.lib.api.delete_interp_factory)(self.ptr) };
    }
}

/// A program compiled for Faust's interpreter.
#[derive(Clone)]
pub struct InterpFactory {
    handle: Arc<Handle>,
}

impl InterpFactory {
    /// Compiles `source` with `options` to interpreter bytecode.
    pub fn compile(source: &DspSource, options: &OptionSet) -> Result<InterpFactory, FaustError> {
        let lib = LibFaust::get()?;
        let api = &lib.api;
        let ptr = compile_call(
            source,
            options,
            // SAFETY: see `compile_call`.
            |name, code, argc, argv, error| unsafe {
                (api.create_interp_factory_from_string)(name, code, argc, argv, error)
            },
            // SAFETY: see `compile_call`.
            |file, argc, argv, error| unsafe {
                (api.create_interp_factory_from_file)(file, argc, argv, error)
            },
        )?;
        Ok(InterpFactory {
            handle: Arc::new(Handle { lib, ptr }),
        })
    }

    /// Reads bytecode written by [`InterpFactory::bitcode`].
    pub fn from_bitcode(bitcode: &str) -> Result<InterpFactory, FaustError> {
        let lib = LibFaust::get()?;
        let text = c_string(bitcode, "the interpreter bytecode")?;
        let mut error = vec![0 as c_char; faust_ffi::ERROR_MSG_LEN];
        let ptr = {
            let _guard = compiler_lock();
            // SAFETY: a live NUL-terminated string and a 4096-byte error buffer.
            unsafe { (lib.api.read_interp_factory_from_bitcode)(text.as_ptr(), error.as_mut_ptr()) }
        };
        if ptr.is_null() {
            return Err(FaustError::machine_code(error_text(&error)));
        }
        Ok(InterpFactory {
            handle: Arc::new(Handle { lib, ptr }),
        })
    }

    /// The factory as bytecode text.
    pub fn bitcode(&self) -> String {
        let api = &self.handle.lib.api;
        let _guard = compiler_lock();
        // SAFETY: the factory is live; the string is ours to free.
        unsafe {
            FaustString::take_text(api, (api.write_interp_factory_to_bitcode)(self.handle.ptr))
        }
    }
}

impl DspFactory for InterpFactory {
    fn instance(&self, sample_rate: u32) -> Result<Instance, FaustError> {
        Instance::new(Precision::Single, || {
            let api = &self.handle.lib.api;
            let ptr = {
                let _guard = compiler_lock();
                // SAFETY: the factory is live; the compiler lock is held.
                unsafe { (api.create_interp_instance)(self.handle.ptr) }
            };
            if ptr.is_null() {
                return Err(FaustError::Instance);
            }
            let dsp = InterpDsp {
                factory: self.handle.clone(),
                ptr,
            };
            // SAFETY: `ptr` is a live instance.
            unsafe { (api.init_interp_instance)(ptr, c_sample_rate(sample_rate)?) };
            Ok(Box::new(dsp))
        })
    }

    fn precision(&self) -> Precision {
        Precision::Single
    }
}

/// Owns an `interpreter_dsp*`; keeps its factory alive.
struct InterpDsp {
    factory: Arc<Handle>,
    ptr: *mut faust_ffi::InterpDsp,
}

// SAFETY: used by one thread at a time through `&mut self`.
unsafe impl Send for InterpDsp {}

impl Dsp for InterpDsp {
    fn inputs(&self) -> usize {
        // SAFETY: `ptr` is a live instance.
        unsafe { (self.factory.lib.api.get_interp_num_inputs)(self.ptr) }.max(0) as usize
    }

    fn outputs(&self) -> usize {
        // SAFETY: `ptr` is a live instance.
        unsafe { (self.factory.lib.api.get_interp_num_outputs)(self.ptr) }.max(0) as usize
    }

    fn controls(&mut self, precision: Precision) -> Vec<Control> {
        let (build, ptr) = (self.factory.lib.api.build_interp_user_interface, self.ptr);
        // SAFETY: the instance is live; the interpreter's FAUSTFLOAT is float.
        unsafe { ui::collect(precision, |glue| build(ptr, glue)) }
    }

    unsafe fn compute(&mut self, frames: i32, inputs: *mut *mut c_void, outputs: *mut *mut c_void) {
        // SAFETY: the caller's contract; the instance is live.
        unsafe { (self.factory.lib.api.compute_interp)(self.ptr, frames, inputs, outputs) }
    }
}

impl Drop for InterpDsp {
    fn drop(&mut self) {
        // SAFETY: live, deleted once; the factory outlives it.
        unsafe { (self.factory.lib.api.delete_interp_instance)(self.ptr) };
    }
}
