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
use crate::error::{Error, ErrorKind, Result};

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

fn invalid(offset: u64, message: String) -> Error {
    crate::llvm::invalid(offset, message)
}

/// A bounded cursor over one section, reporting file offsets.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    section: &'static str,
}

impl<'a> Cursor<'a> {
    fn at(&self) -> u64 {
        self.base + self.pos as u64
    }
    fn truncated(&self, what: &'static str, needed: u64) -> Error {
        Error::new(
            usize::try_from(self.at()).unwrap_or(usize::MAX),
            ErrorKind::Truncated {
                what,
                needed,
                available: self.data.len().saturating_sub(self.pos),
            },
        )
    }
    fn bytes(&mut self, n: u64, what: &'static str) -> Result<&'a [u8]> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| self.truncated(what, n))?;
        let out = self.data.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(out)
    }
    fn u32(&mut self, endian: Endian, what: &'static str) -> Result<u32> {
        let b: [u8; 4] = self
            .bytes(4, what)?
            .try_into()
            .map_err(|_| self.truncated(what, 4))?;
        Ok(match endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
    fn u64(&mut self, endian: Endian, what: &'static str) -> Result<u64> {
        let b: [u8; 8] = self
            .bytes(8, what)?
            .try_into()
            .map_err(|_| self.truncated(what, 8))?;
        Ok(match endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }
    fn uleb(&mut self, what: &'static str) -> Result<u64> {
        let start = self.at();
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = self.data.get(self.pos) else {
                return Err(self.truncated(what, 1));
            };
            if shift >= 64 || (shift == 63 && b & 0x7e != 0) {
                return Err(invalid(
                    start,
                    format!("{}: {what} does not fit in 64 bits", self.section),
                ));
            }
            v |= u64::from(b & 0x7f) << shift;
            self.pos += 1;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }
    /// A ULEB128 below `max_plus_1` (LLVM's `readIntMax`).
    fn uleb_max(&mut self, max_plus_1: u64, what: &'static str) -> Result<u64> {
        let at = self.at();
        let v = self.uleb(what)?;
        if v >= max_plus_1 {
            return Err(invalid(
                at,
                format!("{}: {what} is {v}, not below {max_plus_1}", self.section),
            ));
        }
        Ok(v)
    }
    /// A ULEB128 size no larger than what is left (LLVM's `readSize`).
    fn size(&mut self, what: &'static str) -> Result<u64> {
        let at = self.at();
        let v = self.uleb(what)?;
        if v > self.data.len().saturating_sub(self.pos) as u64 {
            return Err(invalid(
                at,
                format!(
                    "{}: {what} is {v}, more than the {} bytes left",
                    self.section,
                    self.data.len().saturating_sub(self.pos)
                ),
            ));
        }
        Ok(v)
    }
    fn align8(&mut self) {
        let rem = self.pos % 8;
        if rem != 0 {
            self.pos = (self.pos + 8 - rem).min(self.data.len());
        }
    }
    fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Decodes a unit's file names table (after the header).
fn filenames(data: &[u8], base: u64, version: u32) -> Result<Vec<String>> {
    let mut c = Cursor {
        data,
        pos: 0,
        base,
        section: "__llvm_covmap",
    };
    let count = c.size("the number of file names")?;
    if count == 0 {
        return Err(invalid(
            base,
            "__llvm_covmap: a unit with no file names".into(),
        ));
    }
    let raw_len = c.uleb("the uncompressed size of the file names")?;
    let zlen = c.size("the compressed size of the file names")?;
    let zat = c.at();
    let plain;
    let (list, list_base): (&[u8], u64) = if zlen > 0 {
        let z = c.bytes(zlen, "the compressed file names")?;
        if raw_len > zlen.saturating_mul(1032) {
            return Err(invalid(
                zat,
                format!(
                    "__llvm_covmap: file names claim {raw_len} bytes from {zlen} compressed \
                     bytes, more than zlib can produce"
                ),
            ));
        }
        let limit = usize::try_from(raw_len).unwrap_or(usize::MAX);
        plain = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(z, limit).map_err(|e| {
            invalid(
                zat,
                format!(
                    "__llvm_covmap: the compressed file names do not inflate: {:?}",
                    e.status
                ),
            )
        })?;
        (plain.as_slice(), zat)
    } else {
        (data.get(c.pos..).unwrap_or_default(), c.at())
    };
    let mut l = Cursor {
        data: list,
        pos: 0,
        base: list_base,
        section: "__llvm_covmap",
    };
    let mut names = Vec::new();
    let read = |l: &mut Cursor<'_>| -> Result<String> {
        let at = l.at();
        let n = l.size("the length of a file name")?;
        let b = l.bytes(n, "a file name")?;
        String::from_utf8(b.to_vec())
            .map_err(|_| invalid(at, "__llvm_covmap: a file name is not UTF-8".into()))
    };
    if version < 5 {
        for _ in 0..count {
            names.push(read(&mut l)?);
        }
    } else {
        let cwd = read(&mut l)?;
        names.push(cwd.clone());
        for _ in 1..count {
            let f = read(&mut l)?;
            if f.starts_with('/') {
                names.push(f);
            } else {
                let joined = if cwd.is_empty() {
                    f
                } else {
                    format!("{}/{f}", cwd.trim_end_matches('/'))
                };
                names.push(remove_dots(&joined));
            }
        }
    }
    Ok(names)
}

/// A counter from its encoding (2 tag bits); an expression reference sets
/// the expression's kind, as LLVM's reader does.
fn counter(value: u64, exprs: &mut [Expression], at: u64) -> Result<Counter> {
    let id = u32::try_from(value >> 2).unwrap_or(u32::MAX);
    match value & 3 {
        0 => Ok(Counter::Zero),
        1 => Ok(Counter::Counter(id)),
        tag => {
            let e = usize::try_from(id)
                .ok()
                .and_then(|i| exprs.get_mut(i))
                .ok_or_else(|| {
                    invalid(
                        at,
                        format!("__llvm_covfun: a counter refers to expression {id}, past the end"),
                    )
                })?;
            e.kind = if tag == 2 {
                ExprKind::Subtract
            } else {
                ExprKind::Add
            };
            Ok(Counter::Expression(id))
        }
    }
}

const U32_MAX_PLUS_1: u64 = u32::MAX as u64;
const I16_MAX_PLUS_1: u64 = i16::MAX as u64;

/// Decodes one function's mapping bytes.
fn mapping(
    data: &[u8],
    base: u64,
    unit_files: &[String],
) -> Result<(Vec<String>, Vec<Expression>, Vec<Region>)> {
    let mut c = Cursor {
        data,
        pos: 0,
        base,
        section: "__llvm_covfun",
    };
    let nfiles = c.size("the number of file IDs")?;
    let mut files = Vec::new();
    for _ in 0..nfiles {
        let i = c.uleb_max(unit_files.len() as u64, "a file name index")?;
        files.push(
            unit_files
                .get(usize::try_from(i).unwrap_or(usize::MAX))
                .cloned()
                .unwrap_or_default(),
        );
    }
    let nexpr = c.size("the number of expressions")?;
    let mut exprs = vec![
        Expression {
            kind: ExprKind::Subtract,
            lhs: Counter::Zero,
            rhs: Counter::Zero,
        };
        usize::try_from(nexpr).unwrap_or(0)
    ];
    for i in 0..exprs.len() {
        let at = c.at();
        let l = c.uleb_max(U32_MAX_PLUS_1, "an expression operand")?;
        let lhs = counter(l, &mut exprs, at)?;
        let at = c.at();
        let r = c.uleb_max(U32_MAX_PLUS_1, "an expression operand")?;
        let rhs = counter(r, &mut exprs, at)?;
        if let Some(e) = exprs.get_mut(i) {
            e.lhs = lhs;
            e.rhs = rhs;
        }
    }
    let mut regions = Vec::new();
    for file_id in 0..files.len() {
        let nregions = c.size("the number of regions")?;
        let mut line_start: u32 = 0;
        for _ in 0..nregions {
            let at = c.at();
            let enc = c.uleb_max(U32_MAX_PLUS_1, "a region's counter and kind")?;
            let mut kind = RegionKind::Code;
            let mut count = Counter::Zero;
            let mut false_count = Counter::Zero;
            let mut expanded_file_id = 0u32;
            let mut mcdc = None;
            if enc & 3 != 0 {
                count = counter(enc, &mut exprs, at)?;
            } else if enc & 4 != 0 {
                kind = RegionKind::Expansion;
                expanded_file_id = u32::try_from(enc >> 3).unwrap_or(u32::MAX);
                if expanded_file_id as usize >= files.len() {
                    return Err(invalid(
                        at,
                        format!(
                            "__llvm_covfun: an expansion of file ID {expanded_file_id}, but the \
                             function has {} files",
                            files.len()
                        ),
                    ));
                }
            } else {
                match enc >> 3 {
                    0 => {}
                    2 => kind = RegionKind::Skipped,
                    4 | 6 => {
                        let branch = enc >> 3 == 4;
                        kind = if branch {
                            RegionKind::Branch
                        } else {
                            RegionKind::McdcBranch
                        };
                        let at = c.at();
                        let v = c.uleb_max(U32_MAX_PLUS_1, "a branch's true counter")?;
                        count = counter(v, &mut exprs, at)?;
                        let at = c.at();
                        let v = c.uleb_max(U32_MAX_PLUS_1, "a branch's false counter")?;
                        false_count = counter(v, &mut exprs, at)?;
                        if !branch {
                            let id = c.uleb_max(I16_MAX_PLUS_1, "an MC/DC condition ID")?;
                            let t = c.uleb_max(I16_MAX_PLUS_1, "an MC/DC true ID")?;
                            let f = c.uleb_max(I16_MAX_PLUS_1, "an MC/DC false ID")?;
                            mcdc = Some(Mcdc::Branch {
                                id: id as u16,
                                true_id: t as u16,
                                false_id: f as u16,
                            });
                        }
                    }
                    5 => {
                        kind = RegionKind::McdcDecision;
                        let b = c.uleb_max(U32_MAX_PLUS_1, "an MC/DC bitmap index")?;
                        let n = c.uleb_max(I16_MAX_PLUS_1, "an MC/DC number of conditions")?;
                        mcdc = Some(Mcdc::Decision {
                            bitmap_index: b as u32,
                            conditions: n as u16,
                        });
                    }
                    k => {
                        return Err(invalid(
                            at,
                            format!("__llvm_covfun: region kind {k} is not one LLVM defines"),
                        ));
                    }
                }
            }
            let at = c.at();
            let delta = c.uleb_max(U32_MAX_PLUS_1, "a region's line delta")?;
            let col_start = c.uleb_max(U32_MAX_PLUS_1, "a region's start column")?;
            let nlines = c.uleb_max(U32_MAX_PLUS_1, "a region's number of lines")?;
            let mut col_end = c.uleb_max(U32_MAX_PLUS_1, "a region's end column")?;
            line_start = line_start.wrapping_add(delta as u32);
            if col_end & (1 << 31) != 0 {
                kind = RegionKind::Gap;
                col_end &= !(1 << 31);
            }
            let (col_start, col_end) = if col_start == 0 && col_end == 0 {
                (1, u32::MAX)
            } else {
                (col_start as u32, col_end as u32)
            };
            let line_end = line_start.wrapping_add(nlines as u32);
            if (line_start, col_start) > (line_end, col_end) {
                return Err(invalid(
                    at,
                    format!(
                        "__llvm_covfun: a region ends ({line_end}:{col_end}) before it starts \
                         ({line_start}:{col_start})"
                    ),
                ));
            }
            regions.push(Region {
                kind,
                count,
                false_count,
                file_id: file_id as u32,
                expanded_file_id,
                line_start,
                column_start: col_start,
                line_end,
                column_end: col_end,
                mcdc,
            });
        }
    }
    // An expansion counts what the first region of the file it expands
    // counts; repeated until nothing changes (expansions nest).
    loop {
        let mut slot: Vec<Option<usize>> = vec![None; files.len()];
        for (i, r) in regions.iter().enumerate() {
            if r.kind == RegionKind::Expansion
                && let Some(s) = slot.get_mut(r.expanded_file_id as usize)
            {
                *s = Some(i);
            }
        }
        let mut changed = false;
        for i in 0..regions.len() {
            let Some(r) = regions.get(i).copied() else {
                continue;
            };
            if let Some(s) = slot.get_mut(r.file_id as usize)
                && let Some(e) = s.take()
                && let Some(exp) = regions.get_mut(e)
                && exp.count != r.count
            {
                exp.count = r.count;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    Ok((files, exprs, regions))
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
                return Err(invalid(
                    at + 12,
                    format!(
                        "__llvm_covmap: coverage mapping version field {v} (LLVM's Version{}); \
                         only {}..={} (clang 11 and later) are read",
                        v + 1,
                        VERSIONS.start(),
                        VERSIONS.end()
                    ),
                ));
            }
            if *version.get_or_insert(v) != v {
                return Err(invalid(
                    at + 12,
                    format!(
                        "__llvm_covmap: units of two mapping versions ({} and {v}) in one file",
                        version.unwrap_or(v)
                    ),
                ));
            }
            if nrecords != 0 || csize != 0 {
                return Err(invalid(
                    at,
                    format!(
                        "__llvm_covmap: a version {v} header with {nrecords} records and \
                         {csize} mapping bytes; from this version they live in __llvm_covfun"
                    ),
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
            let unit = units.get(&fref).ok_or_else(|| {
                invalid(
                    at + 20,
                    format!(
                        "__llvm_covfun: the function record refers to file names {fref:#018x}, \
                         which no unit in __llvm_covmap has"
                    ),
                )
            })?;
            let (filenames, expressions, regions) = mapping(bytes, mat, unit)?;
            if regions.is_empty() {
                continue;
            }
            let name = names.get(&name_md5).cloned().ok_or_else(|| {
                invalid(
                    at,
                    format!(
                        "__llvm_covfun: no function name has the MD5 {name_md5:#018x} the record \
                         holds (names section missing or of another binary)"
                    ),
                )
            })?;
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

/// Why an ELF file gives no coverage mapping.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SectionsError {
    /// Not an ELF file `object` can read.
    #[error("not a readable ELF file: {0}")]
    Elf(String),
    /// A section is missing.
    #[error(
        "it has no {0} section: not built with clang's -fprofile-instr-generate -fcoverage-mapping (or stripped of it)"
    )]
    Missing(&'static str),
}

/// Finds the sections of the coverage mapping in an ELF file.
pub fn sections(elf: &[u8]) -> std::result::Result<Sections<'_>, SectionsError> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(elf).map_err(|e| SectionsError::Elf(e.to_string()))?;
    let find = |name: &'static str| -> std::result::Result<Option<(&[u8], u64)>, SectionsError> {
        let Some(s) = file.section_by_name(name) else {
            return Ok(None);
        };
        let data = s.data().map_err(|e| SectionsError::Elf(e.to_string()))?;
        let offset = s.file_range().map_or(0, |(o, _)| o);
        Ok(Some((data, offset)))
    };
    let covmap = find("__llvm_covmap")?.ok_or(SectionsError::Missing("__llvm_covmap"))?;
    let covfun = find("__llvm_covfun")?.ok_or(SectionsError::Missing("__llvm_covfun"))?;
    let mut names = Vec::new();
    names.extend(find("__llvm_prf_names")?);
    names.extend(find("__llvm_covnames")?);
    if names.is_empty() {
        return Err(SectionsError::Missing("__llvm_prf_names"));
    }
    let endian = if file.is_little_endian() {
        Endian::Little
    } else {
        Endian::Big
    };
    Ok(Sections {
        covmap,
        covfun,
        names,
        endian,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remove_dots_folds_parent_components() {
        assert_eq!(remove_dots("/a/b/../c/./d.c"), "/a/c/d.c");
        assert_eq!(remove_dots("/a/../../x.h"), "/x.h");
        assert_eq!(remove_dots("a/../../x.h"), "../x.h");
    }

    /// One unit with plain (uncompressed) names, version 6 layout: the
    /// compilation directory first, a relative name joined to it.
    #[test]
    fn plain_filenames_join_the_compilation_dir() {
        // 2 names, uncompressed size 9, compressed size 0, "/w", "a.c"
        let bytes = [2, 9, 0, 2, b'/', b'w', 6, b'x', b'/', b'.', b'.', b'/'];
        // The second name claims 6 bytes but only 5 are left.
        assert!(filenames(&bytes, 100, 5).is_err());
        let bytes = [2, 9, 0, 2, b'/', b'w', 3, b'a', b'.', b'c'];
        assert_eq!(filenames(&bytes, 0, 5).unwrap(), vec!["/w", "/w/a.c"]);
        assert_eq!(filenames(&bytes, 0, 4).unwrap(), vec!["/w", "a.c"]);
    }

    /// A code region, a gap region (bit 31 of the end column) and a branch
    /// with an expression on its false side.
    #[test]
    fn regions_of_each_kind() {
        let files = vec!["/w/a.c".to_string()];
        let bytes = [
            1, 0, // one file ID: unit file 0
            1, 5, 9, // one expression: #1 - #2 (counter 1 = 5, counter 2 = 9)
            3, // three regions
            5, 3, 12, 2, 2, // code #1 at 3:12 -> 5:2
            9, 1, 1, 0, 0x82, 0x80, 0x80, 0x80, 0x08, // gap #2 at 4:1 -> 4:2, bit 31 set
            0x20, 5, 2, 2, 2, 0, 7, // branch #1 / (#1 - #2) at 6:2 -> 6:7
        ];
        let (f, e, r) = mapping(&bytes, 0, &files).unwrap();
        assert_eq!(f, files);
        assert_eq!(e[0].kind, ExprKind::Subtract);
        assert_eq!(r[0].kind, RegionKind::Code);
        assert_eq!((r[0].start(), r[0].end()), ((3, 12), (5, 2)));
        assert_eq!(r[1].kind, RegionKind::Gap);
        assert_eq!((r[1].start(), r[1].end()), ((4, 1), (4, 2)));
        assert_eq!(r[2].kind, RegionKind::Branch);
        assert_eq!(r[2].count, Counter::Counter(1));
        assert_eq!(r[2].false_count, Counter::Expression(0));
        assert_eq!(r[2].start(), (6, 2));
    }
}
