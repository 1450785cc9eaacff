//! lcov tracefiles from computed coverage, as `lcov --capture` (geninfo
//! with gcov's JSON) writes them, with the records of one source file from
//! several units combined as `lcov -a` combines them.

use crate::analysis::coverage::{FunctionCoverage, LineCoverage, UnitCoverage};
use crate::report::sorted::{Run, SortedMap};
use std::collections::BTreeMap;

/// A count combined over units. One unit's count can pass 2^64 (the
/// flow into a line from several u64 counters), and the sum over units
/// more so: 128 bits hold any real sum exactly. Past them a sum stays at
/// `u128::MAX` and [`Tracefile::saturated`] says so.
pub type Count = u128;

/// Coverage of every source file, combined over units.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracefile {
    /// Per source file (the `SF:` name), its functions, lines, branches and conditions.
    pub files: BTreeMap<String, FileRecord>,
    /// Some sum passed `u128::MAX` and was kept at it.
    pub saturated: bool,
}

/// What a tracefile records for one source file (one `SF:` … `end_of_record` block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileRecord {
    /// Function name -> (start line, execution count).
    pub functions: BTreeMap<String, (u32, Count)>,
    /// Line -> execution count.
    pub lines: SortedMap<u32, Count>,
    /// (line, block, branch) -> taken count, `None` when never executed ('-').
    pub branches: SortedMap<(u32, u32, u32), Option<Count>>,
    /// Condition outcomes (GCC 14+) keyed as lcov 2 keys its MCDC records:
    /// (line, terms of the decision, term, sense) -> the number of
    /// decisions of that key in which the outcome was covered. Decisions
    /// of the same size on one line, and one decision compiled into
    /// several units (a header's inline function), share their keys.
    pub conditions: BTreeMap<(u32, u32, u32, Sense), Count>,
}

/// Which outcome of a condition: lcov 2 writes `t` before `f`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Sense {
    /// The outcome that makes the decision true (lcov's `t`).
    True,
    /// The outcome that makes the decision false (lcov's `f`).
    False,
}

impl FileRecord {
    /// Lines with a non-zero count (lcov's `LH:`).
    pub fn lines_hit(&self) -> usize {
        self.lines.values().filter(|&&c| c > 0).count()
    }
    /// Functions that ran at least once (lcov's `FNH:`).
    pub fn functions_hit(&self) -> usize {
        self.functions.values().filter(|f| f.1 > 0).count()
    }
    /// Condition outcomes covered at least once (lcov 2's `MCH:`).
    pub fn conditions_hit(&self) -> usize {
        self.conditions.values().filter(|&&c| c > 0).count()
    }
    /// Branches taken at least once (lcov's `BRH:`); a `-` branch counts as not taken.
    pub fn branches_hit(&self) -> usize {
        self.branches
            .values()
            .filter(|b| b.is_some_and(|c| c > 0))
            .count()
    }
}

/// A unit's source name as geninfo resolves it: relative names joined to
/// the compilation directory, then folded.
pub fn resolve(base: Option<&str>, file: &str) -> String {
    match base {
        Some(b) if !file.starts_with('/') => crate::paths::fold(&format!("{b}/{file}")),
        _ => crate::paths::fold(file),
    }
}

/// `a + b`, kept at `u128::MAX` (and `saturated` set) rather than wrapped.
pub(crate) fn add(a: Count, b: Count, saturated: &mut bool) -> Count {
    a.checked_add(b).unwrap_or_else(|| {
        *saturated = true;
        Count::MAX
    })
}

/// A line or function count as lcov reads it from a tracefile: a negative
/// count (inconsistent counters) is 0.
pub(crate) fn clamp(count: i128) -> Count {
    Count::try_from(count).unwrap_or(0)
}

/// A test name as lcov stores it: every character but ASCII letters, digits
/// and `_` becomes `_` (geninfo's and lcov's `s/\W/_/g` on the name's
/// bytes, so each byte of a non-ASCII character becomes one `_`), and
/// whether anything was replaced (lcov then warns).
pub fn test_name(name: &str) -> (String, bool) {
    let clean: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b == b'_' {
                char::from(b)
            } else {
                '_'
            }
        })
        .collect();
    let changed = clean != name;
    (clean, changed)
}

impl Tracefile {
    /// Adds a unit: relative source names are resolved against its
    /// compilation directory, as geninfo does. Negative counts are taken
    /// as `lcov -a` reads them from geninfo's output: a line or function
    /// count as 0, a branch as never executed (`-`).
    pub fn add_unit(&mut self, unit: &UnitCoverage) {
        for file in &unit.files {
            let name = resolve(unit.cwd.as_deref(), &file.file);
            let mut fold = self.add_file(name, &file.functions);
            for line in &file.lines {
                fold.line(line);
            }
        }
    }

    /// [`Tracefile::add_unit`] for one source file of a unit (`name`
    /// resolved, see [`resolve`]) whose lines are given one at a time to
    /// the fold returned, in the unit's order: a unit is folded without
    /// its whole line list held. The fold is complete when dropped.
    pub fn add_file(&mut self, name: String, functions: &[FunctionCoverage]) -> FileFold<'_> {
        let saturated = &mut self.saturated;
        let rec = self.files.entry(name).or_default();
        for f in functions {
            let e = rec
                .functions
                .entry(f.name.clone())
                .or_insert((f.start_line, 0));
            e.1 = add(e.1, clamp(f.execution_count), saturated);
        }
        FileFold {
            rec,
            saturated,
            lines: Run::new(),
            branches: Run::new(),
        }
    }
}

impl Tracefile {
    /// [`Tracefile::add_file`] with the unit's functions of the file
    /// made into the record's form apart ([`Functions`]).
    pub fn add_file_with(&mut self, name: String, functions: Functions) -> FileFold<'_> {
        let saturated = &mut self.saturated;
        *saturated |= functions.saturated;
        let rec = self.files.entry(name).or_default();
        if rec.functions.is_empty() {
            rec.functions = functions.map;
        } else {
            for (name, (line, count)) in functions.map {
                let e = rec.functions.entry(name).or_insert((line, 0));
                e.1 = add(e.1, count, saturated);
            }
        }
        FileFold {
            rec,
            saturated,
            lines: Run::new(),
            branches: Run::new(),
        }
    }
}

/// A unit's functions of one source file as a record holds them, made
/// apart from the tracefile (on another thread; see
/// [`Tracefile::add_file_with`]): what [`Tracefile::add_file`] adds.
/// Sums of counts never negative saturate alike in any grouping.
#[derive(Debug, Default)]
pub struct Functions {
    map: BTreeMap<String, (u32, Count)>,
    saturated: bool,
}

impl Functions {
    /// The functions (their names moved, not copied).
    pub fn new(functions: Vec<FunctionCoverage>) -> Self {
        let mut made = Functions::default();
        for f in functions {
            let e = made.map.entry(f.name).or_insert((f.start_line, 0));
            e.1 = add(e.1, clamp(f.execution_count), &mut made.saturated);
        }
        made
    }
}

/// The lines of one source file of a unit on their way into a tracefile
/// (see [`Tracefile::add_file`]): gathered as they come, and added to the
/// record when the fold is dropped. A unit gives a file's lines in order,
/// so the first unit's are the record's arrays as gathered, and a later
/// unit's are merged in one pass (see [`SortedMap::add_run`]).
pub struct FileFold<'t> {
    rec: &'t mut FileRecord,
    saturated: &'t mut bool,
    lines: Run<u32, Count>,
    branches: Run<(u32, u32, u32), Option<Count>>,
}

impl FileFold<'_> {
    /// The file's next line.
    pub fn line(&mut self, line: &LineCoverage) {
        gather(&mut self.lines, &mut self.branches, line);
        add_conditions(self.rec, line, self.saturated);
    }

    /// Lines gathered apart (see [`Gathered`]), as if each was given to
    /// [`FileFold::line`] here.
    pub fn append(&mut self, g: Gathered) {
        self.lines.append(g.lines);
        self.branches.append(g.branches);
        // Saturating sums of counts (never negative) come to the same
        // value, and pass the maximum, in any grouping.
        *self.saturated |= g.saturated;
        for (k, v) in g.conditions {
            let e = self.rec.conditions.entry(k).or_insert(0);
            *e = add(*e, v, self.saturated);
        }
    }
}

/// Consecutive lines of one source file of a unit gathered apart from the
/// tracefile, to be added by [`FileFold::append`] in the unit's order:
/// what [`FileFold::line`] of each line would have made. A caller gathers
/// a large file's lines while another thread makes its functions (which
/// [`Tracefile::add_file`] needs first).
#[derive(Debug, Default)]
pub struct Gathered {
    lines: Run<u32, Count>,
    branches: Run<(u32, u32, u32), Option<Count>>,
    conditions: BTreeMap<(u32, u32, u32, Sense), Count>,
    saturated: bool,
}

impl Gathered {
    /// The next line.
    pub fn line(&mut self, line: &LineCoverage) {
        gather(&mut self.lines, &mut self.branches, line);
        add_condition_outcomes(&mut self.conditions, line, &mut self.saturated);
    }
}

/// A line's count and branches onto the runs of a file (see [`FileFold`]).
fn gather(
    lines: &mut Run<u32, Count>,
    branches: &mut Run<(u32, u32, u32), Option<Count>>,
    line: &LineCoverage,
) {
    // geninfo: a line with an unexecuted block and no count has
    // branches never run (a negative count is not "no count").
    let never = line.unexecuted_block && line.count == 0;
    lines.push(line.line_number, clamp(line.count));
    for (i, b) in line.branches.iter().enumerate() {
        let taken = if never {
            None
        } else {
            Count::try_from(b.count).ok()
        };
        branches.push((line.line_number, 0, i as u32), taken);
    }
}

impl Drop for FileFold<'_> {
    fn drop(&mut self) {
        let saturated = &mut *self.saturated;
        let lines = std::mem::take(&mut self.lines);
        self.rec
            .lines
            .add_run(lines, |a, b| *a = add(*a, b, saturated));
        let branches = std::mem::take(&mut self.branches);
        self.rec.branches.add_run(branches, |a, b| {
            *a = match (*a, b) {
                (None, t) => t,
                (s, None) => s,
                (Some(x), Some(y)) => Some(add(x, y, saturated)),
            }
        });
    }
}

impl Tracefile {
    /// The tracefile text as lcov writes a combined tracefile: per source
    /// file TN, SF, FN/FNDA/FNF/FNH, BRDA/BRF/BRH, DA/LF/LH, end_of_record.
    pub fn write(&self, test_name: &str) -> String {
        let mut out = Vec::new();
        // Writing into a Vec cannot fail, and every piece is UTF-8.
        let _ = self.write_to(&mut out, test_name);
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// [`Tracefile::write`] straight into a sink: the tracefile is never
    /// held whole in memory. It is formatted into a buffer of its own
    /// (32 KiB), handed to the sink whenever full: a `dyn Write` sink costs
    /// one call per buffer, not per piece.
    pub fn write_to<W: std::io::Write + ?Sized>(
        &self,
        sink: &mut W,
        test_name: &str,
    ) -> std::io::Result<()> {
        let mut w = Out {
            buf: Vec::with_capacity(Out::<W>::SIZE + 4096),
            sink,
        };
        for (name, rec) in &self.files {
            w.line(&[b"TN:", test_name.as_bytes()])?;
            w.line(&[b"SF:", name.as_bytes()])?;
            let mut fns: Vec<(&String, &(u32, Count))> = rec.functions.iter().collect();
            fns.sort_by(|(n, (line, _)), (m, (other, _))| (line, n).cmp(&(other, m)));
            for (n, (l, _)) in &fns {
                w.put(b"FN:");
                w.num(u128::from(*l));
                w.line(&[b",", n.as_bytes()])?;
            }
            let mut hit = 0usize;
            for (n, (_, count)) in &fns {
                w.put(b"FNDA:");
                w.num(*count);
                w.line(&[b",", n.as_bytes()])?;
                hit += usize::from(*count > 0);
            }
            w.put(b"FNF:");
            w.num_line(rec.functions.len() as u128)?;
            w.put(b"FNH:");
            w.num_line(hit as u128)?;
            let mut hit = 0usize;
            for ((l, block, branch), taken) in &rec.branches {
                w.put(b"BRDA:");
                w.num(u128::from(*l));
                w.put(b",");
                w.num(u128::from(*block));
                w.put(b",");
                w.num(u128::from(*branch));
                w.put(b",");
                match taken {
                    Some(t) => {
                        w.num_line(*t)?;
                        hit += usize::from(*t > 0);
                    }
                    None => w.line(&[b"-"])?,
                }
            }
            // As lcov writes it: no BRF/BRH for a file without branches.
            if !rec.branches.is_empty() {
                w.put(b"BRF:");
                w.num_line(rec.branches.len() as u128)?;
                w.put(b"BRH:");
                w.num_line(hit as u128)?;
            }
            let mut hit = 0usize;
            for (l, count) in &rec.lines {
                w.put(b"DA:");
                w.num(u128::from(*l));
                w.put(b",");
                w.num_line(*count)?;
                hit += usize::from(*count > 0);
            }
            w.put(b"LF:");
            w.num_line(rec.lines.len() as u128)?;
            w.put(b"LH:");
            w.num_line(hit as u128)?;
            w.line(&[b"end_of_record"])?;
        }
        w.flush()
    }

    /// The tracefile's text as parts, in order, each of at most `most`
    /// FN, FNDA, BRDA or DA records (at least one): formatted apart (on
    /// other threads, into buffers of their own) and written in this
    /// order, they are [`Tracefile::write_to`]'s bytes (which formats
    /// them in one pass, counting what it writes: 0.1 - 0.2 ms faster on
    /// SQLite than its parts one after another, which count each summary
    /// in a pass of its own). A file's functions
    /// are sorted by start line once, as its parts are made; each summary
    /// line is counted over the whole record by the part that writes it. SQLite's
    /// tracefile is 2 MB of text, formatted in 1.7 ms on one thread: a
    /// caller that formats parts on a second thread while it writes
    /// those before holds only the parts in flight.
    pub fn parts<'t>(
        &'t self,
        test_name: &'t str,
        most: usize,
    ) -> impl Iterator<Item = Part<'t>> + 't {
        let most = most.max(1);
        self.files.iter().flat_map(move |(name, rec)| {
            // By start line, then name; sorted once, shared by the parts.
            let mut fns: Vec<(&'t String, &'t (u32, Count))> = rec.functions.iter().collect();
            fns.sort_by(|(n, (line, _)), (m, (other, _))| (line, n).cmp(&(other, m)));
            let fns: std::sync::Arc<[_]> = fns.into();
            let part = |what| Part {
                test_name,
                name,
                rec,
                fns: fns.clone(),
                what,
            };
            let ranges =
                |n: usize| (0..n.div_ceil(most)).map(move |i| i * most..n.min((i + 1) * most));
            let n_fns = rec.functions.len();
            let mut parts = vec![part(What::Head)];
            parts.extend(ranges(n_fns).map(|r| part(What::Functions(r))));
            parts.extend(ranges(n_fns).map(|r| part(What::Counts(r))));
            parts.push(part(What::FunctionTotals));
            parts.extend(ranges(rec.branches.len()).map(|r| part(What::Branches(r))));
            parts.extend(ranges(rec.lines.len()).map(|r| part(What::Lines(r))));
            parts.push(part(What::Tail));
            parts
        })
    }
}

/// A piece of a tracefile's text (see [`Tracefile::parts`]).
#[derive(Debug, Clone)]
pub struct Part<'t> {
    test_name: &'t str,
    name: &'t str,
    rec: &'t FileRecord,
    /// The file's functions in the order they are written.
    fns: std::sync::Arc<[(&'t String, &'t (u32, Count))]>,
    what: What,
}

/// Which records of a file a [`Part`] holds.
#[derive(Debug, Clone)]
enum What {
    /// TN, SF.
    Head,
    /// These FN records (indices into the functions in their order).
    Functions(std::ops::Range<usize>),
    /// These FNDA records.
    Counts(std::ops::Range<usize>),
    /// FNF, FNH.
    FunctionTotals,
    /// These BRDA records (indices into the file's branches); the last
    /// part of them adds BRF and BRH.
    Branches(std::ops::Range<usize>),
    /// These DA records (indices into the file's lines).
    Lines(std::ops::Range<usize>),
    /// LF, LH, end_of_record.
    Tail,
}

impl Part<'_> {
    /// The part's text, appended to `out`.
    pub fn render(&self, out: &mut Vec<u8>) {
        let rec = self.rec;
        match &self.what {
            What::Head => {
                for piece in [
                    b"TN:",
                    self.test_name.as_bytes(),
                    b"\nSF:",
                    self.name.as_bytes(),
                    b"\n",
                ] {
                    out.extend_from_slice(piece);
                }
            }
            What::Functions(r) => {
                for (n, (l, _)) in self.fns.get(r.clone()).unwrap_or_default() {
                    out.extend_from_slice(b"FN:");
                    push_decimal(out, u128::from(*l));
                    out.push(b',');
                    out.extend_from_slice(n.as_bytes());
                    out.push(b'\n');
                }
            }
            What::Counts(r) => {
                for (n, (_, count)) in self.fns.get(r.clone()).unwrap_or_default() {
                    out.extend_from_slice(b"FNDA:");
                    push_decimal(out, *count);
                    out.push(b',');
                    out.extend_from_slice(n.as_bytes());
                    out.push(b'\n');
                }
            }
            What::FunctionTotals => {
                num_line(out, b"FNF:", rec.functions.len());
                num_line(out, b"FNH:", rec.functions_hit());
            }
            What::Branches(r) => {
                let all = rec.branches.as_slice();
                for ((l, block, branch), taken) in all.get(r.clone()).unwrap_or_default() {
                    out.extend_from_slice(b"BRDA:");
                    push_decimal(out, u128::from(*l));
                    out.push(b',');
                    push_decimal(out, u128::from(*block));
                    out.push(b',');
                    push_decimal(out, u128::from(*branch));
                    out.push(b',');
                    match taken {
                        Some(t) => push_decimal(out, *t),
                        None => out.push(b'-'),
                    }
                    out.push(b'\n');
                }
                // The last: as lcov writes it, no BRF/BRH for a file
                // without branches (it has no branch part).
                if r.end == all.len() {
                    num_line(out, b"BRF:", all.len());
                    num_line(out, b"BRH:", rec.branches_hit());
                }
            }
            What::Lines(r) => {
                for (l, count) in rec.lines.as_slice().get(r.clone()).unwrap_or_default() {
                    out.extend_from_slice(b"DA:");
                    push_decimal(out, u128::from(*l));
                    out.push(b',');
                    push_decimal(out, *count);
                    out.push(b'\n');
                }
            }
            What::Tail => {
                num_line(out, b"LF:", rec.lines.len());
                num_line(out, b"LH:", rec.lines_hit());
                out.extend_from_slice(b"end_of_record\n");
            }
        }
    }
}

/// `tag`, `n` in decimal, a newline.
fn num_line(out: &mut Vec<u8>, tag: &[u8], n: usize) {
    out.extend_from_slice(tag);
    push_decimal(out, n as u128);
    out.push(b'\n');
}

/// A line's condition outcomes into a record (see [`FileRecord::conditions`]).
fn add_conditions(
    rec: &mut FileRecord,
    line: &crate::analysis::coverage::LineCoverage,
    saturated: &mut bool,
) {
    add_condition_outcomes(&mut rec.conditions, line, saturated);
}

/// A line's condition outcomes, covered (1) or not (0), added into the map
/// of one file keyed by (line, terms, term, sense): the one rule both lcov
/// dialects count conditions by.
pub(crate) fn add_condition_outcomes(
    conditions: &mut BTreeMap<(u32, u32, u32, Sense), Count>,
    line: &crate::analysis::coverage::LineCoverage,
    saturated: &mut bool,
) {
    for c in &line.conditions {
        let terms = c.count / 2;
        for i in 0..terms {
            for (sense, missed) in [
                (Sense::True, &c.not_covered_true),
                (Sense::False, &c.not_covered_false),
            ] {
                let e = conditions
                    .entry((line.line_number, terms, i, sense))
                    .or_insert(0);
                *e = add(*e, Count::from(!missed.contains(&i)), saturated);
            }
        }
    }
}

/// The tracefile's text on its way to a sink: pieces are appended to a
/// buffer, which goes to the sink at the end of a line once it is full.
struct Out<'w, W: ?Sized> {
    buf: Vec<u8>,
    sink: &'w mut W,
}

impl<W: std::io::Write + ?Sized> Out<'_, W> {
    const SIZE: usize = 1 << 15;

    fn put(&mut self, piece: &[u8]) {
        self.buf.extend_from_slice(piece);
    }

    /// The pieces, then a newline.
    fn line(&mut self, pieces: &[&[u8]]) -> std::io::Result<()> {
        for p in pieces {
            self.buf.extend_from_slice(p);
        }
        self.end()
    }

    fn end(&mut self) -> std::io::Result<()> {
        self.buf.push(b'\n');
        if self.buf.len() >= Self::SIZE {
            self.sink.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn num(&mut self, v: Count) {
        push_decimal(&mut self.buf, v);
    }

    fn num_line(&mut self, v: Count) -> std::io::Result<()> {
        self.num(v);
        self.end()
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.sink.write_all(&self.buf)?;
        self.buf.clear();
        self.sink.flush()
    }
}

/// A number in decimal appended to `buf`, as `Display` writes it (without
/// its machinery: most of a tracefile or a JSON report is numbers). Half
/// the numbers of a tracefile are single digits (block and branch numbers,
/// small counts): those are one byte pushed, inline.
#[inline]
pub(crate) fn push_decimal(buf: &mut Vec<u8>, v: Count) {
    if v < 10 {
        buf.push(b'0' + v as u8);
    } else {
        push_long(buf, v);
    }
}

/// [`push_decimal`] of a number of two digits or more.
fn push_long(buf: &mut Vec<u8>, v: Count) {
    match u64::try_from(v) {
        Ok(x) => push_u64(buf, x),
        // Rare (sums past 2^64): the number in pieces of 19 digits, one
        // 128-bit division (a call) per piece, 64-bit arithmetic within.
        Err(_) => {
            let high = v / TEN19;
            let low = (v % TEN19) as u64;
            push_long(buf, high);
            let mut piece = Vec::with_capacity(U64_DIGITS);
            push_u64(&mut piece, low);
            buf.extend(std::iter::repeat_n(b'0', 19 - piece.len().min(19)));
            buf.extend_from_slice(&piece);
        }
    }
}

/// 10^19, the most digits a u64 always holds.
const TEN19: u128 = 10_000_000_000_000_000_000;

/// The most digits a u64 has.
const U64_DIGITS: usize = 20;

/// "00" to "99": two digits per division (a multiplication by the
/// reciprocal and a few shifts), half the divisions of one at a time.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// `x` in decimal appended to `buf`. The digits are written from the
/// right into the first half of a buffer twice their most, and 20 bytes
/// from the first digit on are appended, then the unused ones cut off: a
/// copy of a fixed size is two stores where one of the number's length
/// calls memcpy, and the length need not be known before the digits are.
fn push_u64(buf: &mut Vec<u8>, mut x: u64) {
    let mut digits = [0u8; 2 * U64_DIGITS];
    let mut first = U64_DIGITS;
    let mut put_pair = |first: usize, pair: usize| {
        if let (Some(d), Some(p)) = (
            digits.get_mut(first..first + 2),
            PAIRS.get(2 * pair..2 * pair + 2),
        ) {
            d.copy_from_slice(p);
        }
    };
    while x >= 100 {
        first -= 2;
        put_pair(first, (x % 100) as usize);
        x /= 100;
    }
    if x >= 10 {
        first -= 2;
        put_pair(first, x as usize);
    } else {
        first -= 1;
        if let Some(d) = digits.get_mut(first) {
            *d = b'0' + x as u8;
        }
    }
    if let Some(chunk) = digits
        .get(first..)
        .and_then(|d| d.first_chunk::<U64_DIGITS>())
    {
        let end = buf.len() + (U64_DIGITS - first);
        buf.extend_from_slice(chunk);
        buf.truncate(end);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::analysis::coverage::{BranchCoverage, FileCoverage, FunctionCoverage, LineCoverage};

    /// A line of `count` with one fall-through branch of the same count.
    pub(crate) fn line(n: u32, count: i128, function: Option<&str>) -> LineCoverage {
        LineCoverage {
            line_number: n,
            function_name: function.map(Into::into),
            count,
            unexecuted_block: false,
            conditions: Vec::new(),
            branches: vec![BranchCoverage {
                count,
                throw: false,
                fallthrough: true,
                source_block_id: 2,
                destination_block_id: 3,
            }],
        }
    }

    fn unit(count: i128) -> UnitCoverage {
        UnitCoverage {
            cwd: None,
            files: vec![FileCoverage {
                file: "/s/a.c".into(),
                functions: vec![FunctionCoverage {
                    name: "f".into(),
                    demangled_name: "f".into(),
                    start_line: 1,
                    start_column: 1,
                    end_line: 2,
                    end_column: 1,
                    blocks: 1,
                    blocks_executed: 1,
                    execution_count: count,
                }],
                lines: vec![line(1, count, Some("f"))],
            }],
            warnings: Vec::new(),
        }
    }

    /// Past 2^128 - 1 a sum stays there and says so; it never wraps.
    #[test]
    fn sums_saturate_and_say_so() {
        let mut t = Tracefile::default();
        t.add_unit(&unit(i128::MAX));
        assert!(!t.saturated);
        t.add_unit(&unit(i128::MAX));
        assert!(!t.saturated, "2 * (2^127 - 1) still fits");
        t.add_unit(&unit(2));
        assert!(t.saturated);
        let rec = &t.files["/s/a.c"];
        assert_eq!(rec.lines.get(&1), Some(&Count::MAX));
        assert_eq!(rec.functions["f"].1, Count::MAX);
        assert_eq!(rec.branches.get(&(1, 0, 0)), Some(&Some(Count::MAX)));
    }

    /// Negative counts as `lcov -a` reads them: 0, and `-` for a branch;
    /// a later positive count adds to them.
    #[test]
    fn negative_counts_read_as_lcov_reads_them() {
        let mut t = Tracefile::default();
        t.add_unit(&unit(-5));
        let text = t.write("");
        assert!(text.contains("DA:1,0\n") && text.contains("FNDA:0,f\n"));
        assert!(text.contains("BRDA:1,0,0,-\n") && text.contains("LH:0\n"));
        t.add_unit(&unit(3));
        let rec = &t.files["/s/a.c"];
        assert_eq!((rec.lines.get(&1), rec.functions["f"].1), (Some(&3), 3));
        assert_eq!(rec.branches.get(&(1, 0, 0)), Some(&Some(3)));
    }

    /// The tracefile's numbers are as `Display` writes them, past 2^64 too:
    /// every digit count from 1 to 39, each power of ten and its
    /// neighbours (where a digit is added, and where a 19-digit piece of a
    /// wide number has zeros first), and the ends of u64 and u128.
    #[test]
    fn numbers_are_written_as_display_writes_them() {
        let mut values = vec![
            0,
            7,
            10,
            u128::from(u64::MAX) - 1,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            u128::from(u64::MAX) * 10,
            10u128.pow(20),
            TEN19 * TEN19,
            TEN19 * TEN19 + 5,
            TEN19 * TEN19 + TEN19,
            u128::MAX - 1,
            u128::MAX,
        ];
        for e in 0..=38 {
            let p = 10u128.pow(e);
            values.extend([p - 1, p, p + 1, p * 3 + 7]);
        }
        // A digit pattern that is not mostly zeros, of each length.
        let mut v = 0u128;
        for d in 1..=38u128 {
            v = v * 10 + (d * 7) % 10;
            values.push(v);
        }
        let mut lengths = std::collections::BTreeSet::new();
        for &v in &values {
            lengths.insert(v.to_string().len());
        }
        assert_eq!(lengths, (1..=39).collect(), "every digit count is tried");
        let mut all = Vec::new();
        for &v in &values {
            push_decimal(&mut all, v);
            all.push(b' ');
        }
        let display: String = values.iter().map(|v| format!("{v} ")).collect();
        assert_eq!(
            String::from_utf8(all).unwrap(),
            display,
            "one after another"
        );
        for v in values {
            let mut sink = Vec::new();
            let mut out = Out {
                buf: Vec::new(),
                sink: &mut sink,
            };
            out.num_line(v).unwrap();
            out.flush().unwrap();
            assert_eq!(String::from_utf8(sink).unwrap(), format!("{v}\n"));
        }
    }

    /// A file's lines in order take the one-go road, lines out of order
    /// or repeated the one-by-one road, lines in order at first and then
    /// not both: all add up alike.
    #[test]
    fn lines_in_order_or_not_add_up_alike() {
        let one = |lines: Vec<LineCoverage>| UnitCoverage {
            cwd: None,
            files: vec![FileCoverage {
                file: "/s/a.c".into(),
                functions: Vec::new(),
                lines,
            }],
            warnings: Vec::new(),
        };
        let fold = |units: &[Vec<(u32, i128)>]| {
            let mut t = Tracefile::default();
            for u in units {
                t.add_unit(&one(u.iter().map(|&(n, c)| line(n, c, None)).collect()));
            }
            t.files.remove("/s/a.c").unwrap()
        };
        let ordered = fold(&[vec![(1, 2), (2, 7), (3, 5)], vec![(1, 1), (3, 0)]]);
        assert_eq!(ordered.lines, SortedMap::from([(1, 3), (2, 7), (3, 5)]));
        assert_eq!(
            ordered.branches,
            SortedMap::from([
                ((1, 0, 0), Some(3)),
                ((2, 0, 0), Some(7)),
                ((3, 0, 0), Some(5))
            ])
        );
        for units in [
            [vec![(3, 5), (1, 2), (1, 1), (2, 7)], vec![(3, 0)]],
            [vec![(1, 2), (2, 7), (3, 5), (1, 1)], vec![(3, 0)]],
            [vec![(1, 2), (2, 7), (2, 0), (3, 5)], vec![(1, 1), (3, 0)]],
        ] {
            let rec = fold(&units);
            assert_eq!(rec.lines, ordered.lines, "{units:?}");
            assert_eq!(rec.branches, ordered.branches, "{units:?}");
        }
    }

    /// The text as lcov writes it, record by record with `write!`: the
    /// writer before [`Part`]s, kept as the reference they are checked
    /// against.
    fn reference_text(t: &Tracefile, test_name: &str) -> String {
        use std::fmt::Write;
        let mut w = String::new();
        for (name, rec) in &t.files {
            let _ = writeln!(w, "TN:{test_name}\nSF:{name}");
            let mut fns: Vec<(&String, &(u32, Count))> = rec.functions.iter().collect();
            fns.sort_by(|(n, (line, _)), (m, (other, _))| (line, n).cmp(&(other, m)));
            for (n, (l, _)) in &fns {
                let _ = writeln!(w, "FN:{l},{n}");
            }
            for (n, (_, count)) in &fns {
                let _ = writeln!(w, "FNDA:{count},{n}");
            }
            let hit = fns.iter().filter(|(_, (_, c))| *c > 0).count();
            let _ = writeln!(w, "FNF:{}\nFNH:{hit}", fns.len());
            for ((l, block, branch), taken) in &rec.branches {
                match taken {
                    Some(t) => writeln!(w, "BRDA:{l},{block},{branch},{t}"),
                    None => writeln!(w, "BRDA:{l},{block},{branch},-"),
                }
                .unwrap();
            }
            if !rec.branches.is_empty() {
                let hit = rec.branches.values().filter(|t| t.is_some_and(|t| t > 0));
                let _ = writeln!(w, "BRF:{}\nBRH:{}", rec.branches.len(), hit.count());
            }
            for (l, count) in &rec.lines {
                let _ = writeln!(w, "DA:{l},{count}");
            }
            let hit = rec.lines.values().filter(|&&c| c > 0).count();
            let _ = writeln!(w, "LF:{}\nLH:{hit}\nend_of_record", rec.lines.len());
        }
        w
    }

    /// [`Tracefile::write_to`], and its parts of any size formatted apart
    /// and concatenated, are the reference text.
    fn parts_match_the_reference(t: &Tracefile, test_name: &str) {
        let want = reference_text(t, test_name);
        assert_eq!(t.write(test_name), want, "write_to");
        for most in [0, 1, 2, 3, 7, 64, 1024, usize::MAX] {
            let mut got = Vec::new();
            for p in t.parts(test_name, most) {
                let mut piece = Vec::new();
                p.render(&mut piece);
                got.extend_from_slice(&piece);
            }
            assert_eq!(String::from_utf8(got).unwrap(), want, "parts of {most}");
        }
    }

    /// Parts of crafted records: saturated sums and counts past 2^64, a
    /// never-executed branch, a file without branches, one without
    /// functions, one without anything.
    #[test]
    fn parts_of_crafted_records_are_the_reference_text() {
        let mut t = Tracefile::default();
        for c in [i128::MAX, i128::MAX, 2] {
            t.add_unit(&unit(c));
        }
        assert!(t.saturated);
        let mut lines = SortedMap::new();
        let mut branches = SortedMap::new();
        for l in 1..=40u32 {
            let c = match l % 4 {
                0 => 0,
                1 => Count::MAX,
                2 => u128::from(u64::MAX) + u128::from(l),
                _ => u128::from(l),
            };
            lines.insert(l, c);
            for b in 0..(l % 3) {
                branches.insert((l, 0, b), (b != 1).then_some(c));
            }
        }
        t.files.insert(
            "/s/b.c".into(),
            FileRecord {
                lines: lines.clone(),
                ..FileRecord::default()
            },
        );
        t.files.insert(
            "/s/c.c".into(),
            FileRecord {
                functions: BTreeMap::from([
                    ("z".into(), (3, 0)),
                    ("a".into(), (3, Count::MAX)),
                    ("m".into(), (1, 7)),
                ]),
                lines,
                branches,
                ..FileRecord::default()
            },
        );
        t.files.insert("/s/d.c".into(), FileRecord::default());
        let text = t.write("t1");
        assert!(text.contains(&format!("DA:1,{}\n", Count::MAX)));
        assert!(text.contains("BRDA:2,0,1,-\n") && text.contains("FN:3,a\nFN:3,z\n"));
        assert!(text.contains("SF:/s/d.c\nFNF:0\nFNH:0\nLF:0\nLH:0\nend_of_record\n"));
        parts_match_the_reference(&t, "t1");
    }

    /// Parts of the tracefiles of real units (GCC 12 and GCC 14, with
    /// conditions) are the reference text.
    #[test]
    fn parts_of_real_units_are_the_reference_text() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/samples");
        for gcc in ["gcc-12", "gcc-14"] {
            let mut t = Tracefile::default();
            for run in ["run1", "run2"] {
                for u in ["main", "ops", "parse", "unused"] {
                    let path = format!("{dir}/{gcc}/calc/{run}/{u}");
                    let Ok(notes) = std::fs::read(format!("{path}.gcno")) else {
                        continue;
                    };
                    let notes = crate::gcov::gcno::Gcno::decode(&notes).unwrap();
                    let data = std::fs::read(format!("{path}.gcda")).unwrap();
                    let data = crate::gcov::gcda::Gcda::decode(&data).unwrap();
                    t.add_unit(&crate::analysis::coverage::compute(&notes, Some(&data)));
                }
            }
            assert!(
                t.files.values().map(|r| r.branches.len()).sum::<usize>() > 20,
                "{gcc}"
            );
            parts_match_the_reference(&t, "calc");
        }
    }

    /// The units folded as [`Tracefile::add_unit`] does, and with each
    /// file's functions made apart ([`Functions`]) and its lines gathered
    /// apart in pieces cut after every `cut` lines ([`Gathered`]).
    fn fold_apart_matches(units: &[UnitCoverage]) {
        let mut want = Tracefile::default();
        for u in units {
            want.add_unit(u);
        }
        for cut in [1, 2, 3, 5, 1000] {
            let mut got = Tracefile::default();
            for u in units {
                for file in &u.files {
                    let name = resolve(u.cwd.as_deref(), &file.file);
                    let functions = Functions::new(file.functions.clone());
                    let mut fold = got.add_file_with(name, functions);
                    for piece in file.lines.chunks(cut) {
                        let mut g = Gathered::default();
                        for l in piece {
                            g.line(l);
                        }
                        fold.append(g);
                    }
                }
            }
            assert_eq!(got, want, "pieces of {cut}");
        }
    }

    /// Crafted units: sums that saturate (in a function, a line, a
    /// branch), negative counts, a function named twice in a unit, lines
    /// out of order and repeated, into records already there or not.
    #[test]
    fn folds_apart_are_the_fold() {
        let mut twice = unit(5);
        let f = &mut twice.files[0];
        f.functions.push(FunctionCoverage {
            start_line: 9,
            ..f.functions[0].clone()
        });
        f.lines = [(3, 4), (1, i128::MAX), (1, 7), (2, -1), (3, 0), (5, 2)]
            .iter()
            .map(|&(n, c)| line(n, c, None))
            .collect();
        let units = [
            unit(i128::MAX),
            twice,
            unit(-3),
            unit(i128::MAX),
            unit(i128::MAX),
        ];
        let mut t = Tracefile::default();
        for u in &units {
            t.add_unit(u);
        }
        assert!(t.saturated, "the crafted sums saturate");
        for n in 1..=units.len() {
            fold_apart_matches(&units[..n]);
        }
    }

    /// Real units (GCC 12, GCC 14 with conditions), two runs each, so
    /// that records are added to.
    #[test]
    fn folds_apart_of_real_units_are_the_fold() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/samples");
        for gcc in ["gcc-12", "gcc-14"] {
            let mut units = Vec::new();
            for run in ["run1", "run2"] {
                for u in ["main", "ops", "parse", "unused"] {
                    let path = format!("{dir}/{gcc}/calc/{run}/{u}");
                    let notes = std::fs::read(format!("{path}.gcno")).unwrap();
                    let notes = crate::gcov::gcno::Gcno::decode(&notes).unwrap();
                    let data = std::fs::read(format!("{path}.gcda")).unwrap();
                    let data = crate::gcov::gcda::Gcda::decode(&data).unwrap();
                    units.push(crate::analysis::coverage::compute(&notes, Some(&data)));
                }
            }
            fold_apart_matches(&units);
        }
    }

    #[test]
    fn test_names_keep_ascii_word_characters_only() {
        assert_eq!(test_name("run_1"), ("run_1".into(), false));
        assert_eq!(test_name("a-b é"), ("a_b___".into(), true));
        assert_eq!(test_name(""), (String::new(), false));
    }
}
