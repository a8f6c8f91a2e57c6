//! Where the generated functions are in this process. libfaust's machine code is an object file
//! whose symbols name the functions (`compute…`, and with `-fun` the loop functions LLVM did not
//! inline) at offsets in `.text`; the JIT copied `.text` into an anonymous executable mapping and
//! patched its relocations. The copy is found by its bytes (relocated bytes left out), which
//! gives every function's address: callgrind's unnamed functions (`0x…`) get their names, and
//! `perf` gets a map (`/tmp/perf-PID.map`).

use crate::backends::Code;
use base64::Engine;
use object::{Object, ObjectSection, ObjectSymbol, SymbolKind};
use serde::{Deserialize, Serialize};
use std::io::Write;

/// A generated function in memory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Function {
    pub address: u64,
    pub size: u64,
    pub name: String,
}

/// The generated functions of `machine_code` (libfaust's base64 object file) as loaded in this
/// process; empty when its text is not found (then callgrind's names stay addresses).
pub fn jit_functions(machine_code: &str) -> Vec<Function> {
    functions_in(machine_code).unwrap_or_default()
}

fn functions_in(machine_code: &str) -> Option<Vec<Function>> {
    let bytes = (base64::engine::general_purpose::STANDARD)
        .decode(machine_code.trim())
        .ok()?;
    let file = object::File::parse(&*bytes).ok()?;
    let text = file.section_by_name(".text")?;
    let data = text.data().ok()?;
    // Bytes the JIT rewrote.
    let mut relocated = vec![false; data.len()];
    for (offset, relocation) in text.relocations() {
        let bytes = (relocation.size() as usize / 8).max(4);
        let start = offset as usize;
        for b in relocated.iter_mut().skip(start).take(bytes) {
            *b = true;
        }
    }
    let base = find_copy(data, &relocated)?;
    let functions = file
        .symbols()
        .filter(|s| s.kind() == SymbolKind::Text && s.section_index() == Some(text.index()))
        .filter_map(|s| {
            Some(Function {
                address: base + s.address(),
                size: s.size(),
                name: s.name().ok()?.to_string(),
            })
        })
        .collect();
    Some(functions)
}

/// The address of the copy of `text` in an anonymous executable mapping of this process, its
/// `relocated` bytes aside.
fn find_copy(text: &[u8], relocated: &[bool]) -> Option<u64> {
    // The longest run of bytes the JIT left alone is what is searched for.
    let (mut best, mut run_start) = ((0, 0), 0);
    for (i, &end) in relocated.iter().chain([&true]).enumerate() {
        if end {
            if i - run_start > best.1 - best.0 {
                best = (run_start, i);
            }
            run_start = i + 1;
        }
    }
    let (needle_start, needle_end) = best;
    if needle_end - needle_start < 16 {
        return None;
    }
    let needle = &text[needle_start..needle_end];
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        // Anonymous (no path), readable and executable, not writable: where the JIT puts
        // code once it is final. (A writable copy is the object file itself, in the heap, which
        // valgrind maps executable.)
        if fields.len() != 5 || !fields[1].starts_with("r-x") {
            continue;
        }
        let (start, end) = fields[0].split_once('-')?;
        let (start, end) = (
            u64::from_str_radix(start, 16).ok()?,
            u64::from_str_radix(end, 16).ok()?,
        );
        // SAFETY: the mapping is readable and stays mapped while the factory that owns it lives
        // (the caller holds it); it is only read.
        let region =
            unsafe { std::slice::from_raw_parts(start as *const u8, (end - start) as usize) };
        let mut from = 0;
        while let Some(at) = find(&region[from..], needle) {
            let base = from + at;
            if base >= needle_start {
                let copy = base - needle_start;
                let fits = copy + text.len() <= region.len()
                    && (0..text.len()).all(|i| relocated[i] || region[copy + i] == text[i]);
                if fits {
                    return Some(start + copy as u64);
                }
            }
            from = base + 1;
        }
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A callgrind function name with the generated function it is (when `name` is an address
/// inside one of `generated`): `(name, true)`; else the name as it is, and whether it is
/// unnamed code (an address, which only the JIT makes).
pub fn name_of(name: &str, generated: &[Function]) -> (String, bool) {
    let address = name
        .strip_prefix("0x")
        .map(|hex| u64::from_str_radix(hex, 16));
    let Some(Ok(address)) = address else {
        return (name.to_string(), false);
    };
    match generated
        .iter()
        .find(|f| (f.address..f.address + f.size.max(1)).contains(&address))
    {
        Some(f) => (f.name.clone(), true),
        None => (format!("generated code at {name}"), true),
    }
}

/// Adds the generated functions of `code` (loaded in this process) to `/tmp/perf-PID.map`,
/// perf's convention for JIT code (`START SIZE name`, hex), so that `perf record` names the
/// samples in them, e.g. `computemydsp [-vec]`; says on stderr when it cannot. LLVM code only.
pub fn map_for_perf(code: &Code, label: &str) {
    let Ok(machine_code) = crate::backends::llvm::machine_code(code) else {
        return;
    };
    let path = format!("/tmp/perf-{}.map", std::process::id());
    let functions = jit_functions(machine_code);
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| {
            let set = crate::options::display(label);
            for f in &functions {
                writeln!(file, "{:x} {:x} {} [{set}]", f.address, f.size, f.name)?;
            }
            Ok(())
        });
    match written {
        Err(e) => eprintln!("faustperf: cannot write {path}: {e}"),
        Ok(()) if functions.is_empty() => {
            eprintln!("faustperf: the generated code of {label} was not found in memory: no perf map for it")
        }
        Ok(()) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_inside_a_generated_function_take_its_name() {
        let generated = [Function {
            address: 0x4000,
            size: 0x100,
            name: "computemydsp".into(),
        }];
        assert_eq!(
            name_of("0x0000000000004010", &generated),
            ("computemydsp".into(), true)
        );
        assert_eq!(
            name_of("0x0000000000009000", &generated),
            ("generated code at 0x0000000000009000".into(), true)
        );
        assert_eq!(name_of("sinf", &generated), ("sinf".into(), false));
    }
}
