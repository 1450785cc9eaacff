//! What gcov computes from a notes file and the arc counters of a data
//! file: block and arc counts (the flow graph solved), line counts,
//! function counts and branches, per source file. The model follows
//! `gcov --json-format` (GCC 9+) so that reports can be written from it;
//! the algorithm follows gcov 8 and later, and for older notes the line
//! counts of older gcov (see `formats/gcov-counts.md`).
//!
//! Indexing here is into the blocks and arcs built from a decoded notes file,
//! whose block numbers and arc destinations `gcno` has checked against the
//! block count, and functions of fewer than two blocks (no entry and exit)
//! are left out before any graph is built: no index can come from the input
//! unchecked.
#![allow(clippy::indexing_slicing)]

use crate::gcda::{Gcda, Record};
use crate::gcno::{Gcno, GcnoFunction};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Coverage of one compilation unit, per source file, in gcov's order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnitCoverage {
    /// The compilation directory recorded in the notes (GCC 9+).
    pub cwd: Option<String>,
    pub files: Vec<FileCoverage>,
    /// Problems gcov would also have reported (mismatched or unsolvable data).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl UnitCoverage {
    /// Whether a function, line or branch count came out negative. The
    /// measured counters are then not one consistent snapshot (a hypervisor
    /// read while other CPUs count, without `-fprofile-update=atomic`): gcov
    /// prints such counts as they are, lcov writes 0 (`-` for a branch).
    pub fn has_negative_counts(&self) -> bool {
        self.files.iter().any(|f| {
            f.functions.iter().any(|x| x.execution_count < 0)
                || f.lines
                    .iter()
                    .any(|l| l.count < 0 || l.branches.iter().any(|b| b.count < 0))
        })
    }
}

/// A count as the reports write it: never negative (lcov writes a negative
/// line count as 0), and exact past 2^63 where gcov's signed 64-bit
/// counts turn negative.
fn non_negative<S: serde::Serializer>(v: &i128, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(u128::try_from(*v).unwrap_or(0))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FileCoverage {
    /// The source file name as recorded (canonicalized like gcov does).
    pub file: String,
    pub functions: Vec<FunctionCoverage>,
    pub lines: Vec<LineCoverage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionCoverage {
    pub name: String,
    /// What gcov 9+ writes as `demangled_name`: the C++ demangling of
    /// `name`, or `name` itself when it does not demangle (C).
    pub demangled_name: String,
    pub start_line: u32,
    pub start_column: u32,
    pub end_line: u32,
    pub end_column: u32,
    pub blocks: u32,
    pub blocks_executed: u32,
    /// Signed as gcov computes it (inconsistent counters can make it
    /// negative); JSON output writes a negative count as 0.
    #[serde(serialize_with = "non_negative")]
    pub execution_count: i128,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineCoverage {
    pub line_number: u32,
    /// Absent (as in gcov's JSON) for a line before any function of its file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub function_name: Option<String>,
    #[serde(serialize_with = "non_negative")]
    pub count: i128,
    pub unexecuted_block: bool,
    pub branches: Vec<BranchCoverage>,
    /// Condition coverage (GCC 14+ `-fcondition-coverage`) of the decisions
    /// whose blocks end on this line, as `gcov -g` reports it; empty without.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ConditionCoverage>,
}

/// One decision's condition coverage (MC/DC as GCC measures it): which
/// terms were shown to independently make the outcome true and false.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionCoverage {
    /// Condition outcomes: two per term (true and false).
    pub count: u32,
    /// Outcomes shown to independently affect the decision.
    pub covered: u32,
    /// Terms (0-based, in source order) never shown to make it true.
    pub not_covered_true: Vec<u32>,
    /// Terms never shown to make it false.
    pub not_covered_false: Vec<u32>,
}

impl ConditionCoverage {
    /// From the two 64-bit sets of the `conditions` counters of a decision
    /// of `terms` terms: bit i of `truev` (`falsev`) is set when term i was
    /// shown to independently make the outcome true (false). Bits at or
    /// above `terms` are not outcomes of the decision and are ignored.
    pub fn from_sets(terms: u32, truev: u64, falsev: u64) -> ConditionCoverage {
        let terms = terms.min(64);
        let mask = u64::MAX.checked_shr(64 - terms).unwrap_or(0);
        let (t, f) = (truev & mask, falsev & mask);
        let missing = |set: u64| -> Vec<u32> { (0..terms).filter(|i| set >> i & 1 == 0).collect() };
        ConditionCoverage {
            count: 2 * terms,
            covered: t.count_ones() + f.count_ones(),
            not_covered_true: missing(t),
            not_covered_false: missing(f),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BranchCoverage {
    #[serde(serialize_with = "non_negative")]
    pub count: i128,
    pub throw: bool,
    pub fallthrough: bool,
}

#[derive(Debug, Clone, Default)]
struct ArcInfo {
    src: usize,
    dst: usize,
    count: i128,
    cs_count: i128,
    count_valid: bool,
    on_tree: bool,
    fake: bool,
    fall_through: bool,
    is_throw: bool,
    is_call_non_return: bool,
    is_unconditional: bool,
}

#[derive(Debug, Clone, Default)]
struct BlockInfo {
    succ: Vec<usize>,
    pred: Vec<usize>,
    num_succ: i64,
    num_pred: i64,
    count: i128,
    count_valid: bool,
    valid_chain: bool,
    invalid_chain: bool,
    exceptional: bool,
    is_call_site: bool,
}

/// A function's graph while it is being solved.
struct Graph {
    arcs: Vec<ArcInfo>,
    blocks: Vec<BlockInfo>,
    has_catch: bool,
    /// Counters of the off-tree arcs, in block then arc order.
    counted: usize,
}

impl Graph {
    fn new(f: &GcnoFunction) -> Graph {
        let mut g = Graph {
            arcs: Vec::new(),
            blocks: vec![BlockInfo::default(); f.blocks.len()],
            has_catch: false,
            counted: 0,
        };
        for (src, block) in f.blocks.iter().enumerate() {
            let mut mark_catches = false;
            for a in &block.arcs {
                let dst = a.dest as usize;
                let id = g.arcs.len();
                let mut arc = ArcInfo {
                    src,
                    dst,
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
                g.blocks[src].succ.push(id);
                g.blocks[src].num_succ += 1;
                if let Some(d) = g.blocks.get_mut(dst) {
                    d.pred.push(id);
                    d.num_pred += 1;
                }
            }
            if mark_catches {
                for &id in &g.blocks[src].succ {
                    let arc = &mut g.arcs[id];
                    if !arc.fake && !arc.fall_through {
                        arc.is_throw = true;
                        g.has_catch = true;
                    }
                }
            }
        }
        g
    }

    /// gcov's solve_flow_graph: measured counts onto the off-tree arcs, then
    /// propagation until every block and arc has a count.
    fn solve(&mut self, counts: &[i128], exit: usize) -> bool {
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
        let mut invalid: Vec<usize> = Vec::new();
        for b in 0..n {
            let succ = self.blocks[b].succ.clone();
            let mut non_fake = 0;
            for &a in &succ {
                if !self.arcs[a].fake {
                    non_fake += 1;
                }
                if !self.arcs[a].on_tree {
                    self.arcs[a].count = next.next().unwrap_or(0);
                    self.arcs[a].count_valid = true;
                    self.blocks[b].num_succ -= 1;
                    let d = self.arcs[a].dst;
                    self.blocks[d].num_pred -= 1;
                }
            }
            if non_fake == 1 {
                for &a in &succ {
                    if !self.arcs[a].fake {
                        self.arcs[a].is_unconditional = true;
                    }
                }
            }
            // Successors in ascending destination order (a stable sort, as gcov's bubble sort).
            let arcs = &self.arcs;
            self.blocks[b].succ.sort_by_key(|&a| arcs[a].dst);
            self.blocks[b].invalid_chain = true;
            invalid.push(b);
        }
        let mut valid: Vec<usize> = Vec::new();
        while !invalid.is_empty() || !valid.is_empty() {
            while let Some(b) = invalid.pop() {
                self.blocks[b].invalid_chain = false;
                let blk = &self.blocks[b];
                let total: i128 = if blk.num_succ == 0 {
                    blk.succ
                        .iter()
                        .map(|&a| self.arcs[a].count)
                        .fold(0, i128::saturating_add)
                } else if blk.num_pred == 0 {
                    blk.pred
                        .iter()
                        .map(|&a| self.arcs[a].count)
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
        self.blocks.iter().all(|b| b.count_valid)
    }

    /// A valid block with one arc of unknown count on one side (outgoing
    /// with `succ`): that arc carries the block's count less the others, and
    /// the block at its other end may then be solved in turn.
    fn settle(&mut self, b: usize, succ: bool, valid: &mut Vec<usize>, invalid: &mut Vec<usize>) {
        let block = &self.blocks[b];
        let arcs = if succ { &block.succ } else { &block.pred };
        let mut total = block.count;
        let mut unknown = None;
        for &a in arcs {
            total = total.saturating_sub(self.arcs[a].count);
            if !self.arcs[a].count_valid {
                unknown = Some(a);
            }
        }
        let Some(a) = unknown else { return };
        self.arcs[a].count_valid = true;
        self.arcs[a].count = total;
        let other = if succ {
            self.arcs[a].dst
        } else {
            self.arcs[a].src
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
    fn find_exception_blocks(&mut self) {
        for b in &mut self.blocks {
            b.exceptional = true;
        }
        self.blocks[0].exceptional = false;
        let mut queue = vec![0usize];
        while let Some(b) = queue.pop() {
            for a in self.blocks[b].succ.clone() {
                let arc = &self.arcs[a];
                let d = arc.dst;
                if !arc.fake && !arc.is_throw && self.blocks[d].exceptional {
                    self.blocks[d].exceptional = false;
                    queue.push(d);
                }
            }
        }
    }
}

/// A source line while counts accumulate.
#[derive(Debug, Clone, Default)]
struct Line {
    exists: bool,
    count: i128,
    has_unexecuted_block: bool,
    /// Blocks whose last line (per location) is this line: (function, block).
    blocks: Vec<(usize, usize)>,
    /// Their outgoing arcs, for branches: (function, arc).
    branches: Vec<(usize, usize)>,
}

struct Func<'a> {
    notes: &'a GcnoFunction,
    graph: Graph,
    src: usize,
    is_group: bool,
    /// Lines of a group function, from its start line.
    /// Lines of a group function by line number (sparse: a hostile end line
    /// must not size anything).
    lines: BTreeMap<u32, Line>,
    blocks_executed: u32,
    /// Per decision of the notes: (block, its coverage).
    conditions: Vec<(usize, ConditionCoverage)>,
}

/// Computes a unit's coverage as gcov does from its notes and (if any) data.
pub fn compute(notes: &Gcno, data: Option<&Gcda>) -> UnitCoverage {
    let mut out = UnitCoverage {
        cwd: notes.cwd.clone(),
        ..UnitCoverage::default()
    };
    // Sources in order of first mention, as gcov's find_source registers them.
    let mut sources: Vec<String> = Vec::new();
    let mut source_index: HashMap<String, usize> = HashMap::new();
    let mut find_source = |name: &str, sources: &mut Vec<String>| -> usize {
        let c = crate::paths::fold(name);
        *source_index.entry(c.clone()).or_insert_with(|| {
            sources.push(c);
            sources.len() - 1
        })
    };
    let mut block_files: Vec<Vec<Vec<usize>>> = Vec::new();
    let mut fsrc = Vec::new();
    for f in &notes.functions {
        fsrc.push(find_source(&f.source, &mut sources));
        block_files.push(
            f.blocks
                .iter()
                .map(|b| {
                    b.locations
                        .iter()
                        .map(|l| find_source(&l.file, &mut sources))
                        .collect()
                })
                .collect(),
        );
    }

    // Counters of the data file by function ident.
    // Borrowed, not expanded: a compact section's claimed length is checked
    // against the graph before any of it is materialized.
    let mut counts: HashMap<u32, &crate::gcda::Values> = HashMap::new();
    let mut condition_sets: HashMap<u32, &crate::gcda::Values> = HashMap::new();
    if let Some(d) = data {
        if d.header.stamp != notes.header.stamp {
            out.warnings
                .push("stamp mismatch with notes file: counters ignored".into());
        } else {
            let by_ident: HashMap<u32, &GcnoFunction> =
                notes.functions.iter().map(|f| (f.id.ident, f)).collect();
            for r in &d.records {
                let Record::Function(f) = r else { continue };
                let Some(id) = f.id else { continue };
                let Some(n) = by_ident.get(&id.ident) else {
                    continue;
                };
                if n.id != id {
                    out.warnings
                        .push(format!("profile mismatch for '{}'", n.name));
                    break;
                }
                if let Some(arcs) = f.counters.iter().find(|c| c.kind.index == 0) {
                    counts.insert(id.ident, &arcs.values);
                }
                if let Some(c) = f.counters.iter().find(|c| c.kind.name == "conditions") {
                    condition_sets.insert(id.ident, &c.values);
                }
            }
        }
    }

    // Group functions: non-artificial functions starting on the same line of the same file.
    let mut starts: HashMap<(usize, u32), usize> = HashMap::new();
    let mut group = vec![false; notes.functions.len()];
    for (i, f) in notes.functions.iter().enumerate() {
        if f.artificial {
            continue;
        }
        if let Some(&j) = starts.get(&(fsrc[i], f.start_line)) {
            group[i] = true;
            group[j] = true;
        } else {
            starts.insert((fsrc[i], f.start_line), i);
        }
    }

    let mut funcs: Vec<Func<'_>> = Vec::new();
    let mut func_blocks: Vec<Vec<Vec<usize>>> = Vec::new();
    for (i, f) in notes.functions.iter().enumerate() {
        if f.artificial {
            continue;
        }
        if f.blocks.len() < 2 {
            out.warnings
                .push(format!("'{}' lacks entry and/or exit blocks", f.name));
            continue;
        }
        let mut graph = Graph::new(f);
        if graph.counted == 0 && data.is_some() {
            continue; // not in the executable: another instance was kept
        }
        // A counter is a u64 as libgcov increments it; gcov reads it as a
        // signed 64-bit gcov_type, so a value of 2^63 or more turns
        // negative there. Here it keeps its value, and the graph is solved
        // in 128 bits, where no sum of u64 counters can wrap.
        let c: Vec<i128> = match counts.get(&f.id.ident) {
            Some(v) if v.len() == graph.counted => v.iter().map(i128::from).collect(),
            Some(_) => {
                out.warnings
                    .push(format!("profile mismatch for '{}'", f.name));
                vec![0; graph.counted]
            }
            None => vec![0; graph.counted],
        };
        // The exit block is block 1 from GCC 4.8 on, the last block before.
        let exit = if notes.header.version.at_least(4, 8) {
            1
        } else {
            f.blocks.len() - 1
        };
        if !graph.solve(&c, exit) {
            out.warnings
                .push(format!("graph is unsolvable for '{}'", f.name));
        }
        if graph.has_catch {
            graph.find_exception_blocks();
        }
        let lines = BTreeMap::new();
        // Two sets per decision, in the order of the CONDITIONS record.
        let sets: Vec<u64> = match condition_sets.get(&f.id.ident) {
            Some(v) if v.len() == 2 * f.conditions.len() => v.iter().collect(),
            Some(_) => {
                out.warnings
                    .push(format!("condition profile mismatch for '{}'", f.name));
                Vec::new()
            }
            None => Vec::new(),
        };
        let conditions = f
            .conditions
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
        funcs.push(Func {
            notes: f,
            graph,
            src: fsrc[i],
            is_group: group[i],
            lines,
            blocks_executed: 0,
            conditions,
        });
        func_blocks.push(block_files[i].clone());
    }

    // Before GCC 8, gcov (without -a) counted a line as the sum of the
    // counts of the blocks on it; from 8 on, as the flow entering it.
    let sum_of_blocks = !notes.header.version.at_least(8, 0);

    // add_line_counts
    let mut src_lines: Vec<BTreeMap<u32, Line>> = vec![BTreeMap::new(); sources.len()];
    for (fi, func) in funcs.iter_mut().enumerate() {
        let nblocks = func.graph.blocks.len();
        // Before GCC 8, gcov kept the last line seen from one block to the
        // next ("propagated from one iteration to the next" in gcov 7's
        // add_line_counts): a block without lines, such as a loop's
        // condition, gives its branches to the line of the block before it.
        let mut last: Option<(bool, usize, u32)> = None;
        for (bi, block) in func.notes.blocks.iter().enumerate() {
            let info = &func.graph.blocks[bi];
            if info.count != 0 && bi != 0 && bi + 1 != nblocks {
                func.blocks_executed += 1;
            }
            // The last line seen, kept across locations as gcov keeps it: a
            // location without lines (GCC 12 drops a line repeated across a
            // file switch) attaches the block to the previous line again.
            if !sum_of_blocks {
                last = None;
            }
            for (li, loc) in block.locations.iter().enumerate() {
                let src = func_blocks[fi][bi][li];
                let mut sorted = loc.lines.clone();
                sorted.sort_unstable();
                for &ln in &sorted {
                    let in_group = func.is_group
                        && src == func.src
                        && func.notes.start_line <= ln
                        && ln <= func.notes.end_line;
                    let line = if in_group {
                        Some(func.lines.entry(ln).or_default())
                    } else {
                        Some(src_lines[src].entry(ln).or_default())
                    };
                    let Some(line) = line else { continue };
                    line.exists = true;
                    if !info.exceptional && info.count == 0 {
                        line.has_unexecuted_block = true;
                    }
                    line.count = line.count.saturating_add(info.count);
                    last = Some((in_group, src, ln));
                }
                if bi == 0 || bi + 1 == nblocks || sum_of_blocks {
                    continue; // entry or exit block; before GCC 8, see below
                }
                if let Some((in_group, last_src, ln)) = last {
                    let line = if in_group {
                        func.lines.get_mut(&ln)
                    } else {
                        src_lines[last_src].get_mut(&ln)
                    };
                    if let Some(line) = line {
                        line.blocks.push((fi, bi));
                        line.branches
                            .extend(func.graph.blocks[bi].succ.iter().map(|&a| (fi, a)));
                    }
                }
            }
            // Before GCC 8: a block's branches go once to the last line seen.
            if sum_of_blocks
                && bi != 0
                && bi + 1 != nblocks
                && let Some((in_group, last_src, ln)) = last
            {
                let line = if in_group {
                    func.lines.get_mut(&ln)
                } else {
                    src_lines[last_src].get_mut(&ln)
                };
                if let Some(line) = line {
                    line.branches
                        .extend(func.graph.blocks[bi].succ.iter().map(|&a| (fi, a)));
                }
            }
        }
    }

    // accumulate_line_counts: group functions' lines, then each file's lines.
    let mut cut: Vec<(usize, u32)> = Vec::new();
    for fi in 0..funcs.len() {
        if !funcs[fi].is_group {
            continue;
        }
        let mut lines = std::mem::take(&mut funcs[fi].lines);
        for (&ln, line) in lines.iter_mut() {
            if !accumulate(line, &mut funcs) {
                cut.push((funcs[fi].src, ln));
            }
        }
        funcs[fi].lines = lines;
    }
    for (si, lines) in src_lines.iter_mut().enumerate() {
        for (&ln, line) in lines.iter_mut() {
            if !accumulate(line, &mut funcs) {
                cut.push((si, ln));
            }
        }
    }
    for (si, ln) in cut {
        out.warnings.push(format!(
            "line {ln} of {}: too many cycles among its blocks; the search stopped and its count may be low",
            sources[si]
        ));
    }

    // Output per source file, gcov's JSON order.
    for (si, name) in sources.iter().enumerate() {
        let mut file = FileCoverage {
            file: name.clone(),
            ..FileCoverage::default()
        };
        let mut fns: Vec<&Func<'_>> = funcs.iter().filter(|f| f.src == si).collect();
        fns.sort_by_key(|f| (f.notes.start_line, f.notes.start_column));
        for f in &fns {
            file.functions.push(FunctionCoverage {
                name: f.notes.name.clone(),
                demangled_name: demangle(&f.notes.name),
                start_line: f.notes.start_line,
                start_column: f.notes.start_column,
                end_line: f.notes.end_line,
                end_column: f.notes.end_column,
                blocks: (f.graph.blocks.len() as u32).saturating_sub(2),
                blocks_executed: f.blocks_executed,
                execution_count: f.graph.blocks.first().map_or(0, |b| b.count),
            });
        }
        // Line by line: first the lines of the functions starting there,
        // then the file's own line (gcov's order). Only lines that start a
        // function or have a count are visited, so a 270,000-line file costs
        // its lines, not lines times functions.
        let mut starting: BTreeMap<u32, Vec<&Func<'_>>> = BTreeMap::new();
        for f in &fns {
            starting.entry(f.notes.start_line).or_default().push(f);
        }
        let mut numbers: Vec<u32> = starting
            .keys()
            .chain(src_lines[si].keys())
            .copied()
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        // A file's own line belongs to the innermost non-group function
        // still open there (gcov 11 and 12 keep a stack and drop the
        // functions that ended before the line): none after a function's
        // last line, the outer function again after a nested one. gcov 9
        // names the last non-group function that started, ended or not
        // (formats/report-json.md; GCC 10 is taken to be as 11).
        let scoped = notes.header.version.at_least(10, 0);
        let mut open: Vec<&Func<'_>> = Vec::new();
        for ln in numbers.into_iter().filter(|&ln| ln >= 1) {
            for f in starting.get(&ln).into_iter().flatten() {
                if !f.is_group {
                    open.push(f);
                }
                for (&number, line) in &f.lines {
                    if line.exists {
                        file.lines
                            .push(line_out(line, number, Some(&f.notes.name), &funcs));
                    }
                }
            }
            if let Some(line) = src_lines[si].get(&ln).filter(|l| l.exists) {
                while scoped && open.last().is_some_and(|f| f.notes.end_line < ln) {
                    open.pop();
                }
                let name = open.last().map(|f| f.notes.name.as_str());
                file.lines.push(line_out(line, ln, name, &funcs));
            }
        }
        out.files.push(file);
    }
    out
}

/// libiberty's `cplus_demangle(name, DMGL_PARAMS)` as gcov calls it: the
/// demangled C++ name, or the name itself when it is not a mangled one.
pub fn demangle(name: &str) -> String {
    if !name.starts_with("_Z") {
        return name.to_string();
    }
    let Some(out) = cpp_demangle_str(name) else {
        return name.to_string();
    };
    constructor_template(name, &out).unwrap_or(out)
}

fn cpp_demangle_str(name: &str) -> Option<String> {
    cpp_demangle::Symbol::new(name).ok()?.demangle().ok()
}

/// A demangled name split into what precedes its parameter list and the
/// parameters: `a::f<int>(long, char)` → (`a::f<int>`, `long, char`).
fn split_params(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_suffix(')')?;
    let mut depth = 0usize;
    for (i, c) in body.char_indices().rev() {
        match c {
            ')' => depth += 1,
            '(' if depth == 0 => return Some((body.get(..i)?, body.get(i + 1..)?)),
            '(' => depth -= 1,
            _ => {}
        }
    }
    None
}

/// The last two `::` components of a qualified name, outside template
/// arguments.
fn last_two_components(s: &str) -> Option<(&str, &str)> {
    let (mut depth, mut cuts) = (0i32, Vec::new());
    let b = s.as_bytes();
    for (i, &c) in b.iter().enumerate() {
        match c {
            b'<' | b'(' => depth += 1,
            b'>' | b')' => depth -= 1,
            b':' if depth == 0 && b.get(i + 1) == Some(&b':') => cuts.push(i),
            _ => {}
        }
    }
    let last = *cuts.last()?;
    let before = if cuts.len() >= 2 {
        cuts.get(cuts.len() - 2).map_or(0, |&c| c + 2)
    } else {
        0
    };
    Some((s.get(before..last)?, s.get(last + 2..)?))
}

/// cpp_demangle takes the first parameter of a constructor template
/// (`…basic_string<…>::basic_string<std::allocator<char> >(unsigned long,
/// char, …)`, mangled `…C2IS3_EEmcRKS3_`) for a return type and drops it,
/// where libiberty knows constructors have none. Such a name is demangled
/// again with an explicit `v` return type inserted after its name; the
/// result is taken only when it is the first output with one more leading
/// parameter.
fn constructor_template(name: &str, out: &str) -> Option<String> {
    let (prefix, params) = split_params(out)?;
    let (class, ctor) = last_two_components(prefix)?;
    let bare = |s: &str| s.split('<').next().unwrap_or(s).to_string();
    // Only a constructor with template arguments of its own.
    if !ctor.ends_with('>') || bare(class) != bare(ctor) || ctor == bare(ctor) {
        return None;
    }
    for (i, c) in name.char_indices() {
        if c != 'E' {
            continue;
        }
        let candidate = format!("{}v{}", name.get(..=i)?, name.get(i + 1..)?);
        let Some(fixed) = cpp_demangle_str(&candidate) else {
            continue;
        };
        let Some((p2, params2)) = split_params(&fixed) else {
            continue;
        };
        let one_more = if params.is_empty() {
            !params2.is_empty() && params2 != "void"
        } else {
            params2.ends_with(&format!(", {params}"))
        };
        if p2 == prefix && one_more {
            return Some(fixed);
        }
    }
    None
}

fn line_out(line: &Line, number: u32, function: Option<&str>, funcs: &[Func<'_>]) -> LineCoverage {
    LineCoverage {
        line_number: number,
        function_name: function.map(str::to_string),
        count: line.count,
        unexecuted_block: line.has_unexecuted_block,
        branches: line
            .branches
            .iter()
            .map(|&(f, a)| &funcs[f].graph.arcs[a])
            .filter(|a| !a.is_unconditional && !a.is_call_non_return)
            .map(|a| BranchCoverage {
                count: a.count,
                throw: a.is_throw,
                fallthrough: a.fall_through,
            })
            .collect(),
        conditions: line
            .blocks
            .iter()
            .flat_map(|&(f, b)| {
                funcs[f]
                    .conditions
                    .iter()
                    .filter(move |(cb, _)| *cb == b)
                    .map(|(_, c)| c.clone())
            })
            .collect(),
    }
}

/// Work allowed for the cycle search of one line. Real lines have a handful
/// of blocks; a hostile notes file can put thousands on one line and make
/// the elementary circuits explode (gcov would run for ever). The search
/// stops there and the caller warns that the line's count may be low.
const CYCLE_STEPS: u64 = 1_000_000;
/// Deepest path followed, so recursion stays far from the stack's end.
const CYCLE_DEPTH: usize = 2048;

/// A line's count: the arcs entering its blocks from elsewhere, plus the
/// cycles among its blocks (gcov's accumulate_line_info). Returns false when
/// the cycle search was cut short.
fn accumulate(line: &mut Line, funcs: &mut [Func<'_>]) -> bool {
    if line.blocks.is_empty() {
        return true;
    }
    let on_line: HashSet<(usize, usize)> = line.blocks.iter().copied().collect();
    let mut count: i128 = 0;
    for &(f, b) in &line.blocks {
        let g = &mut funcs[f].graph;
        for &a in &g.blocks[b].pred {
            let src = g.arcs[a].src;
            if !on_line.contains(&(f, src)) {
                count = count.saturating_add(g.arcs[a].count);
            }
        }
        for &a in &g.blocks[b].succ.clone() {
            g.arcs[a].cs_count = g.arcs[a].count;
        }
    }
    let mut search = Search {
        steps: CYCLE_STEPS,
        cut: false,
        count: 0,
    };
    cycles(line, funcs, &mut search);
    line.count = count.saturating_add(search.count);
    !search.cut
}

/// The state of one line's cycle search.
struct Search {
    steps: u64,
    cut: bool,
    count: i128,
}

/// The Hawick–James circuit enumeration gcov uses: every elementary cycle
/// through the line's blocks, each reduced by its smallest arc.
fn cycles(line: &Line, funcs: &mut [Func<'_>], search: &mut Search) {
    for &start in &line.blocks {
        let mut path: Vec<usize> = Vec::new();
        let mut blocked: Vec<usize> = Vec::new();
        let mut block_lists: Vec<Vec<usize>> = Vec::new();
        let g = &mut funcs[start.0].graph;
        let members: HashSet<usize> = line
            .blocks
            .iter()
            .filter(|(f, _)| *f == start.0)
            .map(|&(_, b)| b)
            .collect();
        circuit(
            g,
            &members,
            start.1,
            start.1,
            &mut path,
            &mut blocked,
            &mut block_lists,
            search,
        );
    }
}

#[allow(clippy::too_many_arguments)]
fn circuit(
    g: &mut Graph,
    members: &HashSet<usize>,
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
    let succ = g.blocks[v].succ.clone();
    for &a in &succ {
        let w = g.arcs[a].dst;
        if w < start || g.arcs[a].cs_count <= 0 || !members.contains(&w) {
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
            found |= circuit(g, members, w, start, path, blocked, block_lists, search);
        }
        path.pop();
    }
    if found {
        unblock(v, blocked, block_lists);
    } else {
        for &a in &succ {
            let w = g.arcs[a].dst;
            if w < start || g.arcs[a].cs_count <= 0 || !members.contains(&w) {
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

#[cfg(test)]
mod demangle_tests {
    use super::demangle;

    #[test]
    fn demangles_as_libiberty() {
        // What c++filt (libiberty) prints for each.
        for (mangled, want) in [
            ("main", "main"),
            ("nested.0", "nested.0"),
            ("_ZN2ns3BoxC2Ei", "ns::Box::Box(int)"),
            ("_ZNK2ns3Box3getEv", "ns::Box::get() const"),
            ("_ZN2ns5twiceIlEET_S1_", "long ns::twice<long>(long)"),
            (
                "_ZZ4mainENKUliE_clEi",
                "main::{lambda(int)#1}::operator()(int) const",
            ),
            (
                "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEC2IS3_EEmcRKS3_",
                "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string<std::allocator<char> >(unsigned long, char, std::allocator<char> const&)",
            ),
            (
                "_ZNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEC2IS3_EEPKcRKS3_",
                "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >::basic_string<std::allocator<char> >(char const*, std::allocator<char> const&)",
            ),
        ] {
            assert_eq!(demangle(mangled), want, "{mangled}");
        }
    }
}
