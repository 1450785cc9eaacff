//! `xencov-rs merge`: many runs into one profile. Inputs are read one at a
//! time (a dump, a .gcda, or a tree of them), decoded in parallel, and
//! merged into the accumulated profile unit by unit in parallel, so memory
//! stays near one input plus the result.

use crate::diag::Diagnostics;
use crate::output::{path_within, read_input, write_atomic};
use anyhow::{Context, Result, anyhow, bail};
use indexmap::IndexMap;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use xencov::analysis::merge::fast::{Fast, add_in_place};
use xencov::analysis::merge::{
    ConflictKind, MAX_COUNT, OnConflict, Overflow, Resolution, merge_unit, scale,
};
use xencov::gcov::gcda::Gcda;
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

/// A unit of the merged profile and the inputs it came from.
pub struct Merged {
    /// The unit's path as first seen (after --prefix-map): a dump records it.
    pub path: Vec<u8>,
    /// The object path it stands for: a `-fprofile-dir` name unmangled, then
    /// --prefix-map applied. Units are matched, and notes found, by it.
    pub lookup: Vec<u8>,
    /// The same before --prefix-map (for hints about a mapping that works).
    pub source: Vec<u8>,
    pub gcda: Gcda,
    pub origin: String,
}

/// One unit as read from an input (see [`Merged`] for the paths), its
/// bytes borrowed from the input's [`RawUnits`]: a unit that lines up with
/// the merged profile is added from them without being decoded.
struct ReadUnit<'a> {
    path: Vec<u8>,
    lookup: Vec<u8>,
    source: Vec<u8>,
    bytes: &'a [u8],
}

/// The gcda images of one input: whole files, or ranges of a dump.
struct RawUnits {
    buffers: Vec<Vec<u8>>,
    /// (gcda path, buffer, byte range in it)
    units: Vec<(Vec<u8>, usize, std::ops::Range<usize>)>,
}

/// Units match by path made of its normal components, so `/main.gcda` (a
/// dump path mapped to the root) and `main.gcda` (a tree) are one unit.
fn match_key(path: &[u8]) -> Vec<u8> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect::<Vec<_>>()
        .join(&b'/')
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
fn read_units<'a>(raw: &'a RawUnits, mapping: &PathMapping) -> Vec<ReadUnit<'a>> {
    raw.units
        .iter()
        .map(|(key, buffer, range)| {
            let source = xencov::paths::unmangle_profile_name(key).unwrap_or_else(|| key.clone());
            ReadUnit {
                path: mapping.rewrite(key).0,
                lookup: mapping.rewrite(&source).0,
                source,
                bytes: raw
                    .buffers
                    .get(*buffer)
                    .and_then(|b| b.get(range.clone()))
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// A unit decoded and scaled by its input's weight, with the values the
/// weight took past the largest count (saturated).
fn decode_unit(u: &ReadUnit<'_>, name: &str, weight: u64) -> Result<(Gcda, Vec<Overflow>)> {
    let shown = String::from_utf8_lossy(&u.lookup);
    let mut g = Gcda::decode(u.bytes).with_context(|| format!("{name}: {shown}"))?;
    let scaled_over = scale(&mut g, weight);
    Ok((g, scaled_over))
}

/// Reads and merges `inputs` in order (see the module doc): the merged
/// units by match key, with what was resolved under `on_conflict` reported
/// on stderr and the quiet version check of `check` applied.
pub fn merge_inputs(
    inputs: &[Input],
    mapping: &PathMapping,
    on_conflict: OnConflict,
    diag: &Diagnostics,
) -> Result<IndexMap<Vec<u8>, Merged>> {
    let bar = ProgressBar::new(inputs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("merging {bar:30} {pos}/{len} inputs, {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut acc: IndexMap<Vec<u8>, Merged> = IndexMap::new();
    let mut resolved: Vec<String> = Vec::new();
    let mut saturated = Saturated::default();
    for input in inputs {
        let name = input.path.display().to_string();
        let raw = read_raw(input)?;
        let units = read_units(&raw, mapping);
        let mut incoming: IndexMap<Vec<u8>, ReadUnit> = IndexMap::with_capacity(units.len());
        for u in units {
            let shown = String::from_utf8_lossy(&u.lookup).into_owned();
            if incoming.insert(match_key(&u.lookup), u).is_some() {
                bail!("{name}: two units map to {shown}");
            }
        }
        if incoming.is_empty() {
            diag.warn(format!("{name} holds no units (no .gcda file below it)"))?;
        } else if !acc.is_empty() && !incoming.keys().any(|k| acc.contains_key(k)) {
            diag.warn(disjoint(&name, &acc, &incoming))?;
        }
        type Notes = (Vec<String>, Vec<(String, Overflow)>);
        // The common case first: a unit of weight 1 that lines up with the
        // merged one is added in place from its bytes (merge::fast).
        let mut outcomes: Vec<(usize, Result<Notes>)> = Vec::new();
        let mut decode = vec![true; incoming.len()];
        if input.weight == 1 {
            let fast: Vec<(usize, usize, Vec<Overflow>)> = acc
                .par_iter_mut()
                .enumerate()
                .filter_map(|(i, (key, m))| {
                    let (at, _, u) = incoming.get_full(key)?;
                    match add_in_place(&mut m.gcda, u.bytes) {
                        Fast::Merged(over) => {
                            m.origin.push_str(" + ");
                            m.origin.push_str(&name);
                            Some((i, at, over))
                        }
                        Fast::Declined => None,
                    }
                })
                .collect();
            for (i, at, over) in fast {
                if let Some(d) = decode.get_mut(at) {
                    *d = false;
                }
                let unit = acc.get_index(i).map(|(k, _)| String::from_utf8_lossy(k));
                let unit = unit.unwrap_or_default().into_owned();
                let over = over.into_iter().map(|o| (unit.clone(), o)).collect();
                outcomes.push((i, Ok((Vec::new(), over))));
            }
        }
        // Everything else is decoded (in parallel), as before.
        let decoded: Vec<Option<(Gcda, Vec<Overflow>)>> = incoming
            .par_values()
            .zip(decode.par_iter())
            .map(|(u, &needed)| {
                needed
                    .then(|| decode_unit(u, &name, input.weight))
                    .transpose()
            })
            .collect::<Result<_>>()?;
        let mut decoded: Vec<Option<(Gcda, Vec<Overflow>)>> = decoded;
        for (d, u) in decoded.iter_mut().zip(incoming.values()) {
            if let Some((_, scaled_over)) = d {
                let unit = String::from_utf8_lossy(&u.lookup).into_owned();
                let how = format!("weight {} of {name}", input.weight);
                for o in scaled_over.drain(..) {
                    saturated.add(&unit, o, &how);
                }
            }
        }
        let slow: Vec<(usize, Result<Notes>)> = acc
            .par_iter_mut()
            .enumerate()
            .filter_map(|(i, (key, m))| {
                let at = incoming.get_index_of(key)?;
                let (g, _) = decoded.get(at)?.as_ref()?;
                Some((i, key, m, g))
            })
            .map(|(i, key, m, g)| {
                let unit = String::from_utf8_lossy(key);
                let outcome = merge_unit(&mut m.gcda, g, on_conflict).map_err(|kind| {
                    anyhow!("{unit}: {} and {name} do not merge: {kind}", m.origin)
                });
                let outcome = match outcome {
                    Ok(o) => o,
                    Err(e) => return (i, Err(e)),
                };
                let conflicts = outcome.conflicts;
                let over: Vec<(String, Overflow)> = outcome
                    .overflows
                    .into_iter()
                    .map(|o| (unit.to_string(), o))
                    .collect();
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
                if replaced_unit {
                    m.origin = name.clone();
                } else {
                    m.origin.push_str(" + ");
                    m.origin.push_str(&name);
                }
                (i, Ok((notes, over)))
            })
            .collect();
        // In the merged profile's order, as before the fast road existed.
        outcomes.extend(slow);
        outcomes.sort_by_key(|(i, _)| *i);
        for (_, o) in outcomes {
            let (notes, over) = o?;
            resolved.extend(notes);
            for (unit, o) in over {
                saturated.add(&unit, o, &format!("adding {name}"));
            }
        }
        for ((key, u), d) in incoming.into_iter().zip(decoded) {
            if acc.contains_key(&key) {
                continue;
            }
            let Some((gcda, _)) = d else {
                continue; // cannot happen: every new unit was decoded
            };
            acc.insert(
                key,
                Merged {
                    path: u.path,
                    lookup: u.lookup,
                    source: u.source,
                    gcda,
                    origin: name.clone(),
                },
            );
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if acc.is_empty() {
        let names: Vec<String> = inputs
            .iter()
            .map(|i| i.path.display().to_string())
            .collect();
        bail!(
            "no units in {}: nothing to merge or report (an input is a Xen dump, a .gcda file, \
             or a directory with .gcda files below it)",
            names.join(", ")
        );
    }

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
        diag.warn(msg)?;
    }
    if !saturated.0.is_empty() {
        diag.warn(saturated.message())?;
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

/// Counter sections of the merged profile shown in the saturation warning
/// before "… and N more".
const SATURATED_SHOWN: usize = 50;

/// The counts a weight or a merge saturated, by (unit, function, kind): the
/// most values saturated in one step, and the steps that did it.
#[derive(Default)]
struct Saturated(IndexMap<Section, (usize, Vec<String>)>);

/// A counter section: unit, function ident (none for the summary), kind.
type Section = (String, Option<u32>, &'static str);

impl Saturated {
    fn add(&mut self, unit: &str, o: Overflow, how: &str) {
        let e = self
            .0
            .entry((unit.to_string(), o.function, o.kind))
            .or_default();
        e.0 = e.0.max(o.values);
        if !e.1.iter().any(|h| h == how) {
            e.1.push(how.to_string());
        }
    }

    /// Names the units and functions whose counts were saturated, where
    /// libgcov and gcov-tool wrap them modulo 2^64 without a word
    /// (formats/merge.md §14).
    fn message(&self) -> String {
        let units: std::collections::BTreeSet<&str> =
            self.0.keys().map(|(u, _, _)| u.as_str()).collect();
        let mut msg = format!(
            "counts saturated at {MAX_COUNT} (2^63 - 1, the largest count gcov reads) instead of \
             wrapping, in {} ({}); a saturated count is lower than what the runs counted:",
            count(units.len(), "unit", "units"),
            count(self.0.len(), "counter section", "counter sections"),
        );
        for ((unit, function, kind), (values, how)) in self.0.iter().take(SATURATED_SHOWN) {
            let what = match function {
                Some(ident) => format!("function ident {ident}, {kind} counters"),
                None if *kind == "summary" => {
                    "object summary (runs, sum_max at 2^32 - 1)".to_string()
                }
                None => format!("{kind} counters"),
            };
            msg += &format!(
                "\n  {unit}: {what}: {} ({})",
                count(*values, "value", "values"),
                how.join(", ")
            );
        }
        if self.0.len() > SATURATED_SHOWN {
            msg += &format!(
                "\n  ... and {} more",
                count(self.0.len() - SATURATED_SHOWN, "section", "sections")
            );
        }
        msg
    }
}

/// Says that no unit of `name` matched one merged before, and how the paths
/// would line up: a dump records absolute build paths, a tree relative ones,
/// so `/build/calc/main.gcda` and `main.gcda` stay two units without a map.
fn disjoint(
    name: &str,
    acc: &IndexMap<Vec<u8>, Merged>,
    incoming: &IndexMap<Vec<u8>, ReadUnit>,
) -> String {
    let base = |p: &[u8]| p.rsplit(|&b| b == b'/').next().map(<[u8]>::to_vec);
    let pair = incoming.values().find_map(|u| {
        let b = base(&u.lookup);
        acc.values().find(|m| base(&m.lookup) == b).map(|m| (m, u))
    });
    let mut msg = format!(
        "no unit of {name} matches a unit of the inputs before it, so nothing is summed: \
         the result holds both sets side by side"
    );
    if let Some((m, u)) = pair {
        let (a, b) = (
            String::from_utf8_lossy(&m.lookup),
            String::from_utf8_lossy(&u.lookup),
        );
        msg += &format!(
            "; their paths do not line up: {} has {a}, {name} has {b}",
            m.origin
        );
        let hint = xencov::paths::suggest_prefix_map(&m.source, &u.lookup)
            .map(|map| (map, m.origin.as_str()))
            .or_else(|| {
                xencov::paths::suggest_prefix_map(&u.source, &m.lookup).map(|map| (map, name))
            });
        if let Some(((old, new), whose)) = hint {
            msg += &format!(
                " (`--prefix-map {}={}` maps the paths of {whose} onto the others)",
                String::from_utf8_lossy(&old),
                String::from_utf8_lossy(&new)
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
    use std::os::unix::fs::PermissionsExt;
    let parent = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    let old = std::fs::metadata(out).ok();
    // 0777 less the umask for a new tree, as mkdir gives; the old mode kept.
    let tmp = tempfile::Builder::new()
        .prefix(".xencov-")
        .permissions(std::fs::Permissions::from_mode(0o777))
        .tempdir_in(parent)
        .with_context(|| {
            format!(
                "cannot create a temporary directory in {}",
                parent.display()
            )
        })?;
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
