//! The gcno (notes) file: the flow graph of every function, its blocks,
//! arcs and source lines, written by the compiler beside the object.
//!
//! The header grew over the releases: GCC 8 added the "has unexecuted
//! blocks" flag, GCC 9 the compilation directory before it, GCC 12 a
//! checksum word after the stamp. Strings are a length in words and
//! NUL-padded words before GCC 12, a length in bytes and the bytes (NUL
//! included, unpadded) from GCC 12. See `formats/gcno.md`.
//!
//! The model is flat, as gimli and object keep theirs: the functions,
//! blocks, arcs, locations, line numbers and decisions of the whole file
//! each sit in one array of [`Gcno`], a function or block holds the range
//! of its parts there, and file names are interned once per file. Readers
//! walk it through borrowed views ([`Gcno::functions`] → [`FunctionRef`] →
//! [`BlockRef`] → [`Location`]). SQLite's notes (8.5 MB, 75,000 blocks,
//! 130,000 locations) decode into eight arrays instead of 200,000 small
//! allocations, and are freed in as many calls.
//!
//! The file is decoded as it is read ([`Decoder`], fed pieces of it), or
//! whole ([`Gcno::decode`], the same decoder given one piece).
//!
//! This file holds the model, then one short decoder per record
//! (function, blocks, arcs, lines, conditions), each next to the state it
//! fills in; the views, with their `Debug` and `serde` forms, are in
//! `gcno/views.rs`.

use crate::bytes::endian::Endian;
use crate::bytes::reader::Reader;
use crate::error::{Error, ErrorKind, NotesError, Result};
use crate::gcov::gcda::FunctionId;
use crate::gcov::record::{Header, RawRecord, Records, read_header};
use crate::gcov::tag::Tag;
use crate::gcov::version::{Family, Version};
use std::collections::HashMap;

/// The magic word, spelled in big-endian order (a little-endian notes file starts with the bytes `oncg`).
pub const MAGIC: &[u8; 4] = b"gcno";

/// Arc flag `GCOV_ARC_ON_TREE`: the arc is on the spanning tree and has no counter; its count is solved from the others.
pub const ARC_ON_TREE: u32 = 1;
/// Arc flag `GCOV_ARC_FAKE`: an edge added for a call that may not return (to the exit block); gcov marks the block a call site, and its other non-fall-through arcs exception edges.
pub const ARC_FAKE: u32 = 2;
/// Arc flag `GCOV_ARC_FALLTHROUGH`: the edge taken when a conditional jump is not.
pub const ARC_FALLTHROUGH: u32 = 4;

/// A decoded notes file.
///
/// Every part of every function lives in one array per kind; the views
/// ([`Gcno::functions`], [`FunctionRef::blocks`], [`BlockRef::arcs`],
/// [`BlockRef::locations`]) hand out slices of them. The ranges are `u32`:
/// each part takes at least four bytes of the file and files of 4 GiB or
/// more are refused, so every index fits, in half the room of a `usize`.
///
/// With the `serde` feature it serializes in the nested shape of the
/// views (functions holding blocks holding arcs and locations).
///
/// ```
/// use xencov::gcov::gcno::Gcno;
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/xen/gcc-12/libgcov-run1/ops.gcno");
/// let notes = Gcno::decode(&std::fs::read(path).unwrap())?;
/// let f = notes.functions().next().unwrap();
/// assert_eq!((f.name.as_str(), f.source(), f.start_line), ("apply_unary", "ops.c", 60));
/// assert_eq!(f.blocks().len(), 13);
/// let block = f.block(2).unwrap();
/// let dests: Vec<u32> = block.arcs().iter().map(|a| a.dest).collect();
/// assert_eq!(dests, [10, 3, 6, 9]);
/// let first = block.locations().next().unwrap();
/// assert_eq!((first.file, first.lines), ("ops.c", &[60, 62, 63][..]));
/// # Ok::<(), xencov::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gcno {
    /// The magic, version word and stamp that open the file.
    pub header: Header,
    /// The compilation directory (GCC 9+).
    pub cwd: Option<String>,
    /// Whether lines may be marked as having unexecuted blocks (GCC 8+).
    pub has_unexecuted_blocks: Option<bool>,
    functions: Vec<GcnoFunction>,
    blocks: Vec<Block>,
    arcs: Vec<Arc>,
    locations: Vec<LocationEntry>,
    lines: Vec<u32>,
    files: Vec<String>,
    conditions: Vec<Condition>,
}

/// A range of one of the arrays of [`Gcno`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// The items in the range (none if it is out of bounds, which the
    /// decoder never makes).
    fn of<T>(self, all: &[T]) -> &[T] {
        all.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }

    fn len(self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// `start..end` of array positions, both from a `usize`.
    fn new(start: usize, end: usize) -> Span {
        Span {
            start: index(start),
            end: index(end),
        }
    }
}

/// An array position as stored: exact, as the decoder refuses a file of
/// 4 GiB or more and no array holds more items than the file has words.
fn index(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One function's source position and identity; its blocks and decisions
/// are reached through [`FunctionRef`], which dereferences to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcnoFunction {
    /// Ident and checksums, as the gcda's function record repeats them.
    pub id: FunctionId,
    /// The linkage (mangled) name.
    pub name: String,
    /// Compiler-made, not in any source (GCC 8+).
    pub artificial: bool,
    /// The source file that holds the function's start: its index in
    /// `Gcno::files` ([`FunctionRef::source`]).
    source: u32,
    /// The 1-based line of the function's start.
    pub start_line: u32,
    /// The column of the function's start (GCC 8+; 0 before).
    pub start_column: u32,
    /// The last line of the function (GCC 8+; 0 in older notes).
    pub end_line: u32,
    /// The column of the function's end (GCC 10+; 0 before).
    pub end_column: u32,
    blocks: Span,
    conditions: Span,
}

/// One decision (a boolean expression with one or more terms) of condition
/// coverage. The `conditions` counters give two bit sets per decision:
/// bit `i` of the first is set when term `i` was shown to independently
/// make the outcome true, of the second when it made it false.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Condition {
    /// The block that takes the decision's outcome (its lines are the
    /// decision's lines).
    pub block: u32,
    /// Number of terms (conditions) of the decision.
    pub terms: u32,
}

/// A basic block as stored: its flags and the ranges of its arcs and
/// locations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Block {
    flags: u32,
    arcs: Span,
    locations: Span,
}

/// An edge of the flow graph, from the block that lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Arc {
    /// The destination block number.
    pub dest: u32,
    /// `GCOV_ARC_*` flags: [`ARC_ON_TREE`], [`ARC_FAKE`], [`ARC_FALLTHROUGH`].
    pub flags: u32,
}

impl Arc {
    /// Whether the arc is on the spanning tree, so it has no counter and its count is solved from the others ([`ARC_ON_TREE`]).
    pub fn on_tree(&self) -> bool {
        self.flags & ARC_ON_TREE != 0
    }
    /// Whether the arc is a fake edge ([`ARC_FAKE`]).
    pub fn fake(&self) -> bool {
        self.flags & ARC_FAKE != 0
    }
    /// Whether the arc is the fall-through edge ([`ARC_FALLTHROUGH`]).
    pub fn fall_through(&self) -> bool {
        self.flags & ARC_FALLTHROUGH != 0
    }
}

/// A location as stored: the file's index in `Gcno::files` and the range
/// of its line numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LocationEntry {
    file: u32,
    lines: Span,
}

/// Reads strings in the encoding of the file's release, and interns the
/// file names of LINES records. It owns its keys (a handful of names per
/// unit), so that the bytes they were read from can be freed or reused as
/// the file is read piece by piece ([`Decoder`]).
struct Strings {
    bytes_length: bool,
    /// The last file name of a LINES record, as stored, and its index in
    /// `files`: every block's record names its file again, nearly always
    /// the same one, so a repeat is a comparison, not a scan, a check and a
    /// lookup.
    last_file: Option<(Vec<u8>, u32)>,
    /// Every file name read so far (up to its NUL) and its index.
    known: HashMap<Vec<u8>, u32>,
}

impl Strings {
    fn read(&self, r: &mut Reader<'_>, what: &'static str) -> Result<Option<String>> {
        let at = r.offset();
        let Some((_, text)) = self.raw(r, what)? else {
            return Ok(None);
        };
        String::from_utf8(text.to_vec())
            .map(Some)
            .map_err(|_| Error::new(at, NotesError::NotUtf8 { what }.into()))
    }

    /// A string as stored (the bytes the length covers) and its text (up
    /// to the first NUL), not yet checked to be UTF-8.
    fn raw<'a>(
        &self,
        r: &mut Reader<'a>,
        what: &'static str,
    ) -> Result<Option<(&'a [u8], &'a [u8])>> {
        let len = u64::from(r.u32(what)?);
        if len == 0 {
            return Ok(None);
        }
        let bytes = if self.bytes_length { len } else { len * 4 };
        let raw = r.bytes(bytes, what)?;
        let end = memchr::memchr(0, raw).unwrap_or(raw.len());
        Ok(Some((raw, raw.get(..end).unwrap_or_default())))
    }

    /// A function's source file name as its index in `files` (added there
    /// the first time it is read; an absent name is the empty one).
    fn source(
        &mut self,
        r: &mut Reader<'_>,
        what: &'static str,
        files: &mut Vec<String>,
    ) -> Result<u32> {
        let at = r.offset();
        let Some((raw, text)) = self.raw(r, what)? else {
            return self.intern(b"", at, what, files);
        };
        // Most functions are in the file the last LINES record named
        // (SQLite: all 3,800 in one), found so without hashing the name.
        if let Some((last, i)) = &self.last_file
            && raw == last.as_slice()
        {
            return Ok(*i);
        }
        self.intern(text, at, what, files)
    }

    /// The index in `files` of a name (its text up to the NUL), which is
    /// checked to be UTF-8 and added the first time.
    fn intern(
        &mut self,
        text: &[u8],
        at: usize,
        what: &'static str,
        files: &mut Vec<String>,
    ) -> Result<u32> {
        if let Some(&i) = self.known.get(text) {
            return Ok(i);
        }
        let name = std::str::from_utf8(text)
            .map_err(|_| Error::new(at, NotesError::NotUtf8 { what }.into()))?;
        let i = index(files.len());
        files.push(name.to_string());
        self.known.insert(text.to_vec(), i);
        Ok(i)
    }

    /// A file name of a LINES record as its index in `files` (added there
    /// the first time it is read).
    fn file(
        &mut self,
        r: &mut Reader<'_>,
        what: &'static str,
        files: &mut Vec<String>,
    ) -> Result<Option<u32>> {
        if let Some((last, i)) = &self.last_file {
            let mut ahead = r.clone();
            let len = u64::from(ahead.u32(what)?);
            let bytes = if self.bytes_length { len } else { len * 4 };
            if len != 0
                && bytes == last.len() as u64
                && ahead.bytes(bytes, what).is_ok_and(|raw| raw == last)
            {
                *r = ahead;
                return Ok(Some(*i));
            }
        }
        let at = r.offset();
        let Some((raw, text)) = self.raw(r, what)? else {
            return Ok(None);
        };
        let i = self.intern(text, at, what, files)?;
        // The name's buffer is reused: a change of file costs a copy of a
        // few bytes, not an allocation.
        match &mut self.last_file {
            Some((last, j)) => {
                last.clear();
                last.extend_from_slice(raw);
                *j = i;
            }
            None => self.last_file = Some((raw.to_vec(), i)),
        }
        Ok(Some(i))
    }
}

/// Where the current function's locations start, and whether a block's
/// LINES records came apart (see [`lines`]).
#[derive(Default)]
struct LinesState {
    /// The first location and line number of the current function.
    first_location: usize,
    first_line: usize,
    /// Set when a LINES record names a block whose locations are not the
    /// last ones stored (GCC writes one record per block; a file may repeat
    /// one): from then on `blocks` tags each of the function's locations
    /// with its block, and the function's locations are regrouped by block
    /// when it ends.
    apart: bool,
    blocks: Vec<u32>,
}

/// A location that continues the previous one of its block (its lines
/// go to that location once the function's locations are regrouped).
const CONTINUED: u32 = u32::MAX;

impl Gcno {
    /// Decodes a whole notes file: the [`Decoder`] given it as its last
    /// (and only) piece.
    pub fn decode(data: &[u8]) -> Result<Gcno> {
        Decoder::new().finish(data)
    }
}

/// Decodes a notes file piece by piece as it is read, so that a reader
/// needs no buffer of the whole file (8.5 MB for SQLite, each page of it
/// faulted in, filled and freed again for one pass of the decoder).
///
/// Each piece holds the file's bytes from [`Decoder::offset`]:
/// [`Decoder::feed`] decodes every whole record in it and says how many
/// bytes it consumed; the caller keeps the rest in front of the bytes it
/// reads next. A record longer than the caller's buffer is decoded once a
/// piece holds all of it: [`Decoder::needed`] says how many bytes that
/// takes. The file's last piece goes to [`Decoder::finish`], which gives
/// the model.
///
/// Model or error (its offset and kind), the result is the one
/// [`Gcno::decode`] gives for the whole file, whatever the pieces. The
/// decoder learns the file's length only at its end, and the checks that
/// depend on it wait for it:
/// - an error found before the end stands unless the file turns out to be
///   of 4 GiB or more ([`NotesError::TooLarge`], which `decode` checks
///   first): the rest of the file is consumed unread, and `finish` says
///   which error holds;
/// - a block count too large for the bytes seen so far
///   ([`NotesError::TooManyBlocks`], [`NotesError::BlockBudget`]) may fit
///   the whole file: the decoder waits for the bytes that would allow it
///   (`needed`), or for the end of the file;
/// - a record cut by the end of a piece waits for the rest; cut by the end
///   of the file, it is [`ErrorKind::LengthPastEnd`]
///   as for the whole file.
///
/// An end marker ends the records; the bytes after it are consumed unread.
///
/// ```
/// use xencov::gcov::gcno::{Decoder, Gcno};
/// # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/samples/xen/gcc-12/libgcov-run1/ops.gcno");
/// let bytes = std::fs::read(path).unwrap();
/// let mut decoder = Decoder::new();
/// let mut pending = Vec::new();
/// for piece in bytes.chunks(100) {
///     pending.extend_from_slice(piece);
///     let used = decoder.feed(&pending)?;
///     pending.drain(..used);
/// }
/// assert_eq!(decoder.finish(&pending)?, Gcno::decode(&bytes)?);
/// # Ok::<(), xencov::Error>(())
/// ```
pub struct Decoder {
    /// Offset in the file of the first byte not consumed yet.
    offset: usize,
    /// Bytes from `offset` that a piece must hold for the decoder to go on.
    needed: usize,
    phase: Phase,
}

enum Phase {
    /// Nothing consumed yet: the header, the compilation directory and the
    /// unexecuted-blocks flag are decoded together, from the first piece
    /// that holds them all.
    Start,
    Records(Box<Progress>),
    /// After an end marker.
    Ended(Box<Progress>),
    /// Stopped at an error, or (`None`) at the 4 GiB mark: which error is
    /// the file's is known at its end.
    Stopped(Option<Error>),
}

/// The model decoded so far and what its records need of the earlier ones.
struct Progress {
    notes: Gcno,
    strings: Strings,
    /// Blocks claimed so far by GCC 8+ BLOCKS records (a count, not a list).
    claimed_blocks: usize,
    state: LinesState,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder at the start of a notes file.
    pub fn new() -> Decoder {
        Decoder {
            offset: 0,
            needed: 0,
            phase: Phase::Start,
        }
    }

    /// Offset in the file of the first byte not consumed yet, where the
    /// next piece starts.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// How many bytes from [`Decoder::offset`] the next piece must hold for
    /// the decoder to go on (the header, a whole record, or the bytes that
    /// make a block count possible), as far as the decoder knows yet. A
    /// caller whose buffer is smaller grows it; the file may end sooner,
    /// which [`Decoder::finish`] then reports as the whole file's decoder
    /// does.
    pub fn needed(&self) -> usize {
        self.needed
    }

    /// The compilation directory (GCC 9+) and the file names decoded so
    /// far, in order of first mention ([`Gcno::cwd`], [`Gcno::files`]):
    /// what a caller can start on before the whole file is read (`lcov`
    /// reads a large unit's sources for exclusion markers while its notes
    /// are still decoded). Nothing before the header; a file that turns
    /// out to be bad is still reported by [`Decoder::finish`].
    pub fn files_so_far(&self) -> (Option<&str>, &[String]) {
        match &self.phase {
            Phase::Records(p) | Phase::Ended(p) => (p.notes.cwd.as_deref(), &p.notes.files),
            Phase::Start | Phase::Stopped(_) => (None, &[]),
        }
    }

    /// Decodes what `piece`, the file's bytes from [`Decoder::offset`],
    /// holds whole, and returns how many bytes of it were consumed. Only a
    /// bad header fails here; any other error waits for
    /// [`Decoder::finish`] (see [`Decoder`]).
    pub fn feed(&mut self, piece: &[u8]) -> Result<usize> {
        let used = self.advance(piece, false)?;
        self.offset += used;
        Ok(used)
    }

    /// Decodes the file's last piece (its bytes from [`Decoder::offset`]
    /// to its end) and returns the model.
    pub fn finish(mut self, last: &[u8]) -> Result<Gcno> {
        self.advance(last, true)?;
        match self.phase {
            Phase::Records(p) | Phase::Ended(p) => Ok(p.finish()),
            // Not reached: at the end of the file `advance` decodes the
            // header or fails, and fails when stopped. Refused, not
            // panicked on, as input must never panic the library.
            Phase::Start | Phase::Stopped(_) => Err(Error::new(
                self.offset,
                ErrorKind::Truncated {
                    what: "the notes file",
                    needed: self.needed as u64,
                    available: last.len(),
                },
            )),
        }
    }

    /// Decodes what `piece` holds, all of it when it is the file's `last`;
    /// returns the bytes consumed (not yet added to `offset`).
    fn advance(&mut self, piece: &[u8], last: bool) -> Result<usize> {
        // The file holds at least the bytes up to the piece's end; at its
        // end, exactly these.
        let end = self.offset.saturating_add(piece.len());
        let too_large = u32::try_from(end).is_err();
        let mut used = 0;
        if let Phase::Start = self.phase {
            let (header, mut r) = match read_header(piece, MAGIC) {
                Ok(h) => h,
                Err(e) if !last && cut(&e) => return Ok(self.wait_for(&e)),
                Err(e) => return Err(e),
            };
            // Checked after the header and before anything else, as the
            // whole file's decoder always did.
            if too_large {
                return self.stop(None, piece, last, end);
            }
            match Progress::start(header, &mut r) {
                Ok(p) => {
                    used = r.offset() - self.offset;
                    self.phase = Phase::Records(p);
                }
                Err(e) if !last && cut(&e) => return Ok(self.wait_for(&e)),
                Err(e) => return self.stop(Some(e), piece, last, end),
            }
        }
        let p = match &mut self.phase {
            Phase::Records(p) => p,
            Phase::Stopped(e) => {
                let e = e.take();
                return self.stop(e, piece, last, end);
            }
            Phase::Ended(_) if last && too_large => return self.stop(None, piece, last, end),
            Phase::Ended(_) | Phase::Start => return Ok(piece.len()),
        };
        if too_large {
            return self.stop(None, piece, last, end);
        }
        let base = self.offset + used;
        let rest = piece.get(used..).unwrap_or_default();
        let mut records = Records::new(
            Reader::at(rest, base, p.notes.header.endian),
            p.notes.header.version,
        );
        // The end of the last record decoded, from `base`.
        let mut done = 0;
        self.needed = 0;
        loop {
            let raw = match records.next() {
                Some(Ok(raw)) => raw,
                None => {
                    done = rest.len();
                    if records.saw_end_marker() {
                        self.phase = match std::mem::replace(&mut self.phase, Phase::Start) {
                            Phase::Records(p) => Phase::Ended(p),
                            other => other,
                        };
                    }
                    break;
                }
                // A record cut by the end of the piece: from its tag on,
                // it waits for the next.
                Some(Err(e)) if !last && cut(&e) => {
                    self.needed = match e.kind {
                        ErrorKind::LengthPastEnd { claimed, .. } => {
                            usize::try_from(claimed.saturating_add(8)).unwrap_or(usize::MAX)
                        }
                        _ => 8,
                    };
                    break;
                }
                Some(Err(e)) => return self.stop(Some(e), piece, last, end),
            };
            match p.record(&raw, end) {
                Ok(()) => done = raw.payload_offset() + raw.payload.len() - base,
                Err(e) if !last && let Some(len) = budget_needs(&e) => {
                    // Too many blocks for the bytes seen so far, maybe not
                    // for the whole file: the record waits for them.
                    self.needed = len.saturating_sub(base + done);
                    break;
                }
                Err(e) => return self.stop(Some(e), piece, last, end),
            }
        }
        Ok(used + done)
    }

    /// Waits for the bytes a read of the header cut by the piece's end
    /// (error `e`) needs; nothing is consumed.
    fn wait_for(&mut self, e: &Error) -> usize {
        if let ErrorKind::Truncated { needed, .. } = e.kind {
            let to = (e.offset as u64).saturating_add(needed);
            self.needed = usize::try_from(to)
                .unwrap_or(usize::MAX)
                .saturating_sub(self.offset);
        }
        0
    }

    /// Stops at error `e` (`None`: at the 4 GiB mark). At the end of the
    /// file the error is returned, unless the file is of 4 GiB or more;
    /// before, the rest of the file is consumed unread until its length is
    /// known.
    fn stop(&mut self, e: Option<Error>, piece: &[u8], last: bool, end: usize) -> Result<usize> {
        match e {
            Some(e) if last && u32::try_from(end).is_ok() => Err(e),
            _ if last => Err(Error::new(0, NotesError::TooLarge { file_len: end }.into())),
            e => {
                self.phase = Phase::Stopped(e);
                self.needed = 0;
                Ok(piece.len())
            }
        }
    }
}

/// Whether an error is a read past the end of the bytes given (which more
/// bytes of the file may satisfy).
fn cut(e: &Error) -> bool {
    matches!(
        e.kind,
        ErrorKind::Truncated { .. } | ErrorKind::LengthPastEnd { .. }
    )
}

/// The file length at which a block count refused for a shorter one would
/// pass the first of the checks of [`blocks`] that refused it (the next may
/// still refuse it), or `None` for another error.
fn budget_needs(e: &Error) -> Option<usize> {
    match &e.kind {
        // Refused when blocks > file_len / 8 + 2.
        ErrorKind::Notes(NotesError::TooManyBlocks { blocks, .. }) => {
            Some(blocks.saturating_sub(2).saturating_mul(8))
        }
        // Refused when total > file_len / 8 + (limit - file_len / 8).
        ErrorKind::Notes(NotesError::BlockBudget {
            total,
            file_len,
            limit,
            ..
        }) => Some(
            total
                .saturating_sub(limit.saturating_sub(file_len / 8))
                .saturating_mul(8),
        ),
        _ => None,
    }
}

impl Progress {
    /// The compilation directory and the unexecuted-blocks flag after the
    /// header, and the empty model.
    fn start(header: Header, r: &mut Reader<'_>) -> Result<Box<Progress>> {
        let v = header.version;
        let strings = Strings {
            bytes_length: v.at_least(12, 0),
            last_file: None,
            known: HashMap::new(),
        };
        let cwd = if v.at_least(9, 0) {
            Some(
                strings
                    .read(r, "the compilation directory")?
                    .unwrap_or_default(),
            )
        } else {
            None
        };
        let has_unexecuted_blocks = if v.at_least(8, 0) {
            Some(r.u32("the unexecuted-blocks flag")? != 0)
        } else {
            None
        };
        Ok(Box::new(Progress {
            notes: Gcno {
                header,
                cwd,
                has_unexecuted_blocks,
                functions: Vec::new(),
                blocks: Vec::new(),
                arcs: Vec::new(),
                locations: Vec::new(),
                lines: Vec::new(),
                files: Vec::new(),
                conditions: Vec::new(),
            },
            strings,
            claimed_blocks: 0,
            state: LinesState::default(),
        }))
    }

    /// Decodes one record; `file_len` is the file's length (or, before its
    /// end, the bytes known so far) for the blocks' budget.
    fn record(&mut self, raw: &RawRecord<'_>, file_len: usize) -> Result<()> {
        let Progress {
            notes,
            strings,
            claimed_blocks,
            state,
        } = self;
        let v = notes.header.version;
        let mut p = raw.reader(notes.header.endian);
        if raw.tag == Tag::FUNCTION {
            regroup(notes, state);
            let f = function(
                &mut p,
                v,
                strings,
                &mut notes.files,
                notes.blocks.len(),
                notes.conditions.len(),
            )?;
            notes.functions.push(f);
            state.first_location = notes.locations.len();
            state.first_line = notes.lines.len();
            return Ok(());
        }
        let known = match raw.tag {
            Tag::CONDITIONS => v.at_least(14, 0),
            Tag::BLOCKS | Tag::ARCS | Tag::LINES => true,
            _ => false, // other notes (none defined today) carry nothing we use
        };
        if !known {
            return Ok(());
        }
        if notes.functions.is_empty() {
            return Err(invalid(raw, NotesError::BeforeFunction { tag: raw.tag }));
        }
        match raw.tag {
            Tag::CONDITIONS => conditions(notes, raw, &mut p),
            Tag::BLOCKS => {
                let budget = Budget {
                    file_len,
                    functions: notes.functions.len(),
                    claimed: claimed_blocks,
                };
                blocks(notes, raw, &mut p, v, budget)
            }
            Tag::ARCS => arcs(notes, raw, &mut p),
            _ => lines(notes, raw, &mut p, strings, state),
        }
    }

    /// The model, once the last function's locations are in block order.
    fn finish(self: Box<Self>) -> Gcno {
        let Progress {
            mut notes,
            mut state,
            ..
        } = *self;
        regroup(&mut notes, &mut state);
        notes
    }
}

fn function(
    p: &mut Reader<'_>,
    v: Version,
    s: &mut Strings,
    files: &mut Vec<String>,
    blocks: usize,
    conditions: usize,
) -> Result<GcnoFunction> {
    let ident = p.u32("a function ident")?;
    let lineno_checksum = p.u32("a function checksum")?;
    let cfg_checksum = match v.format().family {
        Family::Gcc47 => Some(p.u32("a function cfg checksum")?),
        Family::Gcc34 => None,
    };
    let name = s.read(p, "a function name")?.unwrap_or_default();
    let artificial = if v.at_least(8, 0) {
        p.u32("the artificial flag")? != 0
    } else {
        false
    };
    let source = s.source(p, "a source file name", files)?;
    let start_line = p.u32("a start line")?;
    let (mut start_column, mut end_line, mut end_column) = (0, 0, 0);
    if v.at_least(8, 0) {
        start_column = p.u32("a start column")?;
        end_line = p.u32("an end line")?;
    }
    if v.at_least(9, 0) {
        end_column = p.u32("an end column")?;
    }
    Ok(GcnoFunction {
        id: FunctionId {
            ident,
            lineno_checksum,
            cfg_checksum,
        },
        name,
        artificial,
        source,
        start_line,
        start_column,
        end_line,
        end_column,
        blocks: Span::new(blocks, blocks),
        conditions: Span::new(conditions, conditions),
    })
}

/// The current (last) function: the per-function records come after its
/// FUNCTION record, and `decode` has checked that there is one.
fn current<'f>(
    functions: &'f mut [GcnoFunction],
    raw: &RawRecord<'_>,
) -> Result<&'f mut GcnoFunction> {
    functions
        .last_mut()
        .ok_or_else(|| invalid(raw, NotesError::BeforeFunction { tag: raw.tag }))
}

fn conditions(notes: &mut Gcno, raw: &RawRecord<'_>, p: &mut Reader<'_>) -> Result<()> {
    let f = current(&mut notes.functions, raw)?;
    if !f.conditions.is_empty() {
        return Err(invalid(
            raw,
            NotesError::Repeated {
                record: "CONDITIONS",
                function: f.name.clone(),
            },
        ));
    }
    let n = f.blocks.len();
    let list = &mut notes.conditions;
    let first = list.len();
    list.reserve(p.remaining() / 8);
    while !p.is_empty() {
        let block = p.u32("a condition's block")?;
        let terms = p.u32("a condition's number of terms")?;
        if block as usize >= n {
            return Err(invalid(
                raw,
                NotesError::ConditionBlock {
                    block,
                    blocks: n,
                    function: f.name.clone(),
                },
            ));
        }
        // The counters are 64-bit sets with one bit per term: GCC refuses
        // (and warns about) a decision of more terms, and a decision has
        // at least one.
        if terms == 0 || terms > 64 {
            return Err(invalid(
                raw,
                NotesError::ConditionTerms {
                    block,
                    terms,
                    function: f.name.clone(),
                },
            ));
        }
        list.push(Condition { block, terms });
    }
    f.conditions = Span::new(first, list.len());
    Ok(())
}

fn invalid(raw: &RawRecord<'_>, e: NotesError) -> Error {
    Error::new(raw.offset, e.into())
}

/// What the whole file can hold of GCC 8+ block counts. GCC writes an ARCS
/// record (at least 12 bytes) for every block of a function but its exit
/// block, so the blocks of all functions together number at most
/// `file_len / 12` plus one per function. Checking each count alone is not
/// enough: a file repeating one small function with the largest count each
/// time would make the decoder allocate quadratically in the file size.
struct Budget<'a> {
    file_len: usize,
    /// Function records so far, the current one included.
    functions: usize,
    /// Blocks already claimed by earlier BLOCKS records.
    claimed: &'a mut usize,
}

fn blocks(
    notes: &mut Gcno,
    raw: &RawRecord<'_>,
    p: &mut Reader<'_>,
    v: Version,
    budget: Budget<'_>,
) -> Result<()> {
    let file_len = budget.file_len;
    let f = current(&mut notes.functions, raw)?;
    if !f.blocks.is_empty() {
        return Err(invalid(
            raw,
            NotesError::Repeated {
                record: "BLOCKS",
                function: f.name.clone(),
            },
        ));
    }
    let list = &mut notes.blocks;
    let first = list.len();
    if v.at_least(8, 0) {
        let n = p.u32("a block count")? as usize;
        // Every block but entry and exit has an ARCS record (8+ bytes) later
        // in the file: a count the file cannot hold is a lie, refused before
        // anything is allocated for it.
        if n > file_len / 8 + 2 {
            return Err(invalid(
                raw,
                NotesError::TooManyBlocks {
                    blocks: n,
                    function: f.name.clone(),
                    file_len,
                },
            ));
        }
        // Generous by a factor of 1.5 over GCC's own layout (8-byte ARCS
        // records, two spare blocks per function), still linear in the file.
        let limit = (file_len / 8).saturating_add(budget.functions.saturating_mul(2));
        let total = budget.claimed.saturating_add(n);
        if total > limit {
            return Err(invalid(
                raw,
                NotesError::BlockBudget {
                    blocks: n,
                    function: f.name.clone(),
                    total,
                    file_len,
                    limit,
                },
            ));
        }
        *budget.claimed = total;
        list.resize(first + n, Block::default());
    } else {
        // One flags word per block, in one pass; a cut word after them is
        // read for the error the reader gives.
        let endian = p.endian();
        let words = p.rest().chunks_exact(4);
        let whole = words.len();
        list.extend(words.map(|w| Block {
            flags: word(endian, w, 0),
            ..Block::default()
        }));
        p.bytes(whole as u64 * 4, "block flags")?;
        if !p.is_empty() {
            p.u32("block flags")?;
        }
    }
    f.blocks = Span::new(first, list.len());
    Ok(())
}

fn arcs(notes: &mut Gcno, raw: &RawRecord<'_>, p: &mut Reader<'_>) -> Result<()> {
    let f = current(&mut notes.functions, raw)?;
    let n = f.blocks.len();
    let src = p.u32("an arc source block")? as usize;
    let list = &mut notes.arcs;
    let first = list.len();
    // The whole pairs in one pass over the payload; a cut pair after them
    // is read as words, for the error the reader gives.
    let endian = p.endian();
    let pairs = p.rest().chunks_exact(8);
    let whole = pairs.len();
    list.reserve(whole);
    for pair in pairs {
        let dest = word(endian, pair, 0);
        let flags = word(endian, pair, 4);
        if dest as usize >= n {
            return Err(invalid(
                raw,
                NotesError::ArcDestination {
                    block: dest,
                    blocks: n,
                    function: f.name.clone(),
                },
            ));
        }
        list.push(Arc { dest, flags });
    }
    p.bytes(whole as u64 * 8, "an arc destination")?;
    if !p.is_empty() {
        p.u32("an arc destination")?;
        p.u32("arc flags")?;
    }
    let block = f
        .blocks
        .of_mut(&mut notes.blocks)
        .get_mut(src)
        .ok_or_else(|| {
            invalid(
                raw,
                NotesError::ArcSource {
                    block: src,
                    blocks: n,
                    function: f.name.clone(),
                },
            )
        })?;
    if !block.arcs.is_empty() {
        return Err(invalid(
            raw,
            NotesError::RepeatedArcs {
                block: src,
                function: f.name.clone(),
            },
        ));
    }
    block.arcs = Span::new(first, list.len());
    Ok(())
}

impl Span {
    fn of_mut<T>(self, all: &mut [T]) -> &mut [T] {
        all.get_mut(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }
}

/// The 32-bit word at `at` of a payload slice (0 past its end, which the
/// callers' whole chunks never reach).
fn word(endian: Endian, b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, |w| endian.u32_from(w))
}

/// A LINES record: the block's locations, each a file name and the line
/// numbers after it, appended to `locations` and `lines`.
///
/// GCC writes one record per block, so a block's locations, and each
/// location's lines, are the last ones stored while its record is read.
/// A file may still name a block again: its locations continue the
/// block's list, and a line before any file name continues the block's
/// last location. Stored where they come, they are tagged with their
/// block and moved into place when the function ends ([`regroup`]).
fn lines(
    notes: &mut Gcno,
    raw: &RawRecord<'_>,
    p: &mut Reader<'_>,
    s: &mut Strings,
    state: &mut LinesState,
) -> Result<()> {
    let Gcno {
        functions,
        blocks,
        locations,
        lines,
        files,
        ..
    } = notes;
    let f = current(functions, raw)?;
    let n = f.blocks.len();
    let at = p.u32("a block number")? as usize;
    // Borrowed, not cloned: a long name copied for every LINES record would
    // cost time quadratic in the file size.
    let name = &f.name;
    let mine = f.blocks.of(blocks).get(at).map(|b| b.locations);
    let had = mine.ok_or_else(|| {
        invalid(
            raw,
            NotesError::LinesBlock {
                block: at,
                blocks: n,
                function: name.clone(),
            },
        )
    })?;
    let again = !had.is_empty();
    if again && !state.apart && had.end as usize != locations.len() {
        // Not the last block stored: tag what is stored so far.
        state.apart = true;
        state.blocks.clear();
        state
            .blocks
            .resize(locations.len().saturating_sub(state.first_location), 0);
        for (b, blk) in f.blocks.of(blocks).iter().enumerate() {
            for i in blk.locations.start as usize..blk.locations.end as usize {
                if let Some(t) = state.blocks.get_mut(i.saturating_sub(state.first_location)) {
                    *t = index(b);
                }
            }
        }
    }
    // The location new lines go to: the block's last one at first when it
    // is the last one stored, or a continuation of it when it is not.
    let mut open = again && !state.apart;
    let first = if again && !state.apart {
        had.start as usize
    } else {
        locations.len()
    };
    let endian = p.endian();
    loop {
        // A run of line numbers up to a 0 word, in one pass over the words;
        // the 0 (or the cut word that stands for it) is read after.
        let mut taken = 0;
        for w in p.rest().chunks_exact(4) {
            let line = word(endian, w, 0);
            if line == 0 {
                break;
            }
            if !open {
                if !again {
                    return Err(invalid(
                        raw,
                        NotesError::LineBeforeFile {
                            function: name.clone(),
                        },
                    ));
                }
                // Apart: lines for the block's last location, stored here.
                locations.push(LocationEntry {
                    file: CONTINUED,
                    lines: Span::new(lines.len(), lines.len()),
                });
                state.blocks.push(index(at));
                open = true;
            }
            lines.push(line);
            taken += 4;
        }
        if taken > 0 {
            // The open location is the last one stored.
            if let Some(l) = locations.last_mut() {
                l.lines.end = index(lines.len());
            }
            p.bytes(taken, "a line number")?;
        }
        p.u32("a line number")?;
        match s.file(p, "a file name", files)? {
            Some(file) => {
                locations.push(LocationEntry {
                    file,
                    lines: Span::new(lines.len(), lines.len()),
                });
                if state.apart {
                    state.blocks.push(index(at));
                }
                open = true;
            }
            None => break,
        }
    }
    if locations.len() > first
        && let Some(block) = f.blocks.of_mut(blocks).get_mut(at)
    {
        block.locations = if state.apart {
            // Only its emptiness counts until the function is regrouped.
            Span::new(0, 1)
        } else {
            Span::new(first, locations.len())
        };
    }
    Ok(())
}

/// The end of a function whose LINES records came apart ([`lines`]): its
/// locations are put in block order (a stable sort by the tags, so each
/// block's in record order), a continuation's lines appended to the
/// location before it, and the blocks' ranges set again.
fn regroup(notes: &mut Gcno, state: &mut LinesState) {
    if !std::mem::take(&mut state.apart) {
        return;
    }
    let tags = std::mem::take(&mut state.blocks);
    let stored = notes
        .locations
        .split_off(state.first_location.min(notes.locations.len()));
    let old_lines = notes
        .lines
        .split_off(state.first_line.min(notes.lines.len()));
    let Some(f) = notes.functions.last() else {
        return;
    };
    let blocks = f.blocks.of_mut(&mut notes.blocks);
    for b in blocks.iter_mut() {
        b.locations = Span::default();
    }
    let mut order: Vec<usize> = (0..stored.len()).collect();
    order.sort_by_key(|&i| tags.get(i).copied().unwrap_or(0));
    let base = state.first_line;
    for i in order {
        let (Some(l), Some(&b)) = (stored.get(i), tags.get(i)) else {
            continue;
        };
        let from = (l.lines.start as usize).saturating_sub(base);
        let to = (l.lines.end as usize).saturating_sub(base);
        let these = old_lines.get(from..to).unwrap_or_default();
        let locations = &mut notes.locations;
        let lines = &mut notes.lines;
        if l.file == CONTINUED {
            lines.extend_from_slice(these);
            if let Some(last) = locations.last_mut() {
                last.lines.end = index(lines.len());
            }
            continue;
        }
        locations.push(LocationEntry {
            file: l.file,
            lines: Span::new(lines.len(), lines.len() + these.len()),
        });
        lines.extend_from_slice(these);
        if let Some(block) = blocks.get_mut(b as usize) {
            if block.locations.is_empty() {
                block.locations.start = index(locations.len() - 1);
            }
            block.locations.end = index(locations.len());
        }
    }
}

mod views;
pub use views::{BlockRef, Blocks, FunctionRef, Functions, Location, Locations};

#[cfg(test)]
mod tests;
