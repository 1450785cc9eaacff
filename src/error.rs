//! Decoding errors. Every error carries the byte offset where decoding
//! stopped, so a user can find the bad spot with `xxd -s`.

use crate::gcov::version::VersionError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A decoding error at a byte offset of the input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at byte offset {offset} (0x{offset:x}): {kind}")]
pub struct Error {
    pub offset: usize,
    pub kind: ErrorKind,
}

impl Error {
    pub fn new(offset: usize, kind: ErrorKind) -> Self {
        Error { offset, kind }
    }
}

/// What went wrong; the offset lives in [`Error`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("input ends inside {what}: {} needed, {available} left", crate::plural::count(*.needed, "byte", "bytes"))]
    Truncated {
        what: &'static str,
        needed: u64,
        available: usize,
    },
    #[error(
        "not a {expected} file: it starts with {found:02x?}, expected {expected:?} in either byte order"
    )]
    BadMagic {
        expected: &'static str,
        found: Vec<u8>,
    },
    #[error("{0}")]
    Version(#[from] VersionError),
    #[error(
        "record {tag:#010x} claims {} of payload but only {} {}",
        crate::plural::count(*.claimed, "byte", "bytes"),
        crate::plural::count(*.available, "byte", "bytes"),
        if *.available == 1 { "remains" } else { "remain" }
    )]
    LengthPastEnd {
        tag: u32,
        claimed: u64,
        available: usize,
    },
    #[error("record {tag:#010x} has a length of {}, not a multiple of {unit}", crate::plural::count(*.bytes, "byte", "bytes"))]
    LengthNotMultiple { tag: u32, bytes: u64, unit: u32 },
    #[error(
        "record {tag:#010x} has a negative length ({length}); only counter records of GCC 11 and later may be written in the compact all-zero form"
    )]
    NegativeLength { tag: u32, length: i32 },
    #[error("counter record {tag:#010x} does not follow a function record")]
    CounterOutsideFunction { tag: u32 },
    #[error(
        "counter record {tag:#010x} is of kind {index}, but GCC {gcc} has only {kinds} counter kinds"
    )]
    UnknownCounterKind {
        tag: u32,
        index: u32,
        gcc: String,
        kinds: usize,
    },
    #[error("function record of {} is too short: this format needs at least {needed}", crate::plural::count(*.words, "word", "words"))]
    FunctionTooShort { words: usize, needed: usize },
    #[error("{0}")]
    Invalid(String),
}
