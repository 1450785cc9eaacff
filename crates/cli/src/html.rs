//! `report --format html -o DIR`: reads the sources, has the library render
//! the pages, and puts the directory in place atomically.
//!
//! The whole report is written into a new temporary directory beside DIR
//! and then renamed to DIR (exchanged with the old report when DIR holds
//! one, which is then removed): a reader or a crash sees the old report or
//! the new one, never a mixture of pages. DIR may be missing, an empty
//! directory, or an earlier report of ours (its `index.html` carries our
//! generator tag); anything else is refused rather than deleted.

use crate::output::path_within;
use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;
use xencov::paths::PathMapping;
use xencov::plural::count;
use xencov::report::html::{self, Site, Source};
use xencov::report::lcov::Tracefile;

/// The report's title.
const TITLE: &str = "xencov-rs coverage report";

/// DIR must be missing, empty, or an earlier HTML report of ours.
fn check_target(out: &Path) -> Result<bool> {
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", out.display())),
        Ok(m) if !m.is_dir() => bail!(
            "{} exists and is not a directory: the HTML report is a directory (-o DIR)",
            out.display()
        ),
        Ok(_) => {
            let mut entries =
                std::fs::read_dir(out).with_context(|| format!("cannot list {}", out.display()))?;
            if entries.next().is_none() {
                return Ok(true);
            }
            let index = std::fs::read(out.join(html::INDEX)).unwrap_or_default();
            let ours = index
                .windows(html::GENERATOR.len())
                .any(|w| w == html::GENERATOR.as_bytes());
            if !ours {
                bail!(
                    "{} is not empty and holds no earlier xencov-rs HTML report (no {} of ours): \
                     refused, it would be replaced; name a new or empty directory",
                    out.display(),
                    html::INDEX
                );
            }
            Ok(true)
        }
    }
}

/// Writes one page to `root/rel` (a new file) through `render`, not
/// synced (a report: see [`crate::output::Durability::Kernel`]).
fn write_page(
    root: &Path,
    rel: &str,
    render: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<()> {
    // The library's page paths are made of normal components; the path
    // helper checks it again, and path_within refuses symlinks in the way.
    let (rel, _) = PathMapping::default()
        .relative(rel.as_bytes())
        .map_err(|e| anyhow!("{e}"))?;
    let path = path_within(root, &rel)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
    render(&mut w)
        .and_then(|()| w.flush())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The report of `t` (names absolute, as the tracefile has them) in `out`.
/// Names are shown relative to `root` when below it.
pub fn write(
    t: &Tracefile,
    out: &Path,
    root: Option<&str>,
    source_root: Option<&Path>,
    diag: &crate::diag::Diagnostics,
) -> Result<()> {
    // Shown names (relative to the root, as the summary shows them) and
    // where each file's source is read.
    let mut shown = Tracefile {
        files: Default::default(),
        saturated: t.saturated,
    };
    let mut read_at = std::collections::BTreeMap::new();
    for (name, rec) in &t.files {
        let s = root
            .and_then(|r| xencov::report::select::under_root(name, r))
            .unwrap_or(name)
            .to_string();
        read_at.insert(s.clone(), crate::exclude::source_path(name, source_root));
        shown.files.insert(s, rec.clone());
    }
    let site = Site::new(&shown);
    let replace = check_target(out)?;
    let tmp = crate::output::temp_dir_beside(out, ".xencov-html-")?;
    {
        use std::os::unix::fs::PermissionsExt;
        // A report is for reading: 0755 (less nothing; pages are 0644 less
        // the umask as any new file).
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot set the mode of {}", tmp.path().display()))?;
    }
    write_page(tmp.path(), html::STYLE, |w| {
        w.write_all(html::CSS.as_bytes())
    })?;
    write_page(tmp.path(), html::INDEX, |w| {
        html::write_index(w, &shown, &site, TITLE)
    })?;
    let missing: Vec<String> = shown
        .files
        .par_iter()
        .map(|(name, rec)| -> Result<Option<String>> {
            let Some(page) = site.pages.get(name) else {
                return Ok(None);
            };
            let at = read_at.get(name).cloned().unwrap_or_else(|| name.into());
            let (bytes, note) = match std::fs::read(&at) {
                Ok(b) => (Some(b), None),
                Err(e) => (None, Some(format!("{}: {e}", at.display()))),
            };
            let source = match (&bytes, &note) {
                (Some(b), _) => Source::Text(b),
                (None, Some(n)) => Source::Missing(n),
                (None, None) => Source::Missing("not read"),
            };
            write_page(tmp.path(), page, |w| {
                html::write_file_page(w, name, rec, source, &site, TITLE)
            })?;
            Ok(note)
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    if !missing.is_empty() {
        // A note, not a warning: the pages are complete without the text,
        // and --strict is about the coverage, not about where sources are.
        diag.note(format_args!(
            "{} not readable, their pages show the counts by line number only \
             (--source-root DIR reads the sources below --root from DIR): {}{}",
            count(missing.len(), "source file", "source files"),
            missing.first().map_or("", String::as_str),
            if missing.len() > 1 { ", ..." } else { "" }
        ));
    }
    let moved = if replace {
        crate::merge::exchange(tmp.path(), out)
    } else {
        std::fs::rename(tmp.path(), out)
    };
    moved.with_context(|| format!("cannot move the new report into place at {}", out.display()))?;
    if replace {
        // The old report now sits at the temporary name; dropping removes it.
        drop(tmp);
    } else {
        let _ = tmp.keep();
    }
    eprintln!(
        "xencov-rs: html: {} and {} in {}",
        count(site.pages.len(), "source page", "source pages"),
        html::INDEX,
        out.display()
    );
    Ok(())
}
