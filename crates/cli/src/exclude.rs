//! Exclusion markers for `lcov`, `report` and `diff`: each source file is
//! read once (where the notes say it is, or under `--source-root`), the
//! library finds its markers, and the excluded records are taken out of
//! every unit that covers it, before any report or threshold sees them.

use crate::diag::Diagnostics;
use crate::lcov::Unit;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use xencov::analysis::exclude::{Exclusions, Markers, scan};
use xencov::plural::count;

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

/// Applies the markers of every source file the units cover, one unit at a
/// time as each is computed. Each source file is read and scanned once for
/// all units. A marker that does not pair up is a warning naming the file
/// and line (an error with --strict); source files that cannot be read are
/// one note (their markers cannot be applied, which --strict does not make
/// an error: a report written away from the sources is still right about
/// the counts). Both are said by [`Excluder::finish`], after every unit.
pub struct Excluder<'a> {
    markers: &'a Markers,
    source_root: Option<&'a Path>,
    found: HashMap<String, Option<Exclusions>>,
    unreadable: Vec<String>,
    unpaired: Vec<String>,
}

impl<'a> Excluder<'a> {
    pub fn new(markers: &'a Markers, source_root: Option<&'a Path>) -> Self {
        Excluder {
            markers,
            source_root,
            found: HashMap::new(),
            unreadable: Vec::new(),
            unpaired: Vec::new(),
        }
    }

    /// Takes the excluded records out of `u`.
    pub fn apply(&mut self, u: &mut Unit) {
        let Excluder {
            markers,
            source_root,
            found,
            unreadable,
            unpaired,
        } = self;
        let cwd = u.coverage.cwd.clone();
        let excluded = &mut u.excluded_functions;
        for f in &mut u.coverage.files {
            let name = xencov::report::lcov::resolve(cwd.as_deref(), &f.file);
            let excl = found.entry(name).or_insert_with_key(|name| {
                let path = source_path(name, *source_root);
                match std::fs::read(&path) {
                    Ok(text) => {
                        let s = scan(&text, markers);
                        for w in &s.warnings {
                            unpaired.push(format!("{}: {w}", path.display()));
                        }
                        Some(s.exclusions)
                    }
                    Err(e) => {
                        unreadable.push(format!("{} ({e})", path.display()));
                        None
                    }
                }
            });
            if let Some(e) = excl.as_ref().filter(|e| !e.is_empty()) {
                let removed = e.apply(f);
                if !removed.functions.is_empty() {
                    excluded.push(xencov::analysis::coverage::FileCoverage {
                        file: f.file.clone(),
                        functions: removed.functions,
                        lines: Vec::new(),
                    });
                }
            }
        }
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
            let shown = unreadable
                .iter()
                .take(3)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            let more = match unreadable.len() {
                0..=3 => String::new(),
                n => format!(" and {} more", n - 3),
            };
            diag.note(format_args!(
                "exclusion markers not applied to {} that cannot be read: \
                 {shown}{more}; --source-root DIR finds sources that moved, --no-markers turns \
                 markers off",
                count(unreadable.len(), "source file", "source files")
            ));
        }
        Ok(())
    }
}
