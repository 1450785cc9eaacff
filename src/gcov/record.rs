//! The framing shared by gcda and gcno files: a header (magic, version,
//! stamp, and from GCC 12 a checksum), then records of tag, length, payload.
//!
//! [`Records`] walks the records without copying: each [`RawRecord`] borrows
//! its payload from the input. The gcda and gcno decoders build their typed
//! models on top; tools that only need tags and sizes can stop here.

use crate::bytes::endian::Endian;
use crate::bytes::reader::Reader;
use crate::bytes::writer::Writer;
use crate::error::{Error, ErrorKind, Result};
use crate::gcov::tag::Tag;
use crate::gcov::version::{Format, LengthUnit, Version};

/// The file header common to gcda and gcno files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Header {
    /// Byte order of the file, told by how the magic is spelled.
    pub endian: Endian,
    /// The version word (for example `B22*` for GCC 12.2), which fixes the record layout.
    pub version: Version,
    /// The compilation stamp: the same in a gcda and the gcno of the same compile, so a mismatch means data from another build.
    pub stamp: u32,
    /// The checksum word of GCC 12 and later (absent before).
    pub checksum: Option<u32>,
}

/// Reads the header of a file whose magic is `magic` (`b"gcda"` or `b"gcno"`)
/// and returns it with a reader positioned after it.
pub fn read_header<'a>(data: &'a [u8], magic: &'static [u8; 4]) -> Result<(Header, Reader<'a>)> {
    let what = if magic == b"gcda" { "gcda" } else { "gcno" };
    let first = Reader::new(data, Endian::Little).array4("the magic word")?;
    let endian = Endian::from_magic(first, *magic).ok_or_else(|| {
        Error::new(
            0,
            ErrorKind::BadMagic {
                expected: what,
                found: first.to_vec(),
            },
        )
    })?;
    let mut r = Reader::new(data, endian);
    r.u32("the magic word")?;
    let at = r.offset();
    let version = Version::from_word(r.u32("the version word")?)
        .map_err(|e| Error::new(at, ErrorKind::Version(e)))?;
    let stamp = r.u32("the stamp")?;
    let checksum = if version.format().header_checksum {
        Some(r.u32("the header checksum")?)
    } else {
        None
    };
    Ok((
        Header {
            endian,
            version,
            stamp,
            checksum,
        },
        r,
    ))
}

/// One record as it lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawRecord<'a> {
    /// Offset of the tag word.
    pub offset: usize,
    /// The record's tag (`GCOV_TAG_*`).
    pub tag: Tag,
    /// The length field as stored (in the format's unit; negative for the compact form).
    pub length: u32,
    /// The payload, empty for a compact record.
    pub payload: &'a [u8],
    /// For a compact all-zero counter record: the payload size in bytes it stands for.
    pub compact_bytes: Option<u64>,
}

impl<'a> RawRecord<'a> {
    /// Offset of the first payload byte.
    pub fn payload_offset(&self) -> usize {
        self.offset + 8
    }

    /// A reader over the payload, reporting absolute offsets.
    pub fn reader(&self, endian: Endian) -> Reader<'a> {
        Reader::at(self.payload, self.payload_offset(), endian)
    }
}

/// Iterator over the records after a header. It stops at the end of the
/// input or at a zero tag (the end marker, see [`Records::saw_end_marker`]);
/// after an error it yields nothing more.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    reader: Reader<'a>,
    unit: LengthUnit,
    compact_zero: bool,
    end_marker: bool,
    after_end: &'a [u8],
    failed: bool,
}

impl<'a> Records<'a> {
    /// Records of a file of `version`, read from `reader` (positioned after the header).
    pub fn new(reader: Reader<'a>, version: Version) -> Self {
        let format = version.format();
        Records {
            reader,
            unit: format.length_unit,
            compact_zero: format.compact_zero_counters,
            end_marker: false,
            after_end: &[],
            failed: false,
        }
    }

    /// Whether the records ended with a zero word.
    pub fn saw_end_marker(&self) -> bool {
        self.end_marker
    }

    /// The bytes after the end marker, which gcov ignores.
    pub fn after_end(&self) -> &'a [u8] {
        self.after_end
    }

    fn next_record(&mut self) -> Result<Option<RawRecord<'a>>> {
        let r = &mut self.reader;
        if r.is_empty() {
            return Ok(None);
        }
        let offset = r.offset();
        let tag = Tag::from(r.u32("a record tag")?);
        if tag.raw() == 0 {
            // gcov stops reading here. Older libgcov rewrote files in place
            // without truncating, and LLVM writes a zero length too, so bytes
            // may follow; they are kept (see `after_end`) but never read.
            self.end_marker = true;
            let rest = r.remaining() as u64;
            self.after_end = r.bytes(rest, "the bytes after the end marker")?;
            return Ok(None);
        }
        let length = r.u32("a record length")?;
        let per_unit = self.unit.bytes_per_unit();
        let signed = length as i32;
        if signed < 0 {
            if !(self.compact_zero && tag.is_counter()) {
                return Err(Error::new(
                    offset + 4,
                    ErrorKind::NegativeLength {
                        tag,
                        length: signed,
                    },
                ));
            }
            return Ok(Some(RawRecord {
                offset,
                tag,
                length,
                payload: &[],
                compact_bytes: Some(u64::from(signed.unsigned_abs()) * per_unit),
            }));
        }
        let claimed = u64::from(length) * per_unit;
        if claimed > r.remaining() as u64 {
            return Err(Error::new(
                offset + 4,
                ErrorKind::LengthPastEnd {
                    tag,
                    claimed,
                    available: r.remaining(),
                },
            ));
        }
        let payload = r.bytes(claimed, "a record payload")?;
        Ok(Some(RawRecord {
            offset,
            tag,
            length,
            payload,
            compact_bytes: None,
        }))
    }

    /// The usual record, read without a `Reader` call per field: a tag
    /// other than 0, a length that is not negative and a payload the input
    /// holds, found with one bounds check for the tag and length and one for
    /// the payload. Anything else (`None`) goes to [`Records::next_record`],
    /// which says what it is. SQLite's notes are 143,600 records, and the
    /// checked reads of each (a `Result` per word, an offset kept for an
    /// error never made) cost 77 instructions a record.
    #[inline]
    fn next_whole(&mut self) -> Option<RawRecord<'a>> {
        let (head, body) = self.reader.rest().split_first_chunk::<8>()?;
        let [t0, t1, t2, t3, l0, l1, l2, l3] = *head;
        let endian = self.reader.endian();
        let tag = endian.u32_from([t0, t1, t2, t3]);
        let length = endian.u32_from([l0, l1, l2, l3]);
        if tag == 0 || (length as i32) < 0 {
            return None;
        }
        let claimed = usize::try_from(u64::from(length) * self.unit.bytes_per_unit()).ok()?;
        let payload = body.get(..claimed)?;
        let offset = self.reader.offset();
        self.reader.skip(8 + claimed);
        Some(RawRecord {
            offset,
            tag: Tag::from(tag),
            length,
            payload,
            compact_bytes: None,
        })
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<RawRecord<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        if let Some(raw) = self.next_whole() {
            return Some(Ok(raw));
        }
        let item = self.next_record().transpose();
        if matches!(item, Some(Err(_))) {
            self.failed = true;
        }
        item
    }
}

/// Writes a header and length-prefixed records in one format; shared by
/// everything that emits gcov files.
pub(crate) struct RecordWriter {
    w: Writer,
    unit: LengthUnit,
}

impl RecordWriter {
    pub(crate) fn new(magic: &[u8; 4], header: &Header, format: &Format) -> Self {
        let mut w = Writer::new(header.endian);
        w.u32(u32::from_be_bytes(*magic));
        w.u32(header.version.word());
        w.u32(header.stamp);
        if format.header_checksum {
            w.u32(header.checksum.unwrap_or(0));
        }
        RecordWriter {
            w,
            unit: format.length_unit,
        }
    }

    /// A record whose payload `body` writes; the length is filled in after.
    pub(crate) fn record(&mut self, tag: Tag, body: impl FnOnce(&mut Writer)) {
        // The payload is written in place after a placeholder length,
        // which is then filled in: no buffer of its own per record.
        self.w.u32(tag.raw());
        let at = self.w.len();
        self.w.u32(0);
        body(&mut self.w);
        let bytes = self.w.len() - at - 4;
        self.w.patch_u32(at, self.length(bytes as u64));
    }

    /// A compact all-zero counter record standing for `bytes` of zeros.
    pub(crate) fn compact(&mut self, tag: Tag, bytes: u64) {
        self.w.u32(tag.raw());
        self.w.u32(self.length(bytes).wrapping_neg());
    }

    fn length(&self, bytes: u64) -> u32 {
        (bytes / self.unit.bytes_per_unit()) as u32
    }

    pub(crate) fn finish(mut self, end_marker: bool, after_end: &[u8]) -> Vec<u8> {
        if end_marker {
            self.w.u32(0);
            self.w.bytes(after_end);
        }
        self.w.into_bytes()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A little-endian GCC 4.9 gcda: one function with two arc counters.
    pub(crate) const GCDA: [u8; 60] = [
        0x61, 0x64, 0x63, 0x67, // "gcda", little-endian (offset 0)
        0x2a, 0x39, 0x30, 0x34, // version "409*": GCC 4.9 (4)
        0x01, 0x00, 0x00, 0x00, // stamp 1 (8)
        0x00, 0x00, 0x00, 0x01, // FUNCTION tag (12)
        0x03, 0x00, 0x00, 0x00, // length: 3 words (16)
        0x0a, 0x00, 0x00, 0x00, // ident 10 (20)
        0x0b, 0x00, 0x00, 0x00, // line-number checksum (24)
        0x0c, 0x00, 0x00, 0x00, // CFG checksum (28)
        0x00, 0x00, 0xa1, 0x01, // arc counters tag (32)
        0x04, 0x00, 0x00, 0x00, // length: 4 words (36)
        0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // 5 (40)
        0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, // 0x1_0000_0007, low word first (48)
        0x00, 0x00, 0x00, 0x00, // end marker (56)
    ];

    #[test]
    fn header_and_records() {
        let (h, r) = read_header(&GCDA, b"gcda").unwrap();
        assert_eq!((h.endian, h.stamp, h.checksum), (Endian::Little, 1, None));
        assert_eq!(h.version.gcc(), "4.9");
        assert_eq!(r.offset(), 12);
        let mut records = Records::new(r, h.version);
        let got: Vec<(usize, Tag, usize)> = records
            .by_ref()
            .map(|raw| raw.map(|raw| (raw.offset, raw.tag, raw.payload.len())))
            .collect::<Result<_>>()
            .unwrap();
        assert_eq!(got, [(12, Tag::FUNCTION, 12), (32, Tag::counter(0), 16)]);
        assert!(records.saw_end_marker());
        assert!(records.after_end().is_empty());
    }

    /// The fast path gives what the checked reads give, record for record,
    /// and leaves the cursor where they do; it stands aside at the end marker.
    #[test]
    fn the_fast_path_reads_what_the_checked_reads_read() {
        let (h, r) = read_header(&GCDA, b"gcda").unwrap();
        let mut fast = Records::new(r, h.version);
        let mut n = 0;
        loop {
            let mut checked = fast.clone();
            let want = checked.next_record().unwrap();
            let got = fast.next_whole();
            assert_eq!(got, want);
            let Some(_) = got else { break };
            assert_eq!(fast.reader.offset(), checked.reader.offset());
            n += 1;
        }
        assert_eq!(n, 2);
        assert_eq!(fast.reader.offset(), 56);
    }

    fn records_of(data: &[u8]) -> Result<Vec<RawRecord<'_>>> {
        let (h, r) = read_header(data, b"gcda")?;
        Records::new(r, h.version).collect()
    }

    #[test]
    fn a_cut_record_and_a_negative_length() {
        let e = records_of(&GCDA[..50]).unwrap_err();
        // The length field of the counter record, at 36, claims 16 bytes; 10 follow.
        assert_eq!(e.offset, 36);
        assert_eq!(
            e.kind,
            ErrorKind::LengthPastEnd {
                tag: Tag::counter(0),
                claimed: 16,
                available: 10
            }
        );
        let mut neg = GCDA;
        neg[16..20].copy_from_slice(&[0xff; 4]); // FUNCTION length -1
        let e = records_of(&neg).unwrap_err();
        assert_eq!(e.offset, 16);
        assert_eq!(
            e.kind,
            ErrorKind::NegativeLength {
                tag: Tag::FUNCTION,
                length: -1
            }
        );
    }

    #[test]
    fn a_bad_magic_or_a_cut_header() {
        let e = read_header(&GCDA, b"gcno").unwrap_err();
        assert_eq!(e.offset, 0);
        assert_eq!(
            e.kind,
            ErrorKind::BadMagic {
                expected: "gcno",
                found: b"adcg".to_vec()
            }
        );
        let e = read_header(&GCDA[..10], b"gcda").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(matches!(
            e.kind,
            ErrorKind::Truncated {
                what: "the stamp",
                ..
            }
        ));
    }
}
