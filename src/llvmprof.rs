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

use md5::{Digest, Md5};
use serde::Serialize;

use crate::endian::Endian;
use crate::error::{Error, ErrorKind, Result};
use crate::plural::count;

/// The magic of a profile written by a 64-bit program (`\xfflprofr\x81`).
pub const MAGIC_64: u64 = 0xff6c_7072_6f66_7281;
/// The magic of a profile written by a 32-bit program (`\xfflprofR\x81`).
pub const MAGIC_32: u64 = 0xff6c_7072_6f66_5281;
/// Raw versions this module decodes.
pub const VERSIONS: std::ops::RangeInclusive<u32> = 5..=10;
/// Version variant flag: counters are single bytes (`-enable-single-byte-coverage`).
pub const VARIANT_BYTE_COVERAGE: u64 = 1 << 60;

/// The raw profile versions a clang release writes (from LLVM's
/// `INSTR_PROF_RAW_VERSION` at each release branch; Xen's `llvm.c` keeps the
/// same table for 11–20; 14, 18, 19 and 21 checked on profiles Debian's clang
/// wrote, samples/llvm/). `None` for other releases, whose profiles we do
/// not know (LLVM 23 moved to version 11).
pub fn raw_version_of_clang(major: u32) -> Option<u32> {
    match major {
        11 | 12 => Some(5),
        13 => Some(7),
        14..=17 => Some(8),
        18 => Some(9),
        19..=21 => Some(10),
        _ => None,
    }
}

/// The clang major release in an ELF `.comment` string such as
/// `Debian clang version 19.1.7 (3+b1)` or `clang version 14.0.6`.
pub fn clang_major_in_banner(text: &str) -> Option<u32> {
    let rest = text.split("clang version ").nth(1)?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// The clang releases that write raw version `version` (inverse of [`raw_version_of_clang`]).
pub fn clangs_of_raw_version(version: u32) -> Vec<u32> {
    (11..=21)
        .filter(|&m| raw_version_of_clang(m) == Some(version))
        .collect()
}

/// The header, field by field; fields a version does not have are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Header {
    pub magic: u64,
    /// Format version (low 32 bits of the version field).
    pub version: u32,
    /// Variant flags (high 32 bits of the version field; 0 for clang's front-end coverage).
    pub variant: u64,
    pub binary_ids_size: Option<u64>,
    pub num_data: u64,
    pub padding_bytes_before_counters: u64,
    pub num_counters: u64,
    pub padding_bytes_after_counters: u64,
    pub num_bitmap_bytes: Option<u64>,
    pub padding_bytes_after_bitmap_bytes: Option<u64>,
    pub names_size: u64,
    pub counters_delta: u64,
    pub bitmap_delta: Option<u64>,
    pub names_delta: u64,
    pub num_vtables: Option<u64>,
    pub vnames_size: Option<u64>,
    pub value_kind_last: u64,
}

/// One function's record with its counters and bitmap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    /// The function's PGO name (`file.c:static_fn` for file-local functions).
    pub name: String,
    /// MD5 of the name (low 64 bits), as recorded.
    pub name_hash: u64,
    /// The structural hash of the function's control flow.
    pub hash: u64,
    pub counters: Vec<u64>,
    /// MC/DC bitmap bytes (version 9+, built with `-fcoverage-mcdc`).
    pub bitmap: Vec<u8>,
    /// Value-profiling sites per value kind, as recorded.
    pub value_sites: Vec<u16>,
    /// Offset of the data record in the input.
    pub offset: usize,
    /// Offsets of the first counter and of the first bitmap byte in the input.
    #[serde(skip)]
    pub counters_offset: usize,
    #[serde(skip)]
    pub bitmap_offset: usize,
}

/// A decoded, validated raw profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RawProfile {
    pub endian: Endian,
    /// Size of the writer's pointers: 8 or 4.
    pub pointer_bytes: u8,
    pub header: Header,
    /// Build IDs (version 7+; a hypervisor writes none); hex strings in JSON.
    #[serde(serialize_with = "hex_ids")]
    pub binary_ids: Vec<Vec<u8>>,
    pub functions: Vec<Function>,
    /// Whether any chunk of the names section is zlib-compressed.
    pub names_compressed: bool,
    /// Bytes of value-profile data after the names (0 for a hypervisor).
    pub value_data_bytes: usize,
    /// Bytes the profile occupies; the rest of the input is zero fill.
    pub used_bytes: usize,
}

fn hex_ids<S: serde::Serializer>(ids: &[Vec<u8>], s: S) -> std::result::Result<S::Ok, S::Error> {
    s.collect_seq(
        ids.iter()
            .map(|id| id.iter().map(|b| format!("{b:02x}")).collect::<String>()),
    )
}

impl RawProfile {
    pub fn num_counters(&self) -> usize {
        self.functions.iter().map(|f| f.counters.len()).sum()
    }
}

/// Bounded, endian-aware access to the input with absolute offsets.
struct Input<'a> {
    data: &'a [u8],
    endian: Endian,
}

impl<'a> Input<'a> {
    fn slice(&self, offset: u64, len: u64, what: &'static str) -> Result<&'a [u8]> {
        let available = usize::try_from(offset)
            .ok()
            .and_then(|o| self.data.len().checked_sub(o))
            .unwrap_or(0);
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        match usize::try_from(len) {
            Ok(n) if n <= available => {
                let end = start + n;
                Ok(self.data.get(start..end).unwrap_or_default())
            }
            _ => Err(Error::new(
                start.min(self.data.len()),
                ErrorKind::Truncated {
                    what,
                    needed: len,
                    available,
                },
            )),
        }
    }

    fn uint(&self, offset: u64, bytes: u8, what: &'static str) -> Result<u64> {
        let s = self.slice(offset, u64::from(bytes), what)?;
        let mut v: u64 = 0;
        match self.endian {
            Endian::Little => {
                for &b in s.iter().rev() {
                    v = v << 8 | u64::from(b);
                }
            }
            Endian::Big => {
                for &b in s {
                    v = v << 8 | u64::from(b);
                }
            }
        }
        Ok(v)
    }
}

fn invalid(offset: u64, message: String) -> Error {
    Error::new(
        usize::try_from(offset).unwrap_or(usize::MAX),
        ErrorKind::Invalid(message),
    )
}

fn pad8(n: u64) -> u64 {
    (8 - n % 8) % 8
}

/// Adds section sizes, refusing a sum that overflows (a lying header).
fn add(offset: u64, a: u64, b: u64, what: &str) -> Result<u64> {
    a.checked_add(b).ok_or_else(|| {
        invalid(
            offset,
            format!("the header's {what} ({b}) overflows the profile's size"),
        )
    })
}

/// The layout of a data record: offsets of its fields and its size.
#[derive(Debug, Clone, Copy)]
struct RecordLayout {
    ptr: u8,
    counter_ptr: u64,
    bitmap_ptr: Option<u64>,
    num_counters: u64,
    value_sites: u64,
    kinds: u64,
    num_bitmap_bytes: Option<u64>,
    size: u64,
}

impl RecordLayout {
    /// C struct layout of `__llvm_profile_data` for `version` and pointer size `ptr`.
    fn new(version: u32, ptr: u8) -> RecordLayout {
        let p = u64::from(ptr);
        // NameRef and FuncHash: two u64.
        let mut at = 16;
        let counter_ptr = at;
        at += p;
        let bitmap_ptr = (version >= 9).then(|| {
            let o = at;
            at += p;
            o
        });
        // FunctionPointer and Values.
        at += 2 * p;
        let num_counters = at;
        at += 4;
        let value_sites = at;
        // IPVK_Last + 1 value kinds: indirect call targets and memory-op
        // sizes, plus virtual-table targets from version 10.
        let kinds = if version >= 10 { 3 } else { 2 };
        at += 2 * kinds;
        let num_bitmap_bytes = (version >= 9).then(|| {
            at += (4 - at % 4) % 4;
            let o = at;
            at += 4;
            o
        });
        // The struct holds u64 members: its size is a multiple of 8.
        let size = at + pad8(at);
        RecordLayout {
            ptr,
            counter_ptr,
            bitmap_ptr,
            num_counters,
            value_sites,
            kinds,
            num_bitmap_bytes,
            size,
        }
    }
}

/// Reads a ULEB128 number from `data` at `*pos`.
fn uleb(data: &[u8], pos: &mut usize, base: u64) -> Result<u64> {
    let mut v: u64 = 0;
    let mut shift = 0u32;
    loop {
        let Some(&b) = data.get(*pos) else {
            return Err(Error::new(
                usize::try_from(base).unwrap_or(usize::MAX) + *pos,
                ErrorKind::Truncated {
                    what: "a ULEB128 length in the names section",
                    needed: 1,
                    available: 0,
                },
            ));
        };
        if shift >= 64 || (shift == 63 && b & 0x7e != 0) {
            return Err(invalid(
                base + *pos as u64,
                "a ULEB128 length in the names section does not fit in 64 bits".into(),
            ));
        }
        v |= u64::from(b & 0x7f) << shift;
        *pos += 1;
        if b & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
    }
}

/// Decodes a names section: chunks of (ULEB128 uncompressed size, ULEB128
/// compressed size, bytes), zlib-compressed when the compressed size is not
/// zero; each chunk's names are separated by `\x01`; zero bytes between chunks
/// are padding. Returns the names and whether any chunk was compressed.
pub fn decode_names(data: &[u8], base: u64) -> Result<(Vec<String>, bool)> {
    let mut names = Vec::new();
    let mut compressed_any = false;
    let mut pos = 0usize;
    while pos < data.len() {
        let chunk_at = base + pos as u64;
        let raw_len = uleb(data, &mut pos, base)?;
        let zlen = uleb(data, &mut pos, base)?;
        let stored = if zlen == 0 { raw_len } else { zlen };
        let start = pos;
        let end = usize::try_from(stored)
            .ok()
            .and_then(|n| start.checked_add(n))
            .filter(|&e| e <= data.len())
            .ok_or_else(|| {
                Error::new(
                    usize::try_from(base).unwrap_or(usize::MAX) + start,
                    ErrorKind::Truncated {
                        what: "a chunk of the names section",
                        needed: stored,
                        available: data.len() - start,
                    },
                )
            })?;
        let bytes = data.get(start..end).unwrap_or_default();
        let text = if zlen == 0 {
            bytes.to_vec()
        } else {
            compressed_any = true;
            // zlib cannot expand by more than about 1032:1; a larger claim lies
            // (and would make us allocate what the header says).
            if raw_len > zlen.saturating_mul(1032) {
                return Err(invalid(
                    chunk_at,
                    format!(
                        "a names chunk claims {raw_len} bytes from {zlen} compressed bytes, \
                         more than zlib can produce"
                    ),
                ));
            }
            let limit = usize::try_from(raw_len).unwrap_or(usize::MAX);
            let out = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(bytes, limit)
                .map_err(|e| {
                    invalid(
                        chunk_at,
                        format!(
                            "a zlib-compressed names chunk does not inflate: {:?}",
                            e.status
                        ),
                    )
                })?;
            if out.len() as u64 != raw_len {
                return Err(invalid(
                    chunk_at,
                    format!(
                        "a names chunk inflates to {} bytes, but claims {raw_len}",
                        out.len()
                    ),
                ));
            }
            out
        };
        for name in text.split(|&b| b == 1) {
            let name = String::from_utf8(name.to_vec()).map_err(|_| {
                invalid(
                    chunk_at,
                    "a function name in the names section is not UTF-8".into(),
                )
            })?;
            names.push(name);
        }
        pos = end;
        while data.get(pos) == Some(&0) {
            pos += 1;
        }
    }
    Ok((names, compressed_any))
}

/// LLVM's name hash: the first 8 bytes of the name's MD5, little-endian.
pub fn name_hash(name: &str) -> u64 {
    let digest = Md5::digest(name.as_bytes());
    let mut low = [0u8; 8];
    for (d, s) in low.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    u64::from_le_bytes(low)
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

impl RawProfile {
    /// Decodes and validates a raw profile. Zero bytes after the profile (a
    /// hypervisor's buffer is zero-filled) are accepted; anything else is not.
    pub fn decode(data: &[u8]) -> Result<RawProfile> {
        let Some((endian, ptr)) = sniff(data) else {
            return Err(Error::new(
                0,
                ErrorKind::BadMagic {
                    expected: "raw LLVM profile",
                    found: data.get(..8.min(data.len())).unwrap_or_default().to_vec(),
                },
            ));
        };
        let input = Input { data, endian };
        // The header is a run of u64 fields; `at` is the next one's offset.
        let at = std::cell::Cell::new(0u64);
        let next = |what: &'static str| -> Result<u64> {
            let v = input.uint(at.get(), 8, what)?;
            at.set(at.get() + 8);
            Ok(v)
        };
        let magic = next("the magic")?;
        let version_field = next("the version")?;
        let version = (version_field & 0xffff_ffff) as u32;
        let variant = version_field >> 32;
        if !VERSIONS.contains(&version) {
            return Err(invalid(
                8,
                format!(
                    "raw LLVM profile version {version} is not supported (versions 5 to 10, \
                     clang 11 to 21, are)"
                ),
            ));
        }
        if version_field & VARIANT_BYTE_COVERAGE != 0 {
            return Err(invalid(
                8,
                "the profile has single-byte counters (-enable-single-byte-coverage), \
                 which are not supported"
                    .into(),
            ));
        }
        let v9 = version >= 9;
        let v10 = version >= 10;
        let binary_ids_size = if version >= 7 {
            Some(next("the header's binary_ids_size")?)
        } else {
            None
        };
        let num_data_at = at.get();
        let num_data = next("the header's num_data")?;
        let padding_bytes_before_counters = next("the header's padding_bytes_before_counters")?;
        let num_counters = next("the header's num_counters")?;
        let padding_bytes_after_counters = next("the header's padding_bytes_after_counters")?;
        let num_bitmap_bytes = if v9 {
            Some(next("the header's num_bitmap_bytes")?)
        } else {
            None
        };
        let padding_bytes_after_bitmap_bytes = if v9 {
            Some(next("the header's padding_bytes_after_bitmap_bytes")?)
        } else {
            None
        };
        let names_size = next("the header's names_size")?;
        let counters_delta = next("the header's counters_delta")?;
        let bitmap_delta = if v9 {
            Some(next("the header's bitmap_delta")?)
        } else {
            None
        };
        let names_delta = next("the header's names_delta")?;
        let num_vtables = if v10 {
            Some(next("the header's num_vtables")?)
        } else {
            None
        };
        let vnames_size = if v10 {
            Some(next("the header's vnames_size")?)
        } else {
            None
        };
        let value_kind_last_at = at.get();
        let value_kind_last = next("the header's value_kind_last")?;
        let header_size = at.get();
        let header = Header {
            magic,
            version,
            variant,
            binary_ids_size,
            num_data,
            padding_bytes_before_counters,
            num_counters,
            padding_bytes_after_counters,
            num_bitmap_bytes,
            padding_bytes_after_bitmap_bytes,
            names_size,
            counters_delta,
            bitmap_delta,
            names_delta,
            num_vtables,
            vnames_size,
            value_kind_last,
        };
        if num_data == 0 {
            // An empty result is an error: without records there is nothing
            // to report (a build whose records live in the binary, with
            // profile correlation, writes such files).
            return Err(invalid(
                num_data_at,
                "the profile has no function records (num_data is 0)".into(),
            ));
        }
        let layout = RecordLayout::new(version, ptr);
        if value_kind_last.checked_add(1) != Some(layout.kinds) {
            return Err(invalid(
                value_kind_last_at,
                format!(
                    "value_kind_last is {value_kind_last}, but version {version} records have {} value kinds",
                    layout.kinds
                ),
            ));
        }

        // Sections, placed as the header says.
        let ids_size = binary_ids_size.unwrap_or(0);
        if ids_size % 8 != 0 {
            return Err(invalid(
                16,
                format!("binary_ids_size ({ids_size}) is not a multiple of 8"),
            ));
        }
        let data_at = add(16, header_size, ids_size, "binary_ids_size")?;
        let data_size = num_data.checked_mul(layout.size).ok_or_else(|| {
            invalid(
                header_size,
                format!("num_data ({num_data}) overflows the profile's size"),
            )
        })?;
        let counters_size = num_counters.checked_mul(8).ok_or_else(|| {
            invalid(
                header_size,
                format!("num_counters ({num_counters}) overflows the profile's size"),
            )
        })?;
        let mut end = add(0, data_at, data_size, "num_data")?;
        end = add(
            0,
            end,
            padding_bytes_before_counters,
            "padding before counters",
        )?;
        let counters_at = end;
        end = add(0, end, counters_size, "num_counters")?;
        end = add(
            0,
            end,
            padding_bytes_after_counters,
            "padding after counters",
        )?;
        let bitmap_at = end;
        let bitmap_size = num_bitmap_bytes.unwrap_or(0);
        end = add(0, end, bitmap_size, "num_bitmap_bytes")?;
        end = add(
            0,
            end,
            padding_bytes_after_bitmap_bytes.unwrap_or(0),
            "padding after the bitmap",
        )?;
        let names_at = end;
        end = add(0, end, names_size, "names_size")?;
        end = add(0, end, pad8(names_size), "names padding")?;
        let vtables_size = num_vtables
            .unwrap_or(0)
            .checked_mul(if ptr == 8 { 24 } else { 16 })
            .ok_or_else(|| {
                invalid(
                    header_size,
                    "num_vtables overflows the profile's size".into(),
                )
            })?;
        let vtables_at = end;
        end = add(0, end, vtables_size, "num_vtables")?;
        end = add(0, end, pad8(vtables_size), "vtable padding")?;
        let vnames_at = end;
        let vnames_len = vnames_size.unwrap_or(0);
        end = add(0, end, vnames_len, "vnames_size")?;
        end = add(0, end, pad8(vnames_len), "vnames padding")?;
        let value_at = end;
        if value_at > data.len() as u64 {
            return Err(invalid(
                data.len() as u64,
                format!(
                    "the header promises {} (up to the value data), but the input has only {}",
                    count(value_at, "byte", "bytes"),
                    count(data.len() as u64, "byte", "bytes")
                ),
            ));
        }

        // Binary IDs: u64 length, the ID, padding to 8.
        let mut binary_ids = Vec::new();
        let mut id_at = header_size;
        while id_at < data_at {
            let len = input.uint(id_at, 8, "a binary ID's length")?;
            let padded = add(id_at, len, pad8(len), "binary ID length")?;
            if padded > data_at - id_at - 8 {
                return Err(invalid(
                    id_at,
                    format!("a binary ID of {len} bytes runs past the binary-ID section"),
                ));
            }
            binary_ids.push(input.slice(id_at + 8, len, "a binary ID")?.to_vec());
            id_at += 8 + padded;
        }

        let (names, names_compressed) = decode_names(
            input.slice(names_at, names_size, "the names section")?,
            names_at,
        )?;
        let by_hash: HashMap<u64, &String> = names.iter().map(|n| (name_hash(n), n)).collect();
        if v10 {
            // Virtual-table names are validated like function names.
            decode_names(
                input.slice(vnames_at, vnames_len, "the vtable names")?,
                vnames_at,
            )?;
        }
        let _ = vtables_at;

        input.slice(counters_at, counters_size, "the counters section")?;
        let bitmap = input.slice(bitmap_at, bitmap_size, "the bitmap section")?;
        let relative = version >= 8;
        let mut functions = Vec::new();
        let mut value_kinds_used = Vec::new();
        for i in 0..num_data {
            let rec = data_at + i * layout.size;
            let name_ref = input.uint(rec, 8, "a data record's name hash")?;
            let hash = input.uint(rec + 8, 8, "a data record's function hash")?;
            let counter_ptr = input.uint(rec + layout.counter_ptr, ptr, "a counter pointer")?;
            let n = input.uint(rec + layout.num_counters, 4, "a record's counter count")?;
            let mut value_sites = Vec::new();
            for k in 0..layout.kinds {
                value_sites
                    .push(input.uint(rec + layout.value_sites + 2 * k, 2, "value sites")? as u16);
            }
            let name = by_hash.get(&name_ref).ok_or_else(|| {
                invalid(
                    rec,
                    format!(
                        "data record {i} names a function by hash {name_ref:#018x}, which is not in the names section"
                    ),
                )
            })?;
            if n == 0 {
                return Err(invalid(
                    rec + layout.num_counters,
                    format!("data record {i} ({name}) has no counters"),
                ));
            }
            // Where this record's counters start in the counters section.
            let base = if relative {
                counters_delta.wrapping_sub(i.wrapping_mul(layout.size))
            } else {
                counters_delta
            };
            let off = ptr_diff(counter_ptr, base, layout.ptr);
            let first = u64::try_from(off)
                .ok()
                .filter(|o| o % 8 == 0)
                .filter(|o| {
                    o.checked_add(n * 8)
                        .is_some_and(|e| e <= counters_size)
                })
                .ok_or_else(|| {
                    invalid(
                        rec + layout.counter_ptr,
                        format!(
                            "data record {i} ({name}) points to {} at byte {off} of a {}-byte counters section",
                            count(n, "counter", "counters"),
                            counters_size
                        ),
                    )
                })?;
            let mut values = Vec::new();
            for c in 0..n {
                values.push(input.uint(counters_at + first + c * 8, 8, "a counter")?);
            }
            let mut bits = Vec::new();
            let mut bitmap_offset = bitmap_at as usize;
            if let (Some(bp), Some(nb), Some(bd)) =
                (layout.bitmap_ptr, layout.num_bitmap_bytes, bitmap_delta)
            {
                let bitmap_ptr = input.uint(rec + bp, ptr, "a bitmap pointer")?;
                let nbytes = input.uint(rec + nb, 4, "a record's bitmap size")?;
                if nbytes > 0 {
                    let base = bd.wrapping_sub(i.wrapping_mul(layout.size));
                    let off = ptr_diff(bitmap_ptr, base, layout.ptr);
                    let first = u64::try_from(off)
                        .ok()
                        .filter(|o| o.checked_add(nbytes).is_some_and(|e| e <= bitmap_size))
                        .ok_or_else(|| {
                            invalid(
                                rec + bp,
                                format!(
                                    "data record {i} ({name}) points to {nbytes} bitmap bytes at byte {off} of a {bitmap_size}-byte bitmap section"
                                ),
                            )
                        })?;
                    bits = bitmap
                        .get(first as usize..(first + nbytes) as usize)
                        .unwrap_or_default()
                        .to_vec();
                    bitmap_offset = (bitmap_at + first) as usize;
                }
            }
            value_kinds_used.push(value_sites.iter().any(|&s| s != 0));
            functions.push(Function {
                name: (*name).clone(),
                name_hash: name_ref,
                hash,
                counters: values,
                bitmap: bits,
                value_sites,
                offset: rec as usize,
                counters_offset: (counters_at + first) as usize,
                bitmap_offset,
            });
        }

        // Value-profile data: one block per record that has value sites,
        // each starting with its u32 total size. A hypervisor writes none and
        // leaves zeros, which is accepted.
        let mut vat = value_at;
        for (i, used) in value_kinds_used.iter().enumerate() {
            if !used {
                continue;
            }
            let rest = data.get(vat as usize..).unwrap_or_default();
            if rest.iter().all(|&b| b == 0) {
                break;
            }
            let total = input.uint(vat, 4, "a value-profile block's size")?;
            let kinds = input.uint(vat + 4, 4, "a value-profile block's kind count")?;
            if total < 8 || total % 8 != 0 || kinds > layout.kinds {
                return Err(invalid(
                    vat,
                    format!(
                        "the value-profile block of data record {i} claims {total} bytes and {kinds} value kinds"
                    ),
                ));
            }
            input.slice(vat, total, "a value-profile block")?;
            vat += total;
        }
        let used_bytes = vat as usize;
        if let Some(p) = data
            .get(used_bytes..)
            .unwrap_or_default()
            .iter()
            .position(|&b| b != 0)
        {
            return Err(invalid(
                (used_bytes + p) as u64,
                format!(
                    "the profile ends at byte {used_bytes}, but non-zero bytes follow \
                     (a second, concatenated profile is not supported)"
                ),
            ));
        }
        Ok(RawProfile {
            endian,
            pointer_bytes: ptr,
            header,
            binary_ids,
            functions,
            names_compressed,
            value_data_bytes: (vat - value_at) as usize,
            used_bytes,
        })
    }
}

/// Why profiles cannot be merged: the input (index) and what differs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("input {input}: {error}")]
pub struct MergeError {
    pub input: usize,
    pub error: Error,
}

/// Merges raw profiles of one build: counters are summed (each input's
/// multiplied by its weight; a sum that does not fit in 64 bits is an error,
/// never a wrapped count), MC/DC bitmaps ORed. The result is the first
/// input's bytes (without its zero fill) with the merged values written in
/// place, so it is a raw profile of the same version that `llvm-profdata`
/// reads. Profiles of another build are refused: a different version, byte
/// order, build ID, or function list (name, structural hash, counter and
/// bitmap sizes, in the same order), where `llvm-profdata merge` would keep
/// the functions of both builds side by side or stop at a counter mismatch.
/// Value-profile data is not merged: profiles that carry some are refused.
pub fn merge(inputs: &[(&[u8], u64)]) -> std::result::Result<Vec<u8>, MergeError> {
    let err = |input: usize, error: Error| MergeError { input, error };
    let mut decoded = Vec::with_capacity(inputs.len());
    for (i, (bytes, _)) in inputs.iter().enumerate() {
        decoded.push(RawProfile::decode(bytes).map_err(|e| err(i, e))?);
    }
    let Some(first) = decoded.first() else {
        return Err(err(0, invalid(0, "no profile to merge".into())));
    };
    let mut out = inputs
        .first()
        .and_then(|(b, _)| b.get(..first.used_bytes))
        .unwrap_or_default()
        .to_vec();
    let mut sums: Vec<Vec<u64>> = first
        .functions
        .iter()
        .map(|f| vec![0; f.counters.len()])
        .collect();
    let mut bits: Vec<Vec<u8>> = first
        .functions
        .iter()
        .map(|f| vec![0; f.bitmap.len()])
        .collect();
    for (i, (p, (_, weight))) in decoded.iter().zip(inputs).enumerate() {
        if p.value_data_bytes != 0 {
            return Err(err(
                i,
                invalid(
                    p.used_bytes as u64 - p.value_data_bytes as u64,
                    "the profile carries value-profile data, which merge does not combine".into(),
                ),
            ));
        }
        let what = if p.header.version != first.header.version {
            Some(format!(
                "raw profile version {} is not the first input's {}",
                p.header.version, first.header.version
            ))
        } else if p.endian != first.endian || p.pointer_bytes != first.pointer_bytes {
            Some("the byte order or pointer size differs from the first input's".into())
        } else if !p.binary_ids.is_empty()
            && !first.binary_ids.is_empty()
            && p.binary_ids != first.binary_ids
        {
            Some("its build ID differs from the first input's: another build".into())
        } else if p.functions.len() != first.functions.len() {
            Some(format!(
                "it has {} where the first input has {}: another build",
                count(p.functions.len() as u64, "function", "functions"),
                first.functions.len()
            ))
        } else {
            None
        };
        if let Some(what) = what {
            return Err(err(i, invalid(0, what)));
        }
        for (k, (f, g)) in p.functions.iter().zip(&first.functions).enumerate() {
            if f.name_hash != g.name_hash
                || f.hash != g.hash
                || f.counters.len() != g.counters.len()
                || f.bitmap.len() != g.bitmap.len()
            {
                return Err(err(
                    i,
                    invalid(
                        f.offset as u64,
                        format!(
                            "function {k} is {} (hash {:#x}, {}), but in the first input {} \
                             (hash {:#x}, {}): another build",
                            f.name,
                            f.hash,
                            count(f.counters.len() as u64, "counter", "counters"),
                            g.name,
                            g.hash,
                            count(g.counters.len() as u64, "counter", "counters")
                        ),
                    ),
                ));
            }
            for ((sum, &c), n) in sums
                .get_mut(k)
                .into_iter()
                .flatten()
                .zip(&f.counters)
                .zip(0u64..)
            {
                *sum = c
                    .checked_mul(*weight)
                    .and_then(|w| sum.checked_add(w))
                    .ok_or_else(|| {
                        err(
                            i,
                            invalid(
                                f.counters_offset as u64 + 8 * n,
                                format!("counter {n} of {} overflows 64 bits when merged", f.name),
                            ),
                        )
                    })?;
            }
            if *weight != 0 {
                for (b, &x) in bits.get_mut(k).into_iter().flatten().zip(&f.bitmap) {
                    *b |= x;
                }
            }
        }
    }
    let endian = first.endian;
    for ((f, sum), bitmap) in first.functions.iter().zip(&sums).zip(&bits) {
        for (n, v) in sum.iter().enumerate() {
            let bytes = match endian {
                Endian::Little => v.to_le_bytes(),
                Endian::Big => v.to_be_bytes(),
            };
            let at = f.counters_offset + 8 * n;
            if let Some(dst) = out.get_mut(at..at + 8) {
                dst.copy_from_slice(&bytes);
            }
        }
        if let Some(dst) = out.get_mut(f.bitmap_offset..f.bitmap_offset + bitmap.len()) {
            dst.copy_from_slice(bitmap);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-5 profile (clang 11/12 layout) of one function `f` with
    /// counters [7, 2], built field by field in byte order `e`.
    fn v5(e: Endian) -> Vec<u8> {
        let w = |v: u64| match e {
            Endian::Little => v.to_le_bytes().to_vec(),
            Endian::Big => v.to_be_bytes().to_vec(),
        };
        let w32 = |v: u32| match e {
            Endian::Little => v.to_le_bytes().to_vec(),
            Endian::Big => v.to_be_bytes().to_vec(),
        };
        let mut b = Vec::new();
        // magic, version, num_data, pad, num_counters, pad, names_size,
        // counters_delta (absolute address 0x1000), names_delta, value_kind_last
        for v in [MAGIC_64, 5, 1, 0, 2, 0, 3, 0x1000, 0x2000, 1] {
            b.extend(w(v));
        }
        b.extend(w(name_hash("f")));
        b.extend(w(0x18)); // function hash
        b.extend(w(0x1000)); // counter pointer: the first counter
        b.extend(w(0)); // function pointer
        b.extend(w(0)); // values
        b.extend(w32(2)); // counters
        b.extend([0, 0, 0, 0]); // two u16 value-site counts
        b.extend(w(7));
        b.extend(w(2));
        b.extend([1, 0, b'f', 0, 0, 0, 0, 0]); // uncompressed chunk "f", padding
        b
    }

    /// A version-8 profile of a 32-bit writer (magic `…R\x81`), big-endian:
    /// 4-byte pointers, a 40-byte record (36 bytes of fields, aligned to 8
    /// for its u64 members), relative counter pointers that
    /// wrap in 32 bits. Two functions `a` (counters [1, 2]) and `b` ([3]).
    fn v8_32_big() -> Vec<u8> {
        let mut b = Vec::new();
        let data_size = 2 * 40u64;
        // counters_delta = counters - data, stored as a 32-bit difference in a u64.
        for v in [MAGIC_32, 8, 0, 2, 0, 3, 0, 5, data_size, 0x1234, 1] {
            b.extend(v.to_be_bytes());
        }
        for (i, (name, n, first)) in [("a", 2u32, 0u64), ("b", 1, 2)].into_iter().enumerate() {
            b.extend(name_hash(name).to_be_bytes());
            b.extend(0x18u64.to_be_bytes());
            // Pointer to the counters, relative to this record: counters_delta
            // minus the record's offset into the data, plus the counter offset.
            let rel = (data_size - 40 * i as u64 + 8 * first) as u32;
            b.extend(rel.to_be_bytes());
            b.extend([0u8; 8]); // function pointer, values
            b.extend(n.to_be_bytes());
            b.extend([0u8; 4]); // two u16 value-site counts
            b.extend([0u8; 4]); // struct padding
        }
        for c in [1u64, 2, 3] {
            b.extend(c.to_be_bytes());
        }
        b.extend([3, 0, b'a', 1, b'b', 0, 0, 0]); // "a\x01b" stored, padded to 8
        b
    }

    #[test]
    fn version_8_of_a_32_bit_big_endian_writer() {
        let p = RawProfile::decode(&v8_32_big()).unwrap();
        assert_eq!((p.endian, p.pointer_bytes), (Endian::Big, 4));
        assert_eq!(p.header.binary_ids_size, Some(0));
        let got: Vec<(&str, &[u64])> = p
            .functions
            .iter()
            .map(|f| (f.name.as_str(), f.counters.as_slice()))
            .collect();
        assert_eq!(got, [("a", &[1, 2][..]), ("b", &[3][..])]);
        // b's pointer one counter further runs past the section: refused at
        // the pointer (record 1 at 0x58 + 40, pointer 16 bytes in).
        let mut bad = v8_32_big();
        bad[0x58 + 40 + 16 + 3] += 8;
        assert_eq!(RawProfile::decode(&bad).unwrap_err().offset, 0x58 + 40 + 16);
    }

    #[test]
    fn value_sites_without_value_data_as_a_hypervisor_leaves_them() {
        // One indirect-call site recorded (0x50 + 44), no value data after
        // the names: Xen has no runtime to write any, and zero-fills.
        let mut b = v5(Endian::Little);
        b[0x50 + 44] = 1;
        let end = b.len();
        b.extend([0u8; 16]);
        let p = RawProfile::decode(&b).unwrap();
        assert_eq!(p.functions[0].value_sites, [1, 0]);
        assert_eq!((p.value_data_bytes, p.used_bytes), (0, end));
        // A value block as compiler-rt writes it: u32 total size, u32 kinds.
        let mut with = b.clone();
        with[end..end + 8].copy_from_slice(&[16, 0, 0, 0, 1, 0, 0, 0]);
        with[end + 8] = 0xaa;
        let p = RawProfile::decode(&with).unwrap();
        assert_eq!((p.value_data_bytes, p.used_bytes), (16, end + 16));
        // A block that claims more than there is, or a size not a multiple of 8.
        for size in [24u8, 12] {
            let mut bad = with.clone();
            bad[end] = size;
            assert_eq!(RawProfile::decode(&bad).unwrap_err().offset, end, "{size}");
        }
        // Merge refuses value data rather than dropping it silently.
        let e = merge(&[(&with, 1)]).unwrap_err();
        assert!(e.to_string().contains("value-profile data"), "{e}");
    }

    #[test]
    fn md5_name_hash_matches_the_sample() {
        // samples/llvm/small.profraw: the record of `main` at 0x78.
        assert_eq!(name_hash("main"), 0xdb95_6436_e78d_d5fa);
    }

    #[test]
    fn version_5_in_both_byte_orders() {
        for e in [Endian::Little, Endian::Big] {
            let p = RawProfile::decode(&v5(e)).unwrap();
            assert_eq!(p.endian, e);
            assert_eq!(p.header.version, 5);
            assert_eq!(p.header.binary_ids_size, None);
            assert_eq!(p.functions.len(), 1);
            assert_eq!(p.functions[0].name, "f");
            assert_eq!(p.functions[0].hash, 0x18);
            assert_eq!(p.functions[0].counters, vec![7, 2]);
            assert!(!p.names_compressed);
        }
    }

    #[test]
    fn every_truncation_is_refused_and_zero_fill_accepted() {
        let full = v5(Endian::Little);
        for len in 0..full.len() {
            assert!(
                RawProfile::decode(&full[..len]).is_err(),
                "{len} bytes accepted"
            );
        }
        let mut filled = full.clone();
        filled.extend([0u8; 64]);
        assert_eq!(RawProfile::decode(&filled).unwrap().used_bytes, full.len());
        filled.push(1);
        let e = RawProfile::decode(&filled).unwrap_err();
        assert_eq!(e.offset, full.len() + 64);
    }

    #[test]
    fn lying_fields_are_refused_with_their_offset() {
        // num_counters 2 -> 3: the header promises 8 bytes more than there are.
        let mut b = v5(Endian::Little);
        b[0x20] = 3;
        assert!(RawProfile::decode(&b).is_err());
        // The record's counter pointer one counter further: its 2 counters
        // would run past the section. The error names the pointer's offset.
        let mut b = v5(Endian::Little);
        b[0x50 + 16] = 0x08;
        let e = RawProfile::decode(&b).unwrap_err();
        assert_eq!(e.offset, 0x50 + 16, "{e}");
        // A name hash that is in no name.
        let mut b = v5(Endian::Little);
        b[0x50] ^= 1;
        assert_eq!(RawProfile::decode(&b).unwrap_err().offset, 0x50);
        // No counters at all.
        let mut b = v5(Endian::Little);
        b[0x50 + 40] = 0;
        assert_eq!(RawProfile::decode(&b).unwrap_err().offset, 0x50 + 40);
        // No records at all: an empty profile is an error.
        let mut b = v5(Endian::Little);
        b[0x10] = 0;
        assert_eq!(RawProfile::decode(&b).unwrap_err().offset, 0x10);
        // An unknown version.
        let mut b = v5(Endian::Little);
        b[8] = 11;
        assert_eq!(RawProfile::decode(&b).unwrap_err().offset, 8);
        // value_kind_last that does not fit version 5's records.
        let mut b = v5(Endian::Little);
        b[0x48] = 2;
        assert_eq!(RawProfile::decode(&b).unwrap_err().offset, 0x48);
    }

    #[test]
    fn compressed_names_must_inflate_to_their_claimed_size() {
        // The names chunk of samples/llvm/small.profraw (0x138): 33 bytes
        // from 33 compressed bytes.
        let chunk = [
            0x21, 0x21, 0x78, 0xda, 0xcb, 0x4d, 0xcc, 0xcc, 0x63, 0x2c, 0xce, 0x4d, 0xcc, 0xc9,
            0xd1, 0x4b, 0xb6, 0x2a, 0x2e, 0x2c, 0x4d, 0x2c, 0x4a, 0x85, 0x73, 0xf3, 0x52, 0xcb,
            0x52, 0x8b, 0x00, 0xcc, 0x23, 0x0c, 0x21,
        ];
        let (names, z) = decode_names(&chunk, 0x138).unwrap();
        assert!(z);
        assert_eq!(names, ["main", "small.c:square", "small.c:never"]);
        let mut lie = chunk;
        lie[0] = 0x22;
        assert_eq!(decode_names(&lie, 0x138).unwrap_err().offset, 0x138);
        let mut bad = chunk;
        bad[10] ^= 0xff;
        assert!(decode_names(&bad, 0x138).is_err());
    }

    #[test]
    fn clang_banners() {
        assert_eq!(
            clang_major_in_banner("Debian clang version 19.1.7 (3+b1)"),
            Some(19)
        );
        assert_eq!(clang_major_in_banner("clang version 14.0.6"), Some(14));
        assert_eq!(
            clang_major_in_banner("GCC: (Debian 12.2.0-14) 12.2.0"),
            None
        );
    }

    #[test]
    fn clang_release_table() {
        assert_eq!(raw_version_of_clang(19), Some(10));
        assert_eq!(raw_version_of_clang(14), Some(8));
        assert_eq!(raw_version_of_clang(10), None);
        assert_eq!(clangs_of_raw_version(8), vec![14, 15, 16, 17]);
    }
}
