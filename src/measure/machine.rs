//! A fingerprint of the machine a figure was measured on: what makes times comparable or not
//! (CPU, its caches and SMT, virtualisation, kernel, governor), and a short stable id of it.
//! Instruction counts do not depend on it; times do.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The machine, as read from `/proc` and `/sys` (fields that cannot be read are `null`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Machine {
    /// The first 12 hex digits of a SHA-256 of the fields below, the CPU model, the LLVM
    /// target and libfaust's version: equal ids, the same kind of machine.
    pub id: String,
    /// `vendor family model stepping` from `/proc/cpuinfo`, e.g. `AuthenticAMD 26 2 1`.
    pub cpu_family: Option<String>,
    /// Logical CPUs online.
    pub cores: usize,
    /// Hardware threads per core (2 with SMT), from CPU 0's siblings.
    pub threads_per_core: Option<usize>,
    /// CPU 0's caches, e.g. `L1 Data 48K`, `L3 Unified 32768K`.
    pub caches: Vec<String>,
    /// The CPU reports running under a hypervisor (its `hypervisor` flag).
    pub virtualised: Option<bool>,
    /// The kernel release.
    pub kernel: Option<String>,
    /// CPU 0's frequency governor.
    pub governor: Option<String>,
}

fn read(path: impl AsRef<Path>) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The value of `key` in the first processor of `/proc/cpuinfo`.
fn cpuinfo<'a>(info: &'a str, key: &str) -> Option<&'a str> {
    info.lines()
        .take_while(|l| !l.trim().is_empty())
        .find(|l| l.split(':').next().is_some_and(|k| k.trim() == key))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim())
}

/// How many CPUs a list like `0-1,4` names.
fn count_list(list: &str) -> Option<usize> {
    list.split(',')
        .try_fold(0, |n, part| match part.split_once('-') {
            Some((a, b)) => Some(n + b.parse::<usize>().ok()? + 1 - a.parse::<usize>().ok()?),
            None => part.parse::<usize>().ok().map(|_| n + 1),
        })
}

/// The machine's logical CPUs online (this process's affinity may allow fewer).
pub fn online_cores() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(1) as usize
}

impl Machine {
    /// This machine, for code from libfaust `libfaust_version` targeting `target` on a CPU
    /// named `cpu_model`.
    pub fn here(cpu_model: Option<&str>, target: &str, libfaust_version: &str) -> Machine {
        let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let family = ["vendor_id", "cpu family", "model", "stepping"]
            .iter()
            .map(|k| cpuinfo(&info, k))
            .collect::<Option<Vec<&str>>>()
            .map(|parts| parts.join(" "));
        let cpu = Path::new("/sys/devices/system/cpu/cpu0");
        let caches = (0..8)
            .map_while(|i| {
                let index = cpu.join(format!("cache/index{i}"));
                let field = |f: &str| read(index.join(f));
                Some(format!(
                    "L{} {} {}",
                    field("level")?,
                    field("type")?,
                    field("size")?
                ))
            })
            .collect();
        let mut machine = Machine {
            id: String::new(),
            cpu_family: family,
            cores: online_cores(),
            threads_per_core: read(cpu.join("topology/thread_siblings_list"))
                .and_then(|l| count_list(&l)),
            caches,
            virtualised: cpuinfo(&info, "flags")
                .map(|flags| flags.split_whitespace().any(|f| f == "hypervisor")),
            kernel: read("/proc/sys/kernel/osrelease"),
            governor: read(cpu.join("cpufreq/scaling_governor")),
        };
        machine.id = machine.digest(cpu_model, target, libfaust_version);
        machine
    }

    fn digest(&self, cpu_model: Option<&str>, target: &str, libfaust_version: &str) -> String {
        let mut hash = Sha256::new();
        let fields = serde_json::to_string(&Machine {
            id: String::new(),
            ..self.clone()
        })
        .unwrap_or_default();
        for part in [cpu_model.unwrap_or(""), target, libfaust_version, &fields] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        hash.finalize()[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// What differs from `other` (a baseline's), in words; empty when the ids are equal.
    pub fn differences(&self, other: &Machine) -> Vec<String> {
        if self.id == other.id || other.id.is_empty() {
            return Vec::new();
        }
        let (a, b) = (serde_json::to_value(other), serde_json::to_value(self));
        let (Ok(serde_json::Value::Object(then)), Ok(serde_json::Value::Object(now))) = (a, b)
        else {
            return Vec::new();
        };
        let fields: Vec<String> = (now.iter())
            .filter(|(k, v)| *k != "id" && then.get(*k) != Some(*v))
            .map(|(k, v)| {
                format!(
                    "{k} {} → {v}",
                    then.get(k).unwrap_or(&serde_json::Value::Null)
                )
            })
            .collect();
        vec![format!(
            "machine: baseline {}, now {} ({}): times measured on another machine do not compare; instruction counts do",
            other.id,
            self.id,
            if fields.is_empty() {
                "its CPU, target or libfaust differ".to_string()
            } else {
                fields.join("; ")
            }
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_is_stable_and_says_what_differs() {
        let here = Machine::here(Some("Example CPU"), "x86_64-pc-linux-gnu:znver3", "2.54.9");
        assert_eq!(here.id.len(), 12);
        assert!(here.id.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(
            here,
            Machine::here(Some("Example CPU"), "x86_64-pc-linux-gnu:znver3", "2.54.9")
        );
        assert!(here.cores >= 1);
        // Another target is another machine, even with the same fields.
        let other = Machine::here(Some("Example CPU"), "x86_64-pc-linux-gnu:generic", "2.54.9");
        assert_ne!(here.id, other.id);
        assert!(here.differences(&here).is_empty());
        let mut bigger = here.clone();
        bigger.cores += 2;
        bigger.id = bigger.digest(Some("Example CPU"), "x86_64-pc-linux-gnu:znver3", "2.54.9");
        let said = bigger.differences(&here);
        assert!(
            said[0].contains(&format!("cores {} → {}", here.cores, here.cores + 2)),
            "{said:?}"
        );
        assert_eq!(count_list("0-1,4"), Some(3));
        assert_eq!(count_list("0"), Some(1));
    }
}
