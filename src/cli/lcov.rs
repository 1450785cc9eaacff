//! `xencov-rs lcov` and `xencov-rs report`: coverage computed natively from
//! the notes files of a build tree and the (merged) counters — no gcov.

use super::merge::{Input, Merged, merge_inputs};
use super::output::write_atomic;
use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use std::path::Path;
use xencov_rs::coverage::{UnitCoverage, compute};
use xencov_rs::gcno::Gcno;
use xencov_rs::lcov::Tracefile;
use xencov_rs::merge::OnConflict;
use xencov_rs::paths::PathMapping;

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
    pub version: xencov_rs::version::Version,
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
    if args.strict && warnings > 0 {
        bail!("{warnings} warnings with --strict");
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
            version: dv,
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

pub fn tracefile(units: &[Unit]) -> Tracefile {
    let mut t = Tracefile::default();
    for u in units {
        t.add_unit(&u.coverage);
    }
    t
}

pub fn run_lcov(args: Args<'_>, test_name: &str) -> Result<()> {
    let units = units(&args)?;
    let t = tracefile(&units);
    emit(args.output, &t.write(test_name))?;
    eprintln!(
        "xencov-rs: lcov: {} units, {} source files",
        units.len(),
        t.files.len()
    );
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table of line, function and branch coverage per directory, for a CI log.
    Summary,
    /// One `gcov --json-format` document per unit, one per line (formats/report-json.md).
    Json,
    /// Cobertura XML, as GitLab and Jenkins read it.
    Cobertura,
}

/// What only `report` takes.
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Cobertura: the project root paths are written relative to (gcovr's `-r`).
    pub root: Option<std::path::PathBuf>,
}

pub fn run_report(args: Args<'_>, format: Format, opts: &ReportOptions) -> Result<()> {
    if opts.root.is_some() && format != Format::Cobertura {
        bail!(
            "--root applies to --format cobertura only (the other reports keep the paths as recorded)"
        );
    }
    let units = units(&args)?;
    let text = match format {
        Format::Summary => xencov_rs::report::summary(&tracefile(&units)),
        // One document per unit, each on its own line, as `gcov -t
        // --json-format` prints several data files.
        Format::Json => units
            .iter()
            .map(|u| {
                xencov_rs::report::gcov_json(
                    &u.coverage,
                    &xencov_rs::report::gcov_version(u.version),
                    &u.path,
                ) + "\n"
            })
            .collect(),
        Format::Cobertura => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            // An absolute root without resolving symlinks: the paths in the
            // notes are compared as text, as gcovr compares its --root.
            let root = match &opts.root {
                Some(r) => Some(
                    std::path::absolute(r)
                        .with_context(|| format!("--root {}", r.display()))?
                        .to_str()
                        .with_context(|| format!("--root {}: not UTF-8", r.display()))?
                        .to_string(),
                ),
                None => None,
            };
            let ranges = xencov_rs::report::function_ranges(units.iter().map(|u| &u.coverage));
            xencov_rs::report::cobertura(
                &tracefile(&units),
                &ranges,
                &xencov_rs::report::CoberturaOptions {
                    root: root.as_deref(),
                    timestamp: now,
                },
            )
        }
    };
    emit(args.output, &text)
}
