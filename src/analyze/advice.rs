//! Recommendations drawn from ranked results; each cites the numbers it rests on.

use super::result::{Category, RecommendedCommand, SetError, SetResult, SetStatus};
use crate::accuracy::{Accuracy, Verdict};
use crate::options::Backend;

/// Instance memory above which a recommendation is made, bytes.
const LARGE_MEMORY: u64 = 10 << 20;

/// Advice lines for ranked `results` at `sample_rate`; `errors` tell which sets were not
/// measured (for the OpenMP rule).
pub fn recommendations(
    results: &[SetResult],
    errors: &[SetError],
    sample_rate: u32,
) -> Vec<String> {
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
        Category::Heavy | Category::Critical | Category::Unusable
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
    out.extend(openmp(results, errors));
    out.extend(outputs(results, recommended));
    out
}

/// What the outputs' check found: how many sets compute the same as scalar code, and each
/// set that does not, with its figure; a faster set passed over for it.
fn outputs(results: &[SetResult], recommended: &SetResult) -> Vec<String> {
    let checked: Vec<(&SetResult, &Accuracy)> = (results.iter())
        .filter_map(|r| Some((r, r.accuracy.as_ref()?)))
        .collect();
    if checked.is_empty() {
        return Vec::new();
    }
    let count = |v: Verdict| checked.iter().filter(|(_, a)| a.verdict == v).count();
    let mut out = vec![format!(
        "Output checked against scalar -double code over {} s of the input: {} set(s) the same, {} close, {} different.",
        crate::accuracy::SECONDS,
        count(Verdict::Same),
        count(Verdict::Close),
        count(Verdict::Different)
    )];
    for (r, a) in checked.iter().filter(|(_, a)| a.verdict != Verdict::Same) {
        let passed_over = a.verdict == Verdict::Different && r.rank < recommended.rank;
        out.push(format!(
            "{}: {a}{}",
            r.name(),
            if passed_over {
                format!(
                    "; faster than {} ({:.1} vs {:.1} MB/s) but it computes something else, so not recommended (--accuracy report ranks by speed alone)",
                    recommended.name(),
                    r.throughput_mbps,
                    recommended.throughput_mbps
                )
            } else {
                String::new()
            }
        ));
    }
    out
}

/// Above this, the design suggests OpenMP code for multi-threaded hosts (× the best
/// single-threaded set).
const OPENMP_PAYS: f64 = 2.0;

/// The design's OpenMP rule: where an `-omp` set was measured, whether it runs more than
/// [`OPENMP_PAYS`]× the best set without it (then suggested for multi-threaded hosts); where
/// one was asked for but its backend refused it, that it was not measured and where it can be.
fn openmp(results: &[SetResult], errors: &[SetError]) -> Option<String> {
    let (omp, single, benefit) = match openmp_pair(results) {
        Some(pair) => pair,
        None => {
            let refused = errors.iter().find(|e| {
                e.status == SetStatus::Unsupported && uses(&e.compiler_options, "-omp")
            })?;
            return Some(format!(
                "OpenMP was not measured: {} refuses {}; measure it with --backend cpp, which builds Faust's OpenMP C++.",
                refused.backend,
                refused.name()
            ));
        }
    };
    let threads = omp.threads;
    Some(if benefit > OPENMP_PAYS {
        format!(
            "OpenMP pays for multi-threaded hosts: {} runs {benefit:.2}× the best single-threaded set, {} ({:.1} vs {:.1} MB/s), on up to {threads} threads; use it where the host can give it those cores.",
            omp.name(),
            single.name(),
            omp.throughput_mbps,
            single.throughput_mbps
        )
    } else {
        format!(
            "OpenMP does not pay here: {} runs {benefit:.2}× the best single-threaded set, {} (it would need more than {OPENMP_PAYS:.0}× for up to {threads} threads); keep single-threaded code.",
            omp.name(),
            single.name()
        )
    })
}

/// The fastest `-omp` set, the fastest set without `-omp` on its backend, and the ratio of
/// their throughputs.
fn openmp_pair(results: &[SetResult]) -> Option<(&SetResult, &SetResult, f64)> {
    let omp = results.iter().find(|r| uses(&r.compiler_options, "-omp"))?;
    let single = (results.iter())
        .find(|r| r.backend == omp.backend && !uses(&r.compiler_options, "-omp"))?;
    Some((omp, single, omp.throughput_mbps / single.throughput_mbps))
}

/// `openmp_benefit`: the fastest `-omp` set over the fastest set without it, ×.
pub fn openmp_benefit(results: &[SetResult]) -> Option<f64> {
    openmp_pair(results).map(|(_, _, benefit)| benefit)
}

/// `vectorization_benefit`: on the recommended set's backend, the fastest `-vec` set without
/// `-omp` over the baseline's options, in throughput, ×.
pub fn vectorization_benefit(results: &[SetResult]) -> Option<f64> {
    let backend = results.iter().find(|r| r.is_recommended)?.backend;
    let baseline = &results.iter().find(|r| r.is_baseline)?.compiler_options;
    let on = |r: &&SetResult| r.backend == backend;
    let vector = (results.iter().filter(on))
        .find(|r| uses(&r.compiler_options, "-vec") && !uses(&r.compiler_options, "-omp"))?;
    let scalar = (results.iter().filter(on)).find(|r| r.compiler_options == *baseline)?;
    Some(vector.throughput_mbps / scalar.throughput_mbps)
}

/// Whether an option string holds `option` as a word.
fn uses(options: &str, option: &str) -> bool {
    options.split_whitespace().any(|w| w == option)
}

/// The commands that build the recommended set of `dsp` (a file name, or the name of inline
/// code) for the backend it ran on; `cxx`: the C++ compiler and flags of `cpp` sets.
pub fn command(results: &[SetResult], dsp: &str, cxx: Option<&str>) -> Option<RecommendedCommand> {
    let r = results.iter().find(|r| r.is_recommended)?;
    let file = if dsp.ends_with(".dsp") {
        dsp.to_string()
    } else {
        "<file>.dsp".to_string()
    };
    let stem = file.strip_suffix(".dsp").unwrap_or(&file);
    let options = if r.compiler_options.is_empty() {
        String::new()
    } else {
        format!("{} ", r.compiler_options)
    };
    // LLVM's options carry to the C++ that faust2xxx and C++ hosts build.
    let (lang, extension) = match r.backend {
        Backend::Llvm | Backend::Cpp => ("cpp", "cpp"),
        Backend::Wasm => ("wasm", "wasm"),
        Backend::Interp => ("interp", "fbc"),
    };
    Some(RecommendedCommand {
        architecture: format!("faust2<arch> {options}{file}"),
        faust: format!("faust -lang {lang} {options}{file} -o {stem}.{extension}"),
        cxx: (r.backend == Backend::Cpp)
            .then(|| cxx.map(str::to_string))
            .flatten(),
    })
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

/// Why a search's recommended set won: [`rationale`], then how much slower the fastest set of
/// the other kind (scalar or vector code) ran; empty when nothing was measured.
pub fn why_it_won(results: &[SetResult]) -> String {
    let Some(recommended) = results.iter().find(|r| r.is_recommended) else {
        return String::new();
    };
    let mut why = rationale(results).unwrap_or_default();
    let scalar = recommended.options.is_scalar();
    let other = (results.iter()).find(|r| r.options.is_scalar() != scalar);
    if let Some(other) = other {
        let slower = 100.0 * (recommended.throughput_mbps / other.throughput_mbps - 1.0);
        why += &format!(
            "; the fastest {} set, {}, takes {slower:.1} % more time per block",
            if scalar { "vector" } else { "scalar" },
            other.name()
        );
    }
    why
}

/// One sentence answering "which options?", and the commands that apply the answer.
pub fn conclusion(
    results: &[SetResult],
    sample_rate: u32,
    command: Option<&RecommendedCommand>,
) -> String {
    let Some(recommended) = results.iter().find(|r| r.is_recommended) else {
        return "No option set could be measured.".into();
    };
    let category = Category::of(recommended.cpu_percent_mean_block);
    let speedup = recommended
        .speedup_vs_baseline
        .map(|s| format!(", {s:.2}× the scalar baseline"))
        .unwrap_or_default();
    let build = command
        .map(|c| {
            let cxx = c.cxx.as_ref().map(|cxx| format!(", built with {cxx}")).unwrap_or_default();
            format!(
                " Build it with `{}` (pick the architecture: faust2jack, faust2lv2, faust2juce, …) or `{}`{cxx}.",
                c.architecture, c.faust
            )
        })
        .unwrap_or_default();
    format!(
        "Use {}: {:.1} MB/s{}, {:.2} % CPU at {} Hz on average ({:?}: {}).{build}",
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
    use crate::analyze::rank::{rank, tests::measured, tests::ranked};

    #[test]
    fn cites_vectorisation_gain_and_ties() {
        let results = ranked(
            &[
                ("", 20_000.0, 100.0),
                ("-vec", 10_000.0, 100.0),
                ("-vec -fun -vs 64", 10_050.0, 100.0),
            ],
            0.0,
        );
        let advice = recommendations(&results, &[], 44100);
        assert!(advice
            .iter()
            .any(|a| a.starts_with("2 option sets are tied")
                && a.contains("Recommended the simplest, -vec")));
        assert!(advice
            .iter()
            .any(|a| a.contains("Vectorisation pays") && a.contains("2.00×")));
        assert!(advice.iter().any(|a| a.contains("-vs 32 was fastest")));
        let command = command(&results, "fixtures/reverb.dsp", None).unwrap();
        assert_eq!(
            command.architecture,
            "faust2<arch> -vec fixtures/reverb.dsp"
        );
        assert_eq!(
            command.faust,
            "faust -lang cpp -vec fixtures/reverb.dsp -o fixtures/reverb.cpp"
        );
        assert_eq!(command.cxx, None);
        let conclusion = conclusion(&results, 44100, Some(&command));
        assert!(conclusion.starts_with("Use -vec:"), "{conclusion}");
        assert!(
            conclusion.contains("(Excellent: ship as-is")
                && conclusion.contains("Build it with `faust2<arch> -vec fixtures/reverb.dsp`"),
            "{conclusion}"
        );
        // Inline code has no file: the command names a placeholder.
        let inline = super::command(&results, "code", None).unwrap();
        assert_eq!(
            inline.faust,
            "faust -lang cpp -vec <file>.dsp -o <file>.cpp"
        );
        assert_eq!(
            rationale(&results).unwrap(),
            "-vec is the simplest (fewest options) of the sets tied with the fastest within noise or the same code (-vec -fun -vs 64)"
        );
        let clear = ranked(&[("", 20_000.0, 10.0), ("-vec", 10_000.0, 10.0)], 1.0);
        let why = rationale(&clear).unwrap();
        assert!(
            why.starts_with("-vec is the fastest beyond noise: the next, (scalar), takes 10"),
            "{why}"
        );
    }

    #[test]
    fn says_when_scalar_wins_and_when_load_is_high() {
        // 12 ms per 512-frame block at 44.1 kHz is over 100 % of a core.
        let results = ranked(&[("", 12e6, 1000.0), ("-vec", 30e6, 1000.0)], 1.0);
        let advice = recommendations(&results, &[], 44100);
        assert!(advice
            .iter()
            .any(|a| a.starts_with("Vector code does not help")));
        assert!(advice.iter().any(|a| a.contains("Unusable")));
        let conclusion = conclusion(&results, 44100, None);
        assert!(
            conclusion.contains("Unusable: reduce the sample rate or simplify"),
            "{conclusion}"
        );
    }

    /// The design's OpenMP rule, and the benefits it rests on.
    #[test]
    fn openmp_is_suggested_above_twice_the_best_single_threaded_set() {
        let with_omp = |omp_ns: f64| {
            let mut omp = measured("-vec -omp", omp_ns, 10.0);
            omp.compile.threads = 2;
            rank(
                vec![
                    measured("", 20_000.0, 10.0),
                    measured("-vec", 10_000.0, 10.0),
                    omp,
                ],
                512,
                44100,
                1.0,
            )
        };
        let fast = with_omp(4_000.0);
        let advice = recommendations(&fast, &[], 44100);
        let line = advice
            .iter()
            .find(|a| a.starts_with("OpenMP pays"))
            .unwrap();
        assert!(
            line.contains("-vec -omp runs 2.50× the best single-threaded set, -vec"),
            "{line}"
        );
        assert!((openmp_benefit(&fast).unwrap() - 2.5).abs() < 1e-9);
        let slow = with_omp(8_000.0);
        let advice = recommendations(&slow, &[], 44100);
        assert!(
            advice
                .iter()
                .any(|a| a.starts_with("OpenMP does not pay here: -vec -omp runs 1.25×")),
            "{advice:?}"
        );
        // Best -vec without -omp over scalar: 2×, whether or not OpenMP won.
        assert!((vectorization_benefit(&slow).unwrap() - 2.0).abs() < 1e-9);
        // Nothing about OpenMP when no set asked for it.
        let none = ranked(&[("", 20_000.0, 10.0)], 1.0);
        assert!(!recommendations(&none, &[], 44100)
            .iter()
            .any(|a| a.contains("OpenMP")));
        assert_eq!(
            (openmp_benefit(&none), vectorization_benefit(&none)),
            (None, None)
        );
    }

    #[test]
    fn categories() {
        assert_eq!(Category::of(9.9), Category::Excellent);
        assert_eq!(Category::of(10.0), Category::Good);
        assert_eq!(Category::of(49.0), Category::Moderate);
        assert_eq!(Category::of(74.0), Category::Heavy);
        assert_eq!(Category::of(100.0), Category::Critical);
        assert_eq!(Category::of(100.1), Category::Unusable);
    }
}
