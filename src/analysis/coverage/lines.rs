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

impl Line {
    /// Whether what a later run of functions counted on the line can be
    /// added to it as if counted here after the line's own functions
    /// ([`Self::absorb`]). Not when the cycle search's budget, the line's
    /// across functions, might have cut a search of the later run here,
    /// where less was left: only lines of thousands of blocks in both
    /// runs come near it.
    pub(super) fn fits(&self, later: &Line) -> bool {
        let (spent, more) = (u64::from(self.steps), u64::from(later.steps));
        // A search cut short in `later` with budget spent here before
        // would have been cut elsewhere; one not cut had enough unless
        // both spent more than the line's budget together.
        spent == 0 || (!later.cut && spent + more <= super::cycles::CYCLE_STEPS)
    }

    /// Adds what a later run of functions counted on the line, as if
    /// counted here after the line's own functions (when [`Self::fits`]).
    pub(super) fn absorb(&mut self, later: &Line) {
        self.steps = self.steps.saturating_add(later.steps);
        self.cut |= later.cut;
        self.exists |= later.exists;
        self.has_unexecuted_block |= later.has_unexecuted_block;
        // The first share of flow replaces the blocks' counts summed
        // before it, and blocks after it add nothing (see `accumulate` and
        // the count's loop): `later`'s count is its blocks' sum while it
        // has no flow, and its flow alone once it has.
        match (self.flow, later.flow) {
            (true, false) => {}
            (false, true) => self.count = later.count,
            (false, false) | (true, true) => self.count = self.count.saturating_add(later.count),
        }
        self.flow |= later.flow;
    }
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

    /// Whether [`Self::join`] gives the counts of one table: false when a
    /// line of both runs has a count that cannot be known without counting
    /// again (see [`Line::fits`]).
    pub(super) fn joinable(&self, later: &LineTable, sources: usize) -> bool {
        (0..sources).all(|o| {
            Merge::new(self, later, o).all(|step| match step {
                Step::Both(i, j) => self.lines[i].fits(&later.lines[j]),
                Step::Own | Step::Later => true,
            })
        })
    }

    /// The finished tables of two runs of functions, `self`'s before
    /// `later`'s, made one as if all had been counted into one table (when
    /// [`Self::joinable`]): lines of both owners and numbers combined,
    /// `later`'s functions numbered from `first_func` on. Owners are the
    /// `sources` first (shared by both runs), then the group functions of
    /// `self`, then those of `later` (which numbered its own from
    /// `sources` on).
    ///
    /// Both are sorted, so this is a merge (a line of one run looked up in
    /// the other's index was 3 ms of cache misses for SQLite's 35,000),
    /// and it is made in `self`'s lists, grown to their joined size and
    /// filled from the back: a line of `self` only moves towards the end,
    /// past what is still to be read. New lists for the whole table were
    /// 700 more page faults (2.8 MB) than the lists of `later` alone.
    pub(super) fn join(mut self, later: LineTable, sources: usize, first_func: usize) -> Self {
        let own_groups = self.owners().saturating_sub(sources);
        let later_groups = later.owners().saturating_sub(sources);
        // Each joined owner's lines: sources, own groups, later groups.
        let mut sizes: Vec<usize> = (0..sources)
            .map(|o| Merge::new(&self, &later, o).count())
            .collect();
        sizes.extend((sources..sources + own_groups).map(|o| self.of(o).len()));
        sizes.extend((sources..sources + later_groups).map(|o| later.of(o).len()));
        let lines: usize = sizes.iter().sum();
        let blocks = self.blocks.len() + later.blocks.len();
        // Where `self`'s lines' blocks were: the list itself is rewritten
        // as lines move.
        let starts = std::mem::take(&mut self.block_start);
        self.block_start = vec![0; lines + 1];
        self.lines.resize(lines, Line::default());
        self.blocks.resize(blocks, (0, 0));
        let mut w = Back {
            line: lines,
            block: blocks,
            first_func: first_func as u32,
            starts: &starts,
            later: &later,
        };
        for o in (sources..sources + later_groups).rev() {
            let owner = (o + own_groups) as u32;
            for j in later.of(o).rev() {
                w.later(&mut self, j, owner);
            }
        }
        for o in (sources..sources + own_groups).rev() {
            for i in self.of(o).rev() {
                w.own(&mut self, i);
            }
        }
        for o in (0..sources).rev() {
            let mut i = self.of(o);
            let mut j = later.of(o);
            loop {
                let a = i.clone().next_back().map(|i| self.lines[i].number);
                let b = j.clone().next_back().map(|j| later.lines[j].number);
                match (a, b) {
                    (None, None) => break,
                    (Some(a), Some(b)) if a == b => {
                        let (Some(i), Some(j)) = (i.next_back(), j.next_back()) else {
                            break;
                        };
                        w.both(&mut self, i, j);
                    }
                    (Some(a), Some(b)) if a > b => {
                        let Some(i) = i.next_back() else { break };
                        w.own(&mut self, i);
                    }
                    (Some(_), None) => {
                        let Some(i) = i.next_back() else { break };
                        w.own(&mut self, i);
                    }
                    (_, Some(_)) => {
                        let Some(j) = j.next_back() else { break };
                        w.later(&mut self, j, o as u32);
                    }
                }
            }
        }
        debug_assert_eq!((w.line, w.block), (0, 0));
        self.block_start[lines] = blocks as u32;
        let mut at = 0;
        self.owner_start = std::iter::once(0)
            .chain(sizes.iter().map(|&n| {
                at += n as u32;
                at
            }))
            .collect();
        self
    }

    /// The owners of a finished table.
    fn owners(&self) -> usize {
        self.owner_start.len().saturating_sub(1)
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

/// The joined table being filled from the back ([`LineTable::join`]):
/// the next line and block written go just before `line` and `block`.
struct Back<'t> {
    line: usize,
    block: usize,
    first_func: u32,
    /// Where the first table's lines' blocks were.
    starts: &'t [u32],
    later: &'t LineTable,
}

impl Back<'_> {
    /// The blocks of the first table's line `i` moved to just before the
    /// blocks written so far (never before where they were: a line of
    /// the first table only moves towards the end).
    fn own_blocks(&mut self, t: &mut LineTable, i: usize) {
        let (from, to) = (self.starts[i] as usize, self.starts[i + 1] as usize);
        self.block -= to - from;
        t.blocks.copy_within(from..to, self.block);
    }

    /// The blocks of the later table's line `j`, its functions renumbered.
    fn later_blocks(&mut self, t: &mut LineTable, j: usize) {
        let blocks = self.later.blocks_of(j);
        self.block -= blocks.len();
        for (k, &(f, b)) in blocks.iter().enumerate() {
            t.blocks[self.block + k] = (f + self.first_func, b);
        }
    }

    fn put(&mut self, t: &mut LineTable, line: Line) {
        self.line -= 1;
        t.lines[self.line] = line;
        t.block_start[self.line] = self.block as u32;
    }

    /// The first table's line `i`.
    fn own(&mut self, t: &mut LineTable, i: usize) {
        self.own_blocks(t, i);
        let line = t.lines[i].clone();
        self.put(t, line);
    }

    /// The later table's line `j`, of joined owner `owner`.
    fn later(&mut self, t: &mut LineTable, j: usize, owner: u32) {
        self.later_blocks(t, j);
        let line = Line {
            owner,
            ..self.later.lines[j].clone()
        };
        self.put(t, line);
    }

    /// Line `i` of the first table and `j` of the later, one line: the
    /// first's blocks, then the later's.
    fn both(&mut self, t: &mut LineTable, i: usize, j: usize) {
        self.later_blocks(t, j);
        self.own_blocks(t, i);
        let mut line = t.lines[i].clone();
        line.absorb(&self.later.lines[j]);
        self.put(t, line);
    }
}

/// One step of merging an owner's lines of two finished tables by number.
enum Step {
    /// A line of the first table only.
    Own,
    /// A line of the second table only.
    Later,
    /// A line in both.
    Both(usize, usize),
}

/// An owner's lines of two finished tables, merged by number (each table
/// has a line once, in ascending order).
struct Merge<'t> {
    own: &'t LineTable,
    later: &'t LineTable,
    i: std::ops::Range<usize>,
    j: std::ops::Range<usize>,
}

impl<'t> Merge<'t> {
    fn new(own: &'t LineTable, later: &'t LineTable, owner: usize) -> Self {
        Merge {
            own,
            later,
            i: own.of(owner),
            j: later.of(owner),
        }
    }
}

impl Iterator for Merge<'_> {
    type Item = Step;

    fn next(&mut self) -> Option<Step> {
        let a = (!self.i.is_empty()).then(|| self.own.lines[self.i.start].number);
        let b = (!self.j.is_empty()).then(|| self.later.lines[self.j.start].number);
        let (i, j) = (self.i.start, self.j.start);
        let step = match (a, b) {
            (None, None) => return None,
            (Some(a), Some(b)) if a == b => Step::Both(i, j),
            (Some(a), Some(b)) if a < b => Step::Own,
            (Some(_), None) => Step::Own,
            (_, Some(_)) => Step::Later,
        };
        match step {
            Step::Own => self.i.start += 1,
            Step::Later => self.j.start += 1,
            Step::Both(..) => {
                self.i.start += 1;
                self.j.start += 1;
            }
        }
        Some(step)
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

    /// A line in the given state.
    fn one_line(count: i128, flow: bool, steps: u32, cut: bool) -> Line {
        Line {
            exists: true,
            count,
            flow,
            steps,
            cut,
            ..Line::default()
        }
    }

    /// A line's count when the functions of a later table are absorbed is
    /// what it would be had they been counted after: the first share of
    /// flow replaces the blocks' counts summed before it, and blocks add
    /// nothing once there is flow (each case as the count's loop and
    /// `accumulate` would go).
    #[test]
    fn absorbed_counts_follow_the_flow_rule() {
        // (earlier, later) as (count, flow) -> count, flow
        let cases = [
            ((5, false), (7, false), (12, false)), // blocks, then blocks
            ((5, false), (7, true), (7, true)),    // the later flow replaces the blocks
            ((5, true), (7, false), (5, true)),    // blocks after flow add nothing
            ((5, true), (7, true), (12, true)),    // flow shares add up
        ];
        for ((c1, f1), (c2, f2), (want, flow)) in cases {
            let (mut l, later) = (one_line(c1, f1, 0, false), one_line(c2, f2, 0, false));
            assert!(l.fits(&later));
            l.absorb(&later);
            assert_eq!(
                (l.count, l.flow),
                (want, flow),
                "{:?}",
                ((c1, f1), (c2, f2))
            );
        }
    }

    /// The cycle search's budget is the line's across functions: absorbed
    /// work that would not have fitted in what was left, or a search cut
    /// short after work spent here, cannot be known without counting again.
    #[test]
    fn absorbing_past_a_lines_budget_asks_for_a_recount() {
        let b = super::super::cycles::CYCLE_STEPS as u32;
        let absorb = |spent: u32, more: u32, cut: bool| {
            let (mut l, later) = (
                one_line(1, true, spent, false),
                one_line(1, true, more, cut),
            );
            let ok = l.fits(&later);
            l.absorb(&later);
            (ok, l.steps, l.cut)
        };
        assert_eq!(
            absorb(b / 2, b / 2, false),
            (true, b, false),
            "fits exactly"
        );
        assert!(!absorb(b / 2, b / 2 + 1, false).0, "one step over");
        assert!(!absorb(1, b, true).0, "cut, with less budget here");
        assert_eq!(
            absorb(0, b, true),
            (true, b, true),
            "cut with the whole budget: the same"
        );
        assert_eq!(
            absorb(b, 0, false),
            (true, b, false),
            "no search in the later part"
        );
    }

    /// Two runs' tables joined are the table of both runs counted into
    /// one: lines of the shared sources merged by number (counts combined,
    /// blocks in run order), each run's group functions' lines after, the
    /// later run's owners and functions renumbered.
    #[test]
    fn joined_tables_are_one_table_of_both_runs() {
        // (owner, number, count, flow, [(function, block)]), in the order
        // counted; two sources, each run one group function (owner 2).
        type Entry = (u32, u32, i128, bool, &'static [(usize, usize)]);
        let first: &[Entry] = &[
            (0, 7, 3, true, &[(0, 1), (0, 2)]),
            (1, 3, 4, false, &[]),
            (2, 10, 5, true, &[(1, 1)]),
            (0, 5, 1, true, &[(0, 3)]),
        ];
        let later: &[Entry] = &[
            (0, 9, 6, true, &[(0, 1)]),
            (0, 7, 2, true, &[(1, 4)]),
            (2, 20, 7, true, &[(1, 2)]),
            (1, 1, 8, false, &[(0, 5)]),
            (1, 3, 9, true, &[]),
        ];
        let fill = |t: &mut LineTable, entries: &[Entry], owner_shift: u32, first_func: usize| {
            for &(owner, number, count, flow, blocks) in entries {
                let owner = if owner >= 2 {
                    owner + owner_shift
                } else {
                    owner
                };
                let i = t.line(owner, number);
                let mut line = Line {
                    exists: true,
                    count,
                    flow,
                    ..Line::default()
                };
                if t.lines[i as usize].exists {
                    let mut earlier = t.lines[i as usize].clone();
                    earlier.absorb(&line);
                    line = earlier;
                }
                line.owner = owner;
                line.number = number;
                t.lines[i as usize] = line;
                for &(f, b) in blocks {
                    t.attach(i, f + first_func, b);
                }
            }
        };
        let (mut a, mut b, mut one) = (
            LineTable::default(),
            LineTable::default(),
            LineTable::default(),
        );
        fill(&mut a, first, 0, 0);
        fill(&mut b, later, 0, 0);
        fill(&mut one, first, 0, 0);
        fill(&mut one, later, 1, 2);
        a.finish(3);
        b.finish(3);
        one.finish(4);
        assert!(a.joinable(&b, 2));
        let joined = a.join(b, 2, 2);
        let show = |t: &LineTable| -> Vec<_> {
            (0..4)
                .flat_map(|o| t.of(o).map(move |i| (o, i)))
                .map(|(o, i)| {
                    let l = &t.lines[i];
                    (
                        o,
                        l.owner,
                        l.number,
                        l.count,
                        l.flow,
                        t.blocks_of(i).to_vec(),
                    )
                })
                .collect()
        };
        assert_eq!(show(&joined), show(&one));
        assert_eq!(joined.lines.len(), 7, "line 7 and line 3 once each");
    }

    /// A line is 32 bytes: its blocks' ranges are kept beside the lines.
    #[test]
    fn a_line_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Line>(), 32);
    }
}
