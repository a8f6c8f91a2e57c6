//! Snippets that use Faust's standard library without importing it, as one-line examples and
//! code pasted into a chat usually do (`process = os.osc(440);`).

use super::{DspSource, FaustError};

/// The environments `stdfaust.lib` defines (Faust 2.54.9).
const ENVIRONMENTS: [&str; 33] = [
    "aa", "an", "ba", "co", "de", "dm", "dx", "ef", "en", "fd", "fi", "ho", "it", "ma", "mi", "no",
    "os", "pf", "pl", "pm", "qu", "re", "rm", "ro", "sf", "si", "so", "sp", "sy", "ve", "vl", "wa",
    "wd",
];

/// What is put in front of the first line: on that line, so that Faust's line numbers stay
/// those of the user's code.
pub const IMPORT: &str = "import(\"stdfaust.lib\"); ";

/// What reports say when the import was added.
pub const NOTE: &str = "the code uses Faust's standard library without importing it: it was compiled with import(\"stdfaust.lib\"); put in front of its first line (line numbers are the code's own); add the import to the code to silence this note";

/// Compiles `source` with `compile`; code that failed only for want of
/// `import("stdfaust.lib");` (see [`with_stdlib`]) is compiled again with it, and the flag says so.
pub fn compile_or_with_stdlib<T>(
    source: &DspSource,
    compile: impl Fn(&DspSource) -> Result<T, FaustError>,
) -> Result<(T, bool), FaustError> {
    match compile(source) {
        Ok(compiled) => Ok((compiled, false)),
        Err(error) => match with_stdlib(source, &error) {
            Some(with) => compile(&with).map(|c| (c, true)),
            None => Err(error),
        },
    }
}

/// The code with [`IMPORT`] in front, when compiling it failed only because a
/// standard-library environment is undefined (`undefined symbol : os`) and the code (in
/// memory or in a file) imports nothing and defines no such name: it was meant to use the
/// standard library. `None` otherwise: code that imports or loads other files, or defines its
/// own environments, is never changed.
pub fn with_stdlib(source: &DspSource, error: &FaustError) -> Option<DspSource> {
    let (name, code) = match source {
        DspSource::Code { name, code } => (name.clone(), code.clone()),
        DspSource::File { path } => (
            path.display().to_string(),
            std::fs::read_to_string(path).ok()?,
        ),
    };
    let FaustError::Compile { message, .. } = error else {
        return None;
    };
    let symbol = message.strip_prefix("undefined symbol : ")?.trim();
    let defines = |word: &str| {
        code.match_indices(word).any(|(at, _)| {
            let before = code[..at].chars().next_back();
            let after = code[at + word.len()..].trim_start().chars().next();
            !before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
                && matches!(after, Some('=') | Some('('))
                && !code[at + word.len()..].trim_start().starts_with("==")
        })
    };
    let imports = ["import(", "library(", "component("]
        .iter()
        .any(|call| code.contains(call));
    (ENVIRONMENTS.contains(&symbol) && !imports && !defines(symbol)).then(|| DspSource::Code {
        name,
        code: format!("{IMPORT}{code}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> DspSource {
        DspSource::Code {
            name: "code".into(),
            code: text.into(),
        }
    }

    fn undefined(symbol: &str) -> FaustError {
        FaustError::Compile {
            message: format!("undefined symbol : {symbol}"),
            file: Some("code".into()),
            line: Some(1),
        }
    }

    #[test]
    fn adds_the_import_only_where_the_snippet_meant_the_standard_library() {
        let added = with_stdlib(&code("process = os.osc(440);"), &undefined("os"));
        assert_eq!(
            added,
            Some(code("import(\"stdfaust.lib\"); process = os.osc(440);"))
        );
        // Not a standard-library name, or another error: untouched.
        assert_eq!(
            with_stdlib(&code("process = foo;"), &undefined("foo")),
            None
        );
        let syntax = FaustError::Compile {
            message: "syntax error".into(),
            file: None,
            line: Some(1),
        };
        assert_eq!(with_stdlib(&code("process = os.osc(440)"), &syntax), None);
        // A file is read and handled as its code is; one that cannot be read is left alone.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("osc.dsp");
        std::fs::write(&path, "process = os.osc(440);").unwrap();
        let file = DspSource::File { path: path.clone() };
        assert_eq!(
            with_stdlib(&file, &undefined("os")),
            Some(DspSource::Code {
                name: path.display().to_string(),
                code: "import(\"stdfaust.lib\"); process = os.osc(440);".into(),
            })
        );
        let missing = DspSource::File {
            path: dir.path().join("missing.dsp"),
        };
        assert_eq!(with_stdlib(&missing, &undefined("os")), None);
        let loads = code("process = component(\"osc.dsp\") : os.lowpass;");
        assert_eq!(with_stdlib(&loads, &undefined("os")), None);
        // Code that imports other libraries or defines its own `os` is not changed.
        let imports = code("import(\"oscillators.lib\"); process = os.osc(440);");
        assert_eq!(with_stdlib(&imports, &undefined("os")), None);
        let own = code("os = environment { osc(f) = 0; };\nprocess = os.osc(440);");
        assert_eq!(with_stdlib(&own, &undefined("os")), None);
        // `fi.lowpass(2, 1000)` uses `fi`; it does not define it.
        let used = code("process = fi.lowpass(2, 1000);");
        assert!(with_stdlib(&used, &undefined("fi")).is_some());
    }
}
