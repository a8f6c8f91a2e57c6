//! Recommendations drawn from ranked results; each cites the numbers it rests on.

use super::result::{Category, SetResult};

/// Instance memory above which a recommendation is made, bytes.
const LARGE_MEMORY: u64 = 10 << 20;

/// Advice lines for ranked `results` at `sample_rate`.
pub fn recommendations(results: &[SetResult], sample_rate: u32) -> Vec<String> {
    let mut out = Vec::new();
    let Some(best) = results.first() else {
        return out;
    };
    let recommended = results.iter().find(|r| r.is_recommended).unwrap_or(best);
    let name = SetResult::name;

    let tied: Vec<&SetResult> = results.iter().filter(|r| r.tied_with_best).collect();
    if tied.len() > 1 {
        out.push(format!(
            "{} option sets are tied with the fastest within noise ({}). Recommended the simplest, {} ({:.1} MB/s).",
            tied.len(),
            tied.iter().map(|r| name(r)).collect::<Vec<_>>().join(", "),
            name(recommended),
            recommended.throughput_mbps
        ));
    }

    let baseline = results.iter().find(|r| r.is_baseline);
    let best_vector = results
        .iter()
        .find(|r| !r.is_baseline && r.compiler_options.contains("-vec"));
    match (baseline, best_vector) {
        (Some(scalar), Some(vector)) if vector.rank < scalar.rank && !scalar.tied_with_best => out.push(format!(
            "Vectorisation pays: {} runs {:.2}× the scalar code ({:.1} vs {:.1} MB/s).",
            name(vector),
            vector
                .speedup_vs_baseline
                .unwrap_or(vector.throughput_mbps / scalar.throughput_mbps),
            vector.throughput_mbps,
            scalar.throughput_mbps
        )),
        (Some(scalar), Some(vector)) if scalar.rank < vector.rank => out.push(format!(
            "Vector code does not help this DSP: scalar reaches {:.1} MB/s, the best vector set {} {:.1} MB/s; \
             keep scalar code (feedback loops often prevent vectorisation).",
            scalar.throughput_mbps,
            name(vector),
            vector.throughput_mbps
        )),
        _ => {}
    }

    let sizes: Vec<(u32, &SetResult)> = results
        .iter()
        .filter_map(|r| vector_size(&r.compiler_options).map(|vs| (vs, r)))
        .collect();
    if let Some((vs, r)) = sizes.first() {
        let distinct: std::collections::BTreeSet<u32> = sizes.iter().map(|(v, _)| *v).collect();
        if distinct.len() > 1 {
            out.push(format!(
                "Of the vector sizes tried ({}), -vs {} was fastest ({:.1} MB/s in {}).",
                distinct
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                vs,
                r.throughput_mbps,
                name(r)
            ));
        }
    }

    if let Some(memory) = recommended.memory_bytes.filter(|m| *m > LARGE_MEMORY) {
        out.push(format!(
            "One instance takes {:.1} MB: long delay lines or large tables. Each voice or instance costs that much; \
             shorten maximum delays if they are larger than needed.",
            memory as f64 / (1 << 20) as f64
        ));
    }

    let category = Category::of(recommended.cpu_percent_mean_block);
    if matches!(
        category,
        Category::Heavy | Category::Critical | Category::Impossible
    ) {
        out.push(format!(
            "Even with {} the DSP uses {:.1} % of a core at {} Hz on average ({:?}): simplify the algorithm, \
             run it at a lower sample rate, or split it across threads.",
            name(recommended),
            recommended.cpu_percent_mean_block,
            sample_rate,
            category
        ));
    }
    out
}

/// Why the recommended set was chosen: the fastest beyond noise, or the simplest of those
/// tied with the fastest.
pub fn rationale(results: &[SetResult]) -> Option<String> {
    let recommended = results.iter().find(|r| r.is_recommended)?;
    let name = recommended.name();
    let tied: Vec<String> = results
        .iter()
        .filter(|r| r.tied_with_best && !r.is_recommended)
        .map(SetResult::name)
        .collect();
    Some(match (recommended.rank, tied.is_empty()) {
        (1, true) => match results.get(1) {
            Some(next) => format!(
                "{name} is the fastest beyond noise: the next, {}, takes {:.1} % more time per block",
                next.name(),
                100.0 * (next.time_vs_fastest.as_ref().map_or(1.0, |r| r.median) - 1.0)
            ),
            None => format!("{name} is the only set measured"),
        },
        _ => format!(
            "{name} is the simplest (fewest options) of the sets tied with the fastest within noise or the same code ({})",
            tied.join(", ")
        ),
    })
}

/// One sentence answering "which options?".
pub fn conclusion(results: &[SetResult], sample_rate: u32) -> String {
    let Some(recommended) = results.iter().find(|r| r.is_recommended) else {
        return "No option set could be measured.".into();
    };
    let category = Category::of(recommended.cpu_percent_mean_block);
    let speedup = recommended
        .speedup_vs_baseline
        .map(|s| format!(", {s:.2}× the scalar baseline"))
        .unwrap_or_default();
    format!(
        "Use {}: {:.1} MB/s{}, {:.2} % CPU at {} Hz on average ({:?}: {}).",
        recommended.name(),
        recommended.throughput_mbps,
        speedup,
        recommended.cpu_percent_mean_block,
        sample_rate,
        category,
        category.advice()
    )
}

fn vector_size(options: &str) -> Option<u32> {
    if !options.contains("-vec") {
        return None;
    }
    let words: Vec<&str> = options.split_whitespace().collect();
    match words.iter().position(|w| *w == "-vs") {
        Some(i) => words.get(i + 1)?.parse().ok(),
        None => Some(32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::rank::{rank, tests::measured};

    #[test]
    fn cites_vectorisation_gain_and_ties() {
        let results = rank(
            vec![
                measured("", 20_000.0, 100.0),
                measured("-vec", 10_000.0, 100.0),
                measured("-vec -fun -vs 64", 10_050.0, 100.0),
            ],
            512,
            44100,
            0.0,
        );
        let advice = recommendations(&results, 44100);
        assert!(advice
            .iter()
            .any(|a| a.starts_with("2 option sets are tied")
                && a.contains("Recommended the simplest, -vec")));
        assert!(advice
            .iter()
            .any(|a| a.contains("Vectorisation pays") && a.contains("2.00×")));
        assert!(advice.iter().any(|a| a.contains("-vs 32 was fastest")));
        assert!(conclusion(&results, 44100).starts_with("Use -vec:"));
        assert_eq!(
            rationale(&results).unwrap(),
            "-vec is the simplest (fewest options) of the sets tied with the fastest within noise or the same code (-vec -fun -vs 64)"
        );
        let clear = rank(
            vec![
                measured("", 20_000.0, 10.0),
                measured("-vec", 10_000.0, 10.0),
            ],
            512,
            44100,
            1.0,
        );
        let why = rationale(&clear).unwrap();
        assert!(
            why.starts_with("-vec is the fastest beyond noise: the next, (scalar), takes 10"),
            "{why}"
        );
    }

    #[test]
    fn says_when_scalar_wins_and_when_load_is_high() {
        // 12 ms per 512-frame block at 44.1 kHz is over 100 % of a core.
        let results = rank(
            vec![
                measured("", 12_000_000.0, 1000.0),
                measured("-vec", 30_000_000.0, 1000.0),
            ],
            512,
            44100,
            1.0,
        );
        let advice = recommendations(&results, 44100);
        assert!(advice
            .iter()
            .any(|a| a.starts_with("Vector code does not help")));
        assert!(advice.iter().any(|a| a.contains("Impossible")));
        assert!(conclusion(&results, 44100).contains("cannot keep up"));
    }

    #[test]
    fn categories() {
        assert_eq!(Category::of(9.9), Category::Excellent);
        assert_eq!(Category::of(10.0), Category::Good);
        assert_eq!(Category::of(49.0), Category::Moderate);
        assert_eq!(Category::of(74.0), Category::Heavy);
        assert_eq!(Category::of(100.0), Category::Critical);
        assert_eq!(Category::of(100.1), Category::Impossible);
    }
}
