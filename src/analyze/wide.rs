//! `analyze --sweep wide`: a search over a wider space than faustbench-llvm's, guided by what
//! the measurements say rather than every combination: a coarse grid first, then the vector
//! size and `-mcd` around the leader, then switches on the leader. Every stage is compiled on
//! the compile lanes and measured beside the leader and the baseline; inside a measurement,
//! sets clearly slower than the leader leave the passes early (the race of
//! [`crate::measure`]).
//!
//! 1. **Grid**: scalar code plain and with `-mcd 0`; `-vec` × `-lv 0/1` × plain/`-fun` ×
//!    `-vs` 8, 32 and 128 (up to the block size).
//! 2. **Vector size and `-mcd`**, in one stage: for a vector leader, half and twice its
//!    `-vs`, and `-mcd` 0, 4, 16, 64 and 256 on the leader; then half and twice the vector
//!    size again around each new leader until it holds.
//! 3. **`-mcd`** 0, 4, 16, 64, 256 on a new leader, then half and twice the best.
//! 4. **Switches** on the leader, one at a time: `-ct 0`, `-exp10`, `-ftz 2`, `-fm def`, and
//!    for vector code `-dfs`, `-g` and the other `-lv`. `-ftz 2` and `-fm def` change what the
//!    code computes; the output check judges them, and the guard never recommends a
//!    `different` set.

use crate::options::OptionSet;

/// The vector sizes of the grid.
const GRID_SIZES: [usize; 3] = [8, 32, 128];
/// The `-mcd` values tried first; then half and twice the best.
const MCD_COARSE: [usize; 5] = [0, 4, 16, 64, 256];

/// Stage 1: the coarse grid.
pub fn grid(buffer_size: usize) -> Vec<OptionSet> {
    let scalar = OptionSet::scalar();
    let mut sets = vec![scalar.clone(), scalar.with(&["-mcd", "0"])];
    for lv in ["0", "1"] {
        for vector in [&["-vec"][..], &["-vec", "-fun"]] {
            for size in GRID_SIZES.iter().filter(|&&s| s <= buffer_size) {
                let base = scalar.with(vector);
                sets.push(base.with(&["-lv", lv, "-vs", &size.to_string()]));
            }
        }
    }
    sets
}

/// Stage 2, one step: `leader` with half and twice its vector size (within 4 and the block
/// size); none for scalar code.
pub fn vector_sizes(leader: &OptionSet, buffer_size: usize) -> Vec<OptionSet> {
    let Some(size) = value(leader, "-vs") else {
        return Vec::new();
    };
    [size / 2, size * 2]
        .into_iter()
        .filter(|&s| (4..=buffer_size).contains(&s))
        .map(|s| with_value(leader, "-vs", s))
        .collect()
}

/// Stage 3, first step: `leader` with each coarse `-mcd` value.
pub fn mcd_coarse(leader: &OptionSet) -> Vec<OptionSet> {
    (MCD_COARSE.iter())
        .map(|&m| with_value(leader, "-mcd", m))
        .collect()
}

/// Stage 3, second step: `leader` with half and twice its `-mcd` (none at 0).
pub fn mcd_around(leader: &OptionSet) -> Vec<OptionSet> {
    match value(leader, "-mcd") {
        Some(m) if m > 0 => [m / 2, m * 2]
            .into_iter()
            .filter(|&v| v > 0 && !MCD_COARSE.contains(&v))
            .map(|v| with_value(leader, "-mcd", v))
            .collect(),
        _ => Vec::new(),
    }
}

/// Stage 4: `leader` with each switch.
pub fn switches(leader: &OptionSet) -> Vec<OptionSet> {
    let mut sets = vec![
        leader.with(&["-ct", "0"]),
        leader.with(&["-exp10"]),
        leader.with(&["-ftz", "2"]),
        leader.with(&["-fm", "def"]),
    ];
    if !leader.is_scalar() {
        sets.push(leader.with(&["-dfs"]));
        sets.push(leader.with(&["-g"]));
        if let Some(lv) = value(leader, "-lv") {
            sets.push(with_value(leader, "-lv", 1 - lv.min(1)));
        }
    }
    sets
}

/// The number after `flag` in `set`.
fn value(set: &OptionSet, flag: &str) -> Option<usize> {
    let at = set.args.iter().position(|a| a == flag)?;
    set.args.get(at + 1)?.parse().ok()
}

/// `set` with `flag value`, replacing the value it had.
fn with_value(set: &OptionSet, flag: &str, value: usize) -> OptionSet {
    match set.args.iter().position(|a| a == flag) {
        Some(at) => {
            let mut args = set.args.clone();
            args[at + 1] = value.to_string();
            OptionSet {
                label: args.join(" "),
                args,
                ..set.clone()
            }
        }
        None => set.with(&[flag, &value.to_string()]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::parse_option_set;

    fn labels(sets: Vec<OptionSet>) -> Vec<String> {
        sets.into_iter().map(|s| s.label).collect()
    }

    #[test]
    fn the_wide_search_steps() {
        let grid = labels(grid(64));
        assert_eq!(grid.len(), 2 + 2 * 2 * 2, "{grid:?}");
        assert_eq!(grid[..3], ["", "-mcd 0", "-vec -lv 0 -vs 8"]);
        assert_eq!(grid.last().unwrap(), "-vec -fun -lv 1 -vs 32");
        let leader = parse_option_set("-vec -fun -lv 0 -vs 32").unwrap();
        assert_eq!(
            labels(vector_sizes(&leader, 64)),
            ["-vec -fun -lv 0 -vs 16", "-vec -fun -lv 0 -vs 64"]
        );
        assert_eq!(
            labels(vector_sizes(&leader, 32)),
            ["-vec -fun -lv 0 -vs 16"]
        );
        assert!(vector_sizes(&OptionSet::scalar(), 64).is_empty());
        let coarse = mcd_coarse(&leader);
        assert_eq!(coarse[2].label, "-vec -fun -lv 0 -vs 32 -mcd 16");
        assert_eq!(
            labels(mcd_around(&coarse[2])),
            [
                "-vec -fun -lv 0 -vs 32 -mcd 8",
                "-vec -fun -lv 0 -vs 32 -mcd 32"
            ]
        );
        assert!(mcd_around(&coarse[0]).is_empty());
        let vector = labels(switches(&leader));
        assert!(
            vector.contains(&"-vec -fun -lv 1 -vs 32".to_string()),
            "{vector:?}"
        );
        assert!(vector.contains(&"-vec -fun -lv 0 -vs 32 -fm def".to_string()));
        assert_eq!(labels(switches(&OptionSet::scalar())).len(), 4);
    }
}
