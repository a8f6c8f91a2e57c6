//! Reading one callgrind dump (valgrind's "callgrind format": `events:`, then per function
//! `fn=` and its cost lines; a `calls=` line is followed by the inclusive cost of that call,
//! which is the callee's, not the caller's own).

use std::collections::HashMap;

/// What a dump holds: the events' names, their totals and each function's own (exclusive) cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Dump {
    pub events: Vec<String>,
    pub totals: Vec<u64>,
    /// Function name and its own cost per event, in the order first seen.
    pub functions: Vec<(String, Vec<u64>)>,
}

impl Dump {
    /// The total of event `name` (0 when the dump has no such event).
    pub fn total(&self, name: &str) -> u64 {
        (self.events.iter().position(|e| e == name)).map_or(0, |i| self.totals[i])
    }

    /// The own cost of each function for event `name`.
    pub fn per_function(&self, name: &str) -> Vec<(&str, u64)> {
        let Some(i) = self.events.iter().position(|e| e == name) else {
            return Vec::new();
        };
        (self.functions.iter())
            .map(|(f, costs)| (f.as_str(), costs.get(i).copied().unwrap_or(0)))
            .collect()
    }
}

/// Parses a dump; `Err` says what was not understood.
pub fn parse(text: &str) -> Result<Dump, String> {
    let mut events: Vec<String> = Vec::new();
    let mut totals: Option<Vec<u64>> = None;
    // Compressed names: `fn=(12) name` defines id 12, `fn=(12)` uses it.
    let mut names: HashMap<String, String> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut own: HashMap<String, Vec<u64>> = HashMap::new();
    let mut current: Option<String> = None;
    let mut after_calls = false;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("events:") {
            events = rest.split_whitespace().map(String::from).collect();
        } else if let Some(rest) = line
            .strip_prefix("totals:")
            .or_else(|| line.strip_prefix("summary:"))
        {
            totals = Some(numbers(rest)?);
        } else if let Some(rest) = line.strip_prefix("fn=") {
            let name = resolve(&mut names, rest);
            if !own.contains_key(&name) {
                order.push(name.clone());
                own.insert(name.clone(), vec![0; events.len()]);
            }
            current = Some(name);
        } else if let Some(rest) = line.strip_prefix("cfn=") {
            resolve(&mut names, rest);
        } else if line.starts_with("calls=") {
            after_calls = true;
        } else if line.starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-') {
            if after_calls {
                after_calls = false;
                continue;
            }
            let Some(f) = &current else { continue };
            // The first number is the position (a line), the others the events.
            let values = numbers(line)?;
            let cost = own.entry(f.clone()).or_default();
            cost.resize(events.len(), 0);
            for (c, v) in cost.iter_mut().zip(values.iter().skip(1)) {
                *c += v;
            }
        }
    }
    let mut totals = totals.ok_or("the dump has no totals")?;
    if events.is_empty() || totals.len() > events.len() {
        return Err("the dump names no events".into());
    }
    totals.resize(events.len(), 0);
    let functions = (order.into_iter())
        .map(|f| own.remove_entry(&f).unwrap_or((f, Vec::new())))
        .collect();
    Ok(Dump {
        events,
        totals,
        functions,
    })
}

/// `(12) name` → `name` (remembered for `(12)`), `(12)` → the name remembered, `name` → `name`.
fn resolve(names: &mut HashMap<String, String>, spec: &str) -> String {
    let spec = spec.trim();
    match spec.strip_prefix('(').and_then(|s| s.split_once(')')) {
        Some((id, rest)) if !rest.trim().is_empty() => {
            names.insert(id.to_string(), rest.trim().to_string());
            rest.trim().to_string()
        }
        Some((id, _)) => names.get(id).cloned().unwrap_or_else(|| format!("({id})")),
        None => spec.to_string(),
    }
}

/// Whitespace-separated numbers; a relative position (`+3`, `-2`) or `*` counts as 0.
fn numbers(text: &str) -> Result<Vec<u64>, String> {
    text.split_whitespace()
        .map(|n| {
            if n.starts_with(['+', '-', '*']) {
                Ok(0)
            } else if let Some(hex) = n.strip_prefix("0x") {
                u64::from_str_radix(hex, 16).map_err(|e| format!("`{n}`: {e}"))
            } else {
                n.parse().map_err(|e| format!("`{n}`: {e}"))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dump as callgrind 3.19 writes it (abridged from a real one).
    const DUMP: &str = "# callgrind format
version: 1
creator: callgrind-3.19.0
positions: line
events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw
summary: 327735 49072 44416 36 32909 282 4 1


ob=(20) /usr/lib/x86_64-linux-gnu/libfaust.so.2.54.9
fl=(207) ???
fn=(317270) llvm_dsp::compute(int, float**, float**)
0 896 192 448 1 27 0 1
cfn=(317272) JSONUIDecoderReal<float>::hasDSPProxy()
calls=64 0 
0 128 128 0 1 7 0 1
0 1088 640 0 1 25 0 1
cob=(2) ???
cfi=(52) ???
cfn=(317274) 0x000000000483c3c0
calls=64 0 
0 324032 47680 43776 30 32786 279

fn=(317272)
0 128 128 0 1 7 0 1

fn=(317274)
0 324032 47680 43776 30 32786 279

fn=(317268) computeCDSPInstance
0 256 128 0 1 37 0 1
cfn=(317270)
calls=64 0
0 326144 48640 44224 33 32845 281

totals: 327735 49072 44416 36 32909 282 4 1
";

    #[test]
    fn reads_totals_and_each_functions_own_cost() {
        let dump = parse(DUMP).unwrap();
        assert_eq!(dump.total("Ir"), 327735);
        assert_eq!(dump.total("D1mr"), 32909);
        let own: HashMap<&str, u64> = dump.per_function("Ir").into_iter().collect();
        // The compute wrapper's own cost leaves out what it called.
        assert_eq!(own["llvm_dsp::compute(int, float**, float**)"], 896 + 1088);
        assert_eq!(own["0x000000000483c3c0"], 324032);
        assert_eq!(own["JSONUIDecoderReal<float>::hasDSPProxy()"], 128);
        assert_eq!(own["computeCDSPInstance"], 256);
    }

    #[test]
    fn a_dump_without_totals_is_an_error() {
        assert!(parse("events: Ir\nfn=(1) f\n0 5\n").is_err());
    }
}
