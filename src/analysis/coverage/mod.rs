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

use crate::gcov::gcda::{Gcda, Record};
use crate::gcov::gcno::{FunctionRef, Gcno};
use std::collections::HashMap;

mod cycles;
mod demangle;
mod graph;
mod lines;
mod model;
mod part;

pub use demangle::demangle;
pub use model::{
    BranchCoverage, ConditionCoverage, FileCoverage, FunctionCoverage, LineCoverage, UnitCoverage,
    Warning,
};

use lines::{Func, LineTable, line_into, line_out};
pub use part::{InTurn, Join};
use part::{Part, Plan};
use std::sync::Arc;

/// Source names to their index in order of first mention (after
/// [`crate::paths::fold`]). Every block location names its file: the same
/// few names again and again, which the notes intern, so each file of the
/// notes is looked up once (an index into a table after), each name as
/// written is folded once (folding allocates), and a run of one function
/// source name costs a comparison.
#[derive(Default)]
struct SourceIndex<'n> {
    folded: HashMap<String, usize>,
    written: HashMap<&'n str, usize>,
    last: Option<(&'n str, usize)>,
    /// Per file of the notes ([`Gcno::files`]), its source once found.
    files: Vec<Option<usize>>,
}

impl<'n> SourceIndex<'n> {
    fn find(&mut self, name: &'n str, sources: &mut Vec<String>) -> usize {
        if let Some((n, i)) = self.last
            && n == name
        {
            return i;
        }
        let i = match self.written.get(name) {
            Some(&i) => i,
            None => {
                let c = crate::paths::fold(name);
                let i = *self.folded.entry(c.clone()).or_insert_with(|| {
                    sources.push(c);
                    sources.len() - 1
                });
                self.written.insert(name, i);
                i
            }
        };
        self.last = Some((name, i));
        i
    }

    /// The source of a file of the notes: its index in [`Gcno::files`] and
    /// its name.
    fn file(&mut self, file_index: usize, name: &'n str, sources: &mut Vec<String>) -> usize {
        if let Some(&Some(i)) = self.files.get(file_index) {
            return i;
        }
        let i = self.find(name, sources);
        if let Some(slot) = self.files.get_mut(file_index) {
            *slot = Some(i);
        }
        i
    }
}

/// Computes a unit's coverage as gcov does from its notes and (if any) data.
pub fn compute(notes: &Gcno, data: Option<&Gcda>) -> UnitCoverage {
    count(notes, data).into_coverage()
}

/// [`compute`] for a caller done with the notes: they are freed once the
/// counts are made, before the output grows (SQLite's notes model is
/// about 4.5 MB, its output about 9).
pub fn compute_owned(notes: Gcno, data: Option<&Gcda>) -> UnitCoverage {
    count_owned(notes, data).into_coverage()
}

/// The counts of a unit, made from its notes (then freed) and data: its
/// coverage not yet made. [`Counted::files`] gives it a source file and a
/// line at a time, so that a caller that folds it (a tracefile) never
/// holds the unit's whole line list: SQLite's is 70,000 lines of 96 bytes,
/// each with a list of its branches, beside the counts they are made of.
pub fn count_owned(notes: Gcno, data: Option<&Gcda>) -> Counted {
    let counted = count(&notes, data);
    drop(notes);
    counted
}

/// [`count_owned`] with the unit's functions counted in two parts by
/// `join`'s means (on two threads, for a caller that has them): the same
/// counts, in about half the time for a large unit. The parts are cut
/// before function `at` (in notes order), or with `None` where the work
/// is about halved. Each part has its own line table, sorted on its own
/// thread, and the two are merged once the notes are freed (SQLite's peak
/// is no higher than counted in one part).
pub fn count_owned_in(
    notes: Gcno,
    data: Option<&Gcda>,
    join: &impl Join,
    at: Option<usize>,
) -> Counted {
    count_in(notes, data, Some((join, at)))
}

/// A unit's counts, made: what its output is written from, apart from
/// the notes (see [`count_owned`]).
pub struct Counted {
    /// The output's `cwd` and `warnings` (its files are made from the rest).
    out: UnitCoverage,
    sources: Vec<String>,
    funcs: Vec<Func>,
    table: LineTable,
    /// Whether a file's line belongs to the innermost open function (GCC 10+).
    scoped: bool,
}

/// The counts of a unit: blocks, arcs and lines (see [`compute`]).
fn count(notes: &Gcno, data: Option<&Gcda>) -> Counted {
    count_in::<InTurn>(notes, data, None)
}

/// [`count`], the functions counted in two parts at once by `split`'s
/// means, cut at its place or where the work is halved: the same counts
/// (see [`part`]).
fn count_in<J: Join>(
    notes_owned: impl std::borrow::Borrow<Gcno>,
    data: Option<&Gcda>,
    split: Option<(&J, Option<usize>)>,
) -> Counted {
    let notes: &Gcno = notes_owned.borrow();
    let mut out = UnitCoverage {
        cwd: notes.cwd.clone(),
        ..UnitCoverage::default()
    };
    // Sources in order of first mention, as gcov's find_source registers them.
    let mut sources: Vec<String> = Vec::new();
    let mut index = SourceIndex {
        files: vec![None; notes.files().len()],
        ..SourceIndex::default()
    };
    // The source of each block location, blocks and their locations in
    // order: one flat list, each function's run starting at
    // `file_start[i]` (a list per function was an allocation and its
    // regrowths per function).
    let mut block_files: Vec<u32> = Vec::new();
    let mut file_start: Vec<usize> = Vec::with_capacity(notes.functions().len() + 1);
    let mut fsrc = Vec::with_capacity(notes.functions().len());
    let mut weight = Vec::with_capacity(notes.functions().len());
    for f in notes.functions() {
        fsrc.push(index.file(f.source_index(), f.source(), &mut sources));
        file_start.push(block_files.len());
        let mut w = 0usize;
        for b in f.blocks() {
            w += 1 + b.arcs().len();
            for l in b.locations() {
                w += 1 + l.lines.len();
                // Sources are fewer than the notes' files, which a u32 counts.
                block_files.push(index.file(l.file_index, l.file, &mut sources) as u32);
            }
        }
        weight.push(u32::try_from(w).unwrap_or(u32::MAX));
    }
    file_start.push(block_files.len());

    // Counters of the data file by function ident.
    // Borrowed, not expanded: a compact section's claimed length is checked
    // against the graph before any of it is materialized.
    // Made at their size (a function each at most): grown by doubling, the
    // two maps of SQLite's 3,800 functions hashed 14,000 keys again.
    let mut counts: HashMap<u32, &crate::gcov::gcda::Values> =
        HashMap::with_capacity(notes.functions().len());
    let mut condition_sets: HashMap<u32, &crate::gcov::gcda::Values> = HashMap::new();
    if let Some(d) = data {
        if d.header.stamp != notes.header.stamp {
            out.warnings.push(Warning::StampMismatch);
        } else {
            let by_ident: HashMap<u32, FunctionRef<'_>> =
                notes.functions().map(|f| (f.id.ident, f)).collect();
            for r in &d.records {
                let Record::Function(f) = r else { continue };
                let Some(id) = f.id else { continue };
                let Some(n) = by_ident.get(&id.ident) else {
                    continue;
                };
                if n.id != id {
                    out.warnings.push(Warning::ProfileMismatch {
                        function: n.name.clone(),
                    });
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
    let mut starts: HashMap<(usize, u32), usize> = HashMap::with_capacity(notes.functions().len());
    let mut group = vec![false; notes.functions().len()];
    for (i, f) in notes.functions().enumerate() {
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

    let plan = Plan {
        notes,
        has_data: data.is_some(),
        sources: sources.len(),
        fsrc,
        block_files,
        file_start,
        weight,
        counts,
        condition_sets,
        group,
        sum_of_blocks: !notes.header.version.at_least(8, 0),
    };
    let all = 0..notes.functions().len();
    let whole = || plan.part(all.clone(), plan.block_files.len());
    let n = all.end;
    let halves = split.and_then(|(join, at)| {
        let k = at.or_else(|| plan.middle())?;
        // A cut before the first function or past the last is no cut.
        (0 < k && k < n).then_some((join, k))
    });
    let (first, second) = match halves {
        None => (whole(), None),
        Some((join, k)) => {
            let (first, second) = join.join(
                || plan.part(0..k, plan.file_start[k]),
                || plan.part(k..n, plan.locations_from(k)),
            );
            if first.joinable(&second, plan.sources) {
                (first, Some(second))
            } else {
                (whole(), None)
            }
        }
    };
    let scoped = notes.header.version.at_least(10, 0);
    drop(plan);
    // Owned notes are freed before the parts are joined: the joined table
    // is made beside them (SQLite's notes model is about 4.5 MB).
    drop(notes_owned);
    let part = match second {
        Some(second) => first.join(second, sources.len()),
        None => first,
    };
    let Part {
        table,
        funcs,
        warnings,
        groups,
    } = part;
    out.warnings.extend(warnings);
    let owners = sources.len() + groups;

    // The lines whose cycle search was cut, in gcov's order of
    // accumulate_line_counts: group functions' lines, then each file's.
    let mut cut: Vec<(usize, u32)> = Vec::new();
    let group_src: Vec<usize> = funcs
        .iter()
        .filter(|f| f.owner.is_some())
        .map(|f| f.src)
        .collect();
    for owner in (sources.len()..owners).chain(0..sources.len()) {
        let src = owner
            .checked_sub(sources.len())
            .map_or(owner, |g| group_src[g]);
        for line in &table.lines[table.of(owner)] {
            if line.cut {
                cut.push((src, line.number));
            }
        }
    }
    for (si, ln) in cut {
        out.warnings.push(Warning::TooManyCycles {
            line: ln,
            file: sources[si].clone(),
        });
    }

    Counted {
        out,
        sources,
        funcs,
        table,
        scoped,
    }
}

impl Counted {
    /// The compilation directory recorded in the notes (GCC 9+).
    pub fn cwd(&self) -> Option<&str> {
        self.out.cwd.as_deref()
    }

    /// The unit's warnings (see [`UnitCoverage::warnings`]).
    pub fn warnings(&self) -> &[Warning] {
        &self.out.warnings
    }

    /// The output per source file, in gcov's JSON order.
    pub fn files(&self) -> impl Iterator<Item = SourceOutput<'_>> {
        (0..self.sources.len()).map(move |si| {
            let mut fns: Vec<(&Func, Arc<str>)> = self
                .funcs
                .iter()
                .filter(|f| f.src == si)
                .map(|f| (f, Arc::from(f.name.as_str())))
                .collect();
            fns.sort_by_key(|(f, _)| (f.start_line, f.start_column));
            SourceOutput {
                counted: self,
                source: si,
                fns,
            }
        })
    }

    /// The whole output: every file's lines collected.
    pub fn into_coverage(self) -> UnitCoverage {
        let files = self
            .files()
            .map(|s| {
                let mut lines = Vec::with_capacity(s.own_lines());
                lines.extend(s.lines());
                FileCoverage {
                    file: s.name().to_string(),
                    functions: s.functions().collect(),
                    lines,
                }
            })
            .collect();
        UnitCoverage { files, ..self.out }
    }
}

/// One source file of a unit's output (see [`Counted::files`]): its name,
/// functions and lines, each made when asked for.
pub struct SourceOutput<'c> {
    counted: &'c Counted,
    source: usize,
    /// The functions whose first line is in the file, by start line and
    /// column, each with its name as the lines share it.
    fns: Vec<(&'c Func, Arc<str>)>,
}

impl<'c> SourceOutput<'c> {
    /// The file's name (see [`FileCoverage::file`]).
    pub fn name(&self) -> &'c str {
        self.counted.sources[self.source].as_str()
    }

    /// The file's functions (see [`FileCoverage::functions`]).
    pub fn functions(&self) -> impl Iterator<Item = FunctionCoverage> + '_ {
        self.fns.iter().map(|(f, _)| FunctionCoverage {
            name: f.name.clone(),
            demangled_name: demangle(&f.name),
            start_line: f.start_line,
            start_column: f.start_column,
            end_line: f.end_line,
            end_column: f.end_column,
            blocks: (f.branches.blocks() as u32).saturating_sub(2),
            blocks_executed: f.blocks_executed,
            execution_count: f.branches.entry_count,
        })
    }

    /// How many of the file's own lines the table holds: about how many
    /// lines it has (group functions' lines come on top).
    pub fn own_lines(&self) -> usize {
        self.counted.table.of(self.source).len()
    }

    /// The file's lines (see [`FileCoverage::lines`]), one at a time.
    pub fn lines(&self) -> Lines<'_> {
        Lines {
            counted: self.counted,
            fns: &self.fns,
            own: self.counted.table.of(self.source),
            fn_at: 0,
            at: None,
            open: Vec::new(),
            group: None,
        }
    }
}

/// The lines of a source file, made one at a time (see
/// [`SourceOutput::lines`]).
///
/// Line by line: first the lines of the functions starting there, then the
/// file's own line (gcov's order). Only lines that start a function or
/// have a count are visited, so a 270,000-line file costs its lines, not
/// lines times functions. Both lists ascend: merged.
pub struct Lines<'s> {
    counted: &'s Counted,
    fns: &'s [(&'s Func, Arc<str>)],
    /// The file's own lines not yet visited (indices into the table).
    own: std::ops::Range<usize>,
    /// The next function (of `fns`) not yet visited.
    fn_at: usize,
    /// The line number being visited: the functions starting there are
    /// visited before the file's own line.
    at: Option<u32>,
    /// A file's own line belongs to the innermost non-group function still
    /// open there (gcov 11 and 12 keep a stack and drop the functions that
    /// ended before the line): none after a function's last line, the
    /// outer function again after a nested one. gcov 9 names the last
    /// non-group function that started, ended or not
    /// (formats/report-json.md; GCC 10 is taken to be as 11). Indices into
    /// `fns`.
    open: Vec<usize>,
    /// A group function's lines being given out (they come before the
    /// file's line where the function starts): the rest of them, and the
    /// function (of `fns`).
    group: Option<(std::ops::Range<usize>, usize)>,
}

impl<'s> Lines<'s> {
    /// The next line into `out` (all of its fields set again; its lists
    /// keep their room): the same lines as [`Iterator::next`], without a
    /// record made per line. False after the last.
    pub fn next_into(&mut self, out: &mut LineCoverage) -> bool {
        let Some((i, name)) = self.next_line() else {
            return false;
        };
        line_into(i, &self.counted.table, name, &self.counted.funcs, out);
        true
    }

    /// The table index of the next line and the function it belongs to.
    fn next_line(&mut self) -> Option<(usize, Option<&'s Arc<str>>)> {
        let Counted { table, scoped, .. } = self.counted;
        let fns = self.fns;
        loop {
            if let Some((rest, k)) = &mut self.group {
                let k = *k;
                if let Some(i) = rest.find(|&i| table.lines[i].exists) {
                    return Some((i, Some(&fns[k].1)));
                }
                self.group = None;
            }
            let ln = match self.at {
                Some(ln) => ln,
                None => {
                    let next_own =
                        (!self.own.is_empty()).then(|| table.lines[self.own.start].number);
                    let next_fn = fns.get(self.fn_at).map(|(f, _)| f.start_line);
                    let ln = match (next_own, next_fn) {
                        (Some(a), Some(b)) => a.min(b),
                        (Some(a), None) | (None, Some(a)) => a,
                        (None, None) => return None,
                    };
                    self.at = Some(ln);
                    ln
                }
            };
            // The functions starting on the line, one by one (a group
            // function's lines are given out before the next).
            if let Some((f, _)) = fns.get(self.fn_at).filter(|(f, _)| f.start_line == ln) {
                let k = self.fn_at;
                self.fn_at += 1;
                if ln < 1 {
                    continue;
                }
                if !f.is_group {
                    self.open.push(k);
                }
                if let Some(o) = f.owner {
                    self.group = Some((table.of(o), k));
                }
                continue;
            }
            // Then the file's own line.
            self.at = None;
            let i = self.own.start;
            if let Some(line) = table
                .lines
                .get(i)
                .filter(|l| !self.own.is_empty() && l.number == ln)
            {
                self.own.start += 1;
                if ln >= 1 && line.exists {
                    while *scoped && self.open.last().is_some_and(|&k| fns[k].0.end_line < ln) {
                        self.open.pop();
                    }
                    return Some((i, self.open.last().map(|&k| &fns[k].1)));
                }
            }
        }
    }
}

impl Iterator for Lines<'_> {
    type Item = LineCoverage;

    fn next(&mut self) -> Option<LineCoverage> {
        let (i, name) = self.next_line()?;
        Some(line_out(i, &self.counted.table, name, &self.counted.funcs))
    }
}
