//! Xen coverage dumps: what the `XEN_SYSCTL_coverage_op` sysctl returns.
//!
//! - Xen 4.9 and later: the container of [`Container`] — a `XCOV` magic in
//!   the hypervisor's byte order, then records of NUL-terminated gcda path,
//!   u32 payload size and payload (a gcda image). See `formats/xen-dump.md`.
//! - Xen 4.3–4.8: the tagged blob of [`LegacyDump`], which carries GCC
//!   3.4-family counters and is turned into gcda files by
//!   [`LegacyUnit::to_gcda`]. See `formats/xen-legacy-dump.md`.
//! - A hypervisor built with clang returns a raw LLVM profile instead; here
//!   it is only recognised ([`Identified::LlvmProfile`]), and
//!   [`crate::llvm::raw`] decodes and validates it.
//!
//! Parsing is zero-copy for containers: records borrow path and payload.

use crate::bytes::endian::Endian;
use crate::bytes::reader::Reader;
use crate::error::{DumpError, Error, ErrorKind, Result};

mod container;
mod legacy;

pub use container::{Container, ContainerWriter, Unit, encode_container};
pub use legacy::{LegacyDump, LegacyFunction, LegacyUnit};

/// `XCOV`, the first word of a Xen 4.9+ dump, in the hypervisor's byte order.
pub const XCOV_MAGIC: u32 = 0x5843_4f56;

/// `XTCF`: opens a compilation unit (FILE) in the Xen 4.3–4.8 blob.
pub const LEGACY_TAG_FILE: u32 = 0x5854_4346;
/// `XTCf`: a function (FUNC) of the current unit, with its value count per kind.
pub const LEGACY_TAG_FUNC: u32 = 0x5854_4366;
/// `XTC0`: the values of counter kind 0 (arcs) of the current unit; kind `n` is tagged
/// `LEGACY_TAG_COUNTER0 + n`.
pub const LEGACY_TAG_COUNTER0: u32 = 0x5854_4330;
/// `XTC.`: the end of the blob.
pub const LEGACY_TAG_END: u32 = 0x5854_432e;
/// Counter kinds the legacy blob can carry (GCC 3.4–4.2's five).
pub const LEGACY_COUNTERS: u32 = 5;

/// The raw LLVM profile magic, 64-bit (`\xfflprofr\x81`) and 32-bit (`\xfflprofR\x81`) producers.
pub const LLVM_RAW_MAGIC_64: u64 = 0xff6c_7072_6f66_7281;
/// The 32-bit producers' raw LLVM profile magic (see [`LLVM_RAW_MAGIC_64`]).
pub const LLVM_RAW_MAGIC_32: u64 = 0xff6c_7072_6f66_5281;

/// What a dump turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identified {
    /// Xen 4.9+ container, in this byte order.
    Container(Endian),
    /// Xen 4.3–4.8 tagged blob, in this byte order.
    Legacy(Endian),
    /// A raw LLVM profile (clang-built hypervisor), with its format version.
    LlvmProfile {
        /// The writer's byte order.
        endian: Endian,
        /// The raw profile version word (format version and variant flags).
        version: u64,
    },
}

/// Tells what kind of dump `data` is from its first bytes.
pub fn identify(data: &[u8]) -> Result<Identified> {
    let first: Option<[u8; 4]> = data.get(..4).and_then(|b| b.try_into().ok());
    let Some(first) = first else {
        return Err(Error::new(
            0,
            ErrorKind::Truncated {
                what: "the dump's magic word",
                needed: 4,
                available: data.len(),
            },
        ));
    };
    for endian in [Endian::Little, Endian::Big] {
        let word = endian.u32_from(first);
        if word == XCOV_MAGIC {
            return Ok(Identified::Container(endian));
        }
        if word == LEGACY_TAG_FILE || word == LEGACY_TAG_END {
            return Ok(Identified::Legacy(endian));
        }
        let mut r = Reader::new(data, endian);
        // LLVM writes native u64s, not gcov's low-word-first pairs.
        if let Ok(magic) = r.u64_native("the LLVM magic")
            && (magic == LLVM_RAW_MAGIC_64 || magic == LLVM_RAW_MAGIC_32)
        {
            let version = r.u64_native("the LLVM version").unwrap_or(0);
            return Ok(Identified::LlvmProfile { endian, version });
        }
    }
    Err(Error::new(
        0,
        DumpError::NotADump {
            found: first.to_vec(),
        }
        .into(),
    ))
}
