//! Diff coverage: the coverage of the lines a change adds or modifies, as
//! the `diff-cover` tool reports it from a Cobertura file, computed from a
//! [`Tracefile`] and a unified diff (`git diff` output). Pure: text in,
//! figures out.

use crate::report::lcov::Tracefile;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The lines each file of a diff has after the change that are new or
/// changed (`+` lines), by the file's new path as the diff names it.
pub type Changed = BTreeMap<String, BTreeSet<u32>>;

/// The `+` lines of a unified diff, numbered in the new file. A file
/// deleted (`+++ /dev/null`) has none; `a/` and `b/` prefixes (git) are
/// removed. A malformed hunk header is an error naming its line.
pub fn parse_unified(text: &str) -> Result<Changed, String> {
    let mut out = Changed::new();
    let mut file: Option<String> = None;
    // The next line number in the new file, and how many lines of the hunk
    // (new side, old side) are still to come.
    let mut next = 0u32;
    let mut left = (0u32, 0u32);
    for (i, line) in text.lines().enumerate() {
        let at = i + 1;
        if left != (0, 0) {
            match line.as_bytes().first() {
                Some(b'+') => {
                    if let Some(f) = &file {
                        out.entry(f.clone()).or_default().insert(next);
                    }
                    next += 1;
                    left.0 = left.0.saturating_sub(1);
                    continue;
                }
                Some(b'-') => {
                    left.1 = left.1.saturating_sub(1);
                    continue;
                }
                Some(b' ') | None => {
                    next += 1;
                    left.0 = left.0.saturating_sub(1);
                    left.1 = left.1.saturating_sub(1);
                    continue;
                }
                Some(b'\\') => continue, // "\ No newline at end of file"
                _ => return Err(format!("line {at}: the hunk ends early: {line}")),
            }
        }
        if let Some(rest) = line.strip_prefix("+++ ") {
            // "+++ b/path\t2024-01-01 ..." (diff -u writes a timestamp).
            let path = rest.split('\t').next().unwrap_or(rest).trim_end();
            file = if path == "/dev/null" {
                None
            } else {
                Some(path.strip_prefix("b/").unwrap_or(path).to_string())
            };
        } else if let Some(rest) = line.strip_prefix("@@ ") {
            let (new_start, new_len, old_len) =
                hunk_header(rest).ok_or_else(|| format!("line {at}: not a hunk header: {line}"))?;
            if file.is_none() && new_len > 0 {
                return Err(format!("line {at}: a hunk before any `+++` line"));
            }
            next = new_start;
            left = (new_len, old_len);
        }
        // Anything else (diff --git, index, ---, commit messages) is framing.
    }
    if left != (0, 0) {
        return Err("the diff ends inside a hunk".into());
    }
    Ok(out)
}

/// `-a,b +c,d @@ …` → (c, d, b); a missing length is 1.
fn hunk_header(rest: &str) -> Option<(u32, u32, u32)> {
    let mut parts = rest.split(' ');
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((s, l)) => Some((s.parse().ok()?, l.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (_, old_len) = range(old)?;
    let (new_start, new_len) = range(new)?;
    Some((new_start, new_len, old_len))
}

/// One changed file's coverage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    /// The path as the diff names it.
    pub path: String,
    /// Changed lines that have coverage (lines gcov counts).
    pub lines: (usize, usize),
    /// The changed lines never run, ascending.
    pub uncovered: Vec<u32>,
}

/// Coverage of the changed lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DiffCoverage {
    /// Files with changed lines that have coverage, by diff path.
    pub files: Vec<FileDiff>,
    /// Changed files the tracefile does not know or whose changed lines
    /// have no coverage (comments, declarations, files not compiled).
    pub without_coverage: Vec<String>,
    /// Changed lines covered and changed lines with coverage data, over all files: (hit, found).
    pub total: (usize, usize),
}

/// The tracefile's name for a diff path: `root/path` folded when the
/// tracefile has it, else the only tracefile name ending in `/path`.
fn find<'t>(t: &'t Tracefile, path: &str, root: &str) -> Option<&'t str> {
    let joined = crate::paths::fold(&format!("{}/{path}", root.trim_end_matches('/')));
    if let Some((k, _)) = t.files.get_key_value(&joined) {
        return Some(k);
    }
    let suffix = format!("/{}", crate::paths::fold(path));
    let mut hits = t.files.keys().filter(|k| k.ends_with(&suffix));
    match (hits.next(), hits.next()) {
        (Some(k), None) => Some(k),
        _ => None,
    }
}

/// The coverage of the changed lines of `changed` in `t`. Diff paths are
/// relative to `root` (the repository's top, where `git diff` was run).
pub fn diff_coverage(t: &Tracefile, changed: &Changed, root: &str) -> DiffCoverage {
    let mut out = DiffCoverage::default();
    for (path, lines) in changed {
        let rec = find(t, path, root).and_then(|k| t.files.get(k));
        let mut f = FileDiff {
            path: path.clone(),
            lines: (0, 0),
            uncovered: Vec::new(),
        };
        if let Some(rec) = rec {
            for l in lines {
                if let Some(c) = rec.lines.get(l) {
                    f.lines.1 += 1;
                    if *c > 0 {
                        f.lines.0 += 1;
                    } else {
                        f.uncovered.push(*l);
                    }
                }
            }
        }
        if f.lines.1 == 0 {
            out.without_coverage.push(path.clone());
        } else {
            out.total.0 += f.lines.0;
            out.total.1 += f.lines.1;
            out.files.push(f);
        }
    }
    out
}

/// `1-3, 7, 9-10`.
fn ranges(lines: &[u32]) -> String {
    let mut s = String::new();
    let mut i = 0;
    let n = lines.len();
    while i < n {
        let first = lines.get(i).copied().unwrap_or(0);
        let mut j = i;
        while j + 1 < n && lines.get(j + 1).copied() == lines.get(j).map(|l| l + 1) {
            j += 1;
        }
        let last = lines.get(j).copied().unwrap_or(first);
        if !s.is_empty() {
            s.push_str(", ");
        }
        if last == first {
            let _ = write!(s, "{first}");
        } else {
            let _ = write!(s, "{first}-{last}");
        }
        i = j + 1;
    }
    s
}

fn pct(v: (usize, usize)) -> String {
    match crate::report::select::percent(v) {
        Some(p) => format!("{p:.1}%"),
        None => "-".into(),
    }
}

/// A table for a CI log: per file the changed lines covered and the
/// uncovered ones, then the total; written to `w`.
pub fn write_table<W: std::io::Write + ?Sized>(w: &mut W, d: &DiffCoverage) -> std::io::Result<()> {
    let width = d
        .files
        .iter()
        .map(|f| f.path.len())
        .max()
        .unwrap_or(4)
        .max(5);
    writeln!(
        w,
        "{:width$}  {:>7} {:>13}  uncovered changed lines",
        "file", "lines", ""
    )?;
    for f in &d.files {
        writeln!(
            w,
            "{:width$}  {:>7} {:>6}/{:<6}  {}",
            f.path,
            pct(f.lines),
            f.lines.0,
            f.lines.1,
            ranges(&f.uncovered)
        )?;
    }
    writeln!(
        w,
        "{:width$}  {:>7} {:>6}/{:<6}",
        "total",
        pct(d.total),
        d.total.0,
        d.total.1
    )?;
    if !d.without_coverage.is_empty() {
        writeln!(
            w,
            "changed without coverable lines: {}",
            d.without_coverage.join(", ")
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/calc/ops.c b/calc/ops.c
index 1..2 100644
--- a/calc/ops.c
+++ b/calc/ops.c
@@ -3,3 +3,4 @@ int x;
 keep
-old
+new3
+new4
 keep
\\ No newline at end of file
@@ -20,0 +21,2 @@
+a21
+a22
diff --git a/gone.c b/gone.c
--- a/gone.c
+++ /dev/null
@@ -1,2 +0,0 @@
-x
-y
--- /dev/null
+++ new.c\t2024-01-01 00:00:00
@@ -0,0 +1 @@
+only
";

    #[test]
    fn added_lines_numbered_in_the_new_file() {
        let c = parse_unified(DIFF).unwrap();
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(
            c["calc/ops.c"].iter().copied().collect::<Vec<_>>(),
            [4, 5, 21, 22]
        );
        assert_eq!(c["new.c"].iter().copied().collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn malformed_diffs_are_errors() {
        assert!(
            parse_unified("+++ b/x\n@@ -1 +x @@\n")
                .unwrap_err()
                .contains("line 2")
        );
        assert!(parse_unified("+++ b/x\n@@ -1,2 +1,2 @@\n x\n").is_err());
        assert!(
            parse_unified("+++ b/x\n@@ -1,2 +1,2 @@\n x\nzzz\n")
                .unwrap_err()
                .contains("line 4")
        );
    }

    #[test]
    fn line_ranges() {
        assert_eq!(ranges(&[1, 2, 3, 7, 9, 10]), "1-3, 7, 9-10");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn coverage_of_changed_lines() {
        let mut t = Tracefile::default();
        let r = t.files.entry("/src/calc/ops.c".into()).or_default();
        r.lines.insert(4, 2);
        r.lines.insert(5, 0);
        r.lines.insert(21, 0);
        r.lines.insert(30, 5);
        let c = parse_unified(DIFF).unwrap();
        let d = diff_coverage(&t, &c, "/src");
        assert_eq!(d.total, (1, 3));
        assert_eq!(d.files[0].uncovered, [5, 21]);
        assert_eq!(d.without_coverage, ["new.c"]);
        // Found by suffix when the root does not lead to it.
        assert_eq!(diff_coverage(&t, &c, "/elsewhere").total, (1, 3));
    }
}
