//! Source lines while counts accumulate, and a line's output record.
//!
//! The lines of a unit are one table (not a map per source file with a
//! list per line): a line is found by its owner (a source file, or a group
//! function whose lines gcov keeps apart) and number through one hash
//! index, and the blocks attached to lines are one list in which each
//! line holds a range. SQLite's unit has 70,000 lines: a map node and a
//! list per line were most of the line-count loop.
#![allow(clippy::indexing_slicing)]

use super::graph::Branches;
use super::model::{ConditionCoverage, LineCoverage};
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
    /// From GCC 8, once a function's blocks were attached: `count` is the
    /// flow accumulated so far, no longer the sum of its blocks' counts.
    pub(super) flow: bool,
    /// The cycle search of the line was cut short in some function.
    pub(super) cut: bool,
    /// Steps of the cycle search spent on the line so far: the budget is
    /// the line's, shared by the functions whose blocks are on it.
    pub(super) steps: u32,
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
    /// Once finished, each line's blocks: those of line `i` are
    /// `blocks[block_start[i]..block_start[i + 1]]`. From GCC 8, blocks
    /// whose last line (per location) is the line: their outgoing arcs are
    /// its branches and their flow is its count. Before GCC 8 only the
    /// blocks whose branches are the line's (see [`Self::sum_of_blocks`]).
    /// Apart from [`Line`], which is then 32 bytes instead of 48 (SQLite's
    /// 70,000 lines are alive until the output is made).
    blocks: Vec<(u32, u32)>,
    block_start: Vec<u32>,
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

    /// Room for about `lines` lines, made at once.
    pub(super) fn reserve(&mut self, lines: usize) {
        self.index.reserve(lines);
        self.lines.reserve(lines);
        self.attached.reserve(lines);
    }

    /// Attaches a block of a function to a line (see [`Line::blocks`]).
    pub(super) fn attach(&mut self, line: u32, func: usize, block: usize) {
        self.attached.push((line, func as u32, block as u32));
    }

    /// How many blocks were attached so far.
    pub(super) fn attached_len(&self) -> usize {
        self.attached.len()
    }

    /// The (line, block) attachments made since there were `from`.
    pub(super) fn attached_since(&self, from: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.attached
            .get(from..)
            .unwrap_or_default()
            .iter()
            .map(|&(l, _, b)| (l, b))
    }

    /// Sorts the lines by owner and number and gathers each line's blocks
    /// into its range; no line is added after.
    pub(super) fn finish(&mut self, owners: usize) {
        self.index = HashMap::default();
        self.last = None;
        // Grown by doubling: up to half of it spare (3 MB of SQLite's
        // 6.2), returned before the lists of the sort are made (a large
        // buffer is its own mapping, which shrinks in place).
        self.lines.shrink_to_fit();
        // The lines by owner (a counting sort), then each owner's by
        // number: placed by number where the numbers are dense enough (a
        // source file's lines are), sorted where not (a hostile notes file
        // must not size anything by a line number).
        let mut owner_start = vec![0u32; owners + 1];
        for l in &self.lines {
            owner_start[l.owner as usize + 1] += 1;
        }
        for o in 1..owner_start.len() {
            owner_start[o] += owner_start[o - 1];
        }
        let mut fill = owner_start.clone();
        let mut order = vec![0u32; self.lines.len()];
        for (i, l) in self.lines.iter().enumerate() {
            let slot = &mut fill[l.owner as usize];
            order[*slot as usize] = i as u32;
            *slot += 1;
        }
        let mut slots: Vec<u32> = Vec::new();
        for o in 0..owners {
            let part = &mut order[owner_start[o] as usize..owner_start[o + 1] as usize];
            let number = |i: u32| self.lines[i as usize].number;
            let (Some(lo), Some(hi)) = (
                part.iter().map(|&i| number(i)).min(),
                part.iter().map(|&i| number(i)).max(),
            ) else {
                continue;
            };
            let span = (hi - lo) as usize + 1;
            if span <= 4 * part.len() + 1024 {
                slots.clear();
                slots.resize(span, u32::MAX);
                for &i in part.iter() {
                    slots[(number(i) - lo) as usize] = i;
                }
                let placed = slots.iter().copied().filter(|&i| i != u32::MAX);
                for (dst, i) in part.iter_mut().zip(placed) {
                    *dst = i;
                }
            } else {
                part.sort_unstable_by_key(|&i| number(i));
            }
        }
        let mut new_of = vec![0u32; self.lines.len()];
        for (n, &old) in order.iter().enumerate() {
            new_of[old as usize] = n as u32;
        }
        drop(order);
        // The lines moved to their places in the table itself, along the
        // cycles of the permutation (a sorted copy beside them was 3.4 MB
        // of SQLite's peak, with the graphs still alive).
        let mut dest = new_of.clone();
        for i in 0..dest.len() {
            loop {
                let d = dest[i] as usize;
                if d == i {
                    break;
                }
                self.lines.swap(i, d);
                dest.swap(i, d);
            }
        }
        drop(dest);
        // A counting sort of the attached blocks by their line: stable, so
        // each line keeps its blocks in the order they were attached.
        let mut start = vec![0u32; self.lines.len() + 1];
        for &(l, _, _) in &self.attached {
            start[new_of[l as usize] as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut blocks = vec![(0u32, 0u32); self.attached.len()];
        for &(l, f, b) in &self.attached {
            let slot = &mut start[new_of[l as usize] as usize];
            blocks[*slot as usize] = (f, b);
            *slot += 1;
        }
        // Each line's slot was moved to where the next line's blocks
        // begin: one to the right, and line 0's begin at 0.
        start.rotate_right(1);
        start[0] = 0;
        self.attached = Vec::new();
        self.blocks = blocks;
        self.block_start = start;
        self.owner_start = owner_start;
    }

    /// The indices of an owner's lines, ascending by number (once finished).
    pub(super) fn of(&self, owner: usize) -> std::ops::Range<usize> {
        let at = |o: usize| self.owner_start.get(o).map_or(0, |&s| s as usize);
        at(owner)..at(owner + 1).max(at(owner))
    }

    /// The blocks of line `i` (once finished).
    pub(super) fn blocks_of(&self, i: usize) -> &[(u32, u32)] {
        let at = |i: usize| self.block_start.get(i).map_or(0, |&s| s as usize);
        &self.blocks[at(i)..at(i + 1).max(at(i))]
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

/// A function as the output needs it once its graph is solved: owned, so
/// that the notes can be freed before the output is made.
pub(super) struct Func {
    pub(super) name: String,
    pub(super) start_line: u32,
    pub(super) start_column: u32,
    pub(super) end_line: u32,
    pub(super) end_column: u32,
    /// What the output needs of the function's solved graph.
    pub(super) branches: Branches,
    pub(super) src: usize,
    pub(super) is_group: bool,
    /// A group function's lines are kept apart: their owner in the line table.
    pub(super) owner: Option<usize>,
    pub(super) blocks_executed: u32,
    /// Per decision of the notes: (block, its coverage).
    pub(super) conditions: Vec<(usize, ConditionCoverage)>,
}

/// The output record of line `i` of the (finished) table.
pub(super) fn line_out(
    i: usize,
    table: &LineTable,
    function: Option<&Arc<str>>,
    funcs: &[Func],
) -> LineCoverage {
    let mut out = LineCoverage::default();
    line_into(i, table, function, funcs, &mut out);
    out
}

/// [`line_out`] into a record already made, every field set again: its
/// lists keep their room (SQLite's 70,000 lines were as many branch lists
/// allocated and freed one after another), and the function's name is
/// not taken again when it is the one already there.
pub(super) fn line_into(
    i: usize,
    table: &LineTable,
    function: Option<&Arc<str>>,
    funcs: &[Func],
    out: &mut LineCoverage,
) {
    let line = &table.lines[i];
    let blocks = table.blocks_of(i);
    // Each block's branches in its successor order; counted first, so
    // that a new list is made at its size.
    let n: usize = blocks
        .iter()
        .map(|&(f, b)| funcs[f as usize].branches.of(b as usize).len())
        .sum();
    out.branches.clear();
    out.branches.reserve(n);
    for &(f, b) in blocks.iter().filter(|_| n > 0) {
        out.branches
            .extend_from_slice(funcs[f as usize].branches.of(b as usize));
    }
    out.conditions.clear();
    if !table.sum_of_blocks {
        for &(f, b) in blocks {
            for (cb, c) in &funcs[f as usize].conditions {
                if *cb == b as usize {
                    out.conditions.push(c.clone());
                }
            }
        }
    }
    let same = match (function, &out.function_name) {
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        (None, None) => true,
        _ => false,
    };
    if !same {
        out.function_name = function.cloned();
    }
    out.line_number = line.number;
    out.count = line.count;
    out.unexecuted_block = line.has_unexecuted_block;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines come out by owner and number, dense or sparse, each with its
    /// blocks in the order they were attached.
    #[test]
    fn finished_lines_ascend_per_owner_with_their_blocks_in_order() {
        let mut t = LineTable::default();
        let dense = [7u32, 3, 5, 4, 9];
        let sparse = [u32::MAX, 1, 2_000_000_000, 0];
        for (k, &n) in dense.iter().enumerate() {
            let i = t.line(1, n);
            t.attach(i, k, 2 * k);
            t.attach(i, k, 2 * k + 1);
        }
        for &n in &sparse {
            let i = t.line(0, n);
            t.attach(i, 9, n as usize % 7);
        }
        assert_eq!(t.line(1, 3), t.line(1, 3), "one line per owner and number");
        let again = t.line(1, 7);
        t.attach(again, 8, 8);
        t.finish(3);
        let numbers =
            |o: usize| -> Vec<u32> { t.lines[t.of(o)].iter().map(|l| l.number).collect() };
        assert_eq!(numbers(0), [0, 1, 2_000_000_000, u32::MAX]);
        assert_eq!(numbers(1), [3, 4, 5, 7, 9]);
        assert!(numbers(2).is_empty());
        let seven = t.of(1).start + 3;
        assert_eq!(t.blocks_of(seven), [(0, 0), (0, 1), (8, 8)]);
        let max = t.of(0).start + 3;
        assert_eq!(t.blocks_of(max), [(9, u32::MAX % 7)]);
        assert_eq!(
            t.blocks_of(t.of(1).start),
            [(1, 2), (1, 3)],
            "line 3: the first of owner 1"
        );
        assert_eq!(
            t.blocks_of(0),
            [(9, 0)],
            "line 0 of owner 0: the table's first"
        );
        let all: usize = (0..t.lines.len()).map(|i| t.blocks_of(i).len()).sum();
        assert_eq!(
            all,
            2 * dense.len() + sparse.len() + 1,
            "every block on one line"
        );
    }

    /// A line is 32 bytes: its blocks' ranges are kept beside the lines.
    #[test]
    fn a_line_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Line>(), 32);
    }
}
