//! `xencov-rs dump`: gcov-dump-style text or JSON for gcda files.

use anyhow::Result;
use serde::Serialize;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use xencov_rs::gcda::{Function, Gcda, OtherRecord, Record, Values};
use xencov_rs::version::{Family, LengthUnit};

/// Prints every file it can decode; a file that does not decode is reported
/// with its path and byte offset, and makes the exit status 1.
pub fn run(files: &[PathBuf], json: bool) -> Result<ExitCode> {
    let mut failed = false;
    let mut decoded = Vec::new();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for path in files {
        let gcda = std::fs::read(path).map_err(anyhow::Error::from).and_then(|bytes| {
            Gcda::decode(&bytes).map_err(|e| {
                // A whole Xen dump given where a gcda is expected: say what to do.
                match xencov_rs::dump::identify(&bytes) {
                    Ok(xencov_rs::dump::Identified::LlvmProfile { .. }) | Err(_) => anyhow::Error::from(e),
                    Ok(_) => anyhow::anyhow!(
                        "{e} (it is a Xen coverage dump: `xencov-rs split` it into gcda files first)"
                    ),
                }
            })
        });
        match gcda {
            Ok(gcda) if json => decoded.push((path, gcda)),
            Ok(gcda) => out.write_all(text(path, &gcda).as_bytes())?,
            Err(e) => {
                eprintln!("xencov-rs: error: {}: {e}", path.display());
                failed = true;
            }
        }
    }
    if json {
        #[derive(Serialize)]
        struct File<'a> {
            file: String,
            #[serde(flatten)]
            gcda: &'a Gcda,
        }
        let files: Vec<File<'_>> = decoded
            .iter()
            .map(|(path, gcda)| File {
                file: path.display().to_string(),
                gcda,
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &files)?;
        writeln!(out)?;
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The `gcov-dump -l` rendering: one line per record, counters eight to a row.
fn text(path: &Path, gcda: &Gcda) -> String {
    let p = path.display();
    let h = &gcda.header;
    let format = h.version.format();
    let unit = format.length_unit;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{p}:data:magic `gcda':version `{}' ({}, {})",
        h.version.chars(),
        h.version,
        h.endian
    );
    let _ = writeln!(s, "{p}:stamp {}", h.stamp);
    if let Some(c) = h.checksum {
        let _ = writeln!(s, "{p}:checksum {c}");
    }
    for record in &gcda.records {
        match record {
            Record::Function(f) => function(&mut s, &p, f, format.family, unit),
            Record::Other(o) => other(&mut s, &p, o, unit),
        }
    }
    if !gcda.after_end.is_empty() {
        let _ = writeln!(
            s,
            "{p}:  {} after the end marker (ignored, as gcov does)",
            xencov_rs::plural::count(gcda.after_end.len(), "byte", "bytes")
        );
    }
    s
}

fn length(unit: LengthUnit, bytes: usize) -> usize {
    bytes / unit.bytes_per_unit() as usize
}

fn function(
    s: &mut String,
    p: &impl std::fmt::Display,
    f: &Function,
    family: Family,
    unit: LengthUnit,
) {
    let words = f.id.map_or(0, |_| family.function_words()) + f.extra.len();
    let _ = write!(s, "{p}:  01000000:{:4}:FUNCTION", length(unit, words * 4));
    match (f.id, family) {
        (None, _) => {
            let _ = write!(s, " placeholder");
        }
        (Some(id), Family::Gcc34) => {
            let _ = write!(
                s,
                " ident={}, checksum={:#010x}",
                id.ident, id.lineno_checksum
            );
        }
        (Some(id), Family::Gcc47) => {
            let _ = write!(
                s,
                " ident={}, lineno_checksum={:#010x}, cfg_checksum={:#010x}",
                id.ident,
                id.lineno_checksum,
                id.cfg_checksum.unwrap_or(0)
            );
        }
    }
    if !f.extra.is_empty() {
        let more = xencov_rs::plural::count(f.extra.len(), "more word", "more words");
        let _ = write!(s, ", {more}");
    }
    s.push('\n');
    for c in &f.counters {
        let n = c.values.len();
        let zero = if c.values.is_compact() {
            " (all zero)"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "{p}:    {:08x}:{:4}:COUNTERS {} {n} counts{zero}",
            xencov_rs::version::counter_tag(c.kind.index),
            length(unit, n * 8),
            c.kind.name
        );
        rows(s, p, &c.values);
    }
}

fn rows(s: &mut String, p: &impl std::fmt::Display, values: &Values) {
    for (i, v) in values.iter().enumerate() {
        if i % 8 == 0 {
            if i > 0 {
                s.push('\n');
            }
            // gcov-dump: 18 spaces, then the index in at least two columns.
            let _ = write!(s, "{p}:{:18}{i:2}: ", "");
        }
        let _ = write!(s, "{v} ");
    }
    if !values.is_empty() {
        s.push('\n');
    }
}

fn other(s: &mut String, p: &impl std::fmt::Display, o: &OtherRecord, unit: LengthUnit) {
    let _ = write!(
        s,
        "{p}:  {:08x}:{:4}:{}",
        o.tag,
        length(unit, o.words.len() * 4),
        o.name()
    );
    match o.summary() {
        Some(sum) if sum.checksum.is_none() => {
            let _ = writeln!(s, " runs={}, sum_max={}", sum.runs, sum.sum_max);
        }
        Some(sum) => {
            let _ = writeln!(
                s,
                " checksum={:#010x}, num={}, runs={}, sum_all={}, run_max={}, sum_max={}, {} histogram buckets",
                sum.checksum.unwrap_or(0),
                sum.num.unwrap_or(0),
                sum.runs,
                sum.sum_all.unwrap_or(0),
                sum.run_max.unwrap_or(0),
                sum.sum_max,
                sum.histogram.len()
            );
        }
        None => {
            let words: Vec<String> = o.words.iter().map(|w| format!("{w:#010x}")).collect();
            let _ = writeln!(s, " {}", words.join(" "));
        }
    }
}
