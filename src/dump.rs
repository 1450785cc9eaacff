//! Xen coverage dumps: what the `XEN_SYSCTL_coverage_op` sysctl returns.
//!
//! - Xen 4.9 and later: the container of [`Container`] — a `XCOV` magic in
//!   the hypervisor's byte order, then records of NUL-terminated gcda path,
//!   u32 payload size and payload (a gcda image). See `formats/xen-dump.md`.
//! - Xen 4.3–4.8: the tagged blob of [`LegacyDump`], which carries GCC
//!   3.4-family counters and is turned into gcda files by
//!   [`LegacyUnit::to_gcda`]. See `formats/xen-legacy-dump.md`.
//! - A hypervisor built with clang returns a raw LLVM profile instead; we
//!   only recognise it ([`Identified::LlvmProfile`]).
//!
//! Parsing is zero-copy for containers: records borrow path and payload.

use crate::endian::Endian;
use crate::error::{Error, ErrorKind, Result};
use crate::gcda::{Counters, Function, FunctionId, Gcda, Record, Values};
use crate::plural::count;
use crate::reader::{Reader, Writer};
use crate::record::Header;
use crate::version::{Family, Version};

/// `XCOV`, the first word of a Xen 4.9+ dump, in the hypervisor's byte order.
pub const XCOV_MAGIC: u32 = 0x5843_4f56;

/// Tags of the Xen 4.3–4.8 blob.
pub const LEGACY_TAG_FILE: u32 = 0x5854_4346;
pub const LEGACY_TAG_FUNC: u32 = 0x5854_4366;
pub const LEGACY_TAG_COUNTER0: u32 = 0x5854_4330;
pub const LEGACY_TAG_END: u32 = 0x5854_432e;
/// Counter kinds the legacy blob can carry (GCC 3.4–4.2's five).
pub const LEGACY_COUNTERS: u32 = 5;

/// The raw LLVM profile magic, 64-bit (`\xfflprofr\x81`) and 32-bit (`\xfflprofR\x81`) producers.
pub const LLVM_RAW_MAGIC_64: u64 = 0xff6c_7072_6f66_7281;
pub const LLVM_RAW_MAGIC_32: u64 = 0xff6c_7072_6f66_5281;

/// What a dump turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identified {
    /// Xen 4.9+ container, in this byte order.
    Container(Endian),
    /// Xen 4.3–4.8 tagged blob, in this byte order.
    Legacy(Endian),
    /// A raw LLVM profile (clang-built hypervisor), with its format version.
    LlvmProfile { endian: Endian, version: u64 },
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
        if let (Ok(lo), Ok(hi)) = (r.u32(""), r.u32("")) {
            // LLVM writes native u64s, not gcov's low-word-first pairs.
            let magic = match endian {
                Endian::Little => u64::from(hi) << 32 | u64::from(lo),
                Endian::Big => u64::from(lo) << 32 | u64::from(hi),
            };
            if magic == LLVM_RAW_MAGIC_64 || magic == LLVM_RAW_MAGIC_32 {
                let version = match (r.u32(""), r.u32("")) {
                    (Ok(a), Ok(b)) => match endian {
                        Endian::Little => u64::from(b) << 32 | u64::from(a),
                        Endian::Big => u64::from(a) << 32 | u64::from(b),
                    },
                    _ => 0,
                };
                return Ok(Identified::LlvmProfile { endian, version });
            }
        }
    }
    Err(Error::new(
        0,
        ErrorKind::Invalid(format!(
            "not a Xen coverage dump: it starts with {first:02x?}, expected the XCOV magic \
             (Xen 4.9+), a legacy FILE/END tag (Xen 4.3-4.8) or an LLVM raw profile"
        )),
    ))
}

/// A Xen 4.9+ dump: records borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container<'a> {
    pub endian: Endian,
    pub units: Vec<Unit<'a>>,
}

/// One record of a container: a compilation unit's gcda path and image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit<'a> {
    /// Record number, from 0.
    pub index: usize,
    /// Offset of the record (its path) in the dump.
    pub offset: usize,
    /// The recorded gcda path, without its NUL.
    pub path: &'a [u8],
    /// Offset of the payload in the dump.
    pub payload_offset: usize,
    pub payload: &'a [u8],
}

impl Unit<'_> {
    /// Decodes the payload; error offsets are offsets in the dump.
    pub fn gcda(&self) -> Result<Gcda> {
        Gcda::decode(self.payload).map_err(|e| Error::new(e.offset + self.payload_offset, e.kind))
    }

    pub fn path_lossy(&self) -> String {
        String::from_utf8_lossy(self.path).into_owned()
    }
}

impl<'a> Container<'a> {
    /// Parses the container. Every record is checked for a terminated,
    /// non-empty path and a size within the input; payloads are not decoded
    /// here (see [`Unit::gcda`]) so that a caller can keep a bad one verbatim.
    pub fn parse(data: &'a [u8]) -> Result<Container<'a>> {
        let endian = match identify(data)? {
            Identified::Container(e) => e,
            _ => {
                return Err(Error::new(
                    0,
                    ErrorKind::Invalid("not a Xen 4.9+ coverage dump (no XCOV magic)".into()),
                ));
            }
        };
        let mut r = Reader::new(data, endian);
        r.u32("the magic word")?;
        let mut units = Vec::new();
        while !r.is_empty() {
            let index = units.len();
            let offset = r.offset();
            let rest = data.get(offset..).unwrap_or_default();
            let Some(nul) = rest.iter().position(|&b| b == 0) else {
                return Err(Error::new(
                    offset,
                    ErrorKind::Invalid(format!(
                        "record {index}: the gcda path has no NUL terminator ({} left)",
                        count(rest.len(), "byte", "bytes")
                    )),
                ));
            };
            if nul == 0 {
                return Err(Error::new(
                    offset,
                    ErrorKind::Invalid(format!("record {index}: empty gcda path")),
                ));
            }
            let path = r.bytes(nul as u64, "a gcda path")?;
            r.bytes(1, "the path's NUL")?;
            let size_at = r.offset();
            let size = r.u32("a payload size")?;
            if u64::from(size) > r.remaining() as u64 {
                return Err(Error::new(
                    size_at,
                    ErrorKind::Invalid(format!(
                        "record {index} ({}): payload size {size} but only {} {}",
                        String::from_utf8_lossy(path),
                        count(r.remaining(), "byte", "bytes"),
                        if r.remaining() == 1 {
                            "remains"
                        } else {
                            "remain"
                        }
                    )),
                ));
            }
            // Xen writes a whole gcda per unit: a payload too small for a gcda
            // header is no unit at all (and a million of them no dump).
            if size < 12 {
                return Err(Error::new(
                    size_at,
                    ErrorKind::Invalid(format!(
                        "record {index} ({}): a payload of {} cannot hold a gcda",
                        String::from_utf8_lossy(path),
                        count(size, "byte", "bytes")
                    )),
                ));
            }
            let payload_offset = r.offset();
            let payload = r.bytes(u64::from(size), "a payload")?;
            units.push(Unit {
                index,
                offset,
                path,
                payload_offset,
                payload,
            });
        }
        Ok(Container { endian, units })
    }
}

/// Writes a container of `(path, payload)` records in `endian` order.
pub fn encode_container<'p>(
    endian: Endian,
    units: impl IntoIterator<Item = (&'p [u8], &'p [u8])>,
) -> Vec<u8> {
    let mut w = Writer::new(endian);
    w.u32(XCOV_MAGIC);
    for (path, payload) in units {
        w.bytes(path);
        w.bytes(&[0]);
        w.u32(payload.len() as u32);
        w.bytes(payload);
    }
    w.into_bytes()
}

/// A Xen 4.3–4.8 dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyDump {
    pub endian: Endian,
    pub units: Vec<LegacyUnit>,
}

/// One FILE of a legacy dump with its counters and functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyUnit {
    pub index: usize,
    /// Offset of the FILE tag.
    pub offset: usize,
    pub version: Version,
    pub stamp: u32,
    pub path: Vec<u8>,
    /// Active counter kinds in increasing order, each with all its values.
    pub counters: Vec<(u32, Vec<u64>)>,
    pub functions: Vec<LegacyFunction>,
}

/// A function of a legacy FUNC record: one value count per active kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyFunction {
    pub ident: u32,
    pub checksum: u32,
    pub counts: Vec<u32>,
}

fn align8(r: &mut Reader<'_>) -> Result<()> {
    let pad = (8 - r.offset() % 8) % 8;
    let pad = pad.min(r.remaining());
    r.bytes(pad as u64, "alignment padding")?;
    Ok(())
}

impl LegacyDump {
    /// Parses and validates a legacy blob: alignment, tag order, sizes
    /// within the input, per-kind counts that add up, an END tag, and a
    /// GCC 3.4-family version (the only gcov layout Xen 4.3–4.8 understood).
    pub fn parse(data: &[u8]) -> Result<LegacyDump> {
        let endian = match identify(data)? {
            Identified::Legacy(e) => e,
            _ => {
                return Err(Error::new(
                    0,
                    ErrorKind::Invalid("not a Xen 4.3-4.8 coverage dump".into()),
                ));
            }
        };
        let mut r = Reader::new(data, endian);
        let mut units: Vec<LegacyUnit> = Vec::new();
        let invalid = |at: usize, msg: String| Error::new(at, ErrorKind::Invalid(msg));
        loop {
            align8(&mut r)?;
            let at = r.offset();
            let tag = r.u32("a legacy tag (the dump has no END tag)")?;
            match tag {
                LEGACY_TAG_END => break,
                LEGACY_TAG_FILE => {
                    let index = units.len();
                    let vat = r.offset();
                    let version = Version::from_word(r.u32("a FILE version")?)
                        .map_err(|e| Error::new(vat, ErrorKind::Version(e)))?;
                    if version.format().family != Family::Gcc34 {
                        return Err(invalid(
                            vat,
                            format!(
                                "unit {index} claims {version}, but Xen 4.3-4.8 only understood \
                                 GCC 3.4-4.6 data: this hypervisor misread its own counters"
                            ),
                        ));
                    }
                    let stamp = r.u32("a FILE stamp")?;
                    let len = r.u32("a FILE name length")?;
                    let path = r.bytes(u64::from(len), "a FILE name")?.to_vec();
                    units.push(LegacyUnit {
                        index,
                        offset: at,
                        version,
                        stamp,
                        path,
                        counters: Vec::new(),
                        functions: Vec::new(),
                    });
                }
                t if (LEGACY_TAG_COUNTER0..LEGACY_TAG_COUNTER0 + LEGACY_COUNTERS).contains(&t) => {
                    let kind = t - LEGACY_TAG_COUNTER0;
                    let unit = units
                        .last_mut()
                        .filter(|u| u.functions.is_empty())
                        .ok_or_else(|| invalid(at, "a COUNTER record outside a FILE".into()))?;
                    if unit.counters.last().is_some_and(|&(k, _)| k >= kind) {
                        return Err(invalid(at, format!("counter kind {kind} out of order")));
                    }
                    let num = r.u32("a COUNTER count")?;
                    let needed = u64::from(num) * 8;
                    if needed > r.remaining() as u64 {
                        return Err(invalid(
                            at + 4,
                            format!(
                                "COUNTER {kind} claims {}, {} {}",
                                count(num, "value", "values"),
                                count(r.remaining(), "byte", "bytes"),
                                if r.remaining() == 1 {
                                    "remains"
                                } else {
                                    "remain"
                                }
                            ),
                        ));
                    }
                    let mut values = Vec::with_capacity(num as usize);
                    for _ in 0..num {
                        // Native u64s: the hypervisor copied its counter array as is.
                        let (a, b) = (r.u32("a counter")?, r.u32("a counter")?);
                        values.push(match endian {
                            Endian::Little => u64::from(b) << 32 | u64::from(a),
                            Endian::Big => u64::from(a) << 32 | u64::from(b),
                        });
                    }
                    unit.counters.push((kind, values));
                }
                LEGACY_TAG_FUNC => {
                    let unit = units
                        .last_mut()
                        .filter(|u| u.functions.is_empty())
                        .ok_or_else(|| invalid(at, "a FUNC record outside a FILE".into()))?;
                    let n = r.u32("a FUNC count")?;
                    let per = 2 + unit.counters.len() as u64;
                    if u64::from(n) * per * 4 > r.remaining() as u64 {
                        return Err(invalid(
                            at + 4,
                            format!(
                                "FUNC claims {}, {} {}",
                                count(n, "function", "functions"),
                                count(r.remaining(), "byte", "bytes"),
                                if r.remaining() == 1 {
                                    "remains"
                                } else {
                                    "remain"
                                }
                            ),
                        ));
                    }
                    let mut sums = vec![0u64; unit.counters.len()];
                    for _ in 0..n {
                        let ident = r.u32("a function ident")?;
                        let checksum = r.u32("a function checksum")?;
                        let mut counts = Vec::with_capacity(unit.counters.len());
                        for sum in sums.iter_mut() {
                            let c = r.u32("a function's counter count")?;
                            *sum += u64::from(c);
                            counts.push(c);
                        }
                        unit.functions.push(LegacyFunction {
                            ident,
                            checksum,
                            counts,
                        });
                    }
                    for ((kind, values), sum) in unit.counters.iter().zip(sums) {
                        if sum != values.len() as u64 {
                            return Err(invalid(
                                at,
                                format!(
                                    "unit {} ({}): its functions use {sum} counters of kind {kind}, \
                                     the COUNTER record holds {}",
                                    unit.index,
                                    String::from_utf8_lossy(&unit.path),
                                    values.len()
                                ),
                            ));
                        }
                    }
                    if n == 0 && unit.counters.iter().any(|(_, v)| !v.is_empty()) {
                        return Err(invalid(at, "counters without functions".into()));
                    }
                }
                other => {
                    return Err(invalid(at, format!("unknown legacy tag {other:#010x}")));
                }
            }
        }
        if r.remaining() >= 8 {
            return Err(Error::new(
                r.offset(),
                ErrorKind::Invalid(format!("{} bytes follow the END tag", r.remaining())),
            ));
        }
        Ok(LegacyDump { endian, units })
    }
}

impl LegacyUnit {
    /// The 3.4-family gcda this unit stands for: header, then per function a
    /// FUNCTION record (ident, checksum) and one counter record per active
    /// kind taking the function's share of that kind's values in order. No
    /// summaries and no end marker, as the hypervisor kept none.
    pub fn to_gcda(&self, endian: Endian) -> Gcda {
        let kinds = self.version.format().counter_kinds;
        let mut next: Vec<usize> = vec![0; self.counters.len()];
        let records = self
            .functions
            .iter()
            .map(|f| {
                let counters = self
                    .counters
                    .iter()
                    .zip(&f.counts)
                    .zip(next.iter_mut())
                    .filter_map(|(((kind, values), &n), at)| {
                        let start = *at;
                        *at += n as usize;
                        Some(Counters {
                            kind: *kinds.get(*kind as usize)?,
                            values: Values::Stored(values.get(start..*at)?.to_vec()),
                        })
                    })
                    .collect();
                Record::Function(Function {
                    id: Some(FunctionId {
                        ident: f.ident,
                        lineno_checksum: f.checksum,
                        cfg_checksum: None,
                    }),
                    extra: Vec::new(),
                    counters,
                })
            })
            .collect();
        Gcda {
            header: Header {
                endian,
                version: self.version,
                stamp: self.stamp,
                checksum: None,
            },
            records,
            end_marker: false,
            after_end: Vec::new(),
        }
    }
}
