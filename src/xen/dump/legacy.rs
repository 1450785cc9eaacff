//! The Xen 4.3–4.8 dump: a tagged blob of FILE, FUNC and counter records
//! (GCC 3.4–4.2 era counters), turned into gcda images.

use super::{
    Identified, LEGACY_COUNTERS, LEGACY_TAG_COUNTER0, LEGACY_TAG_END, LEGACY_TAG_FILE,
    LEGACY_TAG_FUNC, identify,
};
use crate::bytes::endian::Endian;
use crate::bytes::reader::Reader;
use crate::error::{DumpError, Error, ErrorKind, Result};
use crate::gcov::gcda::{Counters, Function, FunctionId, Gcda, Record, Values};
use crate::gcov::record::Header;
use crate::gcov::version::{Family, Version};

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

impl LegacyDump {
    /// Parses and validates a legacy blob: alignment, tag order, sizes
    /// within the input, per-kind counts that add up, an END tag, and a
    /// GCC 3.4-family version (the only gcov layout Xen 4.3–4.8 understood).
    pub fn parse(data: &[u8]) -> Result<LegacyDump> {
        let endian = match identify(data)? {
            Identified::Legacy(e) => e,
            _ => {
                return Err(Error::new(0, DumpError::NotLegacy.into()));
            }
        };
        let mut r = Reader::new(data, endian);
        let mut units: Vec<LegacyUnit> = Vec::new();
        let invalid = |at: usize, e: DumpError| Error::new(at, e.into());
        loop {
            r.align(8, "alignment padding")?;
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
                            DumpError::LegacyVersion {
                                unit: index,
                                version,
                            },
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
                        .ok_or_else(|| invalid(at, DumpError::OutsideFile { record: "COUNTER" }))?;
                    if unit.counters.last().is_some_and(|&(k, _)| k >= kind) {
                        return Err(invalid(at, DumpError::CounterKindOutOfOrder { kind }));
                    }
                    let num = r.u32("a COUNTER count")?;
                    let needed = u64::from(num) * 8;
                    if needed > r.remaining() as u64 {
                        return Err(invalid(
                            at + 4,
                            DumpError::CountersPastEnd {
                                kind,
                                values: num,
                                available: r.remaining(),
                            },
                        ));
                    }
                    let mut values = Vec::with_capacity(num as usize);
                    for _ in 0..num {
                        // Native u64s: the hypervisor copied its counter array as is.
                        values.push(r.u64_native("a counter")?);
                    }
                    unit.counters.push((kind, values));
                }
                LEGACY_TAG_FUNC => {
                    let unit = units
                        .last_mut()
                        .filter(|u| u.functions.is_empty())
                        .ok_or_else(|| invalid(at, DumpError::OutsideFile { record: "FUNC" }))?;
                    let n = r.u32("a FUNC count")?;
                    let per = 2 + unit.counters.len() as u64;
                    if u64::from(n) * per * 4 > r.remaining() as u64 {
                        return Err(invalid(
                            at + 4,
                            DumpError::FunctionsPastEnd {
                                functions: n,
                                available: r.remaining(),
                            },
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
                                DumpError::CounterCountMismatch {
                                    unit: unit.index,
                                    path: String::from_utf8_lossy(&unit.path).into_owned(),
                                    kind: *kind,
                                    used: sum,
                                    held: values.len(),
                                },
                            ));
                        }
                    }
                    if n == 0 && unit.counters.iter().any(|(_, v)| !v.is_empty()) {
                        return Err(invalid(at, DumpError::CountersWithoutFunctions));
                    }
                }
                other => {
                    return Err(invalid(at, DumpError::UnknownTag { tag: other }));
                }
            }
        }
        if r.remaining() >= 8 {
            return Err(Error::new(
                r.offset(),
                DumpError::TrailingBytes {
                    bytes: r.remaining(),
                }
                .into(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian Xen 4.3–4.8 blob: one FILE of GCC 4.4 with two arc
    /// counters and one function using both.
    const BLOB: [u8; 76] = [
        0x46, 0x43, 0x54, 0x58, // FILE tag (offset 0)
        0x2a, 0x34, 0x30, 0x34, // version "404*": GCC 4.4 (4)
        0x01, 0x00, 0x00, 0x00, // stamp 1 (8)
        0x03, 0x00, 0x00, 0x00, // name length 3 (12)
        b'a', b'.', b'c', // name (16)
        0x00, 0x00, 0x00, 0x00, 0x00, // padding to 8 (19)
        0x30, 0x43, 0x54, 0x58, // COUNTER0 tag: arcs (24)
        0x02, 0x00, 0x00, 0x00, // two values (28)
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 5, a native u64 (32)
        0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // 0x1_0000_0007 (40)
        0x66, 0x43, 0x54, 0x58, // FUNC tag (48)
        0x01, 0x00, 0x00, 0x00, // one function (52)
        0x0a, 0x00, 0x00, 0x00, // ident 10 (56)
        0x0b, 0x00, 0x00, 0x00, // checksum 11 (60)
        0x02, 0x00, 0x00, 0x00, // it uses two arc counters (64)
        0x00, 0x00, 0x00, 0x00, // padding to 8 (68)
        0x2e, 0x43, 0x54, 0x58, // END tag (72)
    ];

    #[test]
    fn one_file() {
        let d = LegacyDump::parse(&BLOB).unwrap();
        assert_eq!(d.endian, Endian::Little);
        let [u] = d.units.as_slice() else {
            panic!("{d:?}")
        };
        assert_eq!((u.offset, u.stamp, u.path.as_slice()), (0, 1, &b"a.c"[..]));
        assert_eq!(u.version.gcc(), "4.4");
        assert_eq!(u.counters, vec![(0, vec![5, 0x1_0000_0007])]);
        assert_eq!(
            u.functions,
            vec![LegacyFunction {
                ident: 10,
                checksum: 11,
                counts: vec![2]
            }]
        );
    }

    #[test]
    fn a_counter_count_past_the_end() {
        let mut b = BLOB;
        b[28] = 0x10; // sixteen values: 128 bytes, 44 left
        let e = LegacyDump::parse(&b).unwrap_err();
        assert_eq!(e.offset, 28);
        assert_eq!(
            e.kind,
            DumpError::CountersPastEnd {
                kind: 0,
                values: 16,
                available: 44
            }
            .into()
        );
    }

    #[test]
    fn counts_that_do_not_add_up() {
        let mut b = BLOB;
        b[64] = 0x03; // the function claims three arc counters
        let e = LegacyDump::parse(&b).unwrap_err();
        assert_eq!(e.offset, 48);
        assert_eq!(
            e.kind,
            DumpError::CounterCountMismatch {
                unit: 0,
                path: "a.c".into(),
                kind: 0,
                used: 3,
                held: 2
            }
            .into()
        );
    }

    #[test]
    fn an_unknown_tag_a_missing_end_and_a_new_gcc() {
        let mut b = BLOB;
        b[72] = 0x99;
        let e = LegacyDump::parse(&b).unwrap_err();
        assert_eq!(
            (e.offset, e.kind),
            (72, DumpError::UnknownTag { tag: 0x5854_4399 }.into())
        );
        let e = LegacyDump::parse(&BLOB[..72]).unwrap_err();
        assert_eq!(e.offset, 72);
        assert!(matches!(
            e.kind,
            ErrorKind::Truncated {
                needed: 4,
                available: 0,
                ..
            }
        ));
        let mut b = BLOB;
        b[4..8].copy_from_slice(&[0x2a, 0x37, 0x30, 0x34]); // "407*": GCC 4.7
        let e = LegacyDump::parse(&b).unwrap_err();
        assert_eq!(e.offset, 4);
        assert!(matches!(
            e.kind,
            ErrorKind::Dump(DumpError::LegacyVersion { unit: 0, .. })
        ));
    }
}
