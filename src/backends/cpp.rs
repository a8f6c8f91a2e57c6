//! The `cpp` backend: Faust's C++ for an option set (from the `faust` command, see
//! [`generate`]), built by the system's C++ compiler into a shared object with faustperf's
//! architecture (a C ABI over the generated class), loaded with
//! libloading and run like libfaust's own code.

use super::{Code, Compilation};
use crate::libfaust::{ui, DspSource, LibFaust, Target};
use crate::dsp::{Control, Dsp, DspFactory, FaustError, Instance};
use crate::options::{Backend, OptionSet, Precision};
use base64::Engine;
use serde::{Deserialize, Serialize};
use std::ffi::{c_int, c_void};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

/// The C++ compiler and flags used unless asked otherwise. Faust's `faust2bench` uses
/// `-Ofast -march=native`; `-O3 -ffast-math` is the same optimisation spelt portably.
pub const DEFAULT_CXX: &str = "g++";
pub const DEFAULT_CXXFLAGS: &str = "-O3 -ffast-math -march=native";

/// Options this backend refuses (libfaust 2.54.9 and the C++ compiler, measured on every
/// fixture; see `each_backend_refuses_what_it_cannot_run_before_compiling` in
/// `tests/backends.rs`), with why.
pub const REFUSES: &[(&str, &str)] = &[
    ("-sch", "the code needs Faust's work-stealing scheduler runtime, which faustperf's architecture does not link"),
    ("-mem", "the code needs a host memory manager (dsp_memory_manager), which faustperf's architecture does not provide"),
    ("-os", "one-sample code has another API (frame by frame), which faustperf's architecture does not drive"),
];

/// Options it runs only with others: none.
pub const NEEDS: &[(&str, [&str; 2], &str)] = &[];

pub fn compile(
    source: &DspSource,
    options: &OptionSet,
    cxx: Option<&Cxx>,
    _: Target,
) -> Result<Compilation, FaustError> {
    let cxx = cxx.ok_or_else(|| FaustError::internal("no C++ compiler was given"))?;
    let code = build(source, options, cxx)?;
    let factory = load(&code, options)?;
    Ok(Compilation::of(code, factory))
}

pub fn load(code: &Code, options: &OptionSet) -> Result<Box<dyn DspFactory>, FaustError> {
    let [shared_object] = &code.parts[..] else {
        return Err(FaustError::machine_code("C++ code is one shared object"));
    };
    Ok(Box::new(SharedObject::load(shared_object, options.precision())?))
}

/// What the code depends on besides the source, the options and libfaust: the C++ compiler,
/// its version and flags.
pub fn identity(cxx: Option<&Cxx>) -> String {
    cxx.map_or_else(String::new, |c| format!("cpp {} | {}", c.version, c.command_line()))
}

/// A C++ compiler, its flags and its identity (which the compile cache keys on).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cxx {
    /// The command, e.g. `g++` or `/usr/bin/clang++`.
    pub command: String,
    pub flags: Vec<String>,
    /// The first line of `COMMAND --version`.
    pub version: String,
}

impl Cxx {
    /// The compiler `command` with `flags` (whitespace-separated), asked for its version.
    pub fn new(command: &str, flags: &str) -> Result<Cxx, FaustError> {
        let failed = |message: String| FaustError::Cxx {
            command: command.to_string(),
            message,
        };
        let output = Command::new(command)
            .arg("--version")
            .output()
            .map_err(|e| failed(format!("cannot run it: {e}; give a C++ compiler with --cxx (g++: `apt-get install g++`)")))?;
        let version = String::from_utf8_lossy(&output.stdout)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        if !output.status.success() || version.is_empty() {
            return Err(failed(
                "`--version` did not answer: is it a C++ compiler?".into(),
            ));
        }
        Ok(Cxx {
            command: command.to_string(),
            flags: flags.split_whitespace().map(String::from).collect(),
            version,
        })
    }

    /// The default compiler, when it can be run.
    pub fn default_compiler() -> Result<Cxx, FaustError> {
        Cxx::new(DEFAULT_CXX, DEFAULT_CXXFLAGS)
    }

    /// `given`, or the default compiler when the `cpp` backend is `needed` and none was given.
    pub fn when_needed(needed: bool, given: Option<Cxx>) -> Result<Option<Cxx>, FaustError> {
        match given {
            None if needed => Cxx::default_compiler().map(Some),
            given => Ok(given),
        }
    }

    /// How it is shown: the command and flags.
    pub fn command_line(&self) -> String {
        [std::slice::from_ref(&self.command), &self.flags]
            .concat()
            .join(" ")
    }
}

/// faustperf's architecture: the generated class behind a C ABI, its controls reported
/// through libfaust's `UIGlue`.
const ARCHITECTURE: &str = r#"
#include <faust/dsp/dsp.h>
#include <faust/gui/UI.h>
#include <faust/gui/meta.h>
#include <faust/gui/CInterface.h>
#include <algorithm>
#ifdef _OPENMP
#include <omp.h>
#endif
// OpenMP code calls min/max unqualified.
using std::max;
using std::min;
#include "generated.cpp"

namespace {
struct GlueUI : public UI {
    UIGlue* g;
    explicit GlueUI(UIGlue* glue) : g(glue) {}
    void openTabBox(const char* l) override { g->openTabBox(g->uiInterface, l); }
    void openHorizontalBox(const char* l) override { g->openHorizontalBox(g->uiInterface, l); }
    void openVerticalBox(const char* l) override { g->openVerticalBox(g->uiInterface, l); }
    void closeBox() override { g->closeBox(g->uiInterface); }
    void addButton(const char* l, FAUSTFLOAT* z) override { g->addButton(g->uiInterface, l, z); }
    void addCheckButton(const char* l, FAUSTFLOAT* z) override { g->addCheckButton(g->uiInterface, l, z); }
    void addVerticalSlider(const char* l, FAUSTFLOAT* z, FAUSTFLOAT i, FAUSTFLOAT a, FAUSTFLOAT b, FAUSTFLOAT s) override { g->addVerticalSlider(g->uiInterface, l, z, i, a, b, s); }
    void addHorizontalSlider(const char* l, FAUSTFLOAT* z, FAUSTFLOAT i, FAUSTFLOAT a, FAUSTFLOAT b, FAUSTFLOAT s) override { g->addHorizontalSlider(g->uiInterface, l, z, i, a, b, s); }
    void addNumEntry(const char* l, FAUSTFLOAT* z, FAUSTFLOAT i, FAUSTFLOAT a, FAUSTFLOAT b, FAUSTFLOAT s) override { g->addNumEntry(g->uiInterface, l, z, i, a, b, s); }
    void addHorizontalBargraph(const char* l, FAUSTFLOAT* z, FAUSTFLOAT a, FAUSTFLOAT b) override { g->addHorizontalBargraph(g->uiInterface, l, z, a, b); }
    void addVerticalBargraph(const char* l, FAUSTFLOAT* z, FAUSTFLOAT a, FAUSTFLOAT b) override { g->addVerticalBargraph(g->uiInterface, l, z, a, b); }
    void addSoundfile(const char*, const char*, Soundfile**) override {}
    void declare(FAUSTFLOAT* z, const char* k, const char* v) override { g->declare(g->uiInterface, z, k, v); }
};
}

#define EXPORT extern "C" __attribute__((visibility("default")))
EXPORT void* faustperf_new() { return new mydsp(); }
EXPORT void faustperf_delete(void* d) { delete static_cast<mydsp*>(d); }
EXPORT void faustperf_init(void* d, int sample_rate) { static_cast<mydsp*>(d)->init(sample_rate); }
EXPORT int faustperf_inputs(void* d) { return static_cast<mydsp*>(d)->getNumInputs(); }
EXPORT int faustperf_outputs(void* d) { return static_cast<mydsp*>(d)->getNumOutputs(); }
EXPORT void faustperf_build_ui(void* d, UIGlue* glue) { GlueUI ui(glue); static_cast<mydsp*>(d)->buildUserInterface(&ui); }
EXPORT void faustperf_compute(void* d, int count, FAUSTFLOAT** in, FAUSTFLOAT** out) { static_cast<mydsp*>(d)->compute(count, in, out); }
EXPORT int faustperf_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}
"#;

/// A directory of this process's own under the temporary directory (which a confined worker
/// points at its private one), removed with everything in it when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch, FaustError> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "faustperf-cpp-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder
            .create(&dir)
            .map_err(|e| FaustError::internal(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Scratch(dir))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes Faust's C++ for `source` with `options` to `generated.cpp` in `scratch`, by the
/// `faust` command of the same version as libfaust. libfaust's own C API cannot: it drops
/// `-vec` and `-sch` when it generates C++ (`generateAuxFilesFromString` in Faust 2.54.9's
/// `compiler/generator/dsp_aux.cpp` filters them out), so every set would get scalar code.
fn generate(source: &DspSource, options: &OptionSet, scratch: &Scratch) -> Result<(), FaustError> {
    let version = faust_version()?;
    let library = LibFaust::get()?.version();
    if !library.starts_with(&version) {
        return Err(FaustError::invalid_input(format!(
            "the faust command is version {version} but libfaust is {library}: install both from one Faust"
        )));
    }
    let input = match source {
        DspSource::File { path } => path.clone(),
        DspSource::Code { name, code } => {
            let stem = name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_");
            let file = scratch.path(&format!("{stem}.dsp"));
            std::fs::write(&file, code).map_err(|e| {
                FaustError::internal(format!("cannot write {}: {e}", file.display()))
            })?;
            file
        }
    };
    let output = Command::new("faust")
        .args(["-lang", "cpp"])
        .args(&options.args)
        .arg(&input)
        .arg("-o")
        .arg(scratch.path("generated.cpp"))
        .output()
        .map_err(|e| FaustError::internal(format!("cannot run faust: {e}")))?;
    if !output.status.success() {
        return Err(FaustError::from_compiler_text(&String::from_utf8_lossy(
            &output.stderr,
        )));
    }
    Ok(())
}

/// The version the `faust` command prints (e.g. `2.54.9`), asked once.
fn faust_version() -> Result<String, FaustError> {
    static VERSION: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| {
            let out = Command::new("faust").arg("--version").output().map_err(|e| {
                format!("the cpp backend runs the faust command (Debian package faust), which cannot run: {e}")
            })?;
            let text = String::from_utf8_lossy(&out.stdout);
            text.split_whitespace()
                .skip_while(|w| *w != "Version")
                .nth(1)
                .map(String::from)
                .ok_or_else(|| format!("faust --version printed no version: {text}"))
        })
        .clone()
        .map_err(FaustError::invalid_input)
}

/// Generates the C++ of `source` with `options` and builds it with `cxx` into a shared object.
pub fn build(
    source: &DspSource,
    options: &OptionSet,
    cxx: &Cxx,
) -> Result<Code, FaustError> {
    let scratch = Scratch::new()?;
    generate(source, options, &scratch)?;
    let wrapper = scratch.path("faustperf.cpp");
    let object = scratch.path("dsp.so");
    std::fs::write(&wrapper, ARCHITECTURE)
        .map_err(|e| FaustError::internal(format!("cannot write {}: {e}", wrapper.display())))?;
    let mut command = Command::new(&cxx.command);
    command
        .args(&cxx.flags)
        .args([
            "-std=c++17",
            "-shared",
            "-fPIC",
            "-fvisibility=hidden",
            "-w",
        ])
        .arg(&wrapper)
        .arg("-o")
        .arg(&object)
        .env("TMPDIR", &scratch.0);
    if options.precision() == Precision::Double {
        command.arg("-DFAUSTFLOAT=double");
    }
    if options.args.iter().any(|a| a == "-omp") {
        command.arg("-fopenmp");
    }
    let output = command.output().map_err(|e| FaustError::Cxx {
        command: cxx.command_line(),
        message: format!("cannot run it: {e}"),
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("error"))
            .take(5)
            .collect();
        return Err(FaustError::Cxx {
            command: cxx.command_line(),
            message: if lines.is_empty() {
                stderr.trim().to_string()
            } else {
                lines.join("\n")
            },
        });
    }
    let bytes = std::fs::read(&object)
        .map_err(|e| FaustError::internal(format!("cannot read {}: {e}", object.display())))?;
    Ok(Code {
        backend: Backend::Cpp,
        parts: vec![base64::engine::general_purpose::STANDARD.encode(bytes)],
    })
}

/// The C functions of faustperf's architecture in a loaded shared object.
struct Library {
    new: unsafe extern "C" fn() -> *mut c_void,
    delete: unsafe extern "C" fn(*mut c_void),
    init: unsafe extern "C" fn(*mut c_void, c_int),
    inputs: unsafe extern "C" fn(*mut c_void) -> c_int,
    outputs: unsafe extern "C" fn(*mut c_void) -> c_int,
    build_ui: unsafe extern "C" fn(*mut c_void, *mut c_void),
    compute: unsafe extern "C" fn(*mut c_void, c_int, *mut *mut c_void, *mut *mut c_void),
    /// Keeps the functions above loaded.
    _library: libloading::Library,
}

/// A shared object built by [`build`], loaded.
pub struct SharedObject {
    library: Arc<Library>,
    precision: Precision,
    /// OpenMP threads its code may use (1 without `-omp`).
    threads: usize,
}

impl SharedObject {
    /// Loads a shared object (base64, as a `cpp` [`Code`] holds it) built for `precision`.
    pub fn load(shared_object: &str, precision: Precision) -> Result<SharedObject, FaustError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(shared_object)
            .map_err(|e| FaustError::machine_code(format!("the shared object is damaged: {e}")))?;
        let scratch = Scratch::new()?;
        let file = scratch.path("dsp.so");
        std::fs::write(&file, bytes).map_err(|e| {
            FaustError::machine_code(format!("cannot write {}: {e}", file.display()))
        })?;
        // The file may go once loaded: the loader keeps its mapping.
        let library = open(&file)?;
        // SAFETY: the symbols are the architecture's, with the C types declared in ARCHITECTURE.
        unsafe {
            macro_rules! sym {
                ($name:literal) => {
                    *library
                        .get(concat!($name, "\0").as_bytes())
                        .map_err(|e| FaustError::machine_code(format!("{}: {e}", $name)))?
                };
            }
            let threads: unsafe extern "C" fn() -> c_int = sym!("faustperf_threads");
            Ok(SharedObject {
                threads: threads().max(1) as usize,
                library: Arc::new(Library {
                    new: sym!("faustperf_new"),
                    delete: sym!("faustperf_delete"),
                    init: sym!("faustperf_init"),
                    inputs: sym!("faustperf_inputs"),
                    outputs: sym!("faustperf_outputs"),
                    build_ui: sym!("faustperf_build_ui"),
                    compute: sym!("faustperf_compute"),
                    _library: library,
                }),
                precision,
            })
        }
    }
}

/// Loads with the symbols local to the library: every set's shared object defines the same
/// class and the same functions.
fn open(file: &Path) -> Result<libloading::Library, FaustError> {
    #[cfg(unix)]
    {
        use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
        // SAFETY: the library is one faustperf built; its initialisers are the C++ runtime's.
        unsafe { Library::open(Some(file), RTLD_NOW | RTLD_LOCAL) }
            .map(Into::into)
            .map_err(|e| FaustError::machine_code(e.to_string()))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: as above.
        unsafe { libloading::Library::new(file) }
            .map_err(|e| FaustError::machine_code(e.to_string()))
    }
}

impl DspFactory for SharedObject {
    fn instance(&self, sample_rate: u32) -> Result<Instance, FaustError> {
        Instance::new(self.precision, || {
            let sample_rate = crate::libfaust::c_sample_rate(sample_rate)?;
            // SAFETY: the architecture's constructor; the instance is initialised before use.
            let ptr = unsafe { (self.library.new)() };
            if ptr.is_null() {
                return Err(FaustError::Instance);
            }
            let dsp = CppDsp {
                library: self.library.clone(),
                ptr,
            };
            // SAFETY: `ptr` is a live instance.
            unsafe { (self.library.init)(ptr, sample_rate) };
            Ok(Box::new(dsp))
        })
    }

    fn precision(&self) -> Precision {
        self.precision
    }

    fn threads(&self) -> usize {
        self.threads
    }
}

/// One instance of the generated class; keeps its library loaded.
struct CppDsp {
    library: Arc<Library>,
    ptr: *mut c_void,
}

// SAFETY: used by one thread at a time through `&mut self`.
unsafe impl Send for CppDsp {}

impl Dsp for CppDsp {
    fn inputs(&self) -> usize {
        // SAFETY: `ptr` is a live instance.
        unsafe { (self.library.inputs)(self.ptr) }.max(0) as usize
    }

    fn outputs(&self) -> usize {
        // SAFETY: `ptr` is a live instance.
        unsafe { (self.library.outputs)(self.ptr) }.max(0) as usize
    }

    fn controls(&mut self, precision: Precision) -> Vec<Control> {
        let (build, ptr) = (self.library.build_ui, self.ptr);
        // SAFETY: the instance is live; it was built with FAUSTFLOAT of `precision`.
        unsafe { ui::collect(precision, |glue| build(ptr, glue)) }
    }

    unsafe fn compute(&mut self, frames: i32, inputs: *mut *mut c_void, outputs: *mut *mut c_void) {
        // SAFETY: the caller's contract; the instance is live.
        unsafe { (self.library.compute)(self.ptr, frames, inputs, outputs) }
    }
}

impl Drop for CppDsp {
    fn drop(&mut self) {
        // SAFETY: live, deleted once, while its library is loaded (we hold it).
        unsafe { (self.library.delete)(self.ptr) };
    }
}
