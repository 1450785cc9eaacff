//! The summary table for CI logs: line, function, branch (and condition)
//! coverage per directory and in total.

use super::{percent, totals};
use crate::report::lcov::Tracefile;
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// A percentage as the thresholds compare it (`percent`, gcovr's rule):
/// what the table shows is what --fail-under-* checks.
fn pct(v: (usize, usize)) -> String {
    match percent(v) {
        None => "-".into(),
        Some(p) => format!("{p:.1}%"),
    }
}

fn cell(v: (usize, usize)) -> String {
    format!("{:>7} {:>6}/{:<6}", pct(v), v.0, v.1)
}

/// `s` padded with spaces to `width` terminal columns. Measured in
/// columns, not bytes or chars: a directory named in UTF-8 (`café`, `源码`)
/// must not shift its row's figures.
fn pad(s: &str, width: usize) -> String {
    let w = UnicodeWidthStr::width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

/// A table of line, function and branch coverage per directory and in total,
/// and of condition outcomes when the data has conditions (GCC 14+
/// `-fcondition-coverage`); without, the table is as before. Written to `w`.
pub fn write_summary<W: Write + ?Sized>(w: &mut W, t: &Tracefile) -> io::Result<()> {
    let (dirs, all) = totals(t);
    let width = dirs
        .keys()
        .map(|d| UnicodeWidthStr::width(d.as_str()))
        .max()
        .unwrap_or(5)
        .max(5);
    let with_conditions = all.conditions.1 > 0;
    write!(
        w,
        "{}  {:^22}  {:^22}  {:^22}",
        pad("directory", width),
        "lines",
        "functions",
        "branches"
    )?;
    if with_conditions {
        write!(w, "  {:^22}", "conditions")?;
    }
    w.write_all(b"\n")?;
    for (d, v) in dirs
        .iter()
        .chain(std::iter::once((&"total".to_string(), &all)))
    {
        write!(
            w,
            "{}  {}  {}  {}",
            pad(d, width),
            cell(v.lines),
            cell(v.functions),
            cell(v.branches)
        )?;
        if with_conditions {
            write!(w, "  {}", cell(v.conditions))?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}
