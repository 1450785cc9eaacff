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
//! depend on [`Options::llvm_major`]. MC/DC of `-fcoverage-mcdc` builds,
//! from the profile's bitmaps, is in [`mcdc`]. See `formats/llvm-covmap.md`.
//!
//! The file stays whole (about 630 lines, the last 70 the unit tests of
//! summing records): loading counts into the records and summarising a
//! function are the two halves of llvm-cov's `FunctionRecordIterator`;
//! segments and the export live beside it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Write};

use crate::llvm::covmap::{Counter, CoverageMapping, ExprKind, Function, Region, RegionKind};
use crate::llvm::raw::RawProfile;

mod export;
pub mod mcdc;
mod segments;

pub use export::{BranchRecord, FileReport, FunctionEntry, export, gnu_sort, write_lcov};
use segments::{Segment, build_segments, line_stats};

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
    /// Its MC/DC decision, MC/DC branch and expansion regions in record
    /// order (empty without decisions), for [`mcdc::function_records`].
    pub mcdc_regions: Vec<CountedRegion>,
    /// Its MC/DC bitmap bytes from the profile (records of one function ORed).
    pub bitmap: Vec<u8>,
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
    /// What summing the profile's records met, in the profile's order.
    pub warnings: Vec<LoadWarning>,
}

/// Something summing a profile's records of one function met: the records
/// are still used (as llvm-cov would), but the counts are not what the runs
/// counted.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoadWarning {
    /// Records of one name and hash added past 2^64 − 1 and were held there.
    Saturated {
        /// The function's PGO name.
        name: String,
        /// Its structural hash.
        hash: u64,
        /// How many counters saturated.
        counters: usize,
    },
    /// Records of one name and hash with different numbers of counters:
    /// kept apart, and only the first one's counts are shown (llvm-profdata
    /// reports such records as a counter mismatch).
    CounterMismatch {
        /// The function's PGO name.
        name: String,
        /// Its structural hash.
        hash: u64,
        /// Counters of the record that counts.
        first: usize,
        /// Counters of the record left apart.
        other: usize,
    },
}

impl std::fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadWarning::Saturated {
                name,
                hash,
                counters,
            } => write!(
                f,
                "function {name} (hash {hash:#018x}): {} saturated at 2^64 - 1 when its records were \
                 summed: the counts are lower than what the runs counted",
                crate::plural::count(*counters, "counter", "counters")
            ),
            LoadWarning::CounterMismatch {
                name,
                hash,
                first,
                other,
            } => write!(
                f,
                "function {name} (hash {hash:#018x}): a record with {} beside one with {}: \
                 a counter mismatch (as llvm-profdata names it); only the first one's counts are shown",
                crate::plural::count(*other, "counter", "counters"),
                first
            ),
        }
    }
}

/// The profile's records summed by name and hash (several records of one
/// function come from profiles merged by concatenation), with what the sum
/// met.
fn sum_records(functions: &[crate::llvm::raw::Function]) -> (Counts<'_>, Vec<LoadWarning>) {
    let mut counts: Counts<'_> = HashMap::new();
    let mut warnings = Vec::new();
    for f in functions {
        let list = counts.entry(f.name.as_str()).or_default();
        let same_hash = list
            .iter()
            .find(|(h, _)| *h == f.hash)
            .map(|(_, c)| c.len());
        match list
            .iter_mut()
            .find(|(h, c)| *h == f.hash && c.len() == f.counters.len())
        {
            Some((_, c)) => {
                let mut saturated = 0;
                for (a, b) in c.iter_mut().zip(&f.counters) {
                    let (sum, over) = a.overflowing_add(*b);
                    *a = if over { u64::MAX } else { sum };
                    saturated += usize::from(over);
                }
                if saturated > 0 {
                    warnings.push(LoadWarning::Saturated {
                        name: f.name.clone(),
                        hash: f.hash,
                        counters: saturated,
                    });
                }
            }
            None => {
                if let Some(first) = same_hash {
                    warnings.push(LoadWarning::CounterMismatch {
                        name: f.name.clone(),
                        hash: f.hash,
                        first,
                        other: f.counters.len(),
                    });
                }
                list.push((f.hash, f.counters.clone()));
            }
        }
    }
    (counts, warnings)
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
        let (counts, warnings) = sum_records(&profile.functions);
        let mut bitmaps: HashMap<(&str, u64), Vec<u8>> = HashMap::new();
        for f in profile.functions.iter().filter(|f| !f.bitmap.is_empty()) {
            let b = bitmaps.entry((f.name.as_str(), f.hash)).or_default();
            if b.len() < f.bitmap.len() {
                b.resize(f.bitmap.len(), 0);
            }
            for (x, y) in b.iter_mut().zip(&f.bitmap) {
                *x |= *y;
            }
        }
        let no_bitmap = Vec::new();
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
                    if let Some(f) = count_function(rec, name, &zeros, &no_bitmap) {
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
            let bitmap = bitmaps
                .get(&(rec.name.as_str(), rec.hash))
                .unwrap_or(&no_bitmap);
            if let Some(f) = count_function(rec, name, c, bitmap) {
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
            warnings,
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
fn count_function(
    rec: &Function,
    name: String,
    counts: &[u64],
    bitmap: &[u8],
) -> Option<FunctionRecord> {
    let exprs = evaluate_all(&rec.expressions, counts);
    let mut f = FunctionRecord {
        name,
        filenames: rec.filenames.clone(),
        regions: Vec::new(),
        branches: Vec::new(),
        execution_count: 0,
        mcdc_regions: Vec::new(),
        bitmap: Vec::new(),
    };
    let mut decisions = false;
    for r in &rec.regions {
        let cr = CountedRegion {
            region: *r,
            count: value(r.count, &exprs, counts)?,
            false_count: value(r.false_count, &exprs, counts)?,
        };
        if matches!(
            r.kind,
            RegionKind::McdcDecision | RegionKind::McdcBranch | RegionKind::Expansion
        ) {
            f.mcdc_regions.push(cr);
        }
        if r.kind == RegionKind::McdcDecision {
            decisions = true;
            continue;
        }
        if matches!(r.kind, RegionKind::Branch | RegionKind::McdcBranch) {
            f.branches.push(cr);
        } else {
            if f.regions.is_empty() {
                f.execution_count = cr.count;
            }
            f.regions.push(cr);
        }
    }
    if decisions {
        f.bitmap = bitmap.to_vec();
    } else {
        f.mcdc_regions.clear();
    }
    Some(f)
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

#[cfg(test)]
mod tests {
    use super::{LoadWarning, sum_records};
    use crate::llvm::raw::Function;

    fn record(name: &str, hash: u64, counters: &[u64]) -> Function {
        Function {
            name: name.into(),
            name_hash: 0,
            hash,
            counters: counters.to_vec(),
            bitmap: Vec::new(),
            value_sites: Vec::new(),
            offset: 0,
            counters_offset: 0,
            bitmap_offset: 0,
        }
    }

    #[test]
    fn records_of_one_function_saturate_and_say_so() {
        let recs = [
            record("f", 7, &[u64::MAX - 1, 5, u64::MAX]),
            record("f", 7, &[1, 5, 1]),
            record("f", 7, &[1, 0, 0]),
            record("g", 7, &[u64::MAX]),
        ];
        let (counts, warnings) = sum_records(&recs);
        assert_eq!(counts["f"], [(7, vec![u64::MAX, 10, u64::MAX])]);
        assert_eq!(counts["g"], [(7, vec![u64::MAX])]);
        let saturated = |counters| LoadWarning::Saturated {
            name: "f".into(),
            hash: 7,
            counters,
        };
        assert_eq!(warnings, [saturated(1), saturated(1)]);
        assert!(warnings[0].to_string().contains("1 counter saturated"));
    }

    #[test]
    fn records_of_one_function_with_other_counter_counts_are_a_mismatch() {
        let recs = [
            record("f", 7, &[1, 2]),
            record("f", 7, &[1, 2, 3]),
            record("f", 7, &[10, 20, 30]),
            record("f", 8, &[1]),
        ];
        let (counts, warnings) = sum_records(&recs);
        assert_eq!(
            counts["f"],
            [(7, vec![1, 2]), (7, vec![11, 22, 33]), (8, vec![1])]
        );
        assert_eq!(
            warnings,
            [LoadWarning::CounterMismatch {
                name: "f".into(),
                hash: 7,
                first: 2,
                other: 3,
            }]
        );
        assert!(
            warnings[0]
                .to_string()
                .contains("a record with 3 counters beside one with 2")
        );
    }
}
