//! What the MCP server lets its clients read: `.dsp` files and Faust imports beneath the roots
//! the user configured (`--allow-dir`) and the Faust library directories, nothing else. The
//! check here gives a clear error before anything runs; the workers are also confined with
//! Landlock to the same directories (see `worker::confine`).

use crate::libfaust::imports::{source_files, ImportError, LIBRARY_DIRS};
use crate::libfaust::DspSource;
use std::path::{Path, PathBuf};

/// The directories clients may read from.
#[derive(Debug, Clone)]
pub struct Roots {
    dirs: Vec<PathBuf>,
}

impl Roots {
    /// The given directories, resolved; each must exist.
    pub fn new(dirs: &[PathBuf]) -> Result<Roots, String> {
        let dirs = dirs
            .iter()
            .map(|d| match d.canonicalize() {
                Ok(dir) if dir.is_dir() => Ok(dir),
                Ok(_) => Err(format!("--allow-dir {}: not a directory", d.display())),
                Err(e) => Err(format!("--allow-dir {}: {e}", d.display())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Roots { dirs })
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// `text` as a program: a path when it is one line ending in `.dsp` (relative to the current
    /// directory), otherwise Faust code named `name`. A path must lie beneath a root, and every
    /// file the program imports beneath a root or a Faust library directory.
    pub fn source(&self, text: &str, name: &str) -> Result<(DspSource, String), String> {
        let trimmed = text.trim();
        let source = if !trimmed.contains('\n') && trimmed.ends_with(".dsp") {
            DspSource::File {
                path: self.file(Path::new(trimmed))?,
            }
        } else {
            DspSource::Code {
                name: name.into(),
                code: text.into(),
            }
        };
        let library_dirs: Vec<PathBuf> = LIBRARY_DIRS.iter().map(PathBuf::from).collect();
        match source_files(&source, &|path| {
            self.check(path, &library_dirs)
                .map_err(ImportError::Refused)
        }) {
            Err(ImportError::Refused(why)) => return Err(why),
            // A missing or unreadable import is left to the compiler, which names its line.
            Ok(_) | Err(ImportError::Unreadable(_)) => {}
        }
        let label = match &source {
            DspSource::File { path } => path.display().to_string(),
            DspSource::Code { .. } => name.to_string(),
        };
        Ok((source, label))
    }

    /// `path` (relative to the current directory), resolved, when it is a file beneath a root.
    pub fn file(&self, path: &Path) -> Result<PathBuf, String> {
        let resolved = path
            .canonicalize()
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        if !resolved.is_file() {
            return Err(format!("{} is not a file", path.display()));
        }
        self.check(&resolved, &[])?;
        Ok(resolved)
    }

    /// Whether `path` lies beneath a root or one of `also`, symbolic links resolved.
    fn check(&self, path: &Path, also: &[PathBuf]) -> Result<(), String> {
        let resolved = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let allowed = self
            .dirs
            .iter()
            .chain(also)
            .any(|dir| resolved.starts_with(dir));
        if allowed {
            Ok(())
        } else {
            Err(format!(
                "{} is outside the directories this server may read ({}); start it with --allow-dir to add one",
                path.display(),
                self.describe()
            ))
        }
    }

    /// The roots, for messages.
    pub fn describe(&self) -> String {
        self.dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_imports_stay_inside_the_roots() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(
            root.path().join("ok.dsp"),
            "import(\"stdfaust.lib\");\nprocess = _;\n",
        )
        .unwrap();
        std::fs::write(outside.path().join("far.dsp"), "process = _;\n").unwrap();
        let roots = Roots::new(&[root.path().to_path_buf()]).unwrap();

        let ok = root.path().join("ok.dsp");
        assert!(matches!(
            roots.source(ok.to_str().unwrap(), "x"),
            Ok((DspSource::File { .. }, _))
        ));
        let far = outside.path().join("far.dsp");
        assert!(roots
            .source(far.to_str().unwrap(), "x")
            .unwrap_err()
            .contains("outside the directories"));
        // A link inside the root to a file outside is outside.
        let link = root.path().join("link.dsp");
        std::os::unix::fs::symlink(&far, &link).unwrap();
        assert!(roots.source(link.to_str().unwrap(), "x").is_err());

        // Code: the Faust libraries are allowed, /etc is not, a missing import is the compiler's.
        assert!(roots
            .source("import(\"stdfaust.lib\"); process = os.osc(440);", "x")
            .is_ok());
        let err = roots
            .source("import(\"/etc/passwd\"); process = _;", "x")
            .unwrap_err();
        assert!(err.contains("/etc/passwd"), "{err}");
        assert!(roots
            .source("import(\"nowhere.lib\"); process = _;", "x")
            .is_ok());
    }
}
