//! faustbench-llvm's searches (`dsp-optimizer.h`), stage by stage: libfaust 2.54.9's, as
//! `analyze --sweep faustbench` runs it, and Faust 2.83's, as `--sweep faustbench-2.83` does.
//!
//! Where 2.83 differs from 2.54.9: its first stage measures scalar code with `-mcd` 0, 2, 4 …
//! up to the block size (and `-exp10`) instead of plain `-scal`; it refines the best *vector*
//! set with `-mcd` 0, 2 … the block size (2.54.9: the best set of any kind, up to 256); it then
//! takes the faster of the best scalar set and that refined vector set, and tries `-ct 0` on
//! it, and `-g`, `-dfs` and both when it is vector code (2.54.9: no `-ct 0`). Faust answers with
//! the fastest of that last stage; faustperf recommends the fastest of every set measured.

use crate::options::OptionSet;

/// `-mcd` 0, then 2, 4 … up to `up_to`.
fn mcd_values(up_to: usize) -> impl Iterator<Item = usize> {
    std::iter::once(0).chain((1..).map(|p| 1 << p).take_while(move |&v| v <= up_to))
}

/// 2.83's first stage: `-scal -exp10`, `-scal -mcd` 0, 2 … bs, then `-vec` × plain/`-fun`
/// × `-lv 0/1` × `-vs 4..bs`, in Faust's order.
pub fn tables_2_83(buffer_size: usize) -> Vec<OptionSet> {
    let scal = OptionSet::scalar().with(&["-scal"]);
    let mut sets = vec![scal.with(&["-exp10"])];
    sets.extend(mcd_values(buffer_size).map(|mcd| scal.with(&["-mcd", &mcd.to_string()])));
    for lv in ["0", "1"] {
        for vector in [&["-vec"][..], &["-vec", "-fun"]] {
            let mut size = 4;
            while size <= buffer_size {
                let base = OptionSet::scalar().with(vector);
                sets.push(base.with(&["-lv", lv, "-vs", &size.to_string()]));
                size *= 2;
            }
        }
    }
    sets
}

/// 2.83's second stage: the best vector set with `-mcd` 0, 2 … up to the block size.
pub fn vector_mcd_stage(best_vector: &OptionSet, buffer_size: usize) -> Vec<OptionSet> {
    (mcd_values(buffer_size))
        .map(|mcd| best_vector.with(&["-mcd", &mcd.to_string()]))
        .collect()
}

/// 2.83's last stage, on the faster of the best scalar set and the best refined vector set:
/// with `-ct 0`, and for vector code also `-g`, `-dfs` and both.
pub fn last_stage_2_83(best: &OptionSet) -> Vec<OptionSet> {
    std::iter::once(best.with(&["-ct", "0"]))
        .chain(scheduling_stage(best))
        .collect()
}

/// Stage 1: `-scal`, `-scal -exp10`, then `-vec` × `-lv 0/1` × plain/`-fun` × `-vs 4..bs`.
pub fn first_stage(buffer_size: usize) -> Vec<OptionSet> {
    let scal = OptionSet::scalar().with(&["-scal"]);
    let mut sets = vec![scal.clone(), scal.with(&["-exp10"])];
    for lv in ["0", "1"] {
        for fun in [false, true] {
            let mut size = 4;
            while size <= buffer_size {
                let vector: &[&str] = if fun { &["-vec", "-fun"] } else { &["-vec"] };
                let base = OptionSet::scalar().with(vector);
                sets.push(base.with(&["-lv", lv, "-vs", &size.to_string()]));
                size *= 2;
            }
        }
    }
    sets
}

/// Stage 2: the best so far with `-mcd` 0, 2, 4, … 256.
pub fn mcd_stage(best: &OptionSet) -> Vec<OptionSet> {
    vector_mcd_stage(best, 256)
}

/// Stage 3, for vector code only: the best with `-g`, `-dfs`, and both.
pub fn scheduling_stage(best: &OptionSet) -> Vec<OptionSet> {
    if best.is_scalar() {
        return Vec::new();
    }
    vec![
        best.with(&["-g"]),
        best.with(&["-dfs"]),
        best.with(&["-g", "-dfs"]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::parse_option_set;

    #[test]
    fn faustbench_search_shape() {
        let first = first_stage(512);
        // -scal, -scal -exp10, then 2 loop variants × 2 × 8 vector sizes (4..512).
        assert_eq!(first.len(), 2 + 2 * 2 * 8);
        assert_eq!(first[2].label, "-vec -lv 0 -vs 4");
        let best = &first[5];
        assert_eq!(mcd_stage(best).len(), 9);
        assert_eq!(mcd_stage(best)[8].label, format!("{} -mcd 256", best.label));
        assert_eq!(scheduling_stage(best).len(), 3);
        assert!(scheduling_stage(&first[0]).is_empty());
    }

    /// The sets Faust 2.83.1's `dsp-optimizer.h` builds for a block size of 32, written out as
    /// its `init()` and `findOptimizedParameters()` push them.
    #[test]
    fn faust_2_83_search_shape() {
        let labels =
            |sets: Vec<OptionSet>| -> Vec<String> { sets.into_iter().map(|s| s.label).collect() };
        let mut expected = vec![
            "-scal -exp10",
            "-scal -mcd 0",
            "-scal -mcd 2",
            "-scal -mcd 4",
            "-scal -mcd 8",
            "-scal -mcd 16",
            "-scal -mcd 32",
        ];
        let vector = [
            "-vec -lv 0 -vs",
            "-vec -fun -lv 0 -vs",
            "-vec -lv 1 -vs",
            "-vec -fun -lv 1 -vs",
        ];
        let sized: Vec<String> = (vector.iter())
            .flat_map(|v| [4, 8, 16, 32].map(|n| format!("{v} {n}")))
            .collect();
        expected.extend(sized.iter().map(String::as_str));
        assert_eq!(labels(tables_2_83(32)), expected);
        let best = parse_option_set("-vec -fun -lv 0 -vs 8").unwrap();
        assert_eq!(
            labels(vector_mcd_stage(&best, 32)),
            [0, 2, 4, 8, 16, 32].map(|m| format!("-vec -fun -lv 0 -vs 8 -mcd {m}"))
        );
        let refined = best.with(&["-mcd", "4"]);
        assert_eq!(
            labels(last_stage_2_83(&refined)),
            [
                "-vec -fun -lv 0 -vs 8 -mcd 4 -ct 0",
                "-vec -fun -lv 0 -vs 8 -mcd 4 -g",
                "-vec -fun -lv 0 -vs 8 -mcd 4 -dfs",
                "-vec -fun -lv 0 -vs 8 -mcd 4 -g -dfs",
            ]
        );
        let scalar = parse_option_set("-scal -mcd 16").unwrap();
        assert_eq!(labels(last_stage_2_83(&scalar)), ["-scal -mcd 16 -ct 0"]);
    }
}
