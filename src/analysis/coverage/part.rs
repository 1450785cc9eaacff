//! A run of a unit's functions counted: what every run reads (the
//! [`Plan`]), what one makes (a [`Part`]: its lines, functions and
//! warnings), and two parts joined into the count of both runs as if they
//! had been counted one after the other.
//!
//! A large unit's functions are counted in two runs at once when the
//! caller lends a second thread ([`Join`]): SQLite's count is 19 of its 37
//! ms on one core while the other waits. A line's count is the sum of each
//! function's share (arcs and cycles stay within a function), so the parts
//! are independent but for three things the join puts back in order: the
//! first share of flow replaces the blocks' counts summed before it (GCC 8
//! and later), the cycle search's budget is the line's across functions,
//! and group functions' lines are owned by numbers given in function order.
#![allow(clippy::indexing_slicing)]

use super::cycles::{self, accumulate};
use super::graph::Graph;
use super::lines::{Func, LineTable};
use super::model::{ConditionCoverage, Warning};
use crate::gcov::gcda::Values;
use crate::gcov::gcno::Gcno;
use std::collections::HashMap;

/// Two jobs run by the caller's means: at once on two threads, or one
/// after the other. The library makes no threads; a caller with a core to
/// spare lends it through this (see [`super::count_owned_in`]).
pub trait Join {
    /// Runs `a` and `b` and gives both results.
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send;
}

/// [`Join`] without a second thread: `a`, then `b`. The count in two parts
/// run in turn is the count in one (what the tests check).
#[derive(Debug, Clone, Copy, Default)]
pub struct InTurn;

impl Join for InTurn {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        let ra = a();
        (ra, b())
    }
}

/// What the count of every function reads and none changes: made once per
/// unit, shared by the parts.
pub(super) struct Plan<'n> {
    pub(super) notes: &'n Gcno,
    /// With a data file, a function without counters was not linked in.
    pub(super) has_data: bool,
    /// The number of source files: group functions' owners come after.
    pub(super) sources: usize,
    /// Each function's source.
    pub(super) fsrc: Vec<usize>,
    /// The source of each block location, blocks and their locations in
    /// order: one flat list, each function's run starting at
    /// `file_start[i]` (a list per function was an allocation and its
    /// regrowths per function).
    pub(super) block_files: Vec<u32>,
    pub(super) file_start: Vec<usize>,
    /// About how much work each function is (its blocks, arcs, locations
    /// and lines): where to cut the functions in two equal parts.
    pub(super) weight: Vec<u32>,
    /// Counters of the data file by function ident.
    pub(super) counts: HashMap<u32, &'n Values>,
    pub(super) condition_sets: HashMap<u32, &'n Values>,
    /// Functions starting on the same line of the same file as another.
    pub(super) group: Vec<bool>,
    /// Before GCC 8, gcov (without -a) counted a line as the sum of the
    /// counts of the blocks on it; from 8 on, as the flow entering it.
    pub(super) sum_of_blocks: bool,
}

/// The count of a run of functions.
pub(super) struct Part {
    pub(super) table: LineTable,
    pub(super) funcs: Vec<Func>,
    /// In function order.
    pub(super) warnings: Vec<Warning>,
    /// The group functions' owners made (numbered from `sources` on).
    pub(super) groups: usize,
}

impl Plan<'_> {
    /// The functions `0..k` and `k..` for two parts of about equal work,
    /// `k` neither 0 nor the number of functions (`None` for fewer than
    /// two functions).
    pub(super) fn middle(&self) -> Option<usize> {
        let n = self.weight.len();
        if n < 2 {
            return None;
        }
        let total: u64 = self.weight.iter().map(|&w| u64::from(w)).sum();
        let mut sum = 0u64;
        let k = self
            .weight
            .iter()
            .position(|&w| {
                sum += u64::from(w);
                2 * sum >= total
            })
            .map_or(n - 1, |i| i + 1);
        Some(k.clamp(1, n - 1))
    }

    /// The block locations of the functions from `k` on: what a part of
    /// them reserves its table for.
    pub(super) fn locations_from(&self, k: usize) -> usize {
        self.block_files.len() - self.file_start[k.min(self.file_start.len() - 1)]
    }

    /// The count of the functions in `range`, as the whole count makes it
    /// for them, with room in its table for `reserve` lines; its table
    /// finished.
    pub(super) fn part(&self, range: std::ops::Range<usize>, reserve: usize) -> Part {
        let notes = self.notes;
        let mut warnings = Vec::new();
        // add_line_counts. Lines are owned by their source file, or kept
        // apart by their group function (owners after the sources).
        let mut table = LineTable::default();
        table.sum_of_blocks = self.sum_of_blocks;
        // A line per location at most, give or take locations of several
        // lines: made at about its size rather than grown by copies.
        table.reserve(reserve);
        let mut groups = 0;
        let mut sorted: Vec<u32> = Vec::new();
        let mut scratch = cycles::Scratch::default();
        // The (line, block) attachments of the function at hand, by line.
        let mut mine: Vec<(u32, u32)> = Vec::new();
        let mut run: Vec<u32> = Vec::new();
        // One graph and one list of counters, refilled for each function:
        // the lists of the largest function are made once, not those of
        // every function.
        let mut graph = Graph::default();
        let mut c: Vec<i128> = Vec::new();

        // One function at a time: its graph solved, its blocks' counts put
        // on its lines, its share of each line's flow accumulated, and its
        // graph then freed but for its branches. A line's flow is the sum
        // of each function's share (arcs and cycles stay within one
        // function), so no graph needs to outlive its function: SQLite's
        // graphs together were about 10 MB of the peak.
        let mut funcs: Vec<Func> = Vec::new();
        for (i, f) in notes
            .functions()
            .enumerate()
            .skip(range.start)
            .take(range.len())
        {
            if f.artificial {
                continue;
            }
            if f.blocks().len() < 2 {
                warnings.push(Warning::NoEntryExit {
                    function: f.name.clone(),
                });
                continue;
            }
            graph.fill(f);
            if graph.counted == 0 && self.has_data {
                continue; // not in the executable: another instance was kept
            }
            // A counter is a u64 as libgcov increments it; gcov reads it as a
            // signed 64-bit gcov_type, so a value of 2^63 or more turns
            // negative there. Here it keeps its value, and the graph is solved
            // in 128 bits, where no sum of u64 counters can wrap.
            c.clear();
            match self.counts.get(&f.id.ident) {
                Some(v) if v.len() == graph.counted => c.extend(v.iter().map(i128::from)),
                Some(_) => {
                    warnings.push(Warning::ProfileMismatch {
                        function: f.name.clone(),
                    });
                    c.resize(graph.counted, 0);
                }
                None => c.resize(graph.counted, 0),
            }
            // The exit block is block 1 from GCC 4.8 on, the last block before.
            let exit = if self.notes.header.version.at_least(4, 8) {
                1
            } else {
                f.blocks().len() - 1
            };
            if !graph.solve(&c, exit) {
                warnings.push(Warning::Unsolvable {
                    function: f.name.clone(),
                });
            }
            if graph.has_catch {
                graph.find_exception_blocks();
            }
            // Two sets per decision, in the order of the CONDITIONS record.
            let sets: Vec<u64> = match self.condition_sets.get(&f.id.ident) {
                Some(v) if v.len() == 2 * f.conditions().len() => v.iter().collect(),
                Some(_) => {
                    warnings.push(Warning::ConditionProfileMismatch {
                        function: f.name.clone(),
                    });
                    Vec::new()
                }
                // Counters of this function without its conditions counters.
                None if !f.conditions().is_empty() && self.counts.contains_key(&f.id.ident) => {
                    warnings.push(Warning::NoConditionCounters {
                        function: f.name.clone(),
                        decisions: f.conditions().len(),
                    });
                    Vec::new()
                }
                None => Vec::new(),
            };
            let conditions = f
                .conditions()
                .iter()
                .enumerate()
                .map(|(k, c)| {
                    let set = |j: usize| sets.get(2 * k + j).copied().unwrap_or(0);
                    (
                        c.block as usize,
                        ConditionCoverage::from_sets(c.terms, set(0), set(1)),
                    )
                })
                .collect();
            let fi = funcs.len();
            let is_group = self.group[i];
            let src = self.fsrc[i];
            // Group functions' owners are numbered in function order (in a
            // part from the sources on: see `LineTable::join`).
            let owner = is_group.then(|| {
                groups += 1;
                self.sources + groups - 1
            });
            let mut blocks_executed = 0;
            let first_attached = table.attached_len();
            let mut files = self.block_files[self.file_start[i]..self.file_start[i + 1]]
                .iter()
                .map(|&s| s as usize);
            let nblocks = graph.blocks.len();
            // Before GCC 8, gcov kept the last line seen from one block to the
            // next ("propagated from one iteration to the next" in gcov 7's
            // add_line_counts): a block without lines, such as a loop's
            // condition, gives its branches to the line of the block before it.
            let mut last: Option<u32> = None;
            for (bi, block) in f.blocks().enumerate() {
                let info = &graph.blocks[bi];
                if info.count != 0 && bi != 0 && bi + 1 != nblocks {
                    blocks_executed += 1;
                }
                // The last line seen, kept across locations as gcov keeps it: a
                // location without lines (GCC 12 drops a line repeated across a
                // file switch) attaches the block to the previous line again.
                if !self.sum_of_blocks {
                    last = None;
                }
                for loc in block.locations() {
                    // One entry per location, made from the same notes above.
                    let Some(lsrc) = files.next() else { break };
                    sorted.clear();
                    sorted.extend_from_slice(loc.lines);
                    sorted.sort_unstable();
                    for &ln in &sorted {
                        let in_group =
                            is_group && lsrc == src && f.start_line <= ln && ln <= f.end_line;
                        let line_owner = match owner {
                            Some(o) if in_group => o,
                            _ => lsrc,
                        };
                        let li = table.line(line_owner as u32, ln);
                        let line = &mut table.lines[li as usize];
                        line.exists = true;
                        if !info.exceptional && info.count == 0 {
                            line.has_unexecuted_block = true;
                        }
                        // Once a line has flow (from GCC 8) its count is that
                        // flow, whatever the blocks on it count.
                        if !line.flow {
                            line.count = line.count.saturating_add(info.count);
                        }
                        last = Some(li);
                    }
                    if bi == 0 || bi + 1 == nblocks || self.sum_of_blocks {
                        continue; // entry or exit block; before GCC 8, see below
                    }
                    if let Some(li) = last {
                        table.attach(li, fi, bi);
                    }
                }
                // Before GCC 8: a block's branches go once to the last line seen.
                if self.sum_of_blocks
                    && bi != 0
                    && bi + 1 != nblocks
                    && let Some(li) = last
                {
                    table.attach(li, fi, bi);
                }
            }
            // accumulate_line_counts, this function's share: the flow into
            // each of its lines' blocks and the cycles among them (before
            // GCC 8 the blocks of a line only give its branches). A stable
            // sort keeps each line's blocks in the order they were attached.
            if !self.sum_of_blocks {
                mine.clear();
                mine.extend(table.attached_since(first_attached));
                mine.sort_by_key(|&(l, _)| l);
                for same in mine.chunk_by(|a, b| a.0 == b.0) {
                    run.clear();
                    run.extend(same.iter().map(|&(_, b)| b));
                    let line = &mut table.lines[same[0].0 as usize];
                    accumulate(line, &run, &mut graph, &mut scratch);
                }
            }
            funcs.push(Func {
                name: f.name.clone(),
                start_line: f.start_line,
                start_column: f.start_column,
                end_line: f.end_line,
                end_column: f.end_column,
                branches: graph.branches(),
                src,
                is_group,
                owner,
                blocks_executed,
                conditions,
            });
        }
        table.finish(self.sources + groups);
        Part {
            table,
            funcs,
            warnings,
            groups,
        }
    }
}

impl Part {
    /// Whether this part and the part of the functions after its own can
    /// be joined ([`Part::join`]): not when a line's cycle search may have
    /// gone otherwise (see [`super::lines::Line::fits`]); count them all in
    /// one part then.
    pub(super) fn joinable(&self, later: &Part, sources: usize) -> bool {
        self.table.joinable(&later.table, sources)
    }

    /// This part and the part of the functions after its own made one, as
    /// if all had been counted in one part (when [`Part::joinable`]).
    pub(super) fn join(self, later: Part, sources: usize) -> Part {
        let first_func = self.funcs.len();
        let table = self.table.join(later.table, sources, first_func);
        // `later` numbered its group functions' owners from the sources
        // on: they come after this part's.
        let shift = self.groups;
        let mut funcs = self.funcs;
        funcs.extend(later.funcs.into_iter().map(|mut f| {
            f.owner = f.owner.map(|o| o + shift);
            f
        }));
        let mut warnings = self.warnings;
        warnings.extend(later.warnings);
        Part {
            table,
            funcs,
            warnings,
            groups: self.groups + later.groups,
        }
    }
}
