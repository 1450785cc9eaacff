//! Reports rendered from a [`Tracefile`]: a summary table for CI logs and
//! Cobertura XML for GitLab and Jenkins, gcov's JSON. Each renderer writes
//! to any `std::io::Write` (give it a buffered one); the CLI owns the file.

mod cobertura;
pub mod diff;
pub mod html;
mod json;
pub mod lcov;
pub mod lcov2;
pub mod select;
pub mod sorted;
mod summary;

pub use cobertura::{CoberturaOptions, FunctionRanges, function_ranges, write_cobertura};
pub use json::{gcov_version, write_gcov_json};
pub use summary::write_summary;

use crate::report::lcov::{FileRecord, Tracefile};
use std::collections::BTreeMap;

/// Hit and found counts of lines, functions and branches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Lines (hit, found): lines with a non-zero count, lines with a count.
    pub lines: (usize, usize),
    /// Functions (hit, found): functions that ran, functions recorded.
    pub functions: (usize, usize),
    /// Branches (hit, found): branch outcomes taken, branch outcomes recorded.
    pub branches: (usize, usize),
    /// Condition outcomes (GCC 14+ condition coverage), as lcov 2's MCH/MCF.
    pub conditions: (usize, usize),
}

impl Totals {
    fn add(&mut self, r: &FileRecord) {
        self.lines.0 += r.lines_hit();
        self.lines.1 += r.lines.len();
        self.functions.0 += r.functions_hit();
        self.functions.1 += r.functions.len();
        self.branches.0 += r.branches_hit();
        self.branches.1 += r.branches.len();
        self.conditions.0 += r.conditions_hit();
        self.conditions.1 += r.conditions.len();
    }
}

pub(crate) fn dir_of(file: &str) -> &str {
    match file.rfind('/') {
        Some(0) => "/",
        Some(i) => file.get(..i).unwrap_or(file),
        None => ".",
    }
}

/// Totals per directory of the source files, and over everything.
pub fn totals(t: &Tracefile) -> (BTreeMap<String, Totals>, Totals) {
    let mut dirs: BTreeMap<String, Totals> = BTreeMap::new();
    let mut all = Totals::default();
    for (name, rec) in &t.files {
        dirs.entry(dir_of(name).to_string()).or_default().add(rec);
        all.add(rec);
    }
    (dirs, all)
}

/// A coverage percentage as gcovr computes it for its summary and compares
/// it with `--fail-under-*` (gcovr 8.8, `CoverageStat.percent_or`): rounded
/// to a tenth (round-half-even on the exact binary value, as Python's
/// `round` and Rust's `{:.1}` both do), never 100.0 unless everything is
/// covered (99.9 at most), `None` when nothing was found.
pub fn percent((hit, found): (usize, usize)) -> Option<f64> {
    if found == 0 {
        return None;
    }
    if hit >= found {
        return Some(100.0);
    }
    let rounded: f64 = format!("{:.1}", hit as f64 / found as f64 * 100.0)
        .parse()
        .unwrap_or(0.0);
    Some(rounded.min(99.9))
}
