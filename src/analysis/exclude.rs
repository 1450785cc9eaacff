//! Exclusion markers in source files, as lcov (`LCOV_EXCL_LINE`,
//! `LCOV_EXCL_START`/`STOP`, `LCOV_EXCL_BR_*`, `LCOV_EXCL_EXCEPTION_BR_*`)
//! and gcovr (`GCOVR_EXCL_LINE`, `GCOVR_EXCL_START`/`STOP`,
//! `GCOVR_EXCL_BR_*`) read them: source text in, the excluded lines and
//! branch lines and typed warnings out; then [`Exclusions::apply`] takes
//! them out of a file's coverage. The rules and where lcov 1.16, lcov 2 and
//! gcovr 8.8 differ are in `formats/exclusion-markers.md`.
//!
//! A marker is found anywhere in a line (in a comment, a string, an
//! identifier), as both tools search for it: `{PREFIX}_EXCL_{WHAT}` with
//! PREFIX one of the [`Markers`] words.

use crate::analysis::coverage::{FileCoverage, FunctionCoverage, LineCoverage};
use std::collections::BTreeSet;
use std::fmt;

/// What a marker takes out of the lines it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Everything: the line's count, its branches and conditions, and a
    /// function that starts on it (`_EXCL_LINE`, `_EXCL_START`/`STOP`).
    Line,
    /// Branches and conditions only; the line is still counted
    /// (`_EXCL_BR_LINE`, `_EXCL_BR_START`/`STOP`).
    Branch,
    /// Branches taken by a thrown exception only (lcov's
    /// `_EXCL_EXCEPTION_BR_LINE`, `_EXCL_EXCEPTION_BR_START`/`STOP`).
    ExceptionBranch,
}

impl Scope {
    const ALL: [Scope; 3] = [Scope::Line, Scope::Branch, Scope::ExceptionBranch];

    /// The part of the marker word between `_EXCL_` and the action.
    fn infix(self) -> &'static str {
        match self {
            Scope::Line => "",
            Scope::Branch => "BR_",
            Scope::ExceptionBranch => "EXCEPTION_BR_",
        }
    }
}

/// The words that start a marker. The default is gcovr's
/// `--exclude-pattern-prefix` (`[GL]COVR?`: `LCOV`, `GCOVR`, and the
/// `GCOV` and `LCOVR` its pattern also matches), which covers lcov's own
/// `LCOV_EXCL_*` spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Markers {
    prefixes: Vec<String>,
}

impl Default for Markers {
    fn default() -> Self {
        Markers {
            prefixes: ["LCOV", "GCOVR", "GCOV", "LCOVR"]
                .map(String::from)
                .to_vec(),
        }
    }
}

impl Markers {
    /// Markers starting with these words instead of the default ones
    /// (`XEN` reads `XEN_EXCL_LINE`, `XEN_EXCL_START`, ...). A word must be
    /// non-empty and made of ASCII letters, digits and `_`.
    pub fn new(prefixes: impl IntoIterator<Item = String>) -> Result<Markers, String> {
        let prefixes: Vec<String> = prefixes.into_iter().collect();
        if prefixes.is_empty() {
            return Err("no marker prefix given".into());
        }
        for p in &prefixes {
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!(
                    "marker prefix `{p}`: only ASCII letters, digits and `_` are allowed"
                ));
            }
        }
        Ok(Markers { prefixes })
    }

    /// The prefix words, in the order given.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }
}

/// What the markers of one source file exclude, by line number (1-based).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exclusions {
    /// Lines whose every record goes: line count, branches, conditions,
    /// and the functions that start there.
    pub lines: BTreeSet<u32>,
    /// Lines whose branches and conditions go (the line stays).
    pub branches: BTreeSet<u32>,
    /// Lines whose exception branches go.
    pub exception_branches: BTreeSet<u32>,
}

/// What [`Exclusions::apply`] took out of a file's coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Line records.
    pub lines: usize,
    /// The function records taken out (gcovr's Cobertura still lists them
    /// as methods, with the lines left in their range).
    pub functions: Vec<FunctionCoverage>,
    /// Branch records.
    pub branches: usize,
    /// Decisions with condition coverage.
    pub conditions: usize,
}

impl Exclusions {
    /// Whether the markers exclude nothing.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty() && self.branches.is_empty() && self.exception_branches.is_empty()
    }

    /// Takes the excluded records out of `file`, as lcov's geninfo does
    /// with gcov's JSON: a function whose start line is excluded, an
    /// excluded line with its branches and conditions, the branches and
    /// conditions of a branch-excluded line, the `throw` branches of an
    /// exception-excluded line.
    pub fn apply(&self, file: &mut FileCoverage) -> Removed {
        let mut removed = Removed::default();
        let (gone, kept) = std::mem::take(&mut file.functions)
            .into_iter()
            .partition(|f| self.excludes_function(f));
        file.functions = kept;
        removed.functions = gone;
        file.lines.retain_mut(|l| self.apply_line(l, &mut removed));
        removed
    }

    /// Whether the function goes (its start line is excluded; see
    /// [`Exclusions::apply`]).
    pub fn excludes_function(&self, f: &FunctionCoverage) -> bool {
        self.lines.contains(&f.start_line)
    }

    /// [`Exclusions::apply`] for one line of a file, for a caller that sees
    /// the file's lines one at a time (each line's records go by its own
    /// number only): takes out its excluded branches and conditions, counts
    /// what went into `removed`, and says whether the line stays.
    pub fn apply_line(&self, l: &mut LineCoverage, removed: &mut Removed) -> bool {
        if self.lines.contains(&l.line_number) {
            removed.lines += 1;
            return false;
        }
        if self.branches.contains(&l.line_number) {
            removed.branches += l.branches.len();
            removed.conditions += l.conditions.len();
            l.branches.clear();
            l.conditions.clear();
        } else if self.exception_branches.contains(&l.line_number) {
            let before = l.branches.len();
            l.branches.retain(|b| !b.throw);
            removed.branches += before - l.branches.len();
        }
        true
    }
}

/// A marker that does not pair up. The exclusions are still computed (as
/// lcov 1.16 computes them); the caller names the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkerWarning {
    /// The line of the marker the warning is about (1-based).
    pub line: u32,
    /// The marker as written (`LCOV_EXCL_START`).
    pub marker: String,
    /// What is wrong with it.
    pub kind: WarningKind,
}

/// What is wrong with a marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarningKind {
    /// A `_START` that no `_STOP` closes: the region runs to the end of
    /// the file (lcov's rule; gcovr drops such a region, lcov 2 stops).
    Unclosed {
        /// The marker that would have closed it.
        expected: String,
    },
    /// A `_STOP` with no region open: it does nothing.
    StopWithoutStart,
    /// A `_START` inside a region already open: regions do not nest, the
    /// first `_STOP` closes both (lcov's rule).
    StartInsideRegion {
        /// Where the open region started.
        opened_at: u32,
    },
    /// A `_STOP` of another prefix than the `_START` it closes (gcovr
    /// warns too; the region is closed).
    OtherPrefix {
        /// Where the region started.
        opened_at: u32,
        /// The marker that opened it.
        opened_with: String,
    },
}

impl fmt::Display for MarkerWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (line, marker) = (self.line, &self.marker);
        match &self.kind {
            WarningKind::Unclosed { expected } => write!(
                f,
                "line {line}: {marker} is never closed by {expected}: excluded to the end of the file"
            ),
            WarningKind::StopWithoutStart => {
                write!(f, "line {line}: {marker} without a region open: ignored")
            }
            WarningKind::StartInsideRegion { opened_at } => write!(
                f,
                "line {line}: {marker} inside the region opened at line {opened_at}: regions do not nest, the next STOP closes it"
            ),
            WarningKind::OtherPrefix {
                opened_at,
                opened_with,
            } => write!(
                f,
                "line {line}: {marker} closes the region opened by {opened_with} at line {opened_at}"
            ),
        }
    }
}

/// The exclusions of one source file and the markers that did not pair up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scan {
    /// What is excluded.
    pub exclusions: Exclusions,
    /// Markers that did not pair up, in line order.
    pub warnings: Vec<MarkerWarning>,
}

/// The three words of one prefix and scope.
struct Words {
    /// Index into [`Markers::prefixes`].
    prefix: usize,
    line: String,
    start: String,
    stop: String,
}

/// An open region: where, and with which prefix.
struct Open {
    line: u32,
    prefix: usize,
}

/// Reads the markers of a source file's text. Lines are split at `\n`
/// (a `\r` before it is part of the line and harmless); the bytes need not
/// be UTF-8. On each line, per scope, a `_STOP` is looked at before a
/// `_START` (one line holding both closes the region, as in lcov); the
/// `_START` line is excluded, the `_STOP` line is not.
pub fn scan(text: &[u8], markers: &Markers) -> Scan {
    let mut s = Scanner::new(markers);
    s.feed(text);
    s.finish()
}

/// [`scan`] of a text given in pieces, so that a large source file need
/// not be held whole (SQLite's amalgamation is 9.6 MB, more than its notes
/// file): each piece is a run of whole lines, ending with `\n` unless it
/// ends the text. The result is [`scan`]'s of the pieces joined.
pub struct Scanner<'m> {
    markers: &'m Markers,
    /// The marker words, per scope and prefix.
    words: Vec<(Scope, Vec<Words>)>,
    out: Scan,
    open: [Option<Open>; 3],
    /// The lines before the next piece.
    n: u32,
}

impl<'m> Scanner<'m> {
    /// A scanner of `markers`, before the first line.
    pub fn new(markers: &'m Markers) -> Self {
        let words = Scope::ALL
            .iter()
            .map(|&s| {
                let w = (0..markers.prefixes.len())
                    .map(|p| Words {
                        prefix: p,
                        line: word(markers, p, s, "LINE"),
                        start: word(markers, p, s, "START"),
                        stop: word(markers, p, s, "STOP"),
                    })
                    .collect();
                (s, w)
            })
            .collect();
        Scanner {
            markers,
            words,
            out: Scan::default(),
            open: [None, None, None],
            n: 0,
        }
    }

    /// The next run of whole lines (see [`Scanner`]).
    pub fn feed(&mut self, text: &[u8]) {
        let Scanner {
            markers,
            words,
            out,
            open,
            n,
        } = self;
        if text.is_empty() {
            return;
        }
        // A final newline ends the last line; it does not start another.
        let body = text.strip_suffix(b"\n").unwrap_or(text);
        // The piece's lines, counted once: the walk below stops at the
        // last marker outside a region without counting the rest.
        let lines = u32::try_from(memchr::memchr_iter(b'\n', body).count())
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let after = n.saturating_add(lines);
        // Every marker holds `_EXCL_`: its places in the whole piece,
        // found in one pass, tell which lines need looking at (a line
        // outside any region without one is only counted).
        let mut hits = memchr::memmem::find_iter(body, b"_EXCL_").peekable();
        // The start of the next line to look at; `n` counts the lines before it.
        let mut start = 0usize;
        while start <= body.len() {
            if open.iter().all(Option::is_none) {
                // Outside any region only a line with a marker matters: on to
                // the next one, counting the lines passed.
                while hits.next_if(|&h| h < start).is_some() {}
                let Some(&h) = hits.peek() else { break };
                let passed = body.get(start..h).unwrap_or_default();
                let newlines = memchr::memchr_iter(b'\n', passed).count();
                *n = n.saturating_add(u32::try_from(newlines).unwrap_or(u32::MAX));
                if let Some(i) = memchr::memrchr(b'\n', passed) {
                    start += i + 1;
                }
            }
            let end = body
                .get(start..)
                .and_then(|rest| memchr::memchr(b'\n', rest))
                .map_or(body.len(), |i| start + i);
            let raw = body.get(start..end).unwrap_or_default();
            let line_start = start;
            start = end + 1;
            *n = n.saturating_add(1);
            while hits.next_if(|&h| h < line_start).is_some() {}
            let marked = hits.peek().is_some_and(|&h| h < end);
            if !marked && open.iter().all(Option::is_none) {
                continue;
            }
            line(markers, words, open, out, *n, raw);
        }
        *n = after;
    }

    /// The exclusions and warnings of all the pieces: a region still open
    /// runs to the end of the text, and says so.
    pub fn finish(self) -> Scan {
        let Scanner {
            markers,
            words,
            mut out,
            open,
            ..
        } = self;
        for (i, (scope, _)) in words.iter().enumerate() {
            if let Some(Some(o)) = open.get(i) {
                out.warnings.push(MarkerWarning {
                    line: o.line,
                    marker: word(markers, o.prefix, *scope, "START"),
                    kind: WarningKind::Unclosed {
                        expected: word(markers, o.prefix, *scope, "STOP"),
                    },
                });
            }
        }
        out.warnings.sort_by_key(|w| w.line);
        out
    }
}

/// A marker word: prefix `p`, the scope's infix, the action.
fn word(markers: &Markers, p: usize, scope: Scope, action: &str) -> String {
    let prefix = markers.prefixes.get(p).map_or("", String::as_str);
    format!("{prefix}_EXCL_{}{action}", scope.infix())
}

/// One line (number `n`, text `raw`) with a marker on it or inside a
/// region: its regions opened and closed, and it excluded where they say.
fn line(
    markers: &Markers,
    words: &[(Scope, Vec<Words>)],
    open: &mut [Option<Open>; 3],
    out: &mut Scan,
    n: u32,
    raw: &[u8],
) {
    for (i, (scope, ws)) in words.iter().enumerate() {
        let Some(state) = open.get_mut(i) else {
            continue;
        };
        let stop = ws.iter().find(|w| contains(raw, w.stop.as_bytes()));
        let start = ws.iter().find(|w| contains(raw, w.start.as_bytes()));
        if let Some(Words {
            prefix: p,
            stop: stop_word,
            ..
        }) = stop
        {
            match state.take() {
                None => out.warnings.push(MarkerWarning {
                    line: n,
                    marker: stop_word.clone(),
                    kind: WarningKind::StopWithoutStart,
                }),
                Some(o) if o.prefix != *p => out.warnings.push(MarkerWarning {
                    line: n,
                    marker: stop_word.clone(),
                    kind: WarningKind::OtherPrefix {
                        opened_at: o.line,
                        opened_with: word(markers, o.prefix, *scope, "START"),
                    },
                }),
                Some(_) => {}
            }
        } else if let Some(Words {
            prefix: p,
            start: start_word,
            ..
        }) = start
        {
            match state {
                Some(o) => out.warnings.push(MarkerWarning {
                    line: n,
                    marker: start_word.clone(),
                    kind: WarningKind::StartInsideRegion { opened_at: o.line },
                }),
                None => {
                    *state = Some(Open {
                        line: n,
                        prefix: *p,
                    })
                }
            }
        }
        let single = ws.iter().any(|w| contains(raw, w.line.as_bytes()));
        if single || state.is_some() {
            let set = match scope {
                Scope::Line => &mut out.exclusions.lines,
                Scope::Branch => &mut out.exclusions.branches,
                Scope::ExceptionBranch => &mut out.exclusions.exception_branches,
            };
            set.insert(n);
        }
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && memchr::memmem::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests;
