//! Unit tests of the raw-profile decoder and merge, on profiles built field
//! by field (version 5; version 8 of a 32-bit big-endian writer; version 10
//! with an MC/DC bitmap). Over 400 lines: every failure has its own test
//! input and names its exact variant and offset.

use super::*;
use crate::llvm::{clang_major_in_banner, clangs_of_raw_version, raw_version_of_clang};

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
    v8_32_big_of(&[("a", &[1, 2]), ("b", &[3])], None)
}

/// [`v8_32_big`] of other functions (name, counters), and with a binary ID
/// of 8 bytes if `build_id` is given.
fn v8_32_big_of(functions: &[(&str, &[u64])], build_id: Option<[u8; 8]>) -> Vec<u8> {
    let mut b = Vec::new();
    let data_size = 40 * functions.len() as u64;
    let counters: u64 = functions.iter().map(|(_, c)| c.len() as u64).sum();
    let names = functions
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join("\x01");
    let ids_size = if build_id.is_some() { 16 } else { 0 };
    // counters_delta = counters - data, stored as a 32-bit difference in a u64.
    let header = [
        MAGIC_32,
        8,
        ids_size,
        functions.len() as u64,
        0,
        counters,
        0,
        2 + names.len() as u64,
        data_size,
        0x1234,
        1,
    ];
    for v in header {
        b.extend(v.to_be_bytes());
    }
    if let Some(id) = build_id {
        b.extend(8u64.to_be_bytes());
        b.extend(id);
    }
    let mut first = 0u64;
    for (i, (name, c)) in functions.iter().enumerate() {
        b.extend(name_hash(name).to_be_bytes());
        b.extend(0x18u64.to_be_bytes());
        // Pointer to the counters, relative to this record: counters_delta
        // minus the record's offset into the data, plus the counter offset.
        let rel = (data_size - 40 * i as u64 + 8 * first) as u32;
        b.extend(rel.to_be_bytes());
        b.extend([0u8; 8]); // function pointer, values
        b.extend((c.len() as u32).to_be_bytes());
        b.extend([0u8; 4]); // two u16 value-site counts
        b.extend([0u8; 4]); // struct padding
        first += c.len() as u64;
    }
    for (_, c) in functions {
        for v in *c {
            b.extend(v.to_be_bytes());
        }
    }
    // One uncompressed chunk: its size, 0, the names joined by \x01; padded to 8.
    b.extend([names.len() as u8, 0]);
    b.extend(names.as_bytes());
    while b.len() % 8 != 0 {
        b.push(0);
    }
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
        0x21, 0x21, 0x78, 0xda, 0xcb, 0x4d, 0xcc, 0xcc, 0x63, 0x2c, 0xce, 0x4d, 0xcc, 0xc9, 0xd1,
        0x4b, 0xb6, 0x2a, 0x2e, 0x2c, 0x4d, 0x2c, 0x4a, 0x85, 0x73, 0xf3, 0x52, 0xcb, 0x52, 0x8b,
        0x00, 0xcc, 0x23, 0x0c, 0x21,
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

/// The first fields of a little-endian raw profile header, in hex.
const HEADER: [u8; 24] = [
    0x81, 0x72, 0x66, 0x6f, 0x72, 0x70, 0x6c, 0xff, // magic "\xfflprofr\x81" (offset 0)
    0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // version 5, no variant bits (8)
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // num_data 0 (16)
];

#[test]
fn header_fields_in_hex() {
    assert_eq!(sniff(&HEADER), Some((Endian::Little, 8)));
    // Cut inside padding_bytes_before_counters, the field after num_data.
    let e = RawProfile::decode(&HEADER).unwrap_err();
    assert_eq!(e.offset, 24);
    assert!(matches!(
        e.kind,
        crate::error::ErrorKind::Truncated {
            needed: 8,
            available: 0,
            ..
        }
    ));
    let mut v11 = HEADER;
    v11[8] = 0x0b; // version 11
    let e = RawProfile::decode(&v11).unwrap_err();
    assert_eq!(e.offset, 8);
    assert_eq!(e.kind, LlvmError::UnsupportedVersion { version: 11 }.into());
    let mut bytes = HEADER;
    bytes[15] = 0x10; // variant bit 60: single-byte counters
    let e = RawProfile::decode(&bytes).unwrap_err();
    assert_eq!(
        (e.offset, e.kind),
        (8, LlvmError::SingleByteCounters.into())
    );
    let mut bad = HEADER;
    bad[0] = 0x80;
    let e = RawProfile::decode(&bad).unwrap_err();
    assert_eq!(e.offset, 0);
    assert!(matches!(e.kind, crate::error::ErrorKind::BadMagic { .. }));
}

#[test]
fn no_function_records() {
    // A whole version-5 header claiming no data records.
    let mut b = HEADER.to_vec();
    b.extend([0u8; 8 * 7]); // padding, num_counters, padding, names_size, deltas, value_kind_last
    let e = RawProfile::decode(&b).unwrap_err();
    assert_eq!((e.offset, e.kind), (16, LlvmError::NoFunctions.into()));
}

/// (offset, kind) of the error decoding `bytes`.
fn refusal(bytes: &[u8]) -> (usize, crate::error::ErrorKind) {
    let e = RawProfile::decode(bytes).unwrap_err();
    (e.offset, e.kind)
}

/// Each lie of the v5 profile's header or record has its own variant,
/// carrying the values it names (layout: header 0x00-0x50, the record at
/// 0x50, counters at 0x80, names at 0x90, 0x98 bytes in all).
#[test]
fn lies_of_a_version_5_profile_and_their_variants() {
    let lie = |at: usize, byte: u8| {
        let mut b = v5(Endian::Little);
        b[at] = byte;
        refusal(&b)
    };
    // value_kind_last 2: version 5 records count sites of 2 kinds, not 3.
    assert_eq!(
        lie(0x48, 2),
        (
            0x48,
            LlvmError::ValueKindLast {
                value_kind_last: 2,
                version: 5,
                kinds: 2
            }
            .into()
        )
    );
    // num_counters 3: the sections run 8 bytes past the 0x98 there are.
    assert_eq!(
        lie(0x20, 3),
        (
            0x98,
            LlvmError::SectionsPastEnd {
                promised: 0xa0,
                available: 0x98
            }
            .into()
        )
    );
    // The name hash of "f" with its low bit flipped names no function.
    let hash = name_hash("f") ^ 1;
    assert_eq!(
        lie(0x50, hash as u8),
        (0x50, LlvmError::UnknownNameHash { record: 0, hash }.into())
    );
    // A counter count of 0.
    let no_counters = LlvmError::NoCounters {
        record: 0,
        function: "f".into(),
    };
    assert_eq!(lie(0x78, 0), (0x78, no_counters.into()));
    // The counter pointer 0x1008: 2 counters from byte 8 of a 16-byte section.
    let outside = LlvmError::CountersOutside {
        record: 0,
        function: "f".into(),
        counters: 2,
        at: 8,
        section_size: 16,
    };
    assert_eq!(lie(0x60, 0x08), (0x60, outside.into()));
}

#[test]
fn a_value_block_of_a_size_that_cannot_be_and_a_second_profile() {
    let mut b = v5(Endian::Little);
    b[0x7c] = 1; // one indirect-call site
    let end = b.len();
    // u32 total size 12 (not a multiple of 8), u32 one kind.
    b.extend([0x0c, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let block = LlvmError::ValueBlock {
        record: 0,
        bytes: 12,
        kinds: 1,
    };
    assert_eq!(refusal(&b), (end, block.into()));
    // Zero fill after a profile is padding; a non-zero byte is a second one.
    let mut b = v5(Endian::Little);
    b.extend([0, 0, 0, 0, 0, 0, 0, 0, 0x81]);
    assert_eq!(
        refusal(&b),
        (0x98 + 8, LlvmError::TrailingData { end: 0x98 }.into())
    );
}

#[test]
fn binary_ids_of_a_size_that_cannot_be() {
    // binary_ids_size (offset 16) 4: not a multiple of 8.
    let mut b = v8_32_big();
    b[23] = 4;
    assert_eq!(
        refusal(&b),
        (16, LlvmError::BinaryIdsSize { size: 4 }.into())
    );
    // An ID of 8 bytes after the 0x58-byte header; its length 9 runs past
    // the 16-byte section.
    let mut b = v8_32_big_of(&[("a", &[1])], Some(*b"build-id"));
    assert_eq!(RawProfile::decode(&b).unwrap().binary_ids, [b"build-id"]);
    b[0x58 + 7] = 9;
    assert_eq!(
        refusal(&b),
        (0x58, LlvmError::BinaryIdPastSection { len: 9 }.into())
    );
}

/// A version-10 profile, 64-bit little-endian, of one function `f` with
/// one counter (5) and one MC/DC bitmap byte (0x03): the 128-byte header,
/// the 64-byte record (bitmap pointer at 24, bitmap size at 60), the
/// counter at 192, the 8-byte bitmap section at 200, the names at 208.
fn v10_bitmap() -> Vec<u8> {
    let mut b = Vec::new();
    // magic, version, binary_ids_size, num_data, padding, num_counters,
    // padding, num_bitmap_bytes, padding, names_size, counters_delta,
    // bitmap_delta, names_delta, num_vtables, vnames_size, value_kind_last
    for v in [MAGIC_64, 10, 0, 1, 0, 1, 0, 8, 0, 3, 64, 72, 0, 0, 0, 2] {
        b.extend(v.to_le_bytes());
    }
    b.extend(name_hash("f").to_le_bytes());
    b.extend(0x18u64.to_le_bytes()); // function hash
    b.extend(64u64.to_le_bytes()); // counters, relative to the record
    b.extend(72u64.to_le_bytes()); // bitmap, relative to the record
    b.extend([0u8; 16]); // function pointer, values
    b.extend([0x01, 0, 0, 0]); // one counter
    b.extend([0u8; 8]); // three u16 value-site counts, padding
    b.extend([0x01, 0, 0, 0]); // one bitmap byte
    b.extend(5u64.to_le_bytes());
    b.extend([0x03, 0, 0, 0, 0, 0, 0, 0]);
    b.extend([0x01, 0x00, b'f', 0, 0, 0, 0, 0]);
    b
}

#[test]
fn a_bitmap_outside_its_section() {
    let p = RawProfile::decode(&v10_bitmap()).unwrap();
    assert_eq!(p.functions[0].counters, [5]);
    assert_eq!(p.functions[0].bitmap, [0x03]);
    // The bitmap pointer 8 bytes further: byte 8 of an 8-byte section.
    let mut b = v10_bitmap();
    b[128 + 24] = 80;
    let outside = LlvmError::BitmapOutside {
        record: 0,
        function: "f".into(),
        bytes: 1,
        at: 8,
        section_size: 8,
    };
    assert_eq!(refusal(&b), (128 + 24, outside.into()));
}

/// (input, offset, kind) of the refusal to merge `inputs`, each of weight 1.
fn merge_refusal(inputs: &[&[u8]]) -> (usize, usize, crate::error::ErrorKind) {
    let weighted: Vec<(&[u8], u64)> = inputs.iter().map(|b| (*b, 1)).collect();
    let e = merge(&weighted).unwrap_err();
    (e.input, e.error.offset, e.error.kind)
}

#[test]
fn merges_of_another_build_and_their_variants() {
    assert_eq!(merge_refusal(&[]), (0, 0, LlvmError::NothingToMerge.into()));
    let (little, big, v8) = (v5(Endian::Little), v5(Endian::Big), v8_32_big());
    assert_eq!(
        merge_refusal(&[&little, &v8]),
        (
            1,
            0,
            LlvmError::MergeVersion {
                version: 8,
                first: 5
            }
            .into()
        )
    );
    let layout = LlvmError::MergeLayout {
        big_endian: true,
        pointer_bytes: 8,
        first_big_endian: false,
        first_pointer_bytes: 8,
    };
    assert_eq!(merge_refusal(&[&little, &big]), (1, 0, layout.into()));
    let one = v8_32_big_of(&[("a", &[1])], Some(*b"build-01"));
    let other = v8_32_big_of(&[("a", &[1])], Some(*b"build-02"));
    assert_eq!(
        merge_refusal(&[&one, &other]),
        (1, 0, LlvmError::MergeBuildId.into())
    );
    let a = v8_32_big_of(&[("a", &[1, 2])], None);
    let count = LlvmError::MergeFunctionCount {
        functions: 2,
        first: 1,
    };
    assert_eq!(merge_refusal(&[&a, &v8]), (1, 0, count.into()));
    // Function 1 is `c` where the first input has `b`: refused at its record.
    let c = v8_32_big_of(&[("a", &[1, 2]), ("c", &[3])], None);
    let function = LlvmError::MergeFunction {
        index: 1,
        name: "c".into(),
        hash: 0x18,
        counters: 1,
        first_name: "b".into(),
        first_hash: 0x18,
        first_counters: 1,
    };
    assert_eq!(merge_refusal(&[&v8, &c]), (1, 0x58 + 40, function.into()));
    // 7 × (2^64 - 1) does not fit: counter 0 of f, at 0x80.
    let e = merge(&[(&little, 1), (&little, u64::MAX)]).unwrap_err();
    let overflow = LlvmError::MergeOverflow {
        counter: 0,
        function: "f".into(),
    };
    assert_eq!(
        (e.input, e.error.offset, e.error.kind),
        (1, 0x80, overflow.into())
    );
    // Value data is refused rather than dropped, at the value block (0x98).
    let mut with = little.clone();
    with[0x7c] = 1;
    with.extend([0x10, 0, 0, 0, 0x01, 0, 0, 0, 0xaa, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(
        merge_refusal(&[&with]),
        (0, 0x98, LlvmError::MergeValueData.into())
    );
}

#[test]
fn sizes_past_64_bits() {
    // num_counters 2^61 + 2: 8 bytes each do not fit; refused after the header.
    let mut b = v5(Endian::Little);
    b[0x27] = 0x20;
    let overflow = LlvmError::Overflow {
        what: "num_counters",
        value: (1 << 61) + 2,
    };
    assert_eq!(refusal(&b), (0x50, overflow.into()));
}
