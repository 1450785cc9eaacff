//! `xencov-rs merge`: many runs into one profile. Inputs are read one at a
//! time (a dump, a .gcda, or a tree of them), decoded in parallel, and
//! merged into the accumulated profile unit by unit in parallel, so memory
//! stays near one input plus the result.

use super::output::{path_within, read_input, write_atomic};
use anyhow::{Context, Result, anyhow, bail};
use indexmap::IndexMap;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use xencov_rs::dump::{Container, Identified, LegacyDump, encode_container, identify};
use xencov_rs::gcda::Gcda;
use xencov_rs::merge::{ConflictKind, OnConflict, Resolution, merge_unit, scale};
use xencov_rs::paths::PathMapping;
use xencov_rs::plural::count;

/// One input with its weight.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub weight: u64,
}

/// Parses `PATH` or `PATH:W` (W a positive integer; a path that itself ends
/// in `:digits` and exists is taken as a path).
pub fn parse_input(arg: &str) -> Result<Input, String> {
    if let Some((path, w)) = arg.rsplit_once(':')
        && !Path::new(arg).exists()
        && let Ok(weight) = w.parse::<u64>()
    {
        if weight == 0 {
            return Err(format!("{arg}: a weight must be at least 1"));
        }
        return Ok(Input {
            path: PathBuf::from(path),
            weight,
        });
    }
    Ok(Input {
        path: PathBuf::from(arg),
        weight: 1,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum To {
    /// A Xen coverage dump (XCOV container).
    Dump,
    /// A tree of .gcda files that gcov and lcov read directly.
    Gcda,
}

pub struct Args<'a> {
    pub inputs: Vec<Input>,
    pub output: &'a Path,
    pub to: To,
    pub mapping: &'a PathMapping,
    pub on_conflict: OnConflict,
    pub strict: bool,
}

/// A unit of the merged profile and the inputs it came from.
pub struct Merged {
    /// The unit's path as first seen (after --prefix-map): a dump records it.
    pub path: Vec<u8>,
    pub gcda: Gcda,
    pub origin: String,
}

/// Units match by path made of its normal components, so `/main.gcda` (a
/// dump path mapped to the root) and `main.gcda` (a tree) are one unit.
fn match_key(path: &[u8]) -> Vec<u8> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect::<Vec<_>>()
        .join(&b'/')
}

/// Units of one input, keyed by (mapped) gcda path.
fn read_units(input: &Input, mapping: &PathMapping) -> Result<Vec<(Vec<u8>, Gcda)>> {
    let name = input.path.display().to_string();
    let mut raw: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    if input.path.is_dir() {
        for p in super::output::files_with_extension(&input.path, &["gcda"])? {
            let rel = p.strip_prefix(&input.path).unwrap_or(&p);
            let bytes =
                std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
            raw.push((rel.as_os_str().as_encoded_bytes().to_vec(), bytes));
        }
        raw.sort();
    } else {
        let data = read_input(&input.path)?;
        let first: &[u8] = data.get(..4).unwrap_or_default();
        if first == b"gcda" || first == b"adcg" {
            let base = input.path.file_name().unwrap_or(input.path.as_os_str());
            raw.push((base.as_encoded_bytes().to_vec(), data));
        } else {
            match identify(&data).with_context(|| name.clone())? {
                Identified::Container(_) => {
                    let c = Container::parse(&data).with_context(|| name.clone())?;
                    raw = c
                        .units
                        .iter()
                        .map(|u| (u.path.to_vec(), u.payload.to_vec()))
                        .collect();
                }
                Identified::Legacy(endian) => {
                    let d = LegacyDump::parse(&data).with_context(|| name.clone())?;
                    raw = d
                        .units
                        .iter()
                        .map(|u| (u.path.clone(), u.to_gcda(endian).encode()))
                        .collect();
                }
                Identified::LlvmProfile { .. } => bail!(
                    "{name} is a raw LLVM profile (clang-built hypervisor): merge it with `llvm-profdata merge`"
                ),
            }
        }
    }
    raw.into_par_iter()
        .map(|(key, bytes)| {
            let shown = String::from_utf8_lossy(&key).into_owned();
            let mut g = Gcda::decode(&bytes).with_context(|| format!("{name}: {shown}"))?;
            scale(&mut g, input.weight);
            Ok((mapping.rewrite(&key).0, g))
        })
        .collect()
}

/// Reads and merges `inputs` in order (see the module doc): the merged
/// units by match key, with what was resolved under `on_conflict` reported
/// on stderr and the quiet version check of `check` applied.
pub fn merge_inputs(
    inputs: &[Input],
    mapping: &PathMapping,
    on_conflict: OnConflict,
    strict: bool,
) -> Result<IndexMap<Vec<u8>, Merged>> {
    let bar = ProgressBar::new(inputs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("merging {bar:30} {pos}/{len} inputs, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut acc: IndexMap<Vec<u8>, Merged> = IndexMap::new();
    let mut resolved: Vec<String> = Vec::new();
    for input in inputs {
        let name = input.path.display().to_string();
        let units = read_units(input, mapping)?;
        let mut incoming: IndexMap<Vec<u8>, (Vec<u8>, Gcda)> = IndexMap::with_capacity(units.len());
        for (path, g) in units {
            if incoming
                .insert(match_key(&path), (path.clone(), g))
                .is_some()
            {
                bail!(
                    "{name}: two units map to {}",
                    String::from_utf8_lossy(&path)
                );
            }
        }
        let outcomes: Vec<Result<Vec<String>>> = acc
            .par_iter_mut()
            .filter_map(|(key, m)| incoming.get(key).map(|(_, g)| (key, m, g)))
            .map(|(key, m, g)| {
                let unit = String::from_utf8_lossy(key);
                let conflicts = merge_unit(&mut m.gcda, g, on_conflict).map_err(|kind| {
                    anyhow!("{unit}: {} and {name} do not merge: {kind}", m.origin)
                })?;
                let notes = conflicts
                    .iter()
                    .map(|c| {
                        let done = match c.resolution {
                            Resolution::Skipped => "skipped the later input's part",
                            Resolution::Replaced => "kept the later input's part",
                            Resolution::Refused => "refused",
                        };
                        format!("{unit}: {} and {name}: {}: {done}", m.origin, c.kind)
                    })
                    .collect();
                let replaced_unit = conflicts.iter().any(|c| {
                    matches!(
                        c.kind,
                        ConflictKind::Stamp { .. } | ConflictKind::Version { .. }
                    ) && c.resolution == Resolution::Replaced
                });
                m.origin = if replaced_unit {
                    name.clone()
                } else {
                    format!("{} + {name}", m.origin)
                };
                Ok(notes)
            })
            .collect();
        for o in outcomes {
            resolved.extend(o?);
        }
        for (key, (path, g)) in incoming {
            acc.entry(key).or_insert_with(|| Merged {
                path,
                gcda: g,
                origin: name.clone(),
            });
        }
        bar.inc(1);
    }
    bar.finish_and_clear();

    // The same version check as `check`, quietly: one compiler per profile.
    let mut versions: std::collections::BTreeMap<String, usize> = Default::default();
    for m in acc.values() {
        *versions.entry(m.gcda.header.version.chars()).or_default() += 1;
    }
    if versions.len() > 1 {
        let msg = format!(
            "the merged profile mixes gcov versions (units per version: {versions:?}): its units come \
             from different compilers"
        );
        if strict {
            bail!("{msg}");
        }
        eprintln!("xencov-rs: warning: {msg}");
    }
    if !resolved.is_empty() {
        eprintln!(
            "xencov-rs: {} resolved by --on-conflict:",
            count(resolved.len(), "conflict", "conflicts")
        );
        for r in &resolved {
            eprintln!("  {r}");
        }
    }
    Ok(acc)
}

pub fn run(args: Args<'_>) -> Result<()> {
    let acc = merge_inputs(&args.inputs, args.mapping, args.on_conflict, args.strict)?;
    write(&acc, &args)?;
    eprintln!(
        "xencov-rs: merged {} into {}: {}",
        count(args.inputs.len(), "input", "inputs"),
        count(acc.len(), "unit", "units"),
        args.output.display()
    );
    Ok(())
}

fn write(acc: &IndexMap<Vec<u8>, Merged>, args: &Args<'_>) -> Result<()> {
    let encoded: Vec<(&Vec<u8>, Vec<u8>)> = acc
        .par_values()
        .map(|m| (&m.path, m.gcda.encode()))
        .collect();
    match args.to {
        To::Dump => {
            let endian = acc
                .values()
                .next()
                .map_or(xencov_rs::Endian::NATIVE, |m| m.gcda.header.endian);
            let dump = encode_container(
                endian,
                encoded.iter().map(|(k, b)| (k.as_slice(), b.as_slice())),
            );
            write_atomic(args.output, &dump)
        }
        To::Gcda => {
            std::fs::create_dir_all(args.output)
                .with_context(|| format!("cannot create {}", args.output.display()))?;
            let plain = PathMapping::default();
            let mut targets = Vec::with_capacity(encoded.len());
            for (key, _) in &encoded {
                let (rel, _) = plain.relative(key).map_err(|e| anyhow!("{e}"))?;
                targets.push(path_within(args.output, &rel)?);
            }
            targets
                .par_iter()
                .zip(encoded.par_iter())
                .try_for_each(|(path, (_, bytes))| write_atomic(path, bytes))
        }
    }
}
