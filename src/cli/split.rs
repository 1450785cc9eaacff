//! `xencov-rs split`: one gcda file per unit of a Xen coverage dump.

use super::output::{path_within, read_input, write_atomic};
use anyhow::{Context, Result, bail};
use std::path::Path;
use xencov_rs::dump::{Container, Identified, LegacyDump, identify};
use xencov_rs::paths::PathMapping;
use xencov_rs::plural::count;

/// One gcda to write: recorded path, bytes, and whether they decoded.
struct Out {
    recorded: Vec<u8>,
    bytes: Vec<u8>,
}

pub fn run(input: &Path, out_dir: &Path, mapping: &PathMapping, strict: bool) -> Result<()> {
    let name = input.display().to_string();
    let data = read_input(input)?;
    let mut warnings = 0usize;
    let mut warn = |msg: String| -> Result<()> {
        if strict {
            bail!("{msg}");
        }
        eprintln!("xencov-rs: warning: {msg}");
        warnings += 1;
        Ok(())
    };
    let identified = identify(&data).map_err(|e| {
        const SPLIT: &str = "split takes a Xen coverage dump (Xen 4.9+ XCOV container or a Xen 4.3-4.8 dump)";
        match super::kind::recognise(&data) {
            Some(what) if what.contains(".gcda") => {
                anyhow::anyhow!("{name} is {what}, already split: {SPLIT}; `merge`, `lcov` and `report` read gcda files")
            }
            Some(what) => anyhow::anyhow!("{name} is {what}: {SPLIT}"),
            None => anyhow::anyhow!("{name}: {e}"),
        }
    })?;
    let outs: Vec<Out> = match identified {
        Identified::LlvmProfile { version, .. } => bail!(
            "{name} is a raw LLVM profile (version {version}): the hypervisor was built with clang, \
             so there are no gcda files to split; use it as it is with \
             `llvm-profdata merge -o xen.profdata {name}`"
        ),
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
    for (o, rel) in outs.iter().zip(&targets) {
        let path = path_within(out_dir, rel)?;
        write_atomic(&path, &o.bytes)?;
    }
    eprintln!(
        "xencov-rs: split {name}: {} under {}{}",
        count(outs.len(), "gcda file", "gcda files"),
        out_dir.display(),
        if warnings > 0 {
            format!(", {}", count(warnings, "warning", "warnings"))
        } else {
            String::new()
        }
    );
    Ok(())
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
