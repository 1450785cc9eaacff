//! A line's count from gcov 8 on: the flow entering the line from other
//! lines, plus the flow of the loops inside the line, found as gcov does by
//! a bounded search for elementary circuits (Johnson's algorithm).
#![allow(clippy::indexing_slicing)]

use super::graph::Graph;
use super::lines::Line;

/// Work allowed for the cycle search of one line. Real lines have a handful
/// of blocks; a hostile notes file can put thousands on one line and make
/// the elementary circuits explode (gcov would run for ever). The search
/// stops there and the caller warns that the line's count may be low.
/// The search keeps its path on the heap, not the stack: a loop whose body
/// is thousands of blocks on one line (a macro's expansion) is followed to
/// its end, as gcov follows it.
pub(super) const CYCLE_STEPS: u64 = 1_000_000;

/// A function's share of a line's count: the arcs entering the line's
/// blocks of this function from elsewhere, plus the cycles among them
/// (gcov's accumulate_line_info, which sums over all the line's blocks;
/// arcs and cycles never leave a function). The line's first share
/// replaces the sum of its blocks' counts. The cycle search spends the
/// line's budget, and marks the line when it was cut short.
pub(super) fn accumulate(line: &mut Line, blocks: &[u32], g: &mut Graph, scratch: &mut Scratch) {
    if blocks.is_empty() {
        return;
    }
    // The line's blocks are marked in the graph (and unmarked below): a
    // membership test per arc without a set built for every line.
    mark(blocks, g, true);
    let mut count: i128 = 0;
    for &b in blocks {
        let b = b as usize;
        for a in g.pred(b).iter().map(|&a| a as usize) {
            let src = g.arcs[a].src as usize;
            if !g.blocks[src].on_line {
                count = count.saturating_add(g.arcs[a].count);
            }
        }
        let (first, end) = (g.blocks[b].succ.0 as usize, g.blocks[b].succ.1 as usize);
        for i in first..end {
            let a = g.succ_list[i] as usize;
            g.arcs[a].cs_count = g.arcs[a].count;
        }
    }
    let mut search = Search {
        steps: CYCLE_STEPS.saturating_sub(u64::from(line.steps)),
        cut: false,
        count: 0,
    };
    cycles(blocks, g, &mut search, scratch);
    mark(blocks, g, false);
    if !line.flow {
        line.flow = true;
        line.count = 0;
    }
    line.count = line
        .count
        .saturating_add(count)
        .saturating_add(search.count);
    // At most CYCLE_STEPS, which fits.
    line.steps = (CYCLE_STEPS - search.steps) as u32;
    line.cut |= search.cut;
}

/// Sets or clears the on-line mark of the line's blocks.
fn mark(blocks: &[u32], g: &mut Graph, on: bool) {
    for &b in blocks {
        g.blocks[b as usize].on_line = on;
    }
}

/// The lists of the cycle search, kept from one line to the next so that
/// a line costs no allocation.
#[derive(Default)]
pub(super) struct Scratch {
    path: Vec<usize>,
    blocked: Vec<usize>,
    block_lists: Vec<Vec<usize>>,
    /// The blocks being searched from, innermost last (the recursion of
    /// the algorithm as written, made a list).
    frames: Vec<Frame>,
    /// Blocks left to unblock.
    unblocking: Vec<usize>,
}

/// A block of the search's path and how far its successors were tried.
struct Frame {
    v: usize,
    /// The next of its successors to try, `succ_list[next..end]`.
    next: usize,
    end: usize,
    /// Some cycle was found through it.
    found: bool,
}

/// The state of one line's cycle search.
struct Search {
    steps: u64,
    cut: bool,
    count: i128,
}

/// The Hawick–James circuit enumeration gcov uses: every elementary cycle
/// through the line's blocks, each reduced by its smallest arc.
fn cycles(blocks: &[u32], g: &mut Graph, search: &mut Search, scratch: &mut Scratch) {
    for &start in blocks {
        scratch.path.clear();
        scratch.blocked.clear();
        scratch.block_lists.clear();
        // The members of the search are the line's blocks: those marked in
        // the graph.
        circuit(g, start as usize, search, scratch);
    }
}

/// gcov's recursive `circuit` from `start`, with the recursion's frames
/// in a list. A block is entered as the recursion entered it: unless the
/// work is spent, it is blocked and its successors tried in order; when
/// they are all tried it is unblocked if a cycle went through it, and
/// otherwise waits in the block lists of its successors; then its caller
/// goes on with the arc after the one that led to it.
fn circuit(g: &mut Graph, start: usize, search: &mut Search, scratch: &mut Scratch) {
    let Scratch {
        path,
        blocked,
        block_lists,
        frames,
        unblocking,
    } = scratch;
    frames.clear();
    if !enter(g, start, search, blocked, block_lists, frames) {
        return;
    }
    while let Some(top) = frames.last_mut() {
        if top.next < top.end {
            // By index: the successor lists do not change during the search.
            let a = g.succ_list[top.next] as usize;
            top.next += 1;
            let w = g.arcs[a].dst as usize;
            if w < start || g.arcs[a].cs_count <= 0 || !g.blocks[w].on_line {
                continue;
            }
            path.push(a);
            if w == start {
                let min = path.iter().map(|&p| g.arcs[p].cs_count).min().unwrap_or(0);
                search.count = search.count.saturating_add(min);
                for &p in path.iter() {
                    g.arcs[p].cs_count = g.arcs[p].cs_count.saturating_sub(min);
                }
                top.found = true;
            } else if !path.iter().any(|&p| g.arcs[p].cs_count <= 0)
                && !blocked.contains(&w)
                && enter(g, w, search, blocked, block_lists, frames)
            {
                continue; // `a` stays on the path until `w` is left
            }
            path.pop();
            continue;
        }
        let Frame { v, found, .. } = *top;
        frames.pop();
        if found {
            unblock(v, blocked, block_lists, unblocking);
        } else {
            for a in g.succ(v).iter().map(|&a| a as usize) {
                let w = g.arcs[a].dst as usize;
                if w < start || g.arcs[a].cs_count <= 0 || !g.blocks[w].on_line {
                    continue;
                }
                if let Some(i) = blocked.iter().position(|&b| b == w)
                    && let Some(list) = block_lists.get_mut(i)
                    && !list.contains(&v)
                {
                    list.push(v);
                }
            }
        }
        // Back in the caller: the arc that led to `v` leaves the path.
        if let Some(caller) = frames.last_mut() {
            caller.found |= found;
            path.pop();
        }
    }
}

/// Enters block `v`: blocks it and makes its frame, unless the search's
/// work is spent (then the line is marked cut and `v` is not entered).
fn enter(
    g: &Graph,
    v: usize,
    search: &mut Search,
    blocked: &mut Vec<usize>,
    block_lists: &mut Vec<Vec<usize>>,
    frames: &mut Vec<Frame>,
) -> bool {
    if search.steps == 0 {
        search.cut = true;
        return false;
    }
    search.steps -= 1;
    blocked.push(v);
    block_lists.push(Vec::new());
    let (next, end) = (g.blocks[v].succ.0 as usize, g.blocks[v].succ.1 as usize);
    frames.push(Frame {
        v,
        next,
        end,
        found: false,
    });
    true
}

/// Unblocks `u` and, through the block lists, every block waiting on it.
/// The order they are taken out in does not matter: `blocked` keeps the
/// others in their order whatever is removed.
fn unblock(
    u: usize,
    blocked: &mut Vec<usize>,
    block_lists: &mut Vec<Vec<usize>>,
    unblocking: &mut Vec<usize>,
) {
    unblocking.clear();
    unblocking.push(u);
    while let Some(u) = unblocking.pop() {
        let Some(i) = blocked.iter().position(|&b| b == u) else {
            continue;
        };
        blocked.remove(i);
        unblocking.extend(block_lists.remove(i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::coverage::graph::{ArcInfo, BlockInfo};

    /// A graph of `n` blocks and the arcs `(from, to, count)`.
    fn graph(n: usize, arcs: &[(usize, usize, i128)]) -> Graph {
        let mut g = Graph::default();
        g.blocks = vec![BlockInfo::default(); n];
        for v in 0..n {
            let first = g.succ_list.len() as u32;
            for (id, &(from, to, count)) in arcs.iter().enumerate() {
                if from == v {
                    g.succ_list.push(id as u32);
                }
                if v == 0 {
                    g.arcs.push(ArcInfo {
                        src: from as u32,
                        dst: to as u32,
                        count,
                        ..ArcInfo::default()
                    });
                }
            }
            g.blocks[v].succ = (first, g.succ_list.len() as u32);
        }
        for v in 0..n {
            let first = g.pred_list.len() as u32;
            for (id, &(_, to, _)) in arcs.iter().enumerate() {
                if to == v {
                    g.pred_list.push(id as u32);
                }
            }
            g.blocks[v].pred = (first, g.pred_list.len() as u32);
        }
        g
    }

    /// The count `accumulate` gives a line holding `blocks`, and whether
    /// its search was cut.
    fn line_of(g: &mut Graph, blocks: &[u32]) -> Line {
        let mut line = Line::default();
        accumulate(&mut line, blocks, g, &mut Scratch::default());
        line
    }

    /// The flow into a line plus its loops: 2 enter block 1 from block 0
    /// (off the line); the ring 1 -> 2 -> 3 -> 1 ran 5 times (its smallest
    /// arc), the ring 2 -> 3 -> 2 then 1 more time on the arcs left.
    #[test]
    fn a_line_counts_its_entries_and_its_loops() {
        let mut g = graph(4, &[(0, 1, 2), (1, 2, 7), (2, 3, 9), (3, 1, 5), (3, 2, 1)]);
        let line = line_of(&mut g, &[1, 2, 3]);
        assert_eq!((line.count, line.cut), (2 + 5 + 1, false));
    }

    /// Every block of the line leads to every other (30 blocks, counts
    /// from a fixed seed): some thousands of steps to search. With the
    /// budget whole the search ends on its own; with less left than that
    /// (the line's other functions spent the rest) it stops at the budget
    /// and says so, and the caller warns that the count may be low.
    #[test]
    fn a_search_past_the_lines_budget_is_cut_and_says_so() {
        let n = 30;
        let mut arcs = Vec::new();
        let mut seed: u64 = 1;
        for a in 0..n {
            for b in 0..n {
                if a != b {
                    seed = seed
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    arcs.push((a, b, 1 + (seed >> 40) as i128));
                }
            }
        }
        let blocks: Vec<u32> = (0..n as u32).collect();
        let whole = line_of(&mut graph(n, &arcs), &blocks);
        assert!(!whole.cut, "{whole:?}");
        assert!(whole.steps > 5_000, "{whole:?}");
        let mut spent = Line {
            steps: (CYCLE_STEPS - 5_000) as u32,
            ..Line::default()
        };
        accumulate(
            &mut spent,
            &blocks,
            &mut graph(n, &arcs),
            &mut Scratch::default(),
        );
        assert!(spent.cut, "{spent:?}");
        assert_eq!(u64::from(spent.steps), CYCLE_STEPS);
        assert!(spent.count < whole.count, "{spent:?} {whole:?}");
    }
}
