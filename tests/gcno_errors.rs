//! Notes files that do not decode are refused with the byte offset of the
//! record (or field) at fault, as gcda files are: each case corrupts a real
//! gcc-11 or gcc-12 notes file in one place, and the offset is computed
//! here from the file's own framing, independently of the decoder.

mod common;

use xencov::bytes::endian::Endian;
use xencov::gcov::gcno::{Gcno, MAGIC};
use xencov::gcov::record::{Records, read_header};
use xencov::gcov::tag::Tag;

/// One record of a notes file: where it starts, its tag, its payload.
#[derive(Clone, Copy, Debug)]
struct Rec {
    offset: usize,
    tag: Tag,
    payload: usize,
    len: usize,
}

struct Notes {
    bytes: Vec<u8>,
    endian: Endian,
    bytes_length: bool,
    records: Vec<Rec>,
}

impl Notes {
    fn read(set: &str, unit: &str) -> Notes {
        let bytes =
            std::fs::read(common::samples().join(format!("{set}/run1/{unit}.gcno"))).unwrap();
        let (h, mut r) = read_header(&bytes, MAGIC).unwrap();
        let v = h.version;
        assert!(v.at_least(9, 0), "{set}: this test reads GCC 9+ headers");
        let bytes_length = v.at_least(12, 0);
        // The compilation directory, then the unexecuted-blocks flag.
        let n = r.u32("cwd length").unwrap() as u64;
        r.bytes(if bytes_length { n } else { 4 * n }, "cwd")
            .unwrap();
        r.u32("flag").unwrap();
        let records = Records::new(r, v)
            .map(|r| r.unwrap())
            .map(|r| Rec {
                offset: r.offset,
                tag: r.tag,
                payload: r.payload_offset(),
                len: r.payload.len(),
            })
            .collect();
        Notes {
            endian: h.endian,
            bytes,
            bytes_length,
            records,
        }
    }

    fn find(&self, tag: Tag, nth: usize) -> Rec {
        *self
            .records
            .iter()
            .filter(|r| r.tag == tag)
            .nth(nth)
            .unwrap()
    }

    fn word(&self, at: usize) -> u32 {
        self.endian
            .u32_from(self.bytes[at..at + 4].try_into().unwrap())
    }

    fn put(bytes: &mut [u8], endian: Endian, at: usize, v: u32) {
        bytes[at..at + 4].copy_from_slice(&endian.u32_to(v));
    }

    /// The file with one word replaced.
    fn with_word(&self, at: usize, v: u32) -> Vec<u8> {
        let mut b = self.bytes.clone();
        Self::put(&mut b, self.endian, at, v);
        b
    }

    /// The file with the bytes of `rec` inserted again right after it.
    fn with_record_twice(&self, rec: Rec) -> Vec<u8> {
        let end = rec.payload + rec.len;
        let mut b = self.bytes[..end].to_vec();
        b.extend_from_slice(&self.bytes[rec.offset..end]);
        b.extend_from_slice(&self.bytes[end..]);
        b
    }

    /// The file with the payload of `rec` cut to `len` bytes (length field too).
    fn with_payload_cut(&self, rec: Rec, len: usize) -> Vec<u8> {
        let mut b = self.bytes[..rec.payload + len].to_vec();
        b.extend_from_slice(&self.bytes[rec.payload + rec.len..]);
        let field = if self.bytes_length { len } else { len / 4 } as u32;
        Self::put(&mut b, self.endian, rec.offset + 4, field);
        b
    }
}

/// Decoding `bytes` fails at `offset` with a message containing `text`,
/// whole and fed to the decoder in pieces of any size or cut anywhere.
fn refused(bytes: &[u8], offset: usize, text: &str, what: &str) {
    let e = common::gcno_same_in_pieces(bytes, 0..=bytes.len(), what).expect_err(what);
    assert_eq!(e.offset, offset, "{what}: {e}");
    let msg = e.to_string();
    assert!(
        msg.contains(text) && msg.contains(&format!("byte offset {offset}")),
        "{what}: {msg}"
    );
}

const SETS: [&str; 2] = ["gcc-11/calc", "gcc-12/calc"];

#[test]
fn a_record_before_any_function_names_its_offset() {
    for set in SETS {
        let n = Notes::read(set, "ops");
        let first = n.records[0];
        let blocks = n.find(Tag::BLOCKS, 0);
        // The first function's BLOCKS record moved in front of it.
        let mut b = n.bytes[..first.offset].to_vec();
        b.extend_from_slice(&n.bytes[blocks.offset..blocks.payload + blocks.len]);
        b.extend_from_slice(&n.bytes[first.offset..]);
        refused(&b, first.offset, "before any function", set);
    }
}

#[test]
fn a_second_blocks_record_names_its_offset() {
    for set in SETS {
        let n = Notes::read(set, "ops");
        let blocks = n.find(Tag::BLOCKS, 1);
        let b = n.with_record_twice(blocks);
        refused(
            &b,
            blocks.payload + blocks.len,
            "a second BLOCKS record",
            set,
        );
    }
}

#[test]
fn a_block_count_the_file_cannot_hold_names_its_record() {
    for set in SETS {
        let n = Notes::read(set, "ops");
        let blocks = n.find(Tag::BLOCKS, 2);
        let b = n.with_word(blocks.payload, 0x00ff_ffff);
        refused(&b, blocks.offset, "16777215 blocks", set);
    }
}

#[test]
fn arcs_to_or_from_a_block_that_does_not_exist_name_their_record() {
    for set in SETS {
        let n = Notes::read(set, "ops");
        let arcs = n.find(Tag::ARCS, 3);
        // payload: source block, then (destination, flags) pairs.
        let b = n.with_word(arcs.payload + 4, 0xffff);
        refused(&b, arcs.offset, "to block 65535", set);
        let b = n.with_word(arcs.payload, 0xffff);
        refused(&b, arcs.offset, "arcs from block 65535", set);
        let b = n.with_record_twice(arcs);
        refused(&b, arcs.payload + arcs.len, "a second ARCS record", set);
    }
}

#[test]
fn lines_of_a_block_that_does_not_exist_or_before_a_file_name_their_record() {
    for set in SETS {
        let n = Notes::read(set, "ops");
        let lines = n.find(Tag::LINES, 1);
        let b = n.with_word(lines.payload, 0xffff);
        refused(&b, lines.offset, "lines of block 65535", set);
        // After the block number, a 0 word then the file name: make it a line.
        assert_eq!(n.word(lines.payload + 4), 0, "{set}");
        let b = n.with_word(lines.payload + 4, 7);
        refused(&b, lines.offset, "a line before any file", set);
    }
}

#[test]
fn a_name_that_is_not_utf8_names_its_length_field() {
    for set in SETS {
        let n = Notes::read(set, "ops");
        let function = n.records[0];
        // ident, lineno checksum, cfg checksum, then the name's length and bytes.
        let at = function.payload + 12;
        assert!(n.word(at) > 0, "{set}");
        let mut b = n.bytes.clone();
        b[at + 4] = 0xff;
        refused(&b, at, "a function name is not UTF-8", set);
    }
}

#[test]
fn a_function_record_cut_short_names_the_field_that_is_missing() {
    for set in SETS {
        let n = Notes::read(set, "ops");
        let function = n.records[0];
        // Ident and the line-number checksum only: the cfg checksum is missing.
        let b = n.with_payload_cut(function, 8);
        refused(&b, function.payload + 8, "a function cfg checksum", set);
    }
}

/// Every cut of a real notes file is refused at the record it falls in (or
/// decodes, at a record boundary) and never past the cut.
#[test]
fn every_cut_names_the_record_it_falls_in() {
    for set in SETS {
        for unit in ["ops", "unused"] {
            let n = Notes::read(set, unit);
            let header_end = n.records[0].offset;
            for cut in header_end..n.bytes.len() {
                let what = format!("{set} {unit} cut at {cut}");
                let rec = n.records.iter().rev().find(|r| r.offset <= cut).unwrap();
                let boundary = n.records.iter().any(|r| r.offset == cut);
                // In pieces too: a piece ends where the file does.
                let cut_file = &n.bytes[..cut];
                let whole = common::gcno_same_in_pieces(cut_file, [cut / 2, cut - 5], &what);
                match whole {
                    Ok(_) => assert!(boundary, "{what}: accepted"),
                    Err(e) => {
                        assert!(!boundary, "{what}: {e}");
                        assert!(e.offset >= rec.offset && e.offset <= cut, "{what}: {e}");
                    }
                }
            }
        }
    }
}

/// A length past the end of the file, a negative length and an end marker
/// followed by bytes, in any record: the same result whole and in pieces,
/// as a reader that decodes the notes as it reads them gives them.
#[test]
fn lengths_and_end_markers_give_the_same_result_in_pieces() {
    for set in SETS {
        let n = Notes::read(set, "ops");
        let cuts = |b: &[u8]| (0..=b.len()).step_by(3);
        for (i, rec) in n.records.iter().enumerate() {
            let what = format!("{set} record {i} at {}", rec.offset);
            let past = n.with_word(rec.offset + 4, 0x0100_0000);
            let e = common::gcno_same_in_pieces(&past, cuts(&past), &what).unwrap_err();
            assert_eq!(e.offset, rec.offset + 4, "{what}: {e}");
            let negative = n.with_word(rec.offset + 4, 0xffff_fffe);
            let e = common::gcno_same_in_pieces(&negative, cuts(&negative), &what).unwrap_err();
            assert_eq!(e.offset, rec.offset + 4, "{what}: {e}");
            let ended = n.with_word(rec.offset, 0);
            let g = common::gcno_same_in_pieces(&ended, cuts(&ended), &what).unwrap();
            let cut = Gcno::decode(&n.bytes[..rec.offset]).unwrap();
            assert_eq!(g, cut, "{what}: the end marker ends the records");
        }
    }
}

/// A block count is judged against the whole file's length, not the bytes
/// read so far: a count too large for the first piece waits for the bytes
/// that allow it (or the end of the file), and passes or fails as for the
/// whole file.
#[test]
fn a_block_count_is_judged_against_the_whole_file_in_pieces() {
    use xencov::gcov::gcno::Decoder;
    for set in SETS {
        let n = Notes::read(set, "ops");
        let blocks = n.find(Tag::BLOCKS, 0);
        let len = n.bytes.len();
        let (mut passed, mut failed) = (0, 0);
        for count in [
            len / 64,
            len / 16,
            len / 8,
            len / 8 + 2,
            len / 8 + 3,
            1 << 30,
        ] {
            let what = format!("{set}: {count} blocks");
            let b = n.with_word(blocks.payload, count as u32);
            let whole = common::gcno_same_in_pieces(&b, (0..=b.len()).step_by(7), &what);
            if whole.is_ok() {
                passed += 1;
            } else {
                failed += 1;
            }
            // Fed up to a little past the BLOCKS record, the decoder stops
            // before it and asks for the bytes the count needs.
            let mut d = Decoder::new();
            let piece = &b[..blocks.payload + blocks.len + 16];
            d.feed(piece).unwrap();
            let needs = 8 * (count - 2);
            if needs > piece.len() {
                assert_eq!(d.offset(), blocks.offset, "{what}");
                assert_eq!(d.needed(), needs - blocks.offset, "{what}");
            } else {
                assert!(d.offset() > blocks.offset, "{what}");
            }
        }
        assert!(
            passed >= 2 && failed >= 2,
            "{set}: {passed} passed, {failed} failed"
        );
    }
}
