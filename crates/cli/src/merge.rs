//! `xencov-rs merge`: many runs into one profile. Inputs are read one at a
//! time (a dump, a .gcda, or a tree of them), decoded in parallel, and
//! merged into the accumulated profile unit by unit in parallel, so memory
//! stays near one input plus the result.

use crate::diag::Diagnostics;
use crate::output::{path_within, read_input, write_atomic};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use xencov::analysis::merge::profile::{
    Cause, DisjointPair, Done, Incoming, InputWarning, Profile, ProfileError, ProfileWarning,
    Saturation, Side, Step,
};
use xencov::analysis::merge::{MAX_COUNT, OnConflict, Resolution};
use xencov::paths::PathMapping;
use xencov::plural::count;
use xencov::xen::dump::{Container, Identified, LegacyDump, encode_container, identify};

/// One input with its weight.
#[derive(Debug, Clone)]
pub struct Input {
    pub path: PathBuf,
    pub weight: u64,
}

/// Parses `PATH` or `PATH:W` (W an integer, 0 included; a path that itself ends
/// in `:digits` and exists is taken as a path).
pub fn parse_input(arg: &str) -> Result<Input, String> {
    if let Some((path, w)) = arg.rsplit_once(':')
        && !Path::new(arg).exists()
        && let Ok(weight) = w.parse::<u64>()
    {
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
    /// `--to gcda` may replace a directory that already holds files.
    pub replace: bool,
}

/// The gcda images of one input: whole files, or ranges of a dump.
struct RawUnits {
    buffers: Vec<Vec<u8>>,
    /// (gcda path, buffer, byte range in it)
    units: Vec<(Vec<u8>, usize, std::ops::Range<usize>)>,
}

/// The gcda images of one input, in the order of their paths for a tree,
/// of the dump otherwise. A dump's payloads are not copied.
fn read_raw(input: &Input) -> Result<RawUnits> {
    let name = input.path.display().to_string();
    let mut raw: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    if input.path.is_dir() {
        for p in crate::output::files_with_extension(&input.path, &["gcda"])? {
            let rel = p.strip_prefix(&input.path).unwrap_or(&p);
            let bytes =
                std::fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
            raw.push((rel.as_os_str().as_encoded_bytes().to_vec(), bytes));
        }
        raw.sort();
    } else {
        let data = read_input(&input.path)?;
        if matches!(
            xencov::input::recognise(&data),
            xencov::input::Kind::Gcda(_)
        ) {
            let base = input.path.file_name().unwrap_or(input.path.as_os_str());
            raw.push((base.as_encoded_bytes().to_vec(), data));
        } else {
            let identified =
                identify(&data).map_err(|e| match crate::kind::recognise_named(&data) {
                    Some(what) => anyhow!("{name} is {what}: {}", crate::kind::ACCEPTED),
                    None => anyhow!("{name}: {e}; {}", crate::kind::ACCEPTED),
                })?;
            match identified {
                Identified::Container(_) => {
                    let c = Container::parse(&data).with_context(|| name.clone())?;
                    let units = c
                        .units
                        .iter()
                        .map(|u| {
                            let at = u.payload_offset;
                            (u.path.to_vec(), 0, at..at + u.payload.len())
                        })
                        .collect();
                    return Ok(RawUnits {
                        buffers: vec![data],
                        units,
                    });
                }
                Identified::Legacy(endian) => {
                    let d = LegacyDump::parse(&data).with_context(|| name.clone())?;
                    raw = d
                        .units
                        .iter()
                        .map(|u| (u.path.clone(), u.to_gcda(endian).encode()))
                        .collect();
                }
                Identified::LlvmProfile { .. } => return Err(crate::llvm::not_gcov(&name, &data)),
            }
        }
    }
    let mut out = RawUnits {
        buffers: Vec::with_capacity(raw.len()),
        units: Vec::with_capacity(raw.len()),
    };
    for (i, (key, bytes)) in raw.into_iter().enumerate() {
        out.units.push((key, i, 0..bytes.len()));
        out.buffers.push(bytes);
    }
    Ok(out)
}

/// Units of one input, with their (mapped) gcda paths.
fn read_units<'a>(raw: &'a RawUnits, mapping: &PathMapping) -> Vec<Incoming<'a>> {
    raw.units
        .iter()
        .map(|(key, buffer, range)| {
            let bytes = raw
                .buffers
                .get(*buffer)
                .and_then(|b| b.get(range.clone()))
                .unwrap_or_default();
            Incoming::new(key, bytes, mapping)
        })
        .collect()
}

/// The names of the inputs a unit came from, as messages show them.
fn origin(names: &[String], inputs: &[usize]) -> String {
    inputs
        .iter()
        .filter_map(|&i| names.get(i).map(String::as_str))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A profile error as the command says it, naming the inputs.
fn profile_error(e: ProfileError, names: &[String]) -> anyhow::Error {
    let name = |i: usize| names.get(i).map_or("", String::as_str);
    match e {
        ProfileError::TwoUnits { input, lookup } => anyhow!(
            "{}: two units map to {}",
            name(input),
            String::from_utf8_lossy(&lookup)
        ),
        ProfileError::Decode {
            input,
            lookup,
            error,
        } => anyhow::Error::new(*error).context(format!(
            "{}: {}",
            name(input),
            String::from_utf8_lossy(&lookup)
        )),
        ProfileError::Refused {
            input,
            unit,
            earlier,
            kind,
        } => anyhow!(
            "{}: {} and {} do not merge: {kind}",
            String::from_utf8_lossy(&unit),
            origin(names, &earlier),
            name(input)
        ),
        e => anyhow!("{e}"),
    }
}

/// Reads and merges `inputs` in order (see the module doc) into the
/// library's [`Profile`]: the inputs are read and decoded here, matched and
/// merged there, each unit's step run in parallel; what was resolved under
/// `on_conflict` and what the profile warns about are reported on stderr.
pub fn merge_inputs(
    inputs: &[Input],
    mapping: &PathMapping,
    on_conflict: OnConflict,
    diag: &Diagnostics,
) -> Result<Profile> {
    let bar = ProgressBar::new(inputs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("merging {bar:30} {pos}/{len} inputs, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let names: Vec<String> = inputs
        .iter()
        .map(|i| i.path.display().to_string())
        .collect();
    let mut profile = Profile::new();
    let mut resolved: Vec<String> = Vec::new();
    for (input, name) in inputs.iter().zip(&names) {
        let raw = read_raw(input)?;
        let units = read_units(&raw, mapping);
        let (batch, warning) = profile
            .batch(input.weight, units)
            .map_err(|e| profile_error(e, &names))?;
        match warning {
            Some(InputWarning::Empty) => {
                diag.warn(format!("{name} holds no units (no .gcda file below it)"))?;
            }
            Some(InputWarning::Disjoint { pair }) => {
                diag.warn(disjoint(name, pair.as_ref(), &names))?;
            }
            _ => {}
        }
        let done: Vec<Done> = profile
            .steps(&batch, on_conflict)
            .into_par_iter()
            .map(Step::run)
            .collect();
        for r in profile
            .finish(batch, done)
            .map_err(|e| profile_error(e, &names))?
        {
            let how = match r.conflict.resolution {
                Resolution::Skipped => "skipped the later input's part",
                Resolution::Replaced => "kept the later input's part",
                Resolution::Refused => "refused",
            };
            resolved.push(format!(
                "{}: {} and {name}: {}: {how}",
                String::from_utf8_lossy(&r.unit),
                origin(&names, &r.earlier),
                r.conflict.kind
            ));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if profile.is_empty() {
        bail!(
            "no units in {}: nothing to merge or report (an input is a Xen dump, a .gcda file, \
             or a directory with .gcda files below it)",
            names.join(", ")
        );
    }
    for w in profile.warnings() {
        match w {
            ProfileWarning::MixedVersions(versions) => diag.warn(format!(
                "the merged profile mixes gcov versions (units per version: {versions:?}): its units come \
                 from different compilers"
            ))?,
            ProfileWarning::Saturated(s) => diag.warn(saturated(s, &names))?,
            _ => {}
        }
    }
    if !resolved.is_empty() {
        // Information asked for with --on-conflict, not a warning: printed
        // as a list, never an error under --strict.
        eprintln!(
            "xencov-rs: {} resolved by --on-conflict:",
            count(resolved.len(), "conflict", "conflicts")
        );
        for r in &resolved {
            eprintln!("  {r}");
        }
    }
    Ok(profile)
}

/// Counter sections of the merged profile shown in the saturation warning
/// before "… and N more".
const SATURATED_SHOWN: usize = 50;

/// Names the units and functions whose counts were saturated, where
/// libgcov and gcov-tool wrap them modulo 2^64 without a word
/// (formats/merge.md §14).
fn saturated(sections: &[Saturation], names: &[String]) -> String {
    let name = |i: usize| names.get(i).map_or("", String::as_str);
    let units: std::collections::BTreeSet<String> = sections
        .iter()
        .map(|s| String::from_utf8_lossy(&s.unit).into_owned())
        .collect();
    let mut msg = format!(
        "counts saturated at {MAX_COUNT} (2^63 - 1, the largest count gcov reads) instead of \
         wrapping, in {} ({}); a saturated count is lower than what the runs counted:",
        count(units.len(), "unit", "units"),
        count(sections.len(), "counter section", "counter sections"),
    );
    for s in sections.iter().take(SATURATED_SHOWN) {
        let kind = s.kind;
        let what = match s.function {
            Some(ident) => format!("function ident {ident}, {kind} counters"),
            None if kind == "summary" => "object summary (runs, sum_max at 2^32 - 1)".to_string(),
            None => format!("{kind} counters"),
        };
        // One input named twice on the command line is said once.
        let mut how: Vec<String> = Vec::new();
        for c in &s.causes {
            let said = match *c {
                Cause::Weight { input, weight } => format!("weight {weight} of {}", name(input)),
                Cause::Adding { input } => format!("adding {}", name(input)),
            };
            if !how.contains(&said) {
                how.push(said);
            }
        }
        msg += &format!(
            "\n  {}: {what}: {} ({})",
            String::from_utf8_lossy(&s.unit),
            count(s.values, "value", "values"),
            how.join(", ")
        );
    }
    if sections.len() > SATURATED_SHOWN {
        msg += &format!(
            "\n  ... and {} more",
            count(sections.len() - SATURATED_SHOWN, "section", "sections")
        );
    }
    msg
}

/// Says that no unit of `name` matched one merged before, and how the paths
/// would line up: a dump records absolute build paths, a tree relative ones,
/// so `/build/calc/main.gcda` and `main.gcda` stay two units without a map.
fn disjoint(name: &str, pair: Option<&DisjointPair>, names: &[String]) -> String {
    let mut msg = format!(
        "no unit of {name} matches a unit of the inputs before it, so nothing is summed: \
         the result holds both sets side by side"
    );
    if let Some(p) = pair {
        let earlier = origin(names, &p.earlier_origins);
        msg += &format!(
            "; their paths do not line up: {earlier} has {}, {name} has {}",
            String::from_utf8_lossy(&p.earlier),
            String::from_utf8_lossy(&p.this)
        );
        if let Some((old, new, side)) = &p.hint {
            let whose = match side {
                Side::Earlier => earlier.as_str(),
                Side::This => name,
            };
            msg += &format!(
                " (`--prefix-map {}={}` maps the paths of {whose} onto the others)",
                String::from_utf8_lossy(old),
                String::from_utf8_lossy(new)
            );
        }
    }
    msg
}

pub fn run(args: Args<'_>) -> Result<()> {
    if args.replace && args.to != To::Gcda {
        bail!("--replace is for --to gcda (a dump is always replaced atomically)");
    }
    // Raw LLVM profiles (a clang build) merge into a raw profile.
    if let Some(first) = args.inputs.first()
        && !first.path.is_dir()
        && first.path != Path::new("-")
        && let Ok(bytes) = std::fs::read(&first.path)
        && matches!(
            xencov::input::recognise(&bytes),
            xencov::input::Kind::LlvmRawProfile { .. }
        )
    {
        if args.to == To::Gcda {
            bail!(
                "{} is a raw LLVM profile: it merges into a raw profile, not into gcda files",
                first.path.display()
            );
        }
        return crate::llvm::merge(&args.inputs, args.output);
    }
    if args.to == To::Gcda {
        // Refuse before any work: files of an earlier merge left in the
        // tree would be read by lcov as if they were part of this one.
        check_gcda_target(args.output, args.replace)?;
    }
    let acc = merge_inputs(
        &args.inputs,
        args.mapping,
        args.on_conflict,
        &Diagnostics::new(args.strict),
    )?;
    write(&acc, &args)?;
    eprintln!(
        "xencov-rs: merged {} into {}: {}",
        count(args.inputs.len(), "input", "inputs"),
        count(acc.len(), "unit", "units"),
        args.output.display()
    );
    Ok(())
}

fn write(acc: &Profile, args: &Args<'_>) -> Result<()> {
    let encoded: Vec<(&Vec<u8>, Vec<u8>)> = acc
        .units()
        .par_iter()
        .map(|m| (&m.path, m.gcda.encode()))
        .collect();
    match args.to {
        To::Dump => {
            let endian = acc
                .units()
                .first()
                .map_or(xencov::Endian::NATIVE, |m| m.gcda.header.endian);
            let dump = encode_container(
                endian,
                encoded.iter().map(|(k, b)| (k.as_slice(), b.as_slice())),
            );
            write_atomic(args.output, &dump)
        }
        To::Gcda => write_tree(args.output, &encoded),
    }
}

/// A `--to gcda` target must be missing, an empty directory, or replaced
/// on request.
fn check_gcda_target(out: &Path, replace: bool) -> Result<()> {
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot inspect {}", out.display())),
        Ok(m) if !m.is_dir() => bail!("{} exists and is not a directory", out.display()),
        Ok(_) => {
            let mut entries =
                std::fs::read_dir(out).with_context(|| format!("cannot list {}", out.display()))?;
            if entries.next().is_some() && !replace {
                let gcda = crate::output::files_with_extension(out, &["gcda"])?.len();
                bail!(
                    "{} is not empty ({gcda} .gcda files below it): files left from an earlier merge \
                     would be read with the new ones; pass --replace to replace the directory, or \
                     name a new one",
                    out.display()
                );
            }
            Ok(())
        }
    }
}

/// Writes the tree into a temporary directory beside `out` and puts it in
/// place with one rename (an exchange with the old tree when there is one,
/// which is then removed), so a reader or a crash sees the old tree or the
/// new one, never a mixture.
fn write_tree(out: &Path, encoded: &[(&Vec<u8>, Vec<u8>)]) -> Result<()> {
    let old = std::fs::metadata(out).ok();
    // 0777 less the umask for a new tree, as mkdir gives; the old mode kept.
    let tmp = crate::output::temp_dir_beside(out, ".xencov-")?;
    if let Some(m) = &old {
        std::fs::set_permissions(tmp.path(), m.permissions())
            .with_context(|| format!("cannot set the mode of {}", tmp.path().display()))?;
    }
    let plain = PathMapping::default();
    let mut targets = Vec::with_capacity(encoded.len());
    for (key, _) in encoded {
        let (rel, _) = plain.relative(key).map_err(|e| anyhow!("{e}"))?;
        targets.push(path_within(tmp.path(), &rel)?);
    }
    targets
        .par_iter()
        .zip(encoded.par_iter())
        .try_for_each(|(path, (_, bytes))| write_atomic(path, bytes))?;
    let replaced = match old {
        None => std::fs::rename(tmp.path(), out).map(|()| false),
        Some(_) => exchange(tmp.path(), out).map(|()| true),
    }
    .with_context(|| format!("cannot move the new tree into place at {}", out.display()))?;
    if replaced {
        // The old tree now sits at the temporary name; dropping `tmp` removes it.
        drop(tmp);
    } else {
        // Renamed away: nothing left to remove.
        let _ = tmp.keep();
    }
    Ok(())
}

/// Swaps two directories atomically (renameat2 RENAME_EXCHANGE); where the
/// filesystem cannot, moves the old one aside first (a short window in which
/// `b` does not exist, but never holds a mixture).
pub(crate) fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let e = match xencov_sys::rename_exchange(a, b) {
        Ok(()) => return Ok(()),
        Err(e) => e,
    };
    if !matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) {
        return Err(e);
    }
    let aside = a.with_extension("old");
    std::fs::rename(b, &aside)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&aside, a)
}
