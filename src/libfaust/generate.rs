//! Code that libfaust generates for other runtimes: WebAssembly modules.

use super::factory::compile_call_with;
use super::{DspSource, FaustError, LibFaust};
use crate::options::OptionSet;
use std::ffi::CStr;

/// A WebAssembly module of `source` with `options` (its memory inside the module) and its
/// JSON description (which libfaust hands over inside a JavaScript helper,
/// `function getJSONmydsp() {return '…';}`, with `'` escaped).
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
            // A JavaScript string: its quotes are escaped, which JSON does not know.
            .map(|(json, _)| json.replace("\\'", "'"))
            .ok_or_else(|| {
                FaustError::machine_code("libfaust's WebAssembly helpers hold no JSON description")
            })?;
        Ok((code, json))
    }
}
