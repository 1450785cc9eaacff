//! `xencov-rs split`: one gcda file per unit of a Xen coverage dump.

use crate::diag::Diagnostics;
use crate::output::{path_within, read_input, write_atomic};
use anyhow::{Context, Result, bail};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use xencov::paths::PathMapping;
use xencov::plural::count;
use xencov::xen::dump::{Container, Identified, LegacyDump, identify};

/// One gcda to write: recorded path, bytes, and whether they decoded.
struct Out {
    recorded: Vec<u8>,
    bytes: Vec<u8>,
}

pub fn run(
    input: &Path,
    out_dir: &Path,
    mapping: &PathMapping,
    strict: bool,
    undot: bool,
) -> Result<()> {
    let name = input.display().to_string();
    let data = read_input(input)?;
    let diag = Diagnostics::new(strict);
    let warn = |msg: String| diag.warn(msg);
    let identified = identify(&data).map_err(|e| {
        const SPLIT: &str = "split takes a Xen coverage dump (Xen 4.9+ XCOV container or a Xen 4.3-4.8 dump)";
        match crate::kind::recognise_named(&data) {
            Some(what) if what.contains(".gcda") => {
                anyhow::anyhow!("{name} is {what}, already split: {SPLIT}; `merge`, `lcov` and `report` read gcda files")
            }
            Some(what) => anyhow::anyhow!("{name} is {what}: {SPLIT}"),
            None => anyhow::anyhow!("{name}: {e}"),
        }
    })?;
    let outs: Vec<Out> = match identified {
        Identified::LlvmProfile { .. } => {
            // Validated first: a truncated copy is named as such, not as a profile.
            let p = crate::llvm::decode(&name, &data)?;
            bail!(
                "{name} is {}: the hypervisor was built with clang, so there are no gcda \
                 files to split; `xencov-rs dump {name}` prints it",
                crate::llvm::describe(&p)
            )
        }
        Identified::Container(endian) => {
            let c = Container::parse(&data).with_context(|| name.clone())?;
            let mut outs = Vec::with_capacity(c.units.len());
            let mut versions: std::collections::BTreeMap<String, Vec<String>> = Default::default();
            for u in &c.units {
                if let Ok(g) = u.gcda() {
                    versions
                        .entry(g.header.version.chars())
                        .or_default()
                        .push(u.path_lossy());
                }
                match u.gcda() {
                    Ok(g) if g.header.endian != endian => warn(format!(
                        "{name}: record {} ({}) at byte offset {}: a {} gcda in a {} dump",
                        u.index,
                        u.path_lossy(),
                        u.offset,
                        g.header.endian,
                        endian
                    ))?,
                    Ok(_) => {}
                    Err(e) => warn(format!(
                        "{name}: record {} ({}): payload kept verbatim, it does not decode: {e}",
                        u.index,
                        u.path_lossy()
                    ))?,
                }
                outs.push(Out {
                    recorded: u.path.to_vec(),
                    bytes: u.payload.to_vec(),
                });
            }
            if versions.len() > 1 {
                warn(mixed_versions(&name, &versions))?;
            }
            // What Xen 4.20 and older built with GCC 14+ return (checked on a
            // booted 4.20.4, tests/xen_vm.rs): every unit a bare header, as
            // the hypervisor reads each unit's function count from the wrong
            // word of struct gcov_info. A real run always has functions.
            let decoded: Vec<_> = c.units.iter().filter_map(|u| u.gcda().ok()).collect();
            if !decoded.is_empty()
                && decoded.len() == c.units.len()
                && decoded.iter().all(|g| g.functions().next().is_none())
                && decoded.iter().any(|g| g.header.version.major() >= 14)
            {
                warn(format!(
                    "{name}: this dump cannot be trusted: none of its {} units has a single \
                     function record, and they were compiled by GCC {}; that is what Xen 4.20 \
                     and older built with GCC 14 or newer return (their gcov code lays out \
                     struct gcov_info for at most 8 counter kinds). Use Xen 4.21 or newer, or \
                     build Xen with GCC 13 or older; `xencov-rs check --xen-syms xen-syms` \
                     tells the release",
                    c.units.len(),
                    decoded[0].header.version.gcc()
                ))?;
            }
            outs
        }
        Identified::Legacy(endian) => {
            let d = LegacyDump::parse(&data).with_context(|| name.clone())?;
            d.units
                .iter()
                .map(|u| Out {
                    recorded: u.path.clone(),
                    bytes: u.to_gcda(endian).encode(),
                })
                .collect()
        }
    };

    // Map and check every path before creating or writing anything.
    let mut targets = Vec::with_capacity(outs.len());
    let mut seen = std::collections::HashMap::new();
    for (i, o) in outs.iter().enumerate() {
        let shown = String::from_utf8_lossy(&o.recorded).into_owned();
        let (rel, stripped) = mapping
            .relative(&o.recorded)
            .with_context(|| format!("{name}: record {i}"))?;
        if !stripped {
            warn(format!(
                "{name}: record {i} ({shown}) does not start with the --strip-prefix"
            ))?;
        }
        let rel = if undot {
            undotted(&rel).unwrap_or(rel)
        } else {
            rel
        };
        if let Some(first) = seen.insert(rel.clone(), i) {
            bail!(
                "{name}: records {first} and {i} both map to {}",
                rel.display()
            );
        }
        targets.push(rel);
    }
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let (mut dotted, mut linked, mut no_notes) = (0usize, 0usize, Vec::new());
    for (o, rel) in outs.iter().zip(&targets) {
        let path = path_within(out_dir, rel)?;
        write_atomic(&path, &o.bytes)?;
        let recorded = Path::new(std::ffi::OsStr::from_bytes(&o.recorded));
        if recorded
            .file_name()
            .is_some_and(|n| n.as_bytes().starts_with(b"."))
        {
            dotted += 1;
            if undot {
                match link_notes(&path)? {
                    true => linked += 1,
                    false => no_notes.push(path.display().to_string()),
                }
            }
        }
    }
    if dotted > 0 && !undot {
        diag.note(format_args!(
            "{dotted} gcda files have names that start with a dot (Xen's \
             .foo.o.gcda): lcov 1.16's geninfo silently skips them (it collects gcov's output \
             with a glob that ignores dot files). `xencov-rs lcov` reads them; for `lcov \
             --capture`, split with --undot, which writes foo.o.gcda and links foo.o.gcno to \
             the .foo.o.gcno beside it"
        ));
    }
    if undot && dotted > 0 {
        eprintln!(
            "xencov-rs: --undot: {dotted} gcda files written without their leading dot, \
             {linked} with notes linked beside them"
        );
    }
    if !no_notes.is_empty() {
        let shown: Vec<&str> = no_notes.iter().take(5).map(String::as_str).collect();
        warn(format!(
            "--undot: no dot-named notes file beside {} renamed gcda files (e.g. {}): lcov \
             --capture needs each one's notes as foo.o.gcno in the same directory (split into \
             the build tree, or give `xencov-rs lcov` the tree with --gcno-dir)",
            no_notes.len(),
            shown.join(", ")
        ))?;
    }
    eprintln!(
        "xencov-rs: split {name}: {} under {}{}",
        count(outs.len(), "gcda file", "gcda files"),
        out_dir.display(),
        if diag.count() > 0 {
            format!(", {}", count(diag.count(), "warning", "warnings"))
        } else {
            String::new()
        }
    );
    Ok(())
}

/// `dir/.foo.o.gcda` -> `dir/foo.o.gcda`; `None` when the file name has no
/// leading dot (or is only dots), so nothing is renamed.
fn undotted(rel: &Path) -> Option<std::path::PathBuf> {
    let name = rel.file_name()?.as_bytes();
    let rest = name.strip_prefix(b".")?;
    if rest.is_empty() || rest.starts_with(b".") {
        return None;
    }
    Some(rel.with_file_name(std::ffi::OsStr::from_bytes(rest)))
}

/// For `dir/foo.o.gcda` written by --undot: `dir/foo.o.gcno` -> `.foo.o.gcno`
/// (a relative symlink) when that notes file is there, since gcov looks
/// for the notes under the data file's own name. An existing `foo.o.gcno`
/// is left alone. Returns whether notes are now reachable under the name.
fn link_notes(gcda: &Path) -> Result<bool> {
    let (Some(dir), Some(name)) = (gcda.parent(), gcda.file_name()) else {
        return Ok(false);
    };
    let Some(stem) = name.as_bytes().strip_suffix(b".gcda") else {
        return Ok(false);
    };
    let dotted = [b".", stem, b".gcno"].concat();
    let plain = [stem, b".gcno"].concat();
    let (dotted, plain) = (
        std::ffi::OsStr::from_bytes(&dotted),
        dir.join(std::ffi::OsStr::from_bytes(&plain)),
    );
    if !dir.join(dotted).is_file() {
        return Ok(false);
    }
    match std::fs::symlink_metadata(&plain) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::os::unix::fs::symlink(dotted, &plain)
                .with_context(|| format!("cannot link {} to its notes", plain.display()))?;
            Ok(true)
        }
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", plain.display())),
    }
}

/// `the dump mixes gcov versions: B22* (3 units: a, b, c), B13* (1 unit: d)`.
fn mixed_versions(
    name: &str,
    versions: &std::collections::BTreeMap<String, Vec<String>>,
) -> String {
    let parts: Vec<String> = versions
        .iter()
        .map(|(v, units)| {
            let shown: Vec<&str> = units.iter().take(5).map(String::as_str).collect();
            let more = units.len().saturating_sub(5);
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            let noun = if units.len() == 1 { "unit" } else { "units" };
            format!("{v} ({} {noun}: {}{more})", units.len(), shown.join(", "))
        })
        .collect();
    format!(
        "{name}: the dump mixes gcov versions, so its units come from different compilers: {}",
        parts.join("; ")
    )
}
