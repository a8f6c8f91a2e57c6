//! The `wasm` backend: Faust's WebAssembly module of an option set, compiled by wasmtime
//! (Cranelift, optimised for speed) and run as Faust's web runtime runs it: the DSP at offset 0
//! of the module's memory, its size from the JSON description, then the channel pointers and
//! the sample buffers; each `compute()` copies the block's inputs in and its outputs out, as
//! the runtime does in every audio callback. The math functions the module imports are the
//! double-precision ones a browser's `Math` gives.

use super::{Code, Compilation, Cxx};
use crate::dsp::control::Zone;
use crate::libfaust::ui::control_path;
use crate::libfaust::{generate, DspSource, Target};
use crate::dsp::{Control, ControlKind, Dsp, DspFactory, FaustError, Instance};
use crate::options::{Backend, OptionSet, Precision};
use base64::Engine as _;
use serde_json::Value;
use std::ffi::c_void;
use wasmtime::{
    Config, Engine, Instance as WasmInstance, InstancePre, Linker, Memory, Module, Store,
    TypedFunc, ValType,
};

/// The runtime, as reports name it.
pub fn runtime() -> String {
    format!(
        "wasmtime {} (Cranelift)",
        env!("FAUSTPERF_WASMTIME_VERSION")
    )
}

fn engine() -> Result<Engine, FaustError> {
    let mut config = Config::new();
    config
        .cranelift_opt_level(wasmtime::OptLevel::Speed)
        // Control zones are host pointers into the memory: it must not move when it grows.
        .memory_may_move(false);
    Engine::new(&config).map_err(wasm_error)
}

/// Its whole chain of causes (a trap says what trapped in its source).
fn wasm_error(e: impl std::fmt::Display) -> FaustError {
    FaustError::Wasm {
        message: format!("{e:#}"),
    }
}

/// Generates the module of `source` with `options` and compiles it for this CPU.
fn build(source: &DspSource, options: &OptionSet) -> Result<Code, FaustError> {
    let (module, json) = generate::wasm(source, options)?;
    let compiled = engine()?.precompile_module(&module).map_err(wasm_error)?;
    Ok(Code {
        backend: Backend::Wasm,
        parts: vec![base64::engine::general_purpose::STANDARD.encode(compiled), json],
    })
}

/// Options this backend refuses (libfaust 2.54.9 and the C++ compiler, measured on every
/// fixture; see `each_backend_refuses_what_it_cannot_run_before_compiling` in
/// `tests/backends.rs`), with why.
pub const REFUSES: &[(&str, &str)] = &[
    ("-vec", "libfaust 2.54.9's WebAssembly vector code reads its inputs at the wrong addresses (input sample i comes from sample 2i), so it does not compute the DSP"),
    ("-omp", "libfaust refuses OpenMP for WebAssembly"),
    ("-sch", "libfaust refuses the scheduler for WebAssembly"),
    (
        "-fun",
        "libfaust makes one function per loop only for C, C++ and LLVM",
    ),
    (
        "-mem",
        "libfaust allows a custom memory manager only for C++",
    ),
    (
        "-os",
        "libfaust makes one-sample code only for C, C++ and Cmajor",
    ),
    ("-quad", "libfaust refuses quad precision for WebAssembly"),
];

/// Options it runs only with others: none.
pub const NEEDS: &[(&str, [&str; 2], &str)] = &[];

pub fn compile(
    source: &DspSource,
    options: &OptionSet,
    _: Option<&Cxx>,
    _: Target,
) -> Result<Compilation, FaustError> {
    let code = build(source, options)?;
    let factory = load(&code, options)?;
    Ok(Compilation::of(code, factory))
}

pub fn load(code: &Code, options: &OptionSet) -> Result<Box<dyn DspFactory>, FaustError> {
    let [module, json] = &code.parts[..] else {
        return Err(FaustError::machine_code("WebAssembly code is a module and its JSON"));
    };
    Ok(Box::new(WasmFactory::load(module, json, options)?))
}

/// What the code depends on besides the source, the options and libfaust: the runtime.
pub fn identity(_: Option<&Cxx>) -> String {
    format!("wasm {}", runtime())
}

/// A compiled module and what its JSON description says.
pub struct WasmFactory {
    engine: Engine,
    /// The module with its math imports resolved, ready to instantiate (done once, at load).
    module: InstancePre<()>,
    precision: Precision,
    /// Bytes of the DSP structure at offset 0.
    dsp_bytes: usize,
    /// Each control and the offset of its value in memory.
    controls: Vec<(Control, usize)>,
}

// SAFETY: the controls' zones are null here (each instance gives its own); nothing else in
// the factory is tied to a thread.
unsafe impl Send for WasmFactory {}
// SAFETY: as for Send: the factory is only read.
unsafe impl Sync for WasmFactory {}

impl WasmFactory {
    /// Loads a module compiled by [`build`] (base64) with its JSON description.
    pub fn load(module: &str, json: &str, options: &OptionSet) -> Result<WasmFactory, FaustError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(module)
            .map_err(|e| {
                FaustError::machine_code(format!("the WebAssembly module is damaged: {e}"))
            })?;
        let engine = engine()?;
        // SAFETY: the bytes are a module this build of faustperf precompiled with this engine
        // configuration (from a compile, or the cache, which checks its entries' integrity).
        let module = unsafe { Module::deserialize(&engine, bytes) }.map_err(wasm_error)?;
        let mut linker = Linker::new(&engine);
        define_math(&mut linker, &module)?;
        let module = linker.instantiate_pre(&module).map_err(wasm_error)?;
        let description: Value = serde_json::from_str(json)
            .map_err(|e| FaustError::machine_code(format!("the module's JSON description: {e}")))?;
        let dsp_bytes = description["size"]
            .as_u64()
            .or_else(|| description["size"].as_str()?.parse().ok())
            .ok_or_else(|| FaustError::machine_code("the module's JSON description has no size"))?;
        let mut controls = Vec::new();
        collect_controls(&description["ui"], &mut Vec::new(), &mut controls);
        Ok(WasmFactory {
            engine,
            module,
            precision: options.precision(),
            dsp_bytes: dsp_bytes as usize,
            controls,
        })
    }
}

/// The input controls in a JSON `ui` tree, with their paths and memory offsets.
fn collect_controls(items: &Value, groups: &mut Vec<String>, out: &mut Vec<(Control, usize)>) {
    for item in items.as_array().into_iter().flatten() {
        let label = item["label"].as_str().unwrap_or_default().to_string();
        if let Some(children) = item.get("items") {
            groups.push(label);
            collect_controls(children, groups, out);
            groups.pop();
            continue;
        }
        let kind = match item["type"].as_str() {
            Some("button") => ControlKind::Button,
            Some("checkbox") => ControlKind::CheckButton,
            Some("vslider") => ControlKind::VerticalSlider,
            Some("hslider") => ControlKind::HorizontalSlider,
            Some("nentry") => ControlKind::NumEntry,
            _ => continue,
        };
        let number = |key: &str, default: f64| {
            let v = &item[key];
            v.as_f64()
                .or_else(|| v.as_str()?.parse().ok())
                .unwrap_or(default)
        };
        let Some(offset) = item["index"].as_u64() else {
            continue;
        };
        let buttons = matches!(kind, ControlKind::Button | ControlKind::CheckButton);
        let control = Control {
            path: control_path(groups, &label),
            kind,
            init: number("init", 0.0),
            min: number("min", 0.0),
            max: number("max", if buttons { 1.0 } else { 0.0 }),
            step: number("step", 1.0),
            zone: Zone::Single(std::ptr::null_mut()),
        };
        out.push((control, offset as usize));
    }
}

impl DspFactory for WasmFactory {
    fn instance(&self, sample_rate: u32) -> Result<Instance, FaustError> {
        Instance::new(self.precision, || {
            let mut store = Store::new(&self.engine, ());
            let instance = self.module.instantiate(&mut store).map_err(wasm_error)?;
            let memory = instance
                .get_memory(&mut store, "memory")
                .ok_or_else(|| wasm_error("the module exports no memory"))?;
            let count = |store: &mut Store<()>, name: &str| {
                (instance.get_typed_func::<i32, i32>(&mut *store, name))
                    .and_then(|f| f.call(&mut *store, 0))
                    .map_err(wasm_error)
            };
            let inputs = count(&mut store, "getNumInputs")?;
            let outputs = count(&mut store, "getNumOutputs")?;
            (instance.get_typed_func::<(i32, i32), ()>(&mut store, "init"))
                .map_err(wasm_error)?
                .call(&mut store, (0, crate::libfaust::c_sample_rate(sample_rate)?))
                .map_err(wasm_error)?;
            let compute = instance
                .get_typed_func(&mut store, "compute")
                .map_err(wasm_error)?;
            // After the memory the module declares, not right after the DSP: vector code
            // (-vec) keeps work arrays beyond the `size` the JSON gives.
            let io_base = (memory.data_size(&store).max(self.dsp_bytes)).next_multiple_of(16);
            Ok(Box::new(WasmDsp {
                store,
                _instance: instance,
                memory,
                compute,
                inputs: inputs.max(0) as usize,
                outputs: outputs.max(0) as usize,
                sample_bytes: self.precision.sample_bytes(),
                io_base,
                frames: 0,
                controls: self.controls.clone(),
            }))
        })
    }

    fn precision(&self) -> Precision {
        self.precision
    }
}

/// One instance: its own store, module instance and memory.
struct WasmDsp {
    store: Store<()>,
    _instance: WasmInstance,
    memory: Memory,
    /// `compute(dsp, count, inputs, outputs)`, offsets into memory.
    compute: TypedFunc<(i32, i32, i32, i32), ()>,
    inputs: usize,
    outputs: usize,
    sample_bytes: usize,
    /// Where the channel pointers start, after the DSP.
    io_base: usize,
    /// Frames the buffers in memory hold (0 until the first compute()).
    frames: usize,
    controls: Vec<(Control, usize)>,
}

// SAFETY: the instance's store, memory and zones (which point into that memory) move with it
// and are used by one thread at a time through `&mut self`.
unsafe impl Send for WasmDsp {}

impl WasmDsp {
    /// Offset of input channel `c`'s buffer (outputs follow the inputs).
    fn channel(&self, c: usize) -> usize {
        self.io_base + 4 * (self.inputs + self.outputs) + c * self.frames * self.sample_bytes
    }

    /// Lays out buffers of `frames` frames after the DSP, growing the memory if needed.
    fn lay_out(&mut self, frames: usize) -> Result<(), FaustError> {
        self.frames = frames;
        let end = self.channel(self.inputs + self.outputs);
        let size = self.memory.data_size(&self.store);
        if end > size {
            let pages = (end - size).div_ceil(65536) as u64;
            self.memory
                .grow(&mut self.store, pages)
                .map_err(wasm_error)?;
        }
        let pointers: Vec<u8> = (0..self.inputs + self.outputs)
            .flat_map(|c| (self.channel(c) as u32).to_le_bytes())
            .collect();
        self.memory
            .write(&mut self.store, self.io_base, &pointers)
            .map_err(wasm_error)
    }
}

impl Dsp for WasmDsp {
    fn inputs(&self) -> usize {
        self.inputs
    }

    fn outputs(&self) -> usize {
        self.outputs
    }

    fn controls(&mut self, precision: Precision) -> Vec<Control> {
        let base = self.memory.data_ptr(&self.store);
        self.controls
            .iter()
            .map(|(control, offset)| {
                // The memory does not move (see `engine`): the zone stays valid.
                let at = base.wrapping_add(*offset);
                let zone = match precision {
                    Precision::Single => Zone::Single(at.cast()),
                    Precision::Double => Zone::Double(at.cast()),
                };
                Control {
                    zone,
                    ..control.clone()
                }
            })
            .collect()
    }

    fn own_memory_bytes(&self) -> Option<u64> {
        Some(self.memory.data_size(&self.store) as u64)
    }

    unsafe fn compute(&mut self, frames: i32, inputs: *mut *mut c_void, outputs: *mut *mut c_void) {
        let n = frames.max(0) as usize;
        if n > self.frames {
            if let Err(e) = self.lay_out(n) {
                trapped(&e);
            }
        }
        let bytes = n * self.sample_bytes;
        let base = self.memory.data_ptr(&self.store);
        // SAFETY: the caller's contract gives `inputs`/`outputs` channel pointers to `frames`
        // samples each; the buffers in memory hold `self.frames` ≥ `frames` samples per channel.
        unsafe {
            for c in 0..self.inputs {
                std::ptr::copy_nonoverlapping(
                    (*inputs.add(c)).cast::<u8>(),
                    base.add(self.channel(c)),
                    bytes,
                );
            }
        }
        let io = self.io_base as i32;
        let out_pointers = io + 4 * self.inputs as i32;
        if let Err(e) = self
            .compute
            .call(&mut self.store, (0, frames, io, out_pointers))
        {
            trapped(&wasm_error(e));
        }
        // SAFETY: as above.
        unsafe {
            for c in 0..self.outputs {
                let from = base.add(self.channel(self.inputs + c));
                std::ptr::copy_nonoverlapping(from, (*outputs.add(c)).cast::<u8>(), bytes);
            }
        }
    }
}

/// Ends the process on a trap in `compute()` (e.g. an integer division by zero), as a crash in
/// native code would: the supervisor then fails the set whose stretch was running, with this
/// message from the worker's stderr, and measures the others again without it. Timing goes on
/// no further on code that did not compute.
fn trapped(error: &FaustError) -> ! {
    eprintln!("faustperf: {error} in compute()");
    std::process::abort()
}

/// Defines every math function the module imports (`env._sinf`, `env._pow`, …) as the
/// double-precision function of that name.
fn define_math(linker: &mut Linker<()>, module: &Module) -> Result<(), FaustError> {
    for import in module.imports() {
        let Some(ty) = import.ty().func().cloned() else {
            continue;
        };
        let (module_name, name) = (import.module(), import.name());
        let unknown = || {
            wasm_error(format!(
                "the module imports `{module_name}.{name}`, which faustperf does not provide"
            ))
        };
        let base = name.trim_start_matches('_');
        let f32_params = ty.params().all(|p| matches!(p, ValType::F32));
        let math = if f32_params {
            base.strip_suffix('f').unwrap_or(base)
        } else {
            base
        };
        let defined = match (ty.params().len(), f32_params) {
            (1, true) => {
                let f = unary(math).ok_or_else(unknown)?;
                linker.func_wrap(module_name, name, move |x: f32| f(x as f64) as f32)
            }
            (1, false) => {
                let f = unary(math).ok_or_else(unknown)?;
                linker.func_wrap(module_name, name, move |x: f64| f(x))
            }
            (2, true) => {
                let f = binary(math).ok_or_else(unknown)?;
                linker.func_wrap(module_name, name, move |x: f32, y: f32| {
                    f(x as f64, y as f64) as f32
                })
            }
            (2, false) => {
                let f = binary(math).ok_or_else(unknown)?;
                linker.func_wrap(module_name, name, move |x: f64, y: f64| f(x, y))
            }
            _ => return Err(unknown()),
        };
        defined.map_err(wasm_error)?;
    }
    Ok(())
}

fn unary(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "acos" => f64::acos,
        "asin" => f64::asin,
        "atan" => f64::atan,
        "cos" => f64::cos,
        "sin" => f64::sin,
        "tan" => f64::tan,
        "exp" => f64::exp,
        "exp10" => |x| 10f64.powf(x),
        "log" => f64::ln,
        "log10" => f64::log10,
        "round" => f64::round,
        "rint" => f64::round_ties_even,
        "floor" => f64::floor,
        "ceil" => f64::ceil,
        "sqrt" => f64::sqrt,
        "fabs" => f64::abs,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        _ => return None,
    })
}

fn binary(name: &str) -> Option<fn(f64, f64) -> f64> {
    Some(match name {
        "pow" => f64::powf,
        "atan2" => f64::atan2,
        "fmod" => |x, y| x % y,
        "remainder" => |x, y| x - (x / y).round_ties_even() * y,
        "fmin" | "min" => f64::min,
        "fmax" | "max" => f64::max,
        _ => return None,
    })
}
