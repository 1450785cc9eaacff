//! `xencov-rs merge`: many runs into one profile. Inputs are read one at a
//! time (a dump, a .gcda, or a tree of them), decoded in parallel, and
//! merged into the accumulated profile unit by unit in parallel, so memory
//! stays near one input plus the result. A dump that repeats the one before
//! (the next run of one build) is read a piece at a time by each thread and
//! added while the piece is in the core's cache ([`add_repeat`]).

use crate::diag::Diagnostics;
use crate::output::{path_within, read_input_into, write_atomic, write_atomic_with};
use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use xencov::analysis::merge::profile::{
    Added, Cause, DisjointPair, Done, Incoming, InputWarning, Profile, ProfileError,
    ProfileWarning, Saturation, Side, Step,
};
use xencov::analysis::merge::{MAX_COUNT, OnConflict, Resolution};
use xencov::paths::PathMapping;
use xencov::plural::count;
use xencov::xen::dump::{Container, ContainerWriter, Identified, LegacyDump, identify};

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

/// The gcda images of one input: ranges of one buffer (a dump, a .gcda
/// file, or the files of a tree read one after the other).
struct RawUnits {
    buffer: Vec<u8>,
    /// (gcda path, byte range in the buffer)
    units: Vec<(Vec<u8>, std::ops::Range<usize>)>,
    /// A container read from a file: the buffer is the file, the ranges
    /// are its payloads in order, and what lies between them its framing.
    container: bool,
}

impl RawUnits {
    /// The buffer, for the next input: its pages are kept, so reading
    /// the next input faults no new ones in.
    fn into_buffer(self) -> Vec<u8> {
        self.buffer
    }
}

/// The gcda images of one input, in the order of their paths for a tree,
/// of the dump otherwise, read into `buffer` (pass the one of the input
/// before, see [`RawUnits::into_buffer`]). A dump's payloads are not copied.
fn read_raw(input: &Input, mut buffer: Vec<u8>) -> Result<RawUnits> {
    let name = input.path.display().to_string();
    if input.path.is_dir() {
        buffer.clear();
        let mut units = Vec::new();
        for p in crate::output::files_with_extension(&input.path, &["gcda"])? {
            let rel = p.strip_prefix(&input.path).unwrap_or(&p);
            let at = buffer.len();
            crate::output::read_file_into(&p, &mut buffer)?;
            units.push((
                rel.as_os_str().as_encoded_bytes().to_vec(),
                at..buffer.len(),
            ));
        }
        // By the bytes of the relative path (the file list is sorted by
        // path components, which may order otherwise).
        units.sort_by(|a, b| a.0.cmp(&b.0));
        return Ok(RawUnits {
            buffer,
            units,
            container: false,
        });
    }
    let stdin = input.path == Path::new("-");
    if stdin {
        read_input_into(&input.path, &mut buffer)?;
    } else {
        read_file_parallel(&input.path, &mut buffer)?;
    }
    let data = buffer.as_slice();
    let mut container = false;
    let units = if matches!(xencov::input::recognise(data), xencov::input::Kind::Gcda(_)) {
        let base = input.path.file_name().unwrap_or(input.path.as_os_str());
        vec![(base.as_encoded_bytes().to_vec(), 0..data.len())]
    } else {
        let identified = identify(data).map_err(|e| match crate::kind::recognise_named(data) {
            Some(what) => anyhow!("{name} is {what}: {}", crate::kind::ACCEPTED),
            None => anyhow!("{name}: {e}; {}", crate::kind::ACCEPTED),
        })?;
        match identified {
            Identified::Container(_) => {
                let c = Container::parse(data).with_context(|| name.clone())?;
                container = !stdin;
                c.units
                    .iter()
                    .map(|u| {
                        let at = u.payload_offset;
                        (u.path.to_vec(), at..at + u.payload.len())
                    })
                    .collect()
            }
            Identified::Legacy(endian) => {
                let d = LegacyDump::parse(data).with_context(|| name.clone())?;
                let encoded: Vec<(Vec<u8>, Vec<u8>)> = d
                    .units
                    .iter()
                    .map(|u| (u.path.clone(), u.to_gcda(endian).encode()))
                    .collect();
                buffer.clear();
                let mut units = Vec::with_capacity(encoded.len());
                for (path, bytes) in encoded {
                    let at = buffer.len();
                    buffer.extend_from_slice(&bytes);
                    units.push((path, at..buffer.len()));
                }
                units
            }
            Identified::LlvmProfile { .. } => return Err(crate::llvm::not_gcov(&name, data)),
        }
    };
    Ok(RawUnits {
        buffer,
        units,
        container,
    })
}

/// Where the units of a dump lie, to read the next dump of the same
/// build piece by piece (see [`add_repeat`]): a hypervisor's dumps of one
/// build are byte for byte alike but for the counts.
struct Places {
    /// The file's length.
    len: u64,
    /// The container's framing: its magic word and every unit's path and
    /// size, in order (the bytes between the payloads).
    framing: Vec<u8>,
    /// Per unit: its payload's range in the file, and where its framing
    /// (the bytes before the payload, from the end of the one before)
    /// starts in `framing`.
    units: Vec<(std::ops::Range<usize>, usize)>,
    /// Runs of whole units of about [`PIECE`] bytes: the units' indices
    /// and the bytes they span, the framing before each included.
    pieces: Vec<(std::ops::Range<usize>, std::ops::Range<usize>)>,
}

/// The bytes read at a time by each thread of [`add_repeat`]: small enough
/// that a piece stays in the core's cache (L2) from the read to the add,
/// large enough that reads are few.
const PIECE: usize = 256 << 10;

impl Places {
    /// The places of a container read whole (`None` for any other input).
    fn of(raw: &RawUnits) -> Option<Places> {
        if !raw.container {
            return None;
        }
        let mut framing = Vec::new();
        let mut units = Vec::with_capacity(raw.units.len());
        let mut pieces = Vec::new();
        let (mut from, mut piece) = (0, (0, 0));
        for (i, (_, range)) in raw.units.iter().enumerate() {
            units.push((range.clone(), framing.len()));
            framing.extend_from_slice(raw.buffer.get(from..range.start)?);
            from = range.end;
            if from - piece.1 >= PIECE {
                pieces.push((piece.0..i + 1, piece.1..from));
                piece = (i + 1, from);
            }
        }
        if from != raw.buffer.len() {
            return None;
        }
        if piece.0 < units.len() {
            pieces.push((piece.0..units.len(), piece.1..from));
        }
        Some(Places {
            len: from as u64,
            framing,
            units,
            pieces,
        })
    }

    /// Whether `bytes`, read from `at` in a file, hold the framing of the
    /// units `units` (their payloads between).
    fn framing_matches(&self, units: std::ops::Range<usize>, bytes: &[u8], at: usize) -> bool {
        units.into_iter().all(|i| {
            let Some(((payload, f), next)) = self.units.get(i).map(|u| (u, self.units.get(i + 1)))
            else {
                return false;
            };
            let start = match i.checked_sub(1).and_then(|j| self.units.get(j)) {
                Some((before, _)) => before.end,
                None => 0,
            };
            let end = next.map_or(self.framing.len(), |n| n.1);
            let (Some(want), Some(got)) = (
                self.framing.get(*f..end),
                bytes.get(start.wrapping_sub(at)..payload.start.wrapping_sub(at)),
            ) else {
                return false;
            };
            want == got
        })
    }
}

/// Turns of a busy wait of [`add_repeat`] before it yields (a few
/// microseconds: a piece is read and checked in about 50).
const SPINS: u32 = 4096;

/// What [`add_repeat`] did with an input.
enum Repeat {
    /// Not tried (another size, not a regular file, a unit not kept as
    /// an image, ...): read the input whole.
    No,
    /// Added, all of it.
    Done,
    /// Added in part: read the input whole and add the rest.
    Partly(Added),
}

/// Adds an input that repeats the last one (a dump of the file size of the
/// one before, whose units the profile keeps as images) while it is read:
/// every thread reads a piece of whole units at a time into its own small
/// buffer (`pieces`, kept from input to input), checks that its framing is
/// the one before's and adds each unit into its image while the piece is
/// still in the core's cache. Read whole, a dump is copied into a buffer
/// larger than that cache and read back from memory by the adds.
///
/// A piece's units are added only once every piece before it has been
/// found to be of the same framing, so the units added are always a run
/// of the dump's first units laid out as before, whatever follows them
/// (a dump of another layout is read whole from where it differs, and its
/// first units are not added again). A unit whose image declines it
/// (another stamp, a count that saturates) is left to the whole read, too.
fn add_repeat(
    input: &Input,
    places: &Places,
    profile: &mut Profile,
    pieces: &mut Vec<Vec<u8>>,
    whole: &mut Vec<u8>,
) -> Repeat {
    use std::os::unix::fs::FileExt;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    if input.weight != 1 || input.path == Path::new("-") {
        return Repeat::No;
    }
    let Ok(file) = std::fs::File::open(&input.path) else {
        return Repeat::No;
    };
    match file.metadata() {
        Ok(m) if m.is_file() && m.len() == places.len => {}
        _ => return Repeat::No,
    }
    let Some(mut images) = profile.repeat() else {
        return Repeat::No;
    };
    if images.len() != places.units.len() {
        return Repeat::No;
    }
    // The buffer of the whole reads is not needed while dumps repeat (and
    // is made again for one that does not): its pages, a dump's worth,
    // go back before the pieces' are taken.
    *whole = Vec::new();
    // Each piece's images, taken by the thread that reads it.
    let mut by_piece = Vec::with_capacity(places.pieces.len());
    for (units, _) in places.pieces.iter().rev() {
        by_piece.push(Mutex::new(images.split_off(units.start)));
    }
    by_piece.reverse();
    let added: Vec<AtomicBool> = places
        .units
        .iter()
        .map(|_| AtomicBool::new(false))
        .collect();
    let (next, checked, failed) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicBool::new(false),
    );
    pieces.resize_with(rayon::current_num_threads().max(1), Vec::new);
    pieces.par_iter_mut().for_each(|buffer| {
        loop {
            let p = next.fetch_add(1, Ordering::Relaxed);
            let Some((units, bytes)) = places.pieces.get(p) else {
                return;
            };
            if buffer.len() < bytes.len() {
                buffer.resize(bytes.len(), 0);
            }
            let Some(piece) = buffer.get_mut(..bytes.len()) else {
                return;
            };
            let ok = file.read_exact_at(piece, bytes.start as u64).is_ok()
                && places.framing_matches(units.clone(), piece, bytes.start);
            // In order: the pieces before are taken by running threads,
            // which check theirs without waiting for this one. Spun for
            // a while (the other thread is a read behind at most), then
            // the core given up: on a loaded machine that thread may be
            // waiting for it.
            let mut spins = 0u32;
            while checked.load(Ordering::Acquire) != p {
                if failed.load(Ordering::Acquire) {
                    return;
                }
                if spins < SPINS {
                    spins += 1;
                    std::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            if !ok {
                failed.store(true, Ordering::Release);
                return;
            }
            checked.store(p + 1, Ordering::Release);
            let Some(mut images) = by_piece.get(p).and_then(|m| m.lock().ok()) else {
                return;
            };
            for (i, image) in units.clone().zip(images.iter_mut()) {
                if let (Some((payload, _)), Some(flag)) = (places.units.get(i), added.get(i))
                    && let Some(src) =
                        piece.get(payload.start - bytes.start..payload.end - bytes.start)
                {
                    flag.store(image.add_exact(src), Ordering::Relaxed);
                }
            }
        }
    });
    drop(by_piece);
    let added: Vec<bool> = added.into_iter().map(AtomicBool::into_inner).collect();
    match profile.repeated(&added) {
        None => Repeat::Done,
        Some(a) => Repeat::Partly(a),
    }
}

/// Files from this size on are read by every thread at once.
const PARALLEL_READ: u64 = 1 << 20;

/// Reads the whole file at `path` into `buffer` (its old bytes replaced).
/// A large file is read in as many pieces as there are threads, each piece
/// by its own thread (positioned reads into disjoint parts of the buffer):
/// the copy from the page cache, as much of a merge's time as the adding,
/// is then shared by the cores. The buffer is zero-filled only where it
/// grows (inputs of one size are read over each other); a file that grows
/// while it is read is read again whole, one that shrinks is an error, as
/// any short read is.
fn read_file_parallel(path: &Path, buffer: &mut Vec<u8>) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let cannot = || format!("cannot read {}", path.display());
    let file = std::fs::File::open(path).with_context(cannot)?;
    let meta = file.metadata().with_context(cannot)?;
    let len = meta.len();
    let threads = rayon::current_num_threads();
    if len < PARALLEL_READ || threads < 2 || !meta.is_file() {
        // From the file opened above: a FIFO opened again would wait for
        // a writer that has already gone.
        buffer.clear();
        return std::io::Read::read_to_end(&mut &file, buffer)
            .map(drop)
            .with_context(cannot);
    }
    let size = usize::try_from(len).with_context(cannot)?;
    if buffer.len() < size {
        buffer.resize(size, 0);
    } else {
        buffer.truncate(size);
    }
    let piece = size.div_ceil(threads);
    buffer
        .par_chunks_mut(piece)
        .enumerate()
        .try_for_each(|(i, chunk)| file.read_exact_at(chunk, (i * piece) as u64))
        .with_context(cannot)?;
    // Grown since its size was taken: what a whole read gives.
    let mut probe = [0u8; 1];
    if file.read_at(&mut probe, len).with_context(cannot)? != 0 {
        buffer.clear();
        return crate::output::read_file_into(path, buffer);
    }
    Ok(())
}

/// Units of one input, with their (mapped) gcda paths. `known` holds the
/// units of the inputs before, by place (recorded path, the unit with its
/// paths worked out): runs of one build record the same paths in the same
/// order, and a unit recorded as the one at its place before shares its
/// paths (see [`Incoming::again`]); the others are worked out and kept.
fn read_units<'a>(
    raw: &'a RawUnits,
    mapping: &PathMapping,
    known: &mut Vec<(Vec<u8>, Incoming<'static>)>,
) -> Vec<Incoming<'a>> {
    let mut units = Vec::with_capacity(raw.units.len());
    for (i, (key, range)) in raw.units.iter().enumerate() {
        let bytes = raw.buffer.get(range.clone()).unwrap_or_default();
        match known.get_mut(i) {
            Some((k, u)) if k == key => units.push(u.again(bytes)),
            slot => {
                let u = Incoming::new(key, &[], mapping);
                units.push(u.again(bytes));
                match slot {
                    Some(slot) => *slot = (key.clone(), u),
                    None => known.push((key.clone(), u)),
                }
            }
        }
    }
    units
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
        ProfileError::Changed { input } => anyhow!(
            "{}: changed while it was read (its units are not the ones read first)",
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
    let mut buffer = Vec::new();
    let mut known = Vec::new();
    let mut places = None;
    let mut pieces = Vec::new();
    for (input, name) in inputs.iter().zip(&names) {
        let added = match places
            .as_ref()
            .map(|p| add_repeat(input, p, &mut profile, &mut pieces, &mut buffer))
        {
            Some(Repeat::Done) => {
                bar.inc(1);
                continue;
            }
            Some(Repeat::Partly(added)) => Some(added),
            Some(Repeat::No) | None => None,
        };
        let raw = read_raw(input, buffer)?;
        let units = read_units(&raw, mapping, &mut known);
        let (batch, warning) = match added {
            Some(added) => profile.batch_after(input.weight, units, added),
            None => profile.batch(input.weight, units),
        }
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
        places = Places::of(&raw);
        buffer = raw.into_buffer();
        bar.inc(1);
    }
    drop(buffer);
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
        && first.path != Path::new("-")
        && let Some(bytes) = head(&first.path)
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

/// The first bytes of a regular file at `path`: enough for
/// [`xencov::input::recognise`] to tell a raw LLVM profile (its magic and
/// version words). Not the whole file (a dump read twice), and nothing
/// from a FIFO or device, whose bytes a peek would take from the merge.
fn head(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    // Looked at before it is opened: opening a FIFO waits for its writer,
    // and closing it again loses what the writer had put in the pipe.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::with_capacity(16);
    file.take(16).read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Units encoded at a time when writing: enough to keep both cores busy,
/// few enough that the encoded units are a small part of the memory.
const ENCODE_CHUNK: usize = 64;

fn write(acc: &Profile, args: &Args<'_>) -> Result<()> {
    match args.to {
        To::Dump => {
            let endian = acc
                .units()
                .first()
                .map_or(xencov::Endian::NATIVE, |m| m.header().endian);
            // Streamed into the temporary file a chunk of units at a time:
            // the dump is never built whole in memory.
            write_atomic_with(args.output, |w| {
                let mut dump = ContainerWriter::new(w, endian)?;
                for chunk in acc.units().chunks(ENCODE_CHUNK) {
                    let encoded: Vec<Cow<'_, [u8]>> =
                        chunk.par_iter().map(|m| m.encoded()).collect();
                    for (m, bytes) in chunk.iter().zip(&encoded) {
                        dump.unit(&m.path, bytes)?;
                    }
                }
                Ok(())
            })
        }
        To::Gcda => {
            let encoded: Vec<(&[u8], Vec<u8>)> = acc
                .units()
                .par_iter()
                .map(|m| (&m.path[..], m.encoded().into_owned()))
                .collect();
            write_tree(args.output, &encoded)
        }
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
fn write_tree(out: &Path, encoded: &[(&[u8], Vec<u8>)]) -> Result<()> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A unit recorded as the one at its place in the input before shares
    /// its paths; any other is worked out anew: inputs whose paths repeat,
    /// move, change and grow in number give, unit for unit, what
    /// `Incoming::new` gives (mapped, unmangled), and the shared paths are
    /// the ones kept.
    #[test]
    fn units_share_the_paths_of_the_same_unit_before() {
        let mapping = PathMapping {
            prefix_maps: vec![(b"/build".to_vec(), b"/src".to_vec())],
            ..PathMapping::default()
        };
        let raw = |paths: &[&str]| RawUnits {
            buffer: (0..paths.len() as u8).collect(),
            units: paths
                .iter()
                .enumerate()
                .map(|(i, p)| (p.as_bytes().to_vec(), i..i + 1))
                .collect(),
            container: false,
        };
        let inputs = [
            raw(&["/build/a.gcda", "/build/b.gcda"]),
            raw(&["/build/a.gcda", "/build/b.gcda"]),
            raw(&["/build/b.gcda", "/build/a.gcda", "/p/#build#c.gcda"]),
            raw(&["/build/b.gcda", "/build/a.gcda", "/p/#build#c.gcda"]),
            raw(&["/build/b.gcda"]),
        ];
        let mut known = Vec::new();
        let mut shared = 0;
        for (n, input) in inputs.iter().enumerate() {
            let before: Vec<_> = known
                .iter()
                .map(|(_, u): &(_, Incoming)| u.clone())
                .collect();
            let got = read_units(input, &mapping, &mut known);
            assert_eq!(got.len(), input.units.len());
            for (i, (u, (key, range))) in got.iter().zip(&input.units).enumerate() {
                let want = Incoming::new(key, &input.buffer[range.clone()], &mapping);
                assert_eq!(
                    (&u.path, &u.lookup, &u.source, u.bytes),
                    (&want.path, &want.lookup, &want.source, want.bytes),
                    "input {n} unit {i}"
                );
                if before
                    .get(i)
                    .is_some_and(|b| Arc::ptr_eq(&b.lookup, &u.lookup))
                {
                    shared += 1;
                }
            }
        }
        assert_eq!(inputs[2].units.len(), known.len(), "the places seen, kept");
        // Input 1 shares both of input 0's, input 3 the three of input 2,
        // input 4 the first of input 3; input 2 none (moved).
        assert_eq!(shared, 6);
        assert_eq!(
            &*known[2].1.lookup,
            b"/src/c.gcda".as_slice(),
            "unmangled, then mapped"
        );
    }
}
