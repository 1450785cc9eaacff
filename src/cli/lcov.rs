//! `xencov-rs lcov` and `xencov-rs report`: coverage computed natively from
//! the notes files of a build tree and the (merged) counters — no gcov.

use super::merge::{Input, Merged, merge_inputs};
use super::output::write_atomic;
use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;
use xencov_rs::coverage::{FileCoverage, UnitCoverage, compute};
use xencov_rs::gcno::Gcno;
use xencov_rs::lcov::Tracefile;
use xencov_rs::merge::OnConflict;
use xencov_rs::paths::PathMapping;
use xencov_rs::plural::count;

pub struct Args<'a> {
    pub inputs: &'a [Input],
    pub gcno_dir: &'a Path,
    pub output: Option<&'a Path>,
    pub mapping: &'a PathMapping,
    pub on_conflict: OnConflict,
    pub strict: bool,
}

/// One unit's coverage and where its data came from.
pub struct Unit {
    pub path: String,
    pub version: String,
    pub coverage: UnitCoverage,
}

/// Merges the inputs, finds each unit's notes beside its gcda path under
/// the notes directory, and computes every unit in parallel. A unit without
/// notes, with notes of another build or compiler, is a warning (an error
/// with --strict) and is left out.
pub fn units(args: &Args<'_>) -> Result<Vec<Unit>> {
    let merged = merge_inputs(args.inputs, args.mapping, args.on_conflict, args.strict)?;
    let results: Vec<(Option<Unit>, Vec<String>)> =
        merged.par_values().map(|m| one(m, args.gcno_dir)).collect();
    let mut units = Vec::new();
    let mut warnings = 0;
    for (unit, notes) in results {
        for n in &notes {
            eprintln!("xencov-rs: warning: {n}");
        }
        warnings += notes.len();
        units.extend(unit);
    }
    negative_counts_warning(&units);
    if args.strict && warnings > 0 {
        bail!("{} with --strict", count(warnings, "warning", "warnings"));
    }
    Ok(units)
}

fn one(m: &Merged, gcno_dir: &Path) -> (Option<Unit>, Vec<String>) {
    let path = String::from_utf8_lossy(&m.path).into_owned();
    let rel = match PathMapping::default().relative(&m.path) {
        Ok((rel, _)) => rel.with_extension("gcno"),
        Err(e) => return (None, vec![format!("{path}: {e}")]),
    };
    let notes_path = gcno_dir.join(rel);
    let bytes = match std::fs::read(&notes_path) {
        Ok(b) => b,
        Err(e) => {
            return (
                None,
                vec![format!(
                    "{path}: no notes file at {}: {e}; unit left out",
                    notes_path.display()
                )],
            );
        }
    };
    let notes = match Gcno::decode(&bytes) {
        Ok(n) => n,
        Err(e) => {
            return (
                None,
                vec![format!("{}: {e}; unit left out", notes_path.display())],
            );
        }
    };
    let (nv, dv) = (notes.header.version, m.gcda.header.version);
    let mut warnings = Vec::new();
    if nv.word() != dv.word() {
        let msg = format!(
            "{path}: notes written by GCC {} ({}), counters by GCC {} ({}): not one build",
            nv.gcc(),
            nv.chars(),
            dv.gcc(),
            dv.chars()
        );
        if nv.format() != dv.format() {
            return (None, vec![format!("{msg}; unit left out")]);
        }
        warnings.push(msg);
    }
    if notes.header.stamp != m.gcda.header.stamp {
        warnings.push(format!(
                "{path}: the notes' stamp {:#010x} is not the counters' {:#010x}: {} belongs to another build; unit left out",
                notes.header.stamp,
                m.gcda.header.stamp,
            notes_path.display()
        ));
        return (None, warnings);
    }
    let coverage = compute(&notes, Some(&m.gcda));
    warnings.extend(coverage.warnings.iter().map(|w| format!("{path}: {w}")));
    (
        Some(Unit {
            path,
            version: dv.gcc(),
            coverage,
        }),
        warnings,
    )
}

fn emit(output: Option<&Path>, text: &str) -> Result<()> {
    match output {
        Some(p) => write_atomic(p, text.as_bytes()),
        None => {
            use std::io::Write;
            std::io::stdout()
                .lock()
                .write_all(text.as_bytes())
                .context("cannot write to standard output")
        }
    }
}

/// One warning for all units with negative counts (as lcov warns once
/// per tracefile), naming them: what was written instead, and why it
/// happens.
fn negative_counts_warning(units: &[Unit]) {
    let bad: Vec<&str> = units
        .iter()
        .filter(|u| u.coverage.has_negative_counts())
        .map(|u| u.path.as_str())
        .collect();
    if bad.is_empty() {
        return;
    }
    let shown = bad.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    let more = match bad.len() {
        0..=5 => String::new(),
        n => format!(" and {} more", n - 5),
    };
    eprintln!(
        "xencov-rs: warning: negative counts in {} ({shown}{more}): written as 0 \
         (a branch as `-`), as lcov does. The counters are not one consistent \
         snapshot: a hypervisor read while other CPUs were counting, with counters \
         updated non-atomically; Xen 4.21 and later build with \
         -fprofile-update=atomic for this reason",
        count(bad.len(), "unit", "units")
    );
}

pub fn tracefile(units: &[Unit]) -> Tracefile {
    let mut t = Tracefile::default();
    for u in units {
        t.add_unit(&u.coverage);
    }
    if t.saturated {
        eprintln!(
            "xencov-rs: warning: a combined count passed 2^128 - 1 and is written as \
             that value: the counters are not real execution counts"
        );
    }
    t
}

pub fn run_lcov(args: Args<'_>, test_name: &str) -> Result<()> {
    // lcov keeps only letters, digits and `_` in a test name (genhtml warns
    // on anything else): the same rule, with lcov's warning.
    let (test_name, changed) = xencov_rs::lcov::test_name(test_name);
    if changed {
        eprintln!(
            "xencov-rs: warning: invalid characters in the test name replaced by `_` \
             (as lcov does): TN:{test_name}"
        );
    }
    let units = units(&args)?;
    let t = tracefile(&units);
    emit(args.output, &t.write(&test_name))?;
    eprintln!(
        "xencov-rs: lcov: {}, {}",
        count(units.len(), "unit", "units"),
        count(t.files.len(), "source file", "source files")
    );
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table of line, function and branch coverage per directory, for a CI log.
    Summary,
    /// One `gcov --json-format` document per unit (formats/report-json.md).
    Json,
    /// Cobertura XML, as GitLab and Jenkins read it.
    Cobertura,
}

#[derive(Serialize)]
struct GcovJson<'a> {
    format_version: &'static str,
    gcc_version: &'a str,
    current_working_directory: Option<&'a str>,
    data_file: &'a str,
    files: &'a [FileCoverage],
}

pub fn run_report(args: Args<'_>, format: Format) -> Result<()> {
    let units = units(&args)?;
    let text = match format {
        Format::Summary => xencov_rs::report::summary(&tracefile(&units)),
        Format::Json => {
            let docs: Vec<GcovJson<'_>> = units
                .iter()
                .map(|u| GcovJson {
                    format_version: "1",
                    gcc_version: &u.version,
                    current_working_directory: u.coverage.cwd.as_deref(),
                    data_file: &u.path,
                    files: &u.coverage.files,
                })
                .collect();
            serde_json::to_string_pretty(&docs)? + "\n"
        }
        Format::Cobertura => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            xencov_rs::report::cobertura(&tracefile(&units), now)
        }
    };
    emit(args.output, &text)
}
