//! Decoding errors. Every error carries the byte offset where decoding
//! stopped, so a user can find the bad spot with `xxd -s`.
//!
//! [`Error`] is the offset and an [`ErrorKind`]; the kinds that belong to
//! one container format are grouped in their own enums ([`DumpError`] for
//! Xen's dumps, [`NotesError`] for gcno files, [`LlvmError`] for raw LLVM
//! profiles) so that a caller can match on exactly what went wrong. Offsets
//! are always those of the outermost input: a gcda decoded out of a Xen dump
//! reports offsets in the dump (see [`Error::nested`]).
//!
//! The file stays whole (about 430 lines): it is one error type and the
//! per-container enums it wraps, mostly documentation and message texts,
//! kept side by side so the texts users see read as one voice. LLVM's
//! errors, one variant per failure of four decoders, are in `error/llvm.rs`.

mod llvm;
pub use llvm::LlvmError;

use crate::gcov::tag::Tag;
use crate::gcov::version::{Version, VersionError};
use crate::plural::count;

/// `Result` with this module's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A decoding error at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte offset {offset} (0x{offset:x}): {kind}")]
#[non_exhaustive]
pub struct Error {
    /// Offset in the outermost input of the byte where decoding stopped.
    pub offset: usize,
    /// What went wrong there.
    pub kind: ErrorKind,
}

impl Error {
    /// An error of `kind` at `offset`.
    pub fn new(offset: usize, kind: ErrorKind) -> Self {
        Error { offset, kind }
    }

    /// The same error for a payload that starts at `base` of a larger input
    /// (a gcda inside a Xen dump): its offset becomes one in that input.
    pub fn nested(self, base: usize) -> Self {
        Error {
            offset: self.offset.saturating_add(base),
            kind: self.kind,
        }
    }
}

/// What went wrong; the offset lives in [`Error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input ends before a field it must hold.
    #[error("input ends inside {what}: {} needed, {available} left", count(*.needed, "byte", "bytes"))]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Bytes the field needs.
        needed: u64,
        /// Bytes left in the input.
        available: usize,
    },
    /// A string that should end with a NUL byte runs to the end of the input.
    #[error("{what} has no NUL terminator ({} left)", count(*.available, "byte", "bytes"))]
    Unterminated {
        /// The string being read.
        what: &'static str,
        /// Bytes left in the input, none of them NUL.
        available: usize,
    },
    /// The first bytes are not the magic of the expected kind of file.
    #[error(
        "not a {expected} file: it starts with {found:02x?}, expected {expected:?} in either byte order"
    )]
    BadMagic {
        /// The kind of file expected (`gcda`, `gcno`, `raw LLVM profile`).
        expected: &'static str,
        /// The first bytes of the input.
        found: Vec<u8>,
    },
    /// A gcov version word that names no GCC release we can read.
    #[error("{0}")]
    Version(#[from] VersionError),
    /// A gcov record whose length runs past the end of the input.
    #[error(
        "record {tag:#010x} claims {} of payload but only {} {}",
        count(*.claimed, "byte", "bytes"),
        count(*.available, "byte", "bytes"),
        remain(*.available)
    )]
    LengthPastEnd {
        /// The record's tag.
        tag: Tag,
        /// Payload bytes the length field claims.
        claimed: u64,
        /// Bytes left after the length field.
        available: usize,
    },
    /// A gcov record whose payload is not a whole number of its items.
    #[error("record {tag:#010x} has a length of {}, not a multiple of {unit}", count(*.bytes, "byte", "bytes"))]
    LengthNotMultiple {
        /// The record's tag.
        tag: Tag,
        /// The payload size in bytes.
        bytes: u64,
        /// The size in bytes of one item (a counter, a word).
        unit: u32,
    },
    /// A negative (compact) length on a record that may not have one.
    #[error(
        "record {tag:#010x} has a negative length ({length}); only counter records of GCC 11 and later may be written in the compact all-zero form"
    )]
    NegativeLength {
        /// The record's tag.
        tag: Tag,
        /// The length field read as signed.
        length: i32,
    },
    /// A gcda counter record before any function record.
    #[error("counter record {tag:#010x} does not follow a function record")]
    CounterOutsideFunction {
        /// The counter record's tag.
        tag: Tag,
    },
    /// A gcda counter record of a kind the file's GCC release does not have.
    #[error(
        "counter record {tag:#010x} is of kind {index}, but GCC {gcc} has only {kinds} counter kinds"
    )]
    UnknownCounterKind {
        /// The counter record's tag.
        tag: Tag,
        /// The counter kind the tag encodes.
        index: usize,
        /// The GCC release of the file's version word.
        gcc: String,
        /// How many counter kinds that release has.
        kinds: usize,
    },
    /// A gcda function record shorter than its format's identifying words.
    #[error("function record of {} is too short: this format needs at least {needed}", count(*.words, "word", "words"))]
    FunctionTooShort {
        /// Words in the record.
        words: usize,
        /// Words the format needs.
        needed: usize,
    },
    /// A Xen coverage dump (either form) that is not what it must be.
    #[error(transparent)]
    Dump(#[from] DumpError),
    /// A notes (gcno) file that is not what it must be.
    #[error(transparent)]
    Notes(#[from] NotesError),
    /// A raw LLVM profile that is not what it must be.
    #[error(transparent)]
    Llvm(#[from] LlvmError),
}

fn remain(n: usize) -> &'static str {
    if n == 1 { "remains" } else { "remain" }
}

/// What is wrong with a Xen coverage dump: the 4.9+ container of gcda
/// images or the tagged blob of Xen 4.3–4.8 (`formats/xen-dump.md`,
/// `formats/xen-legacy-dump.md`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DumpError {
    /// No known dump starts this way.
    #[error(
        "not a Xen coverage dump: it starts with {found:02x?}, expected the XCOV magic \
         (Xen 4.9+), a legacy FILE/END tag (Xen 4.3-4.8) or an LLVM raw profile"
    )]
    NotADump {
        /// The first four bytes.
        found: Vec<u8>,
    },
    /// A dump, but not a Xen 4.9+ container.
    #[error("not a Xen 4.9+ coverage dump (no XCOV magic)")]
    NotAContainer,
    /// A dump, but not a Xen 4.3–4.8 blob.
    #[error("not a Xen 4.3-4.8 coverage dump")]
    NotLegacy,
    /// A container record whose gcda path runs to the end of the input.
    #[error("record {record}: the gcda path has no NUL terminator ({} left)", count(*.available, "byte", "bytes"))]
    PathUnterminated {
        /// The record's number, from 0.
        record: usize,
        /// Bytes left, none of them NUL.
        available: usize,
    },
    /// A container record with an empty gcda path.
    #[error("record {record}: empty gcda path")]
    EmptyPath {
        /// The record's number, from 0.
        record: usize,
    },
    /// A container record whose payload size runs past the end of the input.
    #[error(
        "record {record} ({path}): payload size {size} but only {} {}",
        count(*.available, "byte", "bytes"),
        remain(*.available)
    )]
    PayloadPastEnd {
        /// The record's number, from 0.
        record: usize,
        /// The record's gcda path (lossy UTF-8).
        path: String,
        /// The payload size field.
        size: u32,
        /// Bytes left after the size field.
        available: usize,
    },
    /// A container record whose payload is too small for a gcda header.
    #[error("record {record} ({path}): a payload of {} cannot hold a gcda", count(*.size, "byte", "bytes"))]
    PayloadTooSmall {
        /// The record's number, from 0.
        record: usize,
        /// The record's gcda path (lossy UTF-8).
        path: String,
        /// The payload size field.
        size: u32,
    },
    /// A legacy FILE of a gcov version Xen 4.3–4.8 could not have written.
    #[error(
        "unit {unit} claims {version}, but Xen 4.3-4.8 only understood GCC 3.4-4.6 data: \
         this hypervisor misread its own counters"
    )]
    LegacyVersion {
        /// The FILE's number, from 0.
        unit: usize,
        /// The version it claims.
        version: Version,
    },
    /// A legacy COUNTER or FUNC record that does not follow a FILE (or
    /// follows a FUNC of its FILE).
    #[error("a {record} record outside a FILE")]
    OutsideFile {
        /// `COUNTER` or `FUNC`.
        record: &'static str,
    },
    /// Legacy COUNTER records not in increasing kind order.
    #[error("counter kind {kind} out of order")]
    CounterKindOutOfOrder {
        /// The kind that came too late.
        kind: u32,
    },
    /// A legacy COUNTER record whose values run past the end of the input.
    #[error(
        "COUNTER {kind} claims {}, {} {}",
        count(*.values, "value", "values"),
        count(*.available, "byte", "bytes"),
        remain(*.available)
    )]
    CountersPastEnd {
        /// The counter kind.
        kind: u32,
        /// Values the record claims.
        values: u32,
        /// Bytes left after the count.
        available: usize,
    },
    /// A legacy FUNC record whose functions run past the end of the input.
    #[error(
        "FUNC claims {}, {} {}",
        count(*.functions, "function", "functions"),
        count(*.available, "byte", "bytes"),
        remain(*.available)
    )]
    FunctionsPastEnd {
        /// Functions the record claims.
        functions: u32,
        /// Bytes left after the count.
        available: usize,
    },
    /// A legacy unit whose functions use more or fewer counters of a kind
    /// than its COUNTER record holds.
    #[error(
        "unit {unit} ({path}): its functions use {used} counters of kind {kind}, \
         the COUNTER record holds {held}"
    )]
    CounterCountMismatch {
        /// The FILE's number, from 0.
        unit: usize,
        /// The FILE's path (lossy UTF-8).
        path: String,
        /// The counter kind.
        kind: u32,
        /// Counters the functions add up to.
        used: u64,
        /// Counters the COUNTER record holds.
        held: usize,
    },
    /// A legacy unit with counter values but no functions.
    #[error("counters without functions")]
    CountersWithoutFunctions,
    /// A legacy record tag that is none of FILE, FUNC, COUNTER0–4 and END.
    #[error("unknown legacy tag {tag:#010x}")]
    UnknownTag {
        /// The tag word.
        tag: u32,
    },
    /// Bytes after a legacy END tag (more than its alignment padding).
    #[error("{bytes} bytes follow the END tag")]
    TrailingBytes {
        /// How many.
        bytes: usize,
    },
}

/// What is wrong with a notes (gcno) file beyond its record framing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotesError {
    /// A string (a name, a path) that is not UTF-8.
    #[error("{what} is not UTF-8")]
    NotUtf8 {
        /// The string being read.
        what: &'static str,
    },
    /// A per-function record (BLOCKS, ARCS, LINES, CONDITIONS) before any
    /// FUNCTION record.
    #[error("{} before any function", record_name(*.tag))]
    BeforeFunction {
        /// The record's tag.
        tag: Tag,
    },
    /// A second BLOCKS or CONDITIONS record for one function.
    #[error("a second {record} record for {function}")]
    Repeated {
        /// `BLOCKS` or `CONDITIONS`.
        record: &'static str,
        /// The function's name.
        function: String,
    },
    /// A second ARCS record for one block.
    #[error("a second ARCS record for block {block} of {function}")]
    RepeatedArcs {
        /// The source block.
        block: usize,
        /// The function's name.
        function: String,
    },
    /// A GCC 8+ block count larger than the file could describe.
    #[error("{blocks} blocks in {function} claimed by a {file_len}-byte file")]
    TooManyBlocks {
        /// The claimed count.
        blocks: usize,
        /// The function's name.
        function: String,
        /// The file's size.
        file_len: usize,
    },
    /// GCC 8+ block counts that together exceed what the file could describe.
    #[error(
        "{blocks} blocks in {function} would make {total} blocks in all, more than a \
         {file_len}-byte file can hold ({limit})"
    )]
    BlockBudget {
        /// The claimed count.
        blocks: usize,
        /// The function's name.
        function: String,
        /// All blocks claimed so far, this count included.
        total: usize,
        /// The file's size.
        file_len: usize,
        /// The most blocks the file could describe.
        limit: usize,
    },
    /// An ARCS record from a block the function does not have.
    #[error("arcs from block {block} of {blocks} in {function}")]
    ArcSource {
        /// The source block.
        block: usize,
        /// The function's block count.
        blocks: usize,
        /// The function's name.
        function: String,
    },
    /// An arc to a block the function does not have.
    #[error("an arc of {function} to block {block} of {blocks}")]
    ArcDestination {
        /// The destination block.
        block: u32,
        /// The function's block count.
        blocks: usize,
        /// The function's name.
        function: String,
    },
    /// A LINES record for a block the function does not have.
    #[error("lines of block {block} of {blocks} in {function}")]
    LinesBlock {
        /// The block.
        block: usize,
        /// The function's block count.
        blocks: usize,
        /// The function's name.
        function: String,
    },
    /// A line number before any file name in a LINES record.
    #[error("a line before any file in {function}")]
    LineBeforeFile {
        /// The function's name.
        function: String,
    },
    /// A condition in a block the function does not have.
    #[error("a condition of {function} in block {block} of {blocks}")]
    ConditionBlock {
        /// The block.
        block: u32,
        /// The function's block count.
        blocks: usize,
        /// The function's name.
        function: String,
    },
    /// A notes file of 4 GiB or more: the decoded model indexes its parts
    /// in 32 bits (no compiler writes notes near that size).
    #[error("a notes file of {file_len} bytes: 4 GiB or more")]
    TooLarge {
        /// The file's size.
        file_len: usize,
    },
    /// A condition of no terms or of more than 64.
    #[error("a condition of {function} in block {block} with {terms} terms (1 to 64)")]
    ConditionTerms {
        /// The block.
        block: u32,
        /// The number of terms.
        terms: u32,
        /// The function's name.
        function: String,
    },
}

fn record_name(tag: Tag) -> String {
    if tag == Tag::CONDITIONS {
        "a CONDITIONS record".into()
    } else {
        format!("record {tag:#010x}")
    }
}
