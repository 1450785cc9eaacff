//! `xencov-rs lcov` and `xencov-rs report`: coverage computed natively from
//! the notes files of a build tree and the (merged) counters — no gcov.

use crate::diag::Diagnostics;
use crate::merge::{Input, merge_inputs};
use crate::output::write_report_with;
use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::ExitCode;
use xencov::analysis::coverage::{
    Counted, FunctionCoverage, Join, LineCoverage, UnitCoverage, count_owned, count_owned_in,
};
use xencov::analysis::merge::OnConflict;
use xencov::analysis::merge::profile::Unit as Merged;
use xencov::analysis::notes::Mismatch;
use xencov::gcov::gcno::Gcno;
use xencov::paths::PathMapping;
use xencov::plural::count;
use xencov::report::lcov::Tracefile;
use xencov::report::select::{Metric, Selection};

pub struct Args<'a> {
    pub inputs: &'a [Input],
    pub gcno_dir: &'a Path,
    pub output: Option<&'a Path>,
    pub mapping: &'a PathMapping,
    pub on_conflict: OnConflict,
    /// The command's one reporter of warnings (it applies --strict).
    pub diag: &'a Diagnostics,
    /// Which source files to keep (--include, --exclude, --root).
    pub selection: &'a Selection,
    /// --fail-under-*: checked on the totals of what was written.
    pub thresholds: &'a [(Metric, f64)],
    /// --source-root: where the sources of the data are read (exclusion
    /// markers, the HTML report) when they are no longer where the notes say.
    pub source_root: Option<&'a Path>,
    /// --object: the inputs are raw LLVM profiles of this clang-built ELF.
    pub object: Option<&'a Path>,
    /// The exclusion markers to apply; `None` with --no-markers.
    pub markers: Option<&'a xencov::analysis::exclude::Markers>,
}

/// The exit status when the report was written but a --fail-under-*
/// threshold was missed. Not 1 (bad input, any error) and not 2 (clap's
/// usage errors, `check`'s verdict): CI can tell "coverage dropped" from
/// "the job is broken". gcovr's bitmask (2 line, 4 branch, 16 function)
/// cannot be taken over without colliding with 2; the lines on standard
/// error say which thresholds failed.
pub const EXIT_BELOW_THRESHOLD: u8 = 3;

/// One unit's coverage and where its data came from.
pub struct Unit {
    pub path: String,
    pub version: xencov::gcov::version::Version,
    pub coverage: UnitCoverage,
    /// Functions that exclusion markers took out of `coverage`, per source
    /// file (no lines): gcovr's Cobertura still lists them as methods.
    pub excluded_functions: Vec<xencov::analysis::coverage::FileCoverage>,
}

/// Merges the inputs, finds each unit's notes beside its gcda path under
/// the notes directory, computes the units in parallel and hands each to
/// `visit` in the profile's order, with --root/--include/--exclude and the
/// exclusion markers to apply (the [`Gate`]). A unit without notes, with
/// notes of another build or compiler, is a warning (an error with
/// --strict) and is left out. No unit left is an error: an empty report
/// would pass for "nothing covered" (genhtml refuses it, CI would not).
/// Returns how many units were visited (kept a source file).
///
/// The units are counted in parallel, `make` makes each worker's unit of
/// its counts, and each is visited as soon as it and those before it are
/// done ([`crate::ordered`]): a caller that folds them into a tracefile
/// holds the counts of about two units per thread, not of all (memory flat
/// in the number of units; 193 MB for 16 SQLite-sized units when all were
/// kept).
fn each_unit<T: Send>(
    args: &Args<'_>,
    make: impl Fn(Counted) -> T + Sync,
    mut visit: impl FnMut(Computed<T>, &mut Gate<'_, '_>) -> Result<()>,
) -> Result<usize> {
    let diag = args.diag;
    let merged = merge_inputs(args.inputs, args.mapping, args.on_conflict, diag)?;
    let scans = args
        .markers
        .map(|m| crate::exclude::Scans::new(m, args.source_root));
    let mut gate = Gate {
        selection: args.selection,
        excluder: scans.as_ref().map(crate::exclude::Excluder::new),
        left_out: std::collections::BTreeSet::new(),
        negative: Vec::new(),
        visited: 0,
    };
    let mut kept = 0usize;
    let mut missing = Vec::new();
    // Each unit's merged counters are dropped once it is computed (the
    // profile of 16 SQLite-sized units holds 13 MB of them). Past one unit
    // per thread, the workers run ahead of the fold only while the units
    // waiting for it come from less than FOLD_BUDGET of notes.
    let total = merged.len();
    let threads = rayon::current_num_threads();
    crate::ordered::map_in_order(
        merged.into_units(),
        threads,
        FOLD_BUDGET,
        |m| {
            let r = one(&m, args.gcno_dir, scans.as_ref(), args.selection, &make);
            let weight = r.notes_bytes;
            (r, weight)
        },
        |r| {
            for n in &r.warnings {
                diag.warn(n)?;
            }
            missing.extend(r.missing);
            let Some(u) = r.unit else { return Ok(()) };
            kept += 1;
            visit(u, &mut gate)
        },
    )?;
    let Gate {
        excluder,
        left_out,
        negative,
        visited,
        ..
    } = gate;
    if kept == 0 {
        let mut msg = format!(
            "none of the {} units has usable notes under {}: nothing written",
            total,
            args.gcno_dir.display()
        );
        if missing.len() == total
            && let Some(hint) = notes_hint(args.gcno_dir, &missing)
        {
            msg += &format!("\n  hint: {hint}");
        }
        bail!("{msg}");
    }
    if let Some(w) = negative_counts_warning(&negative) {
        diag.warn(w)?;
    }
    if visited == 0 {
        let names: Vec<String> = left_out.iter().cloned().collect();
        bail!(
            "--root/--include/--exclude leave no source file: all {} of the {} left out ({}): nothing written",
            count(left_out.len(), "source file", "source files"),
            count(kept, "unit", "units"),
            crate::diag::first_few(&names, 3),
        );
    }
    if let Some(e) = excluder {
        e.finish(diag)?;
    }
    Ok(visited)
}

/// A unit a worker computed (`made` of its counts) and where its data
/// came from.
struct Computed<T> {
    path: String,
    version: xencov::gcov::version::Version,
    made: T,
}

/// What each unit passes through before a report sees it, in the units'
/// order: the source files --root/--include/--exclude keep and the
/// exclusion markers; and what is said of the units after.
struct Gate<'s, 'a> {
    selection: &'a Selection,
    excluder: Option<crate::exclude::Excluder<'s, 'a>>,
    /// Source files --root/--include/--exclude left out (named when
    /// nothing is left).
    left_out: std::collections::BTreeSet<String>,
    /// The units with negative counts (in any file, kept or not).
    negative: Vec<String>,
    /// The units that kept a source file.
    visited: usize,
}

impl Gate<'_, '_> {
    /// The unit with its files selected and its markers applied, or
    /// `None` when it keeps no source file.
    fn unit(&mut self, c: Computed<UnitCoverage>) -> Option<Unit> {
        let mut u = Unit {
            path: c.path,
            version: c.version,
            coverage: c.made,
            excluded_functions: Vec::new(),
        };
        if u.coverage.has_negative_counts() {
            self.negative.push(u.path.clone());
        }
        if !select(&mut u, self.selection, &mut self.left_out) {
            return None;
        }
        if let Some(e) = &mut self.excluder {
            e.apply(&mut u);
        }
        self.visited += 1;
        Some(u)
    }

    /// Folds a unit into the tracefile (and the lcov 2 one) a source file
    /// and a line at a time, as [`Gate::unit`] then
    /// [`Tracefile::add_unit`] would: its whole line list is never made
    /// (SQLite's 70,000 lines of 96 bytes and their branch lists were most
    /// of lcov's peak, beside the counts they are made of).
    fn fold(
        &mut self,
        c: &Computed<Counted>,
        t: &mut Tracefile,
        mut t2: Option<&mut xencov::report::lcov2::Tracefile>,
    ) {
        let counts = &c.made;
        let cwd = counts.cwd();
        let block_ids = c.version.at_least(14, 0);
        let everything = self.selection.is_everything();
        let mut negative = false;
        let mut any = false;
        for src in counts.files() {
            let name = xencov::report::lcov::resolve(cwd, src.name());
            if t2.is_none()
                && src.own_lines() >= FOLD_BESIDE
                && (everything || self.selection.keeps(&name))
            {
                any = true;
                let marks = self.excluder.as_mut().and_then(|e| e.marks(name.clone()));
                let excl = marks.as_ref().map(crate::exclude::Marks::exclusions);
                negative |= fold_beside(&src, excl, t, name);
                continue;
            }
            let mut functions: Vec<FunctionCoverage> = src.functions().collect();
            negative |= functions.iter().any(|f| f.execution_count < 0);
            if !everything && !self.selection.keeps(&name) {
                // Negative counts are those of the whole unit.
                negative = negative || src.lines().any(|l| l.has_negative_counts());
                self.left_out.insert(name);
                continue;
            }
            any = true;
            let marks = self.excluder.as_mut().and_then(|e| e.marks(name.clone()));
            let excl = marks.as_ref().map(crate::exclude::Marks::exclusions);
            if let Some(x) = excl {
                functions.retain(|f| !x.excludes_function(f));
            }
            let mut f2 = t2
                .as_deref_mut()
                .map(|t2| t2.add_file(name.clone(), &functions, block_ids));
            let mut f1 = t.add_file(name, &functions);
            // One record, filled line after line.
            negative |= kept_lines(&src, excl, |l| {
                f1.line(l);
                if let Some(f2) = &mut f2 {
                    f2.line(l);
                }
            });
        }
        if negative {
            self.negative.push(c.path.clone());
        }
        if everything || any {
            self.visited += 1;
        }
    }
}

/// A source file with this many lines or more has its functions made on
/// a worker thread while its lines are folded (see [`fold_beside`]).
/// SQLite's sqlite3.c has 70,000 lines and 3,776 functions; Lua's largest
/// file 1,100 lines, folded in 0.1 ms.
const FOLD_BESIDE: usize = 8192;

/// [`Gate::fold`] of one large source file that the selection keeps, for
/// the lcov 1 tracefile alone: its functions (made, demangled, their
/// markers applied: 0.9 ms of SQLite's 5 ms fold, on one thread with the
/// other core idle) are made on a worker thread while this one gathers
/// its lines ([`xencov::report::lcov::Gathered`]); the record takes the
/// functions, then the lines, as [`Gate::fold`] gives them. Whether the
/// file has negative counts.
fn fold_beside(
    src: &xencov::analysis::coverage::SourceOutput<'_>,
    excl: Option<&xencov::analysis::exclude::Exclusions>,
    t: &mut Tracefile,
    name: String,
) -> bool {
    let mut made = None;
    let mut gathered = xencov::report::lcov::Gathered::default();
    let mut negative = false;
    rayon::in_place_scope(|s| {
        s.spawn(|_| {
            let mut functions: Vec<FunctionCoverage> = src.functions().collect();
            let negative = functions.iter().any(|f| f.execution_count < 0);
            if let Some(x) = excl {
                functions.retain(|f| !x.excludes_function(f));
            }
            made = Some((xencov::report::lcov::Functions::new(functions), negative));
        });
        negative = kept_lines(src, excl, |l| gathered.line(l));
    });
    // `made` is set unless the worker panicked, and the scope re-raised that.
    let (functions, in_functions) = made.unwrap_or_default();
    t.add_file_with(name, functions).append(gathered);
    negative || in_functions
}

/// Hands `each` the lines of a source file the exclusion markers keep (one
/// record filled again and again, see [`Lines::next_into`]), with their
/// excluded branches and conditions taken out; whether any line of the
/// file, kept or not, has negative counts.
///
/// [`Lines::next_into`]: xencov::analysis::coverage::Lines::next_into
fn kept_lines(
    src: &xencov::analysis::coverage::SourceOutput<'_>,
    excl: Option<&xencov::analysis::exclude::Exclusions>,
    mut each: impl FnMut(&LineCoverage),
) -> bool {
    let mut negative = false;
    let mut removed = xencov::analysis::exclude::Removed::default();
    let mut lines = src.lines();
    let mut l = LineCoverage::default();
    while lines.next_into(&mut l) {
        negative |= l.has_negative_counts();
        if let Some(x) = excl
            && !x.apply_line(&mut l, &mut removed)
        {
            continue;
        }
        each(&l);
    }
    negative
}

/// Every unit (see [`each_unit`]), for the reports written per unit.
pub fn units(args: &Args<'_>) -> Result<Vec<Unit>> {
    let mut units = Vec::new();
    // Made whole in the workers: every unit is kept.
    each_unit(args, Counted::into_coverage, |c, gate| {
        units.extend(gate.unit(c));
        Ok(())
    })?;
    Ok(units)
}

/// How much notes the computed units waiting to be folded may come from
/// before the workers wait for the fold (beyond one unit per thread): what
/// waits is a unit's counts (for `lcov`, `summary` and `diff`; its whole
/// coverage for `json` and `cobertura`), less than its notes' size. 16 MiB
/// lets all of Lua's 1.4 MB of notes run ahead of a large unit, and holds
/// two SQLite-sized units.
const FOLD_BUDGET: u64 = 16 << 20;

/// Keeps the source files the selection keeps in a unit (its functions,
/// lines and branches are per source file), and says whether it keeps
/// any; the names of those left out are added to `left_out`.
fn select(
    u: &mut Unit,
    selection: &Selection,
    left_out: &mut std::collections::BTreeSet<String>,
) -> bool {
    if selection.is_everything() {
        return true;
    }
    let cwd = u.coverage.cwd.clone();
    u.coverage.files.retain(|f| {
        let name = xencov::report::lcov::resolve(cwd.as_deref(), &f.file);
        let keep = selection.keeps(&name);
        if !keep {
            left_out.insert(name);
        }
        keep
    });
    !u.coverage.files.is_empty()
}

/// Prints one line per missed threshold and gives the exit status.
pub fn check_thresholds(t: &Tracefile, thresholds: &[(Metric, f64)]) -> ExitCode {
    if thresholds.is_empty() {
        return ExitCode::SUCCESS; // no totals to take
    }
    let (_, all) = xencov::report::totals(t);
    let missed = xencov::report::select::shortfalls(&all, thresholds);
    for m in &missed {
        eprintln!("xencov-rs: FAILED: {m}");
    }
    if missed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_BELOW_THRESHOLD)
    }
}

/// What became of one unit: its coverage, warnings, and the notes path
/// tried when there was no file there.
struct One<T> {
    unit: Option<Computed<T>>,
    /// The size of the notes file the unit was computed from (0 if none).
    notes_bytes: u64,
    warnings: Vec<String>,
    missing: Option<Missing>,
}

/// A unit whose notes file was not where it was looked for.
struct Missing {
    /// The unit's object path before --prefix-map.
    source: Vec<u8>,
    tried: std::path::PathBuf,
}

/// Every unit missed its notes: show where the first one was looked for and
/// find the notes by file name under the notes directory, to compute the
/// `--prefix-map` that finds the most of them.
fn notes_hint(gcno_dir: &Path, missing: &[Missing]) -> Option<String> {
    let first = missing.first()?;
    let mut hint = format!(
        "the notes of {} were looked for at {}",
        String::from_utf8_lossy(&first.source),
        first.tried.display()
    );
    let all = crate::output::files_with_extension(gcno_dir, &["gcno"]).unwrap_or_default();
    let mut by_name: std::collections::HashMap<&std::ffi::OsStr, Vec<&Path>> = Default::default();
    for f in &all {
        if let Some(n) = f.file_name() {
            by_name.entry(n).or_default().push(f);
        }
    }
    // Each unit proposes the maps that lead to a notes file of its name;
    // the library picks the map that finds the most units.
    let mut proposals: Vec<(&[u8], std::path::PathBuf)> = Vec::new();
    for m in missing {
        let Some(name) = m.tried.file_name() else {
            continue;
        };
        for f in by_name.get(name).into_iter().flatten() {
            let rel = f.strip_prefix(gcno_dir).unwrap_or(f).with_extension("gcda");
            proposals.push((&m.source, rel));
        }
    }
    let best = xencov::analysis::notes::best_prefix_map(
        proposals
            .iter()
            .map(|(source, rel)| (*source, rel.as_os_str().as_encoded_bytes())),
    );
    match best {
        Some(((old, new), n)) => {
            hint += &format!(
                "; `--prefix-map {}={}` finds the notes of {n} of the {} units",
                String::from_utf8_lossy(&old),
                String::from_utf8_lossy(&new),
                missing.len()
            );
        }
        None if all.is_empty() => {
            hint += &format!(
                "; there is no .gcno file below {} at all: is it the build tree?",
                gcno_dir.display()
            );
        }
        None => {
            let name = first
                .tried
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            let found = name
                .as_deref()
                .and_then(|n| by_name.get(std::ffi::OsStr::new(n)));
            match found.and_then(|v| v.first()) {
                Some(f) => {
                    hint += &format!(
                        "; a notes file of that name is at {}: pass the directory that matches the recorded paths as --gcno-dir",
                        f.display()
                    )
                }
                None => {
                    hint += &format!(
                        "; no notes file of that name is below {} ({} .gcno files there): is it this build's tree?",
                        gcno_dir.display(),
                        all.len()
                    )
                }
            }
        }
    }
    Some(hint)
}

/// A unit with this much notes or more has its sources scanned for
/// markers on a thread of its own while it is counted. SQLite (one unit
/// of 8.5 MB of notes beside a small one) kept one worker busy and the
/// other idle; its 9.6 MB source scanned beside the count took 3 ms off
/// its 55. The scan gets an OS thread, not rayon's `join`: `join` called
/// from outside rayon's pool ran the count on a pool thread too, in
/// another malloc arena than the notes it counts, and added 0.5 MB to
/// the peak (a new thread added 0.1 - 0.2). Small units are scanned before
/// they are counted: a thread each cost more than their scans (Lua).
const SCAN_BESIDE: u64 = 1 << 20;
/// A unit with this much notes or more has its functions counted in two
/// parts, the second on a thread of its own ([`Beside`]): SQLite's count
/// kept one core busy for 21 of its 38 ms while the other had only the
/// source scan; in two parts it is 15 ms (each part 10 - 12 ms with its
/// table's sort, then 2 ms to join them), and `lcov` on SQLite went from
/// 41.7 to 34.1 ms (hyperfine, mean of 50), with 18.9 MB of peak RSS
/// against 19.6. Small units are counted whole: the workers already count
/// two at once.
const COUNT_BESIDE: u64 = 1 << 20;

/// [`Join`] with the second job on a new scoped thread: for the one large
/// unit that keeps a worker busy while the other has nothing left to do.
/// Not rayon's `join`: `lcov`'s workers are not rayon's (see
/// [`crate::ordered`]), and rayon's from outside its pool would move the
/// first job onto a pool thread too (see SCAN_BESIDE).
struct Beside;

impl Join for Beside {
    fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA + Send,
        B: FnOnce() -> RB + Send,
        RA: Send,
        RB: Send,
    {
        std::thread::scope(|scope| {
            let second = scope.spawn(b);
            let ra = a();
            match second.join() {
                Ok(rb) => (ra, rb),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        })
    }
}

/// The bytes of a notes file each read hands the decoder, at most (a
/// record longer than that grows the buffer to it). Measured on SQLite's
/// 8.5 MB notes, `lcov` takes the same time with 64 KiB, 256 KiB or 1 MiB
/// (within the noise, 50-53 ms task-clock at best); its peak RSS was
/// 20,188 KiB, 19,964 KiB and 20,596 KiB (min of 5), and 1 MiB costs 200
/// more page faults.
const NOTES_PIECE: usize = 256 << 10;

thread_local! {
    /// Each worker's buffer for reading notes files, reused from file to
    /// file: its pages are faulted in once, not once per file (2,075 page
    /// faults for SQLite's notes read whole into a fresh buffer and freed).
    static NOTES_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Reads a notes file through the thread's buffer and decodes it as it is
/// read ([`xencov::gcov::gcno::Decoder`]): the model and the file's length
/// (its weight in the fold's budget), or the error of the decoder (the
/// whole file's: see the decoder), or that of opening or reading it.
/// `early` is shown the decoder and the file's size after each piece.
fn read_notes(
    path: &Path,
    mut early: impl FnMut(&xencov::gcov::gcno::Decoder, u64),
) -> std::io::Result<(xencov::Result<Gcno>, u64)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    NOTES_BUFFER.with_borrow_mut(|buf| {
        if buf.len() != NOTES_PIECE {
            // New, or grown by a long record of the last file: memory stays
            // one piece per thread.
            *buf = vec![0; NOTES_PIECE];
        }
        let mut decoder = xencov::gcov::gcno::Decoder::new();
        // Bytes at the start of `buf` not consumed by the decoder yet.
        let mut filled = 0;
        loop {
            if filled == buf.len() {
                buf.resize(buf.len() * 2, 0);
            }
            let n = match file.read(buf.get_mut(filled..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            filled += n;
            if filled < decoder.needed() {
                continue;
            }
            let used = match decoder.feed(buf.get(..filled).unwrap_or_default()) {
                Ok(used) => used,
                Err(e) => return Ok((Err(e), 0)),
            };
            early(&decoder, size);
            buf.copy_within(used..filled, 0);
            filled -= used;
            // A record longer than the buffer: grown to it, but not past
            // twice its size per read, so that a length the file does not
            // hold costs no more memory than the file's bytes.
            let need = decoder.needed();
            if need > buf.len() {
                let grown = need.min(buf.len() * 2);
                buf.resize(grown, 0);
            }
        }
        let len = decoder.offset() + filled;
        let notes = decoder.finish(buf.get(..filled).unwrap_or_default());
        Ok((notes, len as u64))
    })
}

/// `scans`: the exclusion markers' source scans, when markers apply: the
/// unit's sources are read and scanned while it is computed.
/// `selection`: the source files kept (only those are scanned).
fn one<T>(
    m: &Merged,
    gcno_dir: &Path,
    scans: Option<&crate::exclude::Scans<'_>>,
    selection: &Selection,
    make: impl FnOnce(Counted) -> T,
) -> One<T> {
    std::thread::scope(|scope| one_in(scope, m, gcno_dir, scans, selection, make))
}

/// [`one`], with the scope of the threads a large unit's scans run on.
fn one_in<'scope, 'env, T>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    m: &Merged,
    gcno_dir: &Path,
    scans: Option<&'env crate::exclude::Scans<'env>>,
    selection: &'env Selection,
    make: impl FnOnce(Counted) -> T,
) -> One<T> {
    let path = String::from_utf8_lossy(&m.path).into_owned();
    let left = |warnings| One {
        unit: None,
        notes_bytes: 0,
        warnings,
        missing: None,
    };
    let rel = match PathMapping::default().relative(&m.lookup) {
        Ok((rel, _)) => rel.with_extension("gcno"),
        Err(e) => return left(vec![format!("{path}: {e}")]),
    };
    let notes_path = gcno_dir.join(rel);
    // A large unit's sources named in the first piece of its notes (the
    // unit's own source comes first) are scanned on a thread of their own
    // while the rest of the notes are read and decoded, when the other
    // core has nothing else to do; see SCAN_BESIDE for the others.
    let mut early = scans;
    let read = read_notes(&notes_path, |decoder, size| {
        let (Some(s), (cwd, files)) = (early, decoder.files_so_far()) else {
            return;
        };
        if size < SCAN_BESIDE || files.is_empty() {
            return;
        }
        early = None;
        let (cwd, names) = (cwd.map(str::to_string), files.to_vec());
        scope.spawn(move || s.prefetch(cwd.as_deref(), &names, selection));
    });
    let read = match read {
        Ok(r) => r,
        Err(e) => {
            return One {
                unit: None,
                notes_bytes: 0,
                warnings: vec![format!(
                    "{path}: no notes file at {}: {e}; unit left out",
                    notes_path.display()
                )],
                missing: Some(Missing {
                    source: m.source.to_vec(),
                    tried: notes_path,
                }),
            };
        }
    };
    let (notes, notes_bytes) = match read {
        (Ok(n), len) => (n, len),
        (Err(e), _) => {
            return left(vec![format!(
                "{}: {e}; unit left out",
                notes_path.display()
            )]);
        }
    };
    let gcda = match m.gcda() {
        Ok(g) => g,
        Err(e) => return left(vec![format!("{path}: {e}; unit left out")]),
    };
    let dv = gcda.header.version;
    let mismatches = xencov::analysis::notes::pair(
        (notes.header.version, notes.header.stamp),
        (dv, gcda.header.stamp),
    );
    let mut warnings = Vec::new();
    let mut fatal = false;
    for mismatch in mismatches {
        fatal |= mismatch.is_fatal();
        warnings.push(match mismatch {
            Mismatch::Version {
                notes: nv,
                data: dv,
                same_layout,
            } => format!(
                "{path}: notes written by GCC {} ({}), counters by GCC {} ({}): not one build{}",
                nv.gcc(),
                nv.chars(),
                dv.gcc(),
                dv.chars(),
                if same_layout { "" } else { "; unit left out" }
            ),
            Mismatch::Stamp { notes, data } => format!(
                "{path}: the notes' stamp {notes:#010x} is not the counters' {data:#010x}: {} belongs to another build; unit left out",
                notes_path.display()
            ),
            m => format!("{path}: {m:?}; unit left out"),
        });
    }
    if fatal {
        return left(warnings);
    }
    // The unit's sources are scanned for markers here, in the worker (or
    // beside it, see SCAN_BESIDE), so that the units' scans run in
    // parallel, not one after another in the thread that folds the units.
    let count = |notes| {
        if notes_bytes >= COUNT_BESIDE {
            count_owned_in(notes, Some(&gcda), &Beside, None)
        } else {
            count_owned(notes, Some(&gcda))
        }
    };
    let counts = match scans {
        Some(s) if notes_bytes >= SCAN_BESIDE => {
            // Those not scanned early (a file another thread is scanning
            // is waited for there, not here).
            let (cwd, names) = (notes.cwd.clone(), notes.files().to_vec());
            scope.spawn(move || s.prefetch(cwd.as_deref(), &names, selection));
            count(notes)
        }
        Some(s) => {
            s.prefetch(notes.cwd.as_deref(), notes.files(), selection);
            count(notes)
        }
        None => count(notes),
    };
    warnings.extend(counts.warnings().iter().map(|w| format!("{path}: {w}")));
    One {
        notes_bytes,
        unit: Some(Computed {
            path,
            version: dv,
            made: make(counts),
        }),
        warnings,
        missing: None,
    }
}

/// Streams what `render` writes into `output` (atomically, not synced:
/// a report, see [`crate::output::Durability::Kernel`]), or to standard
/// output.
pub fn emit(
    output: Option<&Path>,
    render: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<()> {
    match output {
        Some(p) => write_report_with(p, render),
        None => crate::output::print_with(render),
    }
}

/// One warning for all units with negative counts (as lcov warns once
/// per tracefile), naming them: what was written instead, and why it
/// happens.
fn negative_counts_warning(bad: &[String]) -> Option<String> {
    if bad.is_empty() {
        return None;
    }
    let shown = crate::diag::first_few(bad, 5);
    Some(format!(
        "negative counts in {} ({shown}): written as 0 \
         (a branch as `-`), as lcov does. The counters are not one consistent \
         snapshot: a hypervisor read while other CPUs were counting, with counters \
         updated non-atomically; Xen 4.21 and later build with \
         -fprofile-update=atomic for this reason",
        count(bad.len(), "unit", "units")
    ))
}

/// What the tracefiles of both dialects say when a combined count passed
/// what they hold.
const TRACEFILE_SATURATED: &str = "a combined count passed 2^128 - 1 and is written as \
     that value: the counters are not real execution counts";

/// The tracefile of `units`, every unit kept (the reports that need the
/// units as well); one that names no source file is an error.
pub fn nonempty_tracefile(units: &[Unit], diag: &Diagnostics) -> Result<Tracefile> {
    let mut t = Tracefile::default();
    for u in units {
        t.add_unit(&u.coverage);
    }
    finish_tracefile(t, units.len(), diag)
}

/// The tracefile of every unit, each unit folded into it as soon as it is
/// computed and then dropped (see [`each_unit`]); with `lcov2`, the lcov 2
/// tracefile beside it. One that names no source file is an error.
pub fn folded_tracefile(args: &Args<'_>, lcov2: bool) -> Result<Folded> {
    let mut t = Tracefile::default();
    let mut t2 = lcov2.then(xencov::report::lcov2::Tracefile::default);
    let n = each_unit(
        args,
        |c| c,
        |c, gate| {
            gate.fold(&c, &mut t, t2.as_mut());
            Ok(())
        },
    )?;
    let t = finish_tracefile(t, n, args.diag)?;
    if t2.as_ref().is_some_and(|t2| t2.saturated) {
        args.diag.warn(TRACEFILE_SATURATED)?;
    }
    Ok(Folded { t, t2, units: n })
}

/// What [`folded_tracefile`] made.
pub struct Folded {
    pub t: Tracefile,
    /// The lcov 2 tracefile, when asked for.
    pub t2: Option<xencov::report::lcov2::Tracefile>,
    /// The units folded in.
    pub units: usize,
}

/// A tracefile of `n` units that names no source file is an error (its
/// units have notes without lines); a saturated sum is a warning.
fn finish_tracefile(t: Tracefile, n: usize, diag: &Diagnostics) -> Result<Tracefile> {
    if t.saturated {
        diag.warn(TRACEFILE_SATURATED)?;
    }
    if t.files.is_empty() {
        bail!(
            "the notes of the {} units name no source lines: nothing written",
            n
        );
    }
    Ok(t)
}

/// The record dialect of `xencov-rs lcov`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Dialect {
    /// lcov 1.x records (FN/FNDA, BRDA with numeric ids), read by every consumer.
    Lcov1,
    /// lcov 2.5 records (FNL/FNA, lcov 2's branch ids, MCDC/MCF/MCH).
    Lcov2,
}

/// The mmap threshold of `lcov` and `report`: their large buffers (the
/// notes model, the solver's graphs, the line table, the coverage model)
/// are freed one after another while the next grows, and with glibc's
/// sliding threshold the freed ones stayed in the process (see
/// [`xencov_sys::fix_mmap_threshold`]). 128 KiB is glibc's default start.
const MMAP_THRESHOLD: i32 = 128 * 1024;

pub fn run_lcov(args: Args<'_>, test_name: &str, dialect: Dialect) -> Result<ExitCode> {
    xencov_sys::fix_mmap_threshold(MMAP_THRESHOLD);
    if let Some(object) = args.object {
        if dialect == Dialect::Lcov2 {
            bail!(
                "--dialect lcov2 is written from gcc data; with --object, lcov writes lcov 1 records (as llvm-cov export does)"
            );
        }
        return crate::llvmcov::run_lcov(&args, object, test_name);
    }
    // lcov keeps only letters, digits and `_` in a test name (genhtml warns
    // on anything else): the same rule, with lcov's warning.
    let (test_name, changed) = xencov::report::lcov::test_name(test_name);
    if changed {
        args.diag.warn(format_args!(
            "invalid characters in the test name replaced by `_` (as lcov does): TN:{test_name}"
        ))?;
    }
    let Folded {
        t,
        t2,
        units: n_units,
    } = folded_tracefile(&args, dialect == Dialect::Lcov2)?;
    match t2 {
        None => emit(args.output, |w| write_tracefile(&t, &test_name, w))?,
        // lcov 2 records are written from their own tracefile.
        Some(t2) => emit(args.output, |w| t2.write_to(w, &test_name))?,
    }
    eprintln!(
        "xencov-rs: lcov: {}, {}",
        count(n_units, "unit", "units"),
        count(t.files.len(), "source file", "source files")
    );
    Ok(check_thresholds(&t, args.thresholds))
}

/// [`Tracefile::write_to`], its parts formatted on the worker threads
/// while this one writes those before, in order. SQLite's 2 MB tracefile
/// took 1.7 ms to format and 2.5 ms to write into the page cache, one
/// after the other on one core.
fn write_tracefile(
    t: &Tracefile,
    test_name: &str,
    w: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let records: usize = t
        .files
        .values()
        .map(|r| r.lines.len() + r.branches.len())
        .sum();
    if records < WRITE_SPLIT {
        return t.write_to(w, test_name);
    }
    let parts: Vec<_> = t.parts(test_name, WRITE_PART).collect();
    // The buffers written go back to the workers: a fresh buffer per part
    // cost its page faults (and formatting on two threads was slower than
    // on one).
    let spare: std::sync::Mutex<Vec<Vec<u8>>> = std::sync::Mutex::new(Vec::new());
    crate::ordered::map_in_order(
        parts,
        rayon::current_num_threads(),
        WRITE_BUDGET,
        |p| {
            let mut text = spare
                .lock()
                .ok()
                .and_then(|mut s| s.pop())
                .unwrap_or_default();
            p.render(&mut text);
            let n = text.len() as u64;
            (text, n)
        },
        |mut text| {
            w.write_all(&text)?;
            text.clear();
            if let Ok(mut s) = spare.lock() {
                s.push(text);
            }
            Ok::<(), std::io::Error>(())
        },
    )?;
    w.flush()
}

/// A tracefile of fewer BRDA and DA records than this is written in one
/// thread: Lua's 17,000 (1 ms) gained nothing from a second, SQLite's
/// 118,000 0.3 - 0.4 ms.
const WRITE_SPLIT: usize = 1 << 16;
/// BRDA or DA records per part of [`write_tracefile`]: about 30 KiB of
/// text, below the mmap threshold (a part's buffer is reused from the
/// heap, not mapped and unmapped).
const WRITE_PART: usize = 2048;
/// The bytes of formatted parts waiting to be written, at most (beyond
/// one part per thread).
const WRITE_BUDGET: u64 = 256 << 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table of line, function and branch coverage per directory, for a CI log.
    Summary,
    /// One `gcov --json-format` document per unit, one per line (formats/report-json.md).
    Json,
    /// Cobertura XML, as GitLab and Jenkins read it.
    Cobertura,
    /// A static HTML report in the directory -o DIR: an index and one page per source file.
    Html,
}

/// The summary's source names relative to the root (all are below it
/// unless --include reached outside: those stay absolute), as gcovr's `-r`.
pub fn relative_to_root(t: Tracefile, root: Option<&str>) -> Tracefile {
    let Some(root) = root else { return t };
    let files = t
        .files
        .into_iter()
        .map(|(name, rec)| {
            let rel = xencov::report::select::under_root(&name, root).map(String::from);
            (rel.unwrap_or(name), rec)
        })
        .collect();
    Tracefile { files, ..t }
}

pub fn run_report(args: Args<'_>, format: Format) -> Result<ExitCode> {
    xencov_sys::fix_mmap_threshold(MMAP_THRESHOLD);
    if format == Format::Html && args.output.is_none() {
        bail!("--format html writes a directory: name it with -o DIR");
    }
    if let Some(object) = args.object {
        return crate::llvmcov::run_report(&args, object, format);
    }
    // JSON is written per unit and Cobertura lists the functions markers
    // excluded: both keep every unit. The others need the tracefile only,
    // each unit folded into it as it is computed.
    let (units, t) = match format {
        Format::Json | Format::Cobertura => {
            let units = units(&args)?;
            let t = nonempty_tracefile(&units, args.diag)?;
            (units, t)
        }
        Format::Summary | Format::Html => (Vec::new(), folded_tracefile(&args, false)?.t),
    };
    let root = args.selection.root.as_deref();
    match format {
        Format::Html => {
            if let Some(out) = args.output {
                crate::html::write(&t, out, root, args.source_root, args.diag)?;
            }
            return Ok(check_thresholds(&t, args.thresholds));
        }
        Format::Summary => {
            // Renamed in a copy only when there is a root to be relative to.
            let rel = root.map(|_| relative_to_root(t.clone(), root));
            let shown = rel.as_ref().unwrap_or(&t);
            emit(args.output, |w| xencov::report::write_summary(w, shown))?;
        }
        // One document per unit, each on its own line, as `gcov -t
        // --json-format` prints several data files.
        Format::Json => emit(args.output, |w| {
            for u in &units {
                xencov::report::write_gcov_json(
                    w,
                    &u.coverage,
                    &xencov::report::gcov_version(u.version),
                    &u.path,
                )?;
                w.write_all(b"\n")?;
            }
            Ok(())
        })?,
        Format::Cobertura => {
            let now = report_timestamp()?;
            // As gcovr: a function that markers excluded is still a method
            // (its lines are those left in its range); the figures are not
            // changed by it.
            let mut with_excluded = t.clone();
            for u in &units {
                for f in &u.excluded_functions {
                    let name = xencov::report::lcov::resolve(u.coverage.cwd.as_deref(), &f.file);
                    if let Some(rec) = with_excluded.files.get_mut(&name) {
                        for func in &f.functions {
                            rec.functions
                                .entry(func.name.clone())
                                .or_insert((func.start_line, 0));
                        }
                    }
                }
            }
            let excluded: Vec<UnitCoverage> = units
                .iter()
                .map(|u| UnitCoverage {
                    cwd: u.coverage.cwd.clone(),
                    files: u.excluded_functions.clone(),
                    warnings: Vec::new(),
                })
                .collect();
            let ranges = xencov::report::function_ranges(
                units.iter().map(|u| &u.coverage).chain(excluded.iter()),
            );
            let opts = xencov::report::CoberturaOptions {
                root,
                timestamp: now,
            };
            emit(args.output, |w| {
                xencov::report::write_cobertura(w, &with_excluded, &ranges, &opts)
            })?;
        }
    }
    Ok(check_thresholds(&t, args.thresholds))
}

/// Where the notes are: --gcno-dir, else the first input when it is a
/// directory. A gcda tree with the notes beside (Linux's
/// /sys/kernel/debug/gcov links each .gcno into the build tree; a
/// `cp -rL` copy holds them) needs no --gcno-dir. A dump records object
/// paths of a build tree elsewhere: it needs one.
pub fn gcno_dir(given: Option<&Path>, inputs: &[Input]) -> Result<std::path::PathBuf> {
    if let Some(d) = given {
        return Ok(d.to_path_buf());
    }
    match inputs.first() {
        Some(i) if i.path.is_dir() => Ok(i.path.clone()),
        Some(i) => bail!(
            "--gcno-dir DIR is needed: {} is not a directory of .gcda files with their notes beside them",
            i.path.display()
        ),
        None => bail!("no input"),
    }
}

/// The selection of --root/--include/--exclude. The root is made absolute
/// without resolving symlinks: the paths in the notes are compared as
/// text, as recorded.
pub fn selection(root: Option<&Path>, include: &[String], exclude: &[String]) -> Result<Selection> {
    let utf8 = |p: &Path, what: &str| -> Result<String> {
        let abs = std::path::absolute(p).with_context(|| format!("{what} {}", p.display()))?;
        let s = abs
            .to_str()
            .with_context(|| format!("{what} {}: not UTF-8", p.display()))?;
        Ok(xencov::paths::fold(s))
    };
    let regexes = |v: &[String], what: &str| -> Result<Vec<xencov::report::select::PathRegex>> {
        v.iter()
            .map(|p| {
                xencov::report::select::PathRegex::new(p)
                    .with_context(|| format!("{what} {p}: not a regular expression"))
            })
            .collect()
    };
    Ok(Selection {
        root: root.map(|r| utf8(r, "--root")).transpose()?,
        base: utf8(Path::new("."), "the working directory")?,
        include: regexes(include, "--include")?,
        exclude: regexes(exclude, "--exclude")?,
    })
}

/// The timestamp a Cobertura report carries: SOURCE_DATE_EPOCH
/// (reproducible-builds.org, also honoured by gcovr) when set, so that two
/// runs on the same data write the same bytes; else now.
pub fn report_timestamp() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| anyhow::anyhow!("SOURCE_DATE_EPOCH={v:?} is not a number of seconds")),
        Err(_) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())),
    }
}
