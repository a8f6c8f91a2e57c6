//! What code libfaust generated, apart from what it says about it.

use base64::Engine;
use object::{Object, ObjectSection};
use sha2::{Digest, Sha256};

/// SHA-256 (base64) of the generated code in libfaust's machine code (the base64 text of an object
/// file that `writeCDSPFactoryToMachine` returns): its executable sections, their relocations,
/// its constant pools and the sizes of its zero-filled data, but not the JSON description
/// (in `.rodata`) that names the compile options, nor symbol names. Two option sets with equal
/// digests compiled to the same code (e.g. `-vec -fun` and `-vec -fun -vs 32`); `-fm def`
/// changes the code though libfaust leaves it out of its option string and SHA key. Text that
/// is not an object file this build can read is digested whole, so it only ever equals itself.
pub fn code_digest(machine_code: &str) -> String {
    let mut hasher = Sha256::new();
    let object = base64::engine::general_purpose::STANDARD
        .decode(machine_code.trim())
        .ok();
    let file = object.as_deref().and_then(|o| object::File::parse(o).ok());
    match file {
        Some(file) => {
            for section in file.sections() {
                let name = section.name().unwrap_or_default();
                let code = name.starts_with(".text")
                    || name.starts_with(".rela.text")
                    || name.starts_with(".rodata.cst");
                if code {
                    hasher.update(name.as_bytes());
                    hasher.update(section.data().unwrap_or_default());
                } else if name.starts_with(".bss") {
                    hasher.update(name.as_bytes());
                    hasher.update(section.size().to_le_bytes());
                }
            }
        }
        None => hasher.update(machine_code.as_bytes()),
    }
    base64::engine::general_purpose::STANDARD.encode(hasher.finalize())
}
