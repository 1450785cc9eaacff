//! Source lines while counts accumulate, and a line's output record.
//!
//! The lines of a unit are one table (not a map per source file with a
//! list per line): a line is found by its owner (a source file, or a group
//! function whose lines gcov keeps apart) and number through one hash
//! index, and the blocks attached to lines are one list in which each
//! line holds a range. SQLite's unit has 70,000 lines: a map node and a
//! list per line were most of the line-count loop.
#![allow(clippy::indexing_slicing)]

use super::graph::Graph;
use super::model::{BranchCoverage, ConditionCoverage, LineCoverage};
use crate::gcov::gcno::GcnoFunction;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// A source line while counts accumulate.
#[derive(Debug, Clone, Default)]
pub(super) struct Line {
    /// The source file (`0..sources`) or group function (after them) whose line it is.
    pub(super) owner: u32,
    pub(super) number: u32,
    pub(super) exists: bool,
    pub(super) has_unexecuted_block: bool,
    pub(super) count: i128,
    /// The line's blocks: `LineTable::blocks[blocks.0..blocks.1]`, once
    /// the table is finished. From GCC 8, blocks whose last line (per
    /// location) is this line: their outgoing arcs are the line's branches
    /// and their flow is its count. Before GCC 8 only the blocks whose
    /// branches are the line's (see [`LineTable::sum_of_blocks`]).
    pub(super) blocks: (u32, u32),
}

/// The lines of a unit: see the module's comment.
#[derive(Default)]
pub(super) struct LineTable {
    index: HashMap<u64, u32, BuildHasherDefault<KeyHasher>>,
    /// While lines are added: in order of first mention. Once finished:
    /// by owner, then number.
    pub(super) lines: Vec<Line>,
    /// While lines are added: (line, function, block) in order of
    /// attachment. Once finished: (function, block), each line's run in
    /// order of attachment.
    attached: Vec<(u32, u32, u32)>,
    pub(super) blocks: Vec<(u32, u32)>,
    /// Where each owner's lines start in `lines` (one more entry than owners).
    owner_start: Vec<u32>,
    /// Before GCC 8 a line's blocks only give its branches: its count is
    /// the sum of its blocks' counts, and it has no conditions.
    pub(super) sum_of_blocks: bool,
    last: Option<(u64, u32)>,
}

/// The key of a line in the index.
fn key(owner: u32, number: u32) -> u64 {
    u64::from(owner) << 32 | u64::from(number)
}

impl LineTable {
    /// The line `number` of `owner`, made when first asked for.
    pub(super) fn line(&mut self, owner: u32, number: u32) -> u32 {
        let k = key(owner, number);
        if let Some((lk, i)) = self.last
            && lk == k
        {
            return i;
        }
        let lines = &mut self.lines;
        let i = *self.index.entry(k).or_insert_with(|| {
            lines.push(Line {
                owner,
                number,
                ..Line::default()
            });
            (lines.len() - 1) as u32
        });
        self.last = Some((k, i));
        i
    }

    /// Attaches a block of a function to a line (see [`Line::blocks`]).
    pub(super) fn attach(&mut self, line: u32, func: usize, block: usize) {
        self.attached.push((line, func as u32, block as u32));
    }

    /// Sorts the lines by owner and number and gathers each line's blocks
    /// into its range; no line is added after.
    pub(super) fn finish(&mut self, owners: usize) {
        self.index = HashMap::default();
        self.last = None;
        let mut order: Vec<(u64, u32)> = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| (key(l.owner, l.number), i as u32))
            .collect();
        order.sort_unstable();
        let mut new_of = vec![0u32; self.lines.len()];
        let mut sorted = Vec::with_capacity(self.lines.len());
        for (n, &(_, old)) in order.iter().enumerate() {
            new_of[old as usize] = n as u32;
            sorted.push(std::mem::take(&mut self.lines[old as usize]));
        }
        self.lines = sorted;
        // A counting sort of the attached blocks by their line: stable, so
        // each line keeps its blocks in the order they were attached.
        let mut start = vec![0u32; self.lines.len() + 1];
        for &(l, _, _) in &self.attached {
            start[new_of[l as usize] as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        for (n, line) in self.lines.iter_mut().enumerate() {
            line.blocks = (start[n], start[n + 1]);
        }
        let mut blocks = vec![(0u32, 0u32); self.attached.len()];
        for &(l, f, b) in &self.attached {
            let slot = &mut start[new_of[l as usize] as usize];
            blocks[*slot as usize] = (f, b);
            *slot += 1;
        }
        self.attached = Vec::new();
        self.blocks = blocks;
        self.owner_start = Vec::with_capacity(owners + 1);
        let mut at = 0usize;
        for o in 0..=owners {
            while at < self.lines.len() && (self.lines[at].owner as usize) < o {
                at += 1;
            }
            self.owner_start.push(at as u32);
        }
    }

    /// The indices of an owner's lines, ascending by number (once finished).
    pub(super) fn of(&self, owner: usize) -> std::ops::Range<usize> {
        let at = |o: usize| self.owner_start.get(o).map_or(0, |&s| s as usize);
        at(owner)..at(owner + 1).max(at(owner))
    }

    /// A line's blocks (once finished).
    pub(super) fn blocks_of(&self, line: &Line) -> &[(u32, u32)] {
        &self.blocks[line.blocks.0 as usize..line.blocks.1 as usize]
    }
}

/// The index's hash of a line key: one multiplication, folded (the keys
/// are not chosen by anyone who gains from collisions; a notes file that
/// made them collide costs time, not correctness).
#[derive(Default)]
pub(super) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        let m = u128::from(self.0) * 0x9e37_79b9_7f4a_7c15;
        (m as u64) ^ ((m >> 64) as u64)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
}

pub(super) struct Func<'a> {
    pub(super) notes: &'a GcnoFunction,
    pub(super) graph: Graph,
    pub(super) src: usize,
    pub(super) is_group: bool,
    /// A group function's lines are kept apart: their owner in the line table.
    pub(super) owner: Option<usize>,
    pub(super) blocks_executed: u32,
    /// Per decision of the notes: (block, its coverage).
    pub(super) conditions: Vec<(usize, ConditionCoverage)>,
}

pub(super) fn line_out(
    line: &Line,
    table: &LineTable,
    function: Option<&Arc<str>>,
    funcs: &[Func<'_>],
) -> LineCoverage {
    let blocks = table.blocks_of(line);
    LineCoverage {
        line_number: line.number,
        function_name: function.cloned(),
        count: line.count,
        unexecuted_block: line.has_unexecuted_block,
        // Each block's arcs in its successor order, as when they were
        // first listed.
        branches: blocks
            .iter()
            .flat_map(|&(f, b)| {
                let g = &funcs[f as usize].graph;
                g.succ(b as usize).iter().map(move |&a| &g.arcs[a])
            })
            .filter(|a| !a.is_unconditional && !a.is_call_non_return)
            .map(|a| BranchCoverage {
                count: a.count,
                throw: a.is_throw,
                fallthrough: a.fall_through,
                source_block_id: u32::try_from(a.src).unwrap_or(u32::MAX),
                destination_block_id: u32::try_from(a.dst).unwrap_or(u32::MAX),
            })
            .collect(),
        conditions: if table.sum_of_blocks {
            Vec::new()
        } else {
            blocks
                .iter()
                .flat_map(|&(f, b)| {
                    funcs[f as usize]
                        .conditions
                        .iter()
                        .filter(move |(cb, _)| *cb == b as usize)
                        .map(|(_, c)| c.clone())
                })
                .collect()
        },
    }
}
