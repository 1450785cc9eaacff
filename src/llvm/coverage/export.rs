//! The lcov export of llvm-cov: per source file, FN/FNDA, DA, BRDA and their
//! totals, numbered and ordered as `llvm-cov export -format=lcov` writes them.
//!
//! The file stays whole (about 480 lines): a third is the copy of
//! libstdc++'s `std::sort` that llvm-cov's BRDA order depends on, kept next to
//! the one place that sorts with it.

use super::*;

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
    /// MC/DC conditions (counted, covered): sums over the groups, as
    /// `llvm-cov report --show-mcdc-summary` counts them (not in the lcov
    /// tracefile: llvm-cov's lcov export has no MC/DC).
    pub mcdc_summary: Pair,
    /// The MC/DC records of the decisions in the file's own functions.
    pub mcdc: Vec<super::mcdc::McdcRecord>,
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

pub(super) fn file_report(cov: &Coverage, file: &str, idx: &[usize], opts: &Options) -> FileReport {
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
    let mut msum = (0, 0);
    let mut mcdc = Vec::new();
    for g in groups.values() {
        let mut exec: u64 = 0;
        let mut lines = (0, 0);
        let mut branches = (0, 0);
        let mut conditions = (0, 0);
        for f in g {
            exec = exec.wrapping_add(f.execution_count);
            let (l, b) = function_summary(f, opts);
            lines = (lines.0.max(l.0), lines.1.max(l.1));
            branches = (branches.0.max(b.0), branches.1.max(b.1));
            let m = super::mcdc::function_summary(f, opts);
            conditions = (conditions.0.max(m.0), conditions.1.max(m.1));
        }
        // The records of the group's first instantiation.
        if let Some(f) = g.first() {
            let main = main_file_id(f);
            mcdc.extend(
                super::mcdc::function_records(f, opts)
                    .into_iter()
                    .filter(|r| Some(r.decision.file_id) == main),
            );
        }
        msum = (msum.0 + conditions.0, msum.1 + conditions.1);
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
        mcdc_summary: msum,
        mcdc,
    }
}

/// Numbers the sides of a list of branches sorted by line, as llvm-cov does.
pub(super) fn number(list: &[(u32, u64, u64)]) -> Vec<BranchRecord> {
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

pub(super) fn folded(b: &CountedRegion) -> bool {
    b.true_folded() && b.false_folded()
}

/// BRDA before LLVM 21: the file's branches and those of its expansions
/// (on the line of the outermost expansion, their own column), sorted by
/// (line, column).
pub(super) fn branch_records_by_line(view: &View<'_>) -> Vec<BranchRecord> {
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
pub(super) fn branch_records_nested(view: &View<'_>, _opts: &Options) -> Vec<BranchRecord> {
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
