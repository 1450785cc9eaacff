//! Raw LLVM profiles (`.profraw`): what clang's profile runtime writes when an
//! instrumented program exits, and what a clang-built Xen hypervisor returns
//! from its coverage sysctl (`xen/common/coverage/llvm.c`).
//!
//! Versions 5 to 10 (clang 11 to 21) are decoded and validated: the header of
//! each version, the binary IDs (7+), the per-function data records, the
//! counters, the MC/DC bitmap (9+), the virtual-table sections (10), the
//! function names (possibly zlib-compressed) and the value-profile data that
//! follows them. Every multi-byte field is read in the byte order the magic
//! was written in; pointer-sized fields are 8 or 4 bytes (the magic says
//! which). A profile whose header promises more than the input holds, or whose
//! records point outside their sections, is refused with the byte offset of
//! the field that lies. See `formats/llvm-raw-profile.md`.
//!
//! The layout follows the header: sections are placed by the sizes and
//! padding the header states, as LLVM's `RawInstrProfReader` places them, so
//! a hypervisor that writes no padding (Xen) and a runtime that pads to 8
//! bytes (compiler-rt) are both read as written.

use std::collections::HashMap;

use crate::bytes::endian::Endian;
use crate::error::{Error, ErrorKind, Result};

mod decode;
mod layout;
mod merge;
#[cfg(test)]
mod tests;

pub use super::names::{decode_names, name_hash};
use crate::bytes::reader::{Reader, padding};
use crate::error::LlvmError;
use crate::llvm::fail;
use layout::{RecordLayout, add};
pub use merge::{MergeError, merge};

/// The magic of a profile written by a 64-bit program (`\xfflprofr\x81`).
pub const MAGIC_64: u64 = 0xff6c_7072_6f66_7281;
/// The magic of a profile written by a 32-bit program (`\xfflprofR\x81`).
pub const MAGIC_32: u64 = 0xff6c_7072_6f66_5281;
/// Raw versions this module decodes.
pub const VERSIONS: std::ops::RangeInclusive<u32> = 5..=10;
/// Version variant flag: counters are single bytes (`-enable-single-byte-coverage`).
pub const VARIANT_BYTE_COVERAGE: u64 = 1 << 60;

/// The header, field by field; fields a version does not have are `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Header {
    /// The magic word (`INSTR_PROF_RAW_MAGIC_64` or `_32`), which also tells the byte order and pointer size.
    pub magic: u64,
    /// Format version (low 32 bits of the version field).
    pub version: u32,
    /// Variant flags (high 32 bits of the version field; 0 for clang's front-end coverage).
    pub variant: u64,
    /// `BinaryIdsSize`: bytes of the build-ID section after the header (version 7+).
    pub binary_ids_size: Option<u64>,
    /// `NumData`: how many per-function data records follow.
    pub num_data: u64,
    /// `PaddingBytesBeforeCounters`: zero bytes between the data records and the counters.
    pub padding_bytes_before_counters: u64,
    /// `NumCounters`: counters in the counters section (8 bytes each, 1 with single-byte coverage).
    pub num_counters: u64,
    /// `PaddingBytesAfterCounters`: zero bytes after the counters.
    pub padding_bytes_after_counters: u64,
    /// `NumBitmapBytes`: bytes of MC/DC bitmaps (version 9+).
    pub num_bitmap_bytes: Option<u64>,
    /// `PaddingBytesAfterBitmapBytes`: zero bytes after the bitmaps (version 9+).
    pub padding_bytes_after_bitmap_bytes: Option<u64>,
    /// `NamesSize`: bytes of the (possibly compressed) function-name section.
    pub names_size: u64,
    /// `CountersDelta`: the counters section's address when the profile was written, against which the data records' counter pointers are resolved.
    pub counters_delta: u64,
    /// `BitmapDelta`: the bitmap section's address, likewise for the bitmap pointers (version 9+).
    pub bitmap_delta: Option<u64>,
    /// `NamesDelta`: the names section's address when the profile was written.
    pub names_delta: u64,
    /// `NumVTables`: virtual-table profile records (version 10+; 0 for C).
    pub num_vtables: Option<u64>,
    /// `VNamesSize`: bytes of the virtual-table name section (version 10+).
    pub vnames_size: Option<u64>,
    /// `ValueKindLast`: the highest value-profiling kind the writer knows (the number of `value_sites` entries is one more).
    pub value_kind_last: u64,
}

/// One function's record with its counters and bitmap.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Function {
    /// The function's PGO name (`file.c:static_fn` for file-local functions).
    pub name: String,
    /// MD5 of the name (low 64 bits), as recorded.
    pub name_hash: u64,
    /// The structural hash of the function's control flow.
    pub hash: u64,
    /// The function's counters, one per region counter of clang's coverage mapping, in the order of the counters section.
    pub counters: Vec<u64>,
    /// MC/DC bitmap bytes (version 9+, built with `-fcoverage-mcdc`).
    pub bitmap: Vec<u8>,
    /// Value-profiling sites per value kind, as recorded.
    pub value_sites: Vec<u16>,
    /// Offset of the data record in the input.
    pub offset: usize,
    /// Offset of the function's first counter in the input.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub counters_offset: usize,
    /// Offset of the function's first bitmap byte in the input.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub bitmap_offset: usize,
}

/// A decoded, validated raw profile.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RawProfile {
    /// Byte order of the writer, told by how the magic is stored.
    pub endian: Endian,
    /// Size of the writer's pointers: 8 or 4.
    pub pointer_bytes: u8,
    /// The header, field by field.
    pub header: Header,
    /// Build IDs (version 7+; a hypervisor writes none); hex strings in JSON.
    #[cfg_attr(feature = "serde", serde(serialize_with = "hex_ids"))]
    pub binary_ids: Vec<Vec<u8>>,
    /// The per-function data records in file order, with their names, counters and bitmaps.
    pub functions: Vec<Function>,
    /// Whether any chunk of the names section is zlib-compressed.
    pub names_compressed: bool,
    /// Bytes of value-profile data after the names (0 for a hypervisor).
    pub value_data_bytes: usize,
    /// Bytes the profile occupies; the rest of the input is zero fill.
    pub used_bytes: usize,
}

#[cfg(feature = "serde")]
fn hex_ids<S: serde::Serializer>(ids: &[Vec<u8>], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(
        ids.iter()
            .map(|id| id.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    )
}

impl RawProfile {
    /// Counters over all functions.
    pub fn num_counters(&self) -> usize {
        self.functions.iter().map(|f| f.counters.len()).sum()
    }
}

/// Tells byte order and pointer size from the magic, if `data` starts with one.
pub fn sniff(data: &[u8]) -> Option<(Endian, u8)> {
    let first: [u8; 8] = data.get(..8)?.try_into().ok()?;
    for endian in [Endian::Little, Endian::Big] {
        let magic = match endian {
            Endian::Little => u64::from_le_bytes(first),
            Endian::Big => u64::from_be_bytes(first),
        };
        if magic == MAGIC_64 {
            return Some((endian, 8));
        }
        if magic == MAGIC_32 {
            return Some((endian, 4));
        }
    }
    None
}

/// Signed distance `a - b` computed in the writer's pointer width.
fn ptr_diff(a: u64, b: u64, ptr: u8) -> i64 {
    let d = a.wrapping_sub(b);
    if ptr == 4 {
        i64::from(d as u32 as i32)
    } else {
        d as i64
    }
}
