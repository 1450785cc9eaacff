//! Cobertura XML (coverage-04.dtd) as `gcovr --cobertura` writes it.

use super::{Totals, totals};
use crate::analysis::coverage::UnitCoverage;
use crate::report::lcov::{FileRecord, Tracefile, push_decimal};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// A rate as gcovr writes it (and Cobertura's own Java writer, `Double.toString`):
/// the shortest decimal that reads back as the same double, always with a
/// fractional part (`1.0`, `0.0`, `0.5844155844155844`); `1.0` when nothing
/// was found. One format for every rate of the report.
fn rate((hit, found): (usize, usize)) -> String {
    if found == 0 {
        return "1.0".into();
    }
    // Display of an f64 is the shortest round-trip form and never uses an
    // exponent; only whole numbers lack the ".0".
    let s = format!("{}", hit as f64 / found as f64);
    if s.contains('.') { s } else { s + ".0" }
}

/// A line's branch coverage in percent as gcovr writes it in
/// `condition-coverage`: 100 only when every branch was taken, otherwise
/// rounded to a tenth, capped at 99.9, and the whole part kept.
fn condition_percent(taken: usize, total: usize) -> usize {
    if total == 0 || taken >= total {
        return 100;
    }
    // Tenths of a percent, rounded half up (gcovr rounds the double).
    let tenths = (taken * 1000 * 2 + total) / (total * 2);
    tenths.min(999) / 10
}

/// `s` for an XML attribute; borrowed when nothing needs escaping (the
/// usual case: four replacements each allocate).
fn escape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"']) {
        return s.into();
    }
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .into()
}

/// The first and last line of every function, per source file (as the
/// tracefile names it), from gcov's FUNCTION records: what a Cobertura
/// `<method>` covers.
pub type FunctionRanges = BTreeMap<String, BTreeMap<String, (u32, u32)>>;

/// Function extents of the units whose coverage makes a tracefile. A function
/// seen in several units (an inline function of a header) spans the union of
/// what each unit recorded.
pub fn function_ranges<'a>(units: impl IntoIterator<Item = &'a UnitCoverage>) -> FunctionRanges {
    let mut out = FunctionRanges::new();
    for unit in units {
        for file in &unit.files {
            let name = crate::report::lcov::resolve(unit.cwd.as_deref(), &file.file);
            let fns = out.entry(name).or_default();
            for f in &file.functions {
                let end = f.end_line.max(f.start_line);
                let e = fns.entry(f.name.clone()).or_insert((f.start_line, end));
                e.0 = e.0.min(f.start_line);
                e.1 = e.1.max(end);
            }
        }
    }
    out
}

/// Where the report's paths are relative to.
#[derive(Debug, Clone, Default)]
pub struct CoberturaOptions<'a> {
    /// The project root (absolute): source files under it are written relative
    /// to it, and it is the first `<source>`. Files outside it are kept,
    /// relative to `/`, under a second `<source>/</source>`. `None`: every
    /// path relative to `/`.
    pub root: Option<&'a str>,
    /// Seconds since the epoch, for the `timestamp` attribute.
    pub timestamp: u64,
}

/// A source file's name relative to the root when it lies under it, else
/// relative to `/`; and whether it was under the root.
fn relative_to<'n>(name: &'n str, root: Option<&str>) -> (&'n str, bool) {
    if let Some(root) = root {
        let root = root.trim_end_matches('/');
        if let Some(rest) = name.strip_prefix(root)
            && let Some(rel) = rest.strip_prefix('/')
            && !rel.is_empty()
        {
            return (rel, true);
        }
    }
    (name.trim_start_matches('/'), false)
}

/// A line's figures for the report: its count and its branches (total,
/// taken), gathered once per file in one walk of its lines and branches.
#[derive(Clone, Copy)]
struct LineFigures {
    line: u32,
    count: crate::report::lcov::Count,
    branches: usize,
    taken: usize,
}

/// The figures of every line of a record, ascending by line.
fn line_figures(rec: &FileRecord) -> Vec<LineFigures> {
    let mut out: Vec<LineFigures> = rec
        .lines
        .iter()
        .map(|(&line, &count)| LineFigures {
            line,
            count,
            branches: 0,
            taken: 0,
        })
        .collect();
    let mut at = 0;
    for (&(line, _, _), b) in &rec.branches {
        while out.get(at).is_some_and(|f| f.line < line) {
            at += 1;
        }
        // A branch on a line without a count is not reported (as before:
        // only lines with a count are written).
        if let Some(f) = out.get_mut(at).filter(|f| f.line == line) {
            f.branches += 1;
            f.taken += usize::from(b.is_some_and(|c| c > 0));
        }
    }
    out
}

fn line_element<W: Write + ?Sized>(
    w: &mut W,
    buf: &mut Vec<u8>,
    f: &LineFigures,
) -> io::Result<()> {
    // Pieces into `buf` with push_decimal rather than `writeln!`: the
    // formatting machinery cost ~5x as much per line, and a line with
    // branches is the commonest element of a large report.
    let (line, count, total, taken) = (f.line, f.count, f.branches, f.taken);
    buf.clear();
    buf.extend_from_slice(b"<line number=\"");
    push_decimal(buf, u128::from(line));
    buf.extend_from_slice(b"\" hits=\"");
    push_decimal(buf, count);
    if total == 0 {
        buf.extend_from_slice(b"\" branch=\"false\"/>\n");
    } else {
        let pct = condition_percent(taken, total) as u128;
        buf.extend_from_slice(b"\" branch=\"true\" condition-coverage=\"");
        push_decimal(buf, pct);
        buf.extend_from_slice(b"% (");
        push_decimal(buf, taken as u128);
        buf.extend_from_slice(b"/");
        push_decimal(buf, total as u128);
        buf.extend_from_slice(
            b")\">\n<conditions>\n<condition number=\"0\" type=\"jump\" coverage=\"",
        );
        push_decimal(buf, pct);
        buf.extend_from_slice(b"%\"/>\n</conditions>\n</line>\n");
    }
    w.write_all(buf)
}

/// The lines of each function of a file. A line belongs to the innermost
/// function whose first..last lines hold it, as gcov 11/12 name a line's
/// function in their JSON: none after a function's last line (an inlined
/// static or always_inline body), the outer function again after a nested
/// one. Functions that start on the same line (C++ template instances)
/// share its lines. A function without recorded extents covers its first
/// line only.
fn method_lines<'a>(
    rec: &'a FileRecord,
    extents: Option<&BTreeMap<String, (u32, u32)>>,
) -> BTreeMap<&'a str, Vec<u32>> {
    // Functions by first line, with the group's last line.
    let mut starts: BTreeMap<u32, (u32, Vec<&'a str>)> = BTreeMap::new();
    for (name, (start, _)) in &rec.functions {
        let (first, last) = extents
            .and_then(|e| e.get(name))
            .copied()
            .unwrap_or((*start, *start));
        let e = starts.entry(first).or_insert((last, Vec::new()));
        e.0 = e.0.max(last);
        e.1.push(name);
    }
    // The lines of each group (by its place in `starts`), gathered by
    // index: every name of a group gets the same lines, and a look-up by
    // name per line cost a string comparison per level of the map.
    let mut lines: Vec<Vec<u32>> = vec![Vec::new(); starts.len()];
    let mut pending = starts.values().enumerate().peekable();
    let mut firsts = starts.keys().peekable();
    let mut open: Vec<(u32, usize)> = Vec::new();
    for &line in rec.lines.keys() {
        while firsts.next_if(|first| **first <= line).is_some() {
            if let Some((group, (last, _))) = pending.next() {
                open.push((*last, group));
            }
        }
        while open.last().is_some_and(|(last, _)| *last < line) {
            open.pop();
        }
        if let Some(l) = open.last().and_then(|(_, group)| lines.get_mut(*group)) {
            l.push(line);
        }
    }
    let mut out: BTreeMap<&'a str, Vec<u32>> = BTreeMap::new();
    for ((_, names), lines) in starts.values().zip(lines) {
        // As before, a function that owns no line has no entry.
        if lines.is_empty() {
            continue;
        }
        if let Some((last, others)) = names.split_last() {
            for n in others {
                out.insert(n, lines.clone());
            }
            out.insert(last, lines);
        }
    }
    out
}

/// Cobertura XML (coverage-04.dtd): a package per directory, a class per
/// source file, a method per function with its lines (`method_lines`), a
/// line element per line with its branches as condition
/// coverage. Figures and formats follow `gcovr --cobertura`
/// (tests/cobertura_gcovr.rs compares them). Written to `w`.
pub fn write_cobertura<W: Write + ?Sized>(
    w: &mut W,
    t: &Tracefile,
    ranges: &FunctionRanges,
    opts: &CoberturaOptions<'_>,
) -> io::Result<()> {
    let root = opts.root.map(crate::paths::fold).filter(|r| r != "/");
    let root = root.as_deref();
    let (_, all) = totals(t);
    // Packages by the directory of the path as written (relative to its source).
    let mut packages: BTreeMap<String, Vec<(&str, &String, &FileRecord)>> = BTreeMap::new();
    let mut outside = false;
    for (name, rec) in &t.files {
        let (rel, under) = relative_to(name, root);
        outside |= !under;
        let dir = match rel.rfind('/') {
            Some(i) => rel.get(..i).unwrap_or(""),
            None => "",
        };
        // Outside the root (or without one) the package is the absolute directory.
        let dir = if under {
            dir.to_string()
        } else {
            format!("/{dir}")
        };
        packages.entry(dir).or_default().push((rel, name, rec));
    }
    w.write_all("<?xml version=\"1.0\" ?>\n".as_bytes())?;
    w.write_all(
        b"<!DOCTYPE coverage SYSTEM \"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n",
    )?;
    writeln!(
        w,
        "<coverage line-rate=\"{}\" branch-rate=\"{}\" lines-covered=\"{}\" lines-valid=\"{}\" \
         branches-covered=\"{}\" branches-valid=\"{}\" complexity=\"0.0\" version=\"xencov-rs {}\" \
         timestamp=\"{}\">",
        rate(all.lines),
        rate(all.branches),
        all.lines.0,
        all.lines.1,
        all.branches.0,
        all.branches.1,
        env!("CARGO_PKG_VERSION"),
        opts.timestamp
    )?;
    w.write_all("<sources>\n".as_bytes())?;
    if let Some(r) = root {
        writeln!(w, "<source>{}</source>", escape(r))?;
    }
    if outside {
        w.write_all("<source>/</source>\n".as_bytes())?;
    }
    w.write_all("</sources>\n<packages>\n".as_bytes())?;
    let mut buf: Vec<u8> = Vec::with_capacity(128);
    for (dir, files) in &packages {
        let mut sum = Totals::default();
        for (_, _, rec) in files {
            sum.add(rec);
        }
        writeln!(
            w,
            "<package name=\"{}\" line-rate=\"{}\" branch-rate=\"{}\" complexity=\"0.0\">\n<classes>",
            escape(dir),
            rate(sum.lines),
            rate(sum.branches)
        )?;
        for (rel, name, rec) in files {
            let mut one = Totals::default();
            one.add(rec);
            let class = rel.rsplit('/').next().unwrap_or(rel);
            writeln!(
                w,
                "<class name=\"{}\" filename=\"{}\" line-rate=\"{}\" branch-rate=\"{}\" complexity=\"0.0\">",
                escape(class),
                escape(rel),
                rate(one.lines),
                rate(one.branches)
            )?;
            w.write_all("<methods>\n".as_bytes())?;
            let owned = method_lines(rec, ranges.get(*name));
            let figures = line_figures(rec);
            let find = |line: &u32| {
                figures
                    .binary_search_by_key(line, |f| f.line)
                    .ok()
                    .and_then(|i| figures.get(i))
            };
            let mut fns: Vec<_> = rec.functions.iter().collect();
            // By line, then name: compared in place (a key that clones the
            // name allocates twice per comparison).
            fns.sort_by(|(n, (line, _)), (m, (other, _))| (line, n).cmp(&(other, m)));
            for (fname, _) in fns {
                let mine = owned.get(fname.as_str()).map_or(&[][..], Vec::as_slice);
                let mut lines = (0, 0);
                let mut branches = (0, 0);
                for line in mine {
                    if let Some(f) = find(line) {
                        lines.1 += 1;
                        lines.0 += usize::from(f.count > 0);
                        branches.1 += f.branches;
                        branches.0 += f.taken;
                    } else {
                        for (_, b) in rec
                            .branches
                            .range((*line, 0, 0)..=(*line, u32::MAX, u32::MAX))
                        {
                            branches.1 += 1;
                            branches.0 += usize::from(b.is_some_and(|c| c > 0));
                        }
                    }
                }
                writeln!(
                    w,
                    "<method name=\"{}\" signature=\"\" line-rate=\"{}\" branch-rate=\"{}\" complexity=\"0.0\">\n<lines>",
                    escape(fname),
                    rate(lines),
                    rate(branches)
                )?;
                for f in mine.iter().filter_map(find) {
                    line_element(w, &mut buf, f)?;
                }
                w.write_all("</lines>\n</method>\n".as_bytes())?;
            }
            w.write_all("</methods>\n<lines>\n".as_bytes())?;
            for f in &figures {
                line_element(w, &mut buf, f)?;
            }
            w.write_all("</lines>\n</class>\n".as_bytes())?;
        }
        w.write_all("</classes>\n</package>\n".as_bytes())?;
    }
    w.write_all("</packages>\n</coverage>\n".as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_have_one_format() {
        assert_eq!(rate((0, 0)), "1.0");
        assert_eq!(rate((3, 3)), "1.0");
        assert_eq!(rate((0, 7)), "0.0");
        assert_eq!(rate((90, 154)), "0.5844155844155844");
        assert_eq!(rate((1, 100_000)), "0.00001");
    }

    #[test]
    fn condition_percent_as_gcovr() {
        assert_eq!(condition_percent(1, 2), 50);
        assert_eq!(condition_percent(2, 3), 66);
        assert_eq!(condition_percent(2, 2), 100);
        // 99.96% rounds to 100.0 but is capped at 99.9: not everything was taken.
        assert_eq!(condition_percent(2499, 2500), 99);
        // 49.96% rounds to 50.0.
        assert_eq!(condition_percent(1249, 2500), 50);
    }

    #[test]
    fn paths_relative_to_the_root() {
        assert_eq!(relative_to("/a/b/c.c", Some("/a")), ("b/c.c", true));
        assert_eq!(relative_to("/a/b/c.c", Some("/a/")), ("b/c.c", true));
        assert_eq!(relative_to("/ab/c.c", Some("/a")), ("ab/c.c", false));
        assert_eq!(relative_to("/a/b/c.c", None), ("a/b/c.c", false));
    }
}
