//! Reports rendered from a [`Tracefile`]: a summary table for CI logs and
//! Cobertura XML for GitLab and Jenkins. Pure text out; the CLI writes it.

use crate::lcov::{FileRecord, Tracefile};
use std::collections::BTreeMap;
use std::fmt::Write;
use unicode_width::UnicodeWidthStr;

/// Hit and found counts of lines, functions and branches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub lines: (usize, usize),
    pub functions: (usize, usize),
    pub branches: (usize, usize),
}

impl Totals {
    fn add(&mut self, r: &FileRecord) {
        self.lines.0 += r.lines_hit();
        self.lines.1 += r.lines.len();
        self.functions.0 += r.functions_hit();
        self.functions.1 += r.functions.len();
        self.branches.0 += r.branches_hit();
        self.branches.1 += r.branches.len();
    }
}

fn dir_of(file: &str) -> &str {
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

fn pct((hit, found): (usize, usize)) -> String {
    if found == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * hit as f64 / found as f64)
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

/// A table of line, function and branch coverage per directory and in total.
pub fn summary(t: &Tracefile) -> String {
    let (dirs, all) = totals(t);
    let width = dirs
        .keys()
        .map(|d| UnicodeWidthStr::width(d.as_str()))
        .max()
        .unwrap_or(5)
        .max(5);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}  {:^22}  {:^22}  {:^22}",
        pad("directory", width),
        "lines",
        "functions",
        "branches"
    );
    for (d, v) in dirs
        .iter()
        .chain(std::iter::once((&"total".to_string(), &all)))
    {
        let _ = writeln!(
            s,
            "{}  {}  {}  {}",
            pad(d, width),
            cell(v.lines),
            cell(v.functions),
            cell(v.branches)
        );
    }
    s
}

fn rate((hit, found): (usize, usize)) -> String {
    if found == 0 {
        "1".into()
    } else {
        format!("{:.4}", hit as f64 / found as f64)
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Cobertura XML (coverage-04.dtd): a package per directory, a class per
/// source file, a method per function, a line element per line with its
/// branches as condition coverage.
pub fn cobertura(t: &Tracefile, timestamp: u64) -> String {
    let (dirs, all) = totals(t);
    let mut s = String::new();
    s.push_str("<?xml version=\"1.0\" ?>\n");
    s.push_str(
        "<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n",
    );
    let _ = writeln!(
        s,
        "<coverage line-rate=\"{}\" branch-rate=\"{}\" lines-covered=\"{}\" lines-valid=\"{}\" \
         branches-covered=\"{}\" branches-valid=\"{}\" complexity=\"0\" version=\"xencov-rs {}\" \
         timestamp=\"{timestamp}\">",
        rate(all.lines),
        rate(all.branches),
        all.lines.0,
        all.lines.1,
        all.branches.0,
        all.branches.1,
        env!("CARGO_PKG_VERSION")
    );
    s.push_str("<sources>\n<source>/</source>\n</sources>\n<packages>\n");
    for (dir, totals) in &dirs {
        let _ = writeln!(
            s,
            "<package name=\"{}\" line-rate=\"{}\" branch-rate=\"{}\" complexity=\"0\">\n<classes>",
            escape(dir),
            rate(totals.lines),
            rate(totals.branches)
        );
        for (name, rec) in t.files.iter().filter(|(n, _)| dir_of(n) == dir) {
            let mut one = Totals::default();
            one.add(rec);
            let file = name.trim_start_matches('/');
            let class = file.rsplit('/').next().unwrap_or(file);
            let _ = writeln!(
                s,
                "<class name=\"{}\" filename=\"{}\" line-rate=\"{}\" branch-rate=\"{}\" complexity=\"0\">",
                escape(class),
                escape(file),
                rate(one.lines),
                rate(one.branches)
            );
            s.push_str("<methods>\n");
            let mut fns: Vec<_> = rec.functions.iter().collect();
            fns.sort_by_key(|(n, (line, _))| (*line, (*n).clone()));
            for (fname, (line, count)) in fns {
                let hit = usize::from(*count > 0);
                let _ = writeln!(
                    s,
                    "<method name=\"{}\" signature=\"\" line-rate=\"{}\" branch-rate=\"1\" complexity=\"0\">\n\
                     <lines>\n<line number=\"{line}\" hits=\"{count}\" branch=\"false\"/>\n</lines>\n</method>",
                    escape(fname),
                    rate((hit, 1))
                );
            }
            s.push_str("</methods>\n<lines>\n");
            for (line, count) in &rec.lines {
                let branches: Vec<&Option<crate::lcov::Count>> = rec
                    .branches
                    .range((*line, 0, 0)..=(*line, u32::MAX, u32::MAX))
                    .map(|(_, v)| v)
                    .collect();
                if branches.is_empty() {
                    let _ = writeln!(
                        s,
                        "<line number=\"{line}\" hits=\"{count}\" branch=\"false\"/>"
                    );
                } else {
                    let taken = branches.iter().filter(|b| b.is_some_and(|c| c > 0)).count();
                    let _ = writeln!(
                        s,
                        "<line number=\"{line}\" hits=\"{count}\" branch=\"true\" \
                         condition-coverage=\"{}% ({taken}/{})\"/>",
                        100 * taken / branches.len(),
                        branches.len()
                    );
                }
            }
            s.push_str("</lines>\n</class>\n");
        }
        s.push_str("</classes>\n</package>\n");
    }
    s.push_str("</packages>\n</coverage>\n");
    s
}
