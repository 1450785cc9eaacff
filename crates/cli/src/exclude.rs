//! Exclusion markers for `lcov`, `report` and `diff`: each source file is
//! read once (where the notes say it is, or under `--source-root`), by the
//! worker of the first unit that names it, the
//! library finds its markers, and the excluded records are taken out of
//! every unit that covers it, before any report or threshold sees them.

use crate::diag::Diagnostics;
use crate::lcov::Unit;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use xencov::analysis::exclude::{Exclusions, Markers, Scan, Scanner};
use xencov::plural::count;
use xencov::report::select::Selection;

/// Where to look for a source file recorded as `name` (exclusion markers and
/// the HTML report read it there): under `root` (`--source-root`), the
/// recorded path with the fewest leading components dropped that names a
/// file there (`/build/xen/common/foo.c` is tried as `ROOT/build/xen/common/foo.c`,
/// `ROOT/xen/common/foo.c`, `ROOT/common/foo.c`, `ROOT/foo.c`), then the
/// recorded path itself.
pub fn source_path(name: &str, root: Option<&Path>) -> PathBuf {
    if let Some(root) = root {
        let parts: Vec<&str> = name.split('/').filter(|p| !p.is_empty()).collect();
        for i in 0..parts.len() {
            let candidate = root.join(parts[i..].join("/"));
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    PathBuf::from(name)
}

/// A source file's markers, read once.
enum Scanned {
    /// What it excludes and its unpaired markers (naming where it was read).
    Read {
        exclusions: Exclusions,
        warnings: Vec<String>,
    },
    /// Where it was looked for and why it could not be read.
    Unreadable(String),
}

/// Every source file's markers, each file read and scanned once by
/// whichever thread needs it first: each unit's worker scans its sources
/// ([`Scans::prefetch`]), so the units' sources are read in parallel, not
/// one after another by the thread that folds the units.
pub struct Scans<'a> {
    markers: &'a Markers,
    source_root: Option<&'a Path>,
    files: Mutex<HashMap<String, Arc<OnceLock<Scanned>>>>,
}

impl<'a> Scans<'a> {
    pub fn new(markers: &'a Markers, source_root: Option<&'a Path>) -> Self {
        Scans {
            markers,
            source_root,
            files: Mutex::new(HashMap::new()),
        }
    }

    /// The markers of the source file recorded as `name` (resolved), read
    /// and scanned the first time it is asked for. Another thread asking
    /// for the same file meanwhile waits for that one reading.
    fn get(&self, name: &str) -> Arc<OnceLock<Scanned>> {
        let cell = {
            let mut files = self.files.lock().unwrap_or_else(|e| e.into_inner());
            files.entry(name.to_string()).or_default().clone()
        };
        cell.get_or_init(|| {
            let path = source_path(name, self.source_root);
            match scan_file(&path, self.markers) {
                Ok(s) => Scanned::Read {
                    warnings: s
                        .warnings
                        .iter()
                        .map(|w| format!("{}: {w}", path.display()))
                        .collect(),
                    exclusions: s.exclusions,
                },
                Err(e) => Scanned::Unreadable(format!("{} ({e})", path.display())),
            }
        });
        cell
    }

    /// Reads the markers of the source files a unit's notes name
    /// (`names`, as recorded; `cwd` their compilation directory), so that
    /// [`Excluder::apply`] finds them read. A file the coverage does not
    /// name after all is read for nothing, and nothing is said of it.
    pub fn prefetch<'n>(
        &self,
        cwd: Option<&str>,
        names: impl IntoIterator<Item = &'n String>,
        selection: &Selection,
    ) {
        for n in names {
            let name = xencov::report::lcov::resolve(cwd, n);
            // A file --include/--exclude leave out is never applied to.
            if selection.keeps(&name) {
                self.get(&name);
            }
        }
    }
}

/// The markers of the source file at `path`, read in pieces of whole lines
/// through a 64 KiB buffer rather than whole: SQLite's 9.6 MB source held
/// whole made its own peak beside the units. (The buffer is below the
/// mmap threshold of `lcov`: it is taken from the heap and reused, not
/// mapped and unmapped per file.)
fn scan_file(path: &Path, markers: &Markers) -> std::io::Result<Scan> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut scanner = Scanner::new(markers);
    let mut buf = vec![0u8; 64 * 1024];
    let mut filled = 0usize;
    loop {
        if filled == buf.len() {
            // A line longer than the buffer: room for more of it.
            buf.resize(buf.len() * 2, 0);
        }
        let got = match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(k) => k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += got;
        // The whole lines read so far go to the scanner; the start of the
        // next line moves to the front.
        if let Some(i) = buf[..filled].iter().rposition(|&b| b == b'\n') {
            scanner.feed(&buf[..=i]);
            buf.copy_within(i + 1..filled, 0);
            filled -= i + 1;
        }
    }
    scanner.feed(&buf[..filled]);
    Ok(scanner.finish())
}

/// The markers of one source file that exclude something (see
/// [`Excluder::marks`]).
pub struct Marks(Arc<OnceLock<Scanned>>);

impl Marks {
    /// What they exclude.
    pub fn exclusions(&self) -> &Exclusions {
        static NONE: Exclusions = Exclusions {
            lines: std::collections::BTreeSet::new(),
            branches: std::collections::BTreeSet::new(),
            exception_branches: std::collections::BTreeSet::new(),
        };
        match self.0.get() {
            Some(Scanned::Read { exclusions, .. }) => exclusions,
            _ => &NONE, // `Excluder::marks` gives only files read: not reached
        }
    }
}

/// Applies the markers of every source file the units cover, one unit at a
/// time in the units' order. A marker that does not pair up is a warning
/// naming the file and line (an error with --strict); source files that
/// cannot be read are one note (their markers cannot be applied, which
/// --strict does not make an error: a report written away from the sources
/// is still right about the counts). Both are said by
/// [`Excluder::finish`], after every unit, each file's once, in the order
/// the units first name the files.
pub struct Excluder<'s, 'a> {
    scans: &'s Scans<'a>,
    /// The files already named by a unit (their warnings taken).
    seen: HashSet<String>,
    unreadable: Vec<String>,
    unpaired: Vec<String>,
}

impl<'s, 'a> Excluder<'s, 'a> {
    pub fn new(scans: &'s Scans<'a>) -> Self {
        Excluder {
            scans,
            seen: HashSet::new(),
            unreadable: Vec::new(),
            unpaired: Vec::new(),
        }
    }

    /// Takes the excluded records out of `u`.
    pub fn apply(&mut self, u: &mut Unit) {
        let cwd = u.coverage.cwd.clone();
        let excluded = &mut u.excluded_functions;
        for f in &mut u.coverage.files {
            let name = xencov::report::lcov::resolve(cwd.as_deref(), &f.file);
            let Some(marks) = self.marks(name) else {
                continue;
            };
            let removed = marks.exclusions().apply(f);
            if !removed.functions.is_empty() {
                excluded.push(xencov::analysis::coverage::FileCoverage {
                    file: f.file.clone(),
                    functions: removed.functions,
                    lines: Vec::new(),
                });
            }
        }
    }

    /// The markers of the source file `name` (resolved) as a unit names
    /// it, when they exclude something: for a caller that takes the
    /// excluded records out of the file's coverage itself, a line at a
    /// time ([`Exclusions::apply_line`]). Its unpaired markers or why it
    /// could not be read are noted the first time a unit names it, as
    /// [`Excluder::apply`] notes them.
    pub fn marks(&mut self, name: String) -> Option<Marks> {
        let cell = self.scans.get(&name);
        let first = self.seen.insert(name);
        match cell.get() {
            Some(Scanned::Read {
                exclusions,
                warnings,
                ..
            }) => {
                if first {
                    self.unpaired.extend(warnings.iter().cloned());
                }
                if exclusions.is_empty() {
                    return None;
                }
            }
            Some(Scanned::Unreadable(why)) => {
                if first {
                    self.unreadable.push(why.clone());
                }
                return None;
            }
            None => return None, // `get` initialises the cell: not reached
        }
        Some(Marks(cell))
    }

    /// Says what went wrong with the markers of all units applied.
    pub fn finish(self, diag: &Diagnostics) -> anyhow::Result<()> {
        let Excluder {
            mut unreadable,
            unpaired,
            ..
        } = self;
        for w in unpaired {
            diag.warn(w)?;
        }
        if !unreadable.is_empty() {
            unreadable.sort();
            let shown = crate::diag::first_few(&unreadable, 3);
            diag.note(format_args!(
                "exclusion markers not applied to {} that cannot be read: \
                 {shown}; --source-root DIR finds sources that moved, --no-markers turns \
                 markers off",
                count(unreadable.len(), "source file", "source files")
            ));
        }
        Ok(())
    }
}
