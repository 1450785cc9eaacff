//! Line, function and branch coverage from a coverage mapping and a raw
//! profile, computed as `llvm-cov export -format=lcov` computes it.
//!
//! The steps follow LLVM's `CoverageMapping.cpp` and llvm-cov's lcov
//! exporter: each function record gets its counters from the profile (by
//! name and structural hash) and every region its count (counter
//! expressions evaluated); per source file the regions of all functions
//! become a sorted list of *segments* (where a count starts, is a region's
//! entry, a gap, or skipped code), and a line's count is the largest count
//! of the regions that start on it, or the count of the region that wraps
//! into it (`LineCoverageStats`). FN/FNDA list the function records of the
//! file, FNF/FNH count *instantiation groups* (records that start at the
//! same place: a header's static inline function compiled into two units
//! is one), LF/LH and BRF/BRH add up the per-function summaries, and BRDA
//! numbers the branch regions of each line (a macro's branches on the line
//! of its expansion). The few rules that changed between LLVM releases
//! depend on [`Options::llvm_major`]. See `formats/llvm-covmap.md`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use super::covmap::{Counter, CoverageMapping, ExprKind, Function, Region, RegionKind};
use super::raw::RawProfile;

/// Which llvm-cov to answer like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The LLVM major release (that of the clang that built the binary).
    /// From LLVM 20 a branch side whose counter is the constant 0 is left
    /// out of BRF on its own (before, only a branch with both sides 0).
    pub llvm_major: u32,
}

/// A region with its counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountedRegion {
    /// The region.
    pub region: Region,
    /// Its count (a branch's true side).
    pub count: u64,
    /// A branch's false side.
    pub false_count: u64,
}

impl CountedRegion {
    fn start(&self) -> (u32, u32) {
        self.region.start()
    }
    fn end(&self) -> (u32, u32) {
        self.region.end()
    }
    fn true_folded(&self) -> bool {
        self.region.count == Counter::Zero
    }
    fn false_folded(&self) -> bool {
        self.region.false_count == Counter::Zero
    }
}

/// One function with its counted regions (LLVM's `FunctionRecord`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionRecord {
    /// The name llvm-cov prints (the PGO name, less a `file:` prefix equal to its first file).
    pub name: String,
    /// Its files by file ID.
    pub filenames: Vec<String>,
    /// Code, expansion, skipped and gap regions.
    pub regions: Vec<CountedRegion>,
    /// Branch and MC/DC branch regions.
    pub branches: Vec<CountedRegion>,
    /// The count of its first region.
    pub execution_count: u64,
}

/// Why a profile does not fit a binary's mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MismatchError {
    /// A function has other counters in the profile than the binary maps.
    #[error(
        "{} of the binary {} another structural hash in the profile (first: {}: binary {:#018x}, profile {:#018x}): the profile is of another build",
        crate::plural::count(*.count as u64, "function", "functions"),
        if *.count == 1 { "has" } else { "have" },
        .name, .binary_hash, .profile_hash
    )]
    HashMismatch {
        /// How many functions differ.
        count: usize,
        /// The first one.
        name: String,
        /// Its hash in the mapping.
        binary_hash: u64,
        /// Its hash in the profile.
        profile_hash: u64,
    },
    /// No function of the profile is in the binary.
    #[error(
        "none of the profile's {} is in the binary's coverage mapping (first: {}): the profile is of another program",
        crate::plural::count(*.profile_functions as u64, "function", "functions"),
        .first
    )]
    NothingInCommon {
        /// Functions in the profile.
        profile_functions: usize,
        /// The first of them.
        first: String,
    },
}

/// The profile's counters by name, then by hash. Records of one name and
/// hash are summed, as `llvm-profdata merge` sums them into the one indexed
/// record llvm-cov reads: a static function of two files that share a name
/// (Xen has several `acpi.c`) gets the sum of both, in every function of
/// that name the binary maps.
type Counts<'a> = HashMap<&'a str, Vec<(u64, Vec<u64>)>>;

/// Coverage of a binary: its function records with counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// In the order llvm-cov loads them.
    pub functions: Vec<FunctionRecord>,
    /// Profile functions the binary does not map (llvm-cov ignores them).
    pub unmapped_profile_functions: Vec<String>,
}

/// Values of a function's expressions, or `None` where one refers to a
/// counter the profile does not have (or to itself).
fn evaluate_all(exprs: &[super::covmap::Expression], counts: &[u64]) -> Vec<Option<i64>> {
    let mut values: Vec<Option<Option<i64>>> = vec![None; exprs.len()];
    let leaf = |c: Counter, values: &[Option<Option<i64>>]| -> Option<Option<i64>> {
        match c {
            Counter::Zero => Some(Some(0)),
            Counter::Counter(i) => Some(counts.get(i as usize).map(|&v| v as i64)),
            Counter::Expression(i) => values.get(i as usize).copied().flatten(),
        }
    };
    for root in 0..exprs.len() {
        if values.get(root).copied().flatten().is_some() {
            continue;
        }
        // Depth-first on an explicit stack; a cycle is cut at the
        // expression met again (it evaluates to None).
        let mut stack = vec![root];
        let mut on_stack: HashSet<usize> = HashSet::from([root]);
        while let Some(&top) = stack.last() {
            let Some(e) = exprs.get(top) else {
                stack.pop();
                continue;
            };
            let mut pending = None;
            for c in [e.lhs, e.rhs] {
                if let Counter::Expression(i) = c {
                    let i = i as usize;
                    if values.get(i).copied().flatten().is_none() && i < exprs.len() {
                        if on_stack.contains(&i) {
                            if let Some(v) = values.get_mut(i) {
                                *v = Some(None);
                            }
                        } else {
                            pending = Some(i);
                            break;
                        }
                    }
                }
            }
            if let Some(i) = pending {
                stack.push(i);
                on_stack.insert(i);
                continue;
            }
            let l = leaf(e.lhs, &values).flatten();
            let r = leaf(e.rhs, &values).flatten();
            let v = match (l, r) {
                (Some(l), Some(r)) => Some(match e.kind {
                    ExprKind::Add => l.wrapping_add(r),
                    ExprKind::Subtract => l.wrapping_sub(r),
                }),
                _ => None,
            };
            if let Some(slot) = values.get_mut(top) {
                *slot = Some(v);
            }
            stack.pop();
            on_stack.remove(&top);
        }
    }
    values.into_iter().map(Option::flatten).collect()
}

fn value(c: Counter, exprs: &[Option<i64>], counts: &[u64]) -> Option<u64> {
    match c {
        Counter::Zero => Some(0),
        Counter::Counter(i) => counts.get(i as usize).copied(),
        Counter::Expression(i) => exprs.get(i as usize).copied().flatten().map(|v| v as u64),
    }
}

fn max_counter_id(f: &Function) -> u32 {
    fn of(c: Counter, f: &Function, depth: u32) -> u32 {
        match c {
            Counter::Counter(i) => i,
            Counter::Expression(i) if depth < 64 => f
                .expressions
                .get(i as usize)
                .map_or(0, |e| of(e.lhs, f, depth + 1).max(of(e.rhs, f, depth + 1))),
            _ => 0,
        }
    }
    f.regions
        .iter()
        .map(|r| of(r.count, f, 0).max(of(r.false_count, f, 0)))
        .max()
        .unwrap_or(0)
}

/// `getFuncNameWithoutPrefix`: drops `FILE:` when the name starts with the
/// function's first file name.
fn name_without_prefix(name: &str, file: Option<&String>) -> String {
    match file {
        Some(f) if !f.is_empty() && name.starts_with(f.as_str()) => {
            name.get(f.len() + 1..).unwrap_or_default().to_string()
        }
        _ => name.to_string(),
    }
}

impl Coverage {
    /// Counts the mapping's regions with the profile's counters. A function
    /// whose structural hash differs from the profile's, or a profile none of
    /// whose functions the binary maps, is an error.
    pub fn load(map: &CoverageMapping, profile: &RawProfile) -> Result<Coverage, MismatchError> {
        let mut counts: Counts<'_> = HashMap::new();
        for f in &profile.functions {
            let list = counts.entry(f.name.as_str()).or_default();
            match list
                .iter_mut()
                .find(|(h, c)| *h == f.hash && c.len() == f.counters.len())
            {
                Some((_, c)) => {
                    for (a, b) in c.iter_mut().zip(&f.counters) {
                        *a = a.saturating_add(*b);
                    }
                }
                None => list.push((f.hash, f.counters.clone())),
            }
        }
        let mapped: HashSet<&str> = map.functions.iter().map(|f| f.name.as_str()).collect();
        let unmapped: Vec<String> = profile
            .functions
            .iter()
            .filter(|f| !mapped.contains(f.name.as_str()))
            .map(|f| f.name.clone())
            .collect();
        if !profile.functions.is_empty() && unmapped.len() == profile.functions.len() {
            return Err(MismatchError::NothingInCommon {
                profile_functions: profile.functions.len(),
                first: unmapped.first().cloned().unwrap_or_default(),
            });
        }
        let mut mismatches: Vec<(&Function, u64)> = Vec::new();
        let mut functions = Vec::new();
        let mut seen: HashSet<(Vec<String>, String)> = HashSet::new();
        for rec in &map.functions {
            let name = name_without_prefix(&rec.name, rec.filenames.first());
            let c: &[u64] = match counts.get(rec.name.as_str()) {
                Some(list) => match list.iter().find(|(h, _)| *h == rec.hash) {
                    Some((_, c)) => c.as_slice(),
                    None => {
                        if !rec.is_dummy() {
                            mismatches.push((rec, list.first().map_or(0, |(h, _)| *h)));
                        }
                        continue;
                    }
                },
                None => {
                    // Not in the profile: every counter 0.
                    let zeros = vec![0u64; max_counter_id(rec) as usize + 1];
                    if let Some(f) = count_function(rec, name, &zeros) {
                        push_unique(&mut functions, &mut seen, f);
                    }
                    continue;
                }
            };
            if rec.regions.len() == 1
                && rec.regions.first().map(|r| r.count) == Some(Counter::Zero)
                && c.first().is_some_and(|&v| v > 0)
            {
                continue;
            }
            if let Some(f) = count_function(rec, name, c) {
                push_unique(&mut functions, &mut seen, f);
            }
        }
        if let Some((rec, profile_hash)) = mismatches.first() {
            return Err(MismatchError::HashMismatch {
                count: mismatches.len(),
                name: rec.name.clone(),
                binary_hash: rec.hash,
                profile_hash: *profile_hash,
            });
        }
        Ok(Coverage {
            functions,
            unmapped_profile_functions: unmapped,
        })
    }
}

fn push_unique(
    functions: &mut Vec<FunctionRecord>,
    seen: &mut HashSet<(Vec<String>, String)>,
    f: FunctionRecord,
) {
    if seen.insert((f.filenames.clone(), f.name.clone())) {
        functions.push(f);
    }
}

/// Counts one record's regions; `None` when a region refers to a counter
/// the profile does not have (llvm-cov drops such a function).
fn count_function(rec: &Function, name: String, counts: &[u64]) -> Option<FunctionRecord> {
    let exprs = evaluate_all(&rec.expressions, counts);
    let mut f = FunctionRecord {
        name,
        filenames: rec.filenames.clone(),
        regions: Vec::new(),
        branches: Vec::new(),
        execution_count: 0,
    };
    for r in &rec.regions {
        if r.kind == RegionKind::McdcDecision {
            continue;
        }
        let cr = CountedRegion {
            region: *r,
            count: value(r.count, &exprs, counts)?,
            false_count: value(r.false_count, &exprs, counts)?,
        };
        if matches!(r.kind, RegionKind::Branch | RegionKind::McdcBranch) {
            f.branches.push(cr);
        } else {
            if f.regions.is_empty() {
                f.execution_count = cr.count;
            }
            f.regions.push(cr);
        }
    }
    Some(f)
}

/// A point where the count changes (LLVM's `CoverageSegment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Segment {
    line: u32,
    col: u32,
    count: u64,
    has_count: bool,
    is_region_entry: bool,
    is_gap: bool,
}

struct SegmentBuilder<'a> {
    regions: &'a [CountedRegion],
    segments: Vec<Segment>,
    active: Vec<usize>,
}

impl SegmentBuilder<'_> {
    fn start(&mut self, r: usize, loc: (u32, u32), entry: bool, skipped: bool) {
        let Some(region) = self.regions.get(r) else {
            return;
        };
        let has_count = !skipped && region.region.kind != RegionKind::Skipped;
        if !entry
            && !skipped
            && let Some(last) = self.segments.last()
            && last.has_count == has_count
            && last.count == region.count
            && !last.is_region_entry
        {
            return;
        }
        self.segments.push(Segment {
            line: loc.0,
            col: loc.1,
            count: if has_count { region.count } else { 0 },
            has_count,
            is_region_entry: entry,
            is_gap: has_count && region.region.kind == RegionKind::Gap,
        });
    }

    fn end_of(&self, i: usize) -> (u32, u32) {
        self.regions.get(i).map_or((0, 0), CountedRegion::end)
    }

    fn complete_until(&mut self, loc: Option<(u32, u32)>, first: usize) {
        let mut done: Vec<usize> = self.active.split_off(first);
        done.sort_by_key(|&i| self.end_of(i));
        self.active.extend_from_slice(&done);
        for i in first + 1..self.active.len() {
            let (Some(&completed), Some(&prev)) = (self.active.get(i), self.active.get(i - 1))
            else {
                continue;
            };
            let seg_loc = self.end_of(prev);
            if loc == Some(seg_loc) {
                break;
            }
            if seg_loc == self.end_of(completed) {
                continue;
            }
            let mut c = completed;
            for j in i + 1..self.active.len() {
                if let Some(&a) = self.active.get(j)
                    && self.end_of(c) == self.end_of(a)
                {
                    c = a;
                }
            }
            self.start(c, seg_loc, false, false);
        }
        if let Some(&last) = self.active.last() {
            let last_end = self.end_of(last);
            if first > 0 && Some(last_end) != loc {
                if let Some(&a) = self.active.get(first - 1) {
                    self.start(a, last_end, false, false);
                }
            } else if first == 0 && loc != Some(last_end) {
                self.start(last, last_end, false, true);
            }
        }
        self.active.truncate(first);
    }

    fn build(mut self) -> Vec<Segment> {
        let n = self.regions.len();
        for i in 0..n {
            let Some(cr) = self.regions.get(i).copied() else {
                continue;
            };
            let cur = cr.start();
            let (keep, done): (Vec<usize>, Vec<usize>) =
                self.active.iter().partition(|&&a| self.end_of(a) > cur);
            if !done.is_empty() {
                let first = keep.len();
                self.active = keep;
                self.active.extend(done);
                self.complete_until(Some(cur), first);
            }
            let gap = cr.region.kind == RegionKind::Gap;
            if cur == cr.end() {
                let skipped = i + 1 == n || cr.region.kind == RegionKind::Skipped;
                let base = self.active.last().copied().unwrap_or(i);
                self.start(base, cur, !gap, skipped);
                if skipped && let Some(&a) = self.active.last() {
                    self.start(a, cur, false, false);
                }
                continue;
            }
            if i + 1 == n || self.regions.get(i + 1).map(CountedRegion::start) != Some(cur) {
                self.start(i, cur, !gap, false);
            }
            self.active.push(i);
        }
        if !self.active.is_empty() {
            self.complete_until(None, 0);
        }
        self.segments
    }
}

fn build_segments(mut regions: Vec<CountedRegion>) -> Vec<Segment> {
    regions.sort_by(|a, b| {
        a.start()
            .cmp(&b.start())
            .then_with(|| b.end().cmp(&a.end()))
            .then_with(|| a.region.kind.cmp(&b.region.kind))
    });
    // Regions over the same area combine: counts of the first's kind add up.
    let mut combined: Vec<CountedRegion> = Vec::with_capacity(regions.len());
    for r in regions {
        match combined.last_mut() {
            Some(a) if a.start() == r.start() && a.end() == r.end() => {
                if a.region.kind == r.region.kind {
                    a.count = a.count.wrapping_add(r.count);
                }
            }
            _ => combined.push(r),
        }
    }
    SegmentBuilder {
        regions: &combined,
        segments: Vec::new(),
        active: Vec::new(),
    }
    .build()
}

/// Coverage of one line (LLVM's `LineCoverageStats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LineStats {
    line: u32,
    mapped: bool,
    count: u64,
}

fn line_stats(segments: &[Segment]) -> Vec<LineStats> {
    let mut out = Vec::new();
    let mut wrapped: Option<Segment> = None;
    let mut cur: Vec<Segment> = Vec::new();
    let mut next = 0usize;
    let mut line: u32 = 1;
    while next < segments.len() {
        if let Some(&l) = cur.last() {
            wrapped = Some(l);
        }
        cur.clear();
        while let Some(s) = segments.get(next).filter(|s| s.line == line) {
            cur.push(*s);
            next += 1;
        }
        // Lines before the first segment are not mapped: skip them quickly.
        let is_start = |s: &Segment| !s.is_gap && s.has_count && s.is_region_entry;
        let starts = cur.iter().filter(|s| is_start(s)).count();
        let skipped_start = cur
            .first()
            .is_some_and(|s| !s.has_count && s.is_region_entry);
        let mut mapped = !skipped_start && (wrapped.is_some_and(|w| w.has_count) || starts > 0);
        mapped |= cur.iter().any(|s| s.is_region_entry && s.has_count);
        let mut count = 0;
        if mapped {
            if let Some(w) = wrapped {
                count = w.count;
            }
            if starts > 0 {
                for s in cur.iter().filter(|s| is_start(s)) {
                    count = count.max(s.count);
                }
            }
        }
        out.push(LineStats {
            line,
            mapped,
            count,
        });
        line = line.saturating_add(1);
        if cur.is_empty()
            && wrapped.is_none()
            && let Some(s) = segments.get(next)
        {
            line = s.line;
        }
    }
    out
}

/// The main file of a function: its first file ID no expansion expands.
fn main_file_id(f: &FunctionRecord) -> Option<u32> {
    let mut expanded = vec![false; f.filenames.len()];
    for r in &f.regions {
        if r.region.kind == RegionKind::Expansion
            && let Some(e) = expanded.get_mut(r.region.expanded_file_id as usize)
        {
            *e = true;
        }
    }
    expanded.iter().position(|e| !e).map(|i| i as u32)
}

/// Regions, expansions and branches of a view (file, function or expansion).
struct View<'a> {
    regions: Vec<CountedRegion>,
    expansions: Vec<(&'a CountedRegion, &'a FunctionRecord)>,
    branches: Vec<CountedRegion>,
}

impl View<'_> {
    fn segments(&self) -> Vec<Segment> {
        build_segments(self.regions.clone())
    }
}

fn function_view(f: &FunctionRecord) -> View<'_> {
    let Some(main) = main_file_id(f) else {
        return View {
            regions: Vec::new(),
            expansions: Vec::new(),
            branches: Vec::new(),
        };
    };
    expansion_view(f, main)
}

fn expansion_view(f: &FunctionRecord, file_id: u32) -> View<'_> {
    View {
        regions: f
            .regions
            .iter()
            .filter(|r| r.region.file_id == file_id)
            .copied()
            .collect(),
        expansions: f
            .regions
            .iter()
            .filter(|r| r.region.file_id == file_id && r.region.kind == RegionKind::Expansion)
            .map(|r| (r, f))
            .collect(),
        branches: f
            .branches
            .iter()
            .filter(|r| r.region.file_id == file_id)
            .copied()
            .collect(),
    }
}

/// (found, covered)
type Pair = (usize, usize);

fn sum_branches(branches: &[CountedRegion], opts: &Options) -> Pair {
    let mut n = (0, 0);
    for b in branches {
        let (t, f) = if opts.llvm_major >= 20 {
            (!b.true_folded(), !b.false_folded())
        } else {
            let folded = b.true_folded() && b.false_folded();
            (!folded, !folded)
        };
        if t {
            n.0 += 1;
            n.1 += usize::from(b.count > 0);
        }
        if f {
            n.0 += 1;
            n.1 += usize::from(b.false_count > 0);
        }
    }
    n
}

fn sum_branch_expansions(expansions: &[(&CountedRegion, &FunctionRecord)], opts: &Options) -> Pair {
    let mut n = (0, 0);
    for (r, f) in expansions {
        let v = expansion_view(f, r.region.expanded_file_id);
        let a = sum_branches(&v.branches, opts);
        let b = sum_branch_expansions(&v.expansions, opts);
        n.0 += a.0 + b.0;
        n.1 += a.1 + b.1;
    }
    n
}

/// One function's summary: lines and branches (found, covered).
fn function_summary(f: &FunctionRecord, opts: &Options) -> (Pair, Pair) {
    let v = function_view(f);
    let mut lines = (0, 0);
    for l in line_stats(&v.segments()) {
        if l.mapped {
            lines.0 += 1;
            lines.1 += usize::from(l.count > 0);
        }
    }
    let a = sum_branches(&v.branches, opts);
    let b = sum_branch_expansions(&v.expansions, opts);
    (lines, (a.0 + b.0, a.1 + b.1))
}

/// One BRDA record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchRecord {
    /// The line (of the outermost expansion, for a branch in a macro).
    pub line: u32,
    /// The branch's number among the branches of the line.
    pub pair: u32,
    /// The side's number among the sides of the line (2 per branch).
    pub index: u32,
    /// The side's count; `None` when neither side ran (`-`). llvm-cov
    /// prints the low 32 bits.
    pub count: Option<u32>,
}

/// A function of a file report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionEntry {
    /// The name llvm-cov prints.
    pub name: String,
    /// The line of its first region (FN).
    pub line: u32,
    /// The last line of its regions in its own file.
    pub end_line: u32,
    /// Its count (FNDA): that of its first region.
    pub count: u64,
}

/// One source file's records as llvm-cov's lcov exporter writes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// The path (SF).
    pub name: String,
    /// Each function record of the file (FN, FNDA).
    pub functions: Vec<FunctionEntry>,
    /// (line, count) of each mapped line (DA).
    pub lines: Vec<(u32, u64)>,
    /// BRDA records.
    pub branches: Vec<BranchRecord>,
    /// FNF, FNH: instantiation groups found and run.
    pub functions_summary: Pair,
    /// LF, LH: sums over the groups.
    pub lines_summary: Pair,
    /// BRF, BRH: sums over the groups.
    pub branches_summary: Pair,
}

/// Every source file of the coverage, as `llvm-cov export -format=lcov`
/// reports it, in its order (sorted paths).
pub fn export(cov: &Coverage, opts: &Options) -> Vec<FileReport> {
    let mut by_file: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, f) in cov.functions.iter().enumerate() {
        for name in &f.filenames {
            let v = by_file.entry(name.as_str()).or_default();
            if v.last() != Some(&i) {
                v.push(i);
            }
        }
    }
    by_file
        .iter()
        .map(|(file, idx)| file_report(cov, file, idx, opts))
        .collect()
}

fn file_report(cov: &Coverage, file: &str, idx: &[usize], opts: &Options) -> FileReport {
    let fns: Vec<&FunctionRecord> = idx.iter().filter_map(|&i| cov.functions.get(i)).collect();
    let functions = fns
        .iter()
        .filter(|f| f.filenames.first().map(String::as_str) == Some(file))
        .map(|f| FunctionEntry {
            name: f.name.clone(),
            line: f.regions.first().map_or(0, |r| r.region.line_start),
            end_line: f
                .regions
                .iter()
                .filter(|r| r.region.file_id == 0)
                .map(|r| r.region.line_end)
                .max()
                .unwrap_or(0),
            count: f.execution_count,
        })
        .collect();

    // Summaries: per instantiation group (same start in the main file).
    let mut groups: BTreeMap<(u32, u32), Vec<&FunctionRecord>> = BTreeMap::new();
    for f in &fns {
        let Some(main) = main_file_id(f) else {
            continue;
        };
        if f.filenames.get(main as usize).map(String::as_str) != Some(file) {
            continue;
        }
        if let Some(r) = f.regions.iter().find(|r| r.region.file_id == main) {
            groups.entry(r.start()).or_default().push(f);
        }
    }
    let mut fsum = (0, 0);
    let mut lsum = (0, 0);
    let mut bsum = (0, 0);
    for g in groups.values() {
        let mut exec: u64 = 0;
        let mut lines = (0, 0);
        let mut branches = (0, 0);
        for f in g {
            exec = exec.wrapping_add(f.execution_count);
            let (l, b) = function_summary(f, opts);
            lines = (lines.0.max(l.0), lines.1.max(l.1));
            branches = (branches.0.max(b.0), branches.1.max(b.1));
        }
        fsum.0 += 1;
        fsum.1 += usize::from(exec > 0);
        lsum = (lsum.0 + lines.0, lsum.1 + lines.1);
        bsum = (bsum.0 + branches.0, bsum.1 + branches.1);
    }

    // The file's view: every region of the file's IDs, expansions of the
    // functions whose main file it is.
    let mut view = View {
        regions: Vec::new(),
        expansions: Vec::new(),
        branches: Vec::new(),
    };
    for f in &fns {
        let main = main_file_id(f)
            .filter(|&m| f.filenames.get(m as usize).map(String::as_str) == Some(file));
        let ids: Vec<bool> = f.filenames.iter().map(|n| n == file).collect();
        let of_file = |r: &CountedRegion| ids.get(r.region.file_id as usize) == Some(&true);
        for r in &f.regions {
            if of_file(r) {
                view.regions.push(*r);
                if main == Some(r.region.file_id) && r.region.kind == RegionKind::Expansion {
                    view.expansions.push((r, f));
                }
            }
        }
        // Before LLVM 21 only the branches of the function's own file ID 0;
        // from 21 those of every file ID of this file (macro bodies too).
        view.branches.extend(
            f.branches
                .iter()
                .filter(|r| of_file(r) && (opts.llvm_major >= 21 || r.region.file_id == 0))
                .copied(),
        );
    }
    let lines = line_stats(&view.segments())
        .into_iter()
        .filter(|l| l.mapped)
        .map(|l| (l.line, l.count))
        .collect();

    let branches = if opts.llvm_major >= 21 {
        branch_records_nested(&view, opts)
    } else {
        branch_records_by_line(&view)
    };
    FileReport {
        name: file.to_string(),
        functions,
        lines,
        branches,
        functions_summary: fsum,
        lines_summary: lsum,
        branches_summary: bsum,
    }
}

/// Numbers the sides of a list of branches sorted by line, as llvm-cov does.
fn number(list: &[(u32, u64, u64)]) -> Vec<BranchRecord> {
    let mut out = Vec::new();
    let mut k = 0;
    while let Some(&(line, _, _)) = list.get(k) {
        let (mut pair, mut index) = (0, 0);
        while let Some(&(_, t, f)) = list.get(k).filter(|(l, _, _)| *l == line) {
            let none = t == 0 && f == 0;
            for c in [t, f] {
                out.push(BranchRecord {
                    line,
                    pair,
                    index,
                    // llvm-cov prints the counts as `unsigned`.
                    count: if none { None } else { Some(c as u32) },
                });
                index += 1;
            }
            pair += 1;
            k += 1;
        }
    }
    out
}

fn folded(b: &CountedRegion) -> bool {
    b.true_folded() && b.false_folded()
}

/// BRDA before LLVM 21: the file's branches and those of its expansions
/// (on the line of the outermost expansion, their own column), sorted by
/// (line, column).
fn branch_records_by_line(view: &View<'_>) -> Vec<BranchRecord> {
    fn nested(
        expansions: &[(&CountedRegion, &FunctionRecord)],
        line: Option<u32>,
        out: &mut Vec<(u32, u32, CountedRegion)>,
    ) {
        for (r, f) in expansions {
            let line = line.unwrap_or(r.region.line_start);
            let v = expansion_view(f, r.region.expanded_file_id);
            nested(&v.expansions, Some(line), out);
            for b in v.branches {
                out.push((line, b.region.column_start, b));
            }
        }
    }
    let mut list: Vec<(u32, u32, CountedRegion)> = view
        .branches
        .iter()
        .map(|b| (b.region.line_start, b.region.column_start, *b))
        .collect();
    nested(&view.expansions, None, &mut list);
    gnu_sort::sort(&mut list, &|a, b| (a.0, a.1) < (b.0, b.1));
    let list: Vec<(u32, u64, u64)> = list
        .iter()
        .filter(|(_, _, b)| !folded(b))
        .map(|(l, _, b)| (*l, b.count, b.false_count))
        .collect();
    number(&list)
}

/// BRDA from LLVM 21: each branch keyed by its path (its own start, or the
/// starts of the expansions it is in), sorted by path; branches of one path
/// (a header function compiled into two units, the conditions of one macro
/// expansion) add up into one.
fn branch_records_nested(view: &View<'_>, _opts: &Options) -> Vec<BranchRecord> {
    type Keyed = (Vec<(u32, u32)>, usize, u64, u64);
    fn nested(
        expansions: &[(&CountedRegion, &FunctionRecord)],
        path: &mut Vec<(u32, u32)>,
        position: &mut usize,
        out: &mut Vec<Keyed>,
    ) {
        for (r, f) in expansions {
            let v = expansion_view(f, r.region.expanded_file_id);
            path.push(r.start());
            nested(&v.expansions, path, position, out);
            for b in &v.branches {
                if !folded(b) {
                    out.push((path.clone(), *position, b.count, b.false_count));
                }
                *position += 1;
            }
            path.pop();
        }
    }
    let mut list: Vec<Keyed> = view
        .branches
        .iter()
        .filter(|b| !folded(b))
        .enumerate()
        .map(|(i, b)| (vec![b.start()], i, b.count, b.false_count))
        .collect();
    let mut position = 0;
    nested(&view.expansions, &mut Vec::new(), &mut position, &mut list);
    let mut order: Vec<usize> = (0..list.len()).collect();
    gnu_sort::sort(&mut order, &|&a, &b| match (list.get(a), list.get(b)) {
        (Some(a), Some(b)) => (&a.0, a.1) < (&b.0, b.1),
        _ => false,
    });
    let mut combined: Vec<(u32, u64, u64)> = Vec::new();
    let mut last: Option<&Vec<(u32, u32)>> = None;
    for (path, _, t, f) in order.iter().filter_map(|&i| list.get(i)) {
        if last == Some(path)
            && let Some(c) = combined.last_mut()
        {
            c.1 = c.1.wrapping_add(*t);
            c.2 = c.2.wrapping_add(*f);
            continue;
        }
        last = Some(path);
        combined.push((path.first().map_or(0, |p| p.0), *t, *f));
    }
    number(&combined)
}

/// Writes the reports as `llvm-cov export -format=lcov` does.
pub fn write_lcov<W: Write>(reports: &[FileReport], w: &mut W) -> io::Result<()> {
    for r in reports {
        writeln!(w, "SF:{}", r.name)?;
        for f in &r.functions {
            writeln!(w, "FN:{},{}", f.line, f.name)?;
        }
        for f in &r.functions {
            writeln!(w, "FNDA:{},{}", f.count, f.name)?;
        }
        writeln!(w, "FNF:{}", r.functions_summary.0)?;
        writeln!(w, "FNH:{}", r.functions_summary.1)?;
        for (line, count) in &r.lines {
            writeln!(w, "DA:{line},{count}")?;
        }
        for b in &r.branches {
            match b.count {
                Some(c) => writeln!(w, "BRDA:{},{},{},{c}", b.line, b.pair, b.index)?,
                None => writeln!(w, "BRDA:{},{},{},-", b.line, b.pair, b.index)?,
            }
        }
        writeln!(w, "BRF:{}", r.branches_summary.0)?;
        writeln!(w, "BRH:{}", r.branches_summary.1)?;
        writeln!(w, "LF:{}", r.lines_summary.0)?;
        writeln!(w, "LH:{}", r.lines_summary.1)?;
        writeln!(w, "end_of_record")?;
    }
    Ok(())
}

/// libstdc++'s `std::sort` (introsort: median-of-three quicksort down to
/// 16 elements, heapsort past the depth limit, then insertion sort), step
/// for step: llvm-cov sorts its branch list with it, and the order of
/// equal keys (two branches at one line and column) decides the BRDA
/// numbers. A stable sort would number them otherwise once a file has more
/// than 16 branches.
// Every index below stays inside the slice by construction, exactly as the
// iterators of libstdc++'s algorithm do; `get` on each would hide that.
#[allow(clippy::indexing_slicing)]
pub mod gnu_sort {
    const THRESHOLD: usize = 16;

    /// Sorts `v` as `std::sort(v.begin(), v.end(), less)` does.
    pub fn sort<T: Copy>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
        if v.len() > 1 {
            let depth = 2 * (usize::BITS - 1 - v.len().leading_zeros()) as usize;
            introsort_loop(v, 0, v.len(), depth, less);
            final_insertion_sort(v, less);
        }
    }

    fn introsort_loop<T: Copy>(
        v: &mut [T],
        first: usize,
        mut last: usize,
        mut depth: usize,
        less: &impl Fn(&T, &T) -> bool,
    ) {
        while last - first > THRESHOLD {
            if depth == 0 {
                heap_sort(&mut v[first..last], less);
                return;
            }
            depth -= 1;
            let cut = partition_pivot(v, first, last, less);
            introsort_loop(v, cut, last, depth, less);
            last = cut;
        }
    }

    fn partition_pivot<T: Copy>(
        v: &mut [T],
        first: usize,
        last: usize,
        less: &impl Fn(&T, &T) -> bool,
    ) -> usize {
        let mid = first + (last - first) / 2;
        let (a, b, c) = (first + 1, mid, last - 1);
        let pick = if less(&v[a], &v[b]) {
            if less(&v[b], &v[c]) {
                b
            } else if less(&v[a], &v[c]) {
                c
            } else {
                a
            }
        } else if less(&v[a], &v[c]) {
            a
        } else if less(&v[b], &v[c]) {
            c
        } else {
            b
        };
        v.swap(first, pick);
        let (mut lo, mut hi) = (first + 1, last);
        loop {
            while less(&v[lo], &v[first]) {
                lo += 1;
            }
            hi -= 1;
            while less(&v[first], &v[hi]) {
                hi -= 1;
            }
            if lo >= hi {
                return lo;
            }
            v.swap(lo, hi);
            lo += 1;
        }
    }

    fn final_insertion_sort<T: Copy>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
        if v.len() > THRESHOLD {
            insertion_sort(&mut v[..THRESHOLD], less);
            for i in THRESHOLD..v.len() {
                linear_insert(v, i, less);
            }
        } else {
            insertion_sort(v, less);
        }
    }

    fn insertion_sort<T: Copy>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
        for i in 1..v.len() {
            if less(&v[i], &v[0]) {
                let val = v[i];
                v.copy_within(0..i, 1);
                v[0] = val;
            } else {
                linear_insert(v, i, less);
            }
        }
    }

    fn linear_insert<T: Copy>(v: &mut [T], mut last: usize, less: &impl Fn(&T, &T) -> bool) {
        let val = v[last];
        while less(&val, &v[last - 1]) {
            v[last] = v[last - 1];
            last -= 1;
        }
        v[last] = val;
    }

    fn heap_sort<T: Copy>(v: &mut [T], less: &impl Fn(&T, &T) -> bool) {
        let len = v.len();
        if len >= 2 {
            let mut parent = (len - 2) / 2;
            loop {
                let value = v[parent];
                adjust_heap(v, parent, len, value, less);
                if parent == 0 {
                    break;
                }
                parent -= 1;
            }
        }
        let mut last = len;
        while last > 1 {
            last -= 1;
            let value = v[last];
            v[last] = v[0];
            adjust_heap(&mut v[..last], 0, last, value, less);
        }
    }

    fn adjust_heap<T: Copy>(
        v: &mut [T],
        mut hole: usize,
        len: usize,
        value: T,
        less: &impl Fn(&T, &T) -> bool,
    ) {
        let top = hole;
        let mut child = hole;
        while child < (len.saturating_sub(1)) / 2 {
            child = 2 * (child + 1);
            if less(&v[child], &v[child - 1]) {
                child -= 1;
            }
            v[hole] = v[child];
            hole = child;
        }
        if len & 1 == 0 && len >= 2 && child == (len - 2) / 2 {
            child = 2 * (child + 1);
            v[hole] = v[child - 1];
            hole = child - 1;
        }
        let mut parent = hole.wrapping_sub(1) / 2;
        while hole > top && less(&v[parent], &value) {
            v[hole] = v[parent];
            hole = parent;
            parent = hole.wrapping_sub(1) / 2;
        }
        v[hole] = value;
    }
}
