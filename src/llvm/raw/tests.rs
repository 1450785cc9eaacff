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
