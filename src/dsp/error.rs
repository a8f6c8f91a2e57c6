//! The one place where the failures of compiling and running generated code become Rust errors.

use serde::{Deserialize, Serialize};

/// A failure of libfaust, of the other compilers and runtimes of generated code, or of
/// faustperf's use of them.
#[derive(
    Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaustError {
    /// libfaust could not be loaded.
    #[error(
        "{message}.\nInstall libfaust (Debian/Ubuntu: `apt-get install faust`, which brings libfaust2) \
         or set FAUST_LIB to the path of libfaust.so"
    )]
    Missing { message: String },
    /// The Faust compiler rejected the program or the options.
    #[error("{}", compile_message(file, line, message))]
    Compile {
        /// Faust's message, without the file and line prefix.
        message: String,
        /// The file Faust names, when it names one.
        file: Option<String>,
        /// The 1-based line Faust names, when it names one.
        line: Option<u32>,
    },
    /// Something faustperf passes to libfaust is not representable in C (e.g. a NUL byte), or
    /// does not fit what it was given to (a buffer size, a sample rate).
    #[error("{message}")]
    InvalidInput { message: String },
    /// A fault of faustperf or of the machine, not of the input: a thread that panicked, a
    /// message between processes that could not be read, a temporary file that could not be
    /// written.
    #[error("internal error: {message}")]
    Internal { message: String },
    /// Compiled code (from a compile, the cache or another process) could not be loaded.
    #[error("the compiled code could not be loaded: {message}")]
    MachineCode { message: String },
    /// The set's backend does not support one of its options (checked before compiling).
    #[error("{message}")]
    Unsupported { message: String },
    /// The C++ compiler failed on Faust's C++.
    #[error("the C++ compiler failed ({command}): {message}")]
    Cxx { command: String, message: String },
    /// The WebAssembly runtime refused the module or trapped while running it.
    #[error("WebAssembly (wasmtime): {message}")]
    Wasm { message: String },
    /// Instructions could not be counted (valgrind missing or failing, or the code crashed
    /// under it).
    #[error("instructions could not be counted: {message}")]
    Counters { message: String },
    /// libfaust returned no instance for a factory.
    #[error("libfaust could not create an instance of the compiled DSP")]
    Instance,
    /// The audio host could not run the DSP (no JACK server, no sound card, other settings).
    #[error("{message}")]
    Audio { message: String },
    /// `-fm` needs Faust's fast math functions in the process, and this one lacks them.
    #[error(
        "-fm needs Faust's fast_* math functions exported by the process that runs the code; \
         this process lacks them (run it isolated: the faustperf worker exports them)"
    )]
    FastMathUnavailable,
    /// faustperf's LLVM could not parse the LLVM IR libfaust generated (e.g. a libfaust built
    /// with a newer LLVM).
    #[error(
        "faustperf reads LLVM IR with LLVM {reader_llvm} (inkwell), but this libfaust generated it with \
         LLVM {generator_llvm}, and it could not be read: {message}. Build faustperf with inkwell's \
         feature for that LLVM version (llvmNN-0-force-dynamic in Cargo.toml)"
    )]
    IrUnreadable {
        /// The LLVM version named in libfaust's IR, e.g. `14.0.6`.
        generator_llvm: String,
        /// The LLVM major version faustperf was built with, e.g. `14`.
        reader_llvm: String,
        /// LLVM's parse error.
        message: String,
    },
    /// The IR parsed, but lacks what faustperf looks for (the compute function, the DSP struct).
    #[error("the LLVM IR libfaust generated does not have the expected shape: {message}")]
    IrUnexpected { message: String },
}

fn compile_message(file: &Option<String>, line: &Option<u32>, message: &str) -> String {
    match (file, line) {
        (Some(file), Some(line)) => format!("{file}:{line}: {message}"),
        (Some(file), None) => format!("{file}: {message}"),
        _ => message.to_string(),
    }
}

/// A constructor `name(message)` for each variant that holds only a message.
macro_rules! message_constructors {
    ($($name:ident => $variant:ident,)*) => {
        $(pub fn $name(message: impl Into<String>) -> FaustError {
            FaustError::$variant { message: message.into() }
        })*
    };
}

impl FaustError {
    message_constructors! {
        missing => Missing,
        invalid_input => InvalidInput,
        internal => Internal,
        machine_code => MachineCode,
        audio => Audio,
    }

    /// Builds a compile error from the text libfaust wrote in `error_msg`, e.g.
    /// `my.dsp : 3 : ERROR : undefined symbol : foo` → file `my.dsp`, line 3, message
    /// `undefined symbol : foo`. Text without that shape is kept whole.
    pub fn from_compiler_text(text: &str) -> FaustError {
        let text = text.trim();
        let parts: Vec<&str> = text.splitn(4, " : ").collect();
        if let [file, line, "ERROR", message] = parts.as_slice() {
            if let Ok(line) = line.trim().parse::<i64>() {
                // Faust writes `???? : -1` when it knows no place (e.g. a missing `process`).
                let file = file.trim();
                return FaustError::Compile {
                    message: message.trim().to_string(),
                    file: (file != "????").then(|| file.to_string()),
                    line: u32::try_from(line).ok().filter(|l| *l > 0),
                };
            }
        }
        let message = match text.strip_prefix("ERROR : ").unwrap_or(text) {
            "" => "the Faust compiler failed without a message",
            message => message,
        };
        FaustError::Compile {
            message: message.to_string(),
            file: None,
            line: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Internal faults are not said to be bad input, in words or in JSON.
    #[test]
    fn internal_faults_have_their_own_kind() {
        let e = FaustError::internal("the measuring thread panicked");
        assert_eq!(
            e.to_string(),
            "internal error: the measuring thread panicked"
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["kind"], "internal");
        assert_eq!(
            serde_json::to_value(FaustError::invalid_input("x")).unwrap()["kind"],
            "invalid_input"
        );
    }

    #[test]
    fn splits_file_and_line() {
        let e = FaustError::from_compiler_text("x : 1 : ERROR : undefined symbol : foo\n");
        assert_eq!(
            e,
            FaustError::Compile {
                message: "undefined symbol : foo".into(),
                file: Some("x".into()),
                line: Some(1)
            }
        );
        assert_eq!(e.to_string(), "x:1: undefined symbol : foo");
    }

    #[test]
    fn drops_unknown_places() {
        let e = FaustError::from_compiler_text("???? : -1 : ERROR : undefined symbol : process");
        assert_eq!(e.to_string(), "undefined symbol : process");
    }

    #[test]
    fn keeps_messages_without_location() {
        let e = FaustError::from_compiler_text("ERROR : OpenMP not supported for LLVM");
        assert_eq!(e.to_string(), "OpenMP not supported for LLVM");
        let e = FaustError::from_compiler_text("");
        assert!(e.to_string().contains("without a message"));
    }
}
