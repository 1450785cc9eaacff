//! A function's flow graph and gcov's solver for it: the counts of the
//! off-tree arcs come from the data file, the rest follow from flow
//! conservation (gcov's `solve_flow_graph`), then arcs are classified as
//! gcov does for branch output.
#![allow(clippy::indexing_slicing)]

use super::model::BranchCoverage;
use crate::gcov::gcno::FunctionRef;

/// A solved graph as the output needs it once the line counts are made:
/// each block's branches (its outgoing arcs that are neither
/// unconditional nor a call's non-return, in successor order), in one
/// list. The graph itself (blocks, arcs, both arc lists) is freed.
#[derive(Debug, Default)]
pub(super) struct Branches {
    /// Where each block's branches start in `arcs` (one more entry than blocks).
    start: Vec<u32>,
    arcs: Vec<BranchCoverage>,
    /// The entry block's count: the function's execution count.
    pub(super) entry_count: i128,
}

impl Branches {
    /// The branches of block `b`.
    pub(super) fn of(&self, b: usize) -> &[BranchCoverage] {
        let at = |i: usize| self.start.get(i).map_or(0, |&s| s as usize);
        &self.arcs[at(b)..at(b + 1).max(at(b))]
    }

    /// How many blocks the graph had.
    pub(super) fn blocks(&self) -> usize {
        self.start.len().saturating_sub(1)
    }
}

#[derive(Debug, Clone, Default)]
pub(super) struct ArcInfo {
    pub(super) src: u32,
    pub(super) dst: u32,
    pub(super) count: i128,
    pub(super) cs_count: i128,
    pub(super) count_valid: bool,
    pub(super) on_tree: bool,
    pub(super) fake: bool,
    pub(super) fall_through: bool,
    pub(super) is_throw: bool,
    pub(super) is_call_non_return: bool,
    pub(super) is_unconditional: bool,
}

#[derive(Debug, Clone, Default)]
pub(super) struct BlockInfo {
    /// The block's outgoing arcs: `Graph::succ_list[succ.0..succ.1]`.
    pub(super) succ: (u32, u32),
    /// The block's incoming arcs: `Graph::pred_list[pred.0..pred.1]`.
    pub(super) pred: (u32, u32),
    pub(super) num_succ: i64,
    pub(super) num_pred: i64,
    pub(super) count: i128,
    pub(super) count_valid: bool,
    pub(super) valid_chain: bool,
    pub(super) invalid_chain: bool,
    pub(super) exceptional: bool,
    pub(super) is_call_site: bool,
    /// Marked while the counts of a line holding this block are accumulated.
    pub(super) on_line: bool,
}

/// A function's graph while it is being solved.
#[derive(Default)]
pub(super) struct Graph {
    pub(super) arcs: Vec<ArcInfo>,
    pub(super) blocks: Vec<BlockInfo>,
    /// Arc ids, each block's outgoing arcs in one run (sorted by
    /// destination once solved): one list for the graph, not one per block.
    pub(super) succ_list: Vec<u32>,
    /// Arc ids, each block's incoming arcs in one run, in arc order.
    pub(super) pred_list: Vec<u32>,
    pub(super) has_catch: bool,
    /// Counters of the off-tree arcs, in block then arc order.
    pub(super) counted: usize,
    /// The solver's two work lists, kept from one function to the next.
    invalid: Vec<usize>,
    valid: Vec<usize>,
}

impl Graph {
    /// Makes the graph that of `f`, in the lists of the previous one.
    pub(super) fn fill(&mut self, f: FunctionRef<'_>) {
        let n = f.blocks().len();
        let g = self;
        g.arcs.clear();
        g.blocks.clear();
        g.blocks.resize(n, BlockInfo::default());
        g.succ_list.clear();
        g.pred_list.clear();
        g.has_catch = false;
        g.counted = 0;
        for (src, block) in f.blocks().enumerate() {
            let first = g.arcs.len();
            let mut mark_catches = false;
            for a in block.arcs() {
                let dst = a.dest as usize;
                let id = g.arcs.len();
                let mut arc = ArcInfo {
                    src: src as u32,
                    dst: a.dest,
                    on_tree: a.on_tree(),
                    fake: a.fake(),
                    fall_through: a.fall_through(),
                    ..ArcInfo::default()
                };
                // A fake arc from the entry is a non-local return into `dst`
                // (setjmp): nothing to count. From elsewhere it is an
                // exceptional exit, and the source block is a call.
                if arc.fake && src != 0 {
                    arc.is_call_non_return = true;
                    g.blocks[src].is_call_site = true;
                    mark_catches = true;
                }
                if !arc.on_tree {
                    g.counted += 1;
                }
                g.arcs.push(arc);
                g.succ_list.push(id as u32);
                g.blocks[src].num_succ += 1;
                if let Some(d) = g.blocks.get_mut(dst) {
                    d.num_pred += 1;
                }
            }
            g.blocks[src].succ = (first as u32, g.arcs.len() as u32);
            if mark_catches {
                for arc in &mut g.arcs[first..] {
                    if !arc.fake && !arc.fall_through {
                        arc.is_throw = true;
                        g.has_catch = true;
                    }
                }
            }
        }
        // Incoming arcs grouped by block, in arc order (a counting sort).
        let mut at = 0;
        for b in &mut g.blocks {
            b.pred = (at, at);
            at += b.num_pred as u32;
        }
        g.pred_list.resize(at as usize, 0);
        for (id, arc) in g.arcs.iter().enumerate() {
            if let Some(d) = g.blocks.get_mut(arc.dst as usize) {
                g.pred_list[d.pred.1 as usize] = id as u32;
                d.pred.1 += 1;
            }
        }
    }

    /// What the output keeps of the solved graph: each block's branches.
    pub(super) fn branches(&self) -> Branches {
        let is_branch = |a: &ArcInfo| !a.is_unconditional && !a.is_call_non_return;
        let n = self.arcs.iter().filter(|a| is_branch(a)).count();
        let mut out = Branches {
            start: Vec::with_capacity(self.blocks.len() + 1),
            arcs: Vec::with_capacity(n),
            entry_count: self.blocks.first().map_or(0, |b| b.count),
        };
        for b in 0..self.blocks.len() {
            // Arc counts of a function fit the notes' u32 ranges.
            out.start.push(out.arcs.len() as u32);
            for a in self.succ(b).iter().map(|&a| a as usize) {
                let a = &self.arcs[a];
                if is_branch(a) {
                    out.arcs.push(BranchCoverage {
                        count: a.count,
                        throw: a.is_throw,
                        fallthrough: a.fall_through,
                        source_block_id: a.src,
                        destination_block_id: a.dst,
                    });
                }
            }
        }
        out.start.push(out.arcs.len() as u32);
        out
    }

    /// The outgoing arcs of block `b`.
    pub(super) fn succ(&self, b: usize) -> &[u32] {
        let (s, e) = self.blocks[b].succ;
        &self.succ_list[s as usize..e as usize]
    }

    /// The incoming arcs of block `b`.
    pub(super) fn pred(&self, b: usize) -> &[u32] {
        let (s, e) = self.blocks[b].pred;
        &self.pred_list[s as usize..e as usize]
    }

    /// gcov's solve_flow_graph: measured counts onto the off-tree arcs, then
    /// propagation until every block and arc has a count.
    pub(super) fn solve(&mut self, counts: &[i128], exit: usize) -> bool {
        let n = self.blocks.len();
        if n < 2 {
            return false;
        }
        // Entry and exit counts cannot be deduced from missing arcs.
        if exit >= n {
            return false;
        }
        self.blocks[0].num_pred = i64::from(u32::MAX);
        self.blocks[exit].num_succ = i64::from(u32::MAX);
        let mut next = counts.iter().copied();
        let mut invalid = std::mem::take(&mut self.invalid);
        let mut valid = std::mem::take(&mut self.valid);
        invalid.clear();
        valid.clear();
        for b in 0..n {
            let (first, end) = (
                self.blocks[b].succ.0 as usize,
                self.blocks[b].succ.1 as usize,
            );
            let mut non_fake = 0;
            for i in first..end {
                let a = self.succ_list[i] as usize;
                if !self.arcs[a].fake {
                    non_fake += 1;
                }
                if !self.arcs[a].on_tree {
                    self.arcs[a].count = next.next().unwrap_or(0);
                    self.arcs[a].count_valid = true;
                    self.blocks[b].num_succ -= 1;
                    let d = self.arcs[a].dst as usize;
                    self.blocks[d].num_pred -= 1;
                }
            }
            if non_fake == 1 {
                for i in first..end {
                    let a = self.succ_list[i] as usize;
                    if !self.arcs[a].fake {
                        self.arcs[a].is_unconditional = true;
                    }
                }
            }
            // Successors in ascending destination order (a stable sort, as gcov's bubble sort).
            let arcs = &self.arcs;
            self.succ_list[first..end].sort_by_key(|&a| arcs[a as usize].dst);
            self.blocks[b].invalid_chain = true;
            invalid.push(b);
        }
        while !invalid.is_empty() || !valid.is_empty() {
            while let Some(b) = invalid.pop() {
                self.blocks[b].invalid_chain = false;
                let blk = &self.blocks[b];
                let total: i128 = if blk.num_succ == 0 {
                    self.succ(b)
                        .iter()
                        .map(|&a| self.arcs[a as usize].count)
                        .fold(0, i128::saturating_add)
                } else if blk.num_pred == 0 {
                    self.pred(b)
                        .iter()
                        .map(|&a| self.arcs[a as usize].count)
                        .fold(0, i128::saturating_add)
                } else {
                    continue;
                };
                let blk = &mut self.blocks[b];
                blk.count = total;
                blk.count_valid = true;
                blk.valid_chain = true;
                valid.push(b);
            }
            while let Some(b) = valid.pop() {
                self.blocks[b].valid_chain = false;
                if self.blocks[b].num_succ == 1 {
                    self.settle(b, true, &mut valid, &mut invalid);
                }
                if self.blocks[b].num_pred == 1 {
                    self.settle(b, false, &mut valid, &mut invalid);
                }
            }
        }
        self.invalid = invalid;
        self.valid = valid;
        self.blocks.iter().all(|b| b.count_valid)
    }

    /// A valid block with one arc of unknown count on one side (outgoing
    /// with `succ`): that arc carries the block's count less the others, and
    /// the block at its other end may then be solved in turn.
    pub(super) fn settle(
        &mut self,
        b: usize,
        succ: bool,
        valid: &mut Vec<usize>,
        invalid: &mut Vec<usize>,
    ) {
        let block = &self.blocks[b];
        let arcs = if succ { self.succ(b) } else { self.pred(b) };
        let mut total = block.count;
        let mut unknown = None;
        for a in arcs.iter().map(|&a| a as usize) {
            total = total.saturating_sub(self.arcs[a].count);
            if !self.arcs[a].count_valid {
                unknown = Some(a);
            }
        }
        let Some(a) = unknown else { return };
        self.arcs[a].count_valid = true;
        self.arcs[a].count = total;
        let other = if succ {
            self.arcs[a].dst as usize
        } else {
            self.arcs[a].src as usize
        };
        let remaining = if succ {
            self.blocks[b].num_succ -= 1;
            self.blocks[other].num_pred -= 1;
            self.blocks[other].num_pred
        } else {
            self.blocks[b].num_pred -= 1;
            self.blocks[other].num_succ -= 1;
            self.blocks[other].num_succ
        };
        let o = &mut self.blocks[other];
        if o.count_valid {
            if remaining == 1 && !o.valid_chain {
                o.valid_chain = true;
                valid.push(other);
            }
        } else if remaining == 0 && !o.invalid_chain {
            o.invalid_chain = true;
            invalid.push(other);
        }
    }

    /// Blocks reachable from the entry only through a catch are exceptional.
    pub(super) fn find_exception_blocks(&mut self) {
        for b in &mut self.blocks {
            b.exceptional = true;
        }
        self.blocks[0].exceptional = false;
        let mut queue = vec![0usize];
        while let Some(b) = queue.pop() {
            let (first, end) = (
                self.blocks[b].succ.0 as usize,
                self.blocks[b].succ.1 as usize,
            );
            for i in first..end {
                let a = self.succ_list[i] as usize;
                let arc = &self.arcs[a];
                let d = arc.dst as usize;
                if !arc.fake && !arc.is_throw && self.blocks[d].exceptional {
                    self.blocks[d].exceptional = false;
                    queue.push(d);
                }
            }
        }
    }
}
