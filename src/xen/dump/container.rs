//! The Xen 4.9+ dump: a magic word, then per compilation unit its gcda path
//! and gcda image, borrowed from the input (zero-copy).

use super::{Identified, XCOV_MAGIC, identify};
use crate::bytes::endian::Endian;
use crate::bytes::reader::Reader;
use crate::bytes::writer::Writer;
use crate::error::{DumpError, Error, ErrorKind, Result};
use crate::gcov::gcda::Gcda;

/// A Xen 4.9+ dump: records borrowed from the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container<'a> {
    /// The hypervisor's byte order, told by how `XCOV` is stored.
    pub endian: Endian,
    /// The records in dump order, one per compilation unit of the hypervisor.
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
    /// The unit's gcda image, as libgcov would have written it (without the end marker).
    pub payload: &'a [u8],
}

impl Unit<'_> {
    /// Decodes the payload; error offsets are offsets in the dump.
    pub fn gcda(&self) -> Result<Gcda> {
        Gcda::decode(self.payload).map_err(|e| e.nested(self.payload_offset))
    }

    /// The recorded path as text (bytes that are not UTF-8 replaced), for messages.
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
                return Err(Error::new(0, DumpError::NotAContainer.into()));
            }
        };
        let mut r = Reader::new(data, endian);
        r.u32("the magic word")?;
        let mut units = Vec::new();
        while !r.is_empty() {
            let index = units.len();
            let offset = r.offset();
            let path = r.cstr("a gcda path").map_err(|e| match e.kind {
                ErrorKind::Unterminated { available, .. } => Error::new(
                    offset,
                    DumpError::PathUnterminated {
                        record: index,
                        available,
                    }
                    .into(),
                ),
                _ => e,
            })?;
            if path.is_empty() {
                return Err(Error::new(
                    offset,
                    DumpError::EmptyPath { record: index }.into(),
                ));
            }
            let size_at = r.offset();
            let size = r.u32("a payload size")?;
            if u64::from(size) > r.remaining() as u64 {
                return Err(Error::new(
                    size_at,
                    DumpError::PayloadPastEnd {
                        record: index,
                        path: String::from_utf8_lossy(path).into_owned(),
                        size,
                        available: r.remaining(),
                    }
                    .into(),
                ));
            }
            // Xen writes a whole gcda per unit: a payload too small for a gcda
            // header is no unit at all (and a million of them no dump).
            if size < 12 {
                return Err(Error::new(
                    size_at,
                    DumpError::PayloadTooSmall {
                        record: index,
                        path: String::from_utf8_lossy(path).into_owned(),
                        size,
                    }
                    .into(),
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

/// Writes a container record by record to `out`, so that a large dump is
/// never held whole: the magic word first, then one [`unit`] at a time.
/// The bytes are those of [`encode_container`].
///
/// [`unit`]: ContainerWriter::unit
#[derive(Debug)]
pub struct ContainerWriter<W> {
    out: W,
    endian: Endian,
}

impl<W: std::io::Write> ContainerWriter<W> {
    /// Starts a container in `endian` order: writes the magic word.
    pub fn new(mut out: W, endian: Endian) -> std::io::Result<Self> {
        out.write_all(&endian.u32_to(XCOV_MAGIC))?;
        Ok(ContainerWriter { out, endian })
    }

    /// Writes one record: `path`, its NUL, the payload's size and the
    /// payload. A payload of 4 GiB or more has no size field to hold it and
    /// is refused (`InvalidInput`), as is a path with a NUL inside, which
    /// would end the path early for every reader.
    pub fn unit(&mut self, path: &[u8], payload: &[u8]) -> std::io::Result<()> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what);
        let size = u32::try_from(payload.len())
            .map_err(|_| invalid("a payload of 4 GiB or more does not fit a dump record"))?;
        if path.contains(&0) {
            return Err(invalid(
                "a gcda path with a NUL byte inside does not fit a dump record",
            ));
        }
        self.out.write_all(path)?;
        self.out.write_all(&[0])?;
        self.out.write_all(&self.endian.u32_to(size))?;
        self.out.write_all(payload)
    }

    /// The writer, after the last record.
    pub fn into_inner(self) -> W {
        self.out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gcov::version::VersionError;

    /// A little-endian dump of one unit whose payload is a bare GCC 4.9 gcda.
    const DUMP: [u8; 27] = [
        0x56, 0x4f, 0x43, 0x58, // "XCOV", little-endian (offset 0)
        b'a', b'.', b'g', b'c', b'd', b'a', 0x00, // path "a.gcda" and its NUL (4)
        0x0c, 0x00, 0x00, 0x00, // payload size 12 (11)
        0x61, 0x64, 0x63, 0x67, // payload: "gcda", little-endian (15)
        0x2a, 0x39, 0x30, 0x34, // version "409*": GCC 4.9 (19)
        0x04, 0x03, 0x02, 0x01, // stamp (23)
    ];

    #[test]
    fn one_unit() {
        let c = Container::parse(&DUMP).unwrap();
        assert_eq!(c.endian, Endian::Little);
        let [unit] = c.units.as_slice() else {
            panic!("{c:?}")
        };
        assert_eq!((unit.index, unit.offset, unit.path), (0, 4, &b"a.gcda"[..]));
        assert_eq!(unit.payload_offset, 15);
        let gcda = unit.gcda().unwrap();
        assert_eq!(gcda.header.stamp, 0x0102_0304);
        assert_eq!(gcda.header.version.gcc(), "4.9");
        assert_eq!(
            encode_container(Endian::Little, [(unit.path, unit.payload)]),
            DUMP
        );
        for endian in [Endian::Little, Endian::Big] {
            let mut w = ContainerWriter::new(Vec::new(), endian).unwrap();
            w.unit(unit.path, unit.payload).unwrap();
            w.unit(b"b/c.gcda", &DUMP[15..]).unwrap();
            assert_eq!(
                w.into_inner(),
                encode_container(
                    endian,
                    [(unit.path, unit.payload), (&b"b/c.gcda"[..], &DUMP[15..])]
                )
            );
        }
        let mut w = ContainerWriter::new(Vec::new(), Endian::Little).unwrap();
        let e = w.unit(b"a\0b.gcda", &DUMP[15..]).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_cut_payload_is_refused_at_its_size() {
        let e = Container::parse(&DUMP[..20]).unwrap_err();
        assert_eq!(e.offset, 11);
        assert_eq!(
            e.kind,
            ErrorKind::Dump(DumpError::PayloadPastEnd {
                record: 0,
                path: "a.gcda".into(),
                size: 12,
                available: 5
            })
        );
    }

    #[test]
    fn a_path_without_nul_or_an_empty_one() {
        let e = Container::parse(&DUMP[..10]).unwrap_err();
        assert_eq!(e.offset, 4);
        assert_eq!(
            e.kind,
            ErrorKind::Dump(DumpError::PathUnterminated {
                record: 0,
                available: 6
            })
        );
        let mut empty = DUMP;
        empty[4] = 0x00;
        let e = Container::parse(&empty).unwrap_err();
        assert_eq!(
            (e.offset, e.kind),
            (4, DumpError::EmptyPath { record: 0 }.into())
        );
    }

    #[test]
    fn a_bad_payload_reports_its_offset_in_the_dump() {
        let mut bad = DUMP;
        bad[19..23].copy_from_slice(&[0xff; 4]); // version word 0xffffffff
        let c = Container::parse(&bad).unwrap();
        let e = c.units[0].gcda().unwrap_err();
        // The version word lies at offset 4 of the payload, 19 of the dump.
        assert_eq!(e.offset, 19);
        assert!(matches!(
            e.kind,
            ErrorKind::Version(VersionError::Malformed { .. })
        ));
    }

    #[test]
    fn not_a_container() {
        let e = Container::parse(&[0x00, 0x01, 0x02, 0x03]).unwrap_err();
        assert_eq!(e.offset, 0);
        assert_eq!(
            e.kind,
            DumpError::NotADump {
                found: vec![0x00, 0x01, 0x02, 0x03]
            }
            .into()
        );
    }
}
