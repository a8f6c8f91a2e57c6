//! Code that libfaust writes for other compilers and runtimes: C++ source, WebAssembly modules.

use super::factory::compile_call_with;
use super::{DspSource, FaustError, LibFaust};
use crate::options::OptionSet;
use std::ffi::CStr;
use std::path::Path;

/// Writes the C++ class Faust generates for `source` with `options` to `file` (which should be
/// in a directory private to the caller: libfaust writes it by name).
pub fn cpp(source: &DspSource, options: &OptionSet, file: &Path) -> Result<(), FaustError> {
    let api = &LibFaust::get()?.api;
    let mut args = options.args.clone();
    args.extend(["-lang", "cpp", "-o"].map(String::from));
    args.push(file.to_string_lossy().into_owned());
    compile_call_with(
        source,
        &args,
        // SAFETY: see `compile_call`.
        |name, code, argc, argv, error| unsafe {
            (api.generate_aux_files_from_string)(name, code, argc, argv, error)
        },
        // SAFETY: see `compile_call`.
        |path, argc, argv, error| unsafe {
            (api.generate_aux_files_from_file)(path, argc, argv, error)
        },
        |ok| *ok,
    )?;
    Ok(())
}

/// A WebAssembly module of `source` with `options` (its memory inside the module) and its
/// JSON description (which libfaust hands over inside a JavaScript helper,
/// `function getJSONmydsp() {return '…';}`).
pub fn wasm(source: &DspSource, options: &OptionSet) -> Result<(Vec<u8>, String), FaustError> {
    let api = &LibFaust::get()?.api;
    let module = compile_call_with(
        source,
        &options.args,
        // SAFETY: see `compile_call`.
        |name, code, argc, argv, error| unsafe {
            (api.create_wasm_from_string)(name, code, argc, argv, error, true)
        },
        // SAFETY: see `compile_call`.
        |path, argc, argv, error| unsafe {
            (api.create_wasm_from_file)(path, argc, argv, error, true)
        },
        |module| !module.is_null(),
    )?;
    // SAFETY: `module` is live until freed below; its code has `size` bytes and its helpers
    // are a NUL-terminated string.
    unsafe {
        let size = (api.get_wasm_module_size)(module).max(0) as usize;
        let bytes = std::slice::from_raw_parts((api.get_wasm_module)(module).cast::<u8>(), size);
        let code = bytes.to_vec();
        let helpers = CStr::from_ptr((api.get_wasm_helpers)(module))
            .to_string_lossy()
            .into_owned();
        (api.free_wasm_module)(module);
        let json = helpers
            .split_once("return '")
            .and_then(|(_, rest)| rest.split_once("';}"))
            .map(|(json, _)| json.to_string())
            .ok_or_else(|| {
                FaustError::machine_code("libfaust's WebAssembly helpers hold no JSON description")
            })?;
        Ok((code, json))
    }
}
