//! The Xen 4.3–4.8 dump: a tagged blob of FILE, FUNC and counter records
//! (GCC 3.4–4.2 era counters), turned into gcda images.

use super::{
    Identified, LEGACY_COUNTERS, LEGACY_TAG_COUNTER0, LEGACY_TAG_END, LEGACY_TAG_FILE,
    LEGACY_TAG_FUNC, identify,
};
use crate::bytes::endian::Endian;
use crate::bytes::reader::Reader;
use crate::error::{Error, ErrorKind, Result};
use crate::gcov::gcda::{Counters, Function, FunctionId, Gcda, Record, Values};
use crate::gcov::record::Header;
use crate::gcov::version::{Family, Version};
use crate::plural::count;

/// A Xen 4.3–4.8 dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyDump {
    /// The hypervisor's byte order, told by how the first `XTCF` tag is stored.
    pub endian: Endian,
    /// The FILE records in dump order, one per compilation unit.
    pub units: Vec<LegacyUnit>,
}

/// One FILE of a legacy dump with its counters and functions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyUnit {
    /// FILE record number, from 0.
    pub index: usize,
    /// Offset of the FILE tag.
    pub offset: usize,
    /// The gcov version word of the compiler that built the unit (GCC 3.4–4.x).
    pub version: Version,
    /// The unit's compilation stamp, as its gcno has it.
    pub stamp: u32,
    /// The gcda path recorded for the unit, without its NUL.
    pub path: Vec<u8>,
    /// Active counter kinds in increasing order, each with all its values.
    pub counters: Vec<(u32, Vec<u64>)>,
    /// The FUNC records, in order; their counts split `counters` per function.
    pub functions: Vec<LegacyFunction>,
}

/// A function of a legacy FUNC record: one value count per active kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyFunction {
    /// The function's ident, as in the unit's notes.
    pub ident: u32,
    /// The function's line-number checksum (the 3.4 family's only checksum).
    pub checksum: u32,
    /// How many values of each active counter kind belong to the function, in kind order.
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
        loop {
            align8(&mut r)?;
            let at = r.offset();
            let tag = r.u32("a legacy tag (the dump has no END tag)")?;
            match tag {
                LEGACY_TAG_END => break,
                LEGACY_TAG_FILE => {
                    let unit = file_record(&mut r, at, units.len())?;
                    units.push(unit);
                }
                t if (LEGACY_TAG_COUNTER0..LEGACY_TAG_COUNTER0 + LEGACY_COUNTERS).contains(&t) => {
                    let unit = units
                        .last_mut()
                        .filter(|u| u.functions.is_empty())
                        .ok_or_else(|| invalid(at, "a COUNTER record outside a FILE".into()))?;
                    counter_record(&mut r, at, t - LEGACY_TAG_COUNTER0, unit)?;
                }
                LEGACY_TAG_FUNC => {
                    let unit = units
                        .last_mut()
                        .filter(|u| u.functions.is_empty())
                        .ok_or_else(|| invalid(at, "a FUNC record outside a FILE".into()))?;
                    func_record(&mut r, at, unit)?;
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

fn invalid(at: usize, msg: String) -> Error {
    Error::new(at, ErrorKind::Invalid(msg))
}

/// "`what` claims N things, M bytes remain", at the count word after the tag at `at`.
fn claims_too_much(r: &Reader<'_>, at: usize, what: String) -> Error {
    invalid(
        at + 4,
        format!(
            "{what}, {} {}",
            count(r.remaining(), "byte", "bytes"),
            if r.remaining() == 1 {
                "remains"
            } else {
                "remain"
            }
        ),
    )
}

/// A FILE record (its tag at `at` already read): version, stamp and path of
/// unit `index`, which must be of the GCC 3.4 family.
fn file_record(r: &mut Reader<'_>, at: usize, index: usize) -> Result<LegacyUnit> {
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
    Ok(LegacyUnit {
        index,
        offset: at,
        version,
        stamp,
        path,
        counters: Vec::new(),
        functions: Vec::new(),
    })
}

/// A COUNTER record of `kind` (its tag at `at` already read): every value of
/// that kind in the unit, kinds in increasing order.
fn counter_record(r: &mut Reader<'_>, at: usize, kind: u32, unit: &mut LegacyUnit) -> Result<()> {
    if unit.counters.last().is_some_and(|&(k, _)| k >= kind) {
        return Err(invalid(at, format!("counter kind {kind} out of order")));
    }
    let num = r.u32("a COUNTER count")?;
    let needed = u64::from(num) * 8;
    if needed > r.remaining() as u64 {
        return Err(claims_too_much(
            r,
            at,
            format!("COUNTER {kind} claims {}", count(num, "value", "values")),
        ));
    }
    let mut values = Vec::with_capacity(num as usize);
    for _ in 0..num {
        // Native u64s: the hypervisor copied its counter array as is.
        let (a, b) = (r.u32("a counter")?, r.u32("a counter")?);
        values.push(match r.endian() {
            Endian::Little => u64::from(b) << 32 | u64::from(a),
            Endian::Big => u64::from(a) << 32 | u64::from(b),
        });
    }
    unit.counters.push((kind, values));
    Ok(())
}

/// The FUNC record (its tag at `at` already read): ident, checksum and the
/// count per active kind of each function, which must add up to the unit's
/// COUNTER records.
fn func_record(r: &mut Reader<'_>, at: usize, unit: &mut LegacyUnit) -> Result<()> {
    let n = r.u32("a FUNC count")?;
    let per = 2 + unit.counters.len() as u64;
    if u64::from(n) * per * 4 > r.remaining() as u64 {
        return Err(claims_too_much(
            r,
            at,
            format!("FUNC claims {}", count(n, "function", "functions")),
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
    Ok(())
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
