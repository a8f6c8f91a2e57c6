//! Several backends in one run: each option set's speed on every backend, the fastest backend,
//! and whether the set that wins on LLVM also wins (or ties) on C++.

use super::result::{BackendRow, SetResult, SideBySide};
use crate::options::{display, Backend};

/// The sets of `results` (ranked) on each of `backends`; `None` with fewer than two. Two sets
/// are tied when their 95 % intervals overlap or they differ by less than `tie_percent`.
pub fn side_by_side(
    results: &[SetResult],
    backends: &[Backend],
    tie_percent: f64,
) -> Option<SideBySide> {
    if backends.len() < 2 {
        return None;
    }
    let mut labels: Vec<&str> = Vec::new();
    for r in results {
        if !labels.contains(&r.compiler_options.as_str()) {
            labels.push(&r.compiler_options);
        }
    }
    let on = |label: &str, backend: Backend| {
        results
            .iter()
            .find(|r| r.compiler_options == label && r.backend == backend)
    };
    let sets = labels
        .iter()
        .map(|label| {
            let measured: Vec<Option<&SetResult>> =
                backends.iter().map(|&b| on(label, b)).collect();
            BackendRow {
                compiler_options: label.to_string(),
                throughput_mbps: measured
                    .iter()
                    .map(|r| r.map(|r| r.throughput_mbps))
                    .collect(),
                fastest: measured
                    .iter()
                    .flatten()
                    .max_by(|a, b| a.throughput_mbps.total_cmp(&b.throughput_mbps))
                    .map(|r| r.backend),
            }
        })
        .collect();
    let first_on = |backend: Backend| results.iter().find(|r| r.backend == backend);
    let llvm_winner_on_cpp = (|| {
        let winner = first_on(Backend::Llvm)?;
        let cpp_best = first_on(Backend::Cpp)?;
        let name = display(&winner.compiler_options);
        let Some(on_cpp) = on(&winner.compiler_options, Backend::Cpp) else {
            return Some(format!("{name}, the fastest on llvm, did not run on cpp"));
        };
        let gap = 100.0 * (cpp_best.throughput_mbps / on_cpp.throughput_mbps - 1.0);
        let overlap = on_cpp.throughput_ci95_mbps[1] >= cpp_best.throughput_ci95_mbps[0];
        Some(if std::ptr::eq(on_cpp, cpp_best) {
            format!(
                "{name}, the fastest on llvm ({:.1} MB/s), is also the fastest on cpp ({:.1} MB/s)",
                winner.throughput_mbps, on_cpp.throughput_mbps
            )
        } else if overlap || gap < tie_percent {
            format!(
                "{name}, the fastest on llvm, ties on cpp with the fastest there, {} ({:.1} vs {:.1} MB/s: {})",
                display(&cpp_best.compiler_options),
                on_cpp.throughput_mbps,
                cpp_best.throughput_mbps,
                if gap < tie_percent { "within the tie threshold" } else { "their 95 % intervals overlap" }
            )
        } else {
            format!(
                "{name}, the fastest on llvm, is not the best on cpp: {} runs {gap:.1} % faster there ({:.1} vs {:.1} MB/s); choose options for the backend you ship",
                display(&cpp_best.compiler_options),
                cpp_best.throughput_mbps,
                on_cpp.throughput_mbps
            )
        })
    })();
    Some(SideBySide {
        backends: backends.to_vec(),
        sets,
        llvm_winner_on_cpp,
    })
}
