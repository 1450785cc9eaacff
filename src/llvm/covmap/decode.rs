//! Decoding one mapping: a bounded cursor over a section with file offsets,
//! the filenames table (zlib-compressed in some versions), counters and
//! expressions, and the regions of a function record.
//!
//! The file stays whole (about 430 lines): the filenames table, counters,
//! expressions and regions are one grammar (CoverageMappingReader.cpp's
//! `RawCoverageMappingReader`), read in one pass with one cursor.

use super::*;

/// An error `e` at `offset` of the binary.
pub(super) fn fail(offset: u64, e: LlvmError) -> Error {
    crate::llvm::fail(offset, e)
}

/// A bounded cursor over one section, reporting file offsets.
pub(super) struct Cursor<'a> {
    pub(super) data: &'a [u8],
    pub(super) pos: usize,
    pub(super) base: u64,
    pub(super) section: &'static str,
}

impl<'a> Cursor<'a> {
    pub(super) fn at(&self) -> u64 {
        self.base + self.pos as u64
    }
    pub(super) fn truncated(&self, what: &'static str, needed: u64) -> Error {
        Error::new(
            usize::try_from(self.at()).unwrap_or(usize::MAX),
            ErrorKind::Truncated {
                what,
                needed,
                available: self.data.len().saturating_sub(self.pos),
            },
        )
    }
    pub(super) fn bytes(&mut self, n: u64, what: &'static str) -> Result<&'a [u8]> {
        let end = usize::try_from(n)
            .ok()
            .and_then(|n| self.pos.checked_add(n))
            .filter(|&e| e <= self.data.len())
            .ok_or_else(|| self.truncated(what, n))?;
        let out = self.data.get(self.pos..end).unwrap_or_default();
        self.pos = end;
        Ok(out)
    }
    pub(super) fn u32(&mut self, endian: Endian, what: &'static str) -> Result<u32> {
        let b: [u8; 4] = self
            .bytes(4, what)?
            .try_into()
            .map_err(|_| self.truncated(what, 4))?;
        Ok(match endian {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }
    pub(super) fn u64(&mut self, endian: Endian, what: &'static str) -> Result<u64> {
        let b: [u8; 8] = self
            .bytes(8, what)?
            .try_into()
            .map_err(|_| self.truncated(what, 8))?;
        Ok(match endian {
            Endian::Little => u64::from_le_bytes(b),
            Endian::Big => u64::from_be_bytes(b),
        })
    }
    pub(super) fn uleb(&mut self, what: &'static str) -> Result<u64> {
        let start = self.at();
        let mut v: u64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = self.data.get(self.pos) else {
                return Err(self.truncated(what, 1));
            };
            if shift >= 64 || (shift == 63 && b & 0x7e != 0) {
                return Err(fail(
                    start,
                    LlvmError::LebOverflow {
                        section: self.section,
                        what,
                    },
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
    pub(super) fn uleb_max(&mut self, max_plus_1: u64, what: &'static str) -> Result<u64> {
        let at = self.at();
        let v = self.uleb(what)?;
        if v >= max_plus_1 {
            return Err(fail(
                at,
                LlvmError::LebRange {
                    section: self.section,
                    what,
                    value: v,
                    limit: max_plus_1,
                },
            ));
        }
        Ok(v)
    }
    /// A ULEB128 size no larger than what is left (LLVM's `readSize`).
    pub(super) fn size(&mut self, what: &'static str) -> Result<u64> {
        let at = self.at();
        let v = self.uleb(what)?;
        let left = self.data.len().saturating_sub(self.pos) as u64;
        if v > left {
            return Err(fail(
                at,
                LlvmError::SizePastEnd {
                    section: self.section,
                    what,
                    size: v,
                    left,
                },
            ));
        }
        Ok(v)
    }
    pub(super) fn align8(&mut self) {
        let rem = self.pos % 8;
        if rem != 0 {
            self.pos = (self.pos + 8 - rem).min(self.data.len());
        }
    }
    pub(super) fn done(&self) -> bool {
        self.pos >= self.data.len()
    }
}

/// Decodes a unit's file names table (after the header).
pub(super) fn filenames(data: &[u8], base: u64, version: u32) -> Result<Vec<String>> {
    let mut c = Cursor {
        data,
        pos: 0,
        base,
        section: "__llvm_covmap",
    };
    let count = c.size("the number of file names")?;
    if count == 0 {
        return Err(fail(base, LlvmError::NoFileNames));
    }
    let raw_len = c.uleb("the uncompressed size of the file names")?;
    let zlen = c.size("the compressed size of the file names")?;
    let zat = c.at();
    let plain;
    let (list, list_base): (&[u8], u64) = if zlen > 0 {
        let z = c.bytes(zlen, "the compressed file names")?;
        if raw_len > zlen.saturating_mul(1032) {
            return Err(fail(
                zat,
                LlvmError::InflateRatio {
                    what: "__llvm_covmap: file names",
                    claimed: raw_len,
                    compressed: zlen,
                },
            ));
        }
        let limit = usize::try_from(raw_len).unwrap_or(usize::MAX);
        plain = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(z, limit).map_err(|e| {
            fail(
                zat,
                LlvmError::Inflate {
                    what: "__llvm_covmap: the compressed file names",
                    status: format!("{:?}", e.status),
                },
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
        String::from_utf8(b.to_vec()).map_err(|_| {
            fail(
                at,
                LlvmError::NotUtf8 {
                    what: "__llvm_covmap: a file name",
                },
            )
        })
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
pub(super) fn counter(value: u64, exprs: &mut [Expression], at: u64) -> Result<Counter> {
    let id = u32::try_from(value >> 2).unwrap_or(u32::MAX);
    match value & 3 {
        0 => Ok(Counter::Zero),
        1 => Ok(Counter::Counter(id)),
        tag => {
            let expressions = exprs.len();
            let e = usize::try_from(id)
                .ok()
                .and_then(|i| exprs.get_mut(i))
                .ok_or_else(|| fail(at, LlvmError::ExpressionPastEnd { id, expressions }))?;
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
pub(super) fn mapping(
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
                    return Err(fail(
                        at,
                        LlvmError::ExpansionFile {
                            file_id: expanded_file_id,
                            files: files.len(),
                        },
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
                        return Err(fail(at, LlvmError::RegionKind { kind: k }));
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
                return Err(fail(
                    at,
                    LlvmError::RegionBackwards {
                        start: (line_start, col_start),
                        end: (line_end, col_end),
                    },
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
