//! The compile cache: compiled code of option sets on disk (LLVM machine code, interpreter
//! bytecode, C++ shared objects, precompiled WebAssembly), so that a second run skips the
//! compilers entirely.
//!
//! Key: SHA-256 of the cache format, libfaust's version, the machine target, the backend (with
//! the C++ compiler's identity and flags, or the WebAssembly runtime's version), the compiler
//! options, the DSP source and every file it imports (found by following `import`, `library`
//! and `component` in the text, next to the DSP, in the working directory and in the Faust
//! library directories). Entries are written to a temporary file and renamed, so concurrent
//! faustperf processes never read half an entry; each entry carries the SHA-256 of its code,
//! so a truncated or corrupted one is detected, discarded and recompiled. The least recently
//! used entries are removed when the cache grows past its cap.

use crate::backends::Cxx;
use crate::jobs::{CompileInfo, Compiled};
use crate::libfaust::imports::source_files;
use crate::libfaust::imports::ImportError;
use crate::libfaust::{DspSource, LibFaust, Target};
use crate::options::OptionSet;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Changes when an entry's layout does (4: `Code` is a backend and its parts).
const FORMAT: &str = "faustperf-cache/4";
const ENTRY_EXTENSION: &str = "entry";
/// Temporary files older than this were left by a process that died while writing.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Default size cap, bytes (1 GiB).
pub const DEFAULT_MAX_BYTES: u64 = 1 << 30;

/// An on-disk cache directory.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    max_bytes: u64,
}

/// The first line of an entry; the machine code follows it.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    key: String,
    code_bytes: usize,
    code_sha256: String,
    info: CompileInfo,
}

/// What `faustperf cache stats` reports.
#[derive(Debug, Clone, Serialize)]
pub struct CacheStats {
    pub dir: PathBuf,
    pub entries: usize,
    /// Bytes of all entries.
    pub bytes: u64,
    /// Size cap, bytes.
    pub max_bytes: u64,
}

impl Cache {
    /// The cache directory: `FAUSTPERF_CACHE_DIR`, else `$XDG_CACHE_HOME/faustperf`, else
    /// `~/.cache/faustperf`.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("FAUSTPERF_CACHE_DIR") {
            return Some(PathBuf::from(dir));
        }
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
        Some(base.join("faustperf"))
    }

    /// Opens (creating) a cache in `dir` and checks that it is writable.
    pub fn open(dir: &Path, max_bytes: u64) -> std::io::Result<Cache> {
        fs::create_dir_all(dir)?;
        let probe = dir.join(format!(".probe-{}", std::process::id()));
        fs::write(&probe, b"")?;
        fs::remove_file(&probe)?;
        Ok(Cache {
            dir: dir.to_path_buf(),
            max_bytes,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A digest of `source` and every file it imports, computed once per analysis, or why it
    /// cannot be computed (an imported file that cannot be found or read: then the sets are
    /// compiled without the cache).
    pub fn source_digest(source: &DspSource) -> Result<String, CacheError> {
        let (text, files) = source_files(source, &|_| Ok(())).map_err(CacheError::Source)?;
        let mut hash = Sha256::new();
        hash.update(text.as_bytes());
        for file in files {
            hash.update(file.path.to_string_lossy().as_bytes());
            hash.update([0]);
            hash.update(file.text.as_bytes());
        }
        Ok(hex(&hash.finalize()))
    }

    /// The key of a source (its [`Cache::source_digest`]) compiled with `options` by this
    /// libfaust for this CPU.
    pub fn key(
        source_digest: &str,
        options: &OptionSet,
        cxx: Option<&Cxx>,
        target: Target,
        lib: &LibFaust,
    ) -> String {
        let backend = crate::backends::identity(options.backend, cxx);
        let target = match target {
            Target::Host => lib.machine_target().to_string(),
            other => other.llvm(lib),
        };
        let mut hash = Sha256::new();
        for part in [FORMAT, lib.version(), &target, &backend, source_digest] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        for option in &options.args {
            hash.update(option.as_bytes());
            hash.update([0]);
        }
        hex(&hash.finalize())
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.{ENTRY_EXTENSION}"))
    }

    /// The entry for `key`: `Ok(None)` when absent; `Err` (with the entry removed) when it is
    /// truncated, corrupted or not for this key.
    pub fn load(&self, key: &str) -> Result<Option<Compiled>, CacheError> {
        let path = self.entry_path(key);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(CacheError::Unreadable { path, error }),
        };
        match parse_entry(&bytes, key) {
            Ok(compiled) => {
                // Mark it recently used for the LRU eviction.
                if let Ok(file) = fs::File::options().append(true).open(&path) {
                    let _ = file.set_modified(SystemTime::now());
                }
                Ok(Some(compiled))
            }
            Err(why) => {
                let _ = fs::remove_file(&path);
                Err(CacheError::Discarded { path, why })
            }
        }
    }

    /// Stores `compiled` under `key` (temporary file, then rename), then evicts least recently
    /// used entries past the cap. On failure (e.g. disk full) nothing partial is left.
    pub fn store(&self, key: &str, compiled: &Compiled) -> std::io::Result<()> {
        let code = serde_json::to_vec(&compiled.code)?;
        let header = Header {
            format: FORMAT.into(),
            key: key.into(),
            code_bytes: code.len(),
            code_sha256: hex(&Sha256::digest(&code)),
            info: compiled.info.clone(),
        };
        let temp = self.dir.join(format!(".{key}.tmp-{}", std::process::id()));
        let written = (|| {
            let mut file = fs::File::create(&temp)?;
            serde_json::to_writer(&mut file, &header)?;
            file.write_all(b"\n")?;
            file.write_all(&code)?;
            file.sync_all()?;
            fs::rename(&temp, self.entry_path(key))
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written?;
        self.evict();
        Ok(())
    }

    /// Removes stale temporary files and the least recently used entries past the cap.
    fn evict(&self) {
        let Ok(dir) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::now();
        let mut entries: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        for e in dir.filter_map(Result::ok) {
            let (Ok(meta), path) = (e.metadata(), e.path()) else {
                continue;
            };
            let modified = meta.modified().unwrap_or(now);
            let name = e.file_name().to_string_lossy().into_owned();
            if name.contains(".tmp-") {
                if now.duration_since(modified).unwrap_or_default() > STALE_TEMP {
                    let _ = fs::remove_file(&path);
                }
            } else if name.ends_with(ENTRY_EXTENSION) {
                entries.push((modified, meta.len(), path));
            }
        }
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    pub fn stats(&self) -> CacheStats {
        let (entries, bytes) = self
            .entries()
            .fold((0, 0), |(n, b), (_, len)| (n + 1, b + len));
        CacheStats {
            dir: self.dir.clone(),
            entries,
            bytes,
            max_bytes: self.max_bytes,
        }
    }

    /// Removes every entry; returns how many.
    pub fn clear(&self) -> std::io::Result<usize> {
        let entries: Vec<_> = self.entries().collect();
        for (path, _) in &entries {
            fs::remove_file(path)?;
        }
        Ok(entries.len())
    }

    fn entries(&self) -> impl Iterator<Item = (PathBuf, u64)> {
        fs::read_dir(&self.dir)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == ENTRY_EXTENSION))
            .map(|e| (e.path(), e.metadata().map(|m| m.len()).unwrap_or(0)))
    }
}

/// The entry in `bytes`, or what is wrong with it.
fn parse_entry(bytes: &[u8], key: &str) -> Result<Compiled, Flaw> {
    let newline = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or(Flaw::NoHeader)?;
    let header: Header =
        serde_json::from_slice(&bytes[..newline]).map_err(|e| Flaw::Header(e.to_string()))?;
    if header.format != FORMAT {
        return Err(Flaw::Format(header.format));
    }
    if header.key != key {
        return Err(Flaw::OtherKey);
    }
    let code = &bytes[newline + 1..];
    if code.len() != header.code_bytes {
        return Err(Flaw::Length {
            found: code.len(),
            expected: header.code_bytes,
        });
    }
    if hex(&Sha256::digest(code)) != header.code_sha256 {
        return Err(Flaw::Checksum);
    }
    let code = serde_json::from_slice(code).map_err(|e| Flaw::Code(e.to_string()))?;
    Ok(Compiled {
        info: header.info,
        code,
    })
}

/// Why the cache could not serve a compile; the run goes on without it.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The source or a file it imports cannot be read.
    #[error("{0}")]
    Source(ImportError),
    #[error("cache entry {}: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cache entry {} discarded ({why}); recompiling", path.display())]
    Discarded { path: PathBuf, why: Flaw },
}

/// What is wrong with a cache entry.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum Flaw {
    #[error("no header")]
    NoHeader,
    #[error("unreadable header: {0}")]
    Header(String),
    #[error("format {0} is not {FORMAT}")]
    Format(String),
    #[error("the entry belongs to another key")]
    OtherKey,
    #[error("{found} bytes of code instead of {expected}")]
    Length { found: usize, expected: usize },
    #[error("the code does not match its checksum")]
    Checksum,
    #[error("unreadable code: {0}")]
    Code(String),
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::Precision;

    fn compiled(code: &str) -> Compiled {
        Compiled {
            info: CompileInfo {
                seconds: 1.0,
                normalized_options: "-vec".into(),
                sha_key: "K".into(),
                code_digest: "D".into(),
                stdlib_imported: false,
                warnings: vec![],
                inputs: 1,
                outputs: 1,
                precision: Precision::Single,
                memory_bytes: Some(10),
                controls: 0,
                threads: 1,
            },
            code: crate::backends::Code {
                backend: crate::options::Backend::Llvm,
                parts: vec![code.into()],
            },
        }
    }

    #[test]
    fn round_trip_corruption_and_eviction() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 1 << 20).unwrap();
        assert_eq!(cache.load("k1").unwrap(), None);
        cache.store("k1", &compiled("CODE")).unwrap();
        assert_eq!(cache.load("k1").unwrap(), Some(compiled("CODE")));

        // Truncated: detected, discarded, and then absent.
        let refusal = || cache.load("k1").unwrap_err().to_string();
        let path = cache.entry_path("k1");
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(refusal().contains("discarded"));
        assert!(!path.exists());

        // Corrupted code of the right length, and a foreign file under the key's name.
        cache.store("k1", &compiled("CODE")).unwrap();
        let mut bytes = fs::read(&path).unwrap();
        *bytes.last_mut().unwrap() = b'X';
        fs::write(&path, &bytes).unwrap();
        assert!(refusal().contains("checksum"));
        fs::write(&path, b"not a cache entry").unwrap();
        assert!(cache.load("k1").is_err());

        // Eviction keeps the most recently used entries under the cap.
        let small = Cache::open(dir.path(), 700).unwrap();
        small.clear().unwrap();
        for key in ["a", "b", "c"] {
            small.store(key, &compiled(&"x".repeat(100))).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        let stats = small.stats();
        assert!(stats.bytes <= 700, "{stats:?}");
        assert!(small.load("c").unwrap().is_some());
        assert!(small.load("a").unwrap().is_none());
        assert_eq!(small.clear().unwrap(), stats.entries);
        assert_eq!(small.stats().entries, 0);
    }

    #[test]
    fn key_follows_imported_files_and_options() {
        let lib = LibFaust::get().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let dsp = dir.path().join("main.dsp");
        fs::write(&dsp, "import(\"helper.lib\");\nprocess = helper;").unwrap();
        fs::write(dir.path().join("helper.lib"), "helper = _;").unwrap();
        let source = DspSource::File { path: dsp };
        let options = crate::options::parse_option_set("-vec").unwrap();
        let d1 = Cache::source_digest(&source).unwrap();
        assert_eq!(d1, Cache::source_digest(&source).unwrap());
        assert_ne!(
            Cache::key(&d1, &options, None, Target::Host, lib),
            Cache::key(&d1, &OptionSet::scalar(), None, Target::Host, lib)
        );
        fs::write(dir.path().join("helper.lib"), "helper = *(2);").unwrap();
        assert_ne!(d1, Cache::source_digest(&source).unwrap());
        fs::remove_file(dir.path().join("helper.lib")).unwrap();
        assert!(Cache::source_digest(&source)
            .unwrap_err()
            .to_string()
            .contains("helper.lib"));
    }
}
