//! faustbench-llvm's search (`dsp-optimizer.h`, libfaust 2.54.9), stage by stage, as
//! `analyze --sweep faustbench` runs it.

use crate::options::OptionSet;

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
    std::iter::once(0)
        .chain((1..=8).map(|p| 1 << p))
        .map(|mcd| best.with(&["-mcd", &mcd.to_string()]))
        .collect()
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
}
