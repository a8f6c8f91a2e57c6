//! The loop structure of a function's control-flow graph: dominators, natural loops and their
//! nesting. Pure graph code over block indices, so it is tested without LLVM.

/// A natural loop: a header and the blocks that reach a back edge to it without passing it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Loop {
    pub header: usize,
    /// Every block of the loop, nested loops included, the header first.
    pub blocks: Vec<usize>,
    /// Blocks with a back edge to the header.
    pub latches: Vec<usize>,
}

impl Loop {
    pub fn contains(&self, block: usize) -> bool {
        self.blocks.contains(&block)
    }
}

/// The immediate dominator of each block reachable from block 0 (`None` for block 0 and for
/// unreachable blocks), by Cooper, Harvey and Kennedy, "A Simple, Fast Dominance Algorithm".
pub(crate) fn immediate_dominators(successors: &[Vec<usize>]) -> Vec<Option<usize>> {
    let n = successors.len();
    let mut idom: Vec<Option<usize>> = vec![None; n];
    if n == 0 {
        return idom;
    }
    let predecessors = predecessors(successors);
    // Reverse post-order from the entry.
    let mut order = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    seen[0] = true;
    let mut stack = vec![(0usize, 0usize)];
    while let Some((block, next)) = stack.pop() {
        if let Some(&succ) = successors[block].get(next) {
            stack.push((block, next + 1));
            if !seen[succ] {
                seen[succ] = true;
                stack.push((succ, 0));
            }
        } else {
            order.push(block);
        }
    }
    order.reverse();
    let mut rpo = vec![usize::MAX; n];
    for (i, &b) in order.iter().enumerate() {
        rpo[b] = i;
    }
    idom[0] = Some(0);
    let intersect = |idom: &[Option<usize>], mut a: usize, mut b: usize| {
        while a != b {
            while rpo[a] > rpo[b] {
                a = idom[a].unwrap_or(0);
            }
            while rpo[b] > rpo[a] {
                b = idom[b].unwrap_or(0);
            }
        }
        a
    };
    let mut changed = true;
    while changed {
        changed = false;
        for &b in order.iter().skip(1) {
            let mut new = None;
            for &p in &predecessors[b] {
                if idom[p].is_some() {
                    new = Some(match new {
                        None => p,
                        Some(current) => intersect(&idom, p, current),
                    });
                }
            }
            if new.is_some() && idom[b] != new {
                idom[b] = new;
                changed = true;
            }
        }
    }
    idom[0] = None;
    idom
}

/// Whether `a` dominates `b` (every path from the entry to `b` passes `a`).
pub(crate) fn dominates(idom: &[Option<usize>], a: usize, b: usize) -> bool {
    std::iter::successors(Some(b), |&block| idom[block]).any(|block| block == a)
}

/// The blocks that jump to each block.
fn predecessors(successors: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let mut predecessors = vec![Vec::new(); successors.len()];
    for (from, succ) in successors.iter().enumerate() {
        for &to in succ {
            predecessors[to].push(from);
        }
    }
    predecessors
}

/// The natural loops, one per header, outermost (largest) first.
pub(crate) fn natural_loops(successors: &[Vec<usize>], idom: &[Option<usize>]) -> Vec<Loop> {
    let predecessors = predecessors(successors);
    let reachable = |b: usize| b == 0 || idom[b].is_some();
    let mut loops: Vec<Loop> = Vec::new();
    for (from, succ) in successors.iter().enumerate() {
        for &header in succ {
            if !reachable(from) || !dominates(idom, header, from) {
                continue;
            }
            let index = match loops.iter().position(|l| l.header == header) {
                Some(i) => i,
                None => {
                    loops.push(Loop {
                        header,
                        blocks: vec![header],
                        latches: Vec::new(),
                    });
                    loops.len() - 1
                }
            };
            let l = &mut loops[index];
            l.latches.push(from);
            let mut stack = vec![from];
            while let Some(b) = stack.pop() {
                if !l.blocks.contains(&b) {
                    l.blocks.push(b);
                    stack.extend(predecessors[b].iter().copied().filter(|&p| reachable(p)));
                }
            }
        }
    }
    loops.sort_by_key(|l| std::cmp::Reverse(l.blocks.len()));
    loops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_loops_and_dominators() {
        // 0 → 1 (outer header) → 2 (inner header) ⟲ 2 → 3 (outer latch) → 1 | 4 (exit)
        let successors = vec![vec![1], vec![2], vec![2, 3], vec![1, 4], vec![]];
        let idom = immediate_dominators(&successors);
        assert_eq!(idom, vec![None, Some(0), Some(1), Some(2), Some(3)]);
        assert!(dominates(&idom, 1, 4));
        assert!(!dominates(&idom, 4, 1));
        let loops = natural_loops(&successors, &idom);
        assert_eq!(loops.len(), 2);
        assert_eq!(loops[0].header, 1);
        assert_eq!(loops[0].latches, vec![3]);
        let mut outer = loops[0].blocks.clone();
        outer.sort();
        assert_eq!(outer, vec![1, 2, 3]);
        assert_eq!(loops[1].header, 2);
        assert_eq!(loops[1].blocks, vec![2]);
    }

    #[test]
    fn if_else_inside_a_loop_is_one_loop() {
        // 0 → 1 (header) → 2 | 3 → 4 (latch) → 1 | 5
        let successors = vec![vec![1], vec![2, 3], vec![4], vec![4], vec![1, 5], vec![]];
        let idom = immediate_dominators(&successors);
        assert_eq!(idom[4], Some(1));
        let loops = natural_loops(&successors, &idom);
        assert_eq!(loops.len(), 1);
        assert!(!dominates(&idom, 2, 4));
        let mut blocks = loops[0].blocks.clone();
        blocks.sort();
        assert_eq!(blocks, vec![1, 2, 3, 4]);
    }

    #[test]
    fn unreachable_blocks_are_in_no_loop() {
        let successors = vec![vec![], vec![2], vec![1]];
        let idom = immediate_dominators(&successors);
        assert!(natural_loops(&successors, &idom).is_empty());
    }
}
