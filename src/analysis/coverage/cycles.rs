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
const CYCLE_STEPS: u64 = 1_000_000;
/// Deepest path followed, so recursion stays far from the stack's end.
const CYCLE_DEPTH: usize = 2048;

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
    let Scratch {
        path,
        blocked,
        block_lists,
    } = scratch;
    for &start in blocks {
        path.clear();
        blocked.clear();
        block_lists.clear();
        // The members of the search are the line's blocks: those marked in
        // the graph.
        let start = start as usize;
        circuit(g, start, start, path, blocked, block_lists, search);
    }
}

#[allow(clippy::too_many_arguments)]
fn circuit(
    g: &mut Graph,
    v: usize,
    start: usize,
    path: &mut Vec<usize>,
    blocked: &mut Vec<usize>,
    block_lists: &mut Vec<Vec<usize>>,
    search: &mut Search,
) -> bool {
    if search.steps == 0 || path.len() >= CYCLE_DEPTH {
        search.cut = true;
        return false;
    }
    search.steps -= 1;
    let mut found = false;
    blocked.push(v);
    block_lists.push(Vec::new());
    // By index: the successor lists do not change during the search.
    let (first, end) = (g.blocks[v].succ.0 as usize, g.blocks[v].succ.1 as usize);
    for i in first..end {
        let a = g.succ_list[i] as usize;
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
            found = true;
        } else if !path.iter().any(|&p| g.arcs[p].cs_count <= 0) && !blocked.contains(&w) {
            found |= circuit(g, w, start, path, blocked, block_lists, search);
        }
        path.pop();
    }
    if found {
        unblock(v, blocked, block_lists);
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
    found
}

fn unblock(u: usize, blocked: &mut Vec<usize>, block_lists: &mut Vec<Vec<usize>>) {
    let Some(i) = blocked.iter().position(|&b| b == u) else {
        return;
    };
    blocked.remove(i);
    let to_unblock = block_lists.remove(i);
    for w in to_unblock {
        unblock(w, blocked, block_lists);
    }
}
