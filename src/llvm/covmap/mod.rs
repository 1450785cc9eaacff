//! Clang's coverage mapping (`-fcoverage-mapping`): the `__llvm_covmap` and
//! `__llvm_covfun` sections of an instrumented ELF, which say which source
//! regions each profile counter (or sum and difference of counters) counts.
//!
//! Decoded for the layouts clang 11 and later write (mapping versions 4 to
//! 7, the version field 3 to 6): per translation unit a header and its file
//! names table (zlib-compressed or plain, the compilation directory first
//! from version 6), and per function a record with its name's MD5, its
//! structural hash, the hash of its unit's file names, and the mapping:
//! the file IDs, the counter expressions and the regions of each file
//! (code, expansion, skipped, gap, branch, MC/DC decision and MC/DC branch
//! regions). Every field is read bounded; an error names the file offset of
//! the field that lies. The layout follows LLVM's `CoverageMappingReader`;
//! see `formats/llvm-covmap.md`.
//!
//! The library takes the section bytes (and their file offsets, for the
//! errors); [`sections`] finds them in an ELF file with `object`.

use std::collections::HashMap;

use md5::{Digest, Md5};

use crate::bytes::endian::Endian;
use crate::error::{Error, ErrorKind, LlvmError, Result};

mod decode;
#[cfg(feature = "elf")]
mod section;
#[cfg(test)]
mod tests;

use decode::{Cursor, fail, filenames, mapping};
#[cfg(feature = "elf")]
pub use section::{SectionsError, sections};

/// The version field values decoded: 3 (LLVM's Version4, clang 11) to 6
/// (Version7, clang 18 and later). Older layouts keep the function records
/// in `__llvm_covmap` and are refused.
pub const VERSIONS: std::ops::RangeInclusive<u32> = 3..=6;

/// The section bytes the decoder needs, each with its file offset (for the
/// offsets in errors).
#[derive(Debug, Clone)]
pub struct Sections<'a> {
    /// `__llvm_covmap`: the per-unit headers and file names.
    pub covmap: (&'a [u8], u64),
    /// `__llvm_covfun`: the per-function records.
    pub covfun: (&'a [u8], u64),
    /// `__llvm_prf_names` (and `__llvm_covnames` where present): the
    /// function names, whose MD5s the records hold.
    pub names: Vec<(&'a [u8], u64)>,
    /// The byte order of the ELF file.
    pub endian: Endian,
}

/// A counter reference: zero, a profile counter, or an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Counter {
    /// The constant 0 (a region the compiler knows is never run, or a
    /// constant-folded branch side).
    Zero,
    /// The profile counter with this index.
    Counter(u32),
    /// The expression with this index.
    Expression(u32),
}

/// Whether an expression adds or subtracts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    /// `lhs - rhs`
    Subtract,
    /// `lhs + rhs`
    Add,
}

/// A counter expression of one function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expression {
    /// Add or subtract; set by the counters that refer to the expression, as
    /// LLVM sets it (an expression nothing refers to stays a subtraction).
    pub kind: ExprKind,
    /// Left operand.
    pub lhs: Counter,
    /// Right operand.
    pub rhs: Counter,
}

/// The kind of a mapping region (LLVM's `CounterMappingRegion::RegionKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RegionKind {
    /// Code whose count is the region's counter.
    Code,
    /// A macro expansion: the code of another file ID runs here.
    Expansion,
    /// Code the preprocessor skipped (`#if 0`): not counted.
    Skipped,
    /// Space between statements (after a `return`, between `}` and `else`),
    /// whose count only fills lines no region starts on.
    Gap,
    /// A condition: counts of its true and false sides.
    Branch,
    /// An MC/DC decision: where its bitmap bits are and how many conditions.
    McdcDecision,
    /// An MC/DC condition: a branch with its condition ID and successors.
    McdcBranch,
}

/// MC/DC parameters of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mcdc {
    /// A decision: bitmap index (bytes before LLVM 19, bits after) and number of conditions.
    Decision {
        /// Where the decision's bits start.
        bitmap_index: u32,
        /// Conditions in the decision.
        conditions: u16,
    },
    /// A condition: its ID and the IDs that follow when it is false and
    /// when it is true (as stored: 1-based, 0 for none).
    Branch {
        /// The condition's ID.
        id: u16,
        /// The next condition if false.
        false_id: u16,
        /// The next condition if true.
        true_id: u16,
    },
}

/// One mapping region of a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    /// What the region is.
    pub kind: RegionKind,
    /// The count (of a branch: its true side).
    pub count: Counter,
    /// A branch's false side ([`Counter::Zero`] for other kinds).
    pub false_count: Counter,
    /// Index into the function's file list.
    pub file_id: u32,
    /// An expansion's file ID (0 for other kinds).
    pub expanded_file_id: u32,
    /// First line (1-based).
    pub line_start: u32,
    /// First column (1-based).
    pub column_start: u32,
    /// Last line.
    pub line_end: u32,
    /// Column after the end; `u32::MAX` for "to the end of the line".
    pub column_end: u32,
    /// MC/DC parameters of decision and MC/DC branch regions.
    pub mcdc: Option<Mcdc>,
}

impl Region {
    /// (line, column) of the start.
    pub fn start(&self) -> (u32, u32) {
        (self.line_start, self.column_start)
    }
    /// (line, column) of the end.
    pub fn end(&self) -> (u32, u32) {
        (self.line_end, self.column_end)
    }
}

/// One function's coverage mapping record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// The PGO name (`file.c:static_fn` for file-local functions).
    pub name: String,
    /// MD5 of the name (low 64 bits), as recorded.
    pub name_md5: u64,
    /// Structural hash; the profile's record must have the same. 0 for the
    /// dummy record of a function that was not emitted in its unit.
    pub hash: u64,
    /// The function's files (index = file ID), resolved to paths.
    pub filenames: Vec<String>,
    /// Counter expressions.
    pub expressions: Vec<Expression>,
    /// Regions, file by file as recorded.
    pub regions: Vec<Region>,
    /// File offset of the record.
    pub offset: u64,
}

impl Function {
    /// A dummy record: hash 0 and one region with a zero counter (a
    /// function a unit saw but did not emit).
    pub fn is_dummy(&self) -> bool {
        self.hash == 0
            && self.filenames.len() == 1
            && self.expressions.is_empty()
            && self.regions.len() == 1
            && self.regions.first().map(|r| r.count) == Some(Counter::Zero)
    }
}

/// A decoded coverage mapping: the function records in the order LLVM keeps
/// them (the first record of a name, unless it is a dummy and a later one is
/// not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverageMapping {
    /// The version field of the unit headers (LLVM's `CovMapVersion`: 5
    /// for clang 13–17, 6 for clang 18 and later).
    pub version: u32,
    /// The function records.
    pub functions: Vec<Function>,
}

/// `sys::path::remove_dots(path, true)` for `/`-separated paths: drops `.`
/// and folds `name/..`.
fn remove_dots(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            _ => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The low 64 bits of the MD5 of `bytes`, little-endian (LLVM's
/// `IndexedInstrProf::ComputeHash`).
pub fn md5_low(bytes: &[u8]) -> u64 {
    let digest = Md5::digest(bytes);
    let mut low = [0u8; 8];
    for (d, s) in low.iter_mut().zip(digest.iter()) {
        *d = *s;
    }
    u64::from_le_bytes(low)
}

/// All names of the names sections, by the MD5 the records hold.
fn names_by_md5(sections: &[(&[u8], u64)]) -> Result<HashMap<u64, String>> {
    let mut out = HashMap::new();
    for (data, base) in sections {
        let (names, _) = super::names::decode_names(data, *base)?;
        for n in names {
            out.insert(md5_low(n.as_bytes()), n);
        }
    }
    Ok(out)
}

impl CoverageMapping {
    /// Decodes the mapping from its sections.
    pub fn decode(s: &Sections<'_>) -> Result<CoverageMapping> {
        let endian = s.endian;
        let names = names_by_md5(&s.names)?;
        // Units: the hash of the encoded file names -> the resolved names.
        let mut units: HashMap<u64, Vec<String>> = HashMap::new();
        let mut c = Cursor {
            data: s.covmap.0,
            pos: 0,
            base: s.covmap.1,
            section: "__llvm_covmap",
        };
        let mut version = None;
        while !c.done() {
            let at = c.at();
            let nrecords = c.u32(endian, "a coverage header")?;
            let fsize = c.u32(endian, "a coverage header")?;
            let csize = c.u32(endian, "a coverage header")?;
            let v = c.u32(endian, "a coverage header")?;
            if !VERSIONS.contains(&v) {
                return Err(fail(
                    at + 12,
                    LlvmError::MappingVersion {
                        field: v,
                        first: *VERSIONS.start(),
                        last: *VERSIONS.end(),
                    },
                ));
            }
            if *version.get_or_insert(v) != v {
                return Err(fail(
                    at + 12,
                    LlvmError::MixedMappingVersions {
                        first: version.unwrap_or(v),
                        found: v,
                    },
                ));
            }
            if nrecords != 0 || csize != 0 {
                return Err(fail(
                    at,
                    LlvmError::RecordsInHeader {
                        field: v,
                        records: nrecords,
                        bytes: csize,
                    },
                ));
            }
            let fat = c.at();
            let fbytes = c.bytes(u64::from(fsize), "a unit's file names")?;
            let files = filenames(fbytes, fat, v)?;
            units.entry(md5_low(fbytes)).or_insert(files);
            c.align8();
        }
        let version = version.unwrap_or(*VERSIONS.end());

        let mut functions: Vec<Function> = Vec::new();
        let mut by_name: HashMap<u64, usize> = HashMap::new();
        let mut c = Cursor {
            data: s.covfun.0,
            pos: 0,
            base: s.covfun.1,
            section: "__llvm_covfun",
        };
        while !c.done() {
            let at = c.at();
            let name_md5 = c.u64(endian, "a function record")?;
            let size = c.u32(endian, "a function record")?;
            let hash = c.u64(endian, "a function record")?;
            let fref = c.u64(endian, "a function record")?;
            let mat = c.at();
            let bytes = c.bytes(u64::from(size), "a function's mapping")?;
            c.align8();
            let unit = units
                .get(&fref)
                .ok_or_else(|| fail(at + 20, LlvmError::UnknownFileNames { hash: fref }))?;
            let (filenames, expressions, regions) = mapping(bytes, mat, unit)?;
            if regions.is_empty() {
                continue;
            }
            let name = names
                .get(&name_md5)
                .cloned()
                .ok_or_else(|| fail(at, LlvmError::UnknownFunctionName { md5: name_md5 }))?;
            let f = Function {
                name,
                name_md5,
                hash,
                filenames,
                expressions,
                regions,
                offset: at,
            };
            match by_name.get(&name_md5) {
                None => {
                    by_name.insert(name_md5, functions.len());
                    functions.push(f);
                }
                Some(&i) => {
                    if let Some(old) = functions.get_mut(i)
                        && old.is_dummy()
                        && !f.is_dummy()
                    {
                        *old = f;
                    }
                }
            }
        }
        Ok(CoverageMapping { version, functions })
    }
}

/// The clang releases that write mapping version field `v` (clang 11: 3,
/// 12: 4, 13–17: 5, 18 to 21: 6); `None` for other values.
pub fn clangs_of_version(v: u32) -> Option<std::ops::RangeInclusive<u32>> {
    match v {
        3 => Some(11..=11),
        4 => Some(12..=12),
        5 => Some(13..=17),
        6 => Some(18..=21),
        _ => None,
    }
}

/// The version fields of the unit headers of an `__llvm_covmap` section
/// (`covmap`: its bytes and file offset), distinct, in the order first
/// seen, without decoding the units: also for versions the decoder does
/// not read, so that a check can name the release that wrote them.
///
/// The walk follows the layout of version fields 3 and later (header, file
/// names, alignment to 8); a unit of an older version (field 0 to 2, whose
/// function records sit inside the section) ends it after its header.
pub fn unit_versions(covmap: (&[u8], u64), endian: Endian) -> Result<Vec<u32>> {
    let mut c = Cursor {
        data: covmap.0,
        pos: 0,
        base: covmap.1,
        section: "__llvm_covmap",
    };
    let mut out: Vec<u32> = Vec::new();
    while !c.done() {
        let _nrecords = c.u32(endian, "a coverage header")?;
        let fsize = c.u32(endian, "a coverage header")?;
        let _csize = c.u32(endian, "a coverage header")?;
        let v = c.u32(endian, "a coverage header")?;
        if !out.contains(&v) {
            out.push(v);
        }
        if v < *VERSIONS.start() {
            break;
        }
        c.bytes(u64::from(fsize), "a unit's file names")?;
        c.align8();
    }
    Ok(out)
}
