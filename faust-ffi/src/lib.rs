//! Raw declarations of the libfaust C API (`faust/dsp/llvm-dsp-c.h`, `faust/gui/CInterface.h`,
//! `faust/dsp/libfaust-c.h`, `faust/dsp/interpreter-dsp-c.h`, and the WebAssembly functions of
//! Faust's `compiler/generator/wasm/wasm-dsp-aux.cpp`, which no installed header declares) and
//! the code that loads libfaust at run time.
//!
//! Nothing here is safe to call on its own: the safe wrappers live in the `faustperf` crate. This
//! crate only knows the C signatures, the `#[repr(C)]` glue structs and where libfaust is found.
//!
//! Known defects of libfaust 2.54.9 that show in the declarations:
//! - `readCDSPFactoryFromMachine` is declared `(code, error_msg, target)` in the header but the
//!   library implements `(code, target, error_msg)`; [`Api::read_factory_from_machine`] binds the
//!   implementation's order.
//! - With `-double`, `FAUSTFLOAT` is `double` in the generated code: compute buffers are `f64` and the
//!   UI callbacks receive `f64` values and zones. [`UiGlue`] is generic over the sample type so that
//!   each precision gets callbacks of the right ABI.

use std::ffi::{c_char, c_int, c_void};
use std::path::PathBuf;

/// Opaque `llvm_dsp_factory`.
#[repr(C)]
pub struct LlvmDspFactory {
    _private: [u8; 0],
}

/// Opaque `llvm_dsp` (one DSP instance).
#[repr(C)]
pub struct LlvmDsp {
    _private: [u8; 0],
}

/// Opaque `interpreter_dsp_factory`.
#[repr(C)]
pub struct InterpDspFactory {
    _private: [u8; 0],
}

/// Opaque `interpreter_dsp` (one DSP instance run by Faust's interpreter).
#[repr(C)]
pub struct InterpDsp {
    _private: [u8; 0],
}

/// Opaque `WasmModule`: a WebAssembly module and its JSON description.
#[repr(C)]
pub struct WasmModule {
    _private: [u8; 0],
}

/// Size of the `error_msg` buffer libfaust writes compile errors into (the header asks for 4096).
pub const ERROR_MSG_LEN: usize = 4096;

/// `openTabBox` / `openHorizontalBox` / `openVerticalBox`.
pub type OpenBoxFn = unsafe extern "C" fn(ui: *mut c_void, label: *const c_char);
/// `closeBox`.
pub type CloseBoxFn = unsafe extern "C" fn(ui: *mut c_void);
/// `addButton` / `addCheckButton`.
pub type AddButtonFn<T> = unsafe extern "C" fn(ui: *mut c_void, label: *const c_char, zone: *mut T);
/// `addVerticalSlider` / `addHorizontalSlider` / `addNumEntry`.
pub type AddSliderFn<T> = unsafe extern "C" fn(
    ui: *mut c_void,
    label: *const c_char,
    zone: *mut T,
    init: T,
    min: T,
    max: T,
    step: T,
);
/// `addHorizontalBargraph` / `addVerticalBargraph`.
pub type AddBargraphFn<T> =
    unsafe extern "C" fn(ui: *mut c_void, label: *const c_char, zone: *mut T, min: T, max: T);
/// `addSoundfile`.
pub type AddSoundfileFn = unsafe extern "C" fn(
    ui: *mut c_void,
    label: *const c_char,
    url: *const c_char,
    sf_zone: *mut *mut c_void,
);
/// `declare` (UI metadata on a zone).
pub type DeclareFn<T> =
    unsafe extern "C" fn(ui: *mut c_void, zone: *mut T, key: *const c_char, value: *const c_char);
/// `metaDeclareFun`.
pub type MetaDeclareFn =
    unsafe extern "C" fn(meta: *mut c_void, key: *const c_char, value: *const c_char);

/// `UIGlue`: the callbacks `buildUserInterfaceCDSPInstance` calls for every control. `T` is the
/// DSP's `FAUSTFLOAT`: `f32`, or `f64` for code compiled with `-double`.
#[repr(C)]
pub struct UiGlue<T> {
    pub ui_interface: *mut c_void,
    pub open_tab_box: OpenBoxFn,
    pub open_horizontal_box: OpenBoxFn,
    pub open_vertical_box: OpenBoxFn,
    pub close_box: CloseBoxFn,
    pub add_button: AddButtonFn<T>,
    pub add_check_button: AddButtonFn<T>,
    pub add_vertical_slider: AddSliderFn<T>,
    pub add_horizontal_slider: AddSliderFn<T>,
    pub add_num_entry: AddSliderFn<T>,
    pub add_horizontal_bargraph: AddBargraphFn<T>,
    pub add_vertical_bargraph: AddBargraphFn<T>,
    pub add_soundfile: AddSoundfileFn,
    pub declare: DeclareFn<T>,
}

/// `MetaGlue`: the callback `metadataCDSPInstance` calls for every declared metadata.
#[repr(C)]
pub struct MetaGlue {
    pub meta_interface: *mut c_void,
    pub declare: MetaDeclareFn,
}

/// The libfaust functions faustperf uses, resolved from a loaded library.
///
/// The function pointers stay valid as long as `_library` is loaded, which is as long as this
/// struct lives: they cannot be copied out of it without `unsafe` code in the caller.
pub struct Api {
    /// Where the library was loaded from.
    pub path: PathBuf,
    pub get_lib_faust_version: unsafe extern "C" fn() -> *const c_char,
    pub get_dsp_machine_target: unsafe extern "C" fn() -> *mut c_char,
    pub create_factory_from_string: unsafe extern "C" fn(
        name_app: *const c_char,
        dsp_content: *const c_char,
        argc: c_int,
        argv: *const *const c_char,
        target: *const c_char,
        error_msg: *mut c_char,
        opt_level: c_int,
    ) -> *mut LlvmDspFactory,
    pub create_factory_from_file: unsafe extern "C" fn(
        filename: *const c_char,
        argc: c_int,
        argv: *const *const c_char,
        target: *const c_char,
        error_msg: *mut c_char,
        opt_level: c_int,
    ) -> *mut LlvmDspFactory,
    pub delete_factory: unsafe extern "C" fn(factory: *mut LlvmDspFactory) -> bool,
    pub get_sha_key: unsafe extern "C" fn(factory: *mut LlvmDspFactory) -> *mut c_char,
    pub get_compile_options: unsafe extern "C" fn(factory: *mut LlvmDspFactory) -> *mut c_char,
    pub get_warning_messages:
        unsafe extern "C" fn(factory: *mut LlvmDspFactory) -> *mut *const c_char,
    pub write_factory_to_machine:
        unsafe extern "C" fn(factory: *mut LlvmDspFactory, target: *const c_char) -> *mut c_char,
    /// Bound in the order libfaust 2.54.9 implements: `(code, target, error_msg)`.
    pub read_factory_from_machine: unsafe extern "C" fn(
        machine_code: *const c_char,
        target: *const c_char,
        error_msg: *mut c_char,
    ) -> *mut LlvmDspFactory,
    pub write_factory_to_ir: unsafe extern "C" fn(factory: *mut LlvmDspFactory) -> *mut c_char,
    pub create_instance: unsafe extern "C" fn(factory: *mut LlvmDspFactory) -> *mut LlvmDsp,
    pub delete_instance: unsafe extern "C" fn(dsp: *mut LlvmDsp),
    pub clone_instance: unsafe extern "C" fn(dsp: *mut LlvmDsp) -> *mut LlvmDsp,
    pub get_num_inputs: unsafe extern "C" fn(dsp: *mut LlvmDsp) -> c_int,
    pub get_num_outputs: unsafe extern "C" fn(dsp: *mut LlvmDsp) -> c_int,
    pub init_instance: unsafe extern "C" fn(dsp: *mut LlvmDsp, sample_rate: c_int),
    /// `computeCDSPInstance`; the buffers are `f32` or, for `-double` code, `f64`.
    pub compute: unsafe extern "C" fn(
        dsp: *mut LlvmDsp,
        count: c_int,
        inputs: *mut *mut c_void,
        outputs: *mut *mut c_void,
    ),
    /// `buildUserInterfaceCDSPInstance`; the glue is a `UiGlue<f32>` or, for `-double`, `UiGlue<f64>`.
    pub build_user_interface: unsafe extern "C" fn(dsp: *mut LlvmDsp, glue: *mut c_void),
    pub metadata: unsafe extern "C" fn(dsp: *mut LlvmDsp, meta: *mut MetaGlue),
    pub free_memory: unsafe extern "C" fn(ptr: *mut c_void),
    pub create_interp_factory_from_string: unsafe extern "C" fn(
        name_app: *const c_char,
        dsp_content: *const c_char,
        argc: c_int,
        argv: *const *const c_char,
        error_msg: *mut c_char,
    ) -> *mut InterpDspFactory,
    pub create_interp_factory_from_file: unsafe extern "C" fn(
        filename: *const c_char,
        argc: c_int,
        argv: *const *const c_char,
        error_msg: *mut c_char,
    ) -> *mut InterpDspFactory,
    pub delete_interp_factory: unsafe extern "C" fn(factory: *mut InterpDspFactory) -> bool,
    pub write_interp_factory_to_bitcode:
        unsafe extern "C" fn(factory: *mut InterpDspFactory) -> *mut c_char,
    pub read_interp_factory_from_bitcode: unsafe extern "C" fn(
        bitcode: *const c_char,
        error_msg: *mut c_char,
    ) -> *mut InterpDspFactory,
    pub create_interp_instance:
        unsafe extern "C" fn(factory: *mut InterpDspFactory) -> *mut InterpDsp,
    pub delete_interp_instance: unsafe extern "C" fn(dsp: *mut InterpDsp),
    pub get_interp_num_inputs: unsafe extern "C" fn(dsp: *mut InterpDsp) -> c_int,
    pub get_interp_num_outputs: unsafe extern "C" fn(dsp: *mut InterpDsp) -> c_int,
    pub init_interp_instance: unsafe extern "C" fn(dsp: *mut InterpDsp, sample_rate: c_int),
    pub compute_interp: unsafe extern "C" fn(
        dsp: *mut InterpDsp,
        count: c_int,
        inputs: *mut *mut c_void,
        outputs: *mut *mut c_void,
    ),
    /// `buildUserInterfaceCInterpreterDSPInstance`; the glue is a `UiGlue<f32>`.
    pub build_interp_user_interface: unsafe extern "C" fn(dsp: *mut InterpDsp, glue: *mut c_void),
    /// `createWasmCDSPFactoryFromString(name, code, argc, argv, error_msg, internal_memory)`.
    pub create_wasm_from_string: unsafe extern "C" fn(
        name_app: *const c_char,
        dsp_content: *const c_char,
        argc: c_int,
        argv: *const *const c_char,
        error_msg: *mut c_char,
        internal_memory: bool,
    ) -> *mut WasmModule,
    pub create_wasm_from_file: unsafe extern "C" fn(
        filename: *const c_char,
        argc: c_int,
        argv: *const *const c_char,
        error_msg: *mut c_char,
        internal_memory: bool,
    ) -> *mut WasmModule,
    pub get_wasm_module: unsafe extern "C" fn(module: *mut WasmModule) -> *const c_char,
    pub get_wasm_module_size: unsafe extern "C" fn(module: *mut WasmModule) -> c_int,
    /// The module's JSON description.
    pub get_wasm_helpers: unsafe extern "C" fn(module: *mut WasmModule) -> *const c_char,
    pub free_wasm_module: unsafe extern "C" fn(module: *mut WasmModule),
    _library: libloading::Library,
}

/// Why libfaust could not be loaded: every place tried, with the loader's answer.
#[derive(Debug)]
pub struct LoadError {
    /// `(candidate, reason)` for each library name or path tried, in order.
    pub tried: Vec<(String, String)>,
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "libfaust could not be loaded (tried ")?;
        for (i, (candidate, reason)) in self.tried.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{candidate}: {reason}")?;
        }
        write!(f, ")")
    }
}

impl std::error::Error for LoadError {}

/// The environment variable that names libfaust's path, tried before the usual names.
pub const FAUST_LIB_ENV: &str = "FAUST_LIB";

/// The platform's usual names of the libfaust shared library.
pub fn default_library_names() -> &'static [&'static str] {
    if cfg!(target_os = "macos") {
        &["libfaust.2.dylib", "libfaust.dylib"]
    } else if cfg!(windows) {
        &["faust.dll", "libfaust.dll"]
    } else {
        &["libfaust.so.2", "libfaust.so"]
    }
}

impl Api {
    /// Loads libfaust: the path in `FAUST_LIB` if set (and only it), else the platform's usual names.
    pub fn load() -> Result<Api, LoadError> {
        let candidates: Vec<String> = match std::env::var_os(FAUST_LIB_ENV) {
            Some(path) => vec![path.to_string_lossy().into_owned()],
            None => default_library_names()
                .iter()
                .map(|s| s.to_string())
                .collect(),
        };
        let mut tried = Vec::new();
        for candidate in candidates {
            match Api::load_from(&candidate) {
                Ok(api) => return Ok(api),
                Err(reason) => tried.push((candidate, reason)),
            }
        }
        Err(LoadError { tried })
    }

    /// Loads libfaust from one path or library name and resolves every function faustperf uses.
    pub fn load_from(candidate: &str) -> Result<Api, String> {
        let library = open(candidate).map_err(|e| e.to_string())?;
        // SAFETY: each symbol is looked up by its C name and given the type of its C declaration
        // in faust/dsp/llvm-dsp-c.h and libfaust-c.h (2.54.9), except readCDSPFactoryFromMachine,
        // typed as the library implements it (see the crate docs). The pointers are stored next to
        // the library that owns them and never outlive it.
        unsafe {
            macro_rules! sym {
                ($name:literal) => {
                    *library
                        .get(concat!($name, "\0").as_bytes())
                        .map_err(|e| format!("{candidate} lacks {}: {e}", $name))?
                };
            }
            Ok(Api {
                path: PathBuf::from(candidate),
                get_lib_faust_version: sym!("getCLibFaustVersion"),
                get_dsp_machine_target: sym!("getCDSPMachineTarget"),
                create_factory_from_string: sym!("createCDSPFactoryFromString"),
                create_factory_from_file: sym!("createCDSPFactoryFromFile"),
                delete_factory: sym!("deleteCDSPFactory"),
                get_sha_key: sym!("getCSHAKey"),
                get_compile_options: sym!("getCDSPFactoryCompileOptions"),
                get_warning_messages: sym!("getCWarningMessages"),
                write_factory_to_machine: sym!("writeCDSPFactoryToMachine"),
                read_factory_from_machine: sym!("readCDSPFactoryFromMachine"),
                write_factory_to_ir: sym!("writeCDSPFactoryToIR"),
                create_instance: sym!("createCDSPInstance"),
                delete_instance: sym!("deleteCDSPInstance"),
                clone_instance: sym!("cloneCDSPInstance"),
                get_num_inputs: sym!("getNumInputsCDSPInstance"),
                get_num_outputs: sym!("getNumOutputsCDSPInstance"),
                init_instance: sym!("initCDSPInstance"),
                compute: sym!("computeCDSPInstance"),
                build_user_interface: sym!("buildUserInterfaceCDSPInstance"),
                metadata: sym!("metadataCDSPInstance"),
                free_memory: sym!("freeCMemory"),
                create_interp_factory_from_string: sym!("createCInterpreterDSPFactoryFromString"),
                create_interp_factory_from_file: sym!("createCInterpreterDSPFactoryFromFile"),
                delete_interp_factory: sym!("deleteCInterpreterDSPFactory"),
                write_interp_factory_to_bitcode: sym!("writeCInterpreterDSPFactoryToBitcode"),
                read_interp_factory_from_bitcode: sym!("readCInterpreterDSPFactoryFromBitcode"),
                create_interp_instance: sym!("createCInterpreterDSPInstance"),
                delete_interp_instance: sym!("deleteCInterpreterDSPInstance"),
                get_interp_num_inputs: sym!("getNumInputsCInterpreterDSPInstance"),
                get_interp_num_outputs: sym!("getNumOutputsCInterpreterDSPInstance"),
                init_interp_instance: sym!("initCInterpreterDSPInstance"),
                compute_interp: sym!("computeCInterpreterDSPInstance"),
                build_interp_user_interface: sym!("buildUserInterfaceCInterpreterDSPInstance"),
                create_wasm_from_string: sym!("createWasmCDSPFactoryFromString"),
                create_wasm_from_file: sym!("createWasmCDSPFactoryFromFile"),
                get_wasm_module: sym!("getWasmCModule"),
                get_wasm_module_size: sym!("getWasmCModuleSize"),
                get_wasm_helpers: sym!("getWasmCHelpers"),
                free_wasm_module: sym!("freeWasmCModule"),
                _library: library,
            })
        }
    }
}

/// Opens the library with its symbols global (`RTLD_GLOBAL`), as when a program links libfaust:
/// the LLVM JIT resolves the math functions of generated code through the process's symbol table.
#[cfg(unix)]
fn open(candidate: &str) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_NOW};
    // SAFETY: loading libfaust runs its static initialisers (LLVM's option registry and target
    // initialisation), which have no preconditions on the caller.
    unsafe { Library::open(Some(candidate), RTLD_NOW | RTLD_GLOBAL).map(Into::into) }
}

#[cfg(not(unix))]
fn open(candidate: &str) -> Result<libloading::Library, libloading::Error> {
    // SAFETY: as on unix, libfaust's initialisers have no preconditions.
    unsafe { libloading::Library::new(candidate) }
}
