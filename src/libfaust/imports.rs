//! The files a Faust program reads when it compiles: itself and, transitively, every file named
//! in `import("…")`, `library("…")` and `component("…")`, found where libfaust looks for them.

use super::DspSource;
use std::fs;
use std::path::{Path, PathBuf};

/// Where libfaust looks for libraries after the DSP's own directory and the current one.
pub const LIBRARY_DIRS: &[&str] = &["/usr/local/share/faust", "/usr/share/faust"];

/// A file the program reads, with its text.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

/// Why the files of a program could not be listed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// `allow` refused a file.
    #[error("{0}")]
    Refused(String),
    /// A file is missing or unreadable (the compile would fail on it too).
    #[error("{0}")]
    Unreadable(String),
}

/// The program's own text and every file it imports, transitively, each once. Each file is shown
/// to `allow` before it is read, which may refuse it ([`ImportError::Refused`]).
pub fn source_files(
    source: &DspSource,
    allow: &dyn Fn(&Path) -> Result<(), ImportError>,
) -> Result<(String, Vec<SourceFile>), ImportError> {
    let read = |path: &Path| {
        allow(path)?;
        fs::read_to_string(path)
            .map_err(|e| ImportError::Unreadable(format!("{}: {e}", path.display())))
    };
    let (text, dir) = match source {
        DspSource::Code { code, .. } => (code.clone(), None),
        DspSource::File { path } => (read(path)?, path.parent().map(Path::to_path_buf)),
    };
    let mut files: Vec<SourceFile> = Vec::new();
    let mut pending: Vec<String> = imported_names(&text);
    while let Some(name) = pending.pop() {
        let found = candidates(&name, dir.as_deref());
        if found.is_empty() {
            return Err(ImportError::Unreadable(format!(
                "import `{name}` not found"
            )));
        }
        for path in found {
            if files.iter().any(|f| f.path == path) {
                continue;
            }
            let text = read(&path)?;
            pending.extend(imported_names(&text));
            files.push(SourceFile { path, text });
        }
    }
    Ok((text, files))
}

/// Paths where `name` may be found, in libfaust's search order; absolute names stand alone.
fn candidates(name: &str, dsp_dir: Option<&Path>) -> Vec<PathBuf> {
    let path = Path::new(name);
    if path.is_absolute() {
        return Vec::from_iter(path.is_file().then(|| path.to_path_buf()));
    }
    dsp_dir
        .into_iter()
        .map(Path::to_path_buf)
        .chain(std::env::current_dir().ok())
        .chain(LIBRARY_DIRS.iter().map(PathBuf::from))
        .map(|d| d.join(path))
        .filter(|p| p.is_file())
        .collect()
}

/// The file names in `import("…")`, `library("…")` and `component("…")` of Faust text.
/// Occurrences in comments are included too: that only adds files to the key.
fn imported_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    for keyword in ["import", "library", "component"] {
        let mut rest = text;
        while let Some(at) = rest.find(keyword) {
            rest = &rest[at + keyword.len()..];
            let quoted = (rest.trim_start().strip_prefix('('))
                .and_then(|after| after.trim_start().strip_prefix('"'))
                .and_then(|after| after.split_once('"'));
            names.extend(quoted.map(|(name, _)| name.to_string()));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_imports() {
        let text = "import(\"stdfaust.lib\");\nx = library ( \"maths.lib\" );\ny = component(\"a b.dsp\");\nimportant = 1;";
        assert_eq!(
            imported_names(text),
            ["stdfaust.lib", "maths.lib", "a b.dsp"]
        );
    }
}
